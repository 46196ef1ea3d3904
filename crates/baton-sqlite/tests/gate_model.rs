//! Property test of the review gates on a real SQLite store: random phase DAGs with random
//! tasks, driven by random pickups, hand-ins and approvals. Before every step the gate is
//! computed here, from the phases as read, independently of core's stored flags:
//! - a pickup only ever hands out a task whose phase is approved (or later) and whose
//!   phases it depends on are all completed, and says `no_task_ready` only when no such
//!   task is open with its task dependencies met;
//! - approving a phase's finished work opens exactly the dependents that now have every
//!   dependency completed, are approved, and hold tasks.

use std::collections::{BTreeSet, HashMap};

use baton_core::api::{
    DoneRequest, NewInitiative, NewPhase, NewTask, PhaseAction, PhaseMoveRequest, PickupRequest,
    TaskFilter,
};
use baton_core::model::{Phase, PhaseStatus};
use baton_core::{Api, Board, PhaseId, Status, TaskId};
use baton_sqlite::SqliteStore;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Plan {
    /// For each phase, the earlier phases it depends on.
    deps: Vec<Vec<usize>>,
    /// For each phase, how many tasks it holds.
    tasks: Vec<usize>,
}

fn plan() -> impl Strategy<Value = Plan> {
    (2usize..6).prop_flat_map(|n| {
        let deps = (0..n)
            .map(|i| proptest::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i.min(2)))
            .collect::<Vec<_>>();
        (deps, proptest::collection::vec(0usize..3, n))
            .prop_map(|(deps, tasks)| Plan { deps, tasks })
    })
}

#[derive(Clone, Debug)]
enum Op {
    Pickup(usize),
    Finish(usize),
    Approve(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize).prop_map(Op::Pickup),
        3 => (0..16usize).prop_map(Op::Finish),
        2 => (0..6usize).prop_map(Op::Approve),
    ]
}

const AGENTS: [&str; 2] = ["ada", "bob"];

/// The gate as this test computes it from the phases as read.
fn open_here(phase: &Phase, phases: &HashMap<PhaseId, Phase>) -> bool {
    let approved = !matches!(phase.status, PhaseStatus::Pending | PhaseStatus::Blocked);
    let deps_done = phase
        .depends_on
        .iter()
        .all(|d| phases[d].status == PhaseStatus::Completed);
    approved && deps_done
}

fn phases_of(board: &dyn Api) -> HashMap<PhaseId, Phase> {
    board
        .plan()
        .list_phases(None)
        .unwrap()
        .into_iter()
        .map(|p| (p.id, p))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn gates_hand_out_only_open_phases_and_open_exactly_the_right_ones(
        plan in plan(),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SqliteStore::create(&dir.path().join("b.db"), "p").unwrap();
        let board = Board::new(store);
        let api: &dyn Api = &board;
        let i = api.plan().create_initiative("lead", NewInitiative {
            name: "model".into(),
            ..NewInitiative::default()
        }).unwrap().id;
        let mut ids: Vec<PhaseId> = Vec::new();
        for (n, deps) in plan.deps.iter().enumerate() {
            let p = api.plan().create_phase("lead", NewPhase {
                initiative: i,
                name: format!("phase {n}"),
                content: None,
                depends_on: deps.iter().map(|d| ids[*d]).collect(),
            }).unwrap();
            ids.push(p.id);
        }
        let mut tasks: Vec<TaskId> = Vec::new();
        for (n, count) in plan.tasks.iter().enumerate() {
            for k in 0..*count {
                let t = api.add_tasks("lead", vec![NewTask {
                    title: format!("p{n} t{k}"),
                    phase: Some(ids[n]),
                    ..NewTask::default()
                }]).unwrap();
                tasks.push(t[0].id);
            }
        }

        for op in ops {
            let phases = phases_of(api);
            match op {
                Op::Pickup(a) => {
                    let all = api.list_tasks(&TaskFilter::default()).unwrap();
                    let eligible: BTreeSet<TaskId> = all
                        .iter()
                        .filter(|t| t.status == Status::Open && t.deps_met)
                        .filter(|t| t.phase.is_none_or(|p| open_here(&phases[&p], &phases)))
                        .map(|t| t.id)
                        .collect();
                    match api.pickup(AGENTS[a], &PickupRequest::default()) {
                        Ok(p) => {
                            prop_assert!(
                                eligible.contains(&p.task.id),
                                "{} handed out; eligible {:?}; phases {:?}",
                                p.task.id, eligible, phases.values().map(|p| (p.id, p.status)).collect::<Vec<_>>()
                            );
                        }
                        Err(e) => {
                            prop_assert_eq!(e.code(), "no_task_ready");
                            prop_assert!(eligible.is_empty(), "refused with {:?} eligible", eligible);
                        }
                    }
                }
                Op::Finish(n) => {
                    if tasks.is_empty() { continue; }
                    let t = api.get_task(tasks[n % tasks.len()]).unwrap();
                    if t.status == Status::InProgress {
                        let holder = t.assignee.clone().unwrap();
                        api.done(&holder, t.id, DoneRequest::default()).unwrap();
                        let p = api.plan().get_phase(t.phase.unwrap()).unwrap();
                        let live = api.list_tasks(&TaskFilter { phase: Some(p.id), ..TaskFilter::default() }).unwrap();
                        let finished = live.iter().all(|t| matches!(t.status, Status::Review | Status::Done));
                        prop_assert_eq!(p.status == PhaseStatus::PendingReview, finished);
                    }
                }
                Op::Approve(n) => {
                    let id = ids[n % ids.len()];
                    let before = phases[&id].clone();
                    let result = api.plan().move_phase("lead", id, PhaseMoveRequest {
                        action: PhaseAction::Approve,
                        reason: None,
                        comments: Vec::new(),
                    });
                    match before.status {
                        PhaseStatus::Pending | PhaseStatus::PendingReview => {
                            let out = result.unwrap();
                            let after = phases_of(api);
                            let mut expected: Vec<PhaseId> = Vec::new();
                            if before.status == PhaseStatus::Pending {
                                if before.tasks.total > 0 && open_here(&after[&id], &after) {
                                    expected.push(id);
                                }
                            } else {
                                // Dependents whose last dependency this was.
                                for p in after.values() {
                                    if p.depends_on.contains(&id)
                                        && p.tasks.total > 0
                                        && open_here(p, &after)
                                        && !open_here(&phases[&p.id], &phases)
                                    {
                                        expected.push(p.id);
                                    }
                                }
                            }
                            expected.sort();
                            prop_assert_eq!(out.opened, expected);
                            // What this test computes agrees with what core shows.
                            for p in after.values() {
                                prop_assert_eq!(p.open, open_here(p, &after), "{}", p.id);
                            }
                        }
                        _ => {
                            let e = result.unwrap_err();
                            prop_assert_eq!(e.code(), "invalid_transition");
                        }
                    }
                }
            }
        }
    }
}
