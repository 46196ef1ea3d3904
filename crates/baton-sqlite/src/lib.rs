//! The embedded store: one SQLite file per project, in WAL mode, shared safely by every
//! `baton` process on the machine. Writes take the lock up front (`BEGIN IMMEDIATE`) so a
//! use-case never fails half-way on a lock upgrade.

mod busy;
pub mod codepakt;
mod knowledge;
mod messages;
mod migrations;
mod rows;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use baton_core::time::Timestamp;
use baton_core::{Error, Result, Store, StoreTx};
use rusqlite::{Connection, FileControl, OpenFlags};

pub use migrations::{LATEST as SCHEMA_VERSION, MIGRATIONS};

/// How long a writer waits for the lock before giving up with `store_unavailable`.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes the WAL may keep after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 8 * 1024 * 1024;

pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteStore {
    /// Creates the database for a new project (or opens it when it exists) and records the
    /// project. Returns the store and whether it was newly created.
    pub fn create(path: &Path, project_name: &str) -> Result<(SqliteStore, bool)> {
        let conn = Connection::open(path).map_err(|e| unavailable(path, e))?;
        // WAL is a property of the file: set once, kept by every later connection.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(map_err)?;
        let store = SqliteStore::configure(conn, path)?;
        let created = store.transaction("BEGIN IMMEDIATE", |tx| {
            tx.ensure_project(project_name, Timestamp::now())
        })?;
        Ok((store, created))
    }

    /// Opens an existing project database, upgrading an older schema.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if !path.exists() {
            return Err(Error::Unavailable {
                message: format!("database {} does not exist", path.display()),
                hint: Some("run `baton init` in the repository to create it".into()),
            });
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unavailable(path, e))?;
        SqliteStore::configure(conn, path)
    }

    /// Opens without migrating, for tests that build an old schema.
    #[doc(hidden)]
    pub fn open_at_version(path: &Path, version: i64) -> Result<SqliteStore> {
        let mut conn = Connection::open(path).map_err(|e| unavailable(path, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(map_err)?;
        busy::install(&mut conn, DEFAULT_LOCK_TIMEOUT).map_err(map_err)?;
        migrations::migrate_to(&conn, version)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    fn configure(mut conn: Connection, path: &Path) -> Result<SqliteStore> {
        let timeout = std::env::var("BATON_LOCK_TIMEOUT")
            .ok()
            .and_then(|v| baton_core::time::parse_duration(&v))
            .unwrap_or(DEFAULT_LOCK_TIMEOUT);
        busy::install(&mut conn, timeout).map_err(map_err)?;
        // NORMAL in WAL mode: a commit survives a crash of any process; only an OS crash or
        // power loss can drop the last transactions (see docs/PERFORMANCE.md).
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(map_err)?;
        // Most CLI calls are short-lived processes; the last one out checkpoints the WAL.
        // Keeping the WAL file (truncated to zero on that checkpoint, because the size
        // limit is set) spares the next process creating it again: a file creation and two
        // fsyncs per call.
        let mut persist = 1;
        conn.file_control(
            Some(rusqlite::MAIN_DB),
            FileControl::PersistWal(&mut persist),
        )
        .map_err(map_err)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(map_err)?;
        migrations::migrate_to(&conn, migrations::LATEST)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        let conn = self.lock()?;
        migrations::version(&conn)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Internal("store connection poisoned".into()))
    }

    fn transaction<T>(
        &self,
        begin: &str,
        f: impl FnOnce(&mut tx::SqliteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let conn = self.lock()?;
        conn.execute_batch(begin).map_err(map_err)?;
        let mut tx = tx::SqliteTx::new(&conn);
        match f(&mut tx) {
            Ok(value) => match conn.execute_batch("COMMIT") {
                Ok(()) => Ok(value),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(map_err(e))
                }
            },
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl Store for SqliteStore {
    fn read<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T> {
        self.transaction("BEGIN DEFERRED", |tx| f(tx))
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T> {
        self.transaction("BEGIN IMMEDIATE", |tx| f(tx))
    }
}

fn unavailable(path: &Path, e: rusqlite::Error) -> Error {
    Error::Unavailable {
        message: format!("cannot open {}: {e}", path.display()),
        hint: Some("check that the file exists, is a Baton database and is writable".into()),
    }
}

/// Maps SQLite failures to the error classes callers act on.
pub(crate) fn map_err(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::*;
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            DatabaseBusy | DatabaseLocked => Error::Unavailable {
                message: "the database stayed locked by another process".into(),
                hint: Some(
                    "another baton process holds a long write; retry, or raise BATON_LOCK_TIMEOUT"
                        .into(),
                ),
            },
            DiskFull | SystemIoFailure | CannotOpen | ReadOnly | NotADatabase | DatabaseCorrupt
            | PermissionDenied => Error::Unavailable {
                message: e.to_string(),
                hint: Some("check the disk and the permissions of .baton/".into()),
            },
            _ => Error::Internal(e.to_string()),
        },
        _ => Error::Internal(e.to_string()),
    }
}
