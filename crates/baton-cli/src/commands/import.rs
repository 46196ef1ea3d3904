//! `baton import codepakt PATH`: bring a codepakt board over.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::Context;
use crate::error::CliResult;

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
}

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
