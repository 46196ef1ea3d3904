//! `baton import codepakt PATH`: bring a codepakt board over. `baton import jsonl FILE`:
//! load a `baton export` into an empty project.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use baton_core::store::TableRows;
use baton_core::ErrorClass;

use super::Context;
use crate::error::{CliError, CliResult};

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Import a codepakt board (schema versions 2 and 3): tasks with their numbers,
    /// statuses, priorities, epics, dependencies, notes, verify commands, acceptance
    /// criteria and assignees; agents; events with their original times; docs.
    #[command(after_help = IMPORT_HELP)]
    Codepakt {
        /// The board's database (PROJECT/.codepakt/data.db), or the directory holding it.
        path: PathBuf,
    },
    /// Import a Codewalkers database: initiatives, phases with their dependencies and
    /// statuses, tasks with dependencies, parents, categories and summaries, pages (Tiptap
    /// turned into markdown), review comments and the agents' conversations (as messages).
    /// It reports what it could not map. All or nothing; importing the same database again
    /// adds only what is new. The file is only read, never changed.
    Codewalkers {
        /// The Codewalkers SQLite database.
        path: PathBuf,
    },
    /// Load a `baton export` file (JSON Lines) into an empty project: every row as it was
    /// exported, ids, fences, times and the event log included.
    #[command(after_help = JSONL_HELP)]
    Jsonl {
        /// The export file, or - for standard input.
        file: PathBuf,
    },
}

const JSONL_HELP: &str = "\
The target is the project's SQLite file, or the PostgreSQL database named by
BATON_DATABASE_URL. It must be empty: a fresh `baton init` (nothing in it but its own
creation), or a new PostgreSQL database (the schema is created). A project that holds
anything else is refused (exit 4, import_conflict) and left as it was.
The whole file is checked before anything is written (a malformed line is refused with its
line number, exit 2, invalid_export), then copied in one transaction: it lands whole or not
at all.";

const IMPORT_HELP: &str = "\
Task numbers are kept (T-4 stays T-4), so the board must hold no tasks of its own:
run the import in a fresh project (`baton init`), before adding tasks. Importing the
same board again adds only what is new since the last import (nothing is duplicated);
an import into a board with other tasks is refused (exit 4, import_conflict).
Tasks that were in progress get a fresh lease: if their agent does not come back, they
return to the queue. The codepakt file is only read, never changed.";

/// Accepts the project directory or its `.codepakt/` as well as the database itself.
fn database(path: &Path) -> PathBuf {
    if path.is_dir() {
        for candidate in [".codepakt/data.db", "data.db"] {
            let p = path.join(candidate);
            if p.is_file() {
                return p;
            }
        }
    }
    path.to_path_buf()
}

pub fn run(ctx: &Context, command: ImportCommand) -> CliResult {
    match command {
        ImportCommand::Jsonl { file } => jsonl(ctx, &file),
        ImportCommand::Codewalkers { path } => {
            let plan = baton_sqlite::codewalkers::read(&path)?;
            let report = ctx.api()?.plan().import_plan(&ctx.actor(), plan)?;
            ctx.out.emit(&report, |w| {
                writeln!(
                    w,
                    "Imported from {}: {} initiatives, {} phases, {} tasks, {} pages, {} review \
                     comments, {} messages ({} already there)",
                    report.source,
                    report.initiatives,
                    report.phases,
                    report.tasks,
                    report.pages,
                    report.comments,
                    report.messages,
                    report.skipped
                )?;
                for warning in &report.warnings {
                    writeln!(w, "  not mapped: {warning}")?;
                }
                Ok(())
            })
        }
        ImportCommand::Codepakt { path } => {
            let board = baton_sqlite::codepakt::read(&database(&path))?;
            let report = ctx.api()?.import_board(&ctx.actor(), board)?;
            ctx.out.emit(&report, |w| {
                writeln!(
                    w,
                    "Imported from {}: {} tasks, {} docs, {} agents, {} events ({} already there)",
                    report.source,
                    report.tasks,
                    report.docs,
                    report.agents,
                    report.events,
                    report.skipped
                )?;
                for warning in &report.warnings {
                    writeln!(w, "  warning: {warning}")?;
                }
                Ok(())
            })
        }
    }
}

fn jsonl(ctx: &Context, file: &Path) -> CliResult {
    let tables = if file == Path::new("-") {
        super::export::decode(std::io::stdin().lock())?
    } else {
        let opened = std::fs::File::open(file).map_err(|e| {
            CliError::new(
                ErrorClass::NotFound,
                "file_not_found",
                format!("cannot read {}: {e}", file.display()),
            )
            .with_hint("give the path of a file written by `baton export -o FILE`, or - for standard input")
        })?;
        super::export::decode(std::io::BufReader::new(opened))?
    };
    restore_tables(ctx, &tables, "import")
}

/// Copies `tables` into the project's (empty) store and reports the rows per table.
pub(crate) fn restore_tables(ctx: &Context, tables: &[TableRows], doing: &str) -> CliResult {
    let (written, into) = match super::export::Database::of(ctx, doing)? {
        super::export::Database::Postgres(url) => {
            let store = baton_postgres::PostgresStore::open(&url)?;
            (store.restore(tables)?, baton_postgres::redact(&url))
        }
        super::export::Database::Sqlite(path) => {
            let store = baton_sqlite::SqliteStore::open(&path)?;
            (store.restore(tables)?, path.display().to_string())
        }
    };
    let rows: serde_json::Map<String, serde_json::Value> = written
        .iter()
        .map(|(table, n)| (table.clone(), (*n).into()))
        .collect();
    ctx.out
        .emit(&serde_json::json!({ "into": into, "rows": rows }), |w| {
            writeln!(w, "Imported into {into}:")?;
            for (table, n) in &written {
                writeln!(w, "  {table:<13} {n}")?;
            }
            Ok(())
        })
}
