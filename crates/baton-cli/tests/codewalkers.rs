//! `baton import codewalkers`: a Codewalkers database built from its documented schema
//! (`tests/fixtures/codewalkers.sql`: realistic rows and a few deliberate oddities) comes
//! over with its plan intact, reports what it could not map, lands all or nothing, and a
//! second import adds nothing.

mod support;

use serde_json::Value;
use support::Sandbox;

fn codewalkers_db(s: &Sandbox) -> std::path::PathBuf {
    let path = s.path().join("codewalkers.db");
    let sql = include_str!("fixtures/codewalkers.sql");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    path
}

fn by_title<'a>(tasks: &'a Value, title: &str) -> &'a Value {
    tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task {title}"))
}

#[test]
fn a_codewalkers_plan_comes_over_with_what_could_not_be_mapped_reported() {
    let s = Sandbox::project();
    let db = codewalkers_db(&s);
    let before = std::fs::read(&db).unwrap();
    let report = s
        .run(&["import", "codewalkers", db.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(report["initiatives"], 3);
    assert_eq!(report["phases"], 5);
    assert_eq!(report["tasks"], 16);
    assert_eq!(report["pages"], 8);
    assert_eq!(report["comments"], 5);
    assert!(report["messages"].as_u64().unwrap() >= 2);
    let warnings = report["warnings"].to_string();
    for expected in [
        "unknown status 'cancelled'",
        "Xc6wEaMDvXTUkLu5koEZ-, which is not in the database",
        "proposals not imported",
        "accounts not imported",
    ] {
        assert!(warnings.contains(expected), "{expected} in {warnings}");
    }
    // The accounts' stored credentials appear nowhere: not in the report, not in the log.
    let secrets: Vec<String> = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT credentials FROM accounts WHERE credentials IS NOT NULL")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert!(!secrets.is_empty());
    let log = s.run(&["events", "--limit", "0"]).ok().stdout;
    for secret in &secrets {
        assert!(!report.to_string().contains(secret.as_str()) && !log.contains(secret.as_str()));
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the source is only read"
    );

    // Initiatives, phases and their dependencies, in the source's states.
    let initiatives = s.run(&["initiative", "list"]).ok().json();
    let auth = initiatives
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "User authentication")
        .unwrap();
    assert_eq!(auth["branch"], "cw/user-auth");
    let id = auth["id"].as_str().unwrap();
    let phases = s.run(&["phase", "list", "-i", id]).ok().json();
    let names: Vec<&str> = phases
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Schema and migrations", "Session API", "Login UI"]);
    assert_eq!(phases[0]["status"], "completed");
    assert_eq!(phases[1]["depends_on"][0], phases[0]["id"]);
    assert_eq!(phases[2]["open"], false, "Login UI waits for Session API");
    assert!(phases[0]["content"].as_str().unwrap().contains("## Goal"));
    assert!(phases[0]["content"].as_str().unwrap().contains("naïve"));

    // Tasks: categories, priorities, summaries, dependencies, parents.
    let tasks = s.run(&["task", "list", "--limit", "0"]).ok().json();
    let research = by_title(&tasks, "Research password hashing options");
    assert_eq!(research["category"], "research");
    assert_eq!(research["status"], "done");
    assert!(research["summary"].as_str().is_some());
    let children = tasks
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["parent"].is_string())
        .count();
    assert!(children >= 2, "decomposition kept: {tasks}");
    let login = by_title(&tasks, "Implement POST /sessions login endpoint");
    assert_eq!(
        login["status"], "open",
        "its dependency is done, so it is ready"
    );

    // The next agent takes the best ready task of an open phase, never a gated one.
    let p = s.as_agent("claude", &["task", "pickup"]).ok().json();
    assert_eq!(p["task"]["gated"], Value::Null);
    assert!(p["task"]["phase"].is_string() || p["task"]["initiative"].is_string());

    // Pages as docs in a tree, comments on their phase.
    let pages = s.run(&["page", "list", "-i", id]).ok().json();
    assert!(pages.as_array().unwrap().len() >= 3);
    assert!(pages[0]["parent"].is_null());
    let comments = s
        .run(&[
            "review",
            "list",
            "--phase",
            phases[1]["id"].as_str().unwrap(),
        ])
        .ok()
        .json();
    assert!(!comments.as_array().unwrap().is_empty());

    // Again: nothing new.
    let again = s
        .run(&["import", "codewalkers", db.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(again["tasks"], 0);
    assert_eq!(again["initiatives"], 0);
    assert!(again["skipped"].as_u64().unwrap() >= 39);
    let events = s.run(&["events", "--action", "plan.imported"]).ok().json();
    assert_eq!(events.as_array().unwrap().len(), 2);
}

#[test]
fn what_is_not_a_codewalkers_database_is_refused_and_nothing_changes() {
    let s = Sandbox::project();
    s.write("notes.txt", "hello");
    s.run(&["import", "codewalkers", "notes.txt"])
        .fails(2, "invalid_input");
    s.run(&["import", "codewalkers", "missing.db"])
        .fails(2, "invalid_input");
    let other = s.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE things (id TEXT);")
        .unwrap();
    let r = s.run(&["import", "codewalkers", other.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not a Codewalkers database"),
        "{}",
        r.stderr
    );
    // A cycle in the source's phases: refused whole.
    let db = codewalkers_db(&s);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "INSERT INTO phase_dependencies (id, phase_id, depends_on_phase_id, created_at)
         SELECT 'cycle-edge', depends_on_phase_id, phase_id, 0 FROM phase_dependencies LIMIT 1;",
    )
    .unwrap();
    drop(conn);
    s.run(&["import", "codewalkers", db.to_str().unwrap()])
        .fails(2, "invalid_input");
    assert_eq!(
        s.run(&["initiative", "list"]).ok().json(),
        serde_json::json!([])
    );
    // A batch may name a later task of the same batch.
    s.write(
        "b.json",
        r#"[{"key":"b","title":"second","depends_on":["a"]},{"key":"a","title":"first"}]"#,
    );
    let added = s.run(&["task", "add", "--batch", "b.json"]).ok().json();
    assert_eq!(added[0]["depends_on"][0], added[1]["id"]);
}
