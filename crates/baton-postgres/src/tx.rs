//! `StoreTx` on one PostgreSQL connection inside an open transaction.

use std::collections::HashMap;

use baton_core::model::{
    actions, Doc, DocVersion, Event, Message, NewEvent, Note, Project, Reservation, Status,
    StatusCounts, Task, TaskRecord,
};
use baton_core::store::{
    AgentRow, DocMatch, DocQuery, DocSearchQuery, EventQuery, MessageQuery, NewMessage,
    NewReservation, ReadyQuery, ReservationQuery, StoreTx, TaskQuery,
};
use baton_core::time::Timestamp;
use baton_core::{DocId, Error, MessageId, Result, TaskId};
use postgres::types::ToSql;
use postgres::{Row, Statement};

use crate::params::Params;
use crate::rows::{
    event_from_row, get, opt_ts_text, record_from_row, reservation_from_row, status, task_from_row,
    timestamp, to_json_list, ts_text, EVENT_COLUMNS, RESERVATION_COLUMNS, TASK_COLUMNS,
    TASK_RECORD_COLUMNS,
};
use crate::{map_err, Conn, EVENTS_CHANNEL};

/// Prepared statements kept per connection; past this many the cache starts over (queries
/// built from filters come in a bounded number of shapes, so this is rarely reached).
const STATEMENT_CACHE: usize = 512;

pub struct PgTx<'c> {
    conn: &'c mut Conn,
    /// A write transaction (holding the write lock): pickup locks its candidates.
    write: bool,
    /// Settings read in this transaction (a use-case asks for the same one several times;
    /// within one transaction the answer cannot change except through `set_setting`).
    settings: HashMap<String, Option<String>>,
}

type Values<'a> = [&'a (dyn ToSql + Sync)];

impl<'c> PgTx<'c> {
    pub(crate) fn new(conn: &'c mut Conn, write: bool) -> Self {
        PgTx {
            conn,
            write,
            settings: HashMap::new(),
        }
    }

    fn prepared(&mut self, sql: &str) -> Result<Statement> {
        if let Some(statement) = self.conn.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.conn.client.prepare(sql).map_err(map_err)?;
        if self.conn.statements.len() >= STATEMENT_CACHE {
            self.conn.statements.clear();
        }
        self.conn
            .statements
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    /// The parameter types of a statement, as the database reads them.
    pub(crate) fn param_types(&mut self, sql: &str) -> Result<Vec<postgres::types::Type>> {
        Ok(self.prepared(sql)?.params().to_vec())
    }

    pub(crate) fn query(&mut self, sql: &str, values: &Values<'_>) -> Result<Vec<Row>> {
        let statement = self.prepared(sql)?;
        self.conn.client.query(&statement, values).map_err(map_err)
    }

    pub(crate) fn query_opt(&mut self, sql: &str, values: &Values<'_>) -> Result<Option<Row>> {
        let statement = self.prepared(sql)?;
        self.conn
            .client
            .query_opt(&statement, values)
            .map_err(map_err)
    }

    pub(crate) fn query_one(&mut self, sql: &str, values: &Values<'_>) -> Result<Row> {
        let statement = self.prepared(sql)?;
        self.conn
            .client
            .query_one(&statement, values)
            .map_err(map_err)
    }

    /// Like [`PgTx::execute`], but hands PostgreSQL's own error back for the caller to
    /// judge (whose fault a refused row is).
    pub(crate) fn execute_raw(
        &mut self,
        sql: &str,
        values: &Values<'_>,
    ) -> Result<Result<u64, postgres::Error>> {
        let statement = self.prepared(sql)?;
        Ok(self.conn.client.execute(&statement, values))
    }

    pub(crate) fn execute(&mut self, sql: &str, values: &Values<'_>) -> Result<u64> {
        let statement = self.prepared(sql)?;
        self.conn
            .client
            .execute(&statement, values)
            .map_err(map_err)
    }

    pub fn has_project(&mut self) -> Result<bool> {
        get(
            &self.query_one("SELECT EXISTS (SELECT 1 FROM project)", &[])?,
            0,
        )
    }

    /// Records the project on first start; returns whether it was created now.
    pub fn ensure_project(&mut self, name: &str, now: Timestamp) -> Result<bool> {
        if self.has_project()? {
            return Ok(false);
        }
        self.execute(
            "INSERT INTO project (id, name, created_at) VALUES (1, $1, $2)",
            &[&name, &ts_text(now)],
        )?;
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

    fn select_tasks(&mut self, sql: &str, params: &Params) -> Result<Vec<TaskRecord>> {
        self.query(sql, &params.refs())?
            .iter()
            .map(record_from_row)
            .collect()
    }

    fn exists(&mut self, sql: &str, values: &Values<'_>) -> Result<bool> {
        get(&self.query_one(sql, values)?, 0)
    }
}

fn no_project() -> Error {
    Error::Unavailable {
        message: "the database holds no Baton project".into(),
        hint: Some(
            "start `baton serve --database <url>` once, or run a command with \
             BATON_DATABASE_URL set, to create it"
                .into(),
        ),
    }
}

/// A task's columns as statement parameters $1..$21, in `TASK_COLUMNS` order.
fn task_values(t: &Task) -> Vec<Box<dyn ToSql + Sync + '_>> {
    vec![
        Box::new(t.id.number() as i64),
        Box::new(&t.title),
        Box::new(&t.description),
        Box::new(t.status.as_str()),
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
        Box::new(opt_ts_text(t.lease_expires_at)),
        Box::new(ts_text(t.created_at)),
        Box::new(ts_text(t.updated_at)),
        Box::new(opt_ts_text(t.started_at)),
        Box::new(opt_ts_text(t.completed_at)),
        Box::new(opt_ts_text(t.deleted_at)),
        Box::new(t.initiative.map(|i| i.number() as i64)),
        Box::new(t.phase.map(|p| p.number() as i64)),
        Box::new(t.parent.map(|p| p.number() as i64)),
        Box::new(t.category.as_str()),
        Box::new(&t.summary),
        Box::new(t.gated as i64),
    ]
}

fn refs<'a>(values: &'a [Box<dyn ToSql + Sync + 'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref() as _).collect()
}

/// `%text%` for LIKE, with the pattern characters of `text` taken literally.
pub(crate) fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn limit_value(limit: u64) -> i64 {
    limit.min(i64::MAX as u64) as i64
}

/// The ready-queue condition: open, live, and every live dependency in a satisfying status.
/// (A deleted dependency counts as met; core re-checks the winner.)
fn ready_condition(satisfied: &[Status], params: &mut Params) -> String {
    if satisfied.is_empty() {
        return "t.status = 'open' AND t.gated = 0 AND t.deleted_at IS NULL".into();
    }
    let statuses: Vec<String> = satisfied.iter().map(|s| s.as_str().to_string()).collect();
    let mark = params.push(statuses);
    format!(
        "t.status = 'open' AND t.gated = 0 AND t.deleted_at IS NULL AND NOT EXISTS ( \
           SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on \
           WHERE d.task = t.id AND dt.deleted_at IS NULL AND NOT (dt.status = ANY({mark})))"
    )
}

impl StoreTx for PgTx<'_> {
    fn project(&mut self) -> Result<Project> {
        let row = self
            .query_opt("SELECT name, created_at FROM project WHERE id = 1", &[])?
            .ok_or_else(no_project)?;
        Ok(Project {
            name: get(&row, 0)?,
            created_at: timestamp(&row, 1)?,
        })
    }

    fn setting(&mut self, key: &str) -> Result<Option<String>> {
        if let Some(known) = self.settings.get(key) {
            return Ok(known.clone());
        }
        let value: Option<String> = self
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])?
            .map(|row| get(&row, 0))
            .transpose()?;
        self.settings.insert(key.to_string(), value.clone());
        Ok(value)
    }

    fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        self.settings
            .insert(key.to_string(), Some(value.to_string()));
        Ok(())
    }

    fn allocate_task_ids(&mut self, count: u64) -> Result<TaskId> {
        let row = self
            .query_opt(
                "UPDATE project SET next_task = next_task + $1 WHERE id = 1 \
                 RETURNING next_task - $1",
                &[&(count as i64)],
            )?
            .ok_or_else(no_project)?;
        Ok(TaskId(get::<i64>(&row, 0)? as u64))
    }

    fn insert_task(&mut self, t: &Task) -> Result<()> {
        let values = task_values(t);
        self.execute(
            "INSERT INTO tasks (id, title, description, status, blocked_reason, priority, \
             assignee, epic, capabilities, verify, acceptance_criteria, context_refs, files, \
             retry_count, fence, lease_expires_at, created_at, updated_at, started_at, \
             completed_at, deleted_at, initiative, phase, parent, category, summary, gated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
            &refs(&values),
        )?;
        self.set_dependencies(t.id, &t.depends_on)?;
        for note in &t.notes {
            self.add_note(t.id, note)?;
        }
        Ok(())
    }

    fn update_task(&mut self, t: &Task) -> Result<()> {
        // Same parameter numbers as the insert; created_at ($17) never changes, but every
        // parameter must appear for its type to be known, hence the no-op comparison.
        let values = task_values(t);
        let changed = self.execute(
            "UPDATE tasks SET title = $2, description = $3, status = $4, blocked_reason = $5, \
             priority = $6, assignee = $7, epic = $8, capabilities = $9, verify = $10, \
             acceptance_criteria = $11, context_refs = $12, files = $13, retry_count = $14, \
             fence = $15, lease_expires_at = $16, updated_at = $18, started_at = $19, \
             completed_at = $20, deleted_at = $21, initiative = $22, phase = $23, \
             parent = $24, category = $25, summary = $26, gated = $27 \
             WHERE id = $1 AND $17::text IS NOT NULL",
            &refs(&values),
        )?;
        if changed != 1 {
            return Err(Error::TaskNotFound(t.id));
        }
        Ok(())
    }

    fn set_dependencies(&mut self, task: TaskId, deps: &[TaskId]) -> Result<()> {
        let id = task.number() as i64;
        self.execute("DELETE FROM task_deps WHERE task = $1", &[&id])?;
        if deps.is_empty() {
            return Ok(());
        }
        let targets: Vec<i64> = deps.iter().map(|d| d.number() as i64).collect();
        // One statement for the whole list; ordinality keeps the given order.
        self.execute(
            "INSERT INTO task_deps (task, depends_on, position) \
             SELECT $1::bigint, dep, position - 1 FROM unnest($2::bigint[]) WITH ORDINALITY AS u (dep, position)",
            &[&id, &targets],
        )?;
        Ok(())
    }

    fn add_note(&mut self, task: TaskId, note: &Note) -> Result<()> {
        self.execute(
            "INSERT INTO task_notes (task, author, at, text) VALUES ($1, $2, $3, $4)",
            &[
                &(task.number() as i64),
                &note.author,
                &ts_text(note.at),
                &note.text,
            ],
        )?;
        Ok(())
    }

    fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>> {
        let mut params = Params::default();
        let mark = params.push(id.number() as i64);
        let sql = format!("SELECT {TASK_RECORD_COLUMNS} FROM tasks t WHERE t.id = {mark}");
        Ok(self.select_tasks(&sql, &params)?.pop())
    }

    fn tasks(&mut self, q: &TaskQuery) -> Result<Vec<TaskRecord>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut params = Params::default();
        if !q.include_deleted {
            conditions.push("t.deleted_at IS NULL".into());
        }
        if let Some(ids) = &q.ids {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let ids: Vec<i64> = ids.iter().map(|id| id.number() as i64).collect();
            conditions.push(format!("t.id = ANY({})", params.push(ids)));
        }
        if !q.statuses.is_empty() {
            let statuses: Vec<String> = q.statuses.iter().map(|s| s.as_str().to_string()).collect();
            conditions.push(format!("t.status = ANY({})", params.push(statuses)));
        }
        if let Some(a) = &q.assignee {
            conditions.push(format!("t.assignee = {}", params.push(a.clone())));
        }
        if let Some(e) = &q.epic {
            conditions.push(format!("t.epic = {}", params.push(e.clone())));
        }
        if let Some(p) = q.priority {
            conditions.push(format!("t.priority = {}", params.push(p.rank() as i64)));
        }
        if let Some(text) = &q.text {
            let mark = params.push(format!("%{}%", like_escape(text)));
            conditions.push(format!(
                "(t.title ILIKE {mark} ESCAPE '\\' OR t.description ILIKE {mark} ESCAPE '\\')"
            ));
        }
        if let Some(dep) = q.dependents_of {
            conditions.push(format!(
                "t.id IN (SELECT task FROM task_deps WHERE depends_on = {})",
                params.push(dep.number() as i64)
            ));
        }
        if let Some(phase) = q.phase {
            conditions.push(format!("t.phase = {}", params.push(phase.number() as i64)));
        }
        if let Some(initiative) = q.initiative {
            conditions.push(format!(
                "t.initiative = {}",
                params.push(initiative.number() as i64)
            ));
        }
        if let Some(parent) = q.parent {
            conditions.push(format!(
                "t.parent = {}",
                params.push(parent.number() as i64)
            ));
        }
        let mut sql = format!("SELECT {TASK_RECORD_COLUMNS} FROM tasks t");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY t.id");
        if let Some(limit) = q.limit {
            sql.push_str(&format!(" LIMIT {}", params.push(limit_value(limit))));
        }
        self.select_tasks(&sql, &params)
    }

    fn existing(&mut self, ids: &[TaskId]) -> Result<Vec<(TaskId, bool)>> {
        let ids: Vec<i64> = ids.iter().map(|id| id.number() as i64).collect();
        self.query(
            "SELECT id, deleted_at IS NOT NULL FROM tasks WHERE id = ANY($1)",
            &[&ids],
        )?
        .iter()
        .map(|row| Ok((TaskId(get::<i64>(row, 0)? as u64), get(row, 1)?)))
        .collect()
    }

    fn dependencies_of(&mut self, task: TaskId) -> Result<Vec<TaskId>> {
        self.query(
            "SELECT depends_on FROM task_deps WHERE task = $1 ORDER BY position",
            &[&(task.number() as i64)],
        )?
        .iter()
        .map(|row| Ok(TaskId(get::<i64>(row, 0)? as u64)))
        .collect()
    }

    fn ready_candidates(&mut self, q: &ReadyQuery) -> Result<Vec<TaskRecord>> {
        let mut params = Params::default();
        let mut sql = format!(
            "SELECT {TASK_RECORD_COLUMNS} FROM tasks t WHERE {}",
            ready_condition(&q.satisfied, &mut params)
        );
        if let Some(cap) = &q.capability {
            sql.push_str(&format!(
                " AND (t.capabilities::jsonb) ? {}",
                params.push(cap.clone())
            ));
        }
        if let Some(category) = q.category {
            sql.push_str(&format!(
                " AND t.category = {}",
                params.push(category.as_str().to_string())
            ));
        }
        if let Some(initiative) = q.initiative {
            sql.push_str(&format!(
                " AND t.initiative = {}",
                params.push(initiative.number() as i64)
            ));
        }
        if let Some((priority, id)) = q.after {
            let p = params.push(priority.rank() as i64);
            let i = params.push(id.number() as i64);
            sql.push_str(&format!(
                " AND (t.priority > {p} OR (t.priority = {p} AND t.id > {i}))"
            ));
        }
        sql.push_str(&format!(
            " ORDER BY t.priority, t.id LIMIT {}",
            params.push(limit_value(q.limit))
        ));
        if self.write {
            // A candidate row another transaction holds is passed over, never waited for
            // and never handed out twice (see the crate docs on isolation).
            sql.push_str(" FOR UPDATE OF t SKIP LOCKED");
        }
        self.select_tasks(&sql, &params)
    }

    fn count_ready(&mut self, satisfied: &[Status]) -> Result<u64> {
        // The kept count of open tasks, less those waiting on a dependency, found from the
        // dependency rows: no walk over every open task.
        let open = self.status_counts()?.open;
        if satisfied.is_empty() {
            return Ok(open);
        }
        let statuses: Vec<String> = satisfied.iter().map(|s| s.as_str().to_string()).collect();
        let waiting = get::<i64>(
            &self.query_one(
                "SELECT count(*) FROM (SELECT d.task FROM task_deps d \
                 JOIN tasks t ON t.id = d.task JOIN tasks dt ON dt.id = d.depends_on \
                 WHERE t.status = 'open' AND t.deleted_at IS NULL \
                 AND dt.deleted_at IS NULL AND NOT (dt.status = ANY($1)) \
                 UNION SELECT g.id FROM tasks g \
                 WHERE g.gated = 1 AND g.status = 'open' AND g.deleted_at IS NULL) w",
                &[&statuses],
            )?,
            0,
        )? as u64;
        Ok(open.saturating_sub(waiting))
    }

    fn status_counts(&mut self) -> Result<StatusCounts> {
        let mut counts = StatusCounts::zero();
        for row in self.query(
            "SELECT status, sum(n)::bigint FROM task_counts GROUP BY status",
            &[],
        )? {
            *counts.slot(status(&row, 0)?) += get::<i64>(&row, 1)? as u64;
        }
        Ok(counts)
    }

    fn holder_counts(&mut self) -> Result<Vec<(String, u64)>> {
        self.query(
            "SELECT assignee, n FROM task_counts WHERE status = 'in-progress' \
             AND assignee <> '' AND n > 0 ORDER BY assignee",
            &[],
        )?
        .iter()
        .map(|row| Ok((get::<String>(row, 0)?, get::<i64>(row, 1)? as u64)))
        .collect()
    }

    fn held_by(&mut self, agent: &str, limit: Option<u64>) -> Result<Vec<TaskId>> {
        // A row comparison only the holder index serves, read in its order (see the lease
        // probes): "assignee = $1 ORDER BY lease" may be planned as a sort of everything
        // the agent holds.
        let limit = limit.map(|l| l.min(i64::MAX as u64) as i64);
        self.query(
            "SELECT id FROM tasks WHERE status = 'in-progress' \
             AND (assignee, lease_expires_at) > ($1, '') AND assignee = $1 \
             ORDER BY assignee, lease_expires_at LIMIT $2",
            &[&agent, &limit],
        )?
        .iter()
        .map(|row| Ok(TaskId(get::<i64>(row, 0)? as u64)))
        .collect()
    }

    fn expired_leases(&mut self, now: Timestamp) -> Result<Vec<TaskRecord>> {
        // Asked on every call and nearly always empty: a small statement answers first.
        // The earliest lease, read first from the lease index (ORDER BY .. LIMIT 1): one
        // entry whatever the statistics say. EXISTS (.. < $1) and min() were both planned,
        // with statistics from an idle board, as scans of every task in progress.
        let now = ts_text(now);
        let any = self.exists(
            "SELECT coalesce((SELECT lease_expires_at FROM tasks WHERE status = 'in-progress' \
             ORDER BY lease_expires_at LIMIT 1) < $1, false)",
            &[&now],
        )?;
        if !any {
            return Ok(Vec::new());
        }
        let mut params = Params::default();
        let mark = params.push(now);
        let sql = format!(
            "SELECT {TASK_RECORD_COLUMNS} FROM tasks t WHERE t.status = 'in-progress' \
             AND t.lease_expires_at < {mark} AND t.deleted_at IS NULL ORDER BY t.id"
        );
        self.select_tasks(&sql, &params)
    }

    fn renew_leases(
        &mut self,
        agent: &str,
        until: Timestamp,
        if_before: Timestamp,
    ) -> Result<Vec<Task>> {
        let (until, if_before) = (ts_text(until), ts_text(if_before));
        let due = self.exists(
            // The holder's earliest lease: the first entry at or after (holder, '') in the
            // holder index, by a row comparison only that index serves. Asked as
            // "assignee = $1 ORDER BY lease_expires_at", stale statistics chose the assignee
            // index and sorted every task the holder had (2,769 rows, 2.3 ms a call).
            "SELECT coalesce((SELECT h.lease_expires_at < $2 FROM \
             (SELECT assignee, lease_expires_at FROM tasks WHERE status = 'in-progress' \
             AND (assignee, lease_expires_at) > ($1, '') \
             ORDER BY assignee, lease_expires_at LIMIT 1) h WHERE h.assignee = $1), false)",
            &[&agent, &if_before],
        )?;
        if !due {
            return Ok(Vec::new());
        }
        let sql = format!(
            "UPDATE tasks t SET lease_expires_at = $1 WHERE t.assignee = $2 \
             AND t.status = 'in-progress' AND t.lease_expires_at < $3 RETURNING {TASK_COLUMNS}"
        );
        let renewed = self
            .query(&sql, &[&until, &agent, &if_before])?
            .iter()
            .map(task_from_row)
            .collect::<Result<Vec<Task>>>()?;
        if !renewed.is_empty() {
            let ids: Vec<i64> = renewed.iter().map(|t| t.id.number() as i64).collect();
            self.execute(
                "UPDATE reservations SET expires_at = $1 WHERE task = ANY($2)",
                &[&until, &ids],
            )?;
        }
        Ok(renewed)
    }

    fn insert_reservation(&mut self, r: &NewReservation) -> Result<Reservation> {
        // Expired reservations hold nothing; clear them out as new ones arrive.
        self.execute(
            "DELETE FROM reservations WHERE expires_at < $1",
            &[&ts_text(r.created_at)],
        )?;
        let row = self.query_one(
            "INSERT INTO reservations (agent, glob, prefix, mode, task, reason, created_at, \
             expires_at, ttl_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &r.agent,
                &r.glob,
                &r.prefix,
                &r.mode.as_str(),
                &r.task.map(|t| t.number() as i64),
                &r.reason,
                &ts_text(r.created_at),
                &ts_text(r.expires_at),
                &(r.ttl_ms as i64),
            ],
        )?;
        Ok(Reservation {
            id: get::<i64>(&row, 0)? as u64,
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
        let mut params = Params::default();
        if let Some(at) = q.active_at {
            conditions.push(format!("expires_at > {}", params.push(ts_text(at))));
        }
        if let Some(a) = &q.agent {
            conditions.push(format!("agent = {}", params.push(a.clone())));
        }
        if let Some(a) = &q.not_agent {
            conditions.push(format!("agent <> {}", params.push(a.clone())));
        }
        if let Some(t) = q.task {
            conditions.push(format!("task = {}", params.push(t.number() as i64)));
        }
        if q.manual_only {
            conditions.push("task IS NULL".into());
        }
        if let Some((ancestors, below)) = &q.prefixes {
            let a = params.push(ancestors.clone());
            let from = params.push(below.clone());
            // Past every character: the end of the range of strings starting with `below`
            // (byte order, the column's "C" collation).
            let to = params.push(format!("{below}\u{10FFFF}"));
            conditions.push(format!(
                "(prefix = ANY({a}) OR (prefix >= {from} AND prefix < {to}))"
            ));
        }
        let mut sql = format!("SELECT {RESERVATION_COLUMNS} FROM reservations");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY id");
        self.query(&sql, &params.refs())?
            .iter()
            .map(reservation_from_row)
            .collect()
    }

    fn delete_reservations(&mut self, ids: &[u64]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = ids.iter().map(|i| *i as i64).collect();
        self.execute("DELETE FROM reservations WHERE id = ANY($1)", &[&ids])
    }

    fn renew_reservations(&mut self, agent: &str, now: Timestamp) -> Result<u64> {
        let any = self.exists(
            "SELECT EXISTS (SELECT 1 FROM reservations WHERE agent = $1 AND task IS NULL)",
            &[&agent],
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
        let mut renewed = 0;
        for r in &mine {
            let until = now.plus(std::time::Duration::from_millis(r.ttl_ms));
            if until > r.expires_at {
                self.execute(
                    "UPDATE reservations SET expires_at = $1 WHERE id = $2",
                    &[&ts_text(until), &(r.id as i64)],
                )?;
                renewed += 1;
            }
        }
        Ok(renewed)
    }

    fn touch_agent(&mut self, name: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "INSERT INTO agents (name, first_seen, last_seen) VALUES ($1, $2, $2) \
             ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen",
            &[&name, &ts_text(at)],
        )?;
        Ok(())
    }

    fn agents(&mut self) -> Result<Vec<AgentRow>> {
        self.query(
            "SELECT name, first_seen, last_seen FROM agents ORDER BY name",
            &[],
        )?
        .iter()
        .map(|row| {
            Ok(AgentRow {
                name: get(row, 0)?,
                first_seen: timestamp(row, 1)?,
                last_seen: timestamp(row, 2)?,
            })
        })
        .collect()
    }

    fn append_event(&mut self, e: &NewEvent) -> Result<u64> {
        // max + 1 under the write lock: ids follow commit order (see the crate docs). The
        // notification goes out when the transaction commits, and not at all if it rolls
        // back; several in one transaction are delivered as one.
        let sql = format!(
            "WITH e AS ( \
               INSERT INTO events (id, at, actor, action, task, detail, session) \
               SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM events RETURNING id) \
             SELECT id, pg_notify('{EVENTS_CHANNEL}', '') IS NULL FROM e"
        );
        let row = self.query_one(
            &sql,
            &[
                &ts_text(e.at),
                &e.actor,
                &e.action.as_ref(),
                &e.task.map(|t| t.number() as i64),
                &e.detail.to_string(),
                &e.session.map(|s| s.number() as i64),
            ],
        )?;
        Ok(get::<i64>(&row, 0)? as u64)
    }

    fn events(&mut self, q: &EventQuery) -> Result<Vec<Event>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut params = Params::default();
        if let Some(task) = q.task {
            conditions.push(format!("task = {}", params.push(task.number() as i64)));
        }
        if let Some(actor) = &q.actor {
            conditions.push(format!("actor = {}", params.push(actor.clone())));
        }
        if let Some(action) = &q.action {
            let prefix = match action.strip_suffix('*') {
                Some(prefix) => Some(prefix),
                None if action.ends_with('.') => Some(action.as_str()),
                None => None,
            };
            match prefix {
                Some(prefix) => conditions.push(format!(
                    "action LIKE {} ESCAPE '\\'",
                    params.push(format!("{}%", like_escape(prefix)))
                )),
                None => conditions.push(format!("action = {}", params.push(action.clone()))),
            }
        }
        if let Some(session) = q.session {
            conditions.push(format!(
                "session = {}",
                params.push(session.number() as i64)
            ));
        }
        if let Some(since) = q.since {
            conditions.push(format!("at >= {}", params.push(ts_text(since))));
        }
        if let Some(after) = q.after_id {
            conditions.push(format!("id > {}", params.push(after as i64)));
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
                sql.push_str(&format!(
                    " ORDER BY id LIMIT {}",
                    params.push(limit_value(limit))
                ));
            }
            Some(limit) => {
                sql = format!(
                    "SELECT * FROM ({sql} ORDER BY id DESC LIMIT {}) newest ORDER BY id",
                    params.push(limit_value(limit))
                );
            }
            None => sql.push_str(" ORDER BY id"),
        }
        self.query(&sql, &params.refs())?
            .iter()
            .map(event_from_row)
            .collect()
    }

    fn insert_doc(&mut self, doc: &Doc) -> Result<DocId> {
        self.insert_doc_row(doc)
    }

    fn update_doc(&mut self, doc: &Doc) -> Result<()> {
        self.update_doc_row(doc)
    }

    fn add_doc_version(&mut self, version: &DocVersion) -> Result<()> {
        self.insert_doc_version(version)
    }

    fn doc(&mut self, id: DocId) -> Result<Option<Doc>> {
        self.doc_by_id(id)
    }

    fn docs(&mut self, query: &DocQuery) -> Result<Vec<Doc>> {
        self.select_docs(query)
    }

    fn doc_versions(&mut self, id: DocId) -> Result<Vec<DocVersion>> {
        self.versions_of(id)
    }

    fn search_docs(&mut self, query: &DocSearchQuery) -> Result<Vec<DocMatch>> {
        self.search(query)
    }

    fn insert_message(&mut self, message: &NewMessage) -> Result<Message> {
        self.insert_message_row(message)
    }

    fn message(&mut self, id: MessageId) -> Result<Option<Message>> {
        self.message_by_id(id)
    }

    fn messages(&mut self, query: &MessageQuery) -> Result<Vec<Message>> {
        self.select_messages(query)
    }

    fn mark_answered(&mut self, id: MessageId, by: &str, at: Timestamp) -> Result<()> {
        self.execute(
            "UPDATE messages SET answered_at = $2, answered_by = $3 \
             WHERE id = $1 AND answered_at IS NULL",
            &[&(id.number() as i64), &ts_text(at), &by],
        )?;
        Ok(())
    }

    fn mark_read(&mut self, ids: &[MessageId], at: Timestamp) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.number() as i64).collect();
        self.execute(
            "UPDATE messages SET read_at = $2 WHERE id = ANY($1) AND read_at IS NULL",
            &[&ids, &ts_text(at)],
        )?;
        Ok(())
    }

    fn task_count(&mut self) -> Result<u64> {
        Ok(get::<i64>(&self.query_one("SELECT count(*) FROM tasks", &[])?, 0)? as u64)
    }

    fn reserve_task_ids_through(&mut self, id: TaskId) -> Result<()> {
        self.execute(
            "UPDATE project SET next_task = greatest(next_task, $1::bigint + 1) WHERE id = 1",
            &[&(id.number() as i64)],
        )?;
        Ok(())
    }

    fn insert_agent(&mut self, agent: &AgentRow) -> Result<bool> {
        let added = self.execute(
            "INSERT INTO agents (name, first_seen, last_seen) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
            &[
                &agent.name,
                &ts_text(agent.first_seen),
                &ts_text(agent.last_seen),
            ],
        )?;
        Ok(added == 1)
    }

    fn import_keys(&mut self, source: &str, kind: &str) -> Result<Vec<(String, u64)>> {
        self.query(
            "SELECT key, local FROM import_keys WHERE source = $1 AND kind = $2",
            &[&source, &kind],
        )?
        .iter()
        .map(|row| Ok((get(row, 0)?, get::<i64>(row, 1)? as u64)))
        .collect()
    }

    fn record_import_key(&mut self, source: &str, kind: &str, key: &str, local: u64) -> Result<()> {
        self.execute(
            "INSERT INTO import_keys (source, kind, key, local) VALUES ($1, $2, $3, $4)",
            &[&source, &kind, &key, &(local as i64)],
        )?;
        Ok(())
    }

    fn sql(&mut self) -> &mut dyn baton_core::sql::Sql {
        self
    }
}

/// A plain query's value for a parameter PostgreSQL typed `ty`.
fn bind_raw(
    value: &baton_core::store::RawValue,
    ty: &postgres::types::Type,
) -> Result<Box<dyn ToSql + Sync>> {
    use baton_core::store::RawValue;
    use postgres::types::Type;
    Ok(match (value, ty) {
        (RawValue::Null, &Type::INT8) => Box::new(None::<i64>),
        (RawValue::Null, &Type::INT4) => Box::new(None::<i32>),
        (RawValue::Null, &Type::BOOL) => Box::new(None::<bool>),
        (RawValue::Null, _) => Box::new(None::<String>),
        (RawValue::Integer(n), &Type::INT8) => Box::new(*n),
        (RawValue::Integer(n), &Type::INT4) => Box::new(
            i32::try_from(*n)
                .map_err(|_| Error::invalid(format!("{n} is too large for this field")))?,
        ),
        (RawValue::Integer(n), &Type::BOOL) => Box::new(*n != 0),
        (RawValue::Integer(n), &Type::TEXT | &Type::VARCHAR) => Box::new(n.to_string()),
        (RawValue::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => Box::new(s.clone()),
        (value, ty) => {
            return Err(Error::Internal(format!(
                "a plain query bound {value:?} to a parameter of type {ty}"
            )))
        }
    })
}

/// A row's columns as stored values (BIGINT and INTEGER as integers, the rest as text).
pub(crate) fn raw_values(row: &Row) -> Result<Vec<baton_core::store::RawValue>> {
    use baton_core::store::RawValue;
    use postgres::types::Type;
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let value = match *column.type_() {
                Type::INT8 => row
                    .try_get::<_, Option<i64>>(i)
                    .map(|v| v.map(RawValue::Integer)),
                Type::INT4 => row
                    .try_get::<_, Option<i32>>(i)
                    .map(|v| v.map(|n| RawValue::Integer(n as i64))),
                Type::BOOL => row
                    .try_get::<_, Option<bool>>(i)
                    .map(|v| v.map(|b| RawValue::Integer(b as i64))),
                _ => row
                    .try_get::<_, Option<String>>(i)
                    .map(|v| v.map(RawValue::Text)),
            };
            value
                .map(|v| v.unwrap_or(RawValue::Null))
                .map_err(|e| Error::Internal(format!("column {}: {e}", column.name())))
        })
        .collect()
}

impl PgTx<'_> {
    fn bound(
        &mut self,
        sql: &str,
        params: &[baton_core::store::RawValue],
    ) -> Result<Vec<Box<dyn ToSql + Sync>>> {
        let types = self.param_types(sql)?;
        if types.len() != params.len() {
            return Err(Error::Internal(format!(
                "a plain query has {} parameters and was given {}",
                types.len(),
                params.len()
            )));
        }
        params
            .iter()
            .zip(&types)
            .map(|(value, ty)| bind_raw(value, ty))
            .collect()
    }
}

impl baton_core::sql::Sql for PgTx<'_> {
    fn execute(&mut self, sql: &str, params: &[baton_core::store::RawValue]) -> Result<u64> {
        let sql = baton_core::sql::dollar_placeholders(sql);
        let values = self.bound(&sql, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as _).collect();
        PgTx::execute(self, &sql, &refs)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[baton_core::store::RawValue],
    ) -> Result<Vec<Vec<baton_core::store::RawValue>>> {
        let sql = baton_core::sql::dollar_placeholders(sql);
        let values = self.bound(&sql, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as _).collect();
        PgTx::query(self, &sql, &refs)?
            .iter()
            .map(raw_values)
            .collect()
    }
}
