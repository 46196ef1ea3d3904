//! What only a shared database has to get right: many connections writing at once, the
//! log read by id while others append, group commit, schema versions, lost connections.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use baton_core::api::{DoneRequest, NewTask, PickupRequest};
use baton_core::store::EventQuery;
use baton_core::{Api, Board};
use baton_postgres::testing::TestDatabase;
use baton_postgres::{PostgresStore, SCHEMA_VERSION};
use postgres::{Client, NoTls};

fn task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

fn board(database: &TestDatabase) -> Board<PostgresStore> {
    Board::new(PostgresStore::open(database.url()).unwrap())
}

fn setup() -> Option<TestDatabase> {
    let database = TestDatabase::create()?;
    PostgresStore::create(database.url(), "test").unwrap();
    Some(database)
}

#[test]
fn pickups_on_many_connections_claim_every_task_exactly_once() {
    let Some(database) = setup() else { return };
    let tasks: Vec<NewTask> = (0..120).map(|i| task(&format!("t{i}"))).collect();
    board(&database).add_tasks("lead", tasks).unwrap();
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let board = board(&database);
            std::thread::spawn(move || {
                let agent = format!("agent-{i}");
                let mut mine = Vec::new();
                loop {
                    match board.pickup(&agent, &PickupRequest::default()) {
                        Ok(p) => mine.push(p.task.id.number()),
                        Err(e) if e.code() == "no_task_ready" => return (agent, mine),
                        Err(e) => panic!("{agent}: {e:?}"),
                    }
                }
            })
        })
        .collect();
    let mut holders: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for worker in workers {
        let (agent, mine) = worker.join().unwrap();
        for id in mine {
            holders.entry(id).or_default().push(agent.clone());
        }
    }
    assert_eq!(holders.len(), 120);
    assert!(holders.values().all(|h| h.len() == 1), "{holders:?}");
    let fences: Vec<u64> = board(&database)
        .list_tasks(&Default::default())
        .unwrap()
        .iter()
        .map(|t| t.fence)
        .collect();
    assert!(fences.iter().all(|f| *f == 1), "one claim each: {fences:?}");
}

#[test]
fn a_follower_reading_by_id_never_skips_an_event_while_others_append() {
    let Some(database) = setup() else { return };
    let writing = Arc::new(AtomicBool::new(true));
    let follower = {
        let board = board(&database);
        let writing = writing.clone();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut after = 0;
            loop {
                let done = !writing.load(Ordering::SeqCst);
                let page = board
                    .events(&EventQuery {
                        after_id: Some(after),
                        limit: Some(50),
                        ..EventQuery::default()
                    })
                    .unwrap();
                if let Some(last) = page.last() {
                    after = last.id;
                }
                let empty = page.is_empty();
                seen.extend(page.into_iter().map(|e| e.id));
                if done && empty {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let board = board(&database);
            std::thread::spawn(move || {
                for i in 0..40 {
                    board
                        .add_tasks("lead", vec![task(&format!("w{w} t{i}"))])
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    writing.store(false, Ordering::SeqCst);
    let seen = follower.join().unwrap();
    let all: Vec<u64> = board(&database)
        .events(&EventQuery::default())
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        all,
        (1..=all.len() as u64).collect::<Vec<_>>(),
        "ids have no gaps"
    );
    assert_eq!(seen, all, "the follower saw every event, in order, once");
}

#[test]
fn a_refused_call_in_a_group_leaves_the_others_standing() {
    let Some(database) = setup() else { return };
    let writer = board(&database);
    let other = board(&database);
    writer.store().begin_batch().unwrap();
    writer.add_tasks("lead", vec![task("a")]).unwrap();
    let refused = writer.add_tasks(
        "lead",
        vec![
            task("b"),
            NewTask {
                depends_on: vec!["T-99".into()],
                ..task("c")
            },
        ],
    );
    assert!(refused.is_err());
    let claimed = writer.pickup("w1", &PickupRequest::default()).unwrap();
    let stale = writer.done(
        "w1",
        claimed.task.id,
        DoneRequest {
            summary: None,
            notes: None,
            fence: Some(0),
        },
    );
    assert_eq!(stale.unwrap_err().code(), "stale_claim");
    // Readers are not blocked by the group, and see none of it before the commit.
    assert!(other.list_tasks(&Default::default()).unwrap().is_empty());
    writer.store().commit_batch().unwrap();
    let tasks = other.list_tasks(&Default::default()).unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        (tasks[0].title.as_str(), tasks[0].assignee.as_deref()),
        ("a", Some("w1"))
    );
    // A rolled-back group leaves nothing, and the next id is the one it would have used.
    writer.store().begin_batch().unwrap();
    writer.add_tasks("lead", vec![task("gone")]).unwrap();
    writer.store().rollback_batch();
    let added = other.add_tasks("lead", vec![task("kept")]).unwrap();
    assert_eq!(added[0].id.number(), 2);
}

#[test]
fn the_schema_is_upgraded_once_and_a_newer_one_is_refused() {
    let Some(database) = setup() else { return };
    // Replicas starting together: every one opens, one migrates.
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let url = database.url().to_string();
            std::thread::spawn(move || PostgresStore::open(&url).map(|s| s.schema_version()))
        })
        .collect();
    for opener in openers {
        assert_eq!(opener.join().unwrap().unwrap().unwrap(), SCHEMA_VERSION);
    }
    let mut admin = Client::connect(database.url(), NoTls).unwrap();
    admin
        .execute(
            "INSERT INTO baton_schema (version, name) VALUES ($1, 'from the future')",
            &[&(SCHEMA_VERSION + 1)],
        )
        .unwrap();
    let e = PostgresStore::open(database.url()).err().expect("refused");
    assert_eq!(e.code(), "schema_too_new");
}

#[test]
fn a_dropped_connection_is_opened_again_on_the_next_call() {
    let Some(database) = setup() else { return };
    let board = board(&database);
    board.add_tasks("lead", vec![task("before")]).unwrap();
    let mut admin = Client::connect(database.url(), NoTls).unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'baton'",
            &[],
        )
        .unwrap();
    // The call that finds the connection gone fails cleanly (nothing half-written) ...
    if let Err(e) = board.add_tasks("lead", vec![task("maybe")]) {
        assert_eq!(e.code(), "store_unavailable", "{e:?}");
        assert!(e.hint().is_some());
    }
    // ... and the next one works on a new connection.
    board.add_tasks("lead", vec![task("after")]).unwrap();
    let titles: Vec<String> = board
        .list_tasks(&Default::default())
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(titles.first().map(String::as_str), Some("before"));
    assert_eq!(titles.last().map(String::as_str), Some("after"));
}

#[test]
fn a_url_that_cannot_be_used_says_why_and_what_to_do() {
    let Some(database) = setup() else { return };
    let refused = |url: &str| PostgresStore::open(url).err().expect("refused");

    let e = refused("not a url");
    assert_eq!(
        (e.code(), e.class().exit_code()),
        ("invalid_input", 2),
        "{e:?}"
    );
    assert!(e.hint().unwrap().contains("postgres://"), "{e:?}");

    // The server's own reason, and the password never repeated.
    let base = database.url().rsplit_once('/').unwrap().0.to_string();
    let missing = format!("{base}/baton_no_such_database");
    let e = refused(&missing);
    assert_eq!(e.code(), "store_unavailable", "{e:?}");
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert!(e.hint().unwrap().contains("CREATE DATABASE"), "{e:?}");

    let rest = base.split_once("://").unwrap().1;
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let nobody = format!("postgres://baton_no_such_role:s3cret@{host}/test");
    let e = refused(&nobody);
    assert_eq!(e.code(), "store_unavailable", "{e:?}");
    assert!(e.hint().unwrap().contains("user and password"), "{e:?}");
    assert!(!e.to_string().contains("s3cret"), "{e}");

    // Nothing listening: the operating system's reason.
    let e = refused("postgres://postgres@127.0.0.1:1/test");
    assert_eq!(e.code(), "store_unavailable", "{e:?}");
    assert!(e.to_string().contains("refused"), "{e}");
}

#[test]
fn only_log_entries_may_leave_the_event_log() {
    let Some(database) = setup() else { return };
    let board = board(&database);
    board.add_tasks("lead", vec![task("kept")]).unwrap();
    let mut admin = Client::connect(database.url(), NoTls).unwrap();
    admin
        .execute(
            "INSERT INTO events (id, at, actor, action, detail) \
             VALUES (1000, '2026-01-01T00:00:00Z', 'a', 'log.note', '{}')",
            &[],
        )
        .unwrap();
    assert!(admin.execute("DELETE FROM events", &[]).is_err());
    assert!(admin
        .execute(
            "UPDATE events SET actor = 'x' WHERE action LIKE 'log.%'",
            &[]
        )
        .is_err());
    assert_eq!(
        admin
            .execute("DELETE FROM events WHERE action LIKE 'log.%'", &[])
            .unwrap(),
        1
    );
    let left: i64 = admin
        .query_one("SELECT count(*) FROM events", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 2, "project.created and task.created stay");
}
