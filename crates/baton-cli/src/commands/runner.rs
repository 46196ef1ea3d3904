//! `baton runner`: launches agent CLIs on ready tasks, each in its own worktree, and moves
//! each task to review (or blocks it with the reason) when its run ends.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use baton_core::{Board, ErrorClass};
use baton_runner::runner::{OpenBoard, RunReport, RunnerOptions};
use baton_runner::supervise::Watch;
use baton_runner::Provider;
use baton_sqlite::SqliteStore;
use clap::Args;
use serde_json::json;

use super::Context;
use crate::error::{CliError, CliResult};

#[derive(Args, Debug)]
#[command(after_help = "\
Each agent slot claims the best ready task as <provider>-<n> (claude-1, claude-2, ...),
works in .baton/worktrees/T-<n> on branch baton/T-<n>, and talks to the board through
`baton` with BATON_AGENT set. When a run ends, whatever the agent left uncommitted is
committed on the task's branch. When the task has a verify command, it runs in the
worktree after a run that finished; a failure goes back to the agent (its session resumed
with the output) while attempts remain. A run that succeeds with committed work goes to
review, with the verify result in its notes;
a crash, a hang or a turn limit is retried (resuming the session where the CLI can);
anything else blocks the task with the reason and the agent's last words.
Every run is recorded on the board before its process starts (`baton runs`, `baton run
show R-<n>`), with its output (`baton run logs R-<n> -f`); `baton run stop R-<n>` stops
it from anywhere and `baton run retry R-<n>` runs its task again in the same session.
A runner that dies and starts again re-adopts the runs whose process still lives and
puts the others' tasks back, their work committed, to be resumed.
Raw output of every run: .baton/runs/T-<n>-<agent>-<attempt>.log.
Accounts (.baton/accounts.toml, or --accounts; keep it out of git): [[account]] entries
with provider, name and env, e.g. env = { CLAUDE_CONFIG_DIR = \"/home/me/.claude-b\" }.
A rate-limited run parks its account until the reset and resumes on the least recently
used other one; refused credentials disable an account; states: .baton/runs/accounts.json.
Providers: claude, codex, gemini, cursor, opencode, amp, goose, aider, command; add or override one with
a TOML file in .baton/providers/ (see `baton runner --list-providers`).
Output: one JSON line per finished task (agents), a line of text per task (people).")]
pub struct RunnerArgs {
    /// The agent CLI to run (a provider name).
    #[arg(long, default_value = "claude")]
    pub provider: String,
    /// Name the agents <NAME>-1, <NAME>-2, ... (default: the provider's name). Runners on
    /// several machines serving one board need names of their own.
    #[arg(long, value_parser = agent_prefix)]
    pub name: Option<String>,
    /// Agents running at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_agents: u16,
    /// Stop once no task is ready, instead of waiting for more.
    #[arg(long)]
    pub once: bool,
    /// The branch or commit new task branches start from (default: the checked-out HEAD).
    #[arg(long, default_value = "HEAD")]
    pub base: String,
    /// Where this runner keeps its clone of the project's `repository` setting (default
    /// `.baton/clones/<name>`); unused when the project works in its own checkout.
    #[arg(long)]
    pub clone_dir: Option<std::path::PathBuf>,
    /// Stop a run with no output for this long (30s, 15m, 1h).
    #[arg(long, default_value = "15m", value_parser = duration)]
    pub idle_timeout: Duration,
    /// Runs of one task before it is blocked (a crash or hang is retried).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub attempts: u32,
    /// The longest a task's verify command may run before it counts as failed.
    #[arg(long, default_value = "10m", value_parser = duration)]
    pub verify_timeout: Duration,
    /// The provider accounts (TOML, on this machine; default .baton/accounts.toml when it
    /// exists). Without one, the CLI runs as the runner's own environment says.
    #[arg(long, env = "BATON_ACCOUNTS", value_name = "FILE")]
    pub accounts: Option<PathBuf>,
    /// The longest a task waits, still held, for a rate-limited account to come back
    /// before it is blocked with the reset time.
    #[arg(long, default_value = "1h", value_parser = duration)]
    pub max_wait: Duration,
    /// How often an idle runner looks again for work even when it heard of no change (it
    /// wakes at once on board changes: queued work, merges, errand requests, messages).
    #[arg(long, default_value = "5s", value_parser = duration)]
    pub poll: Duration,
    /// Have the agents export OpenTelemetry metrics and logs to the server this runner
    /// works with (its /api/v1/otlp): Claude Code's usage, cost and events land on each run
    /// (`baton run telemetry R-7`). Every run carries OTEL_RESOURCE_ATTRIBUTES
    /// (baton.run, baton.task, baton.agent) either way.
    #[arg(long)]
    pub telemetry: bool,
    /// Print the providers (shipped and from .baton/providers/) and exit.
    #[arg(long)]
    pub list_providers: bool,
}

fn agent_prefix(text: &str) -> Result<String, String> {
    baton_core::board::validate_agent_name(&format!("{text}-1"))
        .map(|_| text.to_string())
        .map_err(|e| e.to_string())
}

pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    baton_core::time::parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("'{text}' is not a duration such as 90s, 15m or 1h"))
}

pub fn run(ctx: &Context, args: RunnerArgs) -> CliResult {
    let project = ctx.project()?;
    let providers = providers(&project)?;
    if args.list_providers {
        let list: Vec<_> = providers
            .iter()
            .map(|p| {
                json!({"name": p.name, "command": p.command, "format": p.format,
                       "resumes": p.can_resume(), "account_env": p.account_env,
                       "description": p.description})
            })
            .collect();
        return ctx.out.emit(&list, |w| {
            for p in &providers {
                writeln!(w, "{:<10} {:<14} {}", p.name, p.command, p.description)?;
            }
            Ok(())
        });
    }
    let (provider, accounts) =
        provider_setup(&project, &providers, &args.provider, args.accounts.clone())?;
    let (open, mut agent_env) = board(ctx, &project)?;
    if args.telemetry {
        agent_env.extend(telemetry_env(ctx)?);
    }
    // The project's own checkout, or this runner's clone of its `repository` setting.
    let repo = super::merge::work_repo(ctx, open()?.as_ref(), args.clone_dir.as_deref())?;
    let name = args.name.clone().unwrap_or_else(|| provider.name.clone());
    // Idle slots wake when the board changes (a merge queued, an errand asked for, a
    // message), as `baton wait` does; polling stays as the fallback.
    let direct = ctx.direct_database_url();
    let client = match direct {
        Some(_) => None,
        None => ctx.client()?,
    };
    let database = project.database();
    let wake: baton_runner::runner::MakeWake = Arc::new(move || {
        let waiter =
            crate::wait::Waiter::for_board(direct.as_deref(), client.as_ref(), &database).ok()?;
        Some(Box::new(move |at_most| waiter.wait(at_most)) as baton_runner::runner::Wake)
    });
    let options = RunnerOptions {
        wake: Some(wake),
        provider,
        repo: repo.root().to_path_buf(),
        base: args.base,
        max_agents: args.max_agents as usize,
        once: args.once,
        watch: Watch {
            idle_timeout: args.idle_timeout,
            ..Watch::default()
        },
        logs: project.dir().join("runs"),
        agent_env,
        max_attempts: args.attempts,
        poll: args.poll,
        heartbeat: Duration::from_secs(60),
        verify_limit: args.verify_timeout,
        accounts: Arc::new(accounts),
        max_wait: args.max_wait,
        runner: baton_runner::runs::RunnerId::this_process(),
        name,
        sync: Duration::from_secs(1),
    };
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(stop.clone());
    let mode = ctx.out.mode;
    let report: Arc<dyn Fn(&RunReport) + Send + Sync> = Arc::new(move |r: &RunReport| {
        print_report(mode, r);
    });
    let reports = baton_runner::runner::run(&options, open, stop, report).map_err(|e| match e {
        // The board's own refusals keep their class, code and hint.
        baton_runner::runner::RunnerError::Board(e) => CliError::from(e),
        e => CliError::new(ErrorClass::Internal, "runner_failed", e.to_string()),
    })?;
    if mode == crate::output::Mode::Human {
        if reports.is_empty() {
            println!("no task was ready");
        } else {
            let removed = reports
                .iter()
                .filter(|r| r.worktree == baton_runner::worktree::Removal::Removed)
                .count();
            println!(
                "{} task(s) run; {removed} worktree(s) removed, {} kept (uncommitted work or a live lease)",
                reports.len(),
                reports.len() - removed
            );
        }
    }
    Ok(())
}

fn print_report(mode: crate::output::Mode, r: &RunReport) {
    let last = r.runs.last();
    let value = json!({
        "task": r.task,
        "agent": r.agent,
        "status": r.status,
        "branch": r.branch,
        "commits": r.commits.len(),
        "runs": r.runs.iter().map(|run| json!({
            "outcome": run.outcome,
            "session_id": run.session_id,
            "usage": run.usage,
            "account": run.account,
            "wall_ms": run.wall_ms,
            "first_output_ms": run.first_output_ms,
        })).collect::<Vec<_>>(),
        "summary": last.and_then(|l| l.final_text.clone()),
        "verify": r.verifications,
        "logs": r.logs,
        "worktree": r.worktree.name(),
        "base": r.base,
        "diff": r.diff,
    });
    match mode {
        crate::output::Mode::Json => println!("{value}"),
        crate::output::Mode::Human => println!(
            "{} {} -> {} ({}, {} commit(s) on {}, {} run(s))",
            r.task,
            r.agent,
            r.status,
            last.map(|l| l.outcome.name()).unwrap_or("-"),
            r.commits.len(),
            r.branch,
            r.runs.len()
        ),
    }
}

/// The provider named `name` and its accounts on this machine (`.baton/accounts.toml` unless
/// `accounts_file` names another).
pub(crate) fn provider_setup(
    project: &crate::project::Project,
    providers: &[Provider],
    name: &str,
    accounts_file: Option<std::path::PathBuf>,
) -> CliResult<(Provider, baton_runner::accounts::Accounts)> {
    let provider = Provider::find(providers, name)
        .map_err(|e| {
            CliError::new(ErrorClass::NotFound, "unknown_provider", e.to_string())
                .with_hint("list them with `baton runner --list-providers`")
        })?
        .clone();

    let accounts_file = accounts_file.or_else(|| {
        let default = project.dir().join("accounts.toml");
        default.is_file().then_some(default)
    });
    let accounts = baton_runner::accounts::Accounts::load(
        accounts_file.as_deref(),
        &provider.name,
        &project.dir().join("runs").join("accounts.json"),
    )
    .map_err(|e| {
        CliError::new(ErrorClass::Invalid, "bad_accounts", e.to_string())
            .with_hint("each [[account]] has provider, name and env (the variables that select it)")
    })?;
    Ok((provider, accounts))
}

/// The providers of this project (built in, and its `.baton/providers/` files).
pub(crate) fn providers(project: &crate::project::Project) -> CliResult<Vec<Provider>> {
    Provider::load(&[project.dir().join("providers")]).map_err(|e| {
        CliError::new(ErrorClass::Invalid, "bad_provider", e.to_string())
            .with_hint("fix or remove the provider file; `baton runner --help` shows the shape")
    })
}

/// How each agent slot reaches the board, and what the agents' own `baton` calls need to
/// reach the same board.
/// The variables that point an agent's OpenTelemetry exporter at the server (and turn
/// Claude Code's on).
fn telemetry_env(ctx: &Context) -> CliResult<Vec<(String, String)>> {
    let Some(url) = ctx.server_url()? else {
        return Err(CliError::invalid(
            "--telemetry sends the agents' OpenTelemetry to a Baton server, and this runner has none",
        )
        .with_hint("run against a server (baton server start, or BATON_URL), or leave --telemetry out"));
    };
    let mut env = vec![
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT".to_string(),
            format!("{}/api/v1/otlp", url.trim_end_matches('/')),
        ),
        ("OTEL_EXPORTER_OTLP_PROTOCOL".into(), "http/protobuf".into()),
        ("OTEL_METRICS_EXPORTER".into(), "otlp".into()),
        ("OTEL_LOGS_EXPORTER".into(), "otlp".into()),
        ("CLAUDE_CODE_ENABLE_TELEMETRY".into(), "1".into()),
    ];
    if let Some(token) = std::env::var("BATON_TOKEN").ok().filter(|t| !t.is_empty()) {
        env.push((
            "OTEL_EXPORTER_OTLP_HEADERS".into(),
            format!("Authorization=Bearer%20{token}"),
        ));
    }
    Ok(env)
}

pub(crate) fn board(
    ctx: &Context,
    project: &crate::project::Project,
) -> CliResult<(OpenBoard, Vec<(String, String)>)> {
    let mut env = Vec::new();
    // The agents call `baton`: this very binary, first on their PATH.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(dir) = exe.parent() {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![dir.to_path_buf()];
            dirs.extend(std::env::split_paths(&path));
            if let Ok(joined) = std::env::join_paths(dirs) {
                env.push(("PATH".to_string(), joined.to_string_lossy().into_owned()));
            }
        }
    }
    if let Some(url) = ctx.direct_database_url() {
        env.push(("BATON_DATABASE_URL".into(), url.clone()));
        let name = project.config.name.clone();
        let open: OpenBoard = Arc::new(move || {
            let (store, _) = baton_postgres::PostgresStore::create(&url, &name)?;
            Ok(Box::new(Board::new(store)) as Box<dyn baton_core::Api>)
        });
        return Ok((open, env));
    }
    if let Some(url) = ctx.server_url()? {
        let token = std::env::var("BATON_TOKEN").ok().filter(|t| !t.is_empty());
        env.push(("BATON_URL".into(), url.clone()));
        if let Some(t) = &token {
            env.push(("BATON_TOKEN".into(), t.clone()));
        }
        let open: OpenBoard = Arc::new(move || {
            Ok(Box::new(baton_client::Client::new(&url, token.clone())?)
                as Box<dyn baton_core::Api>)
        });
        return Ok((open, env));
    }
    let dir: PathBuf = project.dir();
    env.push((crate::project::DIR_ENV.into(), dir.display().to_string()));
    let database = project.database();
    let open: OpenBoard = Arc::new(move || {
        Ok(Box::new(Board::new(SqliteStore::open(&database)?)) as Box<dyn baton_core::Api>)
    });
    Ok((open, env))
}

/// The first Ctrl-C (or SIGTERM) stops the runs through their stop ladder, committing
/// their work; the runner then exits.
pub(crate) fn stop_on_signals(stop: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("baton-runner-signals".into())
        .spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(s) => s,
                        Err(_) => return,
                    };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
                stop.store(true, Ordering::SeqCst);
            });
        });
}
