//! `baton backup` / `baton restore` under load: a backup taken while agent processes keep
//! claiming tasks restores to a board holding every claim acknowledged before the backup
//! began, passing the store's checks; on a project file and on PostgreSQL.

mod support;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use baton_postgres::testing::TestDatabase;
use serde_json::{json, Value};
use support::{command_in, on_postgres, Run, Sandbox};

const TASKS: usize = 120;
const WORKERS: usize = 4;

/// A claim as its process was told it, and when the answer came.
struct Acked {
    task: String,
    agent: String,
    at: Instant,
}

/// Worker processes claim tasks until none is left; once a quarter are claimed, `backup`
/// runs (in the middle of the load). Returns the claims and when the backup began.
fn claim_while_backing_up(
    pickup: impl Fn(&str) -> Run + Sync,
    backup: impl FnOnce() -> Run,
) -> (Vec<Acked>, Instant) {
    let acked = Mutex::new(Vec::new());
    let began = std::thread::scope(|scope| {
        for w in 0..WORKERS {
            let (acked, pickup) = (&acked, &pickup);
            scope.spawn(move || {
                let agent = format!("worker-{w}");
                loop {
                    let r = pickup(&agent);
                    if r.code != 0 {
                        assert_eq!(r.code, 3, "{}", r.stderr);
                        return;
                    }
                    let task = r.json()["task"]["id"].as_str().unwrap().to_string();
                    let at = Instant::now();
                    acked.lock().unwrap().push(Acked {
                        task,
                        agent: agent.clone(),
                        at,
                    });
                }
            });
        }
        while acked.lock().unwrap().len() < TASKS / 4 {
            std::thread::sleep(Duration::from_millis(10));
        }
        let began = Instant::now();
        backup().ok();
        assert!(
            acked.lock().unwrap().len() < TASKS,
            "the load was still going when the backup began"
        );
        began
    });
    (acked.into_inner().unwrap(), began)
}

fn add_tasks(run: impl Fn(&[&str]) -> Run, s: &Sandbox) {
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| json!({"title": format!("task {i}")}))
        .collect();
    let path = s.write("tasks.json", &serde_json::to_string(&tasks).unwrap());
    run(&["task", "add", "--batch", path.to_str().unwrap()]).ok();
}

/// Every claim acknowledged before the backup began is in the restored board, held by the
/// agent that was told so; claims after it may or may not be.
fn check_restored(acked: &[Acked], began: Instant, show: impl Fn(&str) -> Value) -> usize {
    let before: Vec<&Acked> = acked.iter().filter(|a| a.at < began).collect();
    assert!(before.len() >= TASKS / 4, "{} claims before", before.len());
    for a in &before {
        let t = show(&a.task);
        assert_eq!(t["status"], "in-progress", "{}: {t}", a.task);
        assert_eq!(t["assignee"], a.agent.as_str(), "{}: {t}", a.task);
    }
    before.len()
}

#[test]
fn a_backup_during_concurrent_pickups_restores_every_acknowledged_claim() {
    let s = Sandbox::project();
    add_tasks(|a| s.run(a), &s);
    let file = s.path().join("board-backup.db");
    let (acked, began) = claim_while_backing_up(
        |agent| s.as_agent(agent, &["task", "pickup"]),
        || s.run(&["backup", file.to_str().unwrap()]),
    );
    assert_eq!(acked.len(), TASKS);
    // The file is a sound SQLite database on its own.
    let copy = rusqlite::Connection::open(&file).unwrap();
    let verdict: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    drop(copy);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the owner's only: {mode:o}");
    s.run(&["backup", file.to_str().unwrap()])
        .fails(4, "file_exists");

    let target = Sandbox::project();
    let restored = target.run(&["restore", file.to_str().unwrap()]).ok().json();
    assert!(restored["rows"]["tasks"].as_u64().unwrap() >= TASKS as u64);
    let kept = check_restored(&acked, began, |id| {
        target.run(&["task", "show", id]).ok().json()
    });
    eprintln!("{kept} of {TASKS} claims were acknowledged before the backup began");
    let db = target.path().join(".baton/baton.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    drop(conn);
    // It goes on: the rest of the queue, then new work numbered after the last task.
    let added = target.run(&["task", "add", "--title", "after"]).ok().json();
    assert_eq!(added["id"], format!("T-{}", TASKS + 1));
    // A project already holding work is not overwritten.
    target
        .run(&["restore", file.to_str().unwrap()])
        .fails(4, "import_conflict");
    s.run(&["restore", "/nonexistent/backup.db"])
        .fails(3, "file_not_found");
}

#[test]
fn a_postgres_backup_during_concurrent_pickups_restores_every_acknowledged_claim() {
    let Some(source) = TestDatabase::create() else {
        return;
    };
    let Some(target_db) = TestDatabase::create() else {
        return;
    };
    let s = Sandbox::new();
    let on = |url: &str, agent: &str, args: &[&str]| on_postgres(&s, url, agent, args);
    add_tasks(|a| on(source.url(), "lead", a), &s);
    let file = s.path().join("board.jsonl");
    let (acked, began) = claim_while_backing_up(
        |agent| on(source.url(), agent, &["task", "pickup"]),
        || on(source.url(), "lead", &["backup", file.to_str().unwrap()]),
    );
    assert_eq!(acked.len(), TASKS);
    let mut restore = command_in(s.path(), &["restore", file.to_str().unwrap()]);
    restore.env("BATON_DATABASE_URL", target_db.url());
    support::finish(restore.output().unwrap()).ok();
    check_restored(&acked, began, |id| {
        on(target_db.url(), "lead", &["task", "show", id])
            .ok()
            .json()
    });
    // The restored database holds exactly what the backup does.
    let exported = on(target_db.url(), "lead", &["export"]).ok().stdout;
    assert_eq!(exported, std::fs::read_to_string(&file).unwrap());
}

/// Export, backup, restore and migrate copy the tables and columns listed in
/// `PROJECT_TABLES` and `INSTANCE_TABLES`: every column of every table a fresh project has
/// must be listed there, or it would be lost on the way (derived and secret tables apart).
#[test]
fn every_column_of_every_table_is_carried() {
    let s = Sandbox::project();
    let db = rusqlite::Connection::open(s.path().join(".baton/baton.db")).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Derived from other rows, SQLite's own search index, secrets that stay put, or
    // failed logins (forgotten in a day).
    let not_carried = |t: &str| {
        t.starts_with("docs_fts")
            || t.starts_with("sqlite_")
            || [
                "task_counts",
                "login_sessions",
                "login_failures",
                "baton_schema",
            ]
            .contains(&t)
    };
    let listed: Vec<(&str, &[&str])> = baton_postgres::PROJECT_TABLES
        .iter()
        .chain(baton_postgres::INSTANCE_TABLES.iter())
        .copied()
        .collect();
    let mut missing = Vec::new();
    for t in tables.iter().filter(|t| !not_carried(t)) {
        let Some((_, columns)) = listed.iter().find(|(name, _)| name == t) else {
            missing.push(format!("table {t}"));
            continue;
        };
        let have: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for c in have.iter().filter(|c| !columns.contains(&c.as_str())) {
            missing.push(format!("{t}.{c}"));
        }
    }
    assert!(
        missing.is_empty(),
        "not carried by export and migrate: {missing:?}"
    );
}
