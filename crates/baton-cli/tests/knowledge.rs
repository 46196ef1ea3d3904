//! The knowledge base from the shell: docs written, versioned, deleted, searched.

mod support;

use serde_json::Value;
use support::Sandbox;

fn titles(hits: &Value) -> Vec<String> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect()
}

/// A small corpus the way a team writes it: several docs share words, one is about the query.
const CORPUS: &[(&str, &str, &str)] = &[
    ("operational", "Deploying the API", "Run `make deploy` from main. The API reads its signing key from the vault when it starts; restart it after rotating the key."),
    ("decision", "Session tokens: JWT with refresh rotation", "Access tokens live 15 minutes. The client refreshes the access token with its refresh token shortly before expiry. A refresh token is single use: the server rotates it on every refresh and revokes the whole family when an old one comes back."),
    ("learning", "Dashboard cache refresh is slow", "The dashboard refreshes its cache every minute; under load the refresh takes 4 s. Not related to auth."),
    ("reference", "Database schema", "Tables: users, sessions, api_tokens. A session belongs to a user; api_tokens are for scripts."),
    ("review", "Review: login form", "Validation messages are clear; the token field is masked. One nit: the submit button stays enabled while the request runs."),
    ("learning", "Flaky test in the token store", "The token store test sleeps 10 ms and is flaky on CI; use the manual clock instead."),
];

#[test]
fn search_puts_the_most_relevant_doc_first_with_a_snippet() {
    let s = Sandbox::project();
    for (kind, title, body) in CORPUS {
        s.as_agent(
            "claude",
            &[
                "docs", "write", "--type", kind, "--title", title, "--body", body,
            ],
        )
        .ok();
    }
    let hits = s
        .run(&["docs", "search", "refresh token rotation"])
        .ok()
        .json();
    assert_eq!(
        titles(&hits)[0],
        "Session tokens: JWT with refresh rotation"
    );
    let first = &hits[0];
    assert_eq!(first["id"], "D-2");
    assert_eq!(first["type"], "decision");
    let snippet = first["snippet"].as_str().unwrap();
    assert!(snippet.contains("**refresh"), "{snippet}");
    assert!(
        snippet.len() < 300,
        "a short excerpt, not the body: {snippet}"
    );
    assert!(first.get("body").is_none(), "hits carry no body");
    let scores: Vec<f64> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let flaky = s.run(&["docs", "search", "flaky CI"]).ok().json();
    assert_eq!(titles(&flaky), vec!["Flaky test in the token store"]);
    let typed = s
        .run(&["docs", "search", "token", "--type", "review"])
        .ok()
        .json();
    assert_eq!(titles(&typed), vec!["Review: login form"]);
    let limited = s
        .run(&["docs", "search", "token", "--limit", "2"])
        .ok()
        .json();
    assert_eq!(limited.as_array().unwrap().len(), 2);
    let none = s.run(&["docs", "search", "kubernetes"]).ok().json();
    assert!(none.as_array().unwrap().is_empty());
    s.run(&["docs", "search", "--", "-*-"])
        .fails(2, "invalid_input");
}

#[test]
fn an_update_keeps_every_version_and_history_lists_them() {
    let s = Sandbox::project();
    let body = s.write("v1.md", "# Deploy\n\nRun make deploy.\n");
    let d = s
        .as_agent(
            "claude",
            &[
                "docs",
                "write",
                "-T",
                "operational",
                "-t",
                "Deploy",
                "--body-file",
                body.to_str().unwrap(),
                "--tags",
                "ops,deploy",
            ],
        )
        .ok()
        .json();
    assert_eq!(
        (
            d["id"].as_str(),
            d["version"].as_u64(),
            d["author"].as_str()
        ),
        (Some("D-1"), Some(1), Some("claude"))
    );
    assert_eq!(d["tags"], serde_json::json!(["ops", "deploy"]));
    s.as_agent(
        "codex",
        &["docs", "update", "D-1", "--body", "Run make deploy-prod."],
    )
    .ok();
    let v3 = s
        .as_agent("codex", &["docs", "update", "D-1", "--title", "Deploying"])
        .ok()
        .json();
    assert_eq!(v3["version"], 3);
    let history = s.run(&["docs", "history", "D-1"]).ok().json();
    let versions: Vec<(u64, String, String)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["author"].as_str().unwrap().into(),
                v["title"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            (1, "claude".into(), "Deploy".into()),
            (2, "codex".into(), "Deploy".into()),
            (3, "codex".into(), "Deploying".into())
        ]
    );
    let old = s
        .run(&["docs", "read", "D-1", "--version", "1"])
        .ok()
        .json();
    assert_eq!(old["body"], "# Deploy\n\nRun make deploy.\n");
    assert_eq!(
        s.run(&["docs", "read", "D-1"]).ok().json()["body"],
        "Run make deploy-prod."
    );
    s.run(&["docs", "read", "D-1", "--version", "9"])
        .fails(3, "version_not_found");
    s.run(&["docs", "read", "D-9"]).fails(3, "doc_not_found");
    s.run(&["docs", "update", "D-1"]).fails(2, "invalid_input");
    let events = s.run(&["events", "--action", "doc."]).ok().json();
    assert_eq!(
        events.as_array().unwrap().len(),
        3,
        "every doc change is an event"
    );
}

#[test]
fn a_deleted_doc_is_kept_for_the_record_but_leaves_lists_and_search() {
    let s = Sandbox::project();
    s.run(&[
        "docs",
        "write",
        "-T",
        "learning",
        "-t",
        "Old trick",
        "-b",
        "Restart the cache daemon.",
    ])
    .ok();
    s.run(&["docs", "delete", "D-1"]).ok();
    assert!(s
        .run(&["docs", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    assert!(s
        .run(&["docs", "search", "cache daemon"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    let all = s.run(&["docs", "list", "--deleted"]).ok().json();
    assert!(all[0]["deleted_at"].is_string());
    assert_eq!(
        s.run(&["docs", "read", "D-1"]).ok().json()["title"],
        "Old trick"
    );
    s.run(&["docs", "delete", "D-1"]).fails(4, "doc_deleted");
    let deleted = s.run(&["events", "--action", "doc.deleted"]).ok().json();
    assert_eq!(deleted.as_array().unwrap().len(), 1);
}

#[test]
fn a_body_over_one_mebibyte_is_refused_and_nothing_is_written() {
    let s = Sandbox::project();
    let big = s.write("big.md", &"a".repeat(1024 * 1024 + 1));
    let r = s
        .run(&[
            "docs",
            "write",
            "-T",
            "reference",
            "-t",
            "Huge",
            "--body-file",
            big.to_str().unwrap(),
        ])
        .fails(2, "invalid_input");
    assert!(
        r.error()["message"].as_str().unwrap().contains("1 MiB"),
        "{}",
        r.stderr
    );
    assert!(r.error()["hint"].as_str().unwrap().contains("split"));
    let exact = s.write("exact.md", &"a".repeat(1024 * 1024));
    s.run(&[
        "docs",
        "write",
        "-T",
        "reference",
        "-t",
        "Just fits",
        "--body-file",
        exact.to_str().unwrap(),
    ])
    .ok();
    assert_eq!(
        s.run(&["docs", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Piped on stdin too.
    let mut cmd = s.command(&["docs", "write", "-T", "reference", "-t", "Piped"]);
    cmd.stdin(std::fs::File::open(&big).unwrap());
    let r = support::finish(cmd.output().unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_body_can_come_from_stdin() {
    let s = Sandbox::project();
    let file = s.write("note.md", "Use the manual clock in tests.\n");
    let mut cmd = s.command(&["docs", "write", "-T", "learning", "-t", "Clocks"]);
    cmd.stdin(std::fs::File::open(&file).unwrap());
    let d = support::finish(cmd.output().unwrap()).ok().json();
    assert_eq!(d["body"], "Use the manual clock in tests.\n");
    // Nothing on stdin and no --body: a clear error.
    let r = s
        .run(&["docs", "write", "-T", "learning", "-t", "Empty"])
        .fails(2, "invalid_input");
    assert!(r.error()["hint"].as_str().unwrap().contains("--body-file"));
}

#[test]
fn task_show_lists_its_docs_and_unknown_context_refs_are_refused() {
    let s = Sandbox::project();
    s.run(&["task", "add", "--title", "Auth API"]).ok();
    s.run(&[
        "docs", "write", "-T", "decision", "-t", "Use JWT", "-b", "Because.", "--task", "T-1",
    ])
    .ok();
    s.run(&[
        "docs",
        "write",
        "-T",
        "reference",
        "-t",
        "API style",
        "-b",
        "REST.",
    ])
    .ok();
    s.run(&[
        "docs",
        "write",
        "-T",
        "reference",
        "-t",
        "Unrelated",
        "-b",
        "x",
    ])
    .ok();
    s.run(&["task", "update", "T-1", "--context-refs", "d-2"])
        .ok();
    let shown = s.run(&["task", "show", "T-1"]).ok().json();
    assert_eq!(shown["context_refs"], serde_json::json!(["D-2"]));
    let mut linked: Vec<&str> = shown["docs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    linked.sort();
    assert_eq!(linked, vec!["D-1", "D-2"]);
    let listed = s.run(&["docs", "list", "--task", "T-1"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let r = s
        .run(&["task", "add", "--title", "x", "--context-refs", "D-9"])
        .fails(2, "invalid_input");
    assert!(r.error()["message"].as_str().unwrap().contains("D-9"));
    s.run(&["task", "add", "--title", "x", "--context-refs", "README.md"])
        .fails(2, "invalid_input");
    s.run(&[
        "docs", "write", "-T", "decision", "-t", "x", "-b", "y", "--task", "T-7",
    ])
    .fails(3, "task_not_found");
    assert_eq!(
        s.run(&["task", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn init_stores_the_prd_as_a_reference_doc_and_a_new_prd_is_a_new_version() {
    let s = Sandbox::new();
    let prd = s.write(
        "prd.md",
        "Intro line.\n\n# Snake game\n\nA classic snake game in the browser.\n",
    );
    let r = s.run(&["init", "--prd", prd.to_str().unwrap()]).ok().json();
    assert_eq!(r["prd"]["id"], "D-1");
    let d = s.run(&["docs", "read", "D-1"]).ok().json();
    assert_eq!(
        (d["type"].as_str(), d["title"].as_str()),
        (Some("reference"), Some("Snake game"))
    );
    assert_eq!(d["tags"], serde_json::json!(["prd"]));
    assert_eq!(
        titles(&s.run(&["docs", "search", "snake browser"]).ok().json()),
        vec!["Snake game"]
    );
    s.write("prd.md", "# Snake game\n\nNow with levels.\n");
    let again = s.run(&["init", "--prd", prd.to_str().unwrap()]).ok().json();
    assert_eq!(
        (
            again["prd"]["id"].as_str(),
            again["prd"]["version"].as_u64()
        ),
        (Some("D-1"), Some(2))
    );
    s.run(&["init", "--prd", "missing.md"])
        .fails(2, "invalid_input");
}
