//! `baton migrate --to postgres://...`: a SQLite project copied into PostgreSQL reads back
//! the same through every command, and the copy goes on where the original stopped.

mod support;

use baton_postgres::testing::TestDatabase;
use serde_json::Value;
use support::{busy_project, on_postgres, READS};

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
