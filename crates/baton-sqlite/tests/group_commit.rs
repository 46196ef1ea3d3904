//! Group commit (the server's writer): calls share one transaction, each in its own
//! savepoint, so a refused call changes nothing while the others stand, and nothing is
//! visible to other connections before the group commits.

use baton_core::api::{DoneRequest, NewTask, PickupRequest};
use baton_core::{Api, Board};
use baton_sqlite::SqliteStore;

fn task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

#[test]
fn a_refused_call_in_a_group_leaves_the_others_standing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    SqliteStore::create(&path, "test").unwrap();
    let writer = Board::new(SqliteStore::open(&path).unwrap());
    let other = Board::new(SqliteStore::open(&path).unwrap());

    writer.store().begin_batch().unwrap();
    writer.add_tasks("lead", vec![task("a")]).unwrap();
    // Refused half-way through its own work: a batch with a bad dependency.
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
    assert_eq!(claimed.task.title, "a");
    // A stale fence is refused inside the group too.
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
    // Nothing is visible elsewhere before the commit.
    assert!(other.list_tasks(&Default::default()).unwrap().is_empty());
    writer.store().commit_batch().unwrap();

    let tasks = other.list_tasks(&Default::default()).unwrap();
    assert_eq!(tasks.len(), 1, "only the accepted call's task: {tasks:?}");
    assert_eq!(tasks[0].assignee.as_deref(), Some("w1"));
    assert_eq!(tasks[0].fence, 1);
    let actions: Vec<String> = other
        .events(&Default::default())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.ends_with(&["task.created".to_string(), "task.picked_up".to_string()]),
        "{actions:?}"
    );
}

#[test]
fn a_rolled_back_group_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    SqliteStore::create(&path, "test").unwrap();
    let writer = Board::new(SqliteStore::open(&path).unwrap());
    writer.store().begin_batch().unwrap();
    writer
        .add_tasks("lead", vec![task("a"), task("b")])
        .unwrap();
    writer.store().rollback_batch();
    assert!(writer.list_tasks(&Default::default()).unwrap().is_empty());
    // And the connection works normally afterwards.
    writer.add_tasks("lead", vec![task("c")]).unwrap();
    assert_eq!(writer.list_tasks(&Default::default()).unwrap().len(), 1);
}

/// A call that panics half-way through its transaction is rolled back like a refused one:
/// the connection comes back clean, for the calls after it and for other processes.
#[test]
fn a_call_that_panics_mid_transaction_is_rolled_back_and_the_store_keeps_writing() {
    use baton_core::{Store, StoreTx};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baton.db");
    SqliteStore::create(&path, "test").unwrap();
    let writer = Board::new(SqliteStore::open(&path).unwrap());
    let other = Board::new(SqliteStore::open(&path).unwrap());
    let half_done = |tx: &mut dyn StoreTx| -> baton_core::Result<()> {
        tx.set_setting("lease_ttl", "5m")?;
        panic!("a bug half-way through a call");
    };

    // Alone: the panic is an internal error naming it, and nothing of the call stands.
    let e = writer.store().write(half_done).unwrap_err();
    assert_eq!(e.code(), "internal");
    assert!(e.to_string().contains("half-way"), "{e}");
    writer.add_tasks("lead", vec![task("after")]).unwrap();
    other.add_tasks("lead", vec![task("elsewhere")]).unwrap();

    // Inside a group: only the panicking call is undone.
    writer.store().begin_batch().unwrap();
    writer.add_tasks("lead", vec![task("in group")]).unwrap();
    assert_eq!(
        writer.store().write(half_done).unwrap_err().code(),
        "internal"
    );
    writer
        .add_tasks("lead", vec![task("in group too")])
        .unwrap();
    writer.store().commit_batch().unwrap();

    let titles: Vec<String> = other
        .list_tasks(&Default::default())
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(titles, ["after", "elsewhere", "in group", "in group too"]);
    let settings = other.settings().unwrap();
    let ttl = settings.iter().find(|s| s.key == "lease_ttl").unwrap();
    assert_ne!(ttl.value, "5m", "the panicking call's write stood");
}
