//! Log entries: what people, agents and systems report (`baton log`), appended to the same
//! event log as board changes, in the same transaction rules, so one query (`baton tail`)
//! reads everything that happened, attributed.

use serde_json::json;

use super::{load, validate};
use crate::api::{
    LogBatch, LogBatchReport, LogStats, NewLogEntry, OperationsStats, RunStats, SessionStats,
    MAX_LOG_BATCH,
};
use crate::error::{Error, Result};
use crate::model::{ActorKind, Event, LogLevel, NewEvent};
use crate::sql::{query_map, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// The longest log message kept.
pub const MAX_MESSAGE: usize = 10_000;

/// `BUILD` -> `build`: the tag a log entry's action is made of.
pub fn tag(action: Option<&str>) -> Result<String> {
    let raw = action
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("note");
    let ok = raw.len() <= 40
        && raw.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(Error::invalid_with_hint(
            format!("'{raw}' is not a log action"),
            "a letter, then up to 39 letters, digits, _ or -: BUILD, DEPLOY, test-run",
        ));
    }
    Ok(raw.to_ascii_lowercase())
}

pub fn log(tx: &mut dyn StoreTx, actor: &str, entry: NewLogEntry, now: Timestamp) -> Result<Event> {
    log_with(tx, actor, entry, serde_json::Map::new(), now)
}

/// Appends every entry of `batch` in the caller's transaction; the first bad one fails
/// the whole batch, named by its place in it.
pub fn log_batch(
    tx: &mut dyn StoreTx,
    actor: &str,
    batch: &LogBatch,
    now: Timestamp,
) -> Result<LogBatchReport> {
    if batch.entries.is_empty() || batch.entries.len() > MAX_LOG_BATCH {
        return Err(Error::invalid_with_hint(
            format!(
                "a log batch holds 1 to {MAX_LOG_BATCH} entries, not {}",
                batch.entries.len()
            ),
            "send larger sets in several batches",
        ));
    }
    let mut report = LogBatchReport::default();
    for (i, entry) in batch.entries.iter().enumerate() {
        let event = log(tx, actor, entry.clone(), now).map_err(|e| match e {
            Error::InvalidInput { message, hint } => Error::InvalidInput {
                message: format!("log entry {i}: {message}"),
                hint,
            },
            other => other,
        })?;
        report.first.get_or_insert(event.id);
        report.last = Some(event.id);
        report.written += 1;
    }
    Ok(report)
}

/// [`log`], with more fields in the entry's detail (`extra`; the entry's own win).
pub fn log_with(
    tx: &mut dyn StoreTx,
    actor: &str,
    entry: NewLogEntry,
    extra: serde_json::Map<String, serde_json::Value>,
    now: Timestamp,
) -> Result<Event> {
    let message = entry.message.trim();
    if message.is_empty() || message.len() > MAX_MESSAGE {
        return Err(Error::invalid_with_hint(
            "a log entry needs a message, in up to 10,000 bytes",
            "for example: baton log \"Build started\" --action BUILD",
        ));
    }
    let action = format!("log.{}", tag(entry.action.as_deref())?);
    if let Some(t) = &entry.tool {
        validate::validate_agent_name(t)?;
    }
    // Any task the board knows, a deleted one too: the record is about what happened.
    if let Some(task) = entry.task {
        load(tx, task)?;
    }
    let mut detail = serde_json::Value::Object(extra);
    for (k, v) in [
        ("message", json!(message)),
        ("level", json!(entry.level.unwrap_or(LogLevel::Info))),
        ("kind", json!(entry.kind.unwrap_or(ActorKind::Human))),
        ("tool", json!(entry.tool)),
    ] {
        detail[k] = v;
    }
    let session = super::sessions::open_for(tx.sql(), actor)?;
    let id = tx.append_event(&NewEvent {
        at: now,
        actor: actor.to_string(),
        action: action.clone().into(),
        task: entry.task,
        detail: detail.clone(),
        session,
    })?;
    Ok(Event {
        id,
        at: now,
        actor: actor.to_string(),
        action,
        task: entry.task,
        detail,
        session,
    })
}

/// Totals for `/metrics`: runs by provider and status with their usage, sessions by kind,
/// and log entries after event `log_after` by action and level. Plain aggregates, so one
/// query each on either store; the log count reads only the events since the last scrape.
pub fn stats(db: &mut dyn Sql, log_after: u64) -> Result<OperationsStats> {
    let runs = query_map(
        db,
        "run",
        "SELECT provider, status, count(*), \
         CAST(coalesce(sum(input_tokens), 0) AS BIGINT), \
         CAST(coalesce(sum(output_tokens), 0) AS BIGINT), \
         CAST(coalesce(sum(cache_read_tokens), 0) AS BIGINT), \
         CAST(coalesce(sum(cache_write_tokens), 0) AS BIGINT), \
         CAST(coalesce(sum(reasoning_tokens), 0) AS BIGINT), \
         CAST(coalesce(sum(cost_micros), 0) AS BIGINT) \
         FROM runs GROUP BY provider, status ORDER BY provider, status",
        &[],
        |r| {
            Ok(RunStats {
                provider: r.text(0)?,
                status: r.text(1)?,
                runs: r.uint(2)?,
                input_tokens: r.uint(3)?,
                output_tokens: r.uint(4)?,
                cache_read_tokens: r.uint(5)?,
                cache_write_tokens: r.uint(6)?,
                reasoning_tokens: r.uint(7)?,
                cost_usd: r.uint(8)? as f64 / 1_000_000.0,
            })
        },
    )?;
    let sessions = query_map(
        db,
        "session",
        "SELECT kind, count(*), count(*) FILTER (WHERE ended_at IS NULL) \
         FROM sessions GROUP BY kind ORDER BY kind",
        &[],
        |r| {
            Ok(SessionStats {
                kind: r.text(0)?,
                started: r.uint(1)?,
                open: r.uint(2)?,
            })
        },
    )?;
    let through = db
        .query("SELECT coalesce(max(id), 0) FROM events", &[])?
        .first()
        .map(|r| Row::new(r, "event").uint(0))
        .transpose()?
        .unwrap_or(0);
    // Each level by its serialized form in the entry's detail (`"level":"error"`).
    let levels = LogLevel::ALL;
    let counts = levels
        .iter()
        .map(|l| {
            format!(
                "count(*) FILTER (WHERE detail LIKE '%\"level\":\"{}\"%')",
                l.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rows = db.query(
        &format!(
            "SELECT action, {counts} FROM events \
             WHERE id > ?1 AND id <= ?2 AND action LIKE 'log.%' GROUP BY action ORDER BY action"
        ),
        &[log_after.into(), through.into()],
    )?;
    let mut log_entries = Vec::new();
    for row in &rows {
        let r = Row::new(row, "event");
        let action = r.text(0)?;
        let tag = action.strip_prefix("log.").unwrap_or(&action).to_string();
        for (i, level) in levels.iter().enumerate() {
            let entries = r.uint(i + 1)?;
            if entries > 0 {
                log_entries.push(LogStats {
                    action: tag.clone(),
                    level: level.as_str().to_string(),
                    entries,
                });
            }
        }
    }
    Ok(OperationsStats {
        runs,
        sessions,
        log_entries,
        through,
    })
}
