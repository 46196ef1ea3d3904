//! Retention: log entries (events `log.*`, from `baton log` and OTLP) and the output of
//! ended runs are deleted once older than the `log_retention` setting. Board events (task
//! changes, reservations, messages, ...) are never deleted: the stores' triggers refuse it.
//! Deletes go in bounded batches so a first prune of a large log never holds the writer
//! long; the server applies retention in the background, `baton prune` on demand.

use std::time::Duration;

use serde_json::json;

use super::{event, leases};
use crate::api::{PruneReport, PruneRequest};
use crate::error::{Error, Result};
use crate::model::actions;
use crate::sql::Row;
use crate::store::StoreTx;
use crate::time::{format_duration, parse_duration, Timestamp};

/// The most rows of each kind one call deletes (and the default).
pub const MAX_BATCH: u64 = 10_000;
const SHORTEST: Duration = Duration::from_secs(60);
const LONGEST: Duration = Duration::from_secs(100 * 365 * 86_400);

/// Checks a `log_retention` value: `off`, or a duration from 1m to 100 years.
pub fn normalize(value: &str) -> Result<String> {
    let v = value.trim();
    if matches!(v, "off" | "never" | "forever" | "") {
        return Ok("off".into());
    }
    match parse_duration(v) {
        Some(d) if (SHORTEST..=LONGEST).contains(&d) => Ok(format_duration(d)),
        _ => Err(Error::invalid_with_hint(
            format!("'{value}' is not a retention period"),
            "use a duration from 1m, such as 7d, 30d or 90d, or off to keep log entries \
             and run output for ever",
        )),
    }
}

/// The retention period, or `None` when off.
pub fn period(tx: &mut dyn StoreTx) -> Result<(String, Option<Duration>)> {
    let raw = leases::setting(tx, leases::LOG_RETENTION)?;
    let d = if raw == "off" {
        None
    } else {
        Some(
            parse_duration(&raw)
                .ok_or_else(|| Error::Internal(format!("bad log_retention setting '{raw}'")))?,
        )
    };
    Ok((raw, d))
}

const OLD_ENTRIES: &str = "FROM events WHERE action LIKE 'log.%' AND at < ?1";
const OLD_OUTPUT: &str = "FROM run_logs WHERE run IN \
     (SELECT id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?1)";

fn count(tx: &mut dyn StoreTx, from: &str, before: Timestamp) -> Result<u64> {
    let rows = tx
        .sql()
        .query(&format!("SELECT count(*) {from}"), &[before.into()])?;
    rows.first()
        .map(|r| Row::new(r, "count").uint(0))
        .unwrap_or(Ok(0))
}

/// Applies retention as of `now`; see [`PruneRequest`].
pub fn prune(
    tx: &mut dyn StoreTx,
    actor: &str,
    request: &PruneRequest,
    now: Timestamp,
) -> Result<PruneReport> {
    let (retention, period) = period(tx)?;
    let mut report = PruneReport {
        retention,
        dry_run: request.dry_run,
        ..PruneReport::default()
    };
    let Some(period) = period else {
        return Ok(report);
    };
    let before = now.minus(period);
    report.before = Some(before);
    let limit = request.limit.unwrap_or(MAX_BATCH).clamp(1, MAX_BATCH);
    if request.dry_run {
        report.log_entries = count(tx, OLD_ENTRIES, before)?;
        report.run_log_lines = count(tx, OLD_OUTPUT, before)?;
        return Ok(report);
    }
    let db = tx.sql();
    report.log_entries = db.execute(
        &format!(
            "DELETE FROM events WHERE id IN \
             (SELECT id {OLD_ENTRIES} ORDER BY at, id LIMIT {limit})"
        ),
        &[before.into()],
    )?;
    report.run_log_lines = db.execute(
        &format!(
            "DELETE FROM run_logs WHERE (run, seq) IN \
             (SELECT run, seq {OLD_OUTPUT} ORDER BY run, seq LIMIT {limit})"
        ),
        &[before.into()],
    )?;
    report.more = report.log_entries == limit || report.run_log_lines == limit;
    if report.log_entries + report.run_log_lines > 0 {
        event(
            tx,
            now,
            actor,
            actions::RETENTION_APPLIED,
            None,
            json!({
                "retention": report.retention,
                "before": before,
                "log_entries": report.log_entries,
                "run_log_lines": report.run_log_lines,
            }),
        )?;
    }
    Ok(report)
}
