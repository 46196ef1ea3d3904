//! Row <-> domain mapping for tasks and events.

use baton_core::model::{Category, Event, Priority, Status, Task};
use baton_core::time::Timestamp;
use baton_core::{InitiativeId, PhaseId, TaskId};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql};

/// The task columns, in the order [`task_from_row`] reads them.
pub const TASK_COLUMNS: &str = "t.id, t.title, t.description, t.status, t.blocked_reason, \
    t.priority, t.assignee, t.epic, t.capabilities, t.verify, t.acceptance_criteria, \
    t.context_refs, t.files, t.retry_count, t.fence, t.lease_expires_at, t.created_at, \
    t.updated_at, t.started_at, t.completed_at, t.deleted_at, t.initiative, t.phase, t.parent, \
    t.category, t.summary, t.gated";

/// Newtypes so domain values bind and read as SQLite text without ad-hoc conversions.
pub struct Ts(pub Timestamp);
pub struct St(pub Status);

impl ToSql for Ts {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_string()))
    }
}

impl FromSql for Ts {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Timestamp::parse(text)
            .map(Ts)
            .ok_or_else(|| FromSqlError::Other(format!("bad timestamp '{text}'").into()))
    }
}

impl ToSql for St {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.as_str()))
    }
}

impl FromSql for St {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        text.parse::<Status>()
            .map(St)
            .map_err(|e| FromSqlError::Other(e.into()))
    }
}

pub fn ts(t: Option<Timestamp>) -> Option<Ts> {
    t.map(Ts)
}

fn list(row: &Row<'_>, index: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
    })
}

pub fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// Reads a task row; dependencies and notes are filled in by the caller.
pub fn task_from_row(row: &Row<'_>) -> rusqlite::Result<Task> {
    let id: i64 = row.get(0)?;
    let priority: i64 = row.get(5)?;
    let opt_ts = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(row.get::<_, Option<Ts>>(i)?.map(|t| t.0))
    };
    Ok(Task {
        id: TaskId(id as u64),
        title: row.get(1)?,
        description: row.get(2)?,
        status: row.get::<_, St>(3)?.0,
        blocked_reason: row.get(4)?,
        priority: Priority::from_rank(priority as u8).unwrap_or_default(),
        assignee: row.get(6)?,
        epic: row.get(7)?,
        capabilities: list(row, 8)?,
        depends_on: Vec::new(),
        deps_met: false,
        waiting_on: Vec::new(),
        verify: row.get(9)?,
        acceptance_criteria: list(row, 10)?,
        context_refs: list(row, 11)?,
        files: list(row, 12)?,
        notes: Vec::new(),
        retry_count: row.get::<_, i64>(13)? as u32,
        fence: row.get::<_, i64>(14)? as u64,
        lease_expires_at: opt_ts(15)?,
        created_at: row.get::<_, Ts>(16)?.0,
        updated_at: row.get::<_, Ts>(17)?.0,
        started_at: opt_ts(18)?,
        completed_at: opt_ts(19)?,
        deleted_at: opt_ts(20)?,
        initiative: row
            .get::<_, Option<i64>>(21)?
            .map(|n| InitiativeId(n as u64)),
        phase: row.get::<_, Option<i64>>(22)?.map(|n| PhaseId(n as u64)),
        parent: row.get::<_, Option<i64>>(23)?.map(|n| TaskId(n as u64)),
        category: Category::parse(&row.get::<_, String>(24)?).unwrap_or_default(),
        summary: row.get(25)?,
        gated: row.get::<_, i64>(26)? != 0,
    })
}

pub const EVENT_COLUMNS: &str = "id, at, actor, action, task, detail, session";

pub fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    let detail: String = row.get(5)?;
    Ok(Event {
        id: row.get::<_, i64>(0)? as u64,
        at: row.get::<_, Ts>(1)?.0,
        actor: row.get(2)?,
        action: row.get(3)?,
        task: row.get::<_, Option<i64>>(4)?.map(|n| TaskId(n as u64)),
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        session: row
            .get::<_, Option<i64>>(6)?
            .map(|n| baton_core::SessionId(n as u64)),
    })
}

pub const RESERVATION_COLUMNS: &str =
    "id, agent, glob, mode, task, reason, created_at, expires_at, ttl_ms";

pub fn reservation_from_row(row: &Row<'_>) -> rusqlite::Result<baton_core::model::Reservation> {
    let mode: String = row.get(3)?;
    Ok(baton_core::model::Reservation {
        id: row.get::<_, i64>(0)? as u64,
        agent: row.get(1)?,
        glob: row.get(2)?,
        mode: baton_core::model::ReservationMode::parse(&mode)
            .ok_or_else(|| FromSqlError::Other(format!("bad reservation mode '{mode}'").into()))
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
            })?,
        task: row.get::<_, Option<i64>>(4)?.map(|n| TaskId(n as u64)),
        reason: row.get(5)?,
        created_at: row.get::<_, Ts>(6)?.0,
        expires_at: row.get::<_, Ts>(7)?.0,
        ttl_ms: row.get::<_, i64>(8)? as u64,
    })
}
