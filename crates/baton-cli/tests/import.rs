//! `baton import codepakt` on a real codepakt board (schema version 2) and on a board
//! reshaped to version 3.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::Sandbox;

/// A real board: agents built a snake game on it (read-only; tests work on copies).
fn fixture() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/codepakt/snake-game.data.db");
    assert!(
        p.is_file(),
        "the codepakt fixture is missing: {}",
        p.display()
    );
    p
}

/// A writable copy of the fixture in the sandbox.
fn copy_board(s: &Sandbox) -> PathBuf {
    let dir = s.path().join("old/.codepakt");
    std::fs::create_dir_all(&dir).unwrap();
    let to = dir.join("data.db");
    std::fs::copy(fixture(), &to).unwrap();
    let mut perms = std::fs::metadata(&to).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&to, perms).unwrap();
    to
}

fn array(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a JSON array")
}

fn imported_events(s: &Sandbox) -> Vec<Value> {
    array(&s.run(&["events", "--limit", "0"]).ok().json())
        .iter()
        .filter(|e| e["detail"]["imported_from"].is_string())
        .cloned()
        .collect()
}

#[test]
fn a_codepakt_board_is_imported_whole_and_a_second_import_adds_nothing() {
    let s = Sandbox::project();
    let board = copy_board(&s);
    let report = s
        .run(&["import", "codepakt", board.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(
        (
            &report["tasks"],
            &report["docs"],
            &report["agents"],
            &report["events"]
        ),
        (
            &Value::from(13),
            &Value::from(3),
            &Value::from(2),
            &Value::from(56)
        )
    );
    assert!(array(&report["warnings"]).is_empty(), "{report}");

    let tasks = s.run(&["task", "list"]).ok().json();
    assert_eq!(array(&tasks).len(), 13);
    let t4 = s.run(&["task", "show", "T-4"]).ok().json();
    assert_eq!(t4["title"], "Implement board rendering function");
    assert_eq!(t4["depends_on"], serde_json::json!(["T-1", "T-2", "T-3"]));
    assert_eq!(
        (t4["status"].as_str(), t4["priority"].as_str()),
        (Some("done"), Some("P0"))
    );
    assert_eq!(
        (t4["epic"].as_str(), t4["assignee"].as_str()),
        (Some("Game Board"), Some("claude"))
    );
    assert_eq!(t4["verify"], "grep -q 'renderBoard' script.js");
    assert_eq!(array(&t4["acceptance_criteria"]).len(), 3);
    assert!(t4["notes"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("renderBoard() already"));
    assert_eq!(t4["created_at"], "2026-03-21T18:11:54.000Z");
    let t13 = s.run(&["task", "show", "T-13"]).ok().json();
    assert_eq!(array(&t13["notes"]).len(), 2);

    let events = imported_events(&s);
    assert_eq!(events.len(), 56);
    assert_eq!(
        events[0]["at"], "2026-03-21T18:11:36.000Z",
        "original times kept"
    );
    assert_eq!(events[0]["action"], "task.created");
    let picked: Vec<&Value> = events
        .iter()
        .filter(|e| e["action"] == "task.picked_up")
        .collect();
    assert_eq!(picked[0]["actor"], "codex");
    assert!(events
        .iter()
        .any(|e| e["action"] == "task.blocked" && e["task"] == "T-13"));

    let docs = s.run(&["docs", "list"]).ok().json();
    assert_eq!(array(&docs).len(), 3);
    let prd = s
        .run(&["docs", "search", "snake game requirements"])
        .ok()
        .json();
    assert_eq!(prd[0]["title"], "PRD");
    let agents = s.run(&["agents"]).ok().json();
    let names: Vec<&str> = array(&agents)
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["claude", "codex"]);

    // Again, from the project directory this time: nothing new.
    let again = s.run(&["import", "codepakt", "old"]).ok().json();
    assert_eq!(
        (
            &again["tasks"],
            &again["docs"],
            &again["agents"],
            &again["events"]
        ),
        (
            &Value::from(0),
            &Value::from(0),
            &Value::from(0),
            &Value::from(0)
        )
    );
    assert_eq!(again["skipped"], 13 + 3 + 56);
    assert_eq!(array(&s.run(&["task", "list"]).ok().json()).len(), 13);
    assert_eq!(imported_events(&s).len(), 56);
    assert_eq!(array(&s.run(&["docs", "list"]).ok().json()).len(), 3);
    let marks = s.run(&["events", "--action", "board.imported"]).ok().json();
    assert_eq!(array(&marks).len(), 1, "the second import recorded nothing");

    // The board goes on after the imported numbers.
    let next = s.run(&["task", "add", "--title", "Add levels"]).ok().json();
    assert_eq!(next["id"], "T-14");
}

#[test]
fn an_import_into_a_board_with_its_own_tasks_is_refused_with_a_hint() {
    let s = Sandbox::project();
    let board = copy_board(&s);
    s.run(&["task", "add", "--title", "my own"]).ok();
    let r = s
        .run(&["import", "codepakt", board.to_str().unwrap()])
        .fails(4, "import_conflict");
    assert!(
        r.error()["hint"].as_str().unwrap().contains("baton init"),
        "{}",
        r.stderr
    );
    assert_eq!(array(&s.run(&["task", "list"]).ok().json()).len(), 1);
    assert!(
        array(&s.run(&["docs", "list"]).ok().json()).is_empty(),
        "nothing half-imported"
    );
    let help = s.run(&["import", "codepakt", "--help"]).ok().stdout;
    assert!(help.contains("must hold no tasks of its own"), "{help}");
}

/// Reshapes the copy to schema version 3: notes as objects, a review doc, a column more,
/// and a task still in progress.
fn reshape_to_version_3(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "UPDATE schema_version SET version = 3;
         ALTER TABLE tasks ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
         UPDATE tasks SET notes = '[{\"text\": \"halfway\", \"author\": \"codex\", \"at\": \"2026-03-21T18:40:00Z\"}]',
                          status = 'in-progress', assignee = 'codex', completed_at = NULL
           WHERE task_number = 'T-013';
         ALTER TABLE docs RENAME TO docs_v2;
         CREATE TABLE docs (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, type TEXT NOT NULL
             CHECK (type IN ('operational','decision','reference','learning','review')),
             title TEXT NOT NULL, body TEXT NOT NULL, section TEXT, tags TEXT NOT NULL DEFAULT '[]',
             author TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
         INSERT INTO docs SELECT * FROM docs_v2;
         DROP TABLE docs_v2;
         INSERT INTO docs (id, project_id, type, title, body, section, tags, author, created_at, updated_at)
           SELECT 'review-doc', project_id, 'review', 'Review of T-013', 'Reversal bug fixed.', 'qa', '[]',
                  'claude', '2026-03-21T19:02:00.000Z', '2026-03-21T19:02:00.000Z' FROM docs LIMIT 1;",
    )
    .unwrap();
}

#[test]
fn a_version_3_board_imports_too() {
    let s = Sandbox::project();
    let board = copy_board(&s);
    reshape_to_version_3(&board);
    let report = s
        .run(&["import", "codepakt", board.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(
        (&report["tasks"], &report["docs"]),
        (&Value::from(13), &Value::from(4))
    );
    let t13 = s.run(&["task", "show", "T-13"]).ok().json();
    assert_eq!(t13["notes"][0]["text"], "halfway");
    assert_eq!(t13["notes"][0]["at"], "2026-03-21T18:40:00.000Z");
    // A claim from the old board gets a lease, so it returns to the queue if nobody works on it.
    assert_eq!(
        (t13["status"].as_str(), t13["assignee"].as_str()),
        (Some("in-progress"), Some("codex"))
    );
    assert!(t13["lease_expires_at"].is_string());
    assert_eq!(t13["fence"], 1);
    let review = s.run(&["docs", "list", "--type", "review"]).ok().json();
    assert_eq!(review[0]["title"], "Review of T-013");
    assert_eq!(review[0]["tags"], serde_json::json!(["section:qa"]));
    // The holder can carry on.
    s.as_agent(
        "codex",
        &["task", "done", "T-13", "--notes", "finished after the move"],
    )
    .ok();
}

#[test]
fn other_versions_and_other_files_are_refused_clearly() {
    let s = Sandbox::project();
    let board = copy_board(&s);
    rusqlite::Connection::open(&board)
        .unwrap()
        .execute("UPDATE schema_version SET version = 4", [])
        .unwrap();
    let r = s
        .run(&["import", "codepakt", board.to_str().unwrap()])
        .fails(2, "invalid_input");
    assert!(
        r.error()["message"].as_str().unwrap().contains("version 4"),
        "{}",
        r.stderr
    );
    let baton_db = s.path().join(".baton/baton.db");
    let r = s
        .run(&["import", "codepakt", baton_db.to_str().unwrap()])
        .fails(2, "invalid_input");
    assert!(r.error()["message"]
        .as_str()
        .unwrap()
        .contains("not a codepakt board"));
    s.run(&["import", "codepakt", "nowhere.db"])
        .fails(2, "invalid_input");
    assert!(array(&s.run(&["task", "list"]).ok().json()).is_empty());
}
