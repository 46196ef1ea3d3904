//! The counts a store keeps as tasks change (by status, by holder) against a recount of
//! every task, after many random moves; and the board summary's size on a large board.

use std::collections::BTreeMap;

use super::{task, ApiFixture};
use crate::api::*;
use crate::model::{Note, Status, Task, BOARD_LIST_LIMIT};
use crate::time::Timestamp;
use crate::{Api, Priority, TaskId};

/// A small deterministic generator (xorshift64*): the same moves on every store.
struct Moves(u64);

impl Moves {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

const AGENTS: [&str; 4] = ["claude", "codex", "gemini", "cursor"];
const STATUSES: [Status; 6] = [
    Status::Backlog,
    Status::Open,
    Status::InProgress,
    Status::Review,
    Status::Done,
    Status::Blocked,
];

/// Compares the board summary (kept counts) with a count of every live task.
fn assert_counts_match_a_recount(api: &dyn Api, step: usize) {
    let tasks = api.list_tasks(&TaskFilter::default()).unwrap();
    let board = api.board().unwrap();
    let mut recount = crate::model::StatusCounts::zero();
    let mut held: BTreeMap<String, Vec<TaskId>> = BTreeMap::new();
    for t in &tasks {
        *recount.slot(t.status) += 1;
        if t.status == Status::InProgress {
            held.entry(t.assignee.clone().unwrap_or_default())
                .or_default()
                .push(t.id);
        }
    }
    assert_eq!(board.counts, recount, "after step {step}");
    assert_eq!(api.status_counts().unwrap(), recount, "after step {step}");
    assert_eq!(board.total, tasks.len() as u64, "after step {step}");
    let ready = tasks
        .iter()
        .filter(|t| t.status == Status::Open && t.deps_met)
        .count();
    assert_eq!(board.ready, ready as u64, "after step {step}");
    assert_eq!(board.blocked_total, recount.blocked, "after step {step}");
    let blocked: Vec<TaskId> = tasks
        .iter()
        .filter(|t| t.status == Status::Blocked)
        .map(|t| t.id)
        .take(BOARD_LIST_LIMIT)
        .collect();
    assert_eq!(
        board.blocked.iter().map(|b| b.id).collect::<Vec<_>>(),
        blocked,
        "after step {step}"
    );
    let agents = api.agents().unwrap();
    for a in &board.agents {
        let ids = held.get(&a.name).cloned().unwrap_or_default();
        assert_eq!(
            a.holding_total,
            ids.len() as u64,
            "{} after step {step}",
            a.name
        );
        assert!(
            a.holding.iter().all(|id| ids.contains(id)),
            "{} after step {step}",
            a.name
        );
        assert_eq!(
            a.holding.len(),
            ids.len().min(BOARD_LIST_LIMIT),
            "{} after step {step}",
            a.name
        );
        let full = agents.iter().find(|f| f.name == a.name).unwrap();
        assert_eq!(full.holding, ids, "{} after step {step}", a.name);
    }
}

fn held_task(n: u64, status: Status, assignee: Option<&str>) -> ImportedTask {
    let at = Timestamp::parse("2026-03-21T18:00:00Z").unwrap();
    ImportedTask {
        key: format!("k-{n}"),
        id: TaskId(n),
        title: format!("imported {n}"),
        description: String::new(),
        status,
        blocked_reason: (status == Status::Blocked).then(|| "waits".into()),
        priority: Priority::P1,
        assignee: assignee.map(str::to_string),
        epic: None,
        capabilities: Vec::new(),
        depends_on: Vec::new(),
        verify: None,
        acceptance_criteria: Vec::new(),
        context_refs: Vec::new(),
        notes: vec![Note {
            author: "lead".into(),
            at,
            text: "from the old board".into(),
        }],
        created_at: at,
        updated_at: at,
        started_at: None,
        completed_at: None,
    }
}

/// An imported board first (every status, some held), then random moves through every path
/// that changes a task's status, holder or deletion, and lease expiry; the kept counts
/// equal a recount after each move.
pub fn kept_counts_match_a_recount_after_random_moves(f: &dyn ApiFixture) {
    let api = f.api();
    let tasks = STATUSES
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let holder = matches!(s, Status::InProgress | Status::Review).then_some("codex");
            held_task(i as u64 + 1, *s, holder)
        })
        .chain([held_task(7, Status::InProgress, None)])
        .collect();
    api.import_board(
        "human",
        ImportedBoard {
            source: "tool:counts".into(),
            tasks,
            agents: Vec::new(),
            docs: Vec::new(),
            events: Vec::new(),
        },
    )
    .unwrap();
    assert_counts_match_a_recount(api, 0);

    let mut moves = Moves(0x9e37_79b9_7f4a_7c15);
    for step in 1..=160 {
        let all = api.list_tasks(&TaskFilter::default()).unwrap();
        let with =
            |s: Status| -> Vec<Task> { all.iter().filter(|t| t.status == s).cloned().collect() };
        let agent = AGENTS[moves.below(AGENTS.len())];
        // Refusals (nothing ready, a wrong move) are part of the walk: they change nothing.
        let _ = match moves.below(11) {
            0 | 1 => {
                let mut t = task(&format!("t{step}"));
                t.priority = Some([Priority::P0, Priority::P1, Priority::P2][moves.below(3)]);
                if let Some(dep) = moves.pick(&all).filter(|_| moves.below(3) == 0) {
                    t.depends_on = vec![dep.id.to_string()];
                }
                api.add_tasks("lead", vec![t]).map(|_| ())
            }
            2 | 3 => api.pickup(agent, &PickupRequest::default()).map(|_| ()),
            4 => match moves.pick(&with(Status::InProgress)) {
                Some(t) => api
                    .done(
                        t.assignee.as_deref().unwrap_or(agent),
                        t.id,
                        DoneRequest::default(),
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            5 => match moves.pick(&with(Status::Review)) {
                Some(t) if moves.below(2) == 0 => api.approve("lead", t.id, None).map(|_| ()),
                Some(t) => api
                    .reject(
                        "lead",
                        t.id,
                        RejectRequest {
                            feedback: "again".into(),
                            to: [None, Some(Status::Open)][moves.below(2)],
                        },
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            6 => match moves.pick(&all) {
                Some(t) => api
                    .block(
                        "lead",
                        t.id,
                        BlockRequest {
                            reason: "stuck".into(),
                            fence: None,
                        },
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            7 => match moves.pick(&with(Status::Blocked)) {
                Some(t) => api.unblock("lead", t.id).map(|_| ()),
                None => Ok(()),
            },
            8 => match moves.pick(&all) {
                Some(t) => api
                    .delete(
                        "lead",
                        t.id,
                        DeleteRequest {
                            reason: None,
                            force: moves.below(2) == 0,
                        },
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            9 => match moves.pick(&all) {
                Some(t) => api
                    .update_task(
                        "lead",
                        t.id,
                        TaskPatch {
                            status: Some(STATUSES[moves.below(STATUSES.len())]),
                            ..TaskPatch::default()
                        },
                    )
                    .map(|_| ()),
                None => Ok(()),
            },
            _ => {
                // Every lease ends: the next call returns those tasks to the queue (or
                // blocks them after too many retries).
                f.advance(std::time::Duration::from_secs(31 * 60));
                Ok(())
            }
        };
        assert_counts_match_a_recount(api, step);
    }

    // An open task whose dependency went back to work waits again: not ready.
    let first = api
        .add_tasks("lead", vec![task("first")])
        .unwrap()
        .remove(0);
    let mut then = task("then");
    then.depends_on = vec![first.id.to_string()];
    let then = api.add_tasks("lead", vec![then]).unwrap().remove(0);
    let claimed = api
        .pickup(
            "claude",
            &PickupRequest {
                id: Some(first.id),
                ..PickupRequest::default()
            },
        )
        .unwrap();
    api.done("claude", first.id, DoneRequest::default())
        .unwrap();
    assert_eq!(api.get_task(then.id).unwrap().status, Status::Open);
    api.reject(
        "lead",
        claimed.task.id,
        RejectRequest {
            feedback: "not yet".into(),
            to: Some(Status::InProgress),
        },
    )
    .unwrap();
    let then = api.get_task(then.id).unwrap();
    assert_eq!((then.status, then.deps_met), (Status::Open, false));
    assert_counts_match_a_recount(api, 161);
}

/// The summary lists the first few of each list and counts the rest: its size stays the
/// same however many tasks the agents hold or are blocked.
pub fn the_board_summary_stays_small_on_a_large_board(api: &dyn Api) {
    let batch: Vec<NewTask> = (0..1_500).map(|i| task(&format!("t{i}"))).collect();
    api.add_tasks("lead", batch).unwrap();
    for i in 0..1_200 {
        api.pickup(AGENTS[i % 3], &PickupRequest::default())
            .unwrap();
    }
    for id in 1_201..=1_350 {
        api.block(
            "lead",
            TaskId(id),
            BlockRequest {
                reason: "waits on the vendor".into(),
                fence: None,
            },
        )
        .unwrap();
    }
    let board = api.board().unwrap();
    assert_eq!(board.counts.in_progress, 1_200);
    assert_eq!(board.counts.blocked, 150);
    assert_eq!(board.counts.open, 150);
    assert_eq!(board.ready, 150);
    assert_eq!(board.blocked_total, 150);
    assert_eq!(board.blocked.len(), BOARD_LIST_LIMIT);
    assert_eq!(board.blocked[0].id, TaskId(1_201));
    for name in &AGENTS[..3] {
        let a = board.agents.iter().find(|a| a.name == *name).unwrap();
        assert_eq!(a.holding_total, 400, "{name}");
        assert_eq!(a.holding.len(), BOARD_LIST_LIMIT, "{name}");
    }
    let size = serde_json::to_vec(&board).unwrap().len();
    assert!(size < 8 * 1024, "the summary is {size} bytes");
    // The full list stays where it is asked for.
    let agents = api.agents().unwrap();
    assert_eq!(agents.iter().map(|a| a.holding.len()).sum::<usize>(), 1_200);
}
