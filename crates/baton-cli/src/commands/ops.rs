//! The operations record: `baton log` (attributed log entries, stored with the board's
//! events) and `baton tail` (everything that happened, as lines, followed live).

use baton_core::api::{
    NewLogEntry, NewSession, PruneReport, PruneRequest, SessionQuery, StopSession,
};
use baton_core::model::{ActorKind, LogLevel, Session};
use baton_core::store::EventQuery;
use baton_core::{SessionId, TaskId};
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
  make test 2>&1 | baton log --stdin --action TEST --system ci
  baton tail -f --action ERROR

With --stdin, every non-empty line is an entry, written in batches of up to 1,000 (one
transaction each) as lines arrive; a line longer than 10,000 bytes is cut, bytes that are
not UTF-8 are replaced. It ends at the end of input and prints how many were written.")]
pub struct LogArgs {
    /// What happened (not with --stdin).
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub message: Option<String>,
    /// Read entries from standard input, one per line (a build's or a service's output).
    #[arg(long)]
    pub stdin: bool,
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

/// Who writes, and as what kind of actor: `--system NAME`, `--ai` and `--human` say so;
/// otherwise an agent CLI's environment or an agent identity (BATON_AGENT) means an AI.
fn writer(
    ctx: &Context,
    tool: Option<&str>,
    system: Option<&str>,
    ai: bool,
    human: bool,
) -> (String, ActorKind) {
    match (system, ai, human) {
        (Some(name), _, _) => (name.trim().to_string(), ActorKind::System),
        (None, true, _) => (ctx.actor(), ActorKind::Ai),
        (None, false, true) => (ctx.actor(), ActorKind::Human),
        (None, false, false) if tool.is_some() || ctx.agent.is_some() => {
            (ctx.actor(), ActorKind::Ai)
        }
        _ => (ctx.actor(), ActorKind::Human),
    }
}

pub fn log(ctx: &Context, args: LogArgs) -> CliResult {
    let tool = detect_tool();
    let (actor, kind) = writer(ctx, tool, args.system.as_deref(), args.ai, args.human);
    let entry = NewLogEntry {
        message: args.message.unwrap_or_default(),
        action: Some(args.action),
        level: Some(args.level),
        kind: Some(kind),
        tool: tool.filter(|_| kind == ActorKind::Ai).map(str::to_string),
        task: args.task,
    };
    if args.stdin {
        return log_lines(
            ctx,
            &actor,
            entry,
            std::io::BufReader::new(std::io::stdin()),
        );
    }
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

/// What `baton log --stdin` wrote.
#[derive(Debug, Default, serde::Serialize)]
struct LinesLogged {
    written: u64,
    batches: u64,
    /// Lines longer than a log message may be, kept cut.
    cut: u64,
    first: Option<u64>,
    last: Option<u64>,
}

/// Writes each non-empty line of `input` as an entry like `template`, in batches: a batch
/// goes when it is full (1,000 entries or 2 MB) or when no line came for 200 ms, so a slow
/// producer's lines show up in `tail -f` as they come.
fn log_lines(
    ctx: &Context,
    actor: &str,
    template: NewLogEntry,
    input: impl std::io::BufRead + Send,
) -> CliResult {
    use baton_core::api::{LogBatch, MAX_LOG_BATCH};
    use baton_core::board::operations::MAX_MESSAGE as MAX_LOG_MESSAGE;
    use std::sync::mpsc::{sync_channel, RecvTimeoutError};
    const FULL_BYTES: usize = 2 << 20;
    const IDLE: std::time::Duration = std::time::Duration::from_millis(200);
    let api = ctx.api()?;
    let ops = api.operations();
    let mut done = LinesLogged::default();
    let mut batch: Vec<NewLogEntry> = Vec::new();
    let mut bytes = 0;
    let flush = |batch: &mut Vec<NewLogEntry>, done: &mut LinesLogged| -> CliResult {
        if batch.is_empty() {
            return Ok(());
        }
        let entries = std::mem::take(batch);
        let r = ops.log_batch(actor, LogBatch { entries }).map_err(|e| {
            let mut e = crate::error::CliError::from(e);
            e.message = format!(
                "{} (after {} entries were written)",
                e.message, done.written
            );
            e
        })?;
        done.written += r.written;
        done.batches += 1;
        done.first = done.first.or(r.first);
        done.last = r.last.or(done.last);
        Ok(())
    };
    std::thread::scope(|scope| -> CliResult {
        let (tx, rx) = sync_channel::<std::io::Result<Vec<u8>>>(4 * MAX_LOG_BATCH);
        scope.spawn(move || {
            let mut input = input;
            loop {
                let mut line = Vec::new();
                match input.read_until(b'\n', &mut line) {
                    Ok(0) => return,
                    Ok(_) => {
                        if tx.send(Ok(line)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        });
        loop {
            let line = match rx.recv_timeout(IDLE) {
                Ok(line) => line.map_err(|e| {
                    crate::error::CliError::invalid(format!(
                        "cannot read standard input: {e} (after {} entries were written)",
                        done.written
                    ))
                })?,
                Err(RecvTimeoutError::Timeout) => {
                    flush(&mut batch, &mut done)?;
                    bytes = 0;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let text = String::from_utf8_lossy(&line);
            let mut text = text.trim_end_matches(['\n', '\r']).to_string();
            if text.trim().is_empty() {
                continue;
            }
            if text.len() > MAX_LOG_MESSAGE {
                let mut end = MAX_LOG_MESSAGE;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                done.cut += 1;
            }
            bytes += text.len();
            batch.push(NewLogEntry {
                message: text,
                ..template.clone()
            });
            if batch.len() >= MAX_LOG_BATCH || bytes >= FULL_BYTES {
                flush(&mut batch, &mut done)?;
                bytes = 0;
            }
        }
        flush(&mut batch, &mut done)
    })?;
    ctx.out.emit(&done, |w| {
        write!(w, "Logged {} entries by {actor}", done.written)?;
        if let (Some(first), Some(last)) = (done.first, done.last) {
            write!(w, " (#{first} to #{last})")?;
        }
        if done.cut > 0 {
            write!(w, "; {} long lines cut to 10,000 bytes", done.cut)?;
        }
        writeln!(w)
    })
}

#[derive(Args, Debug)]
#[command(after_help = "\
Log entries (`baton log`, agents' OpenTelemetry logs) and the output of runs grow without
bound; `baton config set log_retention 30d` keeps them for 30 days. Board events (task
changes, reservations, messages, merges) are the audit trail and are never deleted. A
running server applies retention every 10 minutes; this applies it now, in batches.

  baton config set log_retention 30d
  baton prune --dry-run       what would go
  baton prune                 delete it (prints what went)
  baton prune --limit 1000    one batch of at most 1,000 of each")]
pub struct PruneArgs {
    /// Count what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Delete at most this many log entries and run-output lines (one batch, up to
    /// 10,000); without it, batches run until nothing older is left.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub limit: Option<u64>,
}

pub fn prune(ctx: &Context, args: PruneArgs) -> CliResult {
    let api = ctx.api()?;
    let ops = api.operations();
    let actor = ctx.actor();
    let request = PruneRequest {
        dry_run: args.dry_run,
        limit: args.limit,
    };
    let mut total = ops.prune(&actor, request.clone())?;
    while total.more && args.limit.is_none() && !args.dry_run {
        let next = ops.prune(&actor, request.clone())?;
        total.log_entries += next.log_entries;
        total.run_log_lines += next.run_log_lines;
        total.more = next.more;
    }
    ctx.out.emit(&total, |w| prune_text(w, &total))
}

fn prune_text(w: &mut dyn std::io::Write, r: &PruneReport) -> std::io::Result<()> {
    let Some(before) = r.before else {
        writeln!(
            w,
            "log_retention is off: log entries and run output are kept for ever."
        )?;
        return writeln!(
            w,
            "hint: `baton config set log_retention 30d` keeps 30 days"
        );
    };
    let verb = if r.dry_run { "Would delete" } else { "Deleted" };
    writeln!(
        w,
        "{verb} {} log entries and {} lines of run output from before {before} \
         (log_retention {}).",
        r.log_entries, r.run_log_lines, r.retention
    )?;
    if r.more {
        writeln!(w, "More remain: run `baton prune` again.")?;
    }
    Ok(())
}

#[derive(clap::Subcommand, Debug)]
pub enum SessionCommand {
    /// Start a session: what you (or --identity) write until it stops carries it. An
    /// open session of the same identity ends first.
    Start(SessionStartArgs),
    /// A session and what happened in it (default: your open one).
    Info {
        /// The session (S-2); your open one when left out.
        session: Option<SessionId>,
    },
    /// End a session (default: your open one).
    Stop {
        /// The session (S-2); your open one when left out.
        session: Option<SessionId>,
    },
    /// Sessions, newest first.
    List(SessionListArgs),
}

#[derive(Args, Debug)]
#[command(after_help = "\
A session is a span of work by one identity: a person at the keyboard, an agent, a script.
Every event the identity writes while it is open (board changes and log entries) carries
it; a runner's run is a session of its agent. Read one back with `baton tail --session S-3`.

  baton session start --purpose \"release 1.4\"
  baton session start --identity ci-nightly --system
  baton session info
  baton session stop")]
pub struct SessionStartArgs {
    /// Whose session it is (default: you, or --agent/BATON_AGENT). Act as them afterwards
    /// (--agent NAME) so that what you write lands in it.
    #[arg(long, value_name = "NAME")]
    pub identity: Option<String>,
    /// What the session is for.
    #[arg(long)]
    pub purpose: Option<String>,
    /// An AI agent's session (detected under Claude Code, Codex, Cursor or Gemini CLI).
    #[arg(long, conflicts_with_all = ["system", "human"])]
    pub ai: bool,
    /// A system's session (CI, a script).
    #[arg(long, conflicts_with = "human")]
    pub system: bool,
    /// A person's session, whatever the environment says.
    #[arg(long)]
    pub human: bool,
}

#[derive(Args, Debug)]
pub struct SessionListArgs {
    /// Only open sessions.
    #[arg(long)]
    pub open: bool,
    /// Only this identity's.
    #[arg(long)]
    pub identity: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
}

pub fn session(ctx: &Context, command: SessionCommand) -> CliResult {
    match command {
        SessionCommand::Start(args) => session_start(ctx, args),
        SessionCommand::Info { session } => session_info(ctx, session),
        SessionCommand::Stop { session } => {
            let stopped = ctx
                .api()?
                .operations()
                .stop_session(&ctx.actor(), StopSession { session })?;
            ctx.out.emit(&stopped, |w| {
                writeln!(
                    w,
                    "Stopped {} ({}), started {}",
                    stopped.id, stopped.identity, stopped.started_at
                )
            })
        }
        SessionCommand::List(args) => {
            let sessions = ctx.api()?.operations().sessions(&SessionQuery {
                identity: args.identity,
                open: args.open,
                limit: Some(args.limit),
            })?;
            ctx.out.emit(&sessions, |w| session_table(w, &sessions))
        }
    }
}

fn session_start(ctx: &Context, args: SessionStartArgs) -> CliResult {
    let tool = detect_tool();
    let system = args
        .system
        .then(|| args.identity.clone().unwrap_or_else(|| ctx.actor()));
    let (me, kind) = writer(ctx, tool, system.as_deref(), args.ai, args.human);
    let identity = args.identity.unwrap_or(me);
    let new = NewSession {
        purpose: args.purpose,
        kind: Some(kind),
        tool: tool.filter(|_| kind == ActorKind::Ai).map(str::to_string),
    };
    let session = ctx.api()?.operations().start_session(&identity, new)?;
    let acting = identity == ctx.actor();
    ctx.out.emit(&session, |w| {
        writeln!(
            w,
            "Started {} for {} ({})",
            session.id,
            session.identity,
            session.kind.as_str()
        )?;
        if !acting {
            writeln!(
                w,
                "What is written as {0} lands in it: --agent {0}, or export BATON_AGENT={0}",
                session.identity
            )?;
        }
        Ok(())
    })
}

fn session_info(ctx: &Context, id: Option<SessionId>) -> CliResult {
    let api = ctx.api()?;
    let ops = api.operations();
    let id = match id {
        Some(id) => id,
        None => {
            let me = ctx.actor();
            ops.sessions(&SessionQuery {
                identity: Some(me.clone()),
                open: true,
                limit: Some(1),
            })?
            .first()
            .map(|s| s.id)
            .ok_or_else(|| baton_core::board::sessions::no_open_session(&me))?
        }
    };
    let info = ops.session(id)?;
    ctx.out.emit(&info, |w| {
        let s = &info.session;
        let state = match s.ended_at {
            Some(at) => format!(
                "ended {at} ({})",
                s.end_reason.as_deref().unwrap_or("stopped")
            ),
            None => "open".to_string(),
        };
        writeln!(w, "session   {} ({state})", s.id)?;
        writeln!(w, "identity  {} ({})", s.identity, s.kind.as_str())?;
        if let Some(tool) = &s.tool {
            writeln!(w, "tool      {tool}")?;
        }
        if let Some(run) = s.run {
            writeln!(w, "run       {run}")?;
        }
        if let Some(p) = &s.purpose {
            writeln!(w, "purpose   {p}")?;
        }
        writeln!(w, "started   {}", s.started_at)?;
        writeln!(
            w,
            "events    {} ({} log entries, {} errors) about {} tasks",
            info.events, info.log_entries, info.errors, info.tasks
        )?;
        if let Some(at) = info.last_event_at {
            writeln!(w, "last      {at}")?;
        }
        Ok(())
    })
}

fn session_table(w: &mut dyn std::io::Write, sessions: &[Session]) -> std::io::Result<()> {
    if sessions.is_empty() {
        return writeln!(w, "No sessions. Start one with `baton session start`.");
    }
    let mut table = crate::output::Table::new(&[
        "ID", "IDENTITY", "KIND", "STARTED", "ENDED", "RUN", "PURPOSE",
    ]);
    for s in sessions {
        table.row(vec![
            s.id.to_string(),
            s.identity.clone(),
            s.kind.as_str().to_string(),
            s.started_at.to_string(),
            s.ended_at
                .map(|t| t.to_string())
                .unwrap_or_else(|| "open".into()),
            s.run.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
            s.purpose.clone().unwrap_or_default(),
        ]);
    }
    table.write(w)
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
    /// Only this event action or prefix (task.done, task., merge.*) or log level (ERROR).
    #[arg(long)]
    pub action: Option<String>,
    /// Only about this task.
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Only since a time (RFC 3339) or within a duration (10m, 1h).
    #[arg(long)]
    pub since: Option<String>,
    /// Only what was written in this session (S-3; see `baton session list`).
    #[arg(long)]
    pub session: Option<SessionId>,
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
        session: args.session,
        after_id: None,
        limit: (!args.all).then_some(args.lines),
    };
    super::events::lines(ctx, query, args.follow, mode)
}

#[derive(clap::Subcommand, Debug)]
pub enum AnalyzeCommand {
    /// Log messages grouped by shape (numbers, ids, paths, hashes and quoted text hidden),
    /// with counts, first and last seen: the handful of things going wrong, not the 10,000
    /// lines saying so.
    Patterns(PatternsArgs),
    /// Event rates per actor and per action, and run durations, tokens and cost per
    /// provider, flagged where a value sits more than --threshold standard deviations from
    /// the rolling baseline before it.
    Anomalies(AnomaliesArgs),
    /// Per agent: tasks picked up and handed in, cycle time (pickup to review, median),
    /// rejections and their rate, leases lost.
    Agents(AgentsArgs),
}

#[derive(Args, Debug)]
pub struct AgentsArgs {
    /// How far back to look: a time (RFC 3339) or a duration.
    #[arg(long, default_value = "7d")]
    pub since: String,
}

#[derive(Args, Debug)]
pub struct PatternsArgs {
    /// Only entries since a time (RFC 3339) or within a duration (default 24h).
    #[arg(long, default_value = "24h")]
    pub since: String,
    /// Only this log action (ERROR) or event action/prefix; default: every log entry.
    #[arg(long)]
    pub action: Option<String>,
    /// The most frequent N shapes.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Args, Debug)]
pub struct AnomaliesArgs {
    /// Flag values more than this many standard deviations from their baseline.
    #[arg(long, default_value_t = 3.0)]
    pub threshold: f64,
    /// How far back to look: a time (RFC 3339) or a duration.
    #[arg(long, default_value = "24h")]
    pub since: String,
    /// The width of one step of the event-rate series (10m, 1h; 1s to 1d).
    #[arg(long, default_value = "10m", value_parser = super::runner::duration)]
    pub bucket: std::time::Duration,
    /// How many earlier values make the baseline (3 to 1000).
    #[arg(long, default_value_t = 12)]
    pub window: usize,
}

pub fn analyze(ctx: &Context, command: AnalyzeCommand) -> CliResult {
    match command {
        AnalyzeCommand::Patterns(args) => patterns(ctx, args),
        AnalyzeCommand::Anomalies(args) => anomalies(ctx, args),
        AnalyzeCommand::Agents(args) => agents(ctx, args),
    }
}

/// One agent's record over the window.
#[derive(Default, serde::Serialize)]
struct AgentRecord {
    agent: String,
    picked_up: u64,
    handed_in: u64,
    rejected: u64,
    rejection_rate: f64,
    leases_lost: u64,
    /// Pickup to hand-in, median and slowest, in seconds.
    cycle_median_secs: Option<f64>,
    cycle_max_secs: Option<f64>,
}

fn agents(ctx: &Context, args: AgentsArgs) -> CliResult {
    use std::collections::{BTreeMap, HashMap};
    let events = ctx.api()?.events(&EventQuery {
        action: Some("task.".into()),
        since: Some(super::events::since(&args.since)?),
        ..EventQuery::default()
    })?;
    let mut by: BTreeMap<String, AgentRecord> = BTreeMap::new();
    let mut picked: HashMap<(String, TaskId), i64> = HashMap::new();
    let mut cycles: HashMap<String, Vec<f64>> = HashMap::new();
    fn entry<'a>(by: &'a mut BTreeMap<String, AgentRecord>, agent: &str) -> &'a mut AgentRecord {
        by.entry(agent.to_string()).or_insert_with(|| AgentRecord {
            agent: agent.to_string(),
            ..AgentRecord::default()
        })
    }
    for e in &events {
        let Some(task) = e.task else { continue };
        let text = |k: &str| e.detail[k].as_str().map(str::to_string);
        match e.action.as_str() {
            "task.picked_up" => {
                entry(&mut by, &e.actor).picked_up += 1;
                picked.insert((e.actor.clone(), task), e.at.unix_millis());
            }
            "task.done" => {
                entry(&mut by, &e.actor).handed_in += 1;
                if let Some(start) = picked.remove(&(e.actor.clone(), task)) {
                    let secs = (e.at.unix_millis() - start) as f64 / 1000.0;
                    cycles.entry(e.actor.clone()).or_default().push(secs);
                }
            }
            "task.rejected" => {
                if let Some(a) = text("assignee") {
                    entry(&mut by, &a).rejected += 1;
                }
            }
            "task.lease_expired" => {
                if let Some(a) = text("held_by") {
                    entry(&mut by, &a).leases_lost += 1;
                }
            }
            _ => {}
        }
    }
    let mut all: Vec<AgentRecord> = by.into_values().collect();
    for r in &mut all {
        if r.handed_in > 0 {
            r.rejection_rate = r.rejected as f64 / r.handed_in as f64;
        }
        if let Some(c) = cycles.get_mut(&r.agent) {
            c.sort_by(f64::total_cmp);
            r.cycle_median_secs = c.get(c.len() / 2).copied();
            r.cycle_max_secs = c.last().copied();
        }
    }
    ctx.out.emit(&all, |w| {
        if all.is_empty() {
            return writeln!(w, "No agent picked up a task in that time.");
        }
        let mut t = crate::output::Table::new(&[
            "AGENT",
            "PICKED",
            "HANDED IN",
            "REJECTED",
            "RATE",
            "LEASES LOST",
            "CYCLE (MEDIAN)",
        ]);
        let secs = |s: Option<f64>| match s {
            Some(s) if s >= 3600.0 => format!("{:.1}h", s / 3600.0),
            Some(s) if s >= 60.0 => format!("{:.1}m", s / 60.0),
            Some(s) => format!("{s:.1}s"),
            None => "-".into(),
        };
        for r in &all {
            t.row(vec![
                r.agent.clone(),
                r.picked_up.to_string(),
                r.handed_in.to_string(),
                r.rejected.to_string(),
                format!("{:.0}%", r.rejection_rate * 100.0),
                r.leases_lost.to_string(),
                secs(r.cycle_median_secs),
            ]);
        }
        t.write(w)
    })
}

fn patterns(ctx: &Context, args: PatternsArgs) -> CliResult {
    let query = EventQuery {
        action: Some(match &args.action {
            Some(a) => action_filter(a)?,
            None => "log.".into(),
        }),
        since: Some(super::events::since(&args.since)?),
        ..EventQuery::default()
    };
    let events = ctx.api()?.events(&query)?;
    let entries = events.iter().map(|e| {
        let message = e.detail["message"].as_str().unwrap_or(e.action.as_str());
        (message, e.at, e.action.as_str())
    });
    let mut found = baton_core::analysis::patterns(entries);
    found.truncate(args.limit);
    ctx.out.emit(&found, |w| {
        if found.is_empty() {
            return writeln!(
                w,
                "No log entries in that time (baton log \"...\" writes one)."
            );
        }
        let mut t = crate::output::Table::new(&["COUNT", "SHAPE", "FIRST", "LAST", "ACTIONS"]);
        for p in &found {
            t.row(vec![
                p.count.to_string(),
                crate::output::cut(&p.shape, 70),
                p.first_seen.to_string(),
                p.last_seen.to_string(),
                p.actions.join(","),
            ]);
        }
        t.write(w)
    })
}

fn anomalies(ctx: &Context, args: AnomaliesArgs) -> CliResult {
    let since = super::events::since(&args.since)?;
    let flags = baton_core::analysis::read_anomalies(
        ctx.api()?.as_ref(),
        &baton_core::analysis::AnomalyWindow::new(
            since,
            baton_core::time::Timestamp::now(),
            args.bucket,
            args.window,
            args.threshold,
        )?,
    )?;
    ctx.out.emit(&flags, |w| {
        if flags.is_empty() {
            return writeln!(
                w,
                "Nothing sits more than {} standard deviations from its baseline.",
                args.threshold
            );
        }
        let mut t = crate::output::Table::new(&["AT", "SERIES", "VALUE", "BASELINE", "SCORE"]);
        for f in &flags {
            t.row(vec![
                f.at.to_string(),
                f.series.clone(),
                format!("{:.2}", f.value),
                format!("{:.2}", f.baseline),
                format!("{:+.1}", f.score),
            ]);
        }
        t.write(w)
    })
}

#[derive(Args, Debug)]
#[command(after_help = "\
What /metrics says, as a table: runs by provider and outcome, tokens by type, cost, sessions
open and started, log entries by action and level, tasks by status (and, from a server, its
requests and latency). Without a server it reads the project's database.

  baton metrics
  baton metrics runs          only metrics whose name contains `runs`
  baton metrics --raw         the Prometheus text, as a scraper sees it")]
pub struct MetricsArgs {
    /// Only metrics whose name contains this (runs, tokens, log, http).
    pub filter: Option<String>,
    /// Print the Prometheus text exposition as it is.
    #[arg(long)]
    pub raw: bool,
    /// Include histogram buckets.
    #[arg(long)]
    pub all: bool,
}

/// One sample of the exposition.
#[derive(Debug, serde::Serialize)]
struct Sample {
    name: String,
    labels: std::collections::BTreeMap<String, String>,
    value: f64,
}

/// `name{a="x",b="y"} 12`: the samples of a Prometheus text exposition (comments skipped).
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = match line.rsplit_once(' ') {
            Some((s, v)) => (s.trim(), v),
            None => continue,
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        out.push(Sample {
            name: name.to_string(),
            labels: labels_of(labels),
            value,
        });
    }
    out
}

/// `a="x",b="y \"q\""` -> {a: x, b: y "q"}.
fn labels_of(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut labels = std::collections::BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        let key: String = chars
            .by_ref()
            .skip_while(|c| *c == ',' || c.is_whitespace())
            .take_while(|c| *c != '=')
            .collect();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('"') {
            break;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(other) => value.push(other),
                    None => break,
                },
                '"' => break,
                c => value.push(c),
            }
        }
        labels.insert(key, value);
    }
    labels
}

/// The exposition a server would give for this project's database (no HTTP figures).
fn local_exposition(ctx: &Context) -> CliResult<String> {
    let api = ctx.api()?;
    let counts = api.status_counts()?;
    let ops = api.operations().stats(0)?;
    let metrics = baton_server::metrics::Metrics::default();
    metrics.count_log(0, &ops);
    let text = metrics.render(
        Some(&counts),
        Some(&ops),
        &baton_server::workers::WriterStats::default(),
        ops.through,
        std::time::Duration::ZERO,
    );
    // Only what the database says: the rest describes a running server.
    let server_only = [
        "baton_http_",
        "baton_pickups_",
        "baton_writer_",
        "baton_event_streams",
        "baton_uptime_",
        "process_",
    ];
    Ok(text
        .lines()
        .filter(|l| {
            let name = l
                .trim_start_matches("# HELP ")
                .trim_start_matches("# TYPE ");
            !server_only.iter().any(|p| name.starts_with(p))
        })
        .map(|l| format!("{l}\n"))
        .collect())
}

pub fn metrics(ctx: &Context, args: MetricsArgs) -> CliResult {
    let text = match ctx.client()? {
        Some(client) => client.metrics()?,
        None => local_exposition(ctx)?,
    };
    if args.raw {
        print!("{text}");
        return Ok(());
    }
    let shown: Vec<Sample> = samples(&text)
        .into_iter()
        .filter(|s| args.all || !s.name.ends_with("_bucket"))
        .filter(|s| args.filter.as_deref().is_none_or(|f| s.name.contains(f)))
        .collect();
    ctx.out.emit(&shown, |w| {
        if shown.is_empty() {
            return writeln!(w, "No metrics match.");
        }
        let mut table = crate::output::Table::new(&["METRIC", "LABELS", "VALUE"]);
        for s in &shown {
            let labels = s
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            let value = if s.value.fract() == 0.0 && s.value.abs() < 1e15 {
                format!("{}", s.value as i64)
            } else {
                format!("{:.4}", s.value)
            };
            table.row(vec![s.name.clone(), labels, value]);
        }
        table.write(w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_lines_become_samples() {
        let text = "# HELP x y\n# TYPE x counter\nx_total{a=\"1\",b=\"q \\\"z\\\" \\\\ n\\n\"} 3\nup 1.5\nbad line\n";
        let s = samples(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "x_total");
        assert_eq!(s[0].labels["a"], "1");
        assert_eq!(s[0].labels["b"], "q \"z\" \\ n\n");
        assert_eq!((s[1].name.as_str(), s[1].value), ("up", 1.5));
    }
}
