//! The operations record with real processes: two agents and a person write log entries
//! and board changes; `baton tail -f` sees each one live, attributed.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::{command_in, Run, Sandbox};

fn as_tool(s: &Sandbox, agent: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = command_in(s.path(), args);
    cmd.env_remove("BATON_AGENT")
        .env_remove("CLAUDECODE")
        .env_remove("CLAUDE_CODE_ENTRYPOINT")
        .env_remove("CODEX_SANDBOX")
        .env_remove("CODEX_THREAD_ID")
        .env_remove("CURSOR_AGENT")
        .env_remove("GEMINI_CLI");
    if let Some(a) = agent {
        cmd.env("BATON_AGENT", a);
    }
    cmd.envs(env.iter().copied());
    support::finish(cmd.output().unwrap())
}

#[test]
fn two_agents_and_a_person_log_and_tail_follows_them_live() {
    let s = Sandbox::project();
    let mut tail = command_in(s.path(), &["tail", "-f", "--format", "json", "-n", "0"]);
    tail.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = tail.spawn().unwrap();
    let (send, lines) = mpsc::channel::<Value>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if let Ok(v) = serde_json::from_str(&line) {
                if send.send(v).is_err() {
                    return;
                }
            }
        }
    });
    // Give the follower a moment to start after the newest event.
    std::thread::sleep(Duration::from_millis(500));
    let next = |what: &str| -> Value {
        lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("tail -f did not show {what}"))
    };

    let claude = [("CLAUDECODE", "1")];
    as_tool(
        &s,
        Some("claude-1"),
        &claude,
        &["log", "Build started", "--action", "BUILD"],
    )
    .ok();
    let e = next("claude's log entry");
    assert_eq!(
        (e["action"].as_str(), e["actor"].as_str()),
        (Some("log.build"), Some("claude-1"))
    );
    assert_eq!(e["detail"]["kind"], "ai");
    assert_eq!(e["detail"]["tool"], "claude-code");
    assert_eq!(e["detail"]["level"], "info");

    let codex = [("CODEX_SANDBOX", "seatbelt")];
    as_tool(
        &s,
        Some("codex-1"),
        &codex,
        &["task", "add", "--title", "Fix the flaky test"],
    )
    .ok();
    let e = next("the board change");
    assert_eq!(
        (e["action"].as_str(), e["actor"].as_str()),
        (Some("task.created"), Some("codex-1"))
    );
    as_tool(
        &s,
        Some("codex-1"),
        &codex,
        &[
            "log",
            "Tests failed: 3 of 812",
            "--action",
            "test",
            "--level",
            "error",
            "--task",
            "T-1",
        ],
    )
    .ok();
    let e = next("codex's error");
    assert_eq!(e["action"], "log.test");
    assert_eq!(
        (e["detail"]["tool"].as_str(), e["task"].as_str()),
        (Some("codex"), Some("T-1"))
    );
    assert_eq!(e["detail"]["level"], "error");

    as_tool(
        &s,
        None,
        &[],
        &["log", "Deploy window opens at 18:00", "--action", "DEPLOY"],
    )
    .ok();
    let e = next("the person's entry");
    assert_eq!(
        (e["detail"]["kind"].as_str(), e["actor"].as_str()),
        (Some("human"), Some("human"))
    );
    as_tool(
        &s,
        None,
        &[],
        &[
            "log",
            "Deployed 1.4.2",
            "--action",
            "DEPLOY",
            "--system",
            "ci",
        ],
    )
    .ok();
    let e = next("the system's entry");
    assert_eq!(
        (e["detail"]["kind"].as_str(), e["actor"].as_str()),
        (Some("system"), Some("ci"))
    );
    child.kill().ok();
    child.wait().ok();

    // Filters: a log action, an actor, an event prefix; text lines read as messages.
    let deploys = as_tool(
        &s,
        None,
        &[],
        &["tail", "--action", "DEPLOY", "--format", "json"],
    )
    .ok();
    assert_eq!(deploys.stdout.lines().count(), 2, "{}", deploys.stdout);
    let by_codex = as_tool(
        &s,
        None,
        &[],
        &["tail", "--actor", "codex-1", "--format", "json"],
    )
    .ok();
    assert_eq!(by_codex.stdout.lines().count(), 2, "{}", by_codex.stdout);
    let text = as_tool(&s, None, &[], &["tail", "-n", "3", "--format", "text"])
        .ok()
        .stdout;
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("[error] Tests failed: 3 of 812 (ai, codex)"),
        "{text}"
    );
    let tasks = as_tool(
        &s,
        None,
        &[],
        &["tail", "--action", "task.", "--format", "json"],
    )
    .ok();
    assert_eq!(tasks.stdout.lines().count(), 1);

    // Bad input changes nothing.
    as_tool(&s, None, &[], &["log", "  "]).fails(2, "invalid_input");
    as_tool(&s, None, &[], &["log", "x", "--action", "no good!"]).fails(2, "invalid_input");
    as_tool(&s, None, &[], &["log", "x", "--task", "T-99"]).fails(3, "task_not_found");
    as_tool(&s, None, &[], &["log", "x", "--level", "loud"]).fails(2, "invalid_arguments");
    let all = as_tool(&s, None, &[], &["tail", "--all", "--format", "json"]).ok();
    assert_eq!(all.stdout.lines().count(), 6, "{}", all.stdout);
    let none = as_tool(&s, None, &[], &["tail", "-n", "0"]).ok();
    assert_eq!(none.stdout, "");

    // whoami names the AI tool it runs under.
    let me = as_tool(&s, Some("claude-1"), &claude, &["whoami", "--json"])
        .ok()
        .json();
    assert_eq!(me["tool"], "claude-code");
    let me = as_tool(&s, None, &[], &["whoami", "--json"]).ok().json();
    assert_eq!(me["tool"], Value::Null);
}

#[test]
fn analyze_groups_messages_by_shape_and_flags_a_burst() {
    let s = Sandbox::project();
    let log = |agent: &str, message: &str, action: &str| {
        as_tool(&s, Some(agent), &[], &["log", message, "--action", action]).ok();
    };
    // A seeded set: three shapes, numbers, ids and paths varying within each.
    for (i, path) in ["/srv/a.toml", "/etc/b.toml", "/home/c.toml"]
        .iter()
        .enumerate()
    {
        log(
            "steady",
            &format!("cannot open {path}: permission denied"),
            "ERROR",
        );
        log(
            "steady",
            &format!("build {} failed after {}s", 100 + i, 3 + i),
            "BUILD",
        );
    }
    log("steady", "task T-4 lost its lease", "ERROR");
    log("steady", "task T-19 lost its lease", "ERROR");
    let found = as_tool(&s, None, &[], &["analyze", "patterns", "--json"])
        .ok()
        .json();
    let shapes: Vec<(String, u64)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["shape"].as_str().unwrap().to_string(),
                p["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        [
            ("build <n> failed after <n>s".to_string(), 3),
            ("cannot open <path>: permission denied".to_string(), 3),
            ("task <id> lost its lease".to_string(), 2),
        ],
        "{found}"
    );
    let errors = as_tool(
        &s,
        None,
        &[],
        &["analyze", "patterns", "--action", "ERROR", "--json"],
    )
    .ok()
    .json();
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors}");

    // Steady for a few seconds, then a burst from one actor: the burst is flagged.
    let quiet = as_tool(
        &s,
        None,
        &[],
        &[
            "analyze",
            "anomalies",
            "--since",
            "1m",
            "--bucket",
            "1s",
            "--json",
        ],
    )
    .ok()
    .json();
    assert!(
        !quiet
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["series"] == "events by burst"),
        "{quiet}"
    );
    std::thread::sleep(Duration::from_secs(3));
    for i in 0..20 {
        log("burst", &format!("retry {i}"), "RETRY");
    }
    let flagged = as_tool(
        &s,
        None,
        &[],
        &[
            "analyze",
            "anomalies",
            "--since",
            "1m",
            "--bucket",
            "2s",
            "--json",
        ],
    )
    .ok()
    .json();
    let burst: Vec<&Value> = flagged
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["series"] == "events by burst")
        .collect();
    assert!(!burst.is_empty(), "{flagged}");
    assert!(burst[0]["score"].as_f64().unwrap() > 3.0, "{flagged}");

    // The same bounds as the HTTP route, from core.
    for bad in [
        &["--window", "2"][..],
        &["--window", "5000"],
        &["--threshold", "0"],
        &["--threshold", "NaN"],
        &["--bucket", "2d"],
    ] {
        let mut args = vec!["analyze", "anomalies"];
        args.extend_from_slice(bad);
        as_tool(&s, None, &[], &args).fails(2, "invalid_input");
    }
}

#[test]
fn analyze_agents_counts_throughput_rejections_and_cycle_time() {
    let s = Sandbox::project();
    for t in ["one", "two", "three"] {
        s.run(&["task", "add", "--title", t]).ok();
    }
    let as_agent = |a: &str, args: &[&str]| s.as_agent(a, args).ok();
    as_agent("alpha", &["task", "pickup"]);
    as_agent("alpha", &["task", "done", "T-1"]);
    as_agent("beta", &["task", "pickup"]);
    as_agent("beta", &["task", "done", "T-2"]);
    s.run(&["task", "reject", "T-2", "--feedback", "tests missing"])
        .ok();
    as_agent("alpha", &["task", "pickup"]);
    let report = s.run(&["analyze", "agents", "--json"]).ok().json();
    let by = |name: &str| {
        report
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["agent"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    let (a, b) = (by("alpha"), by("beta"));
    assert_eq!(
        (a["picked_up"].as_u64(), a["handed_in"].as_u64()),
        (Some(2), Some(1)),
        "{a}"
    );
    assert_eq!(
        (b["handed_in"].as_u64(), b["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{b}"
    );
    assert_eq!(b["rejection_rate"], 1.0);
    assert_eq!(a["rejection_rate"], 0.0);
    assert!(a["cycle_median_secs"].as_f64().unwrap() >= 0.0, "{a}");
    let text = s.run(&["analyze", "agents"]).ok().stdout;
    assert!(text.contains("AGENT") || text.starts_with('['), "{text}");
}

/// What the OpenTelemetry SDK of Python sends (protobuf over HTTP, as agents' SDKs do) lands
/// on the run its resource names: metric series by attributes, log records as log entries
/// by the run's agent in the run's session.
const OTEL_SCRIPT: &str = r#"
import logging
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

resource = Resource.create()
reader = PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=600000)
meters = MeterProvider(resource=resource, metric_readers=[reader])
meter = meters.get_meter("com.anthropic.claude_code")
tokens = meter.create_counter("claude_code.token.usage", unit="tokens")
tokens.add(100, {"type": "input", "model": "m1"})
tokens.add(50, {"type": "input", "model": "m1"})
tokens.add(20, {"type": "output", "model": "m1"})
meter.create_counter("claude_code.cost.usage", unit="USD").add(0.25, {"model": "m1"})
durations = meter.create_histogram("tool.duration", unit="ms")
durations.record(10)
durations.record(30)
assert meters.force_flush()
tokens.add(10, {"type": "input", "model": "m1"})
meters.shutdown()

logs = LoggerProvider(resource=resource)
logs.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
log = logging.getLogger("claude")
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logs))
log.setLevel(logging.INFO)
log.error("API error: 529 overloaded", extra={"status_code": 529})
log.info("user prompt submitted", extra={"prompt_length": 42})
logs.shutdown()
print("exported")
"#;

#[test]
fn otlp_from_the_python_sdk_lands_on_its_run() {
    let Some(python) = support::tool_python() else {
        return;
    };
    let s = Sandbox::project();
    as_tool(&s, None, &[], &["task", "add", "--title", "auth"]).ok();
    let server = support::Foreground::start(&s, &[]);
    let client = baton_client::Client::new(&server.url, None).unwrap();
    use baton_core::Api;
    let run = client
        .start_run(
            "claude-1",
            baton_core::api::NewRun {
                task: baton_core::TaskId(1),
                provider: "claude".into(),
                account: None,
                attempt: 1,
                runner: "r:1:1".into(),
                host: "r".into(),
                worktree: None,
                branch: None,
                session: None,
                spool: None,
            },
        )
        .unwrap();
    // The runner's variable, made by the runner's own function.
    let resource = baton_runner::runner::resource_attributes(
        Some("team=web"),
        run.id,
        baton_core::TaskId(1),
        "claude-1",
    );
    let out = std::process::Command::new(&python)
        .args(["-c", OTEL_SCRIPT])
        .env("OTEL_RESOURCE_ATTRIBUTES", &resource)
        .env("OTEL_SERVICE_NAME", "claude-code")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("{}/api/v1/otlp", server.url),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("exported"),
        "the SDK script failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let env = [("BATON_URL", server.url.as_str())];
    let series = as_tool(&s, None, &env, &["run", "telemetry", "R-1", "--json"])
        .ok()
        .json();
    let find = |name: &str, ty: Option<&str>| -> Value {
        series
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name && ty.is_none_or(|ty| t["attributes"]["type"] == ty))
            .cloned()
            .unwrap_or_else(|| panic!("{name} {ty:?} missing from {series}"))
    };
    let input = find("claude_code.token.usage", Some("input"));
    // Cumulative points: the latest total wins (150, then 160), not their sum.
    assert_eq!(
        (input["value"].as_f64(), input["points"].as_u64()),
        (Some(160.0), Some(2))
    );
    assert_eq!(input["kind"], "cumulative");
    assert_eq!(input["agent"], "claude-1");
    assert_eq!(input["task"], "T-1");
    assert_eq!(input["attributes"]["model"], "m1");
    assert_eq!(
        find("claude_code.token.usage", Some("output"))["value"].as_f64(),
        Some(20.0)
    );
    assert_eq!(
        find("claude_code.cost.usage", None)["value"].as_f64(),
        Some(0.25)
    );
    let hist = find("tool.duration", None);
    assert_eq!(
        (hist["value"].as_f64(), hist["count"].as_u64()),
        (Some(40.0), Some(2))
    );

    // Log records: entries by the run's agent, in the run's session, about its task.
    let entries = as_tool(
        &s,
        None,
        &env,
        &["tail", "--action", "log.", "--format", "json"],
    )
    .ok();
    let entries: Vec<Value> = entries
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    let error = &entries[0];
    assert_eq!(
        (error["actor"].as_str(), error["task"].as_str()),
        (Some("claude-1"), Some("T-1"))
    );
    assert_eq!(error["detail"]["level"], "error");
    assert_eq!(error["detail"]["message"], "API error: 529 overloaded");
    assert_eq!(error["detail"]["kind"], "ai");
    assert_eq!(error["detail"]["tool"], "claude-code");
    assert_eq!(error["detail"]["run"], "R-1");
    assert_eq!(error["detail"]["attributes"]["status_code"], "529");
    let session = error["session"].as_str().expect("in the run's session");
    let info = as_tool(&s, None, &env, &["session", "info", session, "--json"])
        .ok()
        .json();
    assert_eq!(info["run"], "R-1");
    assert_eq!(entries[1]["detail"]["level"], "info");

    // OTLP/JSON (Claude Code's http/json) too; bad bodies are refused and keep nothing.
    let post = |path: &str, ty: &str, body: &[u8]| -> (u16, String) {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .build(),
        );
        let mut r = agent
            .post(&format!("{}{path}", server.url))
            .header("Content-Type", ty)
            .send(body)
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    };
    let json_log = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"baton.run","value":{{"stringValue":"{}"}}}}]}},
        "scopeLogs":[{{"logRecords":[{{"severityNumber":13,"body":{{"stringValue":"slow tool"}},"eventName":"claude_code.tool_result"}}]}}]}}]}}"#,
        run.id
    );
    let (status, body) = post(
        "/api/v1/otlp/v1/logs",
        "application/json",
        json_log.as_bytes(),
    );
    assert_eq!((status, body.as_str()), (200, "{}"));
    let (status, body) = post(
        "/api/v1/otlp/v1/metrics",
        "application/x-protobuf",
        b"\x0a\xff",
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bad_otlp"), "{body}");
    let (status, _) = post("/api/v1/otlp/v1/logs", "text/plain", b"hello");
    assert_eq!(status, 415);
    let last = as_tool(
        &s,
        None,
        &env,
        &["tail", "-n", "1", "--action", "log.", "--format", "json"],
    )
    .ok()
    .json();
    assert_eq!(last["action"], "log.claude_code-tool_result");
    assert_eq!(last["detail"]["level"], "warn");
    assert_eq!(last["session"].as_str(), Some(session));
}

#[test]
fn prune_applies_log_retention_and_explains_itself() {
    let s = Sandbox::project();
    let off = s.run(&["prune"]).ok().json();
    assert_eq!(
        (off["retention"].as_str(), off["log_entries"].as_u64()),
        (Some("off"), Some(0))
    );
    let text = s.run(&["--human", "prune"]).ok().stdout;
    assert!(
        text.contains("log_retention is off") && text.contains("config set log_retention"),
        "{text}"
    );

    let bad = s.run(&["config", "set", "log_retention", "soon"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("not a retention period"),
        "{}",
        bad.stderr
    );
    s.run(&["config", "set", "log_retention", "30d"]).ok();

    // An entry from long ago (written straight into the file) and a fresh one.
    let db = rusqlite::Connection::open(s.path().join(".baton/baton.db")).unwrap();
    db.execute(
        "INSERT INTO events (at, actor, action, detail) VALUES ('2020-01-01T00:00:00.000Z', \
         'ci', 'log.build', '{\"message\":\"ancient\",\"level\":\"info\",\"kind\":\"system\"}')",
        [],
    )
    .unwrap();
    drop(db);
    s.run(&["log", "fresh"]).ok();
    let dry = s.run(&["prune", "--dry-run"]).ok().json();
    assert_eq!(
        (dry["dry_run"].as_bool(), dry["log_entries"].as_u64()),
        (Some(true), Some(1))
    );
    let done = s.run(&["--human", "prune"]).ok().stdout;
    assert!(done.starts_with("Deleted 1 log entries"), "{done}");
    let tail = s.run(&["tail", "-n", "50", "--format", "json"]).ok().stdout;
    assert!(
        tail.contains("fresh") && !tail.contains("ancient"),
        "{tail}"
    );
    assert!(tail.contains("retention.applied"), "{tail}");

    let zero = s.run(&["prune", "--limit", "0"]);
    assert_eq!(zero.code, 2, "{}", zero.stderr);
}

#[test]
fn log_stdin_writes_each_line_in_batches_and_a_slow_producer_shows_up_live() {
    use std::io::Write;
    let s = Sandbox::project();
    // A build's output: many lines, a blank one, bytes that are not UTF-8, a huge line.
    let mut input: Vec<u8> = (1..=2500)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    input.extend_from_slice(b"\n   \nbad \xff byte\r\n");
    input.extend_from_slice("é".repeat(6000).as_bytes());
    let mut cmd = command_in(
        s.path(),
        &[
            "log", "--stdin", "--action", "BUILD", "--system", "ci", "--json",
        ],
    );
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let done = support::finish(child.wait_with_output().unwrap())
        .ok()
        .json();
    assert_eq!(
        (done["written"].as_u64(), done["cut"].as_u64()),
        (Some(2502), Some(1)),
        "{done}"
    );
    assert!(done["batches"].as_u64().unwrap() >= 3, "{done}");
    let tail = s
        .run(&["tail", "-n", "3", "--format", "json", "--action", "BUILD"])
        .ok()
        .stdout;
    let last: Vec<Value> = tail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(last[0]["detail"]["message"], "line 2500");
    assert_eq!(last[1]["detail"]["message"], "bad \u{fffd} byte");
    let long = last[2]["detail"]["message"].as_str().unwrap();
    assert_eq!((long.len(), long.chars().count()), (10_000, 5_000));
    assert_eq!(
        (
            last[2]["actor"].as_str(),
            last[2]["detail"]["kind"].as_str()
        ),
        (Some("ci"), Some("system"))
    );

    // A producer that writes a line now and then: each is on the board long before input
    // ends (written when no line came for a moment), not held until the end.
    let mut cmd = command_in(s.path(), &["log", "--stdin", "--action", "SERVE"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut slow = cmd.spawn().unwrap();
    let mut pipe = slow.stdin.take().unwrap();
    writeln!(pipe, "listening on :8080").unwrap();
    let seen = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        s.run(&["tail", "-n", "5", "--format", "json", "--action", "SERVE"])
            .ok()
            .stdout
            .contains("listening on :8080")
    });
    assert!(seen, "a line of a running producer was not written");
    drop(pipe);
    assert!(slow.wait().unwrap().success());

    // A bad action is refused before anything is written, naming the entry.
    let mut cmd = command_in(s.path(), &["log", "--stdin", "--action", "no good!"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut bad = cmd.spawn().unwrap();
    bad.stdin.take().unwrap().write_all(b"one\ntwo\n").unwrap();
    let refused = support::finish(bad.wait_with_output().unwrap());
    assert!(refused.stderr.contains("log entry 0"), "{}", refused.stderr);
    refused.fails(2, "invalid_input");
    let nothing = s.run(&["log"]);
    assert!(nothing.stderr.contains("<MESSAGE>"), "{}", nothing.stderr);
    nothing.fails(2, "invalid_arguments");
}
