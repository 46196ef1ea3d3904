//! `baton migrate --to postgres://...`: a SQLite project copied into PostgreSQL reads back
//! the same through every command, and the copy goes on where the original stopped.

mod support;

use baton_postgres::testing::TestDatabase;
use serde_json::Value;
use support::{command_in, Sandbox};

/// A command's JSON against the PostgreSQL copy instead of the project's file.
fn on_postgres(sandbox: &Sandbox, url: &str, agent: &str, args: &[&str]) -> support::Run {
    let mut cmd = command_in(sandbox.path(), args);
    cmd.env("BATON_DATABASE_URL", url).env("BATON_AGENT", agent);
    support::finish(cmd.output().unwrap())
}

/// A board with something of every kind: dependencies, notes, claims with fences and
/// reservations, a reviewed task, a doc with two versions, a question and its answer,
/// a manual reservation and a changed setting.
fn busy_project() -> Sandbox {
    let s = Sandbox::project();
    s.run(&[
        "task",
        "add",
        "--title",
        "Schema",
        "--priority",
        "P0",
        "--files",
        "db/**",
    ])
    .ok();
    s.run(&[
        "task",
        "add",
        "--title",
        "API",
        "--depends-on",
        "T-1",
        "--acceptance",
        "documented",
    ])
    .ok();
    s.run(&["task", "add", "--title", "UI", "--capabilities", "frontend"])
        .ok();
    s.as_agent("claude", &["task", "pickup"]).ok();
    s.as_agent("claude", &["task", "note", "T-1", "halfway"])
        .ok();
    s.as_agent("claude", &["task", "done", "T-1"]).ok();
    s.as_agent("codex", &["task", "pickup"]).ok();
    s.as_agent("codex", &["reserve", "docs/**", "--reason", "rewriting"])
        .ok();
    s.as_agent(
        "claude",
        &[
            "docs",
            "write",
            "-T",
            "decision",
            "-t",
            "Token refresh",
            "-b",
            "Refresh before expiry.",
            "--tags",
            "auth",
            "--task",
            "T-2",
        ],
    )
    .ok();
    s.as_agent(
        "codex",
        &[
            "docs",
            "update",
            "D-1",
            "-b",
            "Refresh one minute before expiry.",
        ],
    )
    .ok();
    s.as_agent(
        "codex",
        &["ask", "--to", "claude", "Which table holds sessions?"],
    )
    .ok();
    s.as_agent("claude", &["answer", "M-1", "sessions, see D-1"])
        .ok();
    s.run(&["config", "set", "max_retries", "5"]).ok();
    s
}

const READS: &[&[&str]] = &[
    &["task", "list", "--limit", "0"],
    &["task", "show", "T-1"],
    &["events", "--limit", "0"],
    &["board"],
    &["agents"],
    &["reservations"],
    &["docs", "list"],
    &["docs", "history", "D-1"],
    &["thread", "M-1"],
    &["config", "list"],
];

#[test]
fn a_migrated_project_reads_back_the_same_and_goes_on_numbering() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let s = busy_project();
    let copied = s.run(&["migrate", "--to", database.url()]).ok().json();
    assert_eq!(copied["rows"]["tasks"], 3, "{copied}");
    assert_eq!(copied["rows"]["doc_versions"], 2, "{copied}");
    for args in READS {
        let sqlite: Value = s.as_agent("codex", args).ok().json();
        let postgres: Value = on_postgres(&s, database.url(), "codex", args).ok().json();
        assert_eq!(sqlite, postgres, "baton {}", args.join(" "));
    }
    // Numbering, fences and ids go on from the copy.
    let added = on_postgres(
        &s,
        database.url(),
        "lead",
        &["task", "add", "--title", "Next"],
    )
    .ok()
    .json();
    assert_eq!(added["id"], "T-4", "{added}");
    let next_doc = on_postgres(
        &s,
        database.url(),
        "lead",
        &["docs", "write", "-T", "learning", "-t", "More", "-b", "x"],
    )
    .ok()
    .json();
    assert_eq!(next_doc["id"], "D-2", "{next_doc}");
    let events: Value = on_postgres(&s, database.url(), "lead", &["events", "--limit", "2"])
        .ok()
        .json();
    let ids: Vec<u64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids[1],
        ids[0] + 1,
        "the log goes on without a gap: {events}"
    );
}

#[test]
fn migrating_into_a_database_that_holds_a_project_is_refused_and_changes_nothing() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let s = busy_project();
    s.run(&["migrate", "--to", database.url()]).ok();
    let before: Value = on_postgres(&s, database.url(), "lead", &["events", "--limit", "0"])
        .ok()
        .json();
    let again = s
        .run(&["migrate", "--to", database.url()])
        .fails(4, "import_conflict");
    assert!(again.error()["hint"]
        .as_str()
        .unwrap()
        .contains("empty database"));
    let after: Value = on_postgres(&s, database.url(), "lead", &["events", "--limit", "0"])
        .ok()
        .json();
    assert_eq!(before, after);
    s.run(&["migrate", "--to", "sqlite:///tmp/x.db"])
        .fails(2, "invalid_input");
}
