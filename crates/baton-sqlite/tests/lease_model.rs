//! Property test of the lease and fence state machine on a real SQLite store: random
//! sequences of pickups, hand-ins with current or stale fences, heartbeats and clock jumps,
//! checked step by step against a small model.

use std::time::Duration;

use baton_core::api::{DoneRequest, HeartbeatRequest, NewTask, PickupRequest};
use baton_core::conformance::ManualClock;
use baton_core::{Api, Board, Status, TaskId};
use baton_sqlite::SqliteStore;
use proptest::prelude::*;

const TASKS: u64 = 3;
const AGENTS: [&str; 2] = ["ada", "bob"];
/// The lease TTL, in seconds (set to 10m below).
const TTL: i64 = 600;

#[derive(Clone, Debug)]
enum Op {
    Pickup(usize),
    Done {
        agent: usize,
        task: u64,
        stale: bool,
    },
    Heartbeat(usize),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize).prop_map(Op::Pickup),
        (0..2usize, 1..=TASKS, any::<bool>()).prop_map(|(agent, task, stale)| Op::Done {
            agent,
            task,
            stale
        }),
        (0..2usize).prop_map(Op::Heartbeat),
        (1..14u64).prop_map(Op::Advance),
    ]
}

#[derive(Clone, Debug, PartialEq)]
struct ModelTask {
    status: Status,
    holder: Option<usize>,
    fence: u64,
    expires_s: i64,
    retries: u32,
}

struct Model {
    now_s: i64,
    tasks: Vec<ModelTask>,
}

impl Model {
    fn reap(&mut self) {
        for t in &mut self.tasks {
            if t.status == Status::InProgress && t.expires_s < self.now_s {
                t.status = Status::Open;
                t.holder = None;
                t.retries += 1;
            }
        }
    }
    /// A successful mutation by an agent renews its leases that are past half their term.
    fn renew(&mut self, agent: usize) {
        for t in &mut self.tasks {
            if t.holder == Some(agent)
                && t.status == Status::InProgress
                && t.expires_s < self.now_s + TTL / 2
            {
                t.expires_s = self.now_s + TTL;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn leases_and_fences_follow_the_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = SqliteStore::create(&dir.path().join("b.db"), "p").unwrap();
        let clock = ManualClock::default();
        let board = Board::with_clock(store, clock.clock());
        board.set_setting("lead", "lease_ttl", "10m").unwrap();
        board.set_setting("lead", "max_retries", "100").unwrap();
        let new: Vec<NewTask> = (0..TASKS).map(|i| NewTask { title: format!("t{i}"), ..NewTask::default() }).collect();
        board.add_tasks("lead", new).unwrap();
        let mut model = Model {
            now_s: 0,
            tasks: vec![ModelTask { status: Status::Open, holder: None, fence: 0, expires_s: 0, retries: 0 }; TASKS as usize],
        };

        for op in ops {
            match op {
                Op::Advance(m) => {
                    // Minutes plus a second, so lease ends rarely fall exactly on a step.
                    clock.advance(Duration::from_secs(m * 60 + 1));
                    model.now_s += m as i64 * 60 + 1;
                }
                Op::Pickup(a) => {
                    model.reap();
                    let got = board.pickup(AGENTS[a], &PickupRequest::default());
                    match model.tasks.iter().position(|t| t.status == Status::Open) {
                        Some(i) => {
                            let p = got.expect("an open task exists");
                            prop_assert_eq!(p.task.id, TaskId(i as u64 + 1));
                            model.renew(a);
                            let t = &mut model.tasks[i];
                            t.status = Status::InProgress;
                            t.holder = Some(a);
                            t.fence += 1;
                            t.expires_s = model.now_s + TTL;
                            prop_assert_eq!(p.claim.fence, t.fence);
                        }
                        None => prop_assert_eq!(got.unwrap_err().code().to_string(), "no_task_ready"),
                    }
                }
                Op::Done { agent, task, stale } => {
                    model.reap();
                    let i = (task - 1) as usize;
                    let current = model.tasks[i].fence;
                    let fence = if stale { current.saturating_sub(1) } else { current };
                    let got = board.done(AGENTS[agent], TaskId(task), DoneRequest { summary: None,  notes: None, fence: Some(fence) });
                    let t = &model.tasks[i];
                    let ok = t.status == Status::InProgress && t.holder == Some(agent) && fence == current;
                    prop_assert_eq!(got.is_ok(), ok, "{:?} on {:?}: {:?}", op, t, got.as_ref().err().map(|e| e.to_string()));
                    if ok {
                        model.renew(agent);
                        model.tasks[i].status = Status::Review;
                    } else {
                        let code = got.unwrap_err().code().to_string();
                        prop_assert!(["stale_claim", "not_holder", "invalid_transition"].contains(&code.as_str()), "{}", code);
                    }
                }
                Op::Heartbeat(a) => {
                    model.reap();
                    board.heartbeat(AGENTS[a], &HeartbeatRequest::default()).unwrap();
                    for t in &mut model.tasks {
                        if t.holder == Some(a) && t.status == Status::InProgress {
                            t.expires_s = model.now_s + TTL;
                        }
                    }
                }
            }
            // The store agrees with the model after every step.
            model.reap();
            for (i, expected) in model.tasks.iter().enumerate() {
                let t = board.get_task(TaskId(i as u64 + 1)).unwrap();
                prop_assert_eq!(t.status, expected.status, "task {} after {:?}", i + 1, op);
                prop_assert_eq!(t.assignee.as_deref(), expected.holder.map(|a| AGENTS[a]));
                prop_assert_eq!(t.fence, expected.fence);
                prop_assert_eq!(t.retry_count, expected.retries);
            }
        }
    }
}
