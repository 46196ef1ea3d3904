//! Scenarios for the operations record (issue 19): sessions, run on every `Api`.

use super::{add, task};
use crate::api::*;
use crate::model::{ActorKind, RunStatus};
use crate::store::EventQuery;
use crate::{Api, SessionId};

fn in_session(api: &dyn Api, session: SessionId) -> Vec<String> {
    api.events(&EventQuery {
        session: Some(session),
        ..EventQuery::default()
    })
    .unwrap()
    .into_iter()
    .map(|e| e.action)
    .collect()
}

/// Events carry the open session of whoever wrote them; one open session per identity; a
/// run is its agent's session and ends with it; only its identity stops a session.
pub fn sessions_carry_what_their_identity_writes(api: &dyn Api) {
    let ops = api.operations();
    let s1 = ops
        .start_session(
            "alice",
            NewSession {
                purpose: Some("  release 1.4 ".into()),
                kind: Some(ActorKind::Human),
                tool: None,
            },
        )
        .unwrap();
    assert_eq!(
        (s1.identity.as_str(), s1.purpose.as_deref(), s1.ended_at),
        ("alice", Some("release 1.4"), None)
    );
    let t = add(api, task("outside any session"));
    api.add_tasks(
        "alice",
        vec![NewTask {
            title: "inside".into(),
            ..NewTask::default()
        }],
    )
    .unwrap();
    ops.log(
        "alice",
        NewLogEntry {
            message: "Build failed".into(),
            level: Some(crate::model::LogLevel::Error),
            task: Some(t.id),
            ..NewLogEntry::default()
        },
    )
    .unwrap();
    assert_eq!(
        in_session(api, s1.id),
        ["session.started", "task.created", "log.note"]
    );
    let info = ops.session(s1.id).unwrap();
    assert_eq!(
        (info.events, info.log_entries, info.errors, info.tasks),
        (3, 1, 1, 2)
    );

    // A second start replaces the first.
    let s2 = ops.start_session("alice", NewSession::default()).unwrap();
    let s1_now = ops.session(s1.id).unwrap().session;
    assert_eq!(s1_now.end_reason.as_deref(), Some("replaced"));
    assert!(s1_now.ended_at.is_some());
    let open = ops
        .sessions(&SessionQuery {
            identity: Some("alice".into()),
            open: true,
            limit: None,
        })
        .unwrap();
    assert_eq!(open.iter().map(|s| s.id).collect::<Vec<_>>(), [s2.id]);

    // Only its identity stops it; a stopped one stays stopped.
    let refused = ops
        .stop_session(
            "bob",
            StopSession {
                session: Some(s2.id),
            },
        )
        .unwrap_err();
    assert_eq!(refused.class(), crate::ErrorClass::Forbidden);
    assert_eq!(
        ops.stop_session("bob", StopSession::default())
            .unwrap_err()
            .code(),
        "no_open_session"
    );
    let stopped = ops.stop_session("alice", StopSession::default()).unwrap();
    assert_eq!(
        (stopped.id, stopped.end_reason.as_deref()),
        (s2.id, Some("stopped"))
    );
    assert_eq!(
        ops.stop_session(
            "alice",
            StopSession {
                session: Some(s2.id)
            }
        )
        .unwrap_err()
        .code(),
        "session_ended"
    );
    // After it: no session.
    let after = ops
        .log(
            "alice",
            NewLogEntry {
                message: "after".into(),
                ..NewLogEntry::default()
            },
        )
        .unwrap();
    assert_eq!(after.session, None);

    // A run is its agent's session, closed by the run's end with its status.
    let run = api
        .start_run(
            "claude-1",
            NewRun {
                task: t.id,
                provider: "claude".into(),
                account: None,
                attempt: 1,
                runner: "r:1:1".into(),
                host: "r".into(),
                worktree: None,
                branch: None,
                session: None,
                spool: None,
            },
        )
        .unwrap();
    let run_session = ops
        .sessions(&SessionQuery {
            identity: Some("claude-1".into()),
            open: true,
            limit: None,
        })
        .unwrap();
    assert_eq!(run_session.len(), 1);
    let rs = &run_session[0];
    assert_eq!(
        (rs.run, rs.kind, rs.tool.as_deref()),
        (Some(run.id), ActorKind::Ai, Some("claude"))
    );
    assert_eq!(
        ops.stop_session(
            "claude-1",
            StopSession {
                session: Some(rs.id)
            }
        )
        .unwrap_err()
        .code(),
        "run_session",
        "a run's session ends with its run"
    );
    api.finish_run(
        "claude-1",
        run.id,
        RunEnd {
            status: RunStatus::Crashed,
            reason: None,
            final_text: None,
            session: None,
            usage: None,
        },
    )
    .unwrap();
    let ended = ops.session(rs.id).unwrap();
    assert_eq!(ended.session.end_reason.as_deref(), Some("crashed"));
    assert_eq!(
        in_session(api, rs.id),
        [
            "session.started",
            "run.started",
            "run.finished",
            "session.ended"
        ]
    );
    assert_eq!(
        ops.session(SessionId(999)).unwrap_err().code(),
        "session_not_found"
    );
    let too_long = ops
        .start_session(
            "alice",
            NewSession {
                purpose: Some("x".repeat(1001)),
                ..NewSession::default()
            },
        )
        .unwrap_err();
    assert_eq!(too_long.code(), "invalid_input");
}

/// A batch of log entries is written whole in one transaction, or not at all when any
/// entry is bad (named by its place); empty and oversized batches are refused.
pub fn log_batches_are_written_whole_or_not_at_all(api: &dyn Api) {
    let ops = api.operations();
    let entry = |m: &str| NewLogEntry {
        message: m.into(),
        action: Some("BUILD".into()),
        ..NewLogEntry::default()
    };
    let report = ops
        .log_batch(
            "ci",
            LogBatch {
                entries: vec![entry("step 1"), entry("step 2 ✓"), entry("step 3")],
            },
        )
        .unwrap();
    assert_eq!(report.written, 3);
    let (first, last) = (report.first.unwrap(), report.last.unwrap());
    assert_eq!(last - first, 2, "{report:?}");
    let written = api
        .events(&EventQuery {
            action: Some("log.build".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(
        written
            .iter()
            .map(|e| (
                e.id,
                e.actor.as_str(),
                e.detail["message"].as_str().unwrap()
            ))
            .collect::<Vec<_>>(),
        vec![
            (first, "ci", "step 1"),
            (first + 1, "ci", "step 2 ✓"),
            (last, "ci", "step 3")
        ]
    );

    let before = log_messages(api).len();
    let mut bad = entry("fine");
    bad.action = Some("no good!".into());
    let e = ops
        .log_batch(
            "ci",
            LogBatch {
                entries: vec![entry("kept?"), bad],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input", "{e}");
    assert!(e.to_string().contains("log entry 1"), "{e}");
    let mut unknown = entry("about a task");
    unknown.task = Some("T-404".parse().unwrap());
    let e = ops
        .log_batch(
            "ci",
            LogBatch {
                entries: vec![entry("kept?"), unknown],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "task_not_found", "{e}");
    for entries in [vec![], vec![entry("x"); MAX_LOG_BATCH + 1]] {
        let e = ops.log_batch("ci", LogBatch { entries }).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{e}");
    }
    let e = ops
        .log_batch(
            "baton",
            LogBatch {
                entries: vec![entry("as the system")],
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input", "{e}");
    assert_eq!(
        log_messages(api).len(),
        before,
        "nothing of a refused batch"
    );
}

fn log_messages(api: &dyn Api) -> Vec<String> {
    api.events(&EventQuery {
        action: Some("log.".into()),
        ..EventQuery::default()
    })
    .unwrap()
    .into_iter()
    .map(|e| e.detail["message"].as_str().unwrap_or_default().to_string())
    .collect()
}

/// `log_retention` deletes log entries and the output of ended runs once older than it,
/// in bounded batches, and records that it did; board events, newer entries and the
/// output of runs still going stay; a dry run only counts; bad periods are refused.
pub fn retention_deletes_old_log_entries_and_ended_runs_output_only(f: &dyn super::ApiFixture) {
    use super::runs::{ended, new_run};
    let api = f.api();
    let ops = api.operations();
    let note = |message: &str| NewLogEntry {
        message: message.into(),
        ..NewLogEntry::default()
    };
    let t = add(api, task("auth"));
    let u = add(api, task("billing"));
    ops.log("alice", note("old build")).unwrap();
    let done = api.start_run("claude-1", new_run(t.id)).unwrap();
    api.append_run_log(done.id, vec!["a".into(), "b".into()])
        .unwrap();
    api.finish_run("claude-1", done.id, ended(RunStatus::Succeeded))
        .unwrap();
    let live = api.start_run("claude-2", new_run(u.id)).unwrap();
    api.append_run_log(live.id, vec!["still going".into()])
        .unwrap();

    // Off by default: nothing goes, however old.
    f.advance(std::time::Duration::from_secs(400 * 86_400));
    let off = ops.prune("lead", PruneRequest::default()).unwrap();
    // Only the server's own pass acts as the system.
    let reserved = ops.prune("baton", PruneRequest::default()).unwrap_err();
    assert_eq!(reserved.code(), "invalid_input", "{reserved}");
    assert_eq!(
        (
            off.retention.as_str(),
            off.before,
            off.log_entries,
            off.run_log_lines
        ),
        ("off", None, 0, 0)
    );
    for bad in ["30", "5x", "30s", "200y", "-1d"] {
        let e = api.set_setting("lead", "log_retention", bad).unwrap_err();
        assert_eq!(e.code(), "invalid_input", "{bad}");
    }
    assert_eq!(
        api.set_setting("lead", "log_retention", " 30d ")
            .unwrap()
            .value,
        "30d"
    );
    ops.log("alice", note("new build")).unwrap();

    let dry = ops
        .prune(
            "lead",
            PruneRequest {
                dry_run: true,
                limit: None,
            },
        )
        .unwrap();
    assert_eq!(
        (dry.dry_run, dry.log_entries, dry.run_log_lines, dry.more),
        (true, 1, 2, false)
    );
    assert_eq!(log_messages(api), ["old build", "new build"]);
    assert_eq!(api.run_log(done.id, 0, 10).unwrap().len(), 2);

    let first = ops
        .prune(
            "lead",
            PruneRequest {
                dry_run: false,
                limit: Some(1),
            },
        )
        .unwrap();
    assert_eq!(
        (first.log_entries, first.run_log_lines, first.more),
        (1, 1, true)
    );
    let rest = ops.prune("lead", PruneRequest::default()).unwrap();
    assert_eq!(
        (rest.log_entries, rest.run_log_lines, rest.more),
        (0, 1, false)
    );
    assert_eq!(log_messages(api), ["new build"]);
    assert!(api.run_log(done.id, 0, 10).unwrap().is_empty());
    assert_eq!(api.run_log(live.id, 0, 10).unwrap()[0].line, "still going");
    // The board's own record is whole: the tasks' creation, the runs, the setting.
    let board = api.events(&EventQuery::default()).unwrap();
    for action in [
        "task.created",
        "run.started",
        "run.finished",
        "config.updated",
    ] {
        assert!(board.iter().any(|e| e.action == action), "{action} kept");
    }
    let applied = |api: &dyn Api| {
        api.events(&EventQuery {
            action: Some(crate::model::actions::RETENTION_APPLIED.into()),
            ..EventQuery::default()
        })
        .unwrap()
    };
    let records = applied(api);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].actor, "lead");
    assert_eq!(records[0].detail["log_entries"], 1);
    // Nothing older left: a prune changes nothing and records nothing.
    let idle = ops.prune("lead", PruneRequest::default()).unwrap();
    assert_eq!((idle.log_entries, idle.run_log_lines), (0, 0));
    assert_eq!(applied(api).len(), 2);
}
