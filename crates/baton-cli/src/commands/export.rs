//! `baton export`: the whole project as JSON Lines, and the reader `baton import jsonl`
//! uses to bring such a file into an empty project.
//!
//! The format (`baton-export`, version 1): the first line is a header,
//! `{"format":"baton-export","version":1,"baton":"0.1.0","counts":{"tasks":12,...}}`; every
//! other line is one stored row, `{"table":"tasks","row":{"id":1,"title":"...",...}}`, with
//! the columns `baton migrate` copies (integers, text or null, exactly as stored: times are
//! UTC text, lists JSON text). Tables come parents first and rows in key order, so the same
//! project exports to the same bytes from SQLite and from PostgreSQL.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use baton_core::store::{RawValue, TableRows};
use baton_core::ErrorClass;
use baton_postgres::PROJECT_TABLES;
use clap::Args;
use serde_json::{json, Value};

use super::Context;
use crate::error::{CliError, CliResult};

pub const FORMAT: &str = "baton-export";

/// Makes a written copy of the board readable by its owner only: it holds everything the
/// board does (messages, docs, webhook secrets, token hashes).
pub fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}
pub const VERSION: u64 = 1;

#[derive(Args, Debug)]
#[command(after_help = "\
Writes every table of the project (tasks with dependencies and notes, the event log, docs
with all their versions, messages, reservations, agents, settings, import keys) as JSON
Lines: a header line (format, version, Baton version, row counts), then one row per line.
Webhook secrets are in it (imports keep signing); a file written with -o is readable by
you only.
Ids, fences and times are kept as they are. Reads one consistent snapshot; the board can
stay in use meanwhile.

Exports the project's SQLite file, or the PostgreSQL database named by BATON_DATABASE_URL.
Bring the file into an empty project with `baton import jsonl FILE` (SQLite or PostgreSQL).

With --since, only the record of what happened since then: events (board changes and log
entries), sessions and runs that were open in that time, run output and telemetry written
since. Such a file is for archiving or shipping the log elsewhere, not for import.

  baton export -o board.jsonl
  baton export --since 2026-12-01 -o december.jsonl
  baton export --since 24h | gzip > last-day.jsonl.gz")]
pub struct ExportArgs {
    /// Write to this file instead of standard output (replaced whole, never half-written).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Only the record since a date (2026-12-01), a time (RFC 3339) or a duration (24h, 7d).
    #[arg(long)]
    pub since: Option<String>,
}

/// The tables `--since` keeps, each with the time that places a row: a row goes in when
/// this time is at or after the cutoff (for sessions and runs: when they ended then, or
/// are still open).
const RECORD: &[(&str, &str)] = &[
    ("events", "at"),
    ("sessions", "ended_at"),
    ("runs", "ended_at"),
    ("run_logs", "at"),
    ("telemetry", "updated_at"),
];

/// The project row and the record since `since`; every other table is left out.
fn record_since(tables: Vec<TableRows>, since: baton_core::time::Timestamp) -> Vec<TableRows> {
    tables
        .into_iter()
        .filter_map(|mut t| {
            if t.table == "project" {
                return Some(t);
            }
            let (_, column) = RECORD.iter().find(|(name, _)| *name == t.table)?;
            let at = t.columns.iter().position(|c| c == column)?;
            t.rows.retain(|row| match &row[at] {
                RawValue::Text(text) => {
                    baton_core::time::Timestamp::parse(text).is_none_or(|when| when >= since)
                }
                // Still open.
                _ => true,
            });
            Some(t)
        })
        .collect()
}

pub fn run(ctx: &Context, args: ExportArgs) -> CliResult {
    let since = args
        .since
        .as_deref()
        .map(super::events::since)
        .transpose()?;
    let mut tables = dump(ctx)?;
    if let Some(since) = since {
        tables = record_since(tables, since);
    }
    let text = encode_since(&tables, since);
    let Some(path) = args.output else {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(text.as_bytes())?;
        return Ok(out.flush()?);
    };
    // Write then rename: a failed export never leaves a truncated file behind.
    let mut tmp = path.clone().into_os_string();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &text)
        .and_then(|()| owner_only(&tmp))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            CliError::new(
                ErrorClass::Internal,
                "io_error",
                format!("cannot write {}: {e}", path.display()),
            )
        })?;
    let counts = counts(&tables);
    ctx.out.emit(
        &json!({
            "file": path, "format": FORMAT, "version": VERSION, "since": since,
            "counts": counts,
        }),
        |w| {
            match since {
                Some(since) => writeln!(
                    w,
                    "Exported the record since {since} to {}:",
                    path.display()
                )?,
                None => writeln!(w, "Exported to {}:", path.display())?,
            }
            for (table, n) in &counts {
                writeln!(w, "  {table:<13} {n}")?;
            }
            Ok(())
        },
    )
}

/// Where export and import read or write rows directly (never through a server).
pub enum Database {
    Postgres(String),
    Sqlite(PathBuf),
}

impl Database {
    /// `BATON_DATABASE_URL`, else the project's file (of the project `--project` names);
    /// refused when the board is a server's.
    pub fn of(ctx: &Context, doing: &str) -> CliResult<Database> {
        let key = ctx.project_key().to_string();
        if let Some(url) = ctx.direct_database_url() {
            if key != baton_core::instance::DEFAULT_PROJECT {
                ctx.require_registered(&key)?;
                return Ok(Database::Postgres(baton_postgres::project_url(&url, &key)));
            }
            return Ok(Database::Postgres(url));
        }
        if ctx.server_url()?.is_some() {
            return Err(CliError::invalid(format!(
                "{doing} works on the database itself, not through a server"
            ))
            .with_hint(
                "run it where the database is: in the project directory without BATON_URL, \
                 or with BATON_DATABASE_URL=postgres://...",
            ));
        }
        let default = ctx.project()?.database();
        if key != baton_core::instance::DEFAULT_PROJECT {
            ctx.require_registered(&key)?;
            return Ok(Database::Sqlite(baton_server::backend::project_file(
                &default, &key,
            )));
        }
        Ok(Database::Sqlite(default))
    }
}

/// Every project table as stored, from wherever the board lives.
pub(crate) fn dump(ctx: &Context) -> CliResult<Vec<TableRows>> {
    let mut tables = match Database::of(ctx, "export")? {
        Database::Postgres(url) => {
            let tables = baton_postgres::PostgresStore::open(&url)?.dump(PROJECT_TABLES)?;
            if tables.first().is_none_or(|t| t.rows.is_empty()) {
                return Err(CliError::new(
                    ErrorClass::NotFound,
                    "no_project",
                    format!(
                        "{} holds no Baton project to export",
                        baton_postgres::redact(&url)
                    ),
                )
                .with_hint("check BATON_DATABASE_URL"));
            }
            tables
        }
        Database::Sqlite(path) => baton_sqlite::SqliteStore::open(&path)?.dump(PROJECT_TABLES)?,
    };
    for t in &mut tables {
        t.rows.sort_by(|a, b| compare_rows(a, b));
    }
    Ok(tables)
}

/// Rows in key order: every table's key columns come first, so comparing whole rows
/// orders by key (and the order does not depend on the store).
fn compare_rows(a: &[RawValue], b: &[RawValue]) -> Ordering {
    fn rank(v: &RawValue) -> (u8, i64, &str) {
        match v {
            RawValue::Null => (0, 0, ""),
            RawValue::Integer(n) => (1, *n, ""),
            RawValue::Text(s) => (2, 0, s),
        }
    }
    a.iter().map(rank).cmp(b.iter().map(rank))
}

fn counts(tables: &[TableRows]) -> BTreeMap<String, u64> {
    tables
        .iter()
        .map(|t| (t.table.clone(), t.rows.len() as u64))
        .collect()
}

fn value_json(v: &RawValue) -> Value {
    match v {
        RawValue::Null => Value::Null,
        RawValue::Integer(n) => json!(n),
        RawValue::Text(s) => json!(s),
    }
}

/// The file's text: the header, then each row on its own line, columns in table order.
pub fn encode(tables: &[TableRows]) -> String {
    encode_since(tables, None)
}

/// [`encode`], with the header saying the file holds only the record since a time.
fn encode_since(tables: &[TableRows], since: Option<baton_core::time::Timestamp>) -> String {
    // Written by hand to keep the fields in this order (a JSON object's keys are sorted).
    let since = since
        .map(|t| format!(",\"since\":{}", json!(t)))
        .unwrap_or_default();
    let mut text = format!(
        "{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"baton\":{}{since},\"counts\":{}}}\n",
        json!(env!("CARGO_PKG_VERSION")),
        json!(counts(tables))
    );
    for t in tables {
        let table = Value::String(t.table.clone());
        for row in &t.rows {
            let cells: Vec<String> = t
                .columns
                .iter()
                .zip(row)
                .map(|(column, value)| format!("{}:{}", json!(column), value_json(value)))
                .collect();
            text.push_str(&format!(
                "{{\"table\":{table},\"row\":{{{}}}}}\n",
                cells.join(",")
            ));
        }
    }
    text
}

fn bad_line(line: usize, message: impl std::fmt::Display) -> CliError {
    CliError::new(
        ErrorClass::Invalid,
        "invalid_export",
        format!("line {line}: {message}"),
    )
    .with_hint("the file must be a `baton export` file, unchanged; nothing was imported")
}

/// Reads an export: checks the header, every line and the counts, and returns the tables
/// in copy order (parents first). Nothing is written here.
pub fn decode(input: impl BufRead) -> CliResult<Vec<TableRows>> {
    let mut tables: Vec<TableRows> = PROJECT_TABLES
        .iter()
        .map(|(name, columns)| TableRows {
            table: name.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            sources: Vec::new(),
        })
        .collect();
    let mut expected: Option<BTreeMap<String, u64>> = None;
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| bad_line(number, format!("cannot be read: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| bad_line(number, format!("not valid JSON ({e})")))?;
        if expected.is_none() {
            expected = Some(header(number, &value)?);
            continue;
        }
        let (index, row) = row(number, &value)?;
        tables[index].rows.push(row);
        tables[index].sources.push(format!("line {number}"));
    }
    let Some(expected) = expected else {
        return Err(CliError::invalid("the file is empty: no export header")
            .with_hint("export a project with `baton export -o FILE` and import that file"));
    };
    for t in &tables {
        let want = expected.get(&t.table).copied().unwrap_or(0);
        if want != t.rows.len() as u64 {
            return Err(CliError::new(
                ErrorClass::Invalid,
                "invalid_export",
                format!(
                    "the header promises {want} {} rows, the file holds {}",
                    t.table,
                    t.rows.len()
                ),
            )
            .with_hint("the file was cut short or edited; export it again"));
        }
    }
    if tables[0].rows.len() != 1 {
        return Err(CliError::invalid("the export holds no project row")
            .with_hint("export a project with `baton export -o FILE`"));
    }
    Ok(tables)
}

/// The first line: a known format and version; returns the promised counts.
fn header(number: usize, value: &Value) -> CliResult<BTreeMap<String, u64>> {
    if value["format"] != FORMAT {
        return Err(bad_line(
            number,
            format!("not a Baton export header (expected \"format\": \"{FORMAT}\")"),
        ));
    }
    match value["version"].as_u64() {
        Some(VERSION) => {}
        Some(v) if v > VERSION => {
            return Err(CliError::new(
                ErrorClass::Invalid,
                "unsupported_version",
                format!(
                    "line {number}: export format version {v} is newer than this baton reads \
                     ({VERSION})"
                ),
            )
            .with_hint(format!(
                "import with the Baton that wrote it ({}), or a newer one",
                value["baton"].as_str().unwrap_or("unknown version")
            )))
        }
        _ => {
            return Err(CliError::new(
                ErrorClass::Invalid,
                "unsupported_version",
                format!(
                "line {number}: export format version {} is not one this baton reads ({VERSION})",
                value["version"]
            ),
            )
            .with_hint("export the project again with this baton"))
        }
    }
    if let Some(since) = value.get("since").filter(|s| !s.is_null()) {
        return Err(CliError::new(
            ErrorClass::Invalid,
            "partial_export",
            format!(
                "line {number}: this file holds only the record since {} (`baton export \
                 --since`), not a whole project",
                since.as_str().unwrap_or("a time")
            ),
        )
        .with_hint("import a whole export: `baton export -o FILE` without --since"));
    }
    let counts = value["counts"]
        .as_object()
        .ok_or_else(|| bad_line(number, "the header has no \"counts\" object"))?;
    counts
        .iter()
        .map(|(table, n)| {
            if !PROJECT_TABLES.iter().any(|(name, _)| name == table) {
                return Err(bad_line(
                    number,
                    format!("unknown table '{table}' in counts"),
                ));
            }
            let n = n
                .as_u64()
                .ok_or_else(|| bad_line(number, format!("the count of {table} is not a number")))?;
            Ok((table.clone(), n))
        })
        .collect()
}

/// A row line: its table's index in [`PROJECT_TABLES`] and its values in column order.
fn row(number: usize, value: &Value) -> CliResult<(usize, Vec<RawValue>)> {
    let table = value["table"]
        .as_str()
        .ok_or_else(|| bad_line(number, "a row needs \"table\" (text) and \"row\" (object)"))?;
    let fields = value["row"]
        .as_object()
        .ok_or_else(|| bad_line(number, "a row needs \"table\" (text) and \"row\" (object)"))?;
    let (index, (_, columns)) = PROJECT_TABLES
        .iter()
        .enumerate()
        .find(|(_, (name, _))| *name == table)
        .ok_or_else(|| {
            let known: Vec<&str> = PROJECT_TABLES.iter().map(|(name, _)| *name).collect();
            bad_line(
                number,
                format!("unknown table '{table}' (tables: {})", known.join(", ")),
            )
        })?;
    if let Some(extra) = fields.keys().find(|k| !columns.contains(&k.as_str())) {
        return Err(bad_line(number, format!("{table} has no column '{extra}'")));
    }
    let values = columns
        .iter()
        .map(|column| match fields.get(*column) {
            None => Err(bad_line(
                number,
                format!("the {table} row lacks column '{column}'"),
            )),
            Some(Value::Null) => Ok(RawValue::Null),
            Some(Value::String(s)) => Ok(RawValue::Text(s.clone())),
            Some(v) => v.as_i64().map(RawValue::Integer).ok_or_else(|| {
                bad_line(
                    number,
                    format!("{table}.{column} must be a whole number, text or null, not {v}"),
                )
            }),
        })
        .collect::<CliResult<Vec<_>>>()?;
    Ok((index, values))
}
