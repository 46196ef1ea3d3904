//! The runner: agents named `<provider>-<n>` claim ready tasks through the board's `Api`
//! (the local file, PostgreSQL, or a server: the runner is a client like any agent), each
//! run in its own worktree on the task's branch, supervised to its end.
//!
//! After every run the agent's leftover work is committed. A run that succeeds with
//! committed work ends in review (the agent's own `done`, or the runner's for it); a crash,
//! a hang or a turn limit is retried, resuming the session where the provider can; what
//! cannot be retried here (limits, credentials, a stop, retries used up) blocks the task
//! with the reason and the last output, so a person sees it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_core::api::{BlockRequest, DoneRequest, HeartbeatRequest, PickupRequest};
use baton_core::time::Timestamp;
use baton_core::{Api, Doc, Error, Status, Task, TaskId};

use crate::accounts::{Account, Accounts, Pick, DEFAULT_COOLING};
use crate::adapters::adapter_for;
use crate::process::AgentProcess;
use crate::prompt::{self, PromptParts};
use crate::provider::{Provider, RunSpec};
use crate::record::{cut, Outcome, RunEvent, RunRecord};
use crate::runs::{self as board_runs, BoardRun, Recovered, RunnerId};
use crate::supervise::{supervise, Control, Watch};
use crate::verify::{self, Verification};
use crate::worktree::{GitError, Removal, Repo, Worktree};
use baton_core::api::{AccountUpdate, NewRun};
use baton_core::model::AccountStatus;

/// What a runner is set up with.
#[derive(Clone)]
pub struct RunnerOptions {
    pub provider: Provider,
    /// The repository the worktrees are made from.
    pub repo: PathBuf,
    /// What new task branches start from (a branch or commit).
    pub base: String,
    pub max_agents: usize,
    /// Stop once no task is ready, instead of waiting for more.
    pub once: bool,
    pub watch: Watch,
    /// Where each run's raw output is kept (`<task>-<agent>-<attempt>.log`).
    pub logs: PathBuf,
    /// Environment every agent gets on top of its provider's (where the board is).
    pub agent_env: Vec<(String, String)>,
    /// Runs of one claim before the task is blocked.
    pub max_attempts: u32,
    /// How often an idle agent slot looks for ready work.
    pub poll: Duration,
    /// Makes an idle slot's way of waiting for the board to change (a store watcher, the
    /// server's event stream), so queued merges, errand requests and messages are taken at
    /// once rather than at the next poll; `None` polls.
    pub wake: Option<MakeWake>,
    /// How often the runner renews a running task's lease.
    pub heartbeat: Duration,
    /// The longest a task's verify command may run.
    pub verify_limit: Duration,
    /// The provider's accounts (shared by every slot).
    pub accounts: Arc<Accounts>,
    /// The longest a slot waits, holding its task, for a cooling account to come back;
    /// beyond it the task is blocked with the reset time.
    pub max_wait: Duration,
    /// This runner, as its runs record it.
    pub runner: RunnerId,
    /// Its agents are `<name>-1`, `<name>-2`, ... (the provider's name unless given).
    pub name: String,
    /// How often a running run's output goes to the board and stop requests are read.
    pub sync: Duration,
}

/// Waits up to the given time for the board to change; returns early when it did.
pub type Wake = Box<dyn Fn(Duration)>;
/// Makes a [`Wake`] for one agent slot (called on the slot's own thread).
pub type MakeWake = Arc<dyn Fn() -> Option<Wake> + Send + Sync>;

/// Opens a connection to the board, one per agent slot.
pub type OpenBoard = Arc<dyn Fn() -> baton_core::Result<Box<dyn Api>> + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Board(#[from] Error),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One claim of one task, run to its end.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub task: TaskId,
    pub agent: String,
    pub branch: String,
    /// Every run of the claim, in order (a retry is a run of its own).
    pub runs: Vec<RunRecord>,
    /// Commits on the task's branch since its base.
    pub commits: Vec<String>,
    /// The task's status afterwards.
    pub status: Status,
    pub logs: Vec<PathBuf>,
    /// The task's verify command after each run that said it was finished.
    pub verifications: Vec<Verification>,
    /// What became of the task's worktree.
    pub worktree: Removal,
    /// The commit the branch started from, and its diff in one line.
    pub base: String,
    pub diff: Option<String>,
}

/// Runs agent slots until no work is left (`once`) or `stop` is set; `report` hears of
/// each finished claim.
pub fn run(
    options: &RunnerOptions,
    open: OpenBoard,
    stop: Arc<AtomicBool>,
    report: Arc<dyn Fn(&RunReport) + Send + Sync>,
) -> Result<Vec<RunReport>, RunnerError> {
    let (_, adopted) = recover(options, &open, &stop)?;
    let slots: Vec<_> = (1..=options.max_agents.max(1))
        .map(|n| {
            let options = options.clone();
            let open = open.clone();
            let stop = stop.clone();
            let report = report.clone();
            let agent = format!("{}-{n}", options.name);
            std::thread::Builder::new()
                .name(format!("baton-runner-{agent}"))
                .spawn(move || -> Result<Vec<RunReport>, RunnerError> {
                    let api = open()?;
                    let wake = options.wake.as_ref().and_then(|make| make());
                    let mut done = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        if n == 1 {
                            merge_pass(api.as_ref(), &options, &agent);
                            errand_pass(api.as_ref(), &options, &stop);
                            chat_pass(api.as_ref(), &options, &stop);
                        }
                        match run_one(api.as_ref(), &options, &agent, &stop)? {
                            Some(r) => {
                                report(&r);
                                done.push(r);
                            }
                            None if options.once => break,
                            None => idle(&stop, options.poll, wake.as_ref()),
                        }
                    }
                    Ok(done)
                })
        })
        .collect::<Result<_, _>>()?;
    let mut all = Vec::new();
    for watcher in adopted {
        let _ = watcher.join();
    }
    for slot in slots {
        match slot.join() {
            Ok(result) => all.extend(result?),
            Err(_) => {
                return Err(RunnerError::Io(std::io::Error::other(
                    "an agent slot panicked",
                )))
            }
        }
    }
    Ok(all)
}

/// Before any slot starts: the runs this host's dead runners left running are re-adopted
/// (watched in threads returned here) or interrupted and requeued; accounts take the
/// states the board holds for them.
pub fn recover(
    options: &RunnerOptions,
    open: &OpenBoard,
    stop: &Arc<AtomicBool>,
) -> Result<(Vec<Recovered>, Vec<std::thread::JoinHandle<()>>), RunnerError> {
    let api = open()?;
    let repo = Repo::open(&options.repo)?;
    let now = Timestamp::now();
    refuse_taken_names(api.as_ref(), options, now)?;
    let known = options.accounts.names();
    for state in api.accounts(Some(&options.provider.name))? {
        if !known.contains(&state.name) {
            continue;
        }
        match (state.status, state.until) {
            (AccountStatus::Cooling, Some(until)) if until > now => {
                options.accounts.park(&state.name, until)
            }
            (AccountStatus::Disabled, _) => options.accounts.disable(
                &state.name,
                state.reason.as_deref().unwrap_or("disabled on the board"),
            ),
            _ => {}
        }
    }
    let (recovered, adopt) =
        board_runs::recover(api.as_ref(), &options.runner, &repo, &options.base)?;
    let mut watchers = Vec::new();
    for run in adopt {
        let open = open.clone();
        let stop = stop.clone();
        let repo_dir = options.repo.clone();
        let base = options.base.clone();
        let ladder = options.watch.ladder;
        watchers.push(
            std::thread::Builder::new()
                .name(format!("baton-adopted-{}", run.id))
                .spawn(move || {
                    let (Ok(api), Ok(repo)) = (open(), Repo::open(&repo_dir)) else {
                        return;
                    };
                    board_runs::watch_adopted(api.as_ref(), &repo, &base, &run, ladder, &stop);
                })?,
        );
    }
    Ok((recovered, watchers))
}

/// How recently a run on another host must have been updated for its runner to count as
/// alive (a live runner updates each of its runs every `sync`).
const ALIVE_ELSEWHERE: Duration = Duration::from_secs(120);

/// Refuses to start when another live runner already runs agents under this runner's
/// names: two runners sharing an identity would renew and finish each other's claims.
fn refuse_taken_names(
    api: &dyn Api,
    options: &RunnerOptions,
    now: Timestamp,
) -> Result<(), RunnerError> {
    let names: Vec<String> = (1..=options.max_agents.max(1))
        .map(|n| format!("{}-{n}", options.name))
        .collect();
    let running = api.list_runs(&baton_core::api::RunFilter {
        status: vec![baton_core::model::RunStatus::Running],
        limit: Some(1000),
        ..Default::default()
    })?;
    for run in running {
        if run.runner == options.runner.id || !names.contains(&run.agent) {
            continue;
        }
        let alive = if run.host == options.runner.host {
            RunnerId::alive(&run.runner)
        } else {
            run.updated_at.millis_until(now) < ALIVE_ELSEWHERE.as_millis() as i64
        };
        if alive {
            return Err(RunnerError::Board(Error::Conflict {
                code: "agent_names_taken",
                message: format!(
                    "another runner ({}) is running {} as {}",
                    run.runner, run.id, run.agent
                ),
                hint: Some(
                    "give each runner its own agent names with --name (agents are <name>-1, <name>-2, ...)"
                        .into(),
                ),
            }));
        }
    }
    Ok(())
}

/// An idle slot waits for the board to change (or `total` at most), seeing `stop` within a
/// second.
fn idle(stop: &AtomicBool, total: Duration, wake: Option<&Wake>) {
    let Some(wake) = wake else {
        return sleep_unless(stop, total);
    };
    let until = Instant::now() + total;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let step = left.min(Duration::from_secs(1));
        let started = Instant::now();
        wake(step);
        if started.elapsed() + Duration::from_millis(5) < step {
            return; // the board changed
        }
    }
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let until = Instant::now() + total;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The task's worktree on its branch. A task of an initiative starts from its phase's
/// branch (created, with the initiative's, when missing); a `merge` task starts from the
/// conflicting branch with the target merged in and the conflicts left to resolve; any
/// other task starts from the runner's base.
fn task_worktree(
    api: &dyn Api,
    repo: &Repo,
    task: &Task,
    base: &str,
) -> Result<Worktree, RunnerError> {
    task_worktree_at(api, repo, task, base, &task.id.to_string())
}

/// [`task_worktree`] in `.baton/worktrees/<place>` (a revision takes its parent's place,
/// where the parent's agent session was).
fn task_worktree_at(
    api: &dyn Api,
    repo: &Repo,
    task: &Task,
    base: &str,
    place: &str,
) -> Result<Worktree, RunnerError> {
    let plan = api.merges().branch_plan(task.id)?;
    repo.fetch()?;
    let branch = Repo::task_branch(task.id);
    if task.initiative.is_none() && plan.premerge.is_none() {
        return Ok(repo.worktree_named(place, &branch, &repo.start_point(base)?)?);
    }
    repo.ensure_branches(&plan.create)?;
    let wt = repo.worktree_named(place, &branch, &repo.start_point(&plan.base)?)?;
    if let Some(target) = &plan.premerge {
        repo.premerge(&wt, &repo.start_point(target)?)?;
    }
    Ok(wt)
}

/// What a resumed session is told: the review's feedback and open line comments when a
/// person sent the task back since the last run, else to carry on.
fn resume_prompt(api: &dyn Api, task: &Task, previous: &baton_core::model::Run) -> String {
    let feedback = board_runs::sent_back_since(task, previous);
    let comments = api
        .plan()
        .list_comments(&baton_core::api::CommentFilter {
            phase: None,
            task: Some(task.id),
            open: true,
        })
        .unwrap_or_default();
    if feedback.is_none() && comments.is_empty() {
        return prompt::resume(task, previous.status.as_str());
    }
    prompt::changes_requested(task, feedback.as_deref(), &comments)
}

/// Answers what people sent this runner's agents about tasks they worked on (`baton
/// chat`): the agent's session is resumed in the task's worktree with the message, its
/// reply becomes the answer in the same thread, and any change it makes is committed on the
/// task's branch. A task an agent is working on right now is left to that agent.
fn chat_pass(api: &dyn Api, options: &RunnerOptions, stop: &AtomicBool) {
    for n in 1..=options.max_agents.max(1) {
        let agent = format!("{}-{n}", options.name);
        let request = baton_core::api::InboxRequest {
            limit: Some(50),
            ..Default::default()
        };
        let Ok(inbox) = api.inbox(&agent, &request) else {
            continue;
        };
        for question in inbox {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let ours = question.is_question()
                && question.to == agent
                && question.answered_at.is_none()
                && question.task.is_some();
            if !ours {
                continue;
            }
            if let Err(e) = chat_one(api, options, &agent, &question, stop) {
                board_runs::warn(&format!("{}: could not answer {}: {e}", agent, question.id));
            }
        }
    }
}

fn chat_one(
    api: &dyn Api,
    options: &RunnerOptions,
    agent: &str,
    question: &baton_core::model::Message,
    stop: &AtomicBool,
) -> Result<(), RunnerError> {
    let Some(task_id) = question.task else {
        return Ok(());
    };
    let task = api.get_task(task_id)?;
    if task.status == Status::InProgress {
        return Ok(());
    }
    let account = match options.accounts.pick(Timestamp::now()) {
        Pick::Use(account) => account,
        // No account now: the question waits for the next pass.
        Pick::WaitUntil(_) | Pick::Nothing(_) => return Ok(()),
    };
    let runs = api.list_runs(&baton_core::api::RunFilter {
        task: Some(task_id),
        limit: Some(50),
        ..Default::default()
    })?;
    let session = runs
        .iter()
        .find(|r| r.provider == options.provider.name && r.session.is_some())
        .and_then(|r| r.session.clone())
        .filter(|_| options.provider.can_resume());
    let repo = Repo::open(&options.repo)?;
    let wt = task_worktree(api, &repo, &task, &options.base)?;
    let prompt = prompt::chat(&task, &question.from, &question.body, session.is_some());
    std::fs::create_dir_all(&options.logs)?;
    let log_path = options
        .logs
        .join(format!("{}-{agent}-chat-{}.log", task.id, question.id));
    let run_id = api
        .start_run(
            agent,
            NewRun {
                task: task.id,
                provider: options.provider.name.clone(),
                account: Some(account.name.clone()),
                attempt: runs.len() as u32 + 1,
                runner: options.runner.id.clone(),
                host: options.runner.host.clone(),
                worktree: Some(wt.path.display().to_string()),
                branch: Some(wt.branch.clone()),
                session: session.clone(),
                spool: Some(log_path.display().to_string()),
            },
        )?
        .id;
    let record = one_run(
        api,
        options,
        agent,
        &task,
        None,
        &wt,
        &prompt,
        session.as_deref(),
        &account,
        &log_path,
        stop,
        run_id,
    )?;
    repo.save_work(
        &wt,
        &format!(
            "baton: changes {agent} made answering {} on {}",
            question.id, task.id
        ),
    )?;
    if let Err(e) = repo.publish(&format!("refs/heads/{}", wt.branch), &wt.branch, None) {
        board_runs::warn(&format!("{}: could not push {}: {e}", task.id, wt.branch));
    }
    board_runs::finish(api, agent, run_id, &record);
    let reply = record
        .final_text
        .clone()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| {
            format!(
                "(no reply: the run ended {}; its output is in run {run_id})",
                record.outcome.name()
            )
        });
    api.answer(
        agent,
        question.id,
        baton_core::api::AnswerRequest { body: reply },
    )?;
    repo.remove(&wt, false)?;
    Ok(())
}

/// Does what people asked of errands from the page or the API (start one, talk to its
/// agent, merge it): merges for any provider, runs for errands meant for this runner's.
fn errand_pass(api: &dyn Api, options: &RunnerOptions, stop: &Arc<AtomicBool>) {
    for _ in 0..20 {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        // No account now: the requests wait for the next pass (checked without using one:
        // picking marks an account used, which would skew the tasks' rotation).
        if !options.accounts.available(Timestamp::now()) {
            return;
        }
        let claim = baton_core::api::ErrandClaim {
            runner: options.runner.id.clone(),
            errand: None,
            provider: Some(options.provider.name.clone()),
            lease_secs: None,
        };
        let errand = match api.errands().claim_errand(&options.name, claim) {
            Ok(Some(e)) => e,
            Ok(None) => return,
            Err(e) => {
                board_runs::warn(&format!("errands: {e}"));
                return;
            }
        };
        let mut env = options.agent_env.clone();
        // A merge runs no agent, so it takes no account.
        if errand.request != Some(baton_core::model::ErrandAsk::Merge) {
            if let Pick::Use(account) = options.accounts.pick(Timestamp::now()) {
                env.extend(account.env.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        let agent = crate::errand::ErrandAgent {
            provider: &options.provider,
            agent: format!("errand-{}", errand.id.number()),
            env,
            watch: options.watch,
            log: options.logs.join(format!("{}.log", errand.id)),
            stop: stop.clone(),
        };
        let served = Repo::open(&options.repo)
            .map_err(RunnerError::from)
            .and_then(|repo| {
                crate::errand::serve(api, &repo, &errand, Some(&agent), &options.runner.id)
            });
        match served {
            Ok(s) => board_runs::warn(&format!("errand {}: {}", errand.id, s.errand().status)),
            Err(e) => board_runs::warn(&format!("errand {}: {e}", errand.id)),
        }
    }
}

/// Carries out the merges ready on the board (approved work going up the branch chain);
/// a failure to reach the board is reported and left for the next pass.
fn merge_pass(api: &dyn Api, options: &RunnerOptions, agent: &str) {
    let Ok(repo) = Repo::open(&options.repo) else {
        return;
    };
    match crate::merge::drain(api, agent, &options.runner.id, &repo, 50, None) {
        Ok(done) => {
            for m in done {
                board_runs::warn(&format!(
                    "merge {} ({} into {}): {}",
                    m.id, m.source, m.target, m.state
                ));
            }
        }
        Err(e) => board_runs::warn(&format!("merges: {e}")),
    }
}

/// Claims the best ready task as `agent` and runs it; `None` when nothing is ready.
pub fn run_one(
    api: &dyn Api,
    options: &RunnerOptions,
    agent: &str,
    stop: &AtomicBool,
) -> Result<Option<RunReport>, RunnerError> {
    let claim = match api.pickup(agent, &PickupRequest::default()) {
        Ok(claim) => claim,
        Err(Error::NoTaskReady { .. }) => return Ok(None),
        Err(e) if e.code() == "no_task_ready" => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let task = claim.task;
    let fence = claim.claim.fence;
    let repo = Repo::open(&options.repo)?;
    // A revision of work an agent did under another task (a phase's review asked for
    // changes): that agent's session goes on, in the worktree place it had, so a provider
    // that keeps sessions by directory finds it. Taken only while that place is free.
    let inherited = options
        .provider
        .can_resume()
        .then(|| board_runs::inherited(api, &task, &options.provider.name))
        .flatten()
        .filter(|run| !repo.worktrees_dir().join(run.task.to_string()).exists());
    let wt = match &inherited {
        Some(run) => task_worktree_at(api, &repo, &task, &options.base, &run.task.to_string())?,
        None => task_worktree(api, &repo, &task, &options.base)?,
    };
    let docs = context_docs(api, &task);
    let dependencies: Vec<Task> = task
        .depends_on
        .iter()
        .filter_map(|id| api.get_task(*id).ok())
        .collect();
    let first_prompt = prompt::build(&PromptParts {
        agent,
        task: &task,
        fence,
        branch: &wt.branch,
        docs: &docs,
        dependencies: &dependencies,
    });
    std::fs::create_dir_all(&options.logs)?;

    let mut runs: Vec<RunRecord> = Vec::new();
    let mut logs = Vec::new();
    let mut verifications: Vec<Verification> = Vec::new();
    let mut session: Option<String> = None;
    // The account whose run made the session (None: unknown, taken to be any).
    let mut session_account: Option<String> = None;
    let mut prompt = first_prompt.clone();
    // A task run before (interrupted, retried by a person): its session goes on.
    if options.provider.can_resume() {
        if let Some(previous) = board_runs::resumable(api, &task, &options.provider.name) {
            session = previous.session.clone();
            session_account = previous.account.clone();
            prompt = resume_prompt(api, &task, &previous);
        } else if let Some(parent) = &inherited {
            session = parent.session.clone();
            prompt = format!(
                "Your work on {} was reviewed with its phase, and the review asks for changes. \
                 This is a new task for them, on a new branch that holds the phase's work.\n\n{prompt}",
                parent.task
            );
        }
    }
    let attempts = options.max_attempts.max(1);
    // Runs that count against the attempts: crashes, hangs, turn limits, failed verifies.
    // A switch of account after a limit does not count, but is bounded too.
    let mut failures = 0u32;
    let mut switches = 0usize;
    let max_switches = options.accounts.names().len() * 2 + 2;
    let mut unusable: Option<String> = None;
    loop {
        let account = match options.accounts.pick(Timestamp::now()) {
            Pick::Use(account) => account,
            Pick::WaitUntil(until) => {
                let wait = Timestamp::now().millis_until(until).max(0) as u64;
                if Duration::from_millis(wait) > options.max_wait {
                    unusable = Some(format!(
                        "every {} account is cooling until {until}",
                        options.provider.name
                    ));
                    break;
                }
                if !wait_holding(api, agent, task.id, fence, until, options.heartbeat, stop) {
                    break;
                }
                continue;
            }
            Pick::Nothing(why) => {
                unusable = Some(why);
                break;
            }
        };
        // The account's state as every runner and the dashboard see it.
        let share = |status, until, reason, used| {
            let update = AccountUpdate {
                provider: options.provider.name.clone(),
                name: account.name.clone(),
                status,
                until,
                reason,
                used,
            };
            board_runs::share_account(api, agent, update)
        };
        // A session is resumed only where it lives: another account's home lacks it.
        let resumable = session.as_deref().filter(|_| {
            options.provider.can_resume()
                && session_account.as_deref().is_none_or(|made| {
                    options.accounts.share_sessions(
                        options.provider.account_env.as_deref(),
                        made,
                        &account,
                    )
                })
        });
        let run_prompt = prompt::for_run(&first_prompt, &prompt, resumable.is_some());
        let n = runs.len() + 1;
        let log_path = options.logs.join(format!("{}-{agent}-{n}.log", task.id));
        share(AccountStatus::Available, None, None, true);
        // Written before the process starts: a runner that dies leaves this record.
        let run_id = api
            .start_run(
                agent,
                NewRun {
                    task: task.id,
                    provider: options.provider.name.clone(),
                    account: Some(account.name.clone()),
                    attempt: n as u32,
                    runner: options.runner.id.clone(),
                    host: options.runner.host.clone(),
                    worktree: Some(wt.path.display().to_string()),
                    branch: Some(wt.branch.clone()),
                    session: resumable.map(str::to_string),
                    spool: Some(log_path.display().to_string()),
                },
            )?
            .id;
        let mut record = one_run(
            api,
            options,
            agent,
            &task,
            Some(fence),
            &wt,
            &run_prompt,
            resumable,
            &account,
            &log_path,
            stop,
            run_id,
        )?;
        record.account = Some(account.name.clone());
        logs.push(log_path);
        repo.save_work(
            &wt,
            &format!(
                "baton: work left by {agent} on {} ({})",
                task.id,
                record.outcome.name()
            ),
        )?;
        // Other machines (a merge, a retry elsewhere) read the task's branch from the remote.
        if let Err(e) = repo.publish(&format!("refs/heads/{}", wt.branch), &wt.branch, None) {
            board_runs::warn(&format!("{}: could not push {}: {e}", task.id, wt.branch));
        }
        board_runs::finish(api, agent, run_id, &record);
        let outcome = record.outcome.clone();
        if record.session_id.is_some() {
            session = record.session_id.clone();
            session_account = Some(account.name.clone());
        }
        runs.push(record);
        let held = !stop.load(Ordering::SeqCst) && still_held(api, task.id, agent) == Some(true);
        match outcome {
            Outcome::Succeeded => {
                let Some(command) = task.verify.as_deref().filter(|c| !c.trim().is_empty()) else {
                    break;
                };
                let check = verify::run(command, &wt.path, options.verify_limit)?;
                let passed = check.passed;
                let summary = check.summary();
                // The result is part of the run's stored output, after the agent's own.
                let lines = summary.lines().map(|l| format!("[verify] {l}")).collect();
                if let Err(e) = api.append_run_log(run_id, lines) {
                    board_runs::warn(&format!(
                        "run {run_id}: could not store the verify result: {e}"
                    ));
                }
                verifications.push(check);
                failures += 1;
                if passed || failures >= attempts || !held {
                    break;
                }
                // Back to the agent, in its session, with what failed.
                prompt = prompt::verify_failed(&task, &summary);
            }
            Outcome::RateLimited { reset_at } | Outcome::QuotaExhausted { reset_at } => {
                let until = reset_at.unwrap_or_else(|| Timestamp::now().plus(DEFAULT_COOLING));
                options.accounts.park(&account.name, until);
                share(
                    AccountStatus::Cooling,
                    Some(until),
                    Some(outcome.name().replace('_', " ")),
                    false,
                );
                switches += 1;
                if switches > max_switches || !held {
                    break;
                }
                prompt = prompt::resume(&task, outcome.name());
            }
            Outcome::AuthFailed { ref reason } => {
                options.accounts.disable(&account.name, reason);
                share(AccountStatus::Disabled, None, Some(reason.clone()), false);
                switches += 1;
                if switches > max_switches || !held {
                    break;
                }
                prompt = prompt::resume(&task, outcome.name());
            }
            Outcome::Crashed { .. } | Outcome::Hung | Outcome::MaxTurns => {
                failures += 1;
                if failures >= attempts || !held {
                    break;
                }
                prompt = prompt::resume(&task, outcome.name());
            }
            Outcome::Stopped => break,
        }
    }

    let commits = repo.commits(&wt)?;
    let diff = repo.diff_stat(&wt)?;
    match (runs.last(), unusable) {
        (_, Some(why)) => {
            // No account could run it: a person decides (the reason says until when).
            if still_held(api, task.id, agent) == Some(true) {
                let request = BlockRequest {
                    reason: why,
                    fence: Some(fence),
                };
                api.block(agent, task.id, request)?;
            }
        }
        (Some(last), None) => settle(
            api,
            agent,
            &task,
            fence,
            last,
            &Change {
                commits: &commits,
                base: &wt.base,
                diff: diff.as_deref(),
            },
            &runs,
            verifications.last(),
        )?,
        (None, None) => {}
    }
    let status = api.get_task(task.id).map(|t| t.status)?;
    let lease_live = status == Status::InProgress;
    // Kept when it holds work or the task is still someone's: nothing is lost either way.
    let worktree = repo.remove(&wt, lease_live)?;
    Ok(Some(RunReport {
        task: task.id,
        agent: agent.to_string(),
        branch: wt.branch,
        runs,
        commits,
        status,
        logs,
        verifications,
        worktree,
        base: wt.base.clone(),
        diff,
    }))
}

#[allow(clippy::too_many_arguments)]
fn one_run(
    api: &dyn Api,
    options: &RunnerOptions,
    agent: &str,
    task: &Task,
    fence: Option<u64>,
    wt: &Worktree,
    prompt: &str,
    session: Option<&str>,
    account: &Account,
    log_path: &PathBuf,
    stop: &AtomicBool,
    run_id: baton_core::RunId,
) -> Result<RunRecord, RunnerError> {
    let name = session_name(task.id);
    let invocation = options.provider.invocation(&RunSpec {
        prompt,
        session,
        workdir: &wt.path,
        max_turns: None,
        name: &name,
    });
    let mut env = vec![("BATON_AGENT".to_string(), agent.to_string())];
    env.extend(options.agent_env.iter().cloned());
    // Whatever the agent exports over OpenTelemetry carries its run, task and agent.
    let given = given_resource(&env);
    env.push((
        RESOURCE_ATTRIBUTES.to_string(),
        resource_attributes(given.as_deref(), run_id, task.id, agent),
    ));
    // The account's variables last: they select who the CLI runs as.
    env.extend(account.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut adapter = adapter_for(&options.provider.format).ok_or_else(|| {
        std::io::Error::other(format!("no adapter for {}", options.provider.format))
    })?;
    let mut log = std::fs::File::create(log_path)?;
    let started = match AgentProcess::spawn(&invocation, &wt.path, &env) {
        Ok(started) => started,
        Err(e) => {
            // A CLI that cannot start is a crash of this run, said plainly.
            return Ok(adapter.finish_with_reason(format!(
                "cannot start {}: {e} (is it installed and on PATH?)",
                invocation.program
            )));
        }
    };
    let update = baton_core::api::RunUpdate {
        pid: Some(started.process.pid()),
        pgid: Some(started.process.pgid),
        process_start: started.process.start_ticks,
        ..Default::default()
    };
    if let Err(e) = api.update_run(agent, run_id, update) {
        board_runs::warn(&format!("run {run_id}: could not record its process: {e}"));
    }
    let mut control = Keepalive {
        api,
        agent,
        task: task.id,
        fence,
        every: options.heartbeat,
        last: Instant::now(),
        stop,
        lost: false,
        board: BoardRun::new(api, agent, run_id, options.sync),
    };
    let mut record = supervise(
        started,
        adapter.as_mut(),
        &mut log,
        &options.watch,
        &mut control,
    )?;
    control.board.flush();
    if record.session_id.is_none() && options.provider.names_sessions() {
        // Its output names no session; it runs under the name Baton gave it.
        record.session_id = Some(name);
    }
    Ok(record)
}

/// The session name Baton gives a task's runs, for CLIs that resume by name (`{name}`).
pub fn session_name(task: TaskId) -> String {
    format!("baton-{task}")
}

/// Renews the task's lease while the run goes on, and stops the run if the claim is lost
/// (someone took the task back, or its lease ran out and another agent holds it).
struct Keepalive<'a> {
    api: &'a dyn Api,
    agent: &'a str,
    task: TaskId,
    /// The claim to keep alive; none for a run on a task nobody holds (a chat).
    fence: Option<u64>,
    every: Duration,
    last: Instant,
    stop: &'a AtomicBool,
    lost: bool,
    board: BoardRun<'a>,
}

impl Control for Keepalive<'_> {
    fn should_stop(&mut self) -> bool {
        if let (true, Some(fence)) = (self.last.elapsed() >= self.every, self.fence) {
            self.last = Instant::now();
            let renewed = self.api.heartbeat(
                self.agent,
                &HeartbeatRequest {
                    task: Some(self.task),
                    fence: Some(fence),
                },
            );
            if let Err(e) = renewed {
                if matches!(e.code(), "stale_claim" | "not_holder" | "task_not_found") {
                    self.lost = true;
                }
            }
        }
        self.board.tick();
        self.lost
            || self.board.stop_requested
            || self.board.ended_elsewhere
            || self.stop.load(Ordering::SeqCst)
    }

    fn event(&mut self, _: &RunEvent) {}

    fn line(&mut self, line: &str) {
        self.board.line(line);
    }
}

/// Waits until `until`, renewing the task's lease; false when stopped or the claim is lost.
fn wait_holding(
    api: &dyn Api,
    agent: &str,
    task: TaskId,
    fence: u64,
    until: Timestamp,
    every: Duration,
    stop: &AtomicBool,
) -> bool {
    let mut renewed = Instant::now();
    while Timestamp::now() < until {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        if renewed.elapsed() >= every {
            renewed = Instant::now();
            let request = HeartbeatRequest {
                task: Some(task),
                fence: Some(fence),
            };
            if api.heartbeat(agent, &request).is_err() && still_held(api, task, agent) != Some(true)
            {
                return false;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    true
}

/// Whether `agent` still holds `task` (None: the board could not say).
fn still_held(api: &dyn Api, task: TaskId, agent: &str) -> Option<bool> {
    let t = api.get_task(task).ok()?;
    Some(t.status == Status::InProgress && t.assignee.as_deref() == Some(agent))
}

/// What a claim changed on its branch.
struct Change<'a> {
    commits: &'a [String],
    base: &'a str,
    diff: Option<&'a str>,
}

/// Moves the task on after its last run: to review when it succeeded with work, else
/// blocked with the reason, unless the agent already moved it itself.
#[allow(clippy::too_many_arguments)]
fn settle(
    api: &dyn Api,
    agent: &str,
    task: &Task,
    fence: u64,
    last: &RunRecord,
    change: &Change<'_>,
    runs: &[RunRecord],
    verified: Option<&Verification>,
) -> Result<(), RunnerError> {
    let checked = verified
        .map(|v| format!("\n{}", v.summary()))
        .unwrap_or_default();
    if still_held(api, task.id, agent) != Some(true) {
        // The agent said `done` or `block` itself, or lost the claim. The verify result
        // still goes into the task's history, for the reviewer.
        if let Some(v) = verified {
            let note = baton_core::api::NoteRequest {
                text: v.summary(),
                fence: None,
            };
            let _ = api.note(agent, task.id, note);
        }
        return Ok(());
    }
    let summary = last.final_text.clone().unwrap_or_default();
    let commits = change.commits;
    if last.outcome == Outcome::Succeeded && !commits.is_empty() {
        let short_base = &change.base[..change.base.len().min(12)];
        let notes = format!(
            "{} ({} commit{} on {} from {short_base}: {}; run by {agent}){checked}",
            cut(summary.trim(), 2000),
            commits.len(),
            if commits.len() == 1 { "" } else { "s" },
            Repo::task_branch(task.id),
            change.diff.unwrap_or("no file changed"),
        );
        api.done(
            agent,
            task.id,
            DoneRequest {
                summary: None,
                notes: Some(notes),
                fence: Some(fence),
            },
        )?;
        return Ok(());
    }
    let why = match &last.outcome {
        Outcome::Succeeded => "the agent finished without committing any work".to_string(),
        Outcome::Crashed { reason } => format!("the agent crashed: {reason}"),
        Outcome::RateLimited { reset_at } => match reset_at {
            Some(at) => format!("the provider rate-limited the account until {at}"),
            None => "the provider rate-limited the account".to_string(),
        },
        Outcome::QuotaExhausted { .. } => "the account's quota is used up".to_string(),
        Outcome::AuthFailed { reason } => format!("the provider refused the credentials: {reason}"),
        Outcome::Hung => "the agent went quiet and was stopped".to_string(),
        Outcome::MaxTurns => "the agent reached its turn limit".to_string(),
        Outcome::Stopped => "the run was stopped".to_string(),
    };
    let last_words = if summary.trim().is_empty() {
        String::new()
    } else {
        format!("; last output: {}", cut(summary.trim(), 500))
    };
    let reason = format!(
        "{why} after {} run{}{last_words}",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    );
    api.block(
        agent,
        task.id,
        BlockRequest {
            reason,
            fence: Some(fence),
        },
    )?;
    Ok(())
}

/// The task's context docs (a missing one is skipped: the prompt still goes out).
fn context_docs(api: &dyn Api, task: &Task) -> Vec<Doc> {
    task.context_refs
        .iter()
        .filter_map(|r| r.parse().ok())
        .filter_map(|id| api.get_doc(id).ok())
        .collect()
}

/// The OpenTelemetry variable that names the resource a process's telemetry comes from.
pub const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// The resource attributes an agent's environment sets (the last wins), else this
/// process's.
pub fn given_resource(env: &[(String, String)]) -> Option<String> {
    env.iter()
        .rev()
        .find(|(k, _)| k == RESOURCE_ATTRIBUTES)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(RESOURCE_ATTRIBUTES).ok())
}

/// `OTEL_RESOURCE_ATTRIBUTES` for an agent's process: what was given, without any `baton.*`
/// of its own, then `baton.run`, `baton.task` and `baton.agent` (names and ids need no
/// escaping: they are letters, digits and `.-_@:+`, with `:` and `+` and `@` encoded).
pub fn resource_attributes(
    given: Option<&str>,
    run: baton_core::RunId,
    task: baton_core::TaskId,
    agent: &str,
) -> String {
    baton_resource(
        given,
        &[
            ("baton.run", &run.to_string()),
            ("baton.task", &task.to_string()),
            ("baton.agent", agent),
        ],
    )
}

/// What was given, without any `baton.*` of its own, then `ours` (values percent-encoded
/// where they are not letters, digits or `.-_`).
pub fn baton_resource(given: Option<&str>, ours: &[(&str, &str)]) -> String {
    let encode = |v: &str| -> String {
        v.chars()
            .map(|c| match c {
                'A'..='Z' | 'a'..='z' | '0'..='9' | '.' | '-' | '_' => c.to_string(),
                c => format!("%{:02X}", c as u32),
            })
            .collect()
    };
    let mut parts: Vec<String> = given
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.starts_with("baton."))
        .map(str::to_string)
        .collect();
    parts.extend(ours.iter().map(|(k, v)| format!("{k}={}", encode(v))));
    parts.join(",")
}

#[cfg(test)]
mod resource_tests {
    use super::*;

    #[test]
    fn baton_attributes_replace_their_own_and_keep_the_rest() {
        let a = resource_attributes(
            Some("team=web, baton.run=R-1"),
            baton_core::RunId(7),
            baton_core::TaskId(3),
            "claude@1",
        );
        assert_eq!(
            a,
            "team=web,baton.run=R-7,baton.task=T-3,baton.agent=claude%401"
        );
    }
}
