//! Scenarios for runs and provider accounts, run on every `Api`.

use super::{add, task};
use crate::api::*;
use crate::model::{AccountStatus, RunStatus, RunUsage, Status};
use crate::store::EventQuery;
use crate::time::Timestamp;
use crate::{Api, RunId, TaskId};

pub(super) fn new_run(task: TaskId) -> NewRun {
    NewRun {
        task,
        provider: "claude".into(),
        account: Some("work".into()),
        attempt: 1,
        runner: "build-1:4242:99".into(),
        host: "build-1".into(),
        worktree: Some("/tmp/wt/T-1".into()),
        branch: Some("baton/T-1".into()),
        session: None,
        spool: None,
    }
}

pub(super) fn ended(status: RunStatus) -> RunEnd {
    RunEnd {
        status,
        reason: None,
        final_text: None,
        session: None,
        usage: None,
    }
}

fn actions(api: &dyn Api, prefix: &str) -> Vec<String> {
    api.events(&EventQuery {
        action: Some(prefix.into()),
        ..EventQuery::default()
    })
    .unwrap()
    .into_iter()
    .map(|e| e.action)
    .collect()
}

pub fn a_run_is_recorded_before_its_process_and_ends_once(api: &dyn Api) {
    let t = add(api, task("auth"));
    let run = api.start_run("claude-1", new_run(t.id)).expect("start");
    assert_eq!(run.id.to_string(), "R-1");
    assert_eq!(
        (run.status, run.task, run.agent.as_str()),
        (RunStatus::Running, t.id, "claude-1")
    );
    assert_eq!(
        (run.pid, run.ended_at, run.stop_requested),
        (None, None, false)
    );

    let run = api
        .update_run(
            "claude-1",
            run.id,
            RunUpdate {
                pid: Some(4321),
                pgid: Some(4321),
                process_start: Some(123_456_789),
                session: Some("sess-1".into()),
                ..RunUpdate::default()
            },
        )
        .expect("update");
    assert_eq!(
        (run.pid, run.pgid, run.process_start),
        (Some(4321), Some(4321), Some(123_456_789))
    );
    assert_eq!(run.session.as_deref(), Some("sess-1"));

    let usage = RunUsage {
        input_tokens: 1200,
        output_tokens: 340,
        cache_read_tokens: 5000,
        cache_write_tokens: 10,
        reasoning_tokens: 0,
        cost_usd: Some(0.012345),
        turns: Some(4),
    };
    let done = api
        .finish_run(
            "claude-1",
            run.id,
            RunEnd {
                final_text: Some("Added the login route — all tests pass ✓".into()),
                usage: Some(usage.clone()),
                ..ended(RunStatus::Succeeded)
            },
        )
        .expect("finish");
    assert_eq!(done.status, RunStatus::Succeeded);
    assert!(done.ended_at.is_some());
    assert_eq!(done.usage, usage, "usage and cost are kept as reported");
    assert_eq!(
        done.final_text.as_deref(),
        Some("Added the login route — all tests pass ✓")
    );
    assert_eq!(api.get_run(run.id).unwrap(), done);

    // It ends once; an ended run does not change.
    let again = api
        .finish_run("claude-1", run.id, ended(RunStatus::Crashed))
        .unwrap_err();
    assert_eq!(again.code(), "run_ended");
    assert!(again.hint().unwrap().contains("baton run retry"));
    let late = api
        .update_run("claude-1", run.id, RunUpdate::default())
        .unwrap_err();
    assert_eq!(late.code(), "run_ended");
    assert_eq!(api.get_run(run.id).unwrap().status, RunStatus::Succeeded);

    // Wrong input is refused plainly.
    let second = api.start_run("claude-1", new_run(t.id)).unwrap();
    let e = api
        .finish_run("claude-1", second.id, ended(RunStatus::Running))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert_eq!(api.get_run(RunId(999)).unwrap_err().code(), "run_not_found");
    assert_eq!(
        api.start_run("claude-1", new_run(TaskId(999)))
            .unwrap_err()
            .code(),
        "task_not_found"
    );
    let mut nameless = new_run(t.id);
    nameless.provider = " ".into();
    assert_eq!(
        api.start_run("claude-1", nameless).unwrap_err().code(),
        "invalid_input"
    );
    assert_eq!(
        actions(api, "run."),
        vec!["run.started", "run.finished", "run.started"]
    );
}

pub fn a_stop_is_a_request_the_runner_sees(api: &dyn Api) {
    let t = add(api, task("auth"));
    let run = api.start_run("codex-1", new_run(t.id)).unwrap();
    let asked = api.stop_run("human", run.id).expect("stop");
    assert!(asked.stop_requested);
    assert_eq!(
        asked.status,
        RunStatus::Running,
        "the runner ends it, not the request"
    );
    // Asking twice is one request.
    api.stop_run("human", run.id).unwrap();
    let seen = api
        .update_run("codex-1", run.id, RunUpdate::default())
        .unwrap();
    assert!(
        seen.stop_requested,
        "the runner learns of it on its next update"
    );
    api.finish_run("codex-1", run.id, ended(RunStatus::Stopped))
        .unwrap();
    assert_eq!(
        api.stop_run("human", run.id).unwrap_err().code(),
        "run_ended"
    );
    assert_eq!(
        actions(api, "run.stop_requested").len(),
        1,
        "one request is recorded once"
    );
}

pub fn a_retry_puts_a_blocked_task_back_and_keeps_its_session(api: &dyn Api) {
    let t = add(api, task("auth"));
    let claim = api.pickup("claude-1", &PickupRequest::default()).unwrap();
    let mut new = new_run(t.id);
    new.session = None;
    let run = api.start_run("claude-1", new).unwrap();
    // Still running: a retry is refused with the way out.
    let e = api.retry_run("human", run.id).unwrap_err();
    assert_eq!(e.code(), "run_running");
    assert!(e.hint().unwrap().contains("baton run stop"));
    api.finish_run(
        "claude-1",
        run.id,
        RunEnd {
            session: Some("sess-9".into()),
            reason: Some("exit 1".into()),
            ..ended(RunStatus::Crashed)
        },
    )
    .unwrap();
    // While an agent holds the task, it is not retried under it.
    assert_eq!(
        api.retry_run("human", run.id).unwrap_err().code(),
        "task_not_retryable"
    );
    api.block(
        "claude-1",
        t.id,
        BlockRequest {
            reason: "the agent crashed".into(),
            fence: Some(claim.claim.fence),
        },
    )
    .unwrap();
    let task = api.retry_run("human", run.id).expect("retry");
    assert_eq!(task.status, Status::Open);
    let run = api.get_run(run.id).unwrap();
    assert_eq!(
        run.session.as_deref(),
        Some("sess-9"),
        "the session stays to be resumed"
    );
    assert_eq!(actions(api, "run.retry_requested").len(), 1);
    // Open already: a retry is allowed and changes nothing.
    assert_eq!(api.retry_run("human", run.id).unwrap().status, Status::Open);
}

pub fn a_run_log_is_cut_and_bounded(api: &dyn Api) {
    let t = add(api, task("auth"));
    let run = api.start_run("claude-1", new_run(t.id)).unwrap();
    let long = "é".repeat(6000); // 12,000 bytes
    let n = api
        .append_run_log(run.id, vec!["first".into(), long, "third".into()])
        .unwrap();
    assert_eq!(n, 3);
    let lines = api.run_log(run.id, 0, 100).unwrap();
    assert_eq!(
        lines.iter().map(|l| l.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(lines[1].line.len() <= 4000 && lines[1].line.ends_with("..."));
    assert!(lines[1].line.starts_with('é'));
    assert_eq!(api.run_log(run.id, 2, 100).unwrap()[0].line, "third");

    let too_many = vec!["x".to_string(); 1001];
    assert_eq!(
        api.append_run_log(run.id, too_many).unwrap_err().code(),
        "invalid_input"
    );
    for batch in 0..5 {
        let lines = (0..1000)
            .map(|i| format!("line {}", 4 + batch * 1000 + i))
            .collect();
        api.append_run_log(run.id, lines).unwrap();
    }
    // 5,003 lines written; the newest 5,000 kept.
    assert_eq!(api.get_run(run.id).unwrap().log_lines, 5003);
    let first = api.run_log(run.id, 0, 1).unwrap();
    assert_eq!(first[0].seq, 4, "the oldest lines went first");
    assert_eq!(api.run_log(run.id, 5002, 10).unwrap()[0].line, "line 5003");
    assert_eq!(
        api.run_log(RunId(77), 0, 10).unwrap_err().code(),
        "run_not_found"
    );
}

pub fn runs_are_listed_newest_first_by_status_task_and_host(api: &dyn Api) {
    let a = add(api, task("a"));
    let b = add(api, task("b"));
    let r1 = api.start_run("claude-1", new_run(a.id)).unwrap();
    let mut other = new_run(b.id);
    other.host = "build-2".into();
    let r2 = api.start_run("claude-2", other).unwrap();
    let r3 = api.start_run("claude-1", new_run(a.id)).unwrap();
    api.finish_run("claude-1", r1.id, ended(RunStatus::Hung))
        .unwrap();
    let ids = |f: RunFilter| -> Vec<RunId> {
        api.list_runs(&f)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(RunFilter::default()), vec![r3.id, r2.id, r1.id]);
    let running = RunFilter {
        status: vec![RunStatus::Running],
        ..RunFilter::default()
    };
    assert_eq!(ids(running), vec![r3.id, r2.id]);
    let of_a = RunFilter {
        task: Some(a.id),
        ..RunFilter::default()
    };
    assert_eq!(ids(of_a), vec![r3.id, r1.id]);
    let on_2 = RunFilter {
        host: Some("build-2".into()),
        ..RunFilter::default()
    };
    assert_eq!(ids(on_2), vec![r2.id]);
    let one = RunFilter {
        limit: Some(1),
        ..RunFilter::default()
    };
    assert_eq!(ids(one), vec![r3.id]);
}

pub fn accounts_keep_their_state_for_every_runner(api: &dyn Api) {
    let update = |status, until: Option<Timestamp>, used| AccountUpdate {
        provider: "claude".into(),
        name: "work".into(),
        status,
        until,
        reason: None,
        used,
    };
    let e = api
        .set_account("runner", update(AccountStatus::Cooling, None, false))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input", "cooling needs an end");
    let a = api
        .set_account("runner", update(AccountStatus::Available, None, true))
        .unwrap();
    assert_eq!(a.status, AccountStatus::Available);
    let used_at = a.last_used_at.expect("handing it to a run is recorded");
    let until = Timestamp::now().plus(std::time::Duration::from_secs(3600));
    let mut cooling = update(AccountStatus::Cooling, Some(until), false);
    cooling.reason = Some("rate limited".into());
    let c = api.set_account("runner", cooling).unwrap();
    assert_eq!((c.status, c.until), (AccountStatus::Cooling, Some(until)));
    assert_eq!(
        c.last_used_at,
        Some(used_at),
        "a state change keeps when it was last used"
    );
    api.set_account(
        "runner",
        AccountUpdate {
            name: "spare".into(),
            ..update(AccountStatus::Available, None, false)
        },
    )
    .unwrap();
    let mut other = update(AccountStatus::Disabled, None, false);
    other.provider = "codex".into();
    api.set_account("runner", other).unwrap();
    let claude = api.accounts(Some("claude")).unwrap();
    assert_eq!(
        claude
            .iter()
            .map(|a| (a.name.as_str(), a.status))
            .collect::<Vec<_>>(),
        vec![
            ("spare", AccountStatus::Available),
            ("work", AccountStatus::Cooling)
        ]
    );
    assert_eq!(api.accounts(None).unwrap().len(), 3);
    // The same state again is not a new event.
    api.set_account("runner", update(AccountStatus::Available, None, true))
        .unwrap();
    api.set_account("runner", update(AccountStatus::Available, None, true))
        .unwrap();
    assert_eq!(actions(api, "account.updated").len(), 5);
}
