//! `baton migrate`: a whole project copied in, rows as they are (ids, times, the event
//! log), into a database that holds no project yet, in one transaction.

use baton_core::store::{RawValue, TableRows};
use baton_core::{Error, Result};
use postgres::types::{ToSql, Type};

use crate::tx::PgTx;
use crate::{Kind, PostgresStore};

/// Every table of a project and its columns, parents before children. Both stores have
/// these columns with the same meaning and representation.
pub const PROJECT_TABLES: &[(&str, &[&str])] = &[
    ("project", &["id", "name", "created_at", "next_task"]),
    (
        "tasks",
        &[
            "id",
            "title",
            "description",
            "status",
            "blocked_reason",
            "priority",
            "assignee",
            "epic",
            "capabilities",
            "verify",
            "acceptance_criteria",
            "context_refs",
            "files",
            "retry_count",
            "fence",
            "lease_expires_at",
            "created_at",
            "updated_at",
            "started_at",
            "completed_at",
            "deleted_at",
            "initiative",
            "phase",
            "parent",
            "category",
            "summary",
            "gated",
        ],
    ),
    ("task_deps", &["task", "depends_on", "position"]),
    ("task_notes", &["id", "task", "author", "at", "text"]),
    (
        "events",
        &["id", "at", "actor", "action", "task", "detail", "session"],
    ),
    ("agents", &["name", "first_seen", "last_seen"]),
    ("settings", &["key", "value"]),
    (
        "reservations",
        &[
            "id",
            "agent",
            "glob",
            "prefix",
            "mode",
            "task",
            "reason",
            "created_at",
            "expires_at",
            "ttl_ms",
        ],
    ),
    (
        "docs",
        &[
            "id",
            "type",
            "title",
            "body",
            "tags",
            "author",
            "version",
            "created_at",
            "updated_at",
            "deleted_at",
        ],
    ),
    ("doc_tasks", &["doc", "task"]),
    (
        "doc_versions",
        &[
            "doc", "version", "type", "title", "body", "tags", "author", "at",
        ],
    ),
    (
        "messages",
        &[
            "id",
            "sender",
            "recipient",
            "task",
            "body",
            "reply_to",
            "thread",
            "created_at",
            "answered_at",
            "answered_by",
            "read_at",
        ],
    ),
    ("import_keys", &["source", "kind", "key", "local"]),
    (
        "runs",
        &[
            "id",
            "task",
            "agent",
            "provider",
            "account",
            "attempt",
            "runner",
            "host",
            "status",
            "pid",
            "pgid",
            "process_start",
            "worktree",
            "branch",
            "session",
            "spool",
            "started_at",
            "updated_at",
            "ended_at",
            "input_tokens",
            "output_tokens",
            "cache_read_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
            "cost_micros",
            "turns",
            "final_text",
            "reason",
            "stop_requested",
            "log_lines",
        ],
    ),
    ("run_logs", &["run", "seq", "at", "line"]),
    (
        "task_losses",
        &[
            "id",
            "agent",
            "task",
            "fence",
            "reason",
            "at",
            "by_actor",
            "status",
            "feedback",
            "reported_at",
        ],
    ),
    (
        "sessions",
        &[
            "id",
            "identity",
            "purpose",
            "kind",
            "tool",
            "run",
            "started_at",
            "ended_at",
            "ended_by",
            "end_reason",
        ],
    ),
    (
        "telemetry",
        &[
            "id",
            "run",
            "agent",
            "task",
            "name",
            "attributes",
            "unit",
            "kind",
            "value",
            "count",
            "points",
            "first_at",
            "updated_at",
        ],
    ),
    (
        "runner_accounts",
        &[
            "provider",
            "name",
            "status",
            "until",
            "reason",
            "last_used_at",
            "updated_at",
        ],
    ),
    (
        "initiatives",
        &[
            "id",
            "name",
            "description",
            "status",
            "merge_requires_approval",
            "branch",
            "repositories",
            "created_by",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "phases",
        &[
            "id",
            "initiative",
            "name",
            "content",
            "status",
            "blocked_reason",
            "approved_at",
            "position",
            "created_at",
            "updated_at",
        ],
    ),
    ("phase_deps", &["phase", "depends_on"]),
    (
        "initiative_pages",
        &["doc", "initiative", "parent", "position"],
    ),
    (
        "review_comments",
        &[
            "id",
            "phase",
            "task",
            "reply_to",
            "file",
            "line",
            "side",
            "body",
            "author",
            "resolved",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "proposals",
        &[
            "id",
            "initiative",
            "target",
            "target_id",
            "title",
            "summary",
            "content",
            "status",
            "author",
            "task",
            "decided_by",
            "decided_at",
            "applied",
            "created_at",
        ],
    ),
    (
        "merges",
        &[
            "id",
            "kind",
            "task",
            "phase",
            "initiative",
            "source",
            "target",
            "state",
            "strategy",
            "resolves",
            "resolved_by",
            "merge_task",
            "base",
            "source_head",
            "target_head",
            "result",
            "conflicts",
            "error",
            "attempts",
            "runner",
            "lease_until",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "errands",
        &[
            "id",
            "title",
            "branch",
            "base_branch",
            "status",
            "provider",
            "agent",
            "session",
            "base",
            "result",
            "conflicts",
            "reason",
            "created_by",
            "created_at",
            "updated_at",
            "request",
            "request_text",
            "requested_by",
            "claimed_by",
            "lease_until",
            "reply",
        ],
    ),
    (
        "webhooks",
        &[
            "id",
            "url",
            "events",
            "secret",
            "cursor",
            "created_by",
            "created_at",
            "removed_at",
            "removed_by",
        ],
    ),
    (
        "webhook_deliveries",
        &[
            "id",
            "uid",
            "webhook",
            "event",
            "action",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status",
            "last_error",
            "last_error_at",
            "created_at",
            "delivered_at",
        ],
    ),
];

/// Tables whose ids come from an identity sequence, moved past the copied ids.
const SEQUENCED: &[&str] = &[
    "task_notes",
    "reservations",
    "docs",
    "messages",
    "runs",
    "sessions",
    "task_losses",
    "telemetry",
    "initiatives",
    "phases",
    "review_comments",
    "proposals",
    "merges",
    "errands",
    "webhooks",
    "webhook_deliveries",
    "users",
    "api_tokens",
];

/// The instance's tables (users, tokens, projects, members, settings), which live in the
/// default project's store: `baton migrate` carries them with it. Login sessions are not
/// carried: people log in again.
pub const INSTANCE_TABLES: &[(&str, &[&str])] = &[
    (
        "users",
        &[
            "id",
            "name",
            "email",
            "password_hash",
            "admin",
            "disabled",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "api_tokens",
        &[
            "id",
            "hash",
            "prefix",
            "name",
            "user_id",
            "project",
            "agent",
            "role",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ],
    ),
    ("projects", &["key", "name", "created_by", "created_at"]),
    ("project_members", &["project", "user_id", "role"]),
    ("instance_settings", &["key", "value"]),
];

impl PostgresStore {
    /// Copies `tables` in; returns the rows written per table. Refused when the database
    /// already holds a project; all or nothing.
    pub fn restore(&self, tables: &[TableRows]) -> Result<Vec<(String, u64)>> {
        self.transaction(Kind::Write, |tx| restore(tx, tables))
    }
}

fn restore(tx: &mut PgTx<'_>, tables: &[TableRows]) -> Result<Vec<(String, u64)>> {
    let taken: bool = tx
        .query_one("SELECT EXISTS (SELECT 1 FROM project)", &[])?
        .get(0);
    if taken {
        return Err(Error::Conflict {
            code: "import_conflict",
            message: "the target database already holds a Baton project".into(),
            hint: Some("migrate into a new, empty database (CREATE DATABASE ...)".into()),
        });
    }
    let mut written = Vec::new();
    for t in tables {
        let known = PROJECT_TABLES
            .iter()
            .chain(INSTANCE_TABLES)
            .find(|(name, columns)| *name == t.table && columns.iter().eq(t.columns.iter()))
            .ok_or_else(|| {
                Error::Internal(format!(
                    "table {} with these columns is not a Baton table",
                    t.table
                ))
            })?;
        let marks: Vec<String> = (1..=known.1.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            known.0,
            known.1.join(", "),
            marks.join(", ")
        );
        let types = tx.param_types(&sql)?;
        for (index, row) in t.rows.iter().enumerate() {
            let values: Vec<Box<dyn ToSql + Sync>> = row
                .iter()
                .zip(&types)
                .map(|(value, ty)| bind(value, ty))
                .collect::<Result<_, String>>()
                .map_err(|why| t.refused(index, why))?;
            let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref() as _).collect();
            match tx.execute_raw(&sql, &refs)? {
                Ok(_) => {}
                // Class 22 (data exception) and 23 (integrity constraint violation): a
                // value or a reference of the row's own making.
                Err(e) => match e.as_db_error() {
                    Some(db) if ["22", "23"].contains(&&db.code().code()[..2]) => {
                        return Err(t.refused(index, db.message()))
                    }
                    _ => return Err(crate::map_err(e)),
                },
            }
        }
        written.push((t.table.clone(), t.rows.len() as u64));
    }
    for table in SEQUENCED {
        tx.execute(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) \
                 FROM {table}"
            ),
            &[],
        )?;
    }
    Ok(written)
}

/// A value for a column of type `ty` (BIGINT or TEXT in every project table).
fn bind(value: &RawValue, ty: &Type) -> Result<Box<dyn ToSql + Sync>, String> {
    Ok(match (value, ty) {
        (RawValue::Null, &Type::INT8) => Box::new(None::<i64>),
        (RawValue::Null, _) => Box::new(None::<String>),
        (RawValue::Integer(n), &Type::INT8) => Box::new(*n),
        (RawValue::Text(s), &Type::TEXT) => Box::new(s.clone()),
        (value, ty) => return Err(format!("a {value:?} cannot go into a column of type {ty}")),
    })
}

impl PostgresStore {
    /// The rows of each `(table, columns)` as stored, from one snapshot (`baton export`).
    pub fn dump(&self, tables: &[(&str, &[&str])]) -> Result<Vec<TableRows>> {
        self.transaction(Kind::Read, |tx| {
            tables
                .iter()
                .map(|(table, columns)| dump_table(tx, table, columns))
                .collect()
        })
    }
}

fn dump_table(tx: &mut PgTx<'_>, table: &str, columns: &[&str]) -> Result<TableRows> {
    if !PROJECT_TABLES.iter().any(|(name, _)| *name == table) {
        return Err(Error::Internal(format!("{table} is not a Baton table")));
    }
    let sql = format!("SELECT {} FROM {table} ORDER BY 1", columns.join(", "));
    let rows = tx.query(&sql, &[])?;
    let out = rows
        .iter()
        .map(|row| crate::tx::raw_values(row).map_err(|e| Error::Internal(format!("{table}: {e}"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(TableRows {
        table: table.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: out,
        sources: Vec::new(),
    })
}
