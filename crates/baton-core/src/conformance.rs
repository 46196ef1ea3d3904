//! Behaviour scenarios every `Api` implementation must pass (the in-process `Board` on each
//! store, and later the HTTP client). A backend's test file runs them with
//! [`conformance_tests!`], one test per scenario, each on a fresh, empty project.

mod counts;
mod instance;
mod knowledge;
mod merges;
mod messages;
mod operations;
mod plan;
mod runs;
mod webhooks;

pub use counts::*;
pub use instance::*;
pub use knowledge::*;
pub use merges::*;
pub use messages::*;
pub use operations::*;
pub use plan::*;
pub use runs::*;
pub use webhooks::*;

use crate::api::*;
use crate::model::{Reservation, ReservationMode, Status, Task};
use crate::store::EventQuery;
use crate::{Api, Error, Priority, TaskId};

/// A fresh project behind an `Api`, kept alive (temp dirs, databases) for one scenario.
pub trait ApiFixture {
    fn api(&self) -> &dyn Api;
    /// Moves the board's clock forward.
    fn advance(&self, by: std::time::Duration);
}

/// A clock that starts at the real time and only moves when told.
#[derive(Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock(std::sync::Arc::new(std::sync::atomic::AtomicI64::new(
            crate::time::Timestamp::now().unix_millis(),
        )))
    }
}

impl ManualClock {
    pub fn clock(&self) -> crate::board::Clock {
        let ms = self.0.clone();
        std::sync::Arc::new(move || {
            crate::time::Timestamp::from_unix_millis(ms.load(std::sync::atomic::Ordering::SeqCst))
                .expect("valid time")
        })
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.0
            .fetch_add(by.as_millis() as i64, std::sync::atomic::Ordering::SeqCst);
    }
}

pub fn task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

fn with_deps(title: &str, deps: &[&str]) -> NewTask {
    NewTask {
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        ..task(title)
    }
}

pub(crate) fn add(api: &dyn Api, t: NewTask) -> Task {
    api.add_tasks("lead", vec![t]).expect("add").remove(0)
}

fn actions_of(api: &dyn Api, id: TaskId) -> Vec<String> {
    api.events(&EventQuery {
        task: Some(id),
        ..EventQuery::default()
    })
    .expect("events")
    .into_iter()
    .map(|e| e.action)
    .collect()
}

fn code(e: Error) -> String {
    e.code().to_string()
}

pub fn ids_are_sequential_and_creation_is_recorded(api: &dyn Api) {
    let a = add(api, task("first"));
    let b = add(api, task("second"));
    assert_eq!((a.id, b.id), (TaskId(1), TaskId(2)));
    assert_eq!(a.status, Status::Open);
    assert_eq!(a.priority, Priority::P1);
    assert_eq!(actions_of(api, a.id), vec!["task.created"]);
    let shown = api.get_task(TaskId(2)).unwrap();
    assert_eq!(shown.title, "second");
    assert!(shown.deps_met);
}

pub fn a_dry_run_checks_a_batch_and_writes_nothing(api: &dyn Api) {
    add(api, task("existing"));
    let mut dependent = with_deps("ui", &["api"]);
    dependent.key = Some("ui".into());
    let mut first = task("api");
    first.key = Some("api".into());
    let checked = api
        .check_tasks("planner", vec![first.clone(), dependent.clone()])
        .unwrap();
    assert_eq!(
        checked.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![TaskId(2), TaskId(3)]
    );
    assert_eq!(checked[1].depends_on, vec![TaskId(2)]);
    assert_eq!(checked[1].status, Status::Backlog);
    // Nothing was written: no task, no event, and the ids are still free.
    assert_eq!(api.list_tasks(&TaskFilter::default()).unwrap().len(), 1);
    assert!(actions_of(api, TaskId(2)).is_empty());
    // Mistakes are found as add_tasks would find them, naming the task.
    let mut cycle = first.clone();
    cycle.depends_on = vec!["ui".into()];
    let e = api
        .check_tasks("planner", vec![cycle, dependent.clone()])
        .unwrap_err();
    // Named by the batch's keys and titles: the ids are not the tasks' yet.
    let said = e.to_string();
    assert!(
        said.contains("api (\"api\") -> ui (\"ui\")")
            || said.contains("ui (\"ui\") -> api (\"api\")"),
        "{said}"
    );
    assert!(!said.contains("T-"), "{said}");
    assert_eq!(code(e), "dependency_cycle");
    let e = api
        .check_tasks("planner", vec![with_deps("lost", &["T-99"])])
        .unwrap_err();
    assert!(matches!(
        code(e).as_str(),
        "invalid_input" | "task_not_found"
    ));
    let added = api.add_tasks("planner", vec![first, dependent]).unwrap();
    assert_eq!(added[0].id, TaskId(2));
}

pub fn unknown_task_is_not_found(api: &dyn Api) {
    let e = api.get_task(TaskId(99)).unwrap_err();
    assert_eq!(code(e), "task_not_found");
    let e = api
        .done("a", TaskId(99), DoneRequest::default())
        .unwrap_err();
    assert_eq!(code(e), "task_not_found");
}

pub fn dependent_waits_in_backlog_until_dependency_reaches_review(api: &dyn Api) {
    let a = add(api, task("api"));
    let b = add(api, with_deps("ui", &["T-1"]));
    assert_eq!(b.status, Status::Backlog);
    assert!(!b.deps_met);
    assert_eq!(b.depends_on, vec![a.id]);
    api.pickup("claude", &PickupRequest::default()).unwrap();
    // Only T-1 was ready; T-2 waits.
    let e = api.pickup("codex", &PickupRequest::default()).unwrap_err();
    assert_eq!(code(e), "no_task_ready");
    api.done("claude", a.id, DoneRequest::default()).unwrap();
    let b = api.get_task(b.id).unwrap();
    assert_eq!(b.status, Status::Open);
    assert!(b.deps_met);
    assert_eq!(actions_of(api, b.id), vec!["task.created", "task.deps_met"]);
    let p = api.pickup("codex", &PickupRequest::default()).unwrap();
    assert_eq!(p.task.id, b.id);
}

pub fn pickup_takes_highest_priority_then_oldest(api: &dyn Api) {
    let p = |title: &str, priority| NewTask {
        priority: Some(priority),
        ..task(title)
    };
    api.add_tasks(
        "lead",
        vec![
            p("low", Priority::P2),
            p("mid-old", Priority::P1),
            p("urgent", Priority::P0),
            p("mid-new", Priority::P1),
        ],
    )
    .unwrap();
    let order: Vec<String> = (0..4)
        .map(|_| {
            api.pickup("a", &PickupRequest::default())
                .unwrap()
                .task
                .title
        })
        .collect();
    assert_eq!(order, vec!["urgent", "mid-old", "mid-new", "low"]);
}

pub fn pickup_gives_a_claim_with_a_growing_fence(api: &dyn Api) {
    add(api, task("x"));
    let first = api.pickup("a", &PickupRequest::default()).unwrap();
    assert_eq!(first.task.status, Status::InProgress);
    assert_eq!(first.task.assignee.as_deref(), Some("a"));
    assert_eq!(first.claim.fence, 1);
    assert!(first.claim.lease_expires_at > first.task.created_at);
    // Released and claimed again: the fence grows, the old one is stale.
    api.update_task(
        "lead",
        first.task.id,
        TaskPatch {
            status: Some(Status::Open),
            ..TaskPatch::default()
        },
    )
    .unwrap();
    let second = api.pickup("b", &PickupRequest::default()).unwrap();
    assert_eq!(second.claim.fence, 2);
    let e = api
        .note(
            "a",
            first.task.id,
            NoteRequest {
                text: "late".into(),
                fence: Some(1),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "stale_claim");
    assert!(e.to_string().contains("held by b"), "{e}");
}

pub fn empty_board_reports_no_task_ready_with_a_hint(api: &dyn Api) {
    let e = api.pickup("a", &PickupRequest::default()).unwrap_err();
    assert_eq!(e.code(), "no_task_ready");
    assert!(
        e.hint().unwrap().contains("baton task add"),
        "{:?}",
        e.hint()
    );
    add(api, task("x"));
    add(api, with_deps("y", &["T-1"]));
    api.pickup("a", &PickupRequest::default()).unwrap();
    let e = api.pickup("b", &PickupRequest::default()).unwrap_err();
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("1 in backlog") && hint.contains("1 in progress"),
        "{hint}"
    );
}

pub fn pickup_by_id_refuses_a_task_held_by_another_agent(api: &dyn Api) {
    let t = add(api, task("x"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let e = api
        .pickup(
            "codex",
            &PickupRequest {
                id: Some(t.id),
                ..PickupRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "task_claimed");
    assert!(e.to_string().contains("held by claude"), "{e}");
}

pub fn pickup_with_capability_takes_only_matching_tasks(api: &dyn Api) {
    add(api, task("plain"));
    add(
        api,
        NewTask {
            capabilities: vec!["frontend".into()],
            ..task("ui")
        },
    );
    let p = api
        .pickup(
            "a",
            &PickupRequest {
                capability: Some("frontend".into()),
                ..PickupRequest::default()
            },
        )
        .unwrap();
    assert_eq!(p.task.title, "ui");
    let e = api
        .pickup(
            "a",
            &PickupRequest {
                capability: Some("frontend".into()),
                ..PickupRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "no_task_ready");
}

pub fn an_agent_may_hold_several_tasks_and_mine_lists_them(api: &dyn Api) {
    add(api, task("a"));
    add(api, task("b"));
    add(api, task("c"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    api.pickup("claude", &PickupRequest::default()).unwrap();
    api.pickup("codex", &PickupRequest::default()).unwrap();
    let mine: Vec<TaskId> = api.mine("claude").unwrap().iter().map(|t| t.id).collect();
    assert_eq!(mine, vec![TaskId(1), TaskId(2)]);
    let agents = api.agents().unwrap();
    let claude = agents.iter().find(|a| a.name == "claude").unwrap();
    assert_eq!(claude.holding, vec![TaskId(1), TaskId(2)]);
    assert!(agents.iter().any(|a| a.name == "codex"));
}

pub fn only_the_holder_can_finish_and_a_stale_fence_is_refused(api: &dyn Api) {
    let t = add(api, task("x"));
    let claim = api
        .pickup("claude", &PickupRequest::default())
        .unwrap()
        .claim;
    let e = api.done("codex", t.id, DoneRequest::default()).unwrap_err();
    assert_eq!(e.code(), "not_holder");
    let e = api
        .done(
            "claude",
            t.id,
            DoneRequest {
                fence: Some(claim.fence + 1),
                ..DoneRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "stale_claim");
    // Refused writes changed nothing.
    assert_eq!(api.get_task(t.id).unwrap().status, Status::InProgress);
    let done = api
        .done(
            "claude",
            t.id,
            DoneRequest {
                summary: None,
                notes: Some("shipped".into()),
                fence: Some(claim.fence),
            },
        )
        .unwrap();
    assert_eq!(done.status, Status::Review);
    assert_eq!(done.notes.last().unwrap().text, "shipped");
    assert_eq!(done.notes.last().unwrap().author, "claude");
}

pub fn full_lifecycle_is_recorded_in_order(api: &dyn Api) {
    let t = add(api, task("x"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    api.done("claude", t.id, DoneRequest::default()).unwrap();
    let done = api.approve("reviewer", t.id, Some("lgtm".into())).unwrap();
    assert_eq!(done.status, Status::Done);
    assert!(done.completed_at.is_some());
    assert_eq!(
        actions_of(api, t.id),
        vec![
            "task.created",
            "task.picked_up",
            "task.done",
            "task.approved"
        ]
    );
    let e = api.approve("reviewer", t.id, None).unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
}

pub fn reject_returns_work_to_its_holder_or_to_the_queue(api: &dyn Api) {
    let t = add(api, task("x"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    api.done("claude", t.id, DoneRequest::default()).unwrap();
    let back = api
        .reject(
            "reviewer",
            t.id,
            RejectRequest {
                feedback: "tests missing".into(),
                to: None,
            },
        )
        .unwrap();
    assert_eq!(back.status, Status::InProgress);
    assert_eq!(back.assignee.as_deref(), Some("claude"));
    assert!(back.notes.last().unwrap().text.contains("tests missing"));
    api.done("claude", t.id, DoneRequest::default()).unwrap();
    let reopened = api
        .reject(
            "reviewer",
            t.id,
            RejectRequest {
                feedback: "start over".into(),
                to: Some(Status::Open),
            },
        )
        .unwrap();
    assert_eq!(reopened.status, Status::Open);
    assert_eq!(reopened.assignee, None);
    let e = api
        .reject(
            "reviewer",
            t.id,
            RejectRequest {
                feedback: "x".into(),
                to: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
}

pub fn block_needs_a_reason_and_unblock_returns_to_the_queue(api: &dyn Api) {
    let t = add(api, task("x"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let e = api
        .block(
            "claude",
            t.id,
            BlockRequest {
                reason: " ".into(),
                fence: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let blocked = api
        .block(
            "claude",
            t.id,
            BlockRequest {
                reason: "needs API key".into(),
                fence: None,
            },
        )
        .unwrap();
    assert_eq!(blocked.status, Status::Blocked);
    assert_eq!(blocked.assignee, None);
    let board = api.board().unwrap();
    assert_eq!(board.blocked.len(), 1);
    assert_eq!(board.blocked[0].reason.as_deref(), Some("needs API key"));
    assert_eq!(
        code(api.pickup("a", &PickupRequest::default()).unwrap_err()),
        "no_task_ready"
    );
    let open = api.unblock("lead", t.id).unwrap();
    assert_eq!(open.status, Status::Open);
    assert_eq!(open.blocked_reason, None);
    assert_eq!(
        code(api.unblock("lead", t.id).unwrap_err()),
        "invalid_transition"
    );
}

pub fn a_dependency_cycle_is_refused_and_named(api: &dyn Api) {
    add(api, task("a"));
    add(api, with_deps("b", &["T-1"]));
    add(api, with_deps("c", &["T-2"]));
    let e = api
        .update_task(
            "lead",
            TaskId(1),
            TaskPatch {
                depends_on: Some(vec![TaskId(3)]),
                ..TaskPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "dependency_cycle");
    assert_eq!(e.to_string(), "dependency cycle: T-1 -> T-3 -> T-2 -> T-1");
    assert_eq!(api.get_task(TaskId(1)).unwrap().depends_on, vec![]);
    let e = api
        .update_task(
            "lead",
            TaskId(1),
            TaskPatch {
                depends_on: Some(vec![TaskId(1)]),
                ..TaskPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "dependency_cycle");
}

pub fn a_batch_links_its_own_tasks_by_key(api: &dyn Api) {
    add(api, task("existing"));
    let batch = vec![
        NewTask {
            key: Some("api".into()),
            ..task("api")
        },
        NewTask {
            key: Some("ui".into()),
            ..with_deps("ui", &["api", "T-1"])
        },
        with_deps("docs", &["ui"]),
    ];
    let created = api.add_tasks("lead", batch).unwrap();
    let ids: Vec<TaskId> = created.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![TaskId(2), TaskId(3), TaskId(4)]);
    assert_eq!(created[1].depends_on, vec![TaskId(2), TaskId(1)]);
    assert_eq!(created[1].status, Status::Backlog);
    assert_eq!(created[2].depends_on, vec![TaskId(3)]);
}

pub fn a_batch_is_all_or_nothing(api: &dyn Api) {
    add(api, task("existing"));
    let bad = vec![task("a"), task("b"), with_deps("c", &["T-77"])];
    let e = api.add_tasks("lead", bad).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("T-77"), "{e}");
    let cyclic = vec![
        NewTask {
            key: Some("a".into()),
            ..with_deps("a", &["b"])
        },
        NewTask {
            key: Some("b".into()),
            ..with_deps("b", &["a"])
        },
    ];
    assert_eq!(
        api.add_tasks("lead", cyclic).unwrap_err().code(),
        "dependency_cycle"
    );
    let all = api.list_tasks(&TaskFilter::default()).unwrap();
    assert_eq!(all.len(), 1, "nothing of the refused batches was written");
    // Refused batches consumed no ids.
    assert_eq!(add(api, task("next")).id, TaskId(2));
}

pub fn delete_is_soft_recorded_and_frees_dependents(api: &dyn Api) {
    let a = add(api, task("a"));
    let b = add(api, with_deps("b", &["T-1"]));
    let deleted = api
        .delete(
            "lead",
            a.id,
            DeleteRequest {
                reason: Some("duplicate".into()),
                force: false,
            },
        )
        .unwrap();
    assert!(deleted.deleted_at.is_some());
    assert_eq!(api.list_tasks(&TaskFilter::default()).unwrap().len(), 1);
    let all = api
        .list_tasks(&TaskFilter {
            include_deleted: true,
            ..TaskFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);
    assert!(api.get_task(a.id).unwrap().deleted_at.is_some());
    assert_eq!(api.get_task(b.id).unwrap().status, Status::Open);
    assert_eq!(actions_of(api, a.id), vec!["task.created", "task.deleted"]);
    assert_eq!(
        api.note(
            "lead",
            a.id,
            NoteRequest {
                text: "x".into(),
                fence: None
            }
        )
        .unwrap_err()
        .code(),
        "task_deleted"
    );
}

pub fn deleting_a_held_task_needs_force(api: &dyn Api) {
    let a = add(api, task("a"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let e = api
        .delete("lead", a.id, DeleteRequest::default())
        .unwrap_err();
    assert_eq!(e.code(), "task_claimed");
    api.delete(
        "lead",
        a.id,
        DeleteRequest {
            reason: None,
            force: true,
        },
    )
    .unwrap();
    assert!(api.mine("claude").unwrap().is_empty());
}

pub fn update_records_only_changed_fields(api: &dyn Api) {
    let t = add(api, task("x"));
    let updated = api
        .update_task(
            "lead",
            t.id,
            TaskPatch {
                title: Some("x".into()),
                priority: Some(Priority::P0),
                epic: Some("auth".into()),
                files: Some(vec!["src/auth/**".into()]),
                ..TaskPatch::default()
            },
        )
        .unwrap();
    assert_eq!(updated.priority, Priority::P0);
    assert_eq!(updated.epic.as_deref(), Some("auth"));
    let events = api
        .events(&EventQuery {
            task: Some(t.id),
            action: Some("task.updated".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(events.len(), 1);
    let changes = events[0].detail["changes"].as_object().unwrap();
    let mut fields: Vec<&str> = changes.keys().map(|k| k.as_str()).collect();
    fields.sort();
    assert_eq!(fields, vec!["epic", "files", "priority"]);
    assert_eq!(changes["priority"]["from"], "P1");
    // The same values again: nothing changes, nothing is recorded.
    api.update_task(
        "lead",
        t.id,
        TaskPatch {
            priority: Some(Priority::P0),
            ..TaskPatch::default()
        },
    )
    .unwrap();
    assert_eq!(actions_of(api, t.id).len(), 2);
}

pub fn status_moves_follow_the_lifecycle(api: &dyn Api) {
    let t = add(api, task("x"));
    let move_to = |to| {
        api.update_task(
            "lead",
            t.id,
            TaskPatch {
                status: Some(to),
                ..TaskPatch::default()
            },
        )
    };
    let e = move_to(Status::InProgress).unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    assert!(
        e.hint().unwrap().contains("pickup --id T-1"),
        "{:?}",
        e.hint()
    );
    assert_eq!(
        move_to(Status::Done).unwrap_err().code(),
        "invalid_transition"
    );
    assert_eq!(move_to(Status::Backlog).unwrap().status, Status::Backlog);
    assert_eq!(move_to(Status::Open).unwrap().status, Status::Open);
    // A person may move finished work to review; dependents open.
    let dep = add(api, with_deps("y", &["T-1"]));
    api.pickup(
        "a",
        &PickupRequest {
            id: Some(t.id),
            ..PickupRequest::default()
        },
    )
    .unwrap();
    assert_eq!(move_to(Status::Review).unwrap().status, Status::Review);
    assert_eq!(api.get_task(dep.id).unwrap().status, Status::Open);
}

pub fn list_filters_narrow_the_result(api: &dyn Api) {
    api.add_tasks(
        "lead",
        vec![
            NewTask {
                epic: Some("auth".into()),
                priority: Some(Priority::P0),
                description: Some("JWT refresh tokens".into()),
                ..task("Auth API")
            },
            NewTask {
                epic: Some("ui".into()),
                ..task("Login page")
            },
            NewTask {
                epic: Some("auth".into()),
                ..task("Password reset")
            },
        ],
    )
    .unwrap();
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let titles = |f: TaskFilter| -> Vec<String> {
        api.list_tasks(&f)
            .unwrap()
            .into_iter()
            .map(|t| t.title)
            .collect()
    };
    assert_eq!(
        titles(TaskFilter {
            epic: Some("auth".into()),
            ..TaskFilter::default()
        }),
        vec!["Auth API", "Password reset"]
    );
    assert_eq!(
        titles(TaskFilter {
            status: vec![Status::InProgress],
            ..TaskFilter::default()
        }),
        vec!["Auth API"]
    );
    assert_eq!(
        titles(TaskFilter {
            assignee: Some("claude".into()),
            ..TaskFilter::default()
        }),
        vec!["Auth API"]
    );
    assert_eq!(
        titles(TaskFilter {
            priority: Some(Priority::P1),
            ..TaskFilter::default()
        }),
        vec!["Login page", "Password reset"]
    );
    assert_eq!(
        titles(TaskFilter {
            text: Some("jwt".into()),
            ..TaskFilter::default()
        }),
        vec!["Auth API"]
    );
    assert_eq!(
        titles(TaskFilter {
            text: Some("100%".into()),
            ..TaskFilter::default()
        }),
        Vec::<String>::new()
    );
    assert_eq!(
        titles(TaskFilter {
            limit: Some(2),
            ..TaskFilter::default()
        })
        .len(),
        2
    );
    assert_eq!(
        titles(TaskFilter {
            limit: Some(0),
            ..TaskFilter::default()
        })
        .len(),
        3
    );
}

pub fn board_summary_counts_and_shows_who_holds_what(api: &dyn Api) {
    add(api, task("a"));
    add(api, task("b"));
    add(api, with_deps("c", &["T-1"]));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let board = api.board().unwrap();
    assert_eq!(board.total, 3);
    assert_eq!(board.counts.in_progress, 1);
    assert_eq!(board.counts.open, 1);
    assert_eq!(board.counts.backlog, 1);
    assert_eq!(board.ready, 1);
    let claude = board.agents.iter().find(|a| a.name == "claude").unwrap();
    assert_eq!(claude.holding, vec![TaskId(1)]);
    assert!(board.stale_leases.is_empty());
}

pub fn events_can_be_filtered(api: &dyn Api) {
    add(api, task("a"));
    add(api, task("b"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let all = api.events(&EventQuery::default()).unwrap();
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    let by = |q: EventQuery| -> Vec<String> {
        api.events(&q)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    };
    assert_eq!(
        by(EventQuery {
            actor: Some("claude".into()),
            ..EventQuery::default()
        }),
        vec!["task.picked_up"]
    );
    assert_eq!(
        by(EventQuery {
            action: Some("task.".into()),
            ..EventQuery::default()
        })
        .len(),
        3
    );
    assert_eq!(
        by(EventQuery {
            action: Some("task.created".into()),
            ..EventQuery::default()
        })
        .len(),
        2
    );
    let newest = api
        .events(&EventQuery {
            limit: Some(2),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[1].action, "task.picked_up");
    let after = api
        .events(&EventQuery {
            after_id: Some(newest[0].id),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(after.len(), 1);
    // Following pages forward: the oldest events after the id come first.
    let page = api
        .events(&EventQuery {
            after_id: Some(0),
            limit: Some(2),
            ..EventQuery::default()
        })
        .unwrap();
    let all = api.events(&EventQuery::default()).unwrap();
    assert_eq!(
        page.iter().map(|e| e.id).collect::<Vec<_>>(),
        all.iter().take(2).map(|e| e.id).collect::<Vec<_>>()
    );
    let future = crate::time::Timestamp::now().plus(std::time::Duration::from_secs(3600));
    assert!(api
        .events(&EventQuery {
            since: Some(future),
            ..EventQuery::default()
        })
        .unwrap()
        .is_empty());
}

pub fn notes_keep_author_and_order(api: &dyn Api) {
    let t = add(api, task("x"));
    api.note(
        "claude",
        t.id,
        NoteRequest {
            text: "first".into(),
            fence: None,
        },
    )
    .unwrap();
    let t = api
        .note(
            "codex",
            t.id,
            NoteRequest {
                text: "second".into(),
                fence: None,
            },
        )
        .unwrap();
    let notes: Vec<(&str, &str)> = t
        .notes
        .iter()
        .map(|n| (n.author.as_str(), n.text.as_str()))
        .collect();
    assert_eq!(notes, vec![("claude", "first"), ("codex", "second")]);
    assert_eq!(api.get_task(t.id).unwrap().notes.len(), 2);
}

pub fn missing_identity_is_a_clear_error(api: &dyn Api) {
    add(api, task("x"));
    let e = api.pickup("", &PickupRequest::default()).unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.hint().unwrap().contains("BATON_AGENT"));
}

// ---- leases, fencing, reservations -------------------------------------------------------

fn minutes(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(60 * n)
}

fn reserve(
    api: &dyn Api,
    agent: &str,
    globs: &[&str],
    mode: ReservationMode,
) -> crate::Result<Vec<Reservation>> {
    api.reserve(
        agent,
        ReserveRequest {
            globs: globs.iter().map(|g| g.to_string()).collect(),
            mode,
            ttl: None,
            reason: None,
            task: None,
        },
    )
}

fn with_files(title: &str, files: &[&str]) -> NewTask {
    NewTask {
        files: files.iter().map(|f| f.to_string()).collect(),
        ..task(title)
    }
}

/// A holder that lost its task hears what happened, once, from its next heartbeat or
/// `lost_tasks`, and a late `done` says how it was lost rather than only the state.
pub fn a_holder_is_told_how_it_lost_each_task(f: &dyn ApiFixture) {
    let api = f.api();
    for title in [
        "expires",
        "taken back",
        "rejected",
        "returned",
        "blocked",
        "own",
    ] {
        add(api, task(title));
    }
    let claim = |id: u64| {
        api.pickup(
            "claude",
            &PickupRequest {
                id: Some(TaskId(id)),
                ..PickupRequest::default()
            },
        )
        .unwrap()
        .claim
    };
    let first = claim(1);
    f.advance(minutes(31));
    let beat = api
        .heartbeat("claude", &HeartbeatRequest::default())
        .unwrap();
    assert_eq!(beat.lost.len(), 1, "{:?}", beat.lost);
    let lost = &beat.lost[0];
    assert_eq!(
        (lost.task, lost.reason.as_str()),
        (TaskId(1), "lease_expired")
    );
    assert_eq!((lost.status, lost.fence), (Status::Open, first.fence));
    assert!(
        lost.message.contains("its lease expired at"),
        "{}",
        lost.message
    );
    assert!(lost.hint.contains("pickup --id T-1"), "{}", lost.hint);
    // Told once.
    let again = api
        .heartbeat("claude", &HeartbeatRequest::default())
        .unwrap();
    assert!(again.lost.is_empty());
    // Someone else took it meanwhile: done says so, with the new holder.
    api.pickup("codex", &PickupRequest::default()).unwrap();
    let e = api
        .done(
            "claude",
            TaskId(1),
            DoneRequest {
                fence: Some(first.fence),
                ..DoneRequest::default()
            },
        )
        .unwrap_err();
    // The code callers act on stays; the message tells the story.
    assert_eq!(e.code(), "stale_claim");
    assert!(e.to_string().contains("you no longer hold T-1"), "{e}");
    assert!(e.to_string().contains("codex holds it now"), "{e}");

    // A person takes one back, a reviewer rejects one to the queue and one back to its
    // holder, and someone blocks one.
    claim(2);
    api.update_task(
        HUMAN,
        TaskId(2),
        TaskPatch {
            status: Some(Status::Open),
            ..TaskPatch::default()
        },
    )
    .unwrap();
    for id in [3, 4] {
        let c = claim(id);
        api.done(
            "claude",
            TaskId(id),
            DoneRequest {
                fence: Some(c.fence),
                ..DoneRequest::default()
            },
        )
        .unwrap();
    }
    api.reject(
        "reviewer",
        TaskId(3),
        RejectRequest {
            feedback: "tests fail".into(),
            to: Some(Status::Open),
        },
    )
    .unwrap();
    api.reject(
        "reviewer",
        TaskId(4),
        RejectRequest {
            feedback: "missing docs".into(),
            to: None,
        },
    )
    .unwrap();
    claim(5);
    api.block(
        "lead",
        TaskId(5),
        BlockRequest {
            reason: "waits for the API key".into(),
            ..BlockRequest::default()
        },
    )
    .unwrap();
    // Its own block is not news.
    claim(6);
    api.block(
        "claude",
        TaskId(6),
        BlockRequest {
            reason: "stuck".into(),
            ..BlockRequest::default()
        },
    )
    .unwrap();
    let lost = api.lost_tasks("claude").unwrap();
    let seen: Vec<(u64, &str, Status, Option<&str>, &str)> = lost
        .iter()
        .map(|l| {
            (
                l.task.number(),
                l.reason.as_str(),
                l.status,
                l.feedback.as_deref(),
                l.by.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (2, "moved", Status::Open, None, HUMAN),
            (3, "rejected", Status::Open, Some("tests fail"), "reviewer"),
            (
                4,
                "returned",
                Status::InProgress,
                Some("missing docs"),
                "reviewer"
            ),
            (
                5,
                "blocked",
                Status::Blocked,
                Some("waits for the API key"),
                "lead"
            ),
        ]
    );
    assert!(lost[2].hint.contains("done T-4"), "{}", lost[2].hint);
    assert!(api.lost_tasks("claude").unwrap().is_empty());
    // A late done on a task taken back names who and when; on one returned it works.
    let e = api
        .done("claude", TaskId(2), DoneRequest::default())
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    assert!(e.to_string().contains("human moved it to open at"), "{e}");
    api.done("claude", TaskId(4), DoneRequest::default())
        .unwrap();
    // Claimed again: an ordinary refusal is not dressed up as a loss.
    let c = claim(2);
    api.done(
        "claude",
        TaskId(2),
        DoneRequest {
            fence: Some(c.fence),
            ..DoneRequest::default()
        },
    )
    .unwrap();
    let e = api
        .done("claude", TaskId(2), DoneRequest::default())
        .unwrap_err();
    assert!(!e.to_string().contains("no longer hold"), "{e}");
}

pub fn an_expired_lease_returns_the_task_to_open_with_a_retry(f: &dyn ApiFixture) {
    let api = f.api();
    add(api, with_files("x", &["src/auth/**"]));
    let claim = api
        .pickup("claude", &PickupRequest::default())
        .unwrap()
        .claim;
    assert_eq!(
        api.reservations(&ReservationFilter::default())
            .unwrap()
            .len(),
        1
    );
    f.advance(minutes(31));
    let t = api.get_task(TaskId(1)).unwrap();
    assert_eq!(t.status, Status::Open);
    assert_eq!(t.retry_count, 1);
    assert_eq!(t.assignee, None);
    assert!(
        api.reservations(&ReservationFilter::default())
            .unwrap()
            .is_empty(),
        "surface released"
    );
    let expired = api
        .events(&EventQuery {
            action: Some("task.lease_expired".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].detail["held_by"], "claude");
    // The zombie's late writes are refused; the new holder's work goes on.
    let next = api.pickup("codex", &PickupRequest::default()).unwrap();
    assert_eq!(next.claim.fence, claim.fence + 1);
    let e = api
        .done(
            "claude",
            TaskId(1),
            DoneRequest {
                summary: None,
                notes: None,
                fence: Some(claim.fence),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "stale_claim");
    assert!(e.to_string().contains("codex holds it now"), "{e}");
    api.done(
        "codex",
        TaskId(1),
        DoneRequest {
            summary: None,
            notes: None,
            fence: Some(next.claim.fence),
        },
    )
    .unwrap();
}

pub fn a_task_whose_lease_keeps_expiring_is_blocked(f: &dyn ApiFixture) {
    let api = f.api();
    api.set_setting("lead", "max_retries", "2").unwrap();
    add(api, task("flaky"));
    for round in 1..=2 {
        api.pickup("claude", &PickupRequest::default()).unwrap();
        f.advance(minutes(31));
        let t = api.get_task(TaskId(1)).unwrap();
        assert_eq!(t.retry_count, round);
        let expected = if round < 2 {
            Status::Open
        } else {
            Status::Blocked
        };
        assert_eq!(t.status, expected, "after {round} expiries");
    }
    let board = api.board().unwrap();
    assert!(board.blocked[0]
        .reason
        .as_deref()
        .unwrap()
        .contains("lease expired 2 times"));
}

pub fn a_waiting_task_names_the_dependencies_it_waits_for(f: &dyn ApiFixture) {
    let api = f.api();
    add(api, task("schema"));
    add(api, task("parser"));
    let t = add(api, with_deps("migrate", &["T-1", "T-2"]));
    assert_eq!(t.status, Status::Backlog);
    assert_eq!(t.waiting_on, [TaskId(1), TaskId(2)]);
    let claim = api.pickup(
        "claude",
        &PickupRequest {
            id: Some(TaskId(1)),
            ..Default::default()
        },
    );
    api.done(
        "claude",
        TaskId(1),
        DoneRequest {
            summary: None,
            notes: None,
            fence: Some(claim.unwrap().claim.fence),
        },
    )
    .unwrap();
    let t = api.get_task(TaskId(3)).unwrap();
    assert_eq!(t.waiting_on, [TaskId(2)], "T-1 in review satisfies it");
    assert!(!t.deps_met);
    let listed = api.list_tasks(&TaskFilter::default()).unwrap();
    assert_eq!(listed[2].waiting_on, [TaskId(2)]);
    assert!(listed[0].waiting_on.is_empty());
}

/// An agent is stale by its leases, not by a fixed silence: working while its soonest lease
/// has half its term or more left, stale below that; one that holds nothing is idle for a
/// lease term, then away.
pub fn an_agent_is_stale_by_its_lease_not_by_a_fixed_silence(f: &dyn ApiFixture) {
    use crate::model::AgentState;
    let api = f.api();
    api.set_setting("lead", "lease_ttl", "30m").unwrap();
    add(api, task("long job"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let state = |name: &str| {
        let agents = api.agents().unwrap();
        let a = agents.iter().find(|a| a.name == name).unwrap();
        (a.state, a.lease_expires_at.is_some())
    };
    assert_eq!(state("claude"), (AgentState::Working, true));
    f.advance(minutes(12));
    // Silent for 12 minutes with 18 left on its lease: still working.
    assert_eq!(state("claude"), (AgentState::Working, true));
    assert_eq!(
        api.board()
            .unwrap()
            .agents
            .iter()
            .find(|a| a.name == "claude")
            .unwrap()
            .state,
        AgentState::Working
    );
    f.advance(minutes(4));
    assert_eq!(state("claude"), (AgentState::Stale, true));
    api.heartbeat("claude", &HeartbeatRequest::default())
        .unwrap();
    assert_eq!(state("claude"), (AgentState::Working, true));
    // The lead only touched the board: idle, then away after a lease term.
    assert_eq!(state("lead"), (AgentState::Idle, false));
    f.advance(minutes(31));
    assert_eq!(state("lead"), (AgentState::Away, false));
}

pub fn the_holder_keeps_its_lease_alive_by_working(f: &dyn ApiFixture) {
    let api = f.api();
    api.set_setting("lead", "lease_ttl", "10m").unwrap();
    add(api, task("long job"));
    add(api, task("other"));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    for _ in 0..4 {
        f.advance(minutes(6));
        // Any mutation by the holder renews its lease once half of it is gone.
        api.note(
            "claude",
            TaskId(2),
            NoteRequest {
                text: "progress".into(),
                fence: None,
            },
        )
        .unwrap();
    }
    assert_eq!(api.get_task(TaskId(1)).unwrap().status, Status::InProgress);
    f.advance(minutes(6));
    let beat = api
        .heartbeat("claude", &HeartbeatRequest::default())
        .unwrap();
    assert_eq!(beat.tasks.len(), 1);
    f.advance(minutes(9));
    assert_eq!(api.get_task(TaskId(1)).unwrap().status, Status::InProgress);
    f.advance(minutes(2));
    assert_eq!(
        api.get_task(TaskId(1)).unwrap().status,
        Status::Open,
        "silence lets it expire"
    );
    let e = api
        .heartbeat(
            "claude",
            &HeartbeatRequest {
                task: Some(TaskId(1)),
                fence: Some(1),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "not_holder");
}

pub fn pickup_reserves_the_surface_and_done_releases_it(f: &dyn ApiFixture) {
    let api = f.api();
    add(api, with_files("auth", &["src/auth/**", "Cargo.toml"]));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let held = api
        .check_paths(&["src/auth/session.rs".into(), "README.md".into()])
        .unwrap();
    assert_eq!(held[0].reservations[0].agent, "claude");
    assert_eq!(held[0].reservations[0].task, Some(TaskId(1)));
    assert!(held[1].reservations.is_empty());
    let e = reserve(api, "codex", &["src/**"], ReservationMode::Shared).unwrap_err();
    assert_eq!(e.code(), "reservation_conflict");
    assert!(e.to_string().contains("held by claude"), "{e}");
    // Changing the surface of a task in progress moves its reservations.
    let files = |f: &[&str]| TaskPatch {
        files: Some(f.iter().map(|s| s.to_string()).collect()),
        ..TaskPatch::default()
    };
    api.update_task("lead", TaskId(1), files(&["lib/**"]))
        .unwrap();
    let held = api
        .check_paths(&["src/auth/session.rs".into(), "lib/x.rs".into()])
        .unwrap();
    assert!(held[0].reservations.is_empty());
    assert_eq!(held[1].reservations[0].agent, "claude");
    reserve(api, "codex", &["docs/**"], ReservationMode::Exclusive).unwrap();
    let e = api
        .update_task("lead", TaskId(1), files(&["docs/a.md"]))
        .unwrap_err();
    assert_eq!(e.code(), "reservation_conflict");
    api.done("claude", TaskId(1), DoneRequest::default())
        .unwrap();
    let left = api
        .reservations(&ReservationFilter {
            agent: Some("claude".into()),
            path: None,
        })
        .unwrap();
    assert!(left.is_empty(), "done released the surface");
    reserve(api, "codex", &["src/**"], ReservationMode::Shared).unwrap();
}

pub fn moving_a_claimed_task_out_of_progress_releases_its_files(f: &dyn ApiFixture) {
    let api = f.api();
    add(api, with_files("a", &["src/a/**"]));
    add(api, with_files("b", &["src/b/**"]));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    api.pickup("claude", &PickupRequest::default()).unwrap();
    let to = |status| TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };
    api.update_task("lead", TaskId(1), to(Status::Open))
        .unwrap();
    api.update_task("lead", TaskId(2), to(Status::Review))
        .unwrap();
    assert!(api
        .reservations(&ReservationFilter::default())
        .unwrap()
        .is_empty());
    reserve(api, "codex", &["src/**"], ReservationMode::Exclusive).unwrap();
}

pub fn pickup_skips_a_task_whose_files_another_agent_reserved(f: &dyn ApiFixture) {
    let api = f.api();
    add(
        api,
        NewTask {
            priority: Some(Priority::P0),
            ..with_files("auth", &["src/auth/**"])
        },
    );
    add(api, with_files("billing", &["src/billing/**"]));
    reserve(
        api,
        "codex",
        &["src/auth/session.rs"],
        ReservationMode::Exclusive,
    )
    .unwrap();
    let p = api
        .pickup(
            "claude",
            &PickupRequest {
                explain: true,
                ..PickupRequest::default()
            },
        )
        .unwrap();
    assert_eq!(
        p.task.title, "billing",
        "the urgent task's files are reserved"
    );
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].id, TaskId(1));
    assert!(
        p.skipped[0].reason.contains("codex"),
        "{}",
        p.skipped[0].reason
    );
    let e = api.pickup("gemini", &PickupRequest::default()).unwrap_err();
    assert_eq!(e.code(), "no_task_ready");
    assert!(e.hint().unwrap().contains("reserved"), "{:?}", e.hint());
    let e = api
        .pickup(
            "gemini",
            &PickupRequest {
                id: Some(TaskId(1)),
                ..PickupRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "reservation_conflict");
    // The holder of the reservation may take the task itself.
    let p = api.pickup("codex", &PickupRequest::default()).unwrap();
    assert_eq!(p.task.id, TaskId(1));
}

pub fn pickup_looks_past_many_pages_of_reserved_tasks(f: &dyn ApiFixture) {
    let api = f.api();
    let busy: Vec<NewTask> = (0..10)
        .map(|i| NewTask {
            priority: Some(Priority::P0),
            ..with_files(&format!("busy {i}"), &[&format!("busy/{i}/**")])
        })
        .collect();
    api.add_tasks("lead", busy).unwrap();
    add(
        api,
        NewTask {
            priority: Some(Priority::P2),
            ..with_files("free", &["free/**"])
        },
    );
    reserve(api, "codex", &["busy/**"], ReservationMode::Exclusive).unwrap();
    let p = api
        .pickup(
            "claude",
            &PickupRequest {
                explain: true,
                ..PickupRequest::default()
            },
        )
        .unwrap();
    assert_eq!(p.task.title, "free");
    assert_eq!(p.skipped.len(), 10);
    assert_eq!(
        api.pickup("claude", &PickupRequest::default())
            .unwrap_err()
            .code(),
        "no_task_ready"
    );
}

pub fn reservation_conflicts_follow_the_mode(f: &dyn ApiFixture) {
    use ReservationMode::{Exclusive, Shared};
    let api = f.api();
    reserve(api, "a", &["docs/**"], Shared).unwrap();
    reserve(api, "b", &["docs/*.md"], Shared).unwrap();
    assert_eq!(
        reserve(api, "c", &["docs/api.md"], Exclusive)
            .unwrap_err()
            .code(),
        "reservation_conflict"
    );
    reserve(api, "a", &["docs/api.md"], Exclusive).unwrap_err();
    reserve(api, "c", &["src/**"], Exclusive).unwrap();
    assert_eq!(
        reserve(api, "d", &["src/main.rs"], Shared)
            .unwrap_err()
            .code(),
        "reservation_conflict"
    );
    // An agent never conflicts with itself; reserving a glob again replaces it.
    reserve(api, "c", &["src/main.rs"], Exclusive).unwrap();
    reserve(api, "c", &["src/**"], Shared).unwrap();
    let mine = api
        .reservations(&ReservationFilter {
            agent: Some("c".into()),
            path: None,
        })
        .unwrap();
    assert_eq!(mine.len(), 2);
    // All or nothing: one conflicting glob refuses the whole request.
    let e = reserve(api, "d", &["tests/**", "src/lib.rs"], Exclusive).unwrap_err();
    assert!(e.to_string().contains("src/lib.rs"), "{e}");
    assert!(api
        .reservations(&ReservationFilter {
            agent: Some("d".into()),
            path: None
        })
        .unwrap()
        .is_empty());
    assert_eq!(
        reserve(api, "d", &["src/[oops"], Exclusive)
            .unwrap_err()
            .code(),
        "invalid_input"
    );
}

pub fn released_and_expired_reservations_hold_nothing(f: &dyn ApiFixture) {
    let api = f.api();
    reserve(api, "a", &["src/**", "docs/**"], ReservationMode::Exclusive).unwrap();
    let gone = api
        .release(
            "a",
            ReleaseRequest {
                globs: vec!["src/**".into()],
                all: false,
                with_task_surfaces: false,
            },
        )
        .unwrap();
    assert_eq!(gone.len(), 1);
    reserve(api, "b", &["src/x.rs"], ReservationMode::Exclusive).unwrap();
    let e = api
        .release(
            "a",
            ReleaseRequest {
                globs: vec!["nope/**".into()],
                all: false,
                with_task_surfaces: false,
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "reservation_not_found");
    f.advance(minutes(31));
    reserve(api, "b", &["docs/**"], ReservationMode::Exclusive).unwrap();
    let by_path = api
        .reservations(&ReservationFilter {
            agent: None,
            path: Some("docs/guide.md".into()),
        })
        .unwrap();
    assert_eq!(by_path.len(), 1);
    assert_eq!(by_path[0].agent, "b");
    let all = api
        .release(
            "b",
            ReleaseRequest {
                globs: vec![],
                all: true,
                with_task_surfaces: false,
            },
        )
        .unwrap();
    assert_eq!(
        all.len(),
        1,
        "b's src/x.rs reservation expired with the clock"
    );
}

pub fn release_all_keeps_the_surface_of_held_tasks_unless_asked(f: &dyn ApiFixture) {
    let api = f.api();
    add(api, with_files("auth", &["src/auth/**"]));
    api.pickup("claude", &PickupRequest::default()).unwrap();
    reserve(api, "claude", &["docs/**"], ReservationMode::Exclusive).unwrap();
    let all = |with_task_surfaces| ReleaseRequest {
        globs: vec![],
        all: true,
        with_task_surfaces,
    };
    let gone = api.release("claude", all(false)).unwrap();
    assert_eq!(
        gone.iter().map(|r| r.glob.as_str()).collect::<Vec<_>>(),
        vec!["docs/**"]
    );
    let e = reserve(
        api,
        "codex",
        &["src/auth/login.rs"],
        ReservationMode::Exclusive,
    )
    .unwrap_err();
    assert_eq!(
        e.code(),
        "reservation_conflict",
        "the held task's files stay guarded"
    );
    let gone = api.release("claude", all(true)).unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].task, Some(TaskId(1)));
    reserve(
        api,
        "codex",
        &["src/auth/login.rs"],
        ReservationMode::Exclusive,
    )
    .unwrap();
}

pub fn settings_are_checked_and_recorded(f: &dyn ApiFixture) {
    let api = f.api();
    let defaults = api.settings().unwrap();
    assert!(defaults.iter().all(|s| s.default));
    assert_eq!(
        api.set_setting("lead", "lease_ttl", "90").unwrap().value,
        "90s"
    );
    assert_eq!(
        api.set_setting("lead", "lease_ttl", "2h").unwrap().value,
        "2h"
    );
    for (key, bad) in [
        ("lease_ttl", "0s"),
        ("lease_ttl", "soon"),
        ("max_retries", "0"),
        ("color", "blue"),
    ] {
        assert_eq!(
            api.set_setting("lead", key, bad).unwrap_err().code(),
            "invalid_input",
            "{key}={bad}"
        );
    }
    let recorded = api
        .events(&EventQuery {
            action: Some("config.updated".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(recorded.len(), 2);
    add(api, task("x"));
    let p = api.pickup("a", &PickupRequest::default()).unwrap();
    let lease_ms =
        p.task.lease_expires_at.unwrap().unix_millis() - p.task.started_at.unwrap().unix_millis();
    assert_eq!(lease_ms, 2 * 3600 * 1000);
}

pub fn an_edit_to_a_path_reserved_by_someone_else_is_a_violation(f: &dyn ApiFixture) {
    let api = f.api();
    reserve(api, "claude", &["src/auth/**"], ReservationMode::Exclusive).unwrap();
    let change = |path: &str| {
        vec![FileChange {
            path: path.into(),
            kind: "modified".into(),
            ..FileChange::default()
        }]
    };
    let by_holder = api.record_changes(None, &change("src/auth/a.rs")).unwrap();
    assert_eq!(by_holder[0].actor, "claude", "attributed to the holder");
    assert!(by_holder[0].violated.is_empty());
    let by_other = api
        .record_changes(Some("codex"), &change("src/auth/a.rs"))
        .unwrap();
    assert_eq!(by_other[0].violated.len(), 1);
    let free = api
        .record_changes(Some("codex"), &change("README.md"))
        .unwrap();
    assert!(free[0].violated.is_empty());
    let violations = api
        .events(&EventQuery {
            action: Some("reservation.violated".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].actor, "codex");
    assert_eq!(violations[0].detail["holder"], "claude");
    // The holder is told, once, by a message from the editor it can answer.
    let told = api.inbox("claude", &InboxRequest::default()).unwrap();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].from, "codex");
    assert!(
        told[0]
            .body
            .contains("src/auth/a.rs (modified, under your src/auth/**)"),
        "{}",
        told[0].body
    );

    // Moving a file out of the reserved place touches it too; the move, its content hash
    // and its duplicates are recorded.
    let hash = "AB".repeat(32);
    let moved = api
        .record_changes(
            Some("codex"),
            &[FileChange {
                path: "lib/a.rs".into(),
                kind: "renamed".into(),
                from: Some("./src/auth/a.rs".into()),
                sha256: Some(hash.clone()),
                duplicates: vec!["z/copy.rs".into(), "b/copy.rs".into(), "z/copy.rs".into()],
            }],
        )
        .unwrap();
    assert_eq!(moved[0].from.as_deref(), Some("src/auth/a.rs"));
    assert_eq!(
        moved[0].violated.len(),
        1,
        "the move took it out of src/auth"
    );
    assert_eq!(moved[0].duplicates, ["b/copy.rs", "z/copy.rs"]);
    let changed = api
        .events(&EventQuery {
            action: Some("file.changed".into()),
            ..EventQuery::default()
        })
        .unwrap();
    let last = &changed.last().unwrap().detail;
    assert_eq!(last["from"], "src/auth/a.rs");
    assert_eq!(last["sha256"], hash.to_lowercase());
    assert_eq!(last["duplicates"][1], "z/copy.rs");
    for bad in [
        FileChange {
            path: "x".into(),
            kind: "modified".into(),
            sha256: Some("not-a-hash".into()),
            ..FileChange::default()
        },
        FileChange {
            path: "x".into(),
            kind: "modified".into(),
            duplicates: vec!["d".into(); 101],
            ..FileChange::default()
        },
    ] {
        let e = api.record_changes(Some("codex"), &[bad]).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
    }
    assert_eq!(
        api.events(&EventQuery {
            action: Some("file.changed".into()),
            ..EventQuery::default()
        })
        .unwrap()
        .len(),
        changed.len(),
        "a refused change records nothing"
    );
}

pub fn the_guard_blocks_exclusive_reservations_of_others_and_reports_shared_ones(
    f: &dyn ApiFixture,
) {
    let api = f.api();
    reserve(api, "claude", &["src/auth/**"], ReservationMode::Exclusive).unwrap();
    reserve(api, "codex", &["docs/**"], ReservationMode::Shared).unwrap();
    let paths = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let e = api
        .guard(Some("codex"), &paths(&["src/auth/a.rs", "README.md"]))
        .unwrap_err();
    assert_eq!(e.code(), "reservation_conflict");
    assert!(
        e.to_string().contains("src/auth/a.rs") && e.to_string().contains("claude"),
        "{e}"
    );
    let own = api
        .guard(Some("claude"), &paths(&["src/auth/a.rs", "docs/x.md"]))
        .unwrap();
    assert_eq!(own.checked, 2);
    assert_eq!(
        own.shared.len(),
        1,
        "codex's shared reservation is reported"
    );
    assert_eq!(
        api.guard(None, &paths(&["src/auth/a.rs"]))
            .unwrap_err()
            .code(),
        "reservation_conflict"
    );
    assert_eq!(api.guard(None, &[]).unwrap().checked, 0);
}

/// Declares one `#[test]` per scenario; `$factory` is an expression giving a fresh `Api`.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            ids_are_sequential_and_creation_is_recorded,
            a_dry_run_checks_a_batch_and_writes_nothing,
            unknown_task_is_not_found,
            dependent_waits_in_backlog_until_dependency_reaches_review,
            pickup_takes_highest_priority_then_oldest,
            pickup_gives_a_claim_with_a_growing_fence,
            empty_board_reports_no_task_ready_with_a_hint,
            pickup_by_id_refuses_a_task_held_by_another_agent,
            pickup_with_capability_takes_only_matching_tasks,
            an_agent_may_hold_several_tasks_and_mine_lists_them,
            only_the_holder_can_finish_and_a_stale_fence_is_refused,
            full_lifecycle_is_recorded_in_order,
            reject_returns_work_to_its_holder_or_to_the_queue,
            block_needs_a_reason_and_unblock_returns_to_the_queue,
            a_dependency_cycle_is_refused_and_named,
            a_batch_links_its_own_tasks_by_key,
            a_batch_is_all_or_nothing,
            delete_is_soft_recorded_and_frees_dependents,
            deleting_a_held_task_needs_force,
            update_records_only_changed_fields,
            status_moves_follow_the_lifecycle,
            list_filters_narrow_the_result,
            board_summary_counts_and_shows_who_holds_what,
            events_can_be_filtered,
            notes_keep_author_and_order,
            missing_identity_is_a_clear_error,
            docs_keep_every_version_and_name_who_wrote_each,
            a_deleted_doc_stays_readable_but_leaves_listings_and_search,
            search_ranks_the_most_relevant_doc_first_with_a_snippet,
            a_doc_body_over_one_mebibyte_is_refused,
            docs_are_listed_by_type_tag_and_task,
            context_refs_must_name_docs_that_exist,
            a_question_to_a_task_reaches_its_holder_and_the_answer_comes_back,
            every_message_is_listed_whoever_it_is_between_and_listing_delivers_nothing,
            questions_to_any_reach_everyone_but_the_asker,
            a_question_to_a_name_nobody_used_is_kept_with_a_warning,
            asking_nobody_is_refused_with_a_way_out,
            an_import_keeps_numbers_and_times_and_a_second_import_adds_nothing,
            an_import_into_a_board_with_its_own_tasks_is_refused,
            the_board_summary_stays_small_on_a_large_board,
            a_run_is_recorded_before_its_process_and_ends_once,
            a_stop_is_a_request_the_runner_sees,
            a_retry_puts_a_blocked_task_back_and_keeps_its_session,
            a_run_log_is_cut_and_bounded,
            runs_are_listed_newest_first_by_status_task_and_host,
            accounts_keep_their_state_for_every_runner,
            a_phase_opens_only_when_approved_and_its_dependencies_are_completed,
            request_changes_adds_a_revision_task_holding_the_comments,
            phase_rules_refuse_cycles_strangers_and_wrong_moves,
            without_approval_phases_start_and_complete_on_their_own,
            archive_holds_an_initiative_and_pickup_filters_by_category_and_initiative,
            an_accepted_plan_proposal_creates_its_phases_and_tasks_at_once,
            approvals_queue_merges_up_the_chain_and_a_conflict_waits_for_its_merge_task,
            merge_reports_and_retries_follow_the_rules,
            errands_follow_their_lifecycle,
            log_entries_are_events_attributed_and_checked,
            sessions_carry_what_their_identity_writes,
            log_batches_are_written_whole_or_not_at_all,
            webhooks_follow_the_events_they_select_and_keep_their_secrets,
        );
        $crate::conformance_tests!(@fixture $factory;
            an_expired_lease_returns_the_task_to_open_with_a_retry,
            a_holder_is_told_how_it_lost_each_task,
            a_task_whose_lease_keeps_expiring_is_blocked,
            the_holder_keeps_its_lease_alive_by_working,
            an_agent_is_stale_by_its_lease_not_by_a_fixed_silence,
            a_waiting_task_names_the_dependencies_it_waits_for,
            pickup_reserves_the_surface_and_done_releases_it,
            moving_a_claimed_task_out_of_progress_releases_its_files,
            pickup_skips_a_task_whose_files_another_agent_reserved,
            pickup_looks_past_many_pages_of_reserved_tasks,
            reservation_conflicts_follow_the_mode,
            released_and_expired_reservations_hold_nothing,
            release_all_keeps_the_surface_of_held_tasks_unless_asked,
            settings_are_checked_and_recorded,
            an_edit_to_a_path_reserved_by_someone_else_is_a_violation,
            the_guard_blocks_exclusive_reservations_of_others_and_reports_shared_ones,
            kept_counts_match_a_recount_after_random_moves,
            a_lapsed_merge_claim_is_taken_again,
            errand_requests_are_taken_one_at_a_time_under_a_lease,
            retention_deletes_old_log_entries_and_ended_runs_output_only,
        );
    };
    (@fixture $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let fixture = $factory;
                $crate::conformance::$name(&fixture);
            }
        )*
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let fixture = $factory;
                $crate::conformance::$name($crate::conformance::ApiFixture::api(&fixture));
            }
        )*
    };
}
