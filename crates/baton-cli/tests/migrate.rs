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
    // What the SQLite board shows (read twice: the first read records the reader).
    for args in READS {
        s.as_agent("codex", args).ok();
    }
    let before: Vec<Value> = READS
        .iter()
        .map(|args| s.as_agent("codex", args).ok().json())
        .collect();
    let copied = s.run(&["migrate", "--to", database.url()]).ok().json();
    assert_eq!(copied["rows"]["tasks"], 3, "{copied}");
    assert_eq!(copied["rows"]["doc_versions"], 2, "{copied}");
    for (args, sqlite) in READS.iter().zip(before) {
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
    // The project itself says it moved already; another project is refused by the target.
    s.run(&["migrate", "--to", database.url()])
        .fails(4, "board_moved");
    let other = busy_project();
    let again = other
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

/// After a migration the project points at the new board: commands and `serve` without
/// any environment use it, and the old file refuses writes, naming where the board went.
#[test]
fn a_migrated_project_points_at_its_new_board_and_the_old_file_refuses_writes() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let s = busy_project();
    let text = s
        .run(&["migrate", "--to", database.url(), "--human"])
        .ok()
        .stdout;
    assert!(text.contains("refuses writes from now on"), "{text}");
    let config = std::fs::read_to_string(s.path().join(".baton/config.toml")).unwrap();
    let recorded = baton_postgres::redact(database.url());
    assert!(
        config.contains(&format!("database_url = \"{recorded}\"")),
        "{config}"
    );
    // Plain commands, no BATON_DATABASE_URL: the new board.
    let added = s.run(&["task", "add", "After the move"]).ok().json();
    assert_eq!(added["id"], "T-4");
    let on_pg = on_postgres(&s, database.url(), "lead", &["task", "show", "T-4"])
        .ok()
        .json();
    assert_eq!(on_pg["title"], "After the move");
    // The old file: reads work, writes are refused with the way to the new board, by any
    // process that opens it.
    use baton_core::Api;
    let old = baton_core::Board::new(
        baton_sqlite::SqliteStore::open(&s.path().join(".baton/baton.db")).unwrap(),
    );
    assert_eq!(
        old.list_tasks(&baton_core::api::TaskFilter::default())
            .unwrap()
            .len(),
        3
    );
    let e = old
        .add_tasks(
            "stale-agent",
            vec![baton_core::api::NewTask {
                title: "lost".into(),
                ..Default::default()
            }],
        )
        .unwrap_err();
    assert_eq!(e.code(), "board_moved");
    assert!(e.to_string().contains(&recorded), "{e}");
    // The default project is in the database's own schema: the URL to use is the plain one.
    assert!(!e.to_string().contains("search_path"), "{e}");
    assert!(e.hint().unwrap().contains("BATON_DATABASE_URL"), "{e:?}");
    // A server started in the project serves the new board.
    let server = support::Foreground::start(&s, &[]);
    let shown = baton_client::Client::new(&server.url, None)
        .unwrap()
        .get_task(baton_core::TaskId(4));
    // A PostgreSQL board is served in team mode: a credential is needed, and the refusal
    // proves the server is not the old file's open, local-mode one.
    assert!(
        matches!(&shown, Err(e) if e.code() == "unauthenticated"),
        "{shown:?}"
    );
    server.terminate();
}
