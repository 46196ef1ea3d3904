//! Where the server's connections come from. Each worker thread opens its own.

use std::path::PathBuf;

use baton_core::board::Clock;
use baton_core::{Api, Board, Result};
use baton_sqlite::SqliteStore;

/// Opens connections to one board. The server is written against this, so a PostgreSQL
/// backend plugs in without touching routes.
pub trait Backend: Send + Sync + 'static {
    /// One connection to the board, owned by one worker thread.
    fn open(&self) -> Result<Box<dyn Api + Send>>;
    /// What `/ready` and the log say the server runs on.
    fn describe(&self) -> String;
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
    fn open(&self) -> Result<Box<dyn Api + Send>> {
        let store = SqliteStore::open(&self.path)?;
        Ok(match &self.clock {
            Some(clock) => Box::new(Board::with_clock(store, clock.clone())),
            None => Box::new(Board::new(store)),
        })
    }

    fn describe(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }
}
