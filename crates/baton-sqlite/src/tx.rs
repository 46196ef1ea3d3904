//! `StoreTx` on one SQLite connection inside an open transaction.

use std::collections::HashMap;

use baton_core::model::Reservation;
use baton_core::model::{
    actions, DepState, Doc, DocVersion, Event, Message, NewEvent, Note, Project, Status,
    StatusCounts, Task, TaskRecord,
};
use baton_core::store::{
    AgentRow, DocMatch, DocQuery, DocSearchQuery, EventQuery, MessageQuery, NewMessage,
    NewReservation, ReadyQuery, ReservationQuery, StoreTx, TaskQuery,
};
use baton_core::time::Timestamp;
use baton_core::{DocId, Error, MessageId, Result, TaskId};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use crate::knowledge;
use crate::map_err;
use crate::messages;
use crate::rows::{
    event_from_row, reservation_from_row, task_from_row, to_json_list, ts, St, Ts, EVENT_COLUMNS,
    RESERVATION_COLUMNS, TASK_COLUMNS,
};

/// SQLite allows many more, but short IN lists keep statements cacheable.
const IN_CHUNK: usize = 500;

pub struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl<'c> SqliteTx<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        SqliteTx { conn }
    }

    /// Records the project on first `init`; returns whether it was created now.
    pub fn ensure_project(&mut self, name: &str, now: Timestamp) -> Result<bool> {
        let exists: bool = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM project)", [], |r| r.get(0))
            .map_err(map_err)?;
        if exists {
            return Ok(false);
        }
        self.conn
            .execute(
                "INSERT INTO project (id, name, created_at) VALUES (1, ?1, ?2)",
                params![name, Ts(now)],
            )
            .map_err(map_err)?;
        self.append_event(&NewEvent {
            at: now,
            actor: baton_core::api::HUMAN.into(),
            action: actions::PROJECT_CREATED.into(),
            task: None,
            detail: serde_json::json!({ "name": name }),
            session: None,
        })?;
        Ok(true)
    }

    /// Fills dependencies (with their states) and notes into freshly read tasks.
    fn hydrate(&mut self, tasks: Vec<Task>) -> Result<Vec<TaskRecord>> {
        let mut deps: HashMap<u64, Vec<DepState>> = HashMap::new();
        let mut notes: HashMap<u64, Vec<Note>> = HashMap::new();
        let ids: Vec<i64> = tasks.iter().map(|t| t.id.number() as i64).collect();
        for chunk in ids.chunks(IN_CHUNK) {
            let marks = placeholders(chunk.len());
            let sql = format!(
                "SELECT d.task, d.depends_on, t.status, t.deleted_at IS NOT NULL \
                 FROM task_deps d JOIN tasks t ON t.id = d.depends_on \
                 WHERE d.task IN ({marks}) ORDER BY d.task, d.position"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt
                .query_map(params_from_iter(chunk), |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        DepState {
                            id: TaskId(r.get::<_, i64>(1)? as u64),
                            status: r.get::<_, St>(2)?.0,
                            deleted: r.get(3)?,
                        },
                    ))
                })
                .map_err(map_err)?;
            for row in rows {
                let (task, dep) = row.map_err(map_err)?;
                deps.entry(task).or_default().push(dep);
            }
            let sql = format!(
                "SELECT task, author, at, text FROM task_notes WHERE task IN ({marks}) ORDER BY id"
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt
                .query_map(params_from_iter(chunk), |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        Note {
                            author: r.get(1)?,
                            at: r.get::<_, Ts>(2)?.0,
                            text: r.get(3)?,
                        },
                    ))
                })
                .map_err(map_err)?;
            for row in rows {
                let (task, note) = row.map_err(map_err)?;
                notes.entry(task).or_default().push(note);
            }
        }
        Ok(tasks
            .into_iter()
            .map(|mut task| {
                let n = task.id.number();
                let task_deps = deps.remove(&n).unwrap_or_default();
                task.depends_on = task_deps.iter().map(|d| d.id).collect();
                task.notes = notes.remove(&n).unwrap_or_default();
                TaskRecord {
                    task,
                    deps: task_deps,
                }
            })
            .collect())
    }

    fn exists(&self, sql: &str, params: impl rusqlite::Params) -> Result<bool> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(params, |r| r.get(0)))
            .map_err(map_err)
    }

    fn select_tasks(&mut self, sql: &str, values: Vec<Value>) -> Result<Vec<TaskRecord>> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_err)?;
        let tasks = stmt
            .query_map(params_from_iter(values), task_from_row)
            .map_err(map_err)?
            .collect::<rusqlite::Result<Vec<Task>>>()
            .map_err(map_err)?;
        drop(stmt);
        self.hydrate(tasks)
    }
}

/// A task's columns as statement parameters ?1..?27, in `TASK_COLUMNS` order.
fn task_params(t: &Task) -> Vec<Box<dyn rusqlite::ToSql + '_>> {
    vec![
        Box::new(t.id.number() as i64),
        Box::new(&t.title),
        Box::new(&t.description),
        Box::new(St(t.status)),
        Box::new(&t.blocked_reason),
        Box::new(t.priority.rank() as i64),
        Box::new(&t.assignee),
        Box::new(&t.epic),
        Box::new(to_json_list(&t.capabilities)),
        Box::new(&t.verify),
        Box::new(to_json_list(&t.acceptance_criteria)),
        Box::new(to_json_list(&t.context_refs)),
        Box::new(to_json_list(&t.files)),
        Box::new(t.retry_count as i64),
        Box::new(t.fence as i64),
        Box::new(ts(t.lease_expires_at)),
        Box::new(Ts(t.created_at)),
        Box::new(Ts(t.updated_at)),
        Box::new(ts(t.started_at)),
        Box::new(ts(t.completed_at)),
        Box::new(ts(t.deleted_at)),
        Box::new(t.initiative.map(|i| i.number() as i64)),
        Box::new(t.phase.map(|p| p.number() as i64)),
        Box::new(t.parent.map(|p| p.number() as i64)),
        Box::new(t.category.as_str()),
        Box::new(&t.summary),
        Box::new(t.gated as i64),
    ]
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The ready-queue condition: open, live, and every live dependency in a satisfying status.
/// (A deleted dependency counts as met; core re-checks the winner.)
fn ready_condition(satisfied: &[Status], values: &mut Vec<Value>) -> String {
    let marks = placeholders(satisfied.len().max(1));
    if satisfied.is_empty() {
        values.push(Value::Null);
    }
    for s in satisfied {
        values.push(Value::Text(s.as_str().into()));
    }
    format!(
        "t.status = 'open' AND t.gated = 0 AND t.deleted_at IS NULL AND NOT EXISTS ( \
           SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on \
           WHERE d.task = t.id AND dt.deleted_at IS NULL AND dt.status NOT IN ({marks}))"
    )
}

impl StoreTx for SqliteTx<'_> {
    fn project(&mut self) -> Result<Project> {
        self.conn
            .query_row(
                "SELECT name, created_at FROM project WHERE id = 1",
                [],
                |r| {
                    Ok(Project {
                        name: r.get(0)?,
                        created_at: r.get::<_, Ts>(1)?.0,
                    })
                },
            )
            .optional()
            .map_err(map_err)?
            .ok_or_else(|| Error::Unavailable {
                message: "the database holds no project".into(),
                hint: Some("run `baton init`".into()),
            })
    }

    fn setting(&mut self, key: &str) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")
            .map_err(map_err)?;
        stmt.query_row([key], |r| r.get(0))
            .optional()
            .map_err(map_err)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn allocate_task_ids(&mut self, count: u64) -> Result<TaskId> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE project SET next_task = next_task + ?1 WHERE id = 1 \
                 RETURNING next_task - ?1",
            )
            .map_err(map_err)?;
        let first: i64 = stmt
            .query_row([count as i64], |r| r.get(0))
            .optional()
            .map_err(map_err)?
            .ok_or_else(|| Error::Internal("the database holds no project row".into()))?;
        Ok(TaskId(first as u64))
    }

    fn insert_task(&mut self, t: &Task) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO tasks (id, title, description, status, blocked_reason, priority, \
                 assignee, epic, capabilities, verify, acceptance_criteria, context_refs, files, \
                 retry_count, fence, lease_expires_at, created_at, updated_at, started_at, \
                 completed_at, deleted_at, initiative, phase, parent, category, summary, gated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
            )
            .map_err(map_err)?;
        stmt.execute(params_from_iter(task_params(t)))
            .map_err(map_err)?;
        drop(stmt);
        self.set_dependencies(t.id, &t.depends_on)?;
        for note in &t.notes {
            self.add_note(t.id, note)?;
        }
        Ok(())
    }

    fn update_task(&mut self, t: &Task) -> Result<()> {
        // Same parameter numbers as the insert; created_at (?17) never changes.
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE tasks SET title = ?2, description = ?3, status = ?4, blocked_reason = ?5, \
                 priority = ?6, assignee = ?7, epic = ?8, capabilities = ?9, verify = ?10, \
                 acceptance_criteria = ?11, context_refs = ?12, files = ?13, retry_count = ?14, \
                 fence = ?15, lease_expires_at = ?16, updated_at = ?18, started_at = ?19, \
                 completed_at = ?20, deleted_at = ?21, initiative = ?22, phase = ?23, \
                 parent = ?24, category = ?25, summary = ?26, gated = ?27 WHERE id = ?1",
            )
            .map_err(map_err)?;
        let changed = stmt
            .execute(params_from_iter(task_params(t)))
            .map_err(map_err)?;
        if changed != 1 {
            return Err(Error::TaskNotFound(t.id));
        }
        Ok(())
    }

    fn set_dependencies(&mut self, task: TaskId, deps: &[TaskId]) -> Result<()> {
        let id = task.number() as i64;
        self.conn
            .prepare_cached("DELETE FROM task_deps WHERE task = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(map_err)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO task_deps (task, depends_on, position) VALUES (?1, ?2, ?3)",
            )
            .map_err(map_err)?;
        for (position, dep) in deps.iter().enumerate() {
            stmt.execute(params![id, dep.number() as i64, position as i64])
                .map_err(map_err)?;
        }
        Ok(())
    }

    fn add_note(&mut self, task: TaskId, note: &Note) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO task_notes (task, author, at, text) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    task.number() as i64,
                    note.author,
                    Ts(note.at),
                    note.text
                ])
            })
            .map_err(map_err)?;
        Ok(())
    }

    fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>> {
        let sql = format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = ?");
        Ok(self
            .select_tasks(&sql, vec![Value::Integer(id.number() as i64)])?
            .pop())
    }

    fn tasks(&mut self, q: &TaskQuery) -> Result<Vec<TaskRecord>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if !q.include_deleted {
            conditions.push("t.deleted_at IS NULL".into());
        }
        if let Some(ids) = &q.ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            conditions.push(format!("t.id IN ({})", placeholders(ids.len())));
            values.extend(ids.iter().map(|id| Value::Integer(id.number() as i64)));
        }
        if !q.statuses.is_empty() {
            conditions.push(format!("t.status IN ({})", placeholders(q.statuses.len())));
            values.extend(q.statuses.iter().map(|s| Value::Text(s.as_str().into())));
        }
        if let Some(a) = &q.assignee {
            conditions.push("t.assignee = ?".into());
            values.push(Value::Text(a.clone()));
        }
        if let Some(e) = &q.epic {
            conditions.push("t.epic = ?".into());
            values.push(Value::Text(e.clone()));
        }
        if let Some(p) = q.priority {
            conditions.push("t.priority = ?".into());
            values.push(Value::Integer(p.rank() as i64));
        }
        if let Some(text) = &q.text {
            conditions
                .push("(t.title LIKE ? ESCAPE '\\' OR t.description LIKE ? ESCAPE '\\')".into());
            let pattern = like_pattern(text);
            values.push(Value::Text(pattern.clone()));
            values.push(Value::Text(pattern));
        }
        if let Some(dep) = q.dependents_of {
            conditions.push("t.id IN (SELECT task FROM task_deps WHERE depends_on = ?)".into());
            values.push(Value::Integer(dep.number() as i64));
        }
        if let Some(phase) = q.phase {
            conditions.push("t.phase = ?".into());
            values.push(Value::Integer(phase.number() as i64));
        }
        if let Some(initiative) = q.initiative {
            conditions.push("t.initiative = ?".into());
            values.push(Value::Integer(initiative.number() as i64));
        }
        if let Some(parent) = q.parent {
            conditions.push("t.parent = ?".into());
            values.push(Value::Integer(parent.number() as i64));
        }
        let mut sql = format!("SELECT {TASK_COLUMNS} FROM tasks t");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY t.id");
        if let Some(limit) = q.limit {
            sql.push_str(" LIMIT ?");
            values.push(Value::Integer(limit.min(i64::MAX as u64) as i64));
        }
        self.select_tasks(&sql, values)
    }

    fn existing(&mut self, ids: &[TaskId]) -> Result<Vec<(TaskId, bool)>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT id, deleted_at IS NOT NULL FROM tasks WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt
                .query_map(
                    params_from_iter(chunk.iter().map(|id| id.number() as i64)),
                    |r| Ok((TaskId(r.get::<_, i64>(0)? as u64), r.get::<_, bool>(1)?)),
                )
                .map_err(map_err)?;
            for row in rows {
                found.push(row.map_err(map_err)?);
            }
        }
        Ok(found)
    }

    fn dependencies_of(&mut self, task: TaskId) -> Result<Vec<TaskId>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT depends_on FROM task_deps WHERE task = ?1 ORDER BY position")
            .map_err(map_err)?;
        let rows = stmt
            .query_map([task.number() as i64], |r| {
                Ok(TaskId(r.get::<_, i64>(0)? as u64))
            })
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn ready_candidates(&mut self, q: &ReadyQuery) -> Result<Vec<TaskRecord>> {
        let mut values = Vec::new();
        // The ready queue's own partial index, named: without statistics the planner may
        // take the status index instead and walk every gated task ranked above the first
        // ready one (100,000 of them cost 8 ms a pickup).
        let mut sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks t INDEXED BY tasks_ready WHERE {}",
            ready_condition(&q.satisfied, &mut values)
        );
        if let Some(cap) = &q.capability {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM json_each(t.capabilities) c WHERE c.value = ?)",
            );
            values.push(Value::Text(cap.clone()));
        }
        if let Some(category) = q.category {
            sql.push_str(" AND t.category = ?");
            values.push(Value::Text(category.as_str().into()));
        }
        if let Some(initiative) = q.initiative {
            sql.push_str(" AND t.initiative = ?");
            values.push(Value::Integer(initiative.number() as i64));
        }
        if let Some((priority, id)) = q.after {
            sql.push_str(" AND (t.priority > ? OR (t.priority = ? AND t.id > ?))");
            values.push(Value::Integer(priority.rank() as i64));
            values.push(Value::Integer(priority.rank() as i64));
            values.push(Value::Integer(id.number() as i64));
        }
        sql.push_str(" ORDER BY t.priority, t.id LIMIT ?");
        values.push(Value::Integer(q.limit as i64));
        self.select_tasks(&sql, values)
    }

    fn count_ready(&mut self, satisfied: &[Status]) -> Result<u64> {
        // The kept count of open tasks, less those waiting on a dependency, found from the
        // dependency rows (CROSS JOIN keeps them the outer loop): no walk over every open
        // task, and nothing to read on a board without dependencies.
        let open = self.status_counts()?.open;
        if satisfied.is_empty() {
            return Ok(open);
        }
        // Open tasks held by their phase's gate are waiting too (a small partial index).
        let sql = format!(
            "SELECT count(*) FROM (SELECT d.task FROM task_deps d \
             CROSS JOIN tasks t ON t.id = d.task CROSS JOIN tasks dt ON dt.id = d.depends_on \
             WHERE t.status = 'open' AND t.deleted_at IS NULL \
             AND dt.deleted_at IS NULL AND dt.status NOT IN ({}) \
             UNION SELECT g.id FROM tasks g \
             WHERE g.gated = 1 AND g.status = 'open' AND g.deleted_at IS NULL)",
            placeholders(satisfied.len())
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let waiting: i64 = stmt
            .query_row(
                params_from_iter(satisfied.iter().map(|s| s.as_str())),
                |r| r.get(0),
            )
            .map_err(map_err)?;
        Ok(open.saturating_sub(waiting as u64))
    }

    fn status_counts(&mut self) -> Result<StatusCounts> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT status, sum(n) FROM task_counts GROUP BY status")
            .map_err(map_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, St>(0)?.0, r.get::<_, i64>(1)?)))
            .map_err(map_err)?;
        let mut counts = StatusCounts::zero();
        for row in rows {
            let (status, n) = row.map_err(map_err)?;
            *counts.slot(status) += n as u64;
        }
        Ok(counts)
    }

    fn holder_counts(&mut self) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT assignee, n FROM task_counts WHERE status = 'in-progress' \
                 AND assignee <> '' AND n > 0 ORDER BY assignee",
            )
            .map_err(map_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn held_by(&mut self, agent: &str, limit: Option<u64>) -> Result<Vec<TaskId>> {
        // The holder index, in its own order: no sort, and no more entries than asked for.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM tasks WHERE status = 'in-progress' AND assignee = ?1 \
                 ORDER BY lease_expires_at, id LIMIT ?2",
            )
            .map_err(map_err)?;
        let limit = limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        let rows = stmt
            .query_map(params![agent, limit], |r| {
                Ok(TaskId(r.get::<_, i64>(0)? as u64))
            })
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn expired_leases(&mut self, now: Timestamp) -> Result<Vec<TaskRecord>> {
        // Asked on every call and nearly always empty: a small statement answers first.
        let any = self.exists(
            "SELECT EXISTS (SELECT 1 FROM tasks WHERE status = 'in-progress' \
             AND lease_expires_at < ?1)",
            params![Ts(now)],
        )?;
        if !any {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.status = 'in-progress' \
             AND t.lease_expires_at < ? AND t.deleted_at IS NULL ORDER BY t.id"
        );
        self.select_tasks(&sql, vec![Value::Text(now.to_string())])
    }

    fn renew_leases(
        &mut self,
        agent: &str,
        until: Timestamp,
        if_before: Timestamp,
    ) -> Result<Vec<Task>> {
        let due = self.exists(
            "SELECT EXISTS (SELECT 1 FROM tasks WHERE assignee = ?1 \
             AND status = 'in-progress' AND lease_expires_at < ?2)",
            params![agent, Ts(if_before)],
        )?;
        if !due {
            return Ok(Vec::new());
        }
        // RETURNING takes bare column names.
        let sql = format!(
            "UPDATE tasks SET lease_expires_at = ?1 WHERE assignee = ?2 \
             AND status = 'in-progress' AND lease_expires_at < ?3 RETURNING {}",
            TASK_COLUMNS.replace("t.", "")
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let renewed = stmt
            .query_map(params![Ts(until), agent, Ts(if_before)], task_from_row)
            .map_err(map_err)?
            .collect::<rusqlite::Result<Vec<Task>>>()
            .map_err(map_err)?;
        drop(stmt);
        if !renewed.is_empty() {
            let mut stmt = self
                .conn
                .prepare_cached("UPDATE reservations SET expires_at = ?1 WHERE task = ?2")
                .map_err(map_err)?;
            for t in &renewed {
                stmt.execute(params![Ts(until), t.id.number() as i64])
                    .map_err(map_err)?;
            }
        }
        Ok(renewed)
    }

    fn insert_reservation(&mut self, r: &NewReservation) -> Result<Reservation> {
        // Expired reservations hold nothing; clear them out as new ones arrive.
        self.conn
            .prepare_cached("DELETE FROM reservations WHERE expires_at < ?1")
            .and_then(|mut s| s.execute([Ts(r.created_at)]))
            .map_err(map_err)?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO reservations (agent, glob, prefix, mode, task, reason, created_at, \
                 expires_at, ttl_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(map_err)?;
        stmt.execute(params![
            r.agent,
            r.glob,
            r.prefix,
            r.mode.as_str(),
            r.task.map(|t| t.number() as i64),
            r.reason,
            Ts(r.created_at),
            Ts(r.expires_at),
            r.ttl_ms as i64,
        ])
        .map_err(map_err)?;
        Ok(Reservation {
            id: self.conn.last_insert_rowid() as u64,
            agent: r.agent.clone(),
            glob: r.glob.clone(),
            mode: r.mode,
            task: r.task,
            reason: r.reason.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
            ttl_ms: r.ttl_ms,
        })
    }

    fn reservations(&mut self, q: &ReservationQuery) -> Result<Vec<Reservation>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(at) = q.active_at {
            conditions.push("expires_at > ?".into());
            values.push(Value::Text(at.to_string()));
        }
        if let Some(a) = &q.agent {
            conditions.push("agent = ?".into());
            values.push(Value::Text(a.clone()));
        }
        if let Some(a) = &q.not_agent {
            conditions.push("agent <> ?".into());
            values.push(Value::Text(a.clone()));
        }
        if let Some(t) = q.task {
            conditions.push("task = ?".into());
            values.push(Value::Integer(t.number() as i64));
        }
        if q.manual_only {
            conditions.push("task IS NULL".into());
        }
        if let Some((ancestors, below)) = &q.prefixes {
            conditions.push(format!(
                "(prefix IN ({}) OR (prefix >= ? AND prefix < ?))",
                placeholders(ancestors.len().max(1))
            ));
            if ancestors.is_empty() {
                values.push(Value::Null);
            }
            values.extend(ancestors.iter().map(|a| Value::Text(a.clone())));
            values.push(Value::Text(below.clone()));
            values.push(Value::Text(format!("{below}\u{10FFFF}")));
        }
        let mut sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY id");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let rows = stmt
            .query_map(params_from_iter(values), reservation_from_row)
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn delete_reservations(&mut self, ids: &[u64]) -> Result<u64> {
        let mut deleted = 0;
        for chunk in ids.chunks(IN_CHUNK) {
            let sql = format!(
                "DELETE FROM reservations WHERE id IN ({})",
                placeholders(chunk.len())
            );
            deleted += self
                .conn
                .execute(&sql, params_from_iter(chunk.iter().map(|i| *i as i64)))
                .map_err(map_err)? as u64;
        }
        Ok(deleted)
    }

    fn renew_reservations(&mut self, agent: &str, now: Timestamp) -> Result<u64> {
        let any = self.exists(
            "SELECT EXISTS (SELECT 1 FROM reservations WHERE agent = ?1 AND task IS NULL)",
            params![agent],
        )?;
        if !any {
            return Ok(0);
        }
        let mine = self.reservations(&ReservationQuery {
            active_at: Some(now),
            agent: Some(agent.to_string()),
            manual_only: true,
            ..ReservationQuery::default()
        })?;
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE reservations SET expires_at = ?1 WHERE id = ?2")
            .map_err(map_err)?;
        let mut renewed = 0;
        for r in &mine {
            let until = now.plus(std::time::Duration::from_millis(r.ttl_ms));
            if until > r.expires_at {
                stmt.execute(params![Ts(until), r.id as i64])
                    .map_err(map_err)?;
                renewed += 1;
            }
        }
        Ok(renewed)
    }

    fn touch_agent(&mut self, name: &str, at: Timestamp) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO agents (name, first_seen, last_seen) VALUES (?1, ?2, ?2) \
                 ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen",
            )
            .and_then(|mut s| s.execute(params![name, Ts(at)]))
            .map_err(map_err)?;
        Ok(())
    }

    fn agents(&mut self) -> Result<Vec<AgentRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, first_seen, last_seen FROM agents ORDER BY name")
            .map_err(map_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AgentRow {
                    name: r.get(0)?,
                    first_seen: r.get::<_, Ts>(1)?.0,
                    last_seen: r.get::<_, Ts>(2)?.0,
                })
            })
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn append_event(&mut self, e: &NewEvent) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "INSERT INTO events (at, actor, action, task, detail, session) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(map_err)?;
        stmt.execute(params![
            Ts(e.at),
            e.actor,
            e.action.as_ref(),
            e.task.map(|t| t.number() as i64),
            e.detail.to_string(),
            e.session.map(|s| s.number() as i64),
        ])
        .map_err(map_err)?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(task) = q.task {
            conditions.push("task = ?");
            values.push(Value::Integer(task.number() as i64));
        }
        if let Some(actor) = &q.actor {
            conditions.push("actor = ?");
            values.push(Value::Text(actor.clone()));
        }
        if let Some(action) = &q.action {
            match action.strip_suffix('*') {
                Some(prefix) => {
                    conditions.push("action LIKE ? ESCAPE '\\'");
                    let escaped = prefix
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    values.push(Value::Text(format!("{escaped}%")));
                }
                None if action.ends_with('.') => {
                    conditions.push("action LIKE ? ESCAPE '\\'");
                    let escaped = action
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    values.push(Value::Text(format!("{escaped}%")));
                }
                None => {
                    conditions.push("action = ?");
                    values.push(Value::Text(action.clone()));
                }
            }
        }
        if let Some(session) = q.session {
            conditions.push("session = ?");
            values.push(Value::Integer(session.number() as i64));
        }
        if let Some(since) = q.since {
            conditions.push("at >= ?");
            values.push(Value::Text(since.to_string()));
        }
        if let Some(after) = q.after_id {
            conditions.push("id > ?");
            values.push(Value::Integer(after as i64));
        }
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        // Following the log (`after_id`): the oldest `limit` after it, a page forward.
        // Otherwise the newest `limit`. Either way returned oldest first.
        match q.limit {
            Some(limit) if q.after_id.is_some() => {
                sql.push_str(" ORDER BY id LIMIT ?");
                values.push(Value::Integer(limit.min(i64::MAX as u64) as i64));
            }
            Some(limit) => {
                sql = format!("SELECT * FROM ({sql} ORDER BY id DESC LIMIT ?) ORDER BY id");
                values.push(Value::Integer(limit.min(i64::MAX as u64) as i64));
            }
            None => sql.push_str(" ORDER BY id"),
        }
        let mut stmt = self.conn.prepare_cached(&sql).map_err(map_err)?;
        let rows = stmt
            .query_map(params_from_iter(values), event_from_row)
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn insert_doc(&mut self, doc: &Doc) -> Result<DocId> {
        knowledge::insert_doc(self.conn, doc)
    }

    fn update_doc(&mut self, doc: &Doc) -> Result<()> {
        knowledge::update_doc(self.conn, doc)
    }

    fn add_doc_version(&mut self, version: &DocVersion) -> Result<()> {
        knowledge::add_doc_version(self.conn, version)
    }

    fn doc(&mut self, id: DocId) -> Result<Option<Doc>> {
        knowledge::doc(self.conn, id)
    }

    fn docs(&mut self, query: &DocQuery) -> Result<Vec<Doc>> {
        knowledge::docs(self.conn, query)
    }

    fn doc_versions(&mut self, id: DocId) -> Result<Vec<DocVersion>> {
        knowledge::doc_versions(self.conn, id)
    }

    fn search_docs(&mut self, query: &DocSearchQuery) -> Result<Vec<DocMatch>> {
        knowledge::search_docs(self.conn, query)
    }

    fn insert_message(&mut self, message: &NewMessage) -> Result<Message> {
        messages::insert_message(self.conn, message)
    }

    fn message(&mut self, id: MessageId) -> Result<Option<Message>> {
        messages::message(self.conn, id)
    }

    fn messages(&mut self, query: &MessageQuery) -> Result<Vec<Message>> {
        messages::messages(self.conn, query)
    }

    fn mark_answered(&mut self, id: MessageId, by: &str, at: Timestamp) -> Result<()> {
        messages::mark_answered(self.conn, id, by, at)
    }

    fn mark_read(&mut self, ids: &[MessageId], at: Timestamp) -> Result<()> {
        messages::mark_read(self.conn, ids, at)
    }

    fn task_count(&mut self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
            .map_err(map_err)?;
        Ok(n as u64)
    }

    fn reserve_task_ids_through(&mut self, id: TaskId) -> Result<()> {
        self.conn
            .execute(
                "UPDATE project SET next_task = max(next_task, ?1 + 1) WHERE id = 1",
                [id.number() as i64],
            )
            .map_err(map_err)?;
        Ok(())
    }

    fn insert_agent(&mut self, agent: &AgentRow) -> Result<bool> {
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO agents (name, first_seen, last_seen) VALUES (?1, ?2, ?3)",
                params![agent.name, Ts(agent.first_seen), Ts(agent.last_seen)],
            )
            .map_err(map_err)?;
        Ok(added == 1)
    }

    fn import_keys(&mut self, source: &str, kind: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, local FROM import_keys WHERE source = ?1 AND kind = ?2")
            .map_err(map_err)?;
        let rows = stmt
            .query_map(params![source, kind], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }

    fn record_import_key(&mut self, source: &str, kind: &str, key: &str, local: u64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO import_keys (source, kind, key, local) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| s.execute(params![source, kind, key, local as i64]))
            .map_err(map_err)?;
        Ok(())
    }

    fn sql(&mut self) -> &mut dyn baton_core::sql::Sql {
        self
    }
}

fn raw_to_sqlite(value: &baton_core::store::RawValue) -> Value {
    use baton_core::store::RawValue;
    match value {
        RawValue::Null => Value::Null,
        RawValue::Integer(n) => Value::Integer(*n),
        RawValue::Text(s) => Value::Text(s.clone()),
    }
}

impl baton_core::sql::Sql for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[baton_core::store::RawValue]) -> Result<u64> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute(params_from_iter(params.iter().map(raw_to_sqlite))))
            .map(|n| n as u64)
            .map_err(map_err)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[baton_core::store::RawValue],
    ) -> Result<Vec<Vec<baton_core::store::RawValue>>> {
        use baton_core::store::RawValue;
        let mut statement = self.conn.prepare_cached(sql).map_err(map_err)?;
        let columns = statement.column_count();
        let rows = statement
            .query_map(params_from_iter(params.iter().map(raw_to_sqlite)), |row| {
                (0..columns)
                    .map(|i| {
                        Ok(match row.get::<_, Value>(i)? {
                            Value::Null => RawValue::Null,
                            Value::Integer(n) => RawValue::Integer(n),
                            Value::Text(s) => RawValue::Text(s),
                            Value::Real(f) => RawValue::Text(f.to_string()),
                            Value::Blob(b) => RawValue::Text(String::from_utf8_lossy(&b).into()),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
    }
}
