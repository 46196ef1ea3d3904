//! Schema versions and the guarantees the file itself gives.

use baton_core::api::{NewTask, TaskFilter};
use baton_core::{Api, Board, Store};
use baton_sqlite::{SqliteStore, SCHEMA_VERSION};

fn db_in(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("baton.db")
}

#[test]
fn an_older_database_is_upgraded_on_open_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    {
        // Build a version-1 database by hand, as the first release wrote it.
        let old = SqliteStore::open_at_version(&path, 1).unwrap();
        assert_eq!(old.schema_version().unwrap(), 1);
        let conn = rusqlite_conn(&path);
        conn.execute_batch(
            "INSERT INTO project (id, name, created_at, next_task) VALUES (1, 'old', '2026-01-01T00:00:00.000Z', 2);
             INSERT INTO tasks (id, title, status, priority, created_at, updated_at)
               VALUES (1, 'from v1', 'open', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let board = Board::new(store);
    let tasks = board.list_tasks(&TaskFilter::default()).unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].title, "from v1");
    // The counts kept since migration 5 start from the rows already there.
    let summary = board.board().unwrap();
    assert_eq!((summary.total, summary.counts.open), (1, 1));
    // Tables added by later migrations work.
    board
        .add_tasks(
            "claude",
            vec![NewTask {
                title: "new".into(),
                ..NewTask::default()
            }],
        )
        .unwrap();
    assert_eq!(board.agents().unwrap()[0].name, "claude");
}

#[test]
fn a_newer_database_is_refused_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    SqliteStore::create(&path, "p").unwrap();
    rusqlite_conn(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let err = SqliteStore::open(&path).err().expect("refused");
    assert_eq!(err.code(), "schema_too_new");
    assert_eq!(err.class().exit_code(), 5);
    assert!(err.to_string().contains("newer Baton"), "{err}");
}

#[test]
fn create_twice_keeps_the_same_project() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let (_, created) = SqliteStore::create(&path, "first").unwrap();
    assert!(created);
    let (store, created) = SqliteStore::create(&path, "second").unwrap();
    assert!(!created);
    assert_eq!(store.read(|tx| tx.project()).unwrap().name, "first");
}

#[test]
fn the_event_log_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    SqliteStore::create(&path, "p").unwrap();
    let conn = rusqlite_conn(&path);
    assert!(conn.execute("UPDATE events SET actor = 'x'", []).is_err());
    assert!(conn.execute("DELETE FROM events", []).is_err());
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "project.created is still there");
    // Log entries alone may go (retention); a board event among them stops the delete.
    conn.execute(
        "INSERT INTO events (at, actor, action, detail) VALUES ('2026-01-01T00:00:00Z', 'a', 'log.note', '{}')",
        [],
    )
    .unwrap();
    assert!(conn.execute("DELETE FROM events", []).is_err());
    assert_eq!(
        conn.execute("DELETE FROM events WHERE action LIKE 'log.%'", [])
            .unwrap(),
        1
    );
    assert!(conn
        .execute(
            "UPDATE events SET actor = 'x' WHERE action = 'project.created'",
            []
        )
        .is_err());
}

#[test]
fn opening_a_missing_file_says_how_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&db_in(&dir)).err().expect("refused");
    assert_eq!(err.code(), "store_unavailable");
    assert!(err.hint().unwrap().contains("baton init"));
}

#[test]
fn a_file_that_is_not_a_database_is_unavailable_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let err = SqliteStore::open(&path).err().expect("refused");
    assert_eq!(err.class().exit_code(), 5, "{err}");
}

fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[test]
fn doc_versions_are_append_only_and_search_follows_updates() {
    use baton_core::api::{DocPatch, DocSearch, NewDoc};
    use baton_core::model::DocType;
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let (store, _) = SqliteStore::create(&path, "p").unwrap();
    let board = Board::new(store);
    let doc = board
        .write_doc(
            "a",
            NewDoc {
                kind: DocType::Learning,
                title: "Cache".into(),
                body: "the cache warms slowly".into(),
                tags: vec![],
                tasks: vec![],
                author: None,
            },
        )
        .unwrap();
    board
        .update_doc(
            "a",
            doc.id,
            DocPatch {
                body: Some("the index rebuilds nightly".into()),
                ..DocPatch::default()
            },
        )
        .unwrap();
    let hits = |q: &str| {
        board
            .search_docs(&DocSearch {
                query: q.into(),
                ..DocSearch::default()
            })
            .unwrap()
            .len()
    };
    assert_eq!(hits("warms"), 0, "the index holds the current version only");
    assert_eq!(hits("nightly"), 1);
    let conn = rusqlite_conn(&path);
    assert!(conn
        .execute("UPDATE doc_versions SET body = 'x'", [])
        .is_err());
    assert!(conn.execute("DELETE FROM doc_versions", []).is_err());
    let n: i64 = conn
        .query_row("SELECT count(*) FROM doc_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}
