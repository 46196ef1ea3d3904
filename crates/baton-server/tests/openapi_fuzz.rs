//! Property-based fuzzing of the OpenAPI document against a real server: schemathesis
//! (pinned in `.ci/run`, run from the test virtualenv) generates requests from the
//! document, valid and invalid, one operation at a time and along the document's links
//! (stateful: create a task, then get, update, pick up, finish it), and checks every
//! answer against the document. No server error, no undocumented status, no answer that
//! breaks its schema or content type is allowed.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use baton_core::api::{AskRequest, NewDoc, NewTask};
use baton_core::{Api, DocType};
use support::TestServer;

/// The version `.ci/run` installs; a different one is refused, so results stay comparable.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

/// Test cases per operation and phase, and the time budget of the whole run (the CI test
/// stays around two minutes on two cores). `BATON_FUZZ_EXAMPLES` and `BATON_FUZZ_SECONDS`
/// raise them for a longer hunt.
const EXAMPLES: u32 = 30;
const SECONDS: u32 = 100;

/// The checks run on every answer. Left out, and why:
/// - `positive_data_acceptance`: a request the schema allows may still break a rule the
///   schema cannot state (a title of spaces, a dependency that does not exist, a task in
///   the wrong state); those are refused with a documented 4xx, by design.
/// - `negative_data_rejection`: input is deliberately lenient where people type it
///   (`t-3` and `3` for `T-3`, `in_progress` for `in-progress`, `p0` for `P0`, an empty
///   body for `{}`); the document states the canonical forms.
/// - `missing_required_header`, `ignored_auth`, `object_level_authorization`: there is no
///   authentication yet, and the one header (`X-Baton-Agent`) is optional.
/// - `use_after_free`: deletes are soft on purpose; a deleted task or doc stays readable.
/// - `unsupported_method`, `allow_header_conformance`: 405 answers are JSON errors without
///   an `Allow` header (not part of the document).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance,\
                      ensure_resource_availability";

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `schemathesis` next to the test virtualenv's Python; missing: a failure in CI.
fn schemathesis() -> Option<std::path::PathBuf> {
    let python = support::tool_python()?;
    let tool = python.with_file_name("schemathesis");
    if !tool.is_file() {
        assert!(
            !support::in_ci(),
            "{} is missing; .ci/run installs it",
            tool.display()
        );
        eprintln!("skipping: no schemathesis in the test virtualenv (.ci/run installs it)");
        return None;
    }
    let out = Command::new(&tool).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&out.stdout);
    assert!(
        version.contains(SCHEMATHESIS_VERSION),
        "schemathesis {SCHEMATHESIS_VERSION} expected, found {version}; rerun .ci/run"
    );
    Some(tool)
}

/// A few of everything, so the generated requests and the links meet real ids: tasks in
/// several states, a dependency, a doc about a task, a question and its answer.
fn seed(server: &TestServer) {
    let api = &server.client;
    let task = |title: &str| NewTask {
        title: title.into(),
        ..NewTask::default()
    };
    let added = api
        .add_tasks(
            "lead",
            vec![
                task("Auth API"),
                NewTask {
                    files: vec!["src/ui/**".into()],
                    ..task("Login UI")
                },
                NewTask {
                    depends_on: vec!["T-1".into()],
                    ..task("Release")
                },
                task("Docs"),
            ],
        )
        .unwrap();
    assert_eq!(added.len(), 4);
    let picked = api.pickup("claude", &Default::default()).unwrap();
    api.done(
        "claude",
        picked.task.id,
        baton_core::api::DoneRequest {
            summary: None,
            notes: Some("ready".into()),
            fence: Some(picked.claim.fence),
        },
    )
    .unwrap();
    api.pickup("codex", &Default::default()).unwrap();
    api.write_doc(
        "lead",
        NewDoc {
            kind: DocType::Decision,
            title: "Sessions".into(),
            body: "Tokens live 15 minutes.".into(),
            tags: vec!["auth".into()],
            tasks: vec![picked.task.id],
            author: None,
        },
    )
    .unwrap();
    let question = api
        .ask(
            "codex",
            AskRequest {
                task: None,
                to: "claude".into(),
                body: "Which token format?".into(),
            },
        )
        .unwrap();
    api.answer(
        "claude",
        question.id,
        baton_core::api::AnswerRequest { body: "JWT".into() },
    )
    .unwrap();
}

#[test]
fn schemathesis_finds_no_server_error_undocumented_status_or_schema_violation() {
    let Some(tool) = schemathesis() else {
        return;
    };
    let server = TestServer::start();
    seed(&server);
    let examples = env_number("BATON_FUZZ_EXAMPLES", EXAMPLES);
    let seconds = env_number("BATON_FUZZ_SECONDS", SECONDS);
    let work = server.dir.path();
    let log = work.join("schemathesis.log");
    let started = Instant::now();
    let mut child = Command::new(&tool)
        .current_dir(work)
        .env("NO_COLOR", "1")
        .arg("run")
        .arg(format!("{}/api/v1/openapi.json", server.url))
        .args(["--checks", CHECKS])
        .args(["--max-examples", &examples.to_string()])
        .args(["--max-time", &seconds.to_string()])
        // One worker: hypothesis is not thread-safe everywhere (it fails now and then with two).
        .args(["--workers", "1"])
        .args(["--request-timeout", "10"])
        .args(["--generation-database", "none"])
        // The live stream never ends by itself; the stream tests cover it.
        .args(["--exclude-path", "/api/v1/events/stream"])
        .args(["--exclude-path", "/api/v1/runs/{id}/log/stream"])
        .arg("--no-color")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // A hard stop well past the budget, should schemathesis hang on a request.
    let deadline = Duration::from_secs(u64::from(seconds) + 120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "schemathesis ran past {deadline:?}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let summary: Vec<&str> = output
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .collect();
    eprintln!(
        "schemathesis ({:.0?}, at most {examples} examples per operation):\n{}",
        started.elapsed(),
        summary.join("\n")
    );
    assert!(
        status.success(),
        "schemathesis found failures (reproduce with the curl lines):\n{output}"
    );
    assert!(
        output.contains("generated"),
        "schemathesis ran no test case:\n{output}"
    );
}
