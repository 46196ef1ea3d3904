//! Where the server's connections come from. Each worker thread opens its own.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use baton_core::board::Clock;
use baton_core::{Api, Board, Result};
use baton_sqlite::SqliteStore;
use tokio::sync::watch;

use crate::feed::Waker;

mod postgres;

pub use postgres::PostgresBackend;

/// Opens connections to one board. The server is written against this, so a PostgreSQL
/// backend plugs in without touching routes.
pub trait Backend: Send + Sync + 'static {
    /// One connection to the board, owned by one worker thread.
    fn open(&self) -> Result<Box<dyn Api + Send>>;
    /// The writer's connection, which can group several calls into one commit.
    fn open_writer(&self) -> Result<Box<dyn Writer>>;
    /// What `/ready` and the log say the server runs on.
    fn describe(&self) -> String;
    /// The clock the boards read, when not the real one (tests move time forward).
    fn clock(&self) -> Option<Clock> {
        None
    }
    /// The backend of another project on the same server, its storage created (and named
    /// `name`) when missing: SQLite, a file of its own; PostgreSQL, a schema of its own.
    fn project(&self, key: &str, name: &str) -> Result<Arc<dyn Backend>>;
    /// Wakes the feed as soon as anyone else (another replica, a CLI process) commits
    /// events, until `shutdown`. Without it the feed still finds them by polling.
    fn watch_changes(&self, wake: Waker, shutdown: watch::Receiver<bool>) -> Result<()> {
        let _ = (wake, shutdown);
        Ok(())
    }
}

/// A connection that can run several calls as one transaction (group commit). Each call
/// still succeeds or fails on its own; the group becomes durable, and visible, at once.
pub trait Writer: Send {
    fn api(&self) -> &dyn Api;
    fn begin_group(&self) -> Result<()>;
    fn commit_group(&self) -> Result<()>;
    fn rollback_group(&self);
}

/// A project's SQLite file, shared with CLI processes on the same machine.
pub struct SqliteBackend {
    path: PathBuf,
    clock: Option<Clock>,
}

impl SqliteBackend {
    /// The database must exist (`baton init` creates it); it is upgraded if older.
    pub fn new(path: impl Into<PathBuf>) -> Result<SqliteBackend> {
        let backend = SqliteBackend {
            path: path.into(),
            clock: None,
        };
        // Fail at start, not on the first request.
        SqliteStore::open(&backend.path)?;
        Ok(backend)
    }

    /// A backend whose board reads the time from `clock` (tests move time forward).
    pub fn with_clock(path: impl Into<PathBuf>, clock: Clock) -> Result<SqliteBackend> {
        let mut backend = SqliteBackend::new(path)?;
        backend.clock = Some(clock);
        Ok(backend)
    }
}

impl Backend for SqliteBackend {
    fn clock(&self) -> Option<Clock> {
        self.clock.clone()
    }

    fn open(&self) -> Result<Box<dyn Api + Send>> {
        let store = SqliteStore::open(&self.path)?;
        Ok(match &self.clock {
            Some(clock) => Box::new(Board::with_clock(store, clock.clone())),
            None => Box::new(Board::new(store)),
        })
    }

    fn open_writer(&self) -> Result<Box<dyn Writer>> {
        let store = SqliteStore::open(&self.path)?;
        store.leave_checkpoints_to_others()?;
        let board = match &self.clock {
            Some(clock) => Board::with_clock(store, clock.clone()),
            None => Board::new(store),
        };
        let running = Arc::new(AtomicBool::new(true));
        let checkpointer = SqliteStore::open(&self.path)?;
        let alive = running.clone();
        std::thread::Builder::new()
            .name("baton-checkpoint".into())
            .spawn(move || {
                while alive.load(Ordering::Relaxed) {
                    std::thread::sleep(CHECKPOINT_EVERY);
                    if let Err(e) = checkpointer.checkpoint() {
                        eprintln!("baton serve: WAL checkpoint failed: {e}");
                    }
                }
                let _ = checkpointer.checkpoint();
            })
            .map_err(|e| baton_core::Error::Internal(format!("cannot start a thread: {e}")))?;
        Ok(Box::new(SqliteWriter { board, running }))
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    fn project(&self, key: &str, name: &str) -> Result<Arc<dyn Backend>> {
        let path = project_file(&self.path, key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| baton_core::Error::Unavailable {
                message: format!("cannot create {}: {e}", dir.display()),
                hint: Some("check the permissions of the .baton directory".into()),
            })?;
        }
        SqliteStore::create(&path, name)?;
        let mut backend = SqliteBackend::new(path)?;
        backend.clock = self.clock.clone();
        Ok(Arc::new(backend))
    }
}

/// Where a project other than the default one keeps its SQLite file: `projects/KEY.db`
/// beside the default project's file.
pub fn project_file(default: &std::path::Path, key: &str) -> PathBuf {
    default
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("projects")
        .join(format!("{key}.db"))
}

/// How often the background thread moves the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The server's writer on SQLite: it never checkpoints in a commit (a checkpoint's fsync
/// would stall every request queued behind it); a background thread does, until the
/// writer goes away.
struct SqliteWriter {
    board: Board<SqliteStore>,
    running: Arc<AtomicBool>,
}

impl Drop for SqliteWriter {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

impl Writer for SqliteWriter {
    fn api(&self) -> &dyn Api {
        &self.board
    }

    fn begin_group(&self) -> Result<()> {
        self.board.store().begin_batch()
    }

    fn commit_group(&self) -> Result<()> {
        self.board.store().commit_batch()
    }

    fn rollback_group(&self) {
        self.board.store().rollback_batch()
    }
}
