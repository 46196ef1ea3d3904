//! Row <-> domain mapping. Timestamps are fixed-width UTC text, lists are JSON text: the
//! same representation as the SQLite store, so a project copies between them unchanged.

use baton_core::model::{
    Category, DepState, Event, Note, Priority, Reservation, ReservationMode, Status, Task,
    TaskRecord,
};
use baton_core::time::Timestamp;
use baton_core::{Error, InitiativeId, PhaseId, Result, TaskId};
use postgres::Row;

/// The task columns, in the order [`task_from_row`] reads them.
pub const TASK_COLUMNS: &str = "t.id, t.title, t.description, t.status, t.blocked_reason, \
    t.priority, t.assignee, t.epic, t.capabilities, t.verify, t.acceptance_criteria, \
    t.context_refs, t.files, t.retry_count, t.fence, t.lease_expires_at, t.created_at, \
    t.updated_at, t.started_at, t.completed_at, t.deleted_at, t.initiative, t.phase, t.parent, \
    t.category, t.summary, t.gated";

/// How many columns [`TASK_COLUMNS`] has.
pub const TASK_WIDTH: usize = 27;

/// The task columns followed by its dependencies (id, status, deleted) and notes as JSON,
/// read by [`record_from_row`]: one round trip per read instead of three.
pub const TASK_RECORD_COLUMNS: &str = "t.id, t.title, t.description, t.status, \
    t.blocked_reason, t.priority, t.assignee, t.epic, t.capabilities, t.verify, \
    t.acceptance_criteria, t.context_refs, t.files, t.retry_count, t.fence, \
    t.lease_expires_at, t.created_at, t.updated_at, t.started_at, t.completed_at, \
    t.deleted_at, t.initiative, t.phase, t.parent, t.category, t.summary, t.gated, \
    coalesce((SELECT json_agg(json_build_array(d.depends_on, dt.status, dt.deleted_at IS NOT NULL) \
        ORDER BY d.position) FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on \
        WHERE d.task = t.id), '[]')::text, \
    coalesce((SELECT json_agg(json_build_array(n.author, n.at, n.text) ORDER BY n.id) \
        FROM task_notes n WHERE n.task = t.id), '[]')::text";

/// A task with its dependencies' states and its notes (see [`TASK_RECORD_COLUMNS`]).
pub fn record_from_row(row: &Row) -> Result<TaskRecord> {
    let mut task = task_from_row(row)?;
    let deps_json: String = get(row, TASK_WIDTH)?;
    let notes_json: String = get(row, TASK_WIDTH + 1)?;
    let deps: Vec<(i64, String, bool)> =
        serde_json::from_str(&deps_json).map_err(|e| bad("dependencies", e))?;
    let notes: Vec<(String, String, String)> =
        serde_json::from_str(&notes_json).map_err(|e| bad("notes", e))?;
    let deps = deps
        .into_iter()
        .map(|(id, status, deleted)| {
            Ok(DepState {
                id: TaskId(id as u64),
                status: status.parse::<Status>().map_err(|e| bad("status", e))?,
                deleted,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    task.depends_on = deps.iter().map(|d| d.id).collect();
    task.notes = notes
        .into_iter()
        .map(|(author, at, text)| {
            Ok(Note {
                author,
                at: Timestamp::parse(&at).ok_or_else(|| bad("timestamp", &at))?,
                text,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TaskRecord { task, deps })
}

pub const EVENT_COLUMNS: &str = "id, at, actor, action, task, detail, session";

pub const RESERVATION_COLUMNS: &str =
    "id, agent, glob, mode, task, reason, created_at, expires_at, ttl_ms";

fn bad(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("unreadable {what} in the database: {e}"))
}

/// A column, or a clear error naming it.
pub fn get<'a, T: postgres::types::FromSql<'a>>(row: &'a Row, index: usize) -> Result<T> {
    row.try_get(index).map_err(|e| bad("column", e))
}

pub fn ts_text(t: Timestamp) -> String {
    t.to_string()
}

pub fn opt_ts_text(t: Option<Timestamp>) -> Option<String> {
    t.map(ts_text)
}

pub fn timestamp(row: &Row, index: usize) -> Result<Timestamp> {
    let text: String = get(row, index)?;
    Timestamp::parse(&text).ok_or_else(|| bad("timestamp", &text))
}

pub fn opt_timestamp(row: &Row, index: usize) -> Result<Option<Timestamp>> {
    let text: Option<String> = get(row, index)?;
    text.map(|t| Timestamp::parse(&t).ok_or_else(|| bad("timestamp", &t)))
        .transpose()
}

pub fn json_list(row: &Row, index: usize) -> Result<Vec<String>> {
    let text: String = get(row, index)?;
    serde_json::from_str(&text).map_err(|e| bad("list", e))
}

pub fn to_json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

pub fn status(row: &Row, index: usize) -> Result<Status> {
    let text: String = get(row, index)?;
    text.parse::<Status>().map_err(|e| bad("status", e))
}

pub fn opt_task_id(row: &Row, index: usize) -> Result<Option<TaskId>> {
    Ok(get::<Option<i64>>(row, index)?.map(|n| TaskId(n as u64)))
}

/// Reads a task row; dependencies and notes are filled in by the caller.
pub fn task_from_row(row: &Row) -> Result<Task> {
    let priority: i64 = get(row, 5)?;
    Ok(Task {
        id: TaskId(get::<i64>(row, 0)? as u64),
        title: get(row, 1)?,
        description: get(row, 2)?,
        status: status(row, 3)?,
        blocked_reason: get(row, 4)?,
        priority: Priority::from_rank(priority as u8).unwrap_or_default(),
        assignee: get(row, 6)?,
        epic: get(row, 7)?,
        capabilities: json_list(row, 8)?,
        depends_on: Vec::new(),
        deps_met: false,
        waiting_on: Vec::new(),
        verify: get(row, 9)?,
        acceptance_criteria: json_list(row, 10)?,
        context_refs: json_list(row, 11)?,
        files: json_list(row, 12)?,
        notes: Vec::new(),
        retry_count: get::<i64>(row, 13)? as u32,
        fence: get::<i64>(row, 14)? as u64,
        lease_expires_at: opt_timestamp(row, 15)?,
        created_at: timestamp(row, 16)?,
        updated_at: timestamp(row, 17)?,
        started_at: opt_timestamp(row, 18)?,
        completed_at: opt_timestamp(row, 19)?,
        deleted_at: opt_timestamp(row, 20)?,
        initiative: get::<Option<i64>>(row, 21)?.map(|n| InitiativeId(n as u64)),
        phase: get::<Option<i64>>(row, 22)?.map(|n| PhaseId(n as u64)),
        parent: opt_task_id(row, 23)?,
        category: Category::parse(&get::<String>(row, 24)?).unwrap_or_default(),
        summary: get(row, 25)?,
        gated: get::<i64>(row, 26)? != 0,
    })
}

pub fn event_from_row(row: &Row) -> Result<Event> {
    let detail: String = get(row, 5)?;
    Ok(Event {
        id: get::<i64>(row, 0)? as u64,
        at: timestamp(row, 1)?,
        actor: get(row, 2)?,
        action: get(row, 3)?,
        task: opt_task_id(row, 4)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        session: get::<Option<i64>>(row, 6)?.map(|n| baton_core::SessionId(n as u64)),
    })
}

pub fn reservation_from_row(row: &Row) -> Result<Reservation> {
    let mode: String = get(row, 3)?;
    Ok(Reservation {
        id: get::<i64>(row, 0)? as u64,
        agent: get(row, 1)?,
        glob: get(row, 2)?,
        mode: ReservationMode::parse(&mode).ok_or_else(|| bad("reservation mode", &mode))?,
        task: opt_task_id(row, 4)?,
        reason: get(row, 5)?,
        created_at: timestamp(row, 6)?,
        expires_at: timestamp(row, 7)?,
        ttl_ms: get::<i64>(row, 8)? as u64,
    })
}
