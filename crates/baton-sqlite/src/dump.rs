//! Reads whole tables as stored, for copying a project into another store.

use baton_core::store::{RawValue, TableRows};
use baton_core::{Error, Result};
use rusqlite::types::ValueRef;

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
    })
}
