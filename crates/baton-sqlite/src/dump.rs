//! Reads whole tables as stored, for copying a project into another store.

use baton_core::store::{RawValue, TableRows};
use baton_core::{Error, Result};
use rusqlite::types::ValueRef;
use rusqlite::ErrorCode;
use rusqlite::OptionalExtension;

use crate::{map_err, SqliteStore};

impl SqliteStore {
    /// The rows of each `(table, columns)` in one read transaction (one consistent
    /// snapshot), in insertion order where the table has one.
    pub fn dump(&self, tables: &[(&str, &[&str])]) -> Result<Vec<TableRows>> {
        let conn = self.lock()?;
        conn.execute_batch("BEGIN DEFERRED").map_err(map_err)?;
        let result = tables
            .iter()
            .map(|(table, columns)| dump_table(&conn, table, columns))
            .collect();
        let _ = conn.execute_batch("COMMIT");
        result
    }
}

fn dump_table(conn: &rusqlite::Connection, table: &str, columns: &[&str]) -> Result<TableRows> {
    let sql = format!("SELECT {} FROM {table}", columns.join(", "));
    let mut stmt = conn.prepare(&sql).map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            values.push(match row.get_ref(i).map_err(map_err)? {
                ValueRef::Null => RawValue::Null,
                ValueRef::Integer(n) => RawValue::Integer(n),
                ValueRef::Text(t) => RawValue::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Real(_) | ValueRef::Blob(_) => {
                    return Err(Error::Internal(format!(
                        "{table}.{column} holds a value of a type Baton never writes"
                    )))
                }
            });
        }
        out.push(values);
    }
    Ok(TableRows {
        table: table.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: out,
        sources: Vec::new(),
    })
}

impl SqliteStore {
    /// Copies `tables` in (`baton import`), rows as they are. Only into a fresh project:
    /// one that holds nothing but its own creation (the project row and its
    /// `project.created` event), which the copy replaces. Refused otherwise; all or nothing.
    /// Returns the rows written per table.
    pub fn restore(&self, tables: &[TableRows]) -> Result<Vec<(String, u64)>> {
        let conn = self.lock()?;
        conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
        let result = restore(&conn, tables);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        match conn.execute_batch(end) {
            Ok(()) => result,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                result.and(Err(map_err(e)))
            }
        }
    }
}

/// The one trigger that has to step aside: the creation event goes, as the file brings the
/// project's own log. Dropped and created again inside the transaction.
const NO_DELETE_TRIGGER: &str = "events_no_delete";

fn restore(conn: &rusqlite::Connection, tables: &[TableRows]) -> Result<Vec<(String, u64)>> {
    // Names go into the SQL text: only plain identifiers (the caller passes Baton's tables).
    let plain =
        |name: &str| !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if let Some(t) = tables
        .iter()
        .find(|t| !plain(&t.table) || !t.columns.iter().all(|c| plain(c)))
    {
        return Err(Error::Internal(format!("{} is not a Baton table", t.table)));
    }
    for t in tables {
        let holds: bool = match t.table.as_str() {
            "project" => Ok(false),
            "events" => conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM events WHERE action <> 'project.created')",
                [],
                |r| r.get(0),
            ),
            table => conn.query_row(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), [], |r| {
                r.get(0)
            }),
        }
        .map_err(map_err)?;
        if holds {
            return Err(Error::Conflict {
                code: "import_conflict",
                message: format!(
                    "this project is not empty: it already holds {}",
                    t.table.replace('_', " ")
                ),
                hint: Some(
                    "import into a fresh project: `baton init` in a new directory, then \
                     `baton import` there"
                        .into(),
                ),
            });
        }
    }
    let trigger: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [NO_DELETE_TRIGGER],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_err)?;
    conn.execute_batch(&format!(
        "DROP TRIGGER IF EXISTS {NO_DELETE_TRIGGER}; DELETE FROM events; DELETE FROM project;"
    ))
    .map_err(map_err)?;
    if let Some(sql) = trigger {
        conn.execute_batch(&sql).map_err(map_err)?;
    }
    let mut written = Vec::new();
    for t in tables {
        let marks: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            t.table,
            t.columns.join(", "),
            marks.join(", ")
        );
        let mut stmt = conn.prepare(&sql).map_err(map_err)?;
        for (index, row) in t.rows.iter().enumerate() {
            let values = row.iter().map(|v| match v {
                RawValue::Null => rusqlite::types::Value::Null,
                RawValue::Integer(n) => rusqlite::types::Value::Integer(*n),
                RawValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
            });
            stmt.execute(rusqlite::params_from_iter(values))
                .map_err(|e| match e.sqlite_error_code() {
                    // A duplicate id, a missing parent, a value of the wrong type.
                    Some(ErrorCode::ConstraintViolation | ErrorCode::TypeMismatch) => {
                        t.refused(index, e)
                    }
                    _ => map_err(e),
                })?;
        }
        written.push((t.table.clone(), t.rows.len() as u64));
    }
    Ok(written)
}

impl SqliteStore {
    /// An online copy of the whole database into `target` (a new file), through SQLite's
    /// backup API in one step: one read transaction, so the copy is one consistent moment
    /// of the board while other connections keep writing. The copy is checked with
    /// `PRAGMA integrity_check` before this returns.
    pub fn backup_to(&self, target: &std::path::Path) -> Result<()> {
        let conn = self.lock()?;
        let mut copy = rusqlite::Connection::open(target).map_err(map_err)?;
        {
            let backup = rusqlite::backup::Backup::new(&conn, &mut copy).map_err(map_err)?;
            // -1: every page in one step, under one read lock (never restarted by writers).
            loop {
                match backup.step(-1).map_err(map_err)? {
                    rusqlite::backup::StepResult::Done => break,
                    rusqlite::backup::StepResult::More => continue,
                    // Another connection holds a lock a moment: try again.
                    _ => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            }
        }
        let verdict: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(map_err)?;
        if verdict != "ok" {
            return Err(Error::Internal(format!(
                "the backup's integrity check failed: {verdict}"
            )));
        }
        // A self-contained file: no write-ahead log beside it.
        copy.execute_batch("PRAGMA journal_mode = DELETE")
            .map_err(map_err)?;
        Ok(())
    }
}
