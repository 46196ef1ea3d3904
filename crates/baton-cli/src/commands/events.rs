//! `baton events`: the audit log, listed or followed.

use std::io::Write;
use std::time::Duration;

use baton_core::model::Event;
use baton_core::store::EventQuery;
use baton_core::time::{parse_duration, Timestamp};
use baton_core::TaskId;
use clap::Args;

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, Mode, Table};

const FOLLOW_POLL: Duration = Duration::from_millis(100);

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Only events about this task.
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Only events by this actor (`--agent NAME` on the command line works too).
    #[arg(long = "by", alias = "actor")]
    pub by: Option<String>,
    /// Only this action (`task.done`), or a prefix ending in `.` or `*` (`task.`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only events since a time (RFC 3339) or within a duration (`10m`, `2h`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events written in this session (S-3).
    #[arg(long)]
    pub session: Option<baton_core::SessionId>,
    /// The newest N events; 0 = all.
    #[arg(long, short, default_value_t = 50)]
    pub limit: u64,
    /// Keep printing new events as they happen (one JSON object per line for agents).
    #[arg(long, short)]
    pub follow: bool,
}

pub fn since(text: &str) -> CliResult<Timestamp> {
    if let Some(d) = parse_duration(text) {
        return Ok(Timestamp::now().minus(d));
    }
    // A date alone is its midnight, UTC.
    let date = text.trim();
    let is_date = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let full = if is_date {
        format!("{date}T00:00:00Z")
    } else {
        text.to_string()
    };
    Timestamp::parse(&full).ok_or_else(|| {
        CliError::invalid(format!("'{text}' is neither a time nor a duration")).with_hint(
            "use a date (2026-11-21), RFC 3339 (2026-11-21T14:00:00Z) or a duration such \
                 as 30m",
        )
    })
}

pub fn run(ctx: &Context, args: EventsArgs) -> CliResult {
    let api = ctx.api()?;
    let query = EventQuery {
        task: args.task,
        actor: ctx.agent_filter(args.by),
        action: args.action,
        since: args.since.as_deref().map(since).transpose()?,
        session: args.session,
        after_id: None,
        limit: (args.limit > 0).then_some(args.limit),
    };
    if !args.follow {
        let events = api.events(&query)?;
        return ctx.out.emit(&events, |w| event_table(w, &events));
    }
    lines(ctx, query, true, ctx.out.mode)
}

/// The events `query` selects (none with a limit of 0), one line each (JSON objects in
/// `Mode::Json`), then, when `follow`, each new one as it happens.
pub fn lines(ctx: &Context, mut query: EventQuery, follow: bool, mode: Mode) -> CliResult {
    let api = ctx.api()?;
    let events = if query.limit == Some(0) {
        Vec::new()
    } else {
        api.events(&query)?
    };
    let stdout = std::io::stdout();
    let mut last = events.last().map(|e| e.id);
    {
        let mut w = stdout.lock();
        for e in &events {
            event_line(&mut w, mode, e)?;
        }
        w.flush()?;
    }
    if !follow {
        return Ok(());
    }
    if last.is_none() {
        // Start after the newest existing event, not from the beginning.
        let newest = api.events(&EventQuery {
            limit: Some(1),
            ..EventQuery::default()
        })?;
        last = newest.last().map(|e| e.id);
    }
    if let Some(client) = ctx.client()? {
        return follow_stream(&client, &query, last, mode);
    }
    query.limit = None;
    loop {
        query.after_id = last.or(Some(0));
        let fresh = api.events(&query)?;
        if let Some(e) = fresh.last() {
            last = Some(e.id);
            let mut w = stdout.lock();
            for e in &fresh {
                event_line(&mut w, mode, e)?;
            }
            w.flush()?;
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// Following a server: its live stream, resumed after a broken connection.
fn follow_stream(
    client: &baton_client::Client,
    query: &EventQuery,
    mut last: Option<u64>,
    mode: Mode,
) -> CliResult {
    let stdout = std::io::stdout();
    let mut connected_once = false;
    loop {
        let opened = client.follow(&baton_client::FollowFilter {
            after: Some(last.unwrap_or(0)),
            task: query.task,
            actor: query.actor.clone(),
            action: query.action.clone(),
            session: query.session,
        });
        let mut feed = match opened {
            Ok(feed) => feed,
            // Once following, a server restart is waited out rather than fatal.
            Err(e) if connected_once && e.class() == baton_core::ErrorClass::Unavailable => {
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        connected_once = true;
        for event in feed.by_ref() {
            let Ok(e) = event else { break };
            last = Some(e.id);
            let mut w = stdout.lock();
            event_line(&mut w, mode, &e)?;
            w.flush()?;
        }
        // The server went away or restarted: retry until it answers again.
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn summary(e: &Event) -> String {
    // A log entry reads as its message: `[error] Build failed (ai, claude-code)`.
    if e.action.starts_with("log.") {
        let d = &e.detail;
        let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
        let who = [text("kind"), text("tool")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        return format!("[{}] {} ({who})", text("level"), text("message"));
    }
    match &e.detail {
        serde_json::Value::Object(m) if m.is_empty() => String::new(),
        other => cut(&other.to_string(), 80),
    }
}

fn event_line(w: &mut dyn Write, mode: Mode, e: &Event) -> std::io::Result<()> {
    match mode {
        Mode::Json => {
            serde_json::to_writer(&mut *w, e)?;
            writeln!(w)
        }
        Mode::Human => {
            let task = e.task.map(|t| t.to_string()).unwrap_or_default();
            let actor = match e.session {
                Some(s) => format!("{}@{s}", e.actor),
                None => e.actor.clone(),
            };
            writeln!(
                w,
                "{}  {:<10} {:<16} {:<6} {}",
                e.at,
                actor,
                e.action,
                task,
                summary(e)
            )
        }
    }
}

fn event_table(w: &mut dyn Write, events: &[Event]) -> std::io::Result<()> {
    if events.is_empty() {
        return writeln!(w, "No events.");
    }
    let mut table = Table::new(&["ID", "AT", "ACTOR", "ACTION", "TASK", "DETAIL"]);
    for e in events {
        table.row(vec![
            e.id.to_string(),
            e.at.to_string(),
            e.actor.clone(),
            e.action.clone(),
            e.task.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
            summary(e),
        ]);
    }
    table.write(w)
}
