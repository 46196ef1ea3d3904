//! `baton backup PATH` and `baton restore PATH`: a consistent online copy of the board,
//! taken while the server and agents keep writing, and brought back into an empty project.
//!
//! A project file is copied with SQLite's backup API in one step (one read transaction:
//! one moment of the board), checked with `PRAGMA integrity_check`, and is itself a
//! SQLite database. A PostgreSQL board is read in one snapshot and written in the export
//! format (`baton export`). `restore` takes either, into SQLite or PostgreSQL.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use baton_core::ErrorClass;
use baton_postgres::PROJECT_TABLES;
use clap::Args;
use serde_json::json;

use super::export::Database;
use super::Context;
use crate::error::{CliError, CliResult};

#[derive(Args, Debug)]
#[command(after_help = "\
The copy is one consistent moment of the board: every write acknowledged before the backup
began is in it, and nothing half-written. Agents and the server keep working meanwhile.
The file is readable by you only: it holds the whole board, webhook secrets included.

  baton backup backups/board-2026-12-06.db     # a project file: a SQLite database
  BATON_DATABASE_URL=postgres://... baton backup board.jsonl   # PostgreSQL: JSON Lines

The file is written beside its final name and renamed when complete; an existing file is
kept unless --force. Bring it back with `baton restore PATH` in an empty project.")]
pub struct BackupArgs {
    /// Where to write the backup.
    pub path: PathBuf,
    /// Replace a file already there.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
#[command(after_help = "\
Restores a file written by `baton backup` (a SQLite database or JSON Lines) or by
`baton export` into the project's store, which must be empty: a project just made by
`baton init`, or a new PostgreSQL database named by BATON_DATABASE_URL. All or nothing.")]
pub struct RestoreArgs {
    /// The backup to restore.
    pub path: PathBuf,
}

fn partial(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

pub fn backup(ctx: &Context, args: BackupArgs) -> CliResult {
    if args.path.exists() && !args.force {
        return Err(CliError::new(
            ErrorClass::Conflict,
            "file_exists",
            format!("{} already exists", args.path.display()),
        )
        .with_hint("give a new path, or --force to replace it"));
    }
    let started = Instant::now();
    let tmp = partial(&args.path);
    let _ = std::fs::remove_file(&tmp);
    let written = match Database::of(ctx, "backup")? {
        Database::Sqlite(db) => {
            let store = baton_sqlite::SqliteStore::open(&db)?;
            store.backup_to(&tmp).map(|()| "sqlite")
        }
        Database::Postgres(_) => {
            let tables = super::export::dump(ctx)?;
            std::fs::write(&tmp, super::export::encode(&tables))
                .map(|()| "jsonl")
                .map_err(|e| baton_core::Error::Internal(e.to_string()))
        }
    };
    let format = match written.and_then(|f| {
        super::export::owner_only(&tmp)
            .and_then(|()| std::fs::rename(&tmp, &args.path))
            .map(|()| f)
            .map_err(|e| baton_core::Error::Internal(e.to_string()))
    }) {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(CliError::new(
                ErrorClass::Unavailable,
                "backup_failed",
                format!("the backup to {} failed: {e}", args.path.display()),
            )
            .with_hint("nothing was written there; check the folder and the space left"));
        }
    };
    let bytes = std::fs::metadata(&args.path).map(|m| m.len()).unwrap_or(0);
    let value = json!({
        "path": args.path,
        "format": format,
        "bytes": bytes,
        "ms": started.elapsed().as_millis() as u64,
    });
    ctx.out.emit(&value, |w| {
        writeln!(
            w,
            "Backed up to {} ({format}, {bytes} bytes, {} ms). Restore it with `baton restore {}` in an empty project.",
            args.path.display(),
            started.elapsed().as_millis(),
            args.path.display()
        )
    })
}

pub fn restore(ctx: &Context, args: RestoreArgs) -> CliResult {
    let mut head = [0u8; 16];
    let opened = std::fs::File::open(&args.path).and_then(|mut f| {
        let n = f.read(&mut head)?;
        Ok(n)
    });
    let n = opened.map_err(|e| {
        CliError::new(
            ErrorClass::NotFound,
            "file_not_found",
            format!("cannot read {}: {e}", args.path.display()),
        )
        .with_hint("give the path of a file written by `baton backup` or `baton export -o`")
    })?;
    let tables = if n == 16 && &head == b"SQLite format 3\0" {
        // Read from a copy: opening a store brings an older file's schema up to date, and
        // the backup itself stays as it was taken.
        let dir = tempfile_dir()?;
        let copy = dir.join("backup.db");
        std::fs::copy(&args.path, &copy)?;
        let tables = baton_sqlite::SqliteStore::open(&copy)?.dump(PROJECT_TABLES)?;
        let _ = std::fs::remove_dir_all(&dir);
        tables
    } else {
        let file = std::fs::File::open(&args.path)?;
        super::export::decode(std::io::BufReader::new(file))?
    };
    super::import::restore_tables(ctx, &tables, "restore")
}

fn tempfile_dir() -> CliResult<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "baton-restore-{}-{}",
        std::process::id(),
        baton_core::time::Timestamp::now().unix_millis()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
