//! The board's record of runs, kept by the runner: each run is written before its process
//! starts, updated while it runs (process, session, usage; the answer carries stop
//! requests), its output appended in batches, and ended with its outcome. A runner that
//! starts again finds the runs its dead predecessor left `running` and re-adopts those
//! whose process is still the same one, or marks them `interrupted`, keeps their work and
//! puts their tasks back to be resumed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use baton_core::api::{AccountUpdate, BlockRequest, RunEnd, RunFilter, RunUpdate, TaskPatch};
use baton_core::model::{Run, RunStatus, RunUsage, Status};
use baton_core::{Api, RunId};

use crate::process::{group_alive, same_process, signal_group, start_ticks, StopLadder};
use crate::record::{Outcome, RunRecord, Usage};
use crate::worktree::Repo;

/// Lines kept in memory before a flush to the board.
const LOG_BATCH: usize = 500;
/// The longest line sent to the board (the raw log file keeps lines whole).
const LOG_LINE: usize = 4000;

/// This runner: its host and `host:pid:start` (the start tells a reused pid apart).
#[derive(Clone, Debug)]
pub struct RunnerId {
    pub host: String,
    pub id: String,
}

impl RunnerId {
    pub fn this_process() -> RunnerId {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let pid = std::process::id();
        let ticks = start_ticks(pid).unwrap_or(0);
        RunnerId {
            id: format!("{host}:{pid}:{ticks}"),
            host,
        }
    }

    /// Whether the runner named `id` (on this host) is still the same live process.
    pub fn alive(id: &str) -> bool {
        let mut parts = id.rsplitn(3, ':');
        let (Some(ticks), Some(pid)) = (parts.next(), parts.next()) else {
            return false;
        };
        match (pid.parse::<u32>(), ticks.parse::<u64>()) {
            (Ok(pid), Ok(ticks)) => same_process(pid, ticks),
            _ => false,
        }
    }
}

pub fn status_of(outcome: &Outcome) -> RunStatus {
    match outcome {
        Outcome::Succeeded => RunStatus::Succeeded,
        Outcome::MaxTurns => RunStatus::MaxTurns,
        Outcome::RateLimited { .. } => RunStatus::RateLimited,
        Outcome::QuotaExhausted { .. } => RunStatus::QuotaExhausted,
        Outcome::AuthFailed { .. } => RunStatus::AuthFailed,
        Outcome::Crashed { .. } => RunStatus::Crashed,
        Outcome::Hung => RunStatus::Hung,
        Outcome::Stopped => RunStatus::Stopped,
    }
}

fn reason_of(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Crashed { reason } | Outcome::AuthFailed { reason } => Some(reason.clone()),
        Outcome::RateLimited { reset_at } | Outcome::QuotaExhausted { reset_at } => {
            reset_at.map(|at| format!("until {at}"))
        }
        Outcome::Hung => Some("no output for longer than the idle timeout".into()),
        _ => None,
    }
}

pub fn usage_of(usage: &Usage) -> RunUsage {
    RunUsage {
        input_tokens: usage.input_tokens,
        output_tokens: usage.output_tokens,
        cache_read_tokens: usage.cache_read_tokens,
        cache_write_tokens: usage.cache_write_tokens,
        reasoning_tokens: usage.reasoning_tokens,
        cost_usd: usage.cost_usd,
        turns: usage.turns,
    }
}

/// The board's side of one running run: output lines waiting to be sent, and whether a
/// stop was asked for. Board errors never stop a run: the raw log keeps everything.
pub struct BoardRun<'a> {
    pub api: &'a dyn Api,
    pub agent: &'a str,
    pub id: RunId,
    pending: Vec<String>,
    last_sync: Instant,
    every: Duration,
    pub stop_requested: bool,
    /// The run was ended by someone else (the board says so): stop.
    pub ended_elsewhere: bool,
}

impl<'a> BoardRun<'a> {
    pub fn new(api: &'a dyn Api, agent: &'a str, id: RunId, every: Duration) -> Self {
        BoardRun {
            api,
            agent,
            id,
            pending: Vec::new(),
            last_sync: Instant::now(),
            every,
            stop_requested: false,
            ended_elsewhere: false,
        }
    }

    pub fn line(&mut self, line: &str) {
        self.pending.push(crate::record::cut(line, LOG_LINE));
        if self.pending.len() >= LOG_BATCH {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let lines = std::mem::take(&mut self.pending);
        if let Err(e) = self.api.append_run_log(self.id, lines) {
            warn(&format!(
                "run {}: could not store output lines: {e}",
                self.id
            ));
        }
    }

    /// Every `every`: sends the output so far and learns of a stop request.
    pub fn tick(&mut self) {
        if self.last_sync.elapsed() < self.every {
            return;
        }
        self.last_sync = Instant::now();
        self.flush();
        match self
            .api
            .update_run(self.agent, self.id, RunUpdate::default())
        {
            Ok(run) => self.stop_requested |= run.stop_requested,
            Err(e) if e.code() == "run_ended" || e.code() == "run_not_found" => {
                self.ended_elsewhere = true
            }
            Err(_) => {}
        }
    }
}

/// Ends a run on the board with what its record says.
pub fn finish(api: &dyn Api, agent: &str, id: RunId, record: &RunRecord) {
    let end = RunEnd {
        status: status_of(&record.outcome),
        reason: reason_of(&record.outcome),
        final_text: record.final_text.clone(),
        session: record.session_id.clone(),
        usage: Some(usage_of(&record.usage)),
    };
    if let Err(e) = api.finish_run(agent, id, end) {
        warn(&format!("run {id}: could not record its end: {e}"));
    }
}

/// Mirrors an account's state to the board, where every runner and the dashboard see it.
pub fn share_account(api: &dyn Api, actor: &str, update: AccountUpdate) {
    let name = update.name.clone();
    if let Err(e) = api.set_account(actor, update) {
        warn(&format!("account {name}: could not share its state: {e}"));
    }
}

/// The session a new claim of `task` should resume: the latest ended run of the same
/// provider that left one, unless it succeeded (a finished session starts afresh), or
/// unless a reviewer sent the work back since (its session takes the review).
pub fn resumable(api: &dyn Api, task: &baton_core::Task, provider: &str) -> Option<Run> {
    let runs = api
        .list_runs(&RunFilter {
            task: Some(task.id),
            limit: Some(20),
            ..RunFilter::default()
        })
        .ok()?;
    let last = runs
        .into_iter()
        .find(|r| r.provider == provider && r.status.is_final() && r.session.is_some())?;
    if last.status != RunStatus::Succeeded || sent_back_since(task, &last).is_some() {
        return Some(last);
    }
    None
}

/// For a task no agent has run yet whose parent one did (a phase's revision): the
/// parent's last finished run with a session on `provider`, whose session the revision
/// can go on with.
pub fn inherited(api: &dyn Api, task: &baton_core::Task, provider: &str) -> Option<Run> {
    let parent = task.parent?;
    let own = api
        .list_runs(&RunFilter {
            task: Some(task.id),
            limit: Some(1),
            ..RunFilter::default()
        })
        .ok()?;
    if !own.is_empty() {
        return None;
    }
    api.list_runs(&RunFilter {
        task: Some(parent),
        limit: Some(20),
        ..RunFilter::default()
    })
    .ok()?
    .into_iter()
    .find(|r| r.provider == provider && r.status.is_final() && r.session.is_some())
}

/// The reviewer's feedback when the task was rejected after `run` ended.
pub fn sent_back_since(task: &baton_core::Task, run: &Run) -> Option<String> {
    let since = run.ended_at.unwrap_or(run.started_at);
    task.notes
        .iter()
        .rev()
        .find(|n| n.at >= since && n.text.starts_with("Rejected: "))
        .map(|n| n.text.trim_start_matches("Rejected: ").to_string())
}

/// A run on another host not updated for this long has lost its runner (a live runner
/// updates each of its runs every second or so).
pub const STALE_ELSEWHERE: Duration = Duration::from_secs(600);

/// What [`recover`] did with one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recovered {
    /// Its process lived on; watched to its end by this runner.
    Adopted(RunId),
    /// Its process was gone: work kept, task put back to be resumed.
    Interrupted(RunId),
}

/// Finds the runs this host's dead runners left `running`. Those whose process is still
/// the same one are adopted (`adopted` gets them, to watch in threads of the caller's);
/// the others are ended `interrupted`, their work committed and their tasks reopened.
/// Runs of other hosts not updated for [`STALE_ELSEWHERE`] are ended `interrupted` too.
pub fn recover(
    api: &dyn Api,
    me: &RunnerId,
    repo: &Repo,
    base: &str,
) -> baton_core::Result<(Vec<Recovered>, Vec<Run>)> {
    let running = api.list_runs(&RunFilter {
        status: vec![RunStatus::Running],
        limit: Some(1000),
        ..RunFilter::default()
    })?;
    let mut done = Vec::new();
    let mut adopt = Vec::new();
    let now = baton_core::time::Timestamp::now();
    for run in running {
        if run.host != me.host {
            // Another machine's run: only its own runner can reach the process. One that
            // has not been updated for long is a runner gone with its machine.
            if run.updated_at.millis_until(now) > STALE_ELSEWHERE.as_millis() as i64 {
                let end = RunEnd {
                    status: RunStatus::Interrupted,
                    reason: Some(format!(
                        "its runner ({}) stopped updating it at {}; its work stays on that machine",
                        run.runner, run.updated_at
                    )),
                    final_text: None,
                    session: None,
                    usage: None,
                };
                if api.finish_run(&run.agent, run.id, end).is_ok() {
                    requeue(api, &run);
                    done.push(Recovered::Interrupted(run.id));
                }
            }
            continue;
        }
        if run.runner == me.id || RunnerId::alive(&run.runner) {
            continue; // another live runner on this host owns it
        }
        let alive = match (run.pid, run.process_start) {
            (Some(pid), Some(ticks)) => same_process(pid, ticks),
            _ => false,
        };
        if alive {
            let update = RunUpdate {
                runner: Some(me.id.clone()),
                ..RunUpdate::default()
            };
            if let Ok(run) = api.update_run(&run.agent, run.id, update) {
                done.push(Recovered::Adopted(run.id));
                adopt.push(run);
            }
            continue;
        }
        // The process is gone (or never started): nothing runs it any more.
        if let Some(pgid) = run.pgid {
            signal_group(pgid, rustix::process::Signal::KILL);
        }
        keep_work(repo, &run, base, "interrupted");
        let end = RunEnd {
            status: RunStatus::Interrupted,
            reason: Some(format!(
                "its runner ({}) stopped and the process is gone; the work was kept",
                run.runner
            )),
            final_text: None,
            session: None,
            usage: None,
        };
        if api.finish_run(&run.agent, run.id, end).is_ok() {
            requeue(api, &run);
            done.push(Recovered::Interrupted(run.id));
        }
    }
    Ok((done, adopt))
}

/// Commits what a run left in its worktree.
fn keep_work(repo: &Repo, run: &Run, base: &str, why: &str) {
    if run.worktree.is_none() {
        return;
    }
    match repo.worktree(run.task, base) {
        Ok(wt) => {
            let message = format!("baton: work left by {} on {} ({why})", run.agent, run.task);
            if let Err(e) = repo.save_work(&wt, &message) {
                warn(&format!("run {}: could not commit its work: {e}", run.id));
            }
        }
        Err(e) => warn(&format!("run {}: its worktree is unusable: {e}", run.id)),
    }
}

/// Puts a run's task back in the queue when its agent still holds it.
fn requeue(api: &dyn Api, run: &Run) {
    let Ok(task) = api.get_task(run.task) else {
        return;
    };
    if task.status == Status::InProgress && task.assignee.as_deref() == Some(run.agent.as_str()) {
        let patch = TaskPatch {
            status: Some(Status::Open),
            ..TaskPatch::default()
        };
        if let Err(e) = api.update_task(&run.agent, run.task, patch) {
            warn(&format!(
                "task {}: could not put it back in the queue: {e}",
                run.task
            ));
        }
    }
}

/// Watches an adopted run's process group to its end: a stop request stops it through
/// the ladder. Its output went to the runner that died, so the outcome is `stopped` when
/// asked for, else `interrupted`; either way its work is committed, and an interrupted
/// run's task goes back to be resumed.
pub fn watch_adopted(
    api: &dyn Api,
    repo: &Repo,
    base: &str,
    run: &Run,
    ladder: StopLadder,
    stop: &AtomicBool,
) {
    let (Some(pid), Some(ticks), Some(pgid)) = (run.pid, run.process_start, run.pgid) else {
        return;
    };
    let mut board = BoardRun::new(api, &run.agent, run.id, Duration::from_secs(1));
    let mut stopped = false;
    while same_process(pid, ticks) {
        board.tick();
        if board.stop_requested || stop.load(Ordering::SeqCst) {
            stopped = board.stop_requested;
            stop_group(pid, ticks, pgid, ladder);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    signal_group(pgid, rustix::process::Signal::KILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while group_alive(pgid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let why = if stopped { "stopped" } else { "interrupted" };
    keep_work(repo, run, base, why);
    let end = RunEnd {
        status: if stopped {
            RunStatus::Stopped
        } else {
            RunStatus::Interrupted
        },
        reason: Some(if stopped {
            "stopped on request after its runner was restarted".into()
        } else {
            format!(
                "its runner ({}) stopped; the process ran on under the new runner until it ended",
                run.runner
            )
        }),
        final_text: None,
        session: None,
        usage: None,
    };
    if api.finish_run(&run.agent, run.id, end).is_err() {
        return;
    }
    if stopped {
        if let Ok(task) = api.get_task(run.task) {
            if task.status == Status::InProgress && task.assignee.as_deref() == Some(&run.agent) {
                let _ = api.block(
                    &run.agent,
                    run.task,
                    BlockRequest {
                        reason: format!(
                            "run {} was stopped; its work is on {}",
                            run.id,
                            run.branch
                                .clone()
                                .unwrap_or_else(|| Repo::task_branch(run.task))
                        ),
                        fence: None,
                    },
                );
            }
        }
    } else {
        requeue(api, run);
    }
}

/// SIGINT, SIGTERM, then SIGKILL to a group this runner did not start.
fn stop_group(pid: u32, ticks: u64, pgid: u32, ladder: StopLadder) {
    use rustix::process::Signal;
    for (signal, grace) in [
        (Signal::INT, ladder.after_interrupt),
        (Signal::TERM, ladder.after_terminate),
    ] {
        signal_group(pgid, signal);
        let until = Instant::now() + grace;
        while same_process(pid, ticks) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        if !same_process(pid, ticks) {
            return;
        }
    }
    signal_group(pgid, Signal::KILL);
}

/// A problem the runner works around, said on stderr (stdout is for reports).
pub fn warn(message: &str) {
    eprintln!("baton runner: {message}");
}
