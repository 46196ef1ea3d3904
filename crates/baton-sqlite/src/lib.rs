//! The embedded store: one SQLite file per project, in WAL mode, shared safely by every
//! `baton` process on the machine. Writes take the lock up front (`BEGIN IMMEDIATE`) so a
//! use-case never fails half-way on a lock upgrade.

mod busy;
pub mod codepakt;
pub mod codewalkers;
mod dump;
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
use rusqlite::{Connection, FileControl, OpenFlags, OptionalExtension};

pub use migrations::{LATEST as SCHEMA_VERSION, MIGRATIONS};

/// How long a writer waits for the lock before giving up with `store_unavailable`.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes the WAL may keep after a checkpoint.
const WAL_SIZE_LIMIT: i64 = 8 * 1024 * 1024;

pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Inside [`SqliteStore::begin_batch`]: each call runs in a savepoint of one shared
    /// transaction instead of its own.
    batch: std::sync::atomic::AtomicBool,
    /// [`SqliteStore::leave_checkpoints_to_others`] was called (kept on a replaced
    /// connection).
    checkpoints_left: std::sync::atomic::AtomicBool,
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
            batch: Default::default(),
            checkpoints_left: Default::default(),
        })
    }

    fn configure(mut conn: Connection, path: &Path) -> Result<SqliteStore> {
        setup(&mut conn)?;
        migrations::migrate_to(&conn, migrations::LATEST)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            batch: Default::default(),
            checkpoints_left: Default::default(),
        })
    }

    /// Ends a failed call's transaction. Should the rollback not take (the connection is
    /// still inside a transaction), the connection is replaced by a fresh one, so that no
    /// later call inherits the failed one's transaction or its locks.
    fn roll_back(&self, conn: &mut Connection) {
        let _ = conn.execute_batch("ROLLBACK");
        if conn.is_autocommit() {
            return;
        }
        if let Ok(mut fresh) = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ) {
            if setup(&mut fresh).is_ok() {
                if self
                    .checkpoints_left
                    .load(std::sync::atomic::Ordering::SeqCst)
                {
                    let _ = fresh.pragma_update(None, "wal_autocheckpoint", 0);
                }
                // Dropping the old connection closes it, which ends its transaction.
                *conn = fresh;
            }
        }
    }
}

/// The settings every connection of ours runs with.
fn setup(conn: &mut Connection) -> Result<()> {
    let timeout = std::env::var("BATON_LOCK_TIMEOUT")
        .ok()
        .and_then(|v| baton_core::time::parse_duration(&v))
        .unwrap_or(DEFAULT_LOCK_TIMEOUT);
    busy::install(conn, timeout).map_err(map_err)?;
    // NORMAL in WAL mode: a commit survives a crash of any process; only an OS crash or
    // power loss can drop the last transactions (see docs/PERFORMANCE.md).
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
        .map_err(map_err)?;
    // Query planner stability: without it this SQLite re-prepares a cached statement on
    // every run whose bound values could change the plan (a `LIMIT ?`, an equality on an
    // indexed column), which cost half of a pickup. Our plans do not depend on values.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
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
    Ok(())
}

impl SqliteStore {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        let conn = self.lock()?;
        migrations::version(&conn)
    }

    /// The connection. A call that panicked has already been rolled back (see
    /// [`SqliteStore::transaction`]), so a poisoned lock still guards a clean connection.
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        Ok(self.conn.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Marks the board as moved to `to` (a URL without its password): from now on every
    /// write to this file, by any process, old builds included, is refused with a
    /// `board_moved` error that names where the board lives; reads still work. Triggers do
    /// it, so a process that had the file open before is refused too.
    pub fn mark_moved(&self, to: &str) -> Result<()> {
        let conn = self.lock()?;
        let message = format!("{MOVED_PREFIX}{}", to.replace('\'', ""));
        let tables: Vec<String> = conn
            .prepare(
                // Ordinary tables: a full-text index (virtual) and its shadow tables are
                // written only through them.
                "SELECT name FROM pragma_table_list \
                 WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(map_err)?;
        let mut sql = String::from("BEGIN IMMEDIATE;");
        for table in &tables {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                sql.push_str(&format!(
                    "CREATE TRIGGER IF NOT EXISTS \"baton_moved_{op}_{table}\" BEFORE {op} ON \"{table}\" \
                     BEGIN SELECT RAISE(ABORT, '{message}'); END;"
                ));
            }
        }
        sql.push_str("COMMIT;");
        conn.execute_batch(&sql).map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            map_err(e)
        })
    }

    /// Where the board moved to, if [`SqliteStore::mark_moved`] marked it.
    pub fn moved_to(&self) -> Result<Option<String>> {
        let conn = self.lock()?;
        let sql: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'baton_moved_%' LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(map_err)?;
        Ok(sql.and_then(|sql| {
            let start = sql.find(MOVED_PREFIX)? + MOVED_PREFIX.len();
            let end = sql[start..].find('\'')? + start;
            Some(sql[start..end].to_string())
        }))
    }

    /// Group commit: until [`SqliteStore::commit_batch`], calls share one write transaction,
    /// each in its own savepoint, so a refused call still changes nothing while the others
    /// stand. One commit (one WAL append) then covers them all. Nothing is durable, or
    /// visible to other connections, before that commit: callers answer only after it.
    pub fn begin_batch(&self) -> Result<()> {
        let conn = self.lock()?;
        run_cached(&conn, "BEGIN IMMEDIATE")?;
        self.batch.store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// Commits every call since [`SqliteStore::begin_batch`]; on failure none of them stands.
    pub fn commit_batch(&self) -> Result<()> {
        self.batch.store(false, std::sync::atomic::Ordering::SeqCst);
        let conn = self.lock()?;
        run_cached(&conn, "COMMIT").inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK");
        })
    }

    /// Stops this connection from checkpointing the WAL inside its commits; whoever does
    /// that must call [`SqliteStore::checkpoint`] (a server's writer leaves it to a
    /// background thread, so no request waits on the checkpoint's fsync).
    pub fn leave_checkpoints_to_others(&self) -> Result<()> {
        let conn = self.lock()?;
        self.checkpoints_left
            .store(true, std::sync::atomic::Ordering::SeqCst);
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(map_err)
    }

    /// Copies what it can from the WAL into the database without blocking writers; returns
    /// the WAL's size in frames.
    pub fn checkpoint(&self) -> Result<i64> {
        let conn = self.lock()?;
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
            .map_err(map_err)
    }

    /// Drops every call since [`SqliteStore::begin_batch`].
    pub fn rollback_batch(&self) {
        self.batch.store(false, std::sync::atomic::Ordering::SeqCst);
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let _ = conn.execute_batch("ROLLBACK");
    }

    fn transaction<T>(
        &self,
        begin: &str,
        f: impl FnOnce(&mut tx::SqliteTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock()?;
        if self.batch.load(std::sync::atomic::Ordering::SeqCst) {
            run_cached(&conn, "SAVEPOINT baton_call")?;
            let mut tx = tx::SqliteTx::new(&conn);
            return match baton_core::panic::contain(|| f(&mut tx)) {
                Ok(value) => run_cached(&conn, "RELEASE baton_call").map(|()| value),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK TO baton_call; RELEASE baton_call");
                    Err(e)
                }
            };
        }
        // Cached statements: BEGIN and COMMIT are parsed once per connection, not per call.
        run_cached(&conn, begin)?;
        let mut tx = tx::SqliteTx::new(&conn);
        // A panic inside the call is rolled back like an error: the connection goes back
        // clean, and only this call fails.
        match baton_core::panic::contain(|| f(&mut tx)) {
            Ok(value) => match run_cached(&conn, "COMMIT") {
                Ok(()) => Ok(value),
                Err(e) => {
                    self.roll_back(&mut conn);
                    Err(e)
                }
            },
            Err(e) => {
                self.roll_back(&mut conn);
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

fn run_cached(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map(|_| ())
        .map_err(map_err)
}

fn unavailable(path: &Path, e: rusqlite::Error) -> Error {
    Error::Unavailable {
        message: format!("cannot open {}: {e}", path.display()),
        hint: Some("check that the file exists, is a Baton database and is writable".into()),
    }
}

/// How a moved board's triggers start their refusal: `board moved to postgres://...`.
const MOVED_PREFIX: &str = "board moved to ";

/// Maps SQLite failures to the error classes callers act on.
pub(crate) fn map_err(e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::*;
    if let rusqlite::Error::SqliteFailure(_, Some(message)) = &e {
        if let Some(to) = message.strip_prefix(MOVED_PREFIX) {
            return Error::Conflict {
                code: "board_moved",
                message: format!(
                    "this board moved to {to} (`baton migrate`); this file is kept read-only"
                ),
                hint: Some(format!(
                    "use the new board: set BATON_DATABASE_URL={to} (with its password), or run \
                     Baton from the project, whose config names it"
                )),
            };
        }
    }
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
