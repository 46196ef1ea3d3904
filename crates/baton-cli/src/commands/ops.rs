//! The operations record: `baton log` (attributed log entries, stored with the board's
//! events) and `baton tail` (everything that happened, as lines, followed live).

use baton_core::api::NewLogEntry;
use baton_core::model::{ActorKind, LogLevel};
use baton_core::store::EventQuery;
use baton_core::TaskId;
use clap::{Args, ValueEnum};

use super::Context;
use crate::error::CliResult;
use crate::output::Mode;

/// The AI coding tool this process runs under, from the variables each is known to set for
/// the commands it runs: Claude Code (`CLAUDECODE`), Codex (`CODEX_SANDBOX*`, `CODEX_THREAD_ID`),
/// Cursor (`CURSOR_AGENT`, `CURSOR_TRACE_ID`), Gemini CLI (`GEMINI_CLI`).
pub fn detect_tool() -> Option<&'static str> {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    if set("CLAUDECODE") || set("CLAUDE_CODE_ENTRYPOINT") {
        Some("claude-code")
    } else if set("CODEX_SANDBOX")
        || set("CODEX_SANDBOX_NETWORK_DISABLED")
        || set("CODEX_THREAD_ID")
    {
        Some("codex")
    } else if set("CURSOR_AGENT") || set("CURSOR_TRACE_ID") {
        Some("cursor")
    } else if set("GEMINI_CLI") {
        Some("gemini")
    } else {
        None
    }
}

#[derive(Args, Debug)]
#[command(after_help = "\
Stored in the project's event log beside every board change (append-only), attributed to
who wrote it: a person, an AI agent (detected from the agent CLI's environment, or BATON_AGENT
set, or --ai) or a system (--system NAME: CI, a script, a service).

  baton log \"Build started\" --action BUILD
  baton log \"Tests failed: 3 of 812\" --action TEST --level error --task T-12
  baton log \"Deployed 1.4.2\" --action DEPLOY --system ci
  baton tail -f --action ERROR")]
pub struct LogArgs {
    /// What happened.
    pub message: String,
    /// What kind of thing it is (BUILD, DEPLOY, ERROR...); stored as `log.<action>`.
    #[arg(long, default_value = "note")]
    pub action: String,
    #[arg(long, default_value = "info")]
    pub level: LogLevel,
    /// The task it is about.
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Written by an AI agent (detected when it runs under Claude Code, Codex, Cursor or
    /// Gemini CLI, or with BATON_AGENT set).
    #[arg(long, conflicts_with_all = ["system", "human"])]
    pub ai: bool,
    /// Written by a system (CI, a script): the name it is recorded under.
    #[arg(long, value_name = "NAME", conflicts_with = "human")]
    pub system: Option<String>,
    /// Written by a person, whatever the environment says.
    #[arg(long)]
    pub human: bool,
}

pub fn log(ctx: &Context, args: LogArgs) -> CliResult {
    let tool = detect_tool();
    let (actor, kind) = match (&args.system, args.ai, args.human) {
        (Some(name), _, _) => (name.trim().to_string(), ActorKind::System),
        (None, true, _) => (ctx.actor(), ActorKind::Ai),
        (None, false, true) => (ctx.actor(), ActorKind::Human),
        (None, false, false) if tool.is_some() || ctx.agent.is_some() => {
            (ctx.actor(), ActorKind::Ai)
        }
        _ => (ctx.actor(), ActorKind::Human),
    };
    let entry = NewLogEntry {
        message: args.message,
        action: Some(args.action),
        level: Some(args.level),
        kind: Some(kind),
        tool: tool.filter(|_| kind == ActorKind::Ai).map(str::to_string),
        task: args.task,
    };
    let event = ctx.api()?.operations().log(&actor, entry)?;
    ctx.out.emit(&event, |w| {
        writeln!(
            w,
            "Logged #{} {} by {actor} ({})",
            event.id,
            event.action,
            event.detail["kind"].as_str().unwrap_or_default()
        )
    })
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
#[command(after_help = "\
Log entries (baton log) and every board change, oldest first, one per line; -f keeps
following. --action takes a log action (ERROR, BUILD: log entries only) or an event action
or prefix (task.done, task., merge.*).")]
pub struct TailArgs {
    /// How many of the newest lines to show first (0: none, as with -f to see only what
    /// comes next).
    #[arg(
        short = 'n',
        long = "lines",
        default_value_t = 50,
        conflicts_with = "all"
    )]
    pub lines: u64,
    /// Show the whole record first.
    #[arg(long)]
    pub all: bool,
    /// Keep printing as things happen.
    #[arg(short, long)]
    pub follow: bool,
    /// text (default, or json with --json) or json (one object per line, for agents).
    #[arg(long)]
    pub format: Option<Format>,
    /// Only what this actor did or wrote.
    #[arg(long)]
    pub actor: Option<String>,
    #[arg(long)]
    pub action: Option<String>,
    /// Only about this task.
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Only since a time (RFC 3339) or within a duration (10m, 1h).
    #[arg(long)]
    pub since: Option<String>,
}

/// `ERROR` -> `log.error`; event actions and prefixes (`task.done`, `task.`, `merge.*`)
/// pass as they are.
fn action_filter(action: &str) -> CliResult<String> {
    if action.contains('.') || action.ends_with('*') {
        return Ok(action.to_string());
    }
    Ok(format!(
        "log.{}",
        baton_core::board::operations::tag(Some(action))?
    ))
}

pub fn tail(ctx: &Context, args: TailArgs) -> CliResult {
    let mode = match args.format {
        Some(Format::Json) => Mode::Json,
        Some(Format::Text) => Mode::Human,
        None => ctx.out.mode,
    };
    let query = EventQuery {
        task: args.task,
        actor: args.actor,
        action: args.action.as_deref().map(action_filter).transpose()?,
        since: args
            .since
            .as_deref()
            .map(super::events::since)
            .transpose()?,
        after_id: None,
        limit: (!args.all).then_some(args.lines),
    };
    super::events::lines(ctx, query, args.follow, mode)
}
