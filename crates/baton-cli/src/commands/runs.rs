//! `baton runs` and `baton run show|logs|stop|retry`: the runs `baton runner` recorded,
//! their output, and the stop and retry requests people send their runners.

use std::io::Write;
use std::time::Duration;

use baton_core::api::RunFilter;
use baton_core::model::{Run, RunStatus};
use baton_core::{RunId, TaskId};
use clap::{Args, Subcommand};
use serde_json::json;

use super::Context;
use crate::error::CliResult;
use crate::output::{cut, or_dash, Table};

#[derive(Args, Debug)]
pub struct RunsArgs {
    /// Only runs with these statuses (running, succeeded, crashed, hung, stopped,
    /// interrupted, rate_limited, ...), comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<RunStatus>,
    /// Only the runs of this task.
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Only runs started on this host.
    #[arg(long)]
    pub host: Option<String>,
    /// At most this many, newest first (at most 1,000).
    #[arg(long, short, default_value_t = 50)]
    pub limit: u64,
}

#[derive(Subcommand, Debug)]
pub enum RunCommand {
    /// One run: its task, agent, process, session, tokens, cost and how it ended.
    Show {
        /// The run.
        id: RunId,
    },
    /// A run's stored output (the newest 5,000 lines are kept); -f follows it live.
    Logs(LogsArgs),
    /// Ask the run's runner to stop it: SIGINT, SIGTERM, then SIGKILL to its process group,
    /// its work committed to the task branch first; the task is blocked with the reason.
    Stop {
        /// The run, still running.
        id: RunId,
    },
    /// Run an ended run's task again: a blocked task goes back to the queue, and the next
    /// run resumes the same session where the provider can.
    Retry {
        /// The run, ended.
        id: RunId,
    },
    /// What the run's agent exported over OpenTelemetry (runner --telemetry), by series:
    /// token usage, cost, active time, edits.
    Telemetry {
        /// The run.
        id: RunId,
    },
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The run.
    pub id: RunId,
    /// Keep printing new lines until the run ends.
    #[arg(long, short)]
    pub follow: bool,
    /// Only the last N lines (0: all that are kept).
    #[arg(long, short = 'n', default_value_t = 0)]
    pub tail: u64,
}

fn took(run: &Run) -> String {
    let end = run
        .ended_at
        .unwrap_or_else(baton_core::time::Timestamp::now);
    let ms = run.started_at.millis_until(end).max(0) as u64;
    baton_core::time::format_duration(Duration::from_millis(ms - ms % 1000))
}

pub fn list(ctx: &Context, args: RunsArgs) -> CliResult {
    let api = ctx.api()?;
    let runs = api.list_runs(&RunFilter {
        status: args.status,
        task: args.task,
        host: args.host,
        limit: Some(args.limit.clamp(1, 1000)),
    })?;
    ctx.out.emit(&runs, |w| {
        if runs.is_empty() {
            return writeln!(w, "no runs yet (`baton runner` starts them)");
        }
        let mut table = Table::new(&[
            "RUN", "TASK", "AGENT", "PROVIDER", "ACCOUNT", "STATUS", "TIME", "TOKENS", "COST",
            "STOP",
        ]);
        for r in &runs {
            table.row(vec![
                r.id.to_string(),
                r.task.to_string(),
                cut(&r.agent, 16),
                cut(&r.provider, 10),
                cut(&or_dash(r.account.as_deref()), 12),
                r.status.to_string(),
                took(r),
                r.usage.total_tokens().to_string(),
                r.usage
                    .cost_usd
                    .map(|c| format!("${c:.4}"))
                    .unwrap_or_else(|| "-".into()),
                if r.stop_requested && !r.status.is_final() {
                    "asked".into()
                } else {
                    String::new()
                },
            ]);
        }
        table.write(w)
    })
}

pub fn run(ctx: &Context, command: RunCommand) -> CliResult {
    let api = ctx.api()?;
    match command {
        RunCommand::Show { id } => {
            let run = api.get_run(id)?;
            ctx.out.emit(&run, |w| show(w, &run))
        }
        RunCommand::Stop { id } => {
            let run = api.stop_run(&ctx.actor(), id)?;
            ctx.out.emit(&run, |w| {
                writeln!(
                    w,
                    "{} stop asked; its runner stops {} and commits its work on {}",
                    run.id,
                    run.agent,
                    or_dash(run.branch.as_deref())
                )
            })
        }
        RunCommand::Retry { id } => {
            let task = api.retry_run(&ctx.actor(), id)?;
            let run = api.get_run(id)?;
            let value = json!({"run": run.id, "task": task, "resumes": run.session});
            ctx.out.emit(&value, |w| {
                writeln!(
                    w,
                    "{} is {} again; the next run {}",
                    task.id,
                    task.status,
                    if run.session.is_some() {
                        "resumes the same session"
                    } else {
                        "starts a new session"
                    }
                )
            })
        }
        RunCommand::Logs(args) => logs(ctx, api.as_ref(), args),
        RunCommand::Telemetry { id } => {
            let series = api.operations().telemetry(id)?;
            ctx.out.emit(&series, |w| {
                if series.is_empty() {
                    return writeln!(
                        w,
                        "{id} exported no telemetry (run the runner with --telemetry)"
                    );
                }
                let mut table =
                    crate::output::Table::new(&["METRIC", "ATTRIBUTES", "KIND", "VALUE", "POINTS"]);
                for t in &series {
                    let attributes = t
                        .attributes
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ");
                    let value = match t.count {
                        Some(n) => format!("{} over {n}", t.value),
                        None => t.value.to_string(),
                    };
                    table.row(vec![
                        t.name.clone(),
                        attributes,
                        t.kind.clone(),
                        value,
                        t.points.to_string(),
                    ]);
                }
                table.write(w)
            })
        }
    }
}

fn show(w: &mut dyn Write, r: &Run) -> std::io::Result<()> {
    writeln!(
        w,
        "{} on {} by {} ({}, attempt {})",
        r.id, r.task, r.agent, r.provider, r.attempt
    )?;
    writeln!(
        w,
        "status    {}{}",
        r.status,
        if r.stop_requested && !r.status.is_final() {
            " (stop asked)"
        } else {
            ""
        }
    )?;
    if let Some(reason) = &r.reason {
        writeln!(w, "reason    {reason}")?;
    }
    writeln!(w, "account   {}", or_dash(r.account.as_deref()))?;
    writeln!(w, "runner    {}", r.runner)?;
    let process = match (r.pid, r.pgid) {
        (Some(pid), Some(pgid)) => format!("pid {pid}, group {pgid}"),
        _ => "-".into(),
    };
    writeln!(w, "process   {process}")?;
    writeln!(w, "worktree  {}", or_dash(r.worktree.as_deref()))?;
    writeln!(w, "branch    {}", or_dash(r.branch.as_deref()))?;
    writeln!(w, "session   {}", or_dash(r.session.as_deref()))?;
    writeln!(w, "started   {}", r.started_at)?;
    writeln!(
        w,
        "ended     {}",
        r.ended_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into())
    )?;
    writeln!(w, "time      {}", took(r))?;
    let u = &r.usage;
    writeln!(
        w,
        "tokens    {} in, {} out, {} cache read, {} cache write, {} reasoning",
        u.input_tokens,
        u.output_tokens,
        u.cache_read_tokens,
        u.cache_write_tokens,
        u.reasoning_tokens
    )?;
    if let Some(c) = u.cost_usd {
        writeln!(w, "cost      ${c:.4}")?;
    }
    writeln!(
        w,
        "output    {} lines (`baton run logs {}`)",
        r.log_lines, r.id
    )?;
    if let Some(text) = &r.final_text {
        writeln!(w, "\n{}", text.trim())?;
    }
    Ok(())
}

fn logs(ctx: &Context, api: &dyn baton_core::Api, args: LogsArgs) -> CliResult {
    let run = api.get_run(args.id)?;
    let mut after = if args.tail > 0 {
        run.log_lines.saturating_sub(args.tail)
    } else {
        0
    };
    let json = ctx.out.mode == crate::output::Mode::Json;
    let stdout = std::io::stdout();
    loop {
        let lines = api.run_log(args.id, after, 1000)?;
        {
            let mut out = stdout.lock();
            for l in &lines {
                if json {
                    serde_json::to_writer(&mut out, l).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                } else {
                    writeln!(out, "{}", l.line)?;
                }
            }
            out.flush()?;
        }
        if let Some(last) = lines.last() {
            after = last.seq;
            if lines.len() == 1000 {
                continue;
            }
        }
        if !args.follow {
            return Ok(());
        }
        // Following: stop once the run has ended and every line is out.
        let now = api.get_run(args.id)?;
        if now.status.is_final() && now.log_lines <= after {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[derive(Args, Debug)]
pub struct AccountsArgs {
    /// Only this provider's accounts.
    #[arg(long)]
    pub provider: Option<String>,
}

/// `baton accounts`: the provider accounts runners use and their state, as the board holds
/// it (names and states only; the secrets stay in each runner's accounts file).
pub fn accounts(ctx: &Context, args: AccountsArgs) -> CliResult {
    let api = ctx.api()?;
    let accounts = api.accounts(args.provider.as_deref())?;
    ctx.out.emit(&accounts, |w| {
        if accounts.is_empty() {
            return writeln!(
                w,
                "no provider accounts yet (a runner records them as it uses them)"
            );
        }
        let mut table = Table::new(&[
            "PROVIDER",
            "ACCOUNT",
            "STATE",
            "UNTIL",
            "LAST USED",
            "REASON",
        ]);
        for a in &accounts {
            table.row(vec![
                a.provider.clone(),
                a.name.clone(),
                a.status.as_str().to_string(),
                a.until.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                a.last_used_at
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "-".into()),
                cut(&or_dash(a.reason.as_deref()), 40),
            ]);
        }
        table.write(w)
    })
}
