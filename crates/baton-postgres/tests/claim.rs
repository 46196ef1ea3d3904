//! The one-step pickup (`baton_claim_next`) against core's rules: the same calls, at the
//! same clock, on SQLite (core decides every pickup) and on PostgreSQL (the function
//! decides where it may), give the same answers, the same rows and the same event log.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use baton_core::api::{DoneRequest, NewTask, PickupRequest, ReserveRequest};
use baton_core::model::Priority;
use baton_core::store::EventQuery;
use baton_core::time::Timestamp;
use baton_core::{Api, Board, TaskId};
use baton_postgres::testing::TestDatabase;
use baton_postgres::PostgresStore;
use baton_sqlite::SqliteStore;
use serde_json::{json, Value};

fn task(title: &str, priority: Priority) -> NewTask {
    NewTask {
        title: title.into(),
        priority: Some(priority),
        ..NewTask::default()
    }
}

/// A call's outcome as JSON: the value, or the error's code.
fn outcome<T: serde::Serialize>(result: baton_core::Result<T>) -> Value {
    match result {
        Ok(v) => serde_json::to_value(v).unwrap(),
        Err(e) if e.code() == "internal" => panic!("{e}"),
        Err(e) => json!({ "error": e.code() }),
    }
}

#[test]
fn one_step_pickups_give_exactly_what_core_gives() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    let start = Timestamp::parse("2026-03-01T09:00:00.000Z").unwrap();
    let millis = Arc::new(AtomicI64::new(start.unix_millis()));
    let clock = {
        let millis = millis.clone();
        Arc::new(move || Timestamp::from_unix_millis(millis.load(Ordering::SeqCst)).unwrap())
    };
    let tick = |ms: i64| millis.fetch_add(ms, Ordering::SeqCst);
    let (sqlite, _) = SqliteStore::create(&path, "same").unwrap();
    let (postgres, _) = PostgresStore::create(database.url(), "same").unwrap();
    let on_sqlite = Board::with_clock(sqlite, clock.clone());
    let on_postgres = Board::with_clock(postgres, clock.clone());
    let boards: [&dyn Api; 2] = [&on_sqlite, &on_postgres];
    // Runs one call on both boards and checks they agree; returns SQLite's answer.
    let both = |call: &dyn Fn(&dyn Api) -> Value| -> Value {
        let answers: Vec<Value> = boards.iter().map(|b| call(*b)).collect();
        assert_eq!(
            answers[0], answers[1],
            "SQLite (left) and PostgreSQL (right)"
        );
        tick(7);
        answers[0].clone()
    };
    let pickup = |agent: &'static str, capability: Option<&'static str>| {
        move |api: &dyn Api| {
            outcome(api.pickup(
                agent,
                &PickupRequest {
                    capability: capability.map(str::to_string),
                    explain: true,
                    ..PickupRequest::default()
                },
            ))
        }
    };

    let mut gpu = task("Train", Priority::P0);
    gpu.capabilities = vec!["gpu".into()];
    let mut surfaced = task("Schema", Priority::P0);
    surfaced.files = vec!["db/**".into()];
    let mut waiting = task("API", Priority::P0);
    waiting.depends_on = vec!["T-4".into()];
    let added = both(&|api| {
        outcome(api.add_tasks(
            "lead",
            vec![
                task("Docs", Priority::P2),
                gpu.clone(),
                task("Fix login", Priority::P1),
                task("Storage", Priority::P1),
                waiting.clone(),
                surfaced.clone(),
                task("Cleanup", Priority::P2),
            ],
        ))
    });
    assert_eq!(added.as_array().map(Vec::len), Some(7), "{added}");
    // The best ready task: P0 with a capability nobody asked for is still the best.
    let first = both(&pickup("a1", None));
    assert_eq!(first["task"]["id"], "T-2", "{first}");
    assert_eq!(
        both(&pickup("a2", None))["task"]["id"],
        "T-6",
        "core: a surface"
    );
    assert_eq!(
        both(&pickup("a3", Some(" gpu "))),
        json!({"error": "no_task_ready"})
    );
    assert_eq!(both(&pickup("a3", None))["task"]["id"], "T-3");
    // T-5 waits on T-4 until it is done.
    assert_eq!(both(&pickup("a4", None))["task"]["id"], "T-4");
    both(&|api| {
        outcome(api.done(
            "a4",
            TaskId(4),
            DoneRequest {
                summary: None,
                fence: Some(1),
                notes: Some("stored".into()),
            },
        ))
    });
    let unlocked = both(&pickup("a4", None));
    assert_eq!(unlocked["task"]["id"], "T-5");
    assert_eq!(unlocked["task"]["depends_on"], json!(["T-4"]), "{unlocked}");
    // A manual reservation of the caller's: core renews it, so core takes the call.
    both(&|api| {
        outcome(api.reserve(
            "a5",
            ReserveRequest {
                globs: vec!["docs/**".into()],
                mode: baton_core::model::ReservationMode::Exclusive,
                ttl: Some("10m".into()),
                reason: None,
                task: None,
            },
        ))
    });
    assert_eq!(both(&pickup("a5", None))["task"]["id"], "T-1");
    both(&|api| {
        outcome(api.note(
            "lead",
            TaskId(7),
            baton_core::api::NoteRequest {
                text: "mind the cache".into(),
                fence: None,
            },
        ))
    });
    // A changed lease TTL is used at once.
    both(&|api| outcome(api.set_setting("lead", "lease_ttl", "1h")));
    let claimed = both(&pickup("a6", None));
    assert_eq!(claimed["task"]["id"], "T-7");
    // Past half the lease: the holder's claims are renewed first (core), then past its
    // end everything expires and goes back to the queue (core), then the common case.
    tick(40 * 60 * 1000);
    both(&pickup("a6", None));
    tick(2 * 3600 * 1000);
    both(&pickup("a7", None));
    both(&pickup("a8", None));
    both(&pickup("a9", None));
    both(&|api| outcome(api.list_tasks(&baton_core::api::TaskFilter::default())));
    both(&|api| outcome(api.agents()));
    // The whole log but the project's creation (stamped by the real clock).
    both(&|api| {
        outcome(api.events(&EventQuery {
            after_id: Some(1),
            ..EventQuery::default()
        }))
    });
    // The function took the plain cases (a1, a3, a4 twice, a8); core the others: a task
    // with a surface (a2, a9), nothing ready for gpu, a manual reservation to renew (a5),
    // the TTL changed since the store last read it (a6), expired leases (a6, a7).
    assert_eq!(on_postgres.store().one_step_claims(), 5);
}

/// A one-step call has no savepoint of its own inside a group: when it fails, the group is
/// reported failed, never as committed (PostgreSQL would roll the aborted transaction back
/// on COMMIT without an error), and nothing of it stands.
#[test]
fn a_failed_one_step_call_fails_its_group_and_nothing_stands() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    // Read when the store connects (this test binary's only use of it).
    std::env::set_var("BATON_LOCK_TIMEOUT", "300ms");
    let (store, _) = PostgresStore::create(database.url(), "group").unwrap();
    let board = Board::new(store);
    board
        .heartbeat("a2", &baton_core::api::HeartbeatRequest::default())
        .unwrap();
    board
        .add_tasks(
            "lead",
            vec![task("a", Priority::P1), task("b", Priority::P1)],
        )
        .unwrap();
    board.store().begin_batch().unwrap();
    let first = board.pickup("a1", &PickupRequest::default()).unwrap();
    assert_eq!(first.task.id, TaskId(1));
    assert_eq!(board.store().one_step_claims(), 1);
    // Another transaction holds a2's agent row: the next call's statement waits for it
    // past the lock timeout and fails inside the group.
    let mut admin = postgres::Client::connect(database.url(), postgres::NoTls).unwrap();
    let mut holding = admin.transaction().unwrap();
    holding
        .batch_execute("SELECT * FROM agents WHERE name = 'a2' FOR UPDATE")
        .unwrap();
    let second = board.pickup("a2", &PickupRequest::default());
    assert!(second.is_err(), "{second:?}");
    let committed = board.store().commit_batch();
    assert!(committed.is_err(), "{committed:?}");
    holding.rollback().unwrap();
    let tasks = board
        .list_tasks(&baton_core::api::TaskFilter::default())
        .unwrap();
    assert!(
        tasks.iter().all(|t| t.assignee.is_none()),
        "the first pickup was rolled back with its group: {tasks:?}"
    );
}
