//! A PostgreSQL database shared by any number of server replicas (and CLI processes).
//! Every replica's feed reads the events table by id, so `Last-Event-ID` means the same
//! everywhere; LISTEN/NOTIFY only wakes it as soon as any replica commits an event.

use std::time::Duration;

use baton_core::board::Clock;
use baton_core::{Api, Board, Error, Result};
use baton_postgres::{EventListener, PostgresStore};
use tokio::sync::watch;

use super::{Backend, Writer};
use crate::feed::Waker;

/// How long the listener waits for a notification before checking for shutdown.
const LISTEN_TICK: Duration = Duration::from_millis(250);
/// Pause before connecting again after the listening connection broke.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub struct PostgresBackend {
    url: String,
    clock: Option<Clock>,
}

impl PostgresBackend {
    /// Connects, upgrades the schema, and records the project as `project_name` when the
    /// database holds none yet.
    pub fn new(url: &str, project_name: &str) -> Result<PostgresBackend> {
        PostgresStore::create(url, project_name)?;
        Ok(PostgresBackend {
            url: url.to_string(),
            clock: None,
        })
    }

    /// A backend whose boards read the time from `clock` (tests move time forward).
    pub fn with_clock(url: &str, project_name: &str, clock: Clock) -> Result<PostgresBackend> {
        let mut backend = PostgresBackend::new(url, project_name)?;
        backend.clock = Some(clock);
        Ok(backend)
    }

    fn board(&self) -> Result<Board<PostgresStore>> {
        let store = PostgresStore::open(&self.url)?;
        Ok(match &self.clock {
            Some(clock) => Board::with_clock(store, clock.clone()),
            None => Board::new(store),
        })
    }
}

impl Backend for PostgresBackend {
    fn clock(&self) -> Option<Clock> {
        self.clock.clone()
    }

    fn open(&self) -> Result<Box<dyn Api + Send>> {
        Ok(Box::new(self.board()?))
    }

    fn open_writer(&self) -> Result<Box<dyn Writer>> {
        Ok(Box::new(PostgresWriter {
            board: self.board()?,
        }))
    }

    fn describe(&self) -> String {
        baton_postgres::redact(&self.url)
    }

    fn project(&self, key: &str, name: &str) -> Result<std::sync::Arc<dyn Backend>> {
        baton_postgres::create_project_schema(&self.url, key)?;
        let url = baton_postgres::project_url(&self.url, key);
        let mut backend = PostgresBackend::new(&url, name)?;
        backend.clock = self.clock.clone();
        Ok(std::sync::Arc::new(backend))
    }

    fn watch_changes(&self, wake: Waker, shutdown: watch::Receiver<bool>) -> Result<()> {
        let url = self.url.clone();
        // Fail at start when the listening connection cannot be made at all.
        let first = EventListener::connect(&url)?;
        std::thread::Builder::new()
            .name("baton-listen".into())
            .spawn(move || relay_notifications(&url, first, &wake, &shutdown))
            .map_err(|e| Error::Internal(format!("cannot start the listener thread: {e}")))?;
        Ok(())
    }
}

/// Wakes the feed on every notification until shutdown. A broken connection is opened
/// again; the feed's own polling covers the gap.
fn relay_notifications(
    url: &str,
    first: EventListener,
    wake: &Waker,
    shutdown: &watch::Receiver<bool>,
) {
    let mut listener = Some(first);
    while !*shutdown.borrow() {
        let Some(listening) = listener.as_mut() else {
            std::thread::sleep(RECONNECT_AFTER);
            match EventListener::connect(url) {
                Ok(l) => {
                    listener = Some(l);
                    wake.wake();
                }
                Err(e) => eprintln!("baton serve: listening for events failed: {e}"),
            }
            continue;
        };
        match listening.wait(LISTEN_TICK) {
            // At once: the feed reads every event committed so far, and wake-ups that
            // arrive while one is pending fold into it.
            Ok(true) => wake.wake(),
            Ok(false) => {}
            Err(e) => {
                eprintln!("baton serve: the event listener lost its connection: {e}");
                listener = None;
            }
        }
    }
}

/// The writer: calls grouped into one transaction (one write lock, one commit).
struct PostgresWriter {
    board: Board<PostgresStore>,
}

impl Writer for PostgresWriter {
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
