//! Scenarios for the merge queue (task -> phase -> initiative -> default branch), run on
//! every `Api`. Git is the runner's; here the runner's reports are made up.

use super::{add, task, ApiFixture};
use crate::api::*;
use crate::model::{Category, Merge, MergeKind, MergeState, Status};
use crate::store::EventQuery;
use crate::{Api, Error, MergeId, TaskId};

const A: &str = "1111111111111111111111111111111111111111";
const B: &str = "2222222222222222222222222222222222222222";
const C: &str = "3333333333333333333333333333333333333333";
const D: &str = "4444444444444444444444444444444444444444";

fn claim(api: &dyn Api, runner: &str) -> Option<Merge> {
    claim_for(api, runner, None)
}

fn claim_for(api: &dyn Api, runner: &str, lease_secs: Option<u64>) -> Option<Merge> {
    api.merges()
        .claim_merge(
            "runner",
            MergeClaim {
                runner: runner.into(),
                lease_secs,
            },
        )
        .unwrap()
}

fn report(api: &dyn Api, runner: &str, id: MergeId, outcome: MergeOutcome) -> Result<Merge, Error> {
    api.merges().finish_merge(
        "runner",
        id,
        MergeReport {
            runner: runner.into(),
            outcome,
        },
    )
}

fn merged() -> MergeOutcome {
    MergeOutcome::Merged {
        base: A.into(),
        source_head: B.into(),
        target_head: C.into(),
        result: D.into(),
    }
}

/// An agent works on the task under a runner (so it has a branch) and hands it in.
fn worked(api: &dyn Api, agent: &str, id: TaskId) {
    let got = api.pickup(agent, &PickupRequest::default()).unwrap();
    assert_eq!(got.task.id, id);
    api.start_run(
        agent,
        NewRun {
            task: id,
            provider: "command".into(),
            account: None,
            attempt: 1,
            runner: "host:1:1".into(),
            host: "host".into(),
            worktree: None,
            branch: Some(format!("baton/{id}")),
            session: None,
            spool: None,
        },
    )
    .unwrap();
    api.done(agent, id, DoneRequest::default()).unwrap();
}

fn actions(api: &dyn Api) -> Vec<String> {
    api.events(&EventQuery {
        limit: Some(1000),
        ..EventQuery::default()
    })
    .unwrap()
    .into_iter()
    .map(|e| e.action)
    .collect()
}

pub fn approvals_queue_merges_up_the_chain_and_a_conflict_waits_for_its_merge_task(api: &dyn Api) {
    let i = api
        .plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: "Checkout".into(),
                ..NewInitiative::default()
            },
        )
        .unwrap();
    let p = api
        .plan()
        .create_phase(
            "lead",
            NewPhase {
                initiative: i.id,
                name: "Cart".into(),
                content: None,
                depends_on: Vec::new(),
            },
        )
        .unwrap();
    let in_phase = |title: &str| {
        add(
            api,
            NewTask {
                phase: Some(p.id),
                ..task(title)
            },
        )
    };
    let (t1, t2, t3) = (in_phase("model"), in_phase("page"), in_phase("by hand"));
    api.plan()
        .move_phase(
            "lead",
            p.id,
            PhaseMoveRequest {
                action: PhaseAction::Approve,
                reason: None,
                comments: Vec::new(),
            },
        )
        .unwrap();
    let plan = api.merges().branch_plan(t1.id).unwrap();
    let phase_branch = format!("baton/checkout--{}", p.id);
    assert_eq!(plan.branch, format!("baton/{}", t1.id));
    assert_eq!(
        (plan.base.as_str(), plan.target.as_str()),
        (phase_branch.as_str(), phase_branch.as_str())
    );
    assert_eq!(plan.create.len(), 2);
    assert_eq!(
        (plan.create[0].branch.as_str(), plan.create[0].from.as_str()),
        ("baton/checkout", "main")
    );
    assert_eq!(plan.create[1].from, "baton/checkout");
    assert_eq!(plan.premerge, None);

    worked(api, "a1", t1.id);
    worked(api, "a2", t2.id);
    // Nobody ran the third under a runner: approving it queues nothing.
    api.pickup("dev", &PickupRequest::default()).unwrap();
    api.done("dev", t3.id, DoneRequest::default()).unwrap();
    api.approve("lead", t3.id, None).unwrap();
    assert!(api
        .merges()
        .list_merges(&MergeFilter::default())
        .unwrap()
        .is_empty());

    api.approve("lead", t1.id, None).unwrap();
    // The phase's review approves the second and completes the phase; the initiative then
    // waits for its own approval.
    api.plan()
        .move_phase(
            "lead",
            p.id,
            PhaseMoveRequest {
                action: PhaseAction::Approve,
                reason: None,
                comments: Vec::new(),
            },
        )
        .unwrap();
    api.plan()
        .move_initiative("lead", i.id, InitiativeMove::Approve)
        .unwrap();
    let all = api.merges().list_merges(&MergeFilter::default()).unwrap();
    let kinds: Vec<(MergeKind, &str, &str)> = all
        .iter()
        .rev()
        .map(|m| (m.kind, m.source.as_str(), m.target.as_str()))
        .collect();
    let t1_branch = format!("baton/{}", t1.id);
    let t2_branch = format!("baton/{}", t2.id);
    assert_eq!(
        kinds,
        [
            (MergeKind::Task, t1_branch.as_str(), phase_branch.as_str()),
            (MergeKind::Task, t2_branch.as_str(), phase_branch.as_str()),
            (MergeKind::Phase, phase_branch.as_str(), "baton/checkout"),
            (MergeKind::Initiative, "baton/checkout", "main"),
        ]
    );
    assert!(all.iter().all(|m| m.state == MergeState::Pending));

    // One merge into a branch at a time; the phase waits for its tasks, the initiative
    // for its phase.
    let m1 = claim(api, "r1").expect("first task merge");
    assert_eq!(
        (m1.task, m1.state, m1.attempts),
        (Some(t1.id), MergeState::Running, 1)
    );
    assert_eq!(claim(api, "r2"), None);
    let done = report(api, "r1", m1.id, merged()).unwrap();
    assert_eq!(
        (done.state, done.result.as_deref()),
        (MergeState::Merged, Some(D))
    );
    let m2 = claim(api, "r2").expect("second task merge");
    assert_eq!(m2.task, Some(t2.id));
    let conflicted = report(
        api,
        "r2",
        m2.id,
        MergeOutcome::Conflict {
            base: A.into(),
            source_head: B.into(),
            target_head: C.into(),
            files: vec![
                "src/cart.rs".into(),
                "README.md".into(),
                "src/cart.rs".into(),
            ],
        },
    )
    .unwrap();
    assert_eq!(conflicted.state, MergeState::Conflict);
    assert_eq!(conflicted.conflicts, ["README.md", "src/cart.rs"]);
    let fix = conflicted.merge_task.expect("a merge task");
    assert_eq!(claim(api, "r1"), None, "the phase waits for the conflict");

    let fixing = api.get_task(fix).unwrap();
    assert_eq!(fixing.category, Category::Merge);
    assert_eq!(
        (fixing.parent, fixing.initiative),
        (Some(t2.id), Some(i.id))
    );
    assert_eq!(fixing.status, Status::Open);
    assert!(fixing.description.contains("src/cart.rs"));
    assert!(fixing.description.contains(&t2_branch));
    let plan = api.merges().branch_plan(fix).unwrap();
    assert_eq!(plan.base, t2_branch);
    assert_eq!(plan.premerge.as_deref(), Some(phase_branch.as_str()));
    assert_eq!(plan.target, phase_branch);

    worked(api, "a3", fix);
    api.approve("lead", fix, None).unwrap();
    let m5 = claim(api, "r1").expect("the resolution's merge");
    assert_eq!((m5.task, m5.resolves), (Some(fix), Some(m2.id)));
    assert_eq!(m5.target, phase_branch);
    report(api, "r1", m5.id, merged()).unwrap();
    let m2 = api.merges().get_merge(m2.id).unwrap();
    assert_eq!(
        (m2.state, m2.resolved_by),
        (MergeState::Merged, Some(m5.id))
    );

    let m3 = claim(api, "r1").expect("the phase merge");
    assert_eq!((m3.kind, m3.phase), (MergeKind::Phase, Some(p.id)));
    report(api, "r1", m3.id, merged()).unwrap();
    let m4 = claim(api, "r1").expect("the initiative merge");
    assert_eq!(m4.kind, MergeKind::Initiative);
    report(api, "r1", m4.id, merged()).unwrap();
    assert_eq!(claim(api, "r1"), None);

    let seen = actions(api);
    for action in [
        "merge.queued",
        "merge.started",
        "merge.merged",
        "merge.conflict",
        "merge.resolved",
    ] {
        assert!(seen.iter().any(|a| a == action), "{action} in {seen:?}");
    }
    assert_eq!(seen.iter().filter(|a| *a == "merge.queued").count(), 5);
}

pub fn merge_reports_and_retries_follow_the_rules(api: &dyn Api) {
    let t = add(api, task("solo"));
    worked(api, "a1", t.id);
    api.approve("lead", t.id, None).unwrap();
    // A task outside any initiative goes to the default branch.
    let m = claim(api, "r1").unwrap();
    assert_eq!(
        (m.source.as_str(), m.target.as_str()),
        ("baton/T-1", "main")
    );

    let err = report(api, "r2", m.id, merged()).unwrap_err();
    assert_eq!(err.code(), "not_claimed");
    let bad = MergeOutcome::Merged {
        base: "not a commit".into(),
        source_head: B.into(),
        target_head: C.into(),
        result: D.into(),
    };
    assert_eq!(
        report(api, "r1", m.id, bad).unwrap_err().code(),
        "invalid_input"
    );
    let err = api
        .merges()
        .claim_merge(
            "runner",
            MergeClaim {
                runner: " ".into(),
                lease_secs: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");

    // Transient failures go back to the queue, up to a limit; then a person retries.
    let mut last = m;
    for attempt in 1..=crate::board::merges::MAX_ATTEMPTS {
        assert_eq!(last.attempts, attempt);
        let after = report(
            api,
            "r1",
            last.id,
            MergeOutcome::Failed {
                error: "push raced".into(),
                retry: true,
            },
        )
        .unwrap();
        if attempt < crate::board::merges::MAX_ATTEMPTS {
            assert_eq!(after.state, MergeState::Pending);
            last = claim(api, "r1").unwrap();
        } else {
            assert_eq!(after.state, MergeState::Failed);
            assert_eq!(after.error.as_deref(), Some("push raced"));
        }
    }
    assert_eq!(claim(api, "r1"), None);
    let again = api.merges().retry_merge("lead", last.id).unwrap();
    assert_eq!((again.state, again.attempts), (MergeState::Pending, 0));
    let err = api.merges().retry_merge("lead", last.id).unwrap_err();
    assert_eq!(err.code(), "invalid_transition");
    let m = claim(api, "r1").unwrap();
    let skipped = report(
        api,
        "r1",
        m.id,
        MergeOutcome::Skipped {
            reason: "no branch".into(),
        },
    )
    .unwrap();
    assert_eq!(skipped.state, MergeState::Skipped);
    let err = api.merges().get_merge(MergeId(99)).unwrap_err();
    assert_eq!(err.code(), "not_found");
    assert_eq!(
        api.merges()
            .list_merges(&MergeFilter {
                state: Some(MergeState::Skipped),
                ..MergeFilter::default()
            })
            .unwrap()
            .len(),
        1
    );

    // Settings that steer merges are checked.
    for (key, value) in [
        ("default_branch", "no spaces allowed"),
        ("merge_strategy", "squash"),
        ("land", "sometimes"),
    ] {
        let err = api.set_setting("lead", key, value).unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{key}={value}");
    }
    api.set_setting("lead", "default_branch", "trunk").unwrap();
    api.set_setting("lead", "merge_strategy", "Rebase").unwrap();
    let t = add(api, task("second"));
    worked(api, "a1", t.id);
    api.approve("lead", t.id, None).unwrap();
    let m = claim(api, "r1").unwrap();
    assert_eq!(m.target, "trunk");
    assert_eq!(m.strategy, crate::model::MergeStrategy::Rebase);
}

pub fn a_lapsed_merge_claim_is_taken_again(fixture: &dyn ApiFixture) {
    let api = fixture.api();
    let t = add(api, task("solo"));
    worked(api, "a1", t.id);
    api.approve("lead", t.id, None).unwrap();
    let m = claim_for(api, "r1", Some(5)).unwrap();
    assert_eq!(claim(api, "r2"), None, "the claim holds");
    fixture.advance(std::time::Duration::from_secs(6));
    let again = claim(api, "r2").expect("retried after the claim lapsed");
    assert_eq!((again.id, again.attempts), (m.id, 2));
    assert_eq!(again.runner.as_deref(), Some("r2"));
    let err = report(api, "r1", m.id, merged()).unwrap_err();
    assert_eq!(
        err.code(),
        "not_claimed",
        "the dead runner's report is refused"
    );
    report(api, "r2", m.id, merged()).unwrap();
}

pub fn errands_follow_their_lifecycle(api: &dyn Api) {
    use crate::model::ErrandStatus::*;
    let e = api
        .errands()
        .create_errand(
            "lead",
            NewErrand {
                title: "  fix the typo in README  ".into(),
                provider: Some("claude".into()),
            },
        )
        .unwrap();
    assert_eq!(e.id.to_string(), "E-1");
    assert_eq!(
        (e.title.as_str(), e.branch.as_str(), e.base_branch.as_str()),
        ("fix the typo in README", "baton/errand-1", "main")
    );
    assert_eq!(e.status, Active);
    let err = api
        .errands()
        .create_errand(
            "lead",
            NewErrand {
                title: " ".into(),
                provider: None,
            },
        )
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    let to = |status| ErrandUpdate {
        status: Some(status),
        ..ErrandUpdate::default()
    };
    assert_eq!(
        api.errands()
            .update_errand("lead", e.id, to(Merged))
            .unwrap_err()
            .code(),
        "invalid_transition",
        "an active errand is not merged"
    );
    let e = api
        .errands()
        .update_errand(
            "errand-1",
            e.id,
            ErrandUpdate {
                status: Some(PendingReview),
                session: Some("sess-9".into()),
                agent: Some("errand-1".into()),
                ..ErrandUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        (e.status, e.session.as_deref()),
        (PendingReview, Some("sess-9"))
    );
    let e = api
        .errands()
        .update_errand(
            "lead",
            e.id,
            ErrandUpdate {
                status: Some(Conflict),
                conflicts: Some(vec!["README.md".into()]),
                reason: Some("conflicts".into()),
                ..ErrandUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(e.conflicts, ["README.md"]);
    assert_eq!(
        api.errands()
            .delete_errand("lead", e.id)
            .unwrap_err()
            .code(),
        "invalid_transition"
    );
    let e = api
        .errands()
        .update_errand(
            "lead",
            e.id,
            ErrandUpdate {
                status: Some(Merged),
                base: Some(A.into()),
                result: Some(D.into()),
                conflicts: Some(Vec::new()),
                reason: Some(String::new()),
                ..ErrandUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        (e.status, e.reason.as_deref(), e.conflicts.len()),
        (Merged, None, 0)
    );
    assert_eq!(
        api.errands()
            .update_errand("lead", e.id, to(Active))
            .unwrap_err()
            .code(),
        "invalid_transition",
        "a merged errand is finished"
    );
    let second = api
        .errands()
        .create_errand(
            "lead",
            NewErrand {
                title: "other".into(),
                provider: None,
            },
        )
        .unwrap();
    assert_eq!(second.branch, "baton/errand-2");
    api.errands()
        .update_errand("lead", second.id, to(Abandoned))
        .unwrap();
    assert_eq!(
        api.errands().list_errands(Some(Abandoned)).unwrap().len(),
        1
    );
    assert_eq!(api.errands().list_errands(None).unwrap().len(), 2);
    api.errands()
        .update_errand("lead", second.id, to(Active))
        .unwrap();
    api.errands()
        .update_errand("lead", second.id, to(Abandoned))
        .unwrap();
    api.errands().delete_errand("lead", second.id).unwrap();
    api.errands().delete_errand("lead", e.id).unwrap();
    assert_eq!(
        api.errands().get_errand(e.id).unwrap_err().code(),
        "not_found"
    );
    let seen = actions(api);
    for a in ["errand.created", "errand.updated", "errand.deleted"] {
        assert!(seen.iter().any(|s| s == a), "{a}");
    }
}

pub fn errand_requests_are_taken_one_at_a_time_under_a_lease(fixture: &dyn ApiFixture) {
    use crate::model::{ErrandAsk, ErrandStatus::*};
    let api = fixture.api();
    let errands = api.errands();
    let claim = |runner: &str, provider: Option<&str>, errand, lease_secs| {
        errands.claim_errand(
            "runner",
            ErrandClaim {
                runner: runner.into(),
                errand,
                provider: provider.map(str::to_string),
                lease_secs,
            },
        )
    };
    let finish = |runner: &str, id, reply: &str| {
        errands.finish_errand(
            "runner",
            id,
            ErrandFinish {
                runner: runner.into(),
                reply: Some(reply.into()),
            },
        )
    };
    let e = errands
        .create_errand(
            "lead",
            NewErrand {
                title: "fix the typo".into(),
                provider: Some("claude".into()),
            },
        )
        .unwrap();
    assert_eq!(
        (e.request, e.requested_by.as_deref()),
        (Some(ErrandAsk::Start), Some("lead"))
    );
    // One request at a time.
    let chat = ErrandRequest::Chat {
        message: "and the other one".into(),
    };
    let busy = errands
        .request_errand("lead", e.id, chat.clone())
        .unwrap_err();
    assert_eq!(busy.code(), "errand_busy");
    // A runner for another provider leaves it; one for claude takes it, under a lease.
    assert_eq!(claim("r0", Some("codex"), None, None).unwrap(), None);
    let taken = claim("r1", Some("claude"), None, Some(5)).unwrap().unwrap();
    assert_eq!(taken.claimed_by.as_deref(), Some("r1"));
    assert_eq!(
        claim("r2", Some("claude"), None, None).unwrap(),
        None,
        "the claim holds"
    );
    let held = claim("r2", None, Some(e.id), None).unwrap_err();
    assert_eq!(
        held.code(),
        "errand_busy",
        "asking for it by id names the holder"
    );
    fixture.advance(std::time::Duration::from_secs(6));
    let again = claim("r2", Some("claude"), None, None).unwrap().unwrap();
    assert_eq!(
        again.claimed_by.as_deref(),
        Some("r2"),
        "a lapsed claim is taken again"
    );
    assert_eq!(
        finish("r1", e.id, "late").unwrap_err().code(),
        "not_claimed",
        "the dead runner's report is refused"
    );
    errands
        .update_errand(
            "errand-1",
            e.id,
            ErrandUpdate {
                status: Some(PendingReview),
                ..ErrandUpdate::default()
            },
        )
        .unwrap();
    let done = finish("r2", e.id, "  Fixed it.  ").unwrap();
    assert_eq!(
        (done.request, done.claimed_by, done.reply.as_deref()),
        (None, None, Some("Fixed it."))
    );
    assert_eq!(
        claim("r2", None, None, None).unwrap(),
        None,
        "nothing waits"
    );
    assert_eq!(claim("r2", None, Some(e.id), None).unwrap(), None);

    // A merge takes the project's strategy; merges are anyone's to do.
    let m = errands
        .request_errand("lead", e.id, ErrandRequest::Merge { strategy: None })
        .unwrap();
    assert_eq!(
        (m.request, m.request_text.as_deref()),
        (Some(ErrandAsk::Merge), Some("merge"))
    );
    let taken = claim("r3", Some("codex"), None, None).unwrap().unwrap();
    assert_eq!(taken.id, e.id);
    errands
        .update_errand(
            "errand-1",
            e.id,
            ErrandUpdate {
                status: Some(Merged),
                ..ErrandUpdate::default()
            },
        )
        .unwrap();
    finish("r3", e.id, "merged into main").unwrap();
    // Nothing more is asked of a merged errand; an abandoned one is reopened by a message.
    for ask in [chat.clone(), ErrandRequest::Merge { strategy: None }] {
        assert_eq!(
            errands
                .request_errand("lead", e.id, ask)
                .unwrap_err()
                .code(),
            "invalid_transition"
        );
    }
    let second = errands
        .create_errand(
            "lead",
            NewErrand {
                title: "other".into(),
                provider: None,
            },
        )
        .unwrap();
    let taken = claim("r4", Some("gemini"), None, None).unwrap().unwrap();
    assert_eq!(taken.id, second.id, "an errand for no provider is anyone's");
    finish("r4", second.id, "done").unwrap();
    errands
        .update_errand(
            "lead",
            second.id,
            ErrandUpdate {
                status: Some(Abandoned),
                ..ErrandUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(
        errands
            .request_errand("lead", second.id, ErrandRequest::Merge { strategy: None })
            .unwrap_err()
            .code(),
        "invalid_transition",
        "an abandoned errand is not merged"
    );
    let reopened = errands.request_errand("lead", second.id, chat).unwrap();
    assert_eq!(
        (reopened.status, reopened.request),
        (Active, Some(ErrandAsk::Chat))
    );
    let empty = ErrandRequest::Chat {
        message: "  ".into(),
    };
    assert_eq!(
        errands
            .request_errand("lead", second.id, empty)
            .unwrap_err()
            .code(),
        "errand_busy"
    );
    let seen = actions(api);
    for a in ["errand.requested", "errand.claimed", "errand.replied"] {
        assert!(seen.iter().any(|s| s == a), "{a}");
    }
}

/// Log entries (issue 19) live in the event log beside board changes, checked in core.
pub fn log_entries_are_events_attributed_and_checked(api: &dyn Api) {
    use crate::model::{ActorKind, LogLevel};
    let ops = api.operations();
    let e = ops
        .log(
            "claude-1",
            NewLogEntry {
                message: "  Build started  ".into(),
                action: Some("BUILD".into()),
                kind: Some(ActorKind::Ai),
                tool: Some("claude-code".into()),
                ..NewLogEntry::default()
            },
        )
        .unwrap();
    assert_eq!(
        (e.action.as_str(), e.actor.as_str()),
        ("log.build", "claude-1")
    );
    assert_eq!(e.detail["message"], "Build started");
    assert_eq!(
        (e.detail["level"].as_str(), e.detail["kind"].as_str()),
        (Some("info"), Some("ai"))
    );
    let t = add(api, task("flaky test"));
    ops.log(
        "ci",
        NewLogEntry {
            message: "Tests failed".into(),
            action: Some("test".into()),
            level: Some(LogLevel::Error),
            kind: Some(ActorKind::System),
            task: Some(t.id),
            ..NewLogEntry::default()
        },
    )
    .unwrap();
    let logs = api
        .events(&EventQuery {
            action: Some("log.".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(
        (logs[1].task, logs[1].detail["level"].as_str()),
        (Some(t.id), Some("error"))
    );
    let bad = |entry: NewLogEntry| ops.log("x", entry).unwrap_err().code().to_string();
    assert_eq!(
        bad(NewLogEntry {
            message: " ".into(),
            ..NewLogEntry::default()
        }),
        "invalid_input"
    );
    assert_eq!(
        bad(NewLogEntry {
            message: "m".into(),
            action: Some("log.build".into()),
            ..NewLogEntry::default()
        }),
        "invalid_input",
        "a log action is a tag, not an event action"
    );
    assert_eq!(
        bad(NewLogEntry {
            message: "m".into(),
            task: Some(TaskId(999)),
            ..NewLogEntry::default()
        }),
        "task_not_found"
    );
    assert_eq!(
        bad(NewLogEntry {
            message: "x".repeat(10_001),
            ..NewLogEntry::default()
        }),
        "invalid_input"
    );
    assert_eq!(
        api.events(&EventQuery {
            action: Some("log.".into()),
            ..EventQuery::default()
        })
        .unwrap()
        .len(),
        2,
        "refused entries wrote nothing"
    );
}
