//! What agents export over OpenTelemetry: metric points kept by series, log records kept as
//! log entries, each attributed to the run named by its resource (`baton.run`, which the
//! runner sets), and through the run to its agent, task and session.

use std::collections::BTreeMap;

use serde_json::json;

use super::{operations, runs};
use crate::api::{
    Aggregation, Attribution, NewLogEntry, TelemetryBatch, TelemetryLog, TelemetryPoint,
    TelemetryReport,
};
use crate::error::{Error, Result};
use crate::id::{RunId, TaskId};
use crate::model::{ActorKind, LogLevel, TelemetrySeries};
use crate::sql::{query_map, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// The most points and log records one export may carry.
pub const MAX_BATCH: usize = 10_000;
const MAX_NAME: usize = 255;
const MAX_ATTRIBUTES: usize = 64;
const MAX_ATTRIBUTE: usize = 1_000;
const COLUMNS: &str =
    "run, agent, task, name, attributes, unit, kind, value, count, points, first_at, updated_at";

/// Who the telemetry is about: the run's agent and task when a known run is named,
/// otherwise what the resource says.
struct Who {
    run: Option<RunId>,
    agent: Option<String>,
    task: Option<TaskId>,
    tool: Option<String>,
}

/// A name as Baton keeps names (`claude-code`): at most 64 of letters, digits, `.-_@:+`.
fn name_like(text: &str) -> Option<String> {
    let cleaned: String = text
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-@:+".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let ok = !cleaned.is_empty()
        && cleaned != crate::api::HUMAN
        && super::validate::validate_agent_name(&cleaned).is_ok();
    ok.then_some(cleaned)
}

/// A run named by its text (`R-7`), loaded once per batch.
type RunCache = BTreeMap<String, Option<(RunId, String, TaskId)>>;

fn who(db: &mut dyn Sql, r: &Attribution, cache: &mut RunCache) -> Result<Who> {
    let tool = r.service.as_deref().and_then(name_like);
    if let Some(text) = &r.run {
        if !cache.contains_key(text) {
            let found = match text.parse::<RunId>() {
                Ok(id) => match runs::load_run(db, id) {
                    Ok(run) => Some((run.id, run.agent, run.task)),
                    Err(Error::RunNotFound(_)) => None,
                    Err(e) => return Err(e),
                },
                Err(_) => None,
            };
            cache.insert(text.clone(), found);
        }
        if let Some(Some((run, agent, task))) = cache.get(text) {
            return Ok(Who {
                run: Some(*run),
                agent: Some(agent.clone()),
                task: Some(*task),
                tool,
            });
        }
    }
    Ok(Who {
        run: None,
        agent: r.agent.as_deref().and_then(name_like),
        task: r.task.as_deref().and_then(|t| t.parse().ok()),
        tool,
    })
}

fn bounded(attributes: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    attributes
        .iter()
        .take(MAX_ATTRIBUTES)
        .map(|(k, v)| {
            (
                runs::cut_text(k, MAX_NAME),
                runs::cut_text(v, MAX_ATTRIBUTE),
            )
        })
        .collect()
}

fn kind_of(p: &TelemetryPoint) -> String {
    let base = match p.aggregation {
        Aggregation::Delta => "delta",
        Aggregation::Cumulative => "cumulative",
        Aggregation::Gauge => "gauge",
    };
    if p.histogram {
        format!("{base}_histogram")
    } else {
        base.to_string()
    }
}

fn point(tx: &mut dyn StoreTx, w: &Who, p: &TelemetryPoint, now: Timestamp) -> Result<()> {
    if p.name.trim().is_empty() || p.name.len() > MAX_NAME {
        return Err(Error::invalid(format!(
            "a metric needs a name of 1 to {MAX_NAME} bytes"
        )));
    }
    if !p.value.is_finite() {
        return Err(Error::invalid(format!(
            "metric {} has a value that is not a finite number",
            p.name
        )));
    }
    let attributes = serde_json::to_string(&bounded(&p.attributes))
        .map_err(|e| Error::Internal(format!("cannot encode attributes: {e}")))?;
    let run = w.run.map_or(0, |r| r.number());
    let agent = w.agent.clone().unwrap_or_default();
    let kind = kind_of(p);
    let db = tx.sql();
    let existing = db.query(
        "SELECT value, count, points FROM telemetry \
         WHERE run = ?1 AND agent = ?2 AND name = ?3 AND attributes = ?4",
        &[
            run.into(),
            agent.as_str().into(),
            p.name.as_str().into(),
            attributes.as_str().into(),
        ],
    )?;
    match existing.first() {
        Some(row) => {
            let r = Row::new(row, "telemetry");
            let old: f64 = r.text(0)?.parse().unwrap_or(0.0);
            let old_count = r.opt_uint(1)?;
            let (value, count) = match p.aggregation {
                Aggregation::Delta => (
                    old + p.value,
                    match (old_count, p.count) {
                        (Some(a), Some(b)) => Some(a + b),
                        (a, b) => a.or(b),
                    },
                ),
                _ => (p.value, p.count),
            };
            db.execute(
                "UPDATE telemetry SET value = ?5, count = ?6, points = points + 1, kind = ?7, \
                 updated_at = ?8 WHERE run = ?1 AND agent = ?2 AND name = ?3 AND attributes = ?4",
                &[
                    run.into(),
                    agent.as_str().into(),
                    p.name.as_str().into(),
                    attributes.as_str().into(),
                    value.to_string().as_str().into(),
                    count.into(),
                    kind.as_str().into(),
                    now.into(),
                ],
            )?;
        }
        None => {
            db.execute(
                "INSERT INTO telemetry (run, agent, task, name, attributes, unit, kind, value, \
                 count, points, first_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
                &[
                    run.into(),
                    agent.as_str().into(),
                    w.task.map(|t| t.number()).into(),
                    p.name.as_str().into(),
                    attributes.as_str().into(),
                    p.unit.as_deref().map(|u| runs::cut_text(u, 64)).into(),
                    kind.as_str().into(),
                    p.value.to_string().as_str().into(),
                    p.count.into(),
                    now.into(),
                ],
            )?;
        }
    }
    Ok(())
}

/// OTLP severity numbers: 1-8 trace and debug, 9-12 info, 13-16 warn, 17-24 error and
/// fatal; unset is info.
pub fn level_of(severity: i32) -> LogLevel {
    match severity {
        1..=8 => LogLevel::Debug,
        13..=16 => LogLevel::Warn,
        17.. => LogLevel::Error,
        _ => LogLevel::Info,
    }
}

/// `claude_code.api_request` -> `claude_code-api_request`: a log action tag (a letter,
/// then letters, digits, `_` or `-`, 40 at most); `otel` when nothing usable is left.
pub fn action_tag(event: Option<&str>) -> String {
    let Some(event) = event else {
        return "otel".into();
    };
    let mut tag: String = event
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    if !tag.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        tag = format!("otel-{tag}").chars().take(40).collect();
    }
    if operations::tag(Some(&tag)).is_err() {
        return "otel".into();
    }
    tag
}

fn record(
    tx: &mut dyn StoreTx,
    actor: &str,
    w: &Who,
    l: &TelemetryLog,
    now: Timestamp,
) -> Result<()> {
    let event = l
        .event_name
        .clone()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| l.attributes.get("event.name").cloned());
    let body = l.body.trim();
    let message = if body.is_empty() {
        event.clone().unwrap_or_else(|| "(no message)".into())
    } else {
        runs::cut_text(body, operations::MAX_MESSAGE)
    };
    let writer = w.agent.clone().unwrap_or_else(|| actor.to_string());
    let entry = NewLogEntry {
        message,
        action: Some(action_tag(event.as_deref())),
        level: Some(level_of(l.severity)),
        kind: Some(if w.agent.is_some() {
            ActorKind::Ai
        } else {
            ActorKind::System
        }),
        tool: w.tool.clone(),
        // The run's task (it exists); a task only the resource names is kept as said.
        task: w.run.and(w.task),
    };
    let mut extra = serde_json::Map::new();
    extra.insert("source".into(), json!("otlp"));
    if let Some(e) = &event {
        extra.insert("event".into(), json!(e));
    }
    if let Some(run) = w.run {
        extra.insert("run".into(), json!(run));
    }
    extra.insert("attributes".into(), json!(bounded(&l.attributes)));
    if let (None, Some(task)) = (w.run, w.task) {
        extra.insert("task".into(), json!(task));
    }
    operations::log_with(tx, &writer, entry, extra, now)?;
    Ok(())
}

pub fn record_batch(
    tx: &mut dyn StoreTx,
    actor: &str,
    batch: &TelemetryBatch,
    now: Timestamp,
) -> Result<TelemetryReport> {
    if batch.points.len() + batch.logs.len() > MAX_BATCH {
        return Err(Error::invalid_with_hint(
            format!(
                "an export carries at most {MAX_BATCH} points and log records ({} sent)",
                batch.points.len() + batch.logs.len()
            ),
            "export more often (OTEL_METRIC_EXPORT_INTERVAL, OTEL_BLRP_SCHEDULE_DELAY) or in smaller batches",
        ));
    }
    let mut cache = BTreeMap::new();
    let mut report = TelemetryReport::default();
    for p in &batch.points {
        let w = who(tx.sql(), &p.resource, &mut cache)?;
        match point(tx, &w, p, now) {
            Ok(()) => report.points += 1,
            Err(Error::InvalidInput { message, .. }) => {
                report.rejected += 1;
                if report.errors.len() < 10 {
                    report.errors.push(message);
                }
            }
            Err(e) => return Err(e),
        }
    }
    for l in &batch.logs {
        let w = who(tx.sql(), &l.resource, &mut cache)?;
        match record(tx, actor, &w, l, now) {
            Ok(()) => report.logs += 1,
            Err(Error::InvalidInput { message, .. }) => {
                report.rejected += 1;
                if report.errors.len() < 10 {
                    report.errors.push(message);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(report)
}

fn from_row(r: &Row<'_>) -> Result<TelemetrySeries> {
    let run = r.uint(0)?;
    let agent = r.text(1)?;
    Ok(TelemetrySeries {
        run: (run > 0).then_some(RunId(run)),
        agent: (!agent.is_empty()).then_some(agent),
        task: r.opt_uint(2)?.map(TaskId),
        name: r.text(3)?,
        attributes: serde_json::from_str(&r.text(4)?).unwrap_or_default(),
        unit: r.opt_text(5)?,
        kind: r.text(6)?,
        value: r.text(7)?.parse().unwrap_or(0.0),
        count: r.opt_uint(8)?,
        points: r.uint(9)?,
        first_at: r.ts(10)?,
        updated_at: r.ts(11)?,
    })
}

pub fn of_run(db: &mut dyn Sql, run: RunId) -> Result<Vec<TelemetrySeries>> {
    runs::load_run(db, run)?;
    query_map(
        db,
        "telemetry",
        &format!("SELECT {COLUMNS} FROM telemetry WHERE run = ?1 ORDER BY name, attributes"),
        &[run.number().into()],
        from_row,
    )
}
