//! Blocking until something shows up on the board (`listen`, `ask --wait`) without a busy
//! loop. [`until`] re-checks whenever `wait_for_change` returns; the local variant,
//! [`StoreWatcher`], returns as soon as another process writes the database (a file event on
//! the database or its WAL), and after a slow fallback poll at the latest. A client of a
//! remote server waits on its event stream ([`StreamWatcher`]), a PostgreSQL board on
//! LISTEN/NOTIFY ([`DatabaseWatcher`]).

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use crate::error::CliResult;

/// The longest a wait lasts without a check, in case a file event was missed.
pub const FALLBACK_POLL: Duration = Duration::from_secs(2);

/// `BATON_WAIT_POLL` overrides the fallback (tests make it long to show that file events,
/// not the poll, wake a waiter).
fn fallback_poll() -> Duration {
    std::env::var("BATON_WAIT_POLL")
        .ok()
        .and_then(|v| baton_core::time::parse_duration(&v))
        .filter(|d| !d.is_zero())
        .unwrap_or(FALLBACK_POLL)
}

/// Calls `check` until it returns something or `timeout` passes (`None`: no limit). Between
/// checks, `wait_for_change(at_most)` blocks until the board may have changed.
pub fn until<T>(
    timeout: Option<Duration>,
    mut check: impl FnMut() -> CliResult<Option<T>>,
    wait_for_change: &mut dyn FnMut(Duration),
) -> CliResult<Option<T>> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let poll = fallback_poll();
    loop {
        if let Some(found) = check()? {
            return Ok(Some(found));
        }
        let left = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => poll,
        };
        if left.is_zero() {
            return Ok(None);
        }
        wait_for_change(left.min(poll));
    }
}

/// Wakes when the SQLite database (or its WAL) is written by any process.
pub struct StoreWatcher {
    changes: Receiver<()>,
    // Kept alive: dropping it stops the events.
    _watcher: Option<notify::RecommendedWatcher>,
    /// When the last file event came. A writer appends to the WAL (the event) before it
    /// publishes the commit in the shared-memory index (no event), so a check right after
    /// the event can miss the commit: for a while after an event, waits are kept short.
    last_event: std::cell::Cell<Option<Instant>>,
}

/// How long after a file event waits stay short, and how short.
const SETTLE: Duration = Duration::from_secs(2);
const SETTLE_POLL: Duration = Duration::from_millis(100);

impl StoreWatcher {
    /// Starts watching before the first check, so no write between a check and the wait is
    /// missed. Without file events (an unsupported file system), waits fall back to polling.
    pub fn new(database: &Path) -> StoreWatcher {
        let (tx, changes) = mpsc::channel();
        let watched: Vec<PathBuf> = ["", "-wal"]
            .iter()
            .map(|suffix| {
                let mut name = database.as_os_str().to_owned();
                name.push(suffix);
                PathBuf::from(name)
            })
            .collect();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(e) = event {
                let relevant = matches!(
                    e.kind,
                    notify::EventKind::Modify(_) | notify::EventKind::Create(_)
                ) && e
                    .paths
                    .iter()
                    .any(|p| watched.iter().any(|w| p.ends_with(w)));
                if relevant {
                    let _ = tx.send(());
                }
            }
        })
        .ok()
        .and_then(|mut w| {
            let dir = database.parent()?;
            w.watch(dir, RecursiveMode::NonRecursive).ok()?;
            Some(w)
        });
        StoreWatcher {
            changes,
            _watcher: watcher,
            last_event: std::cell::Cell::new(None),
        }
    }

    /// Blocks until a write is seen or `at_most` passes; a burst of writes counts once.
    pub fn wait(&self, at_most: Duration) {
        let settling = self
            .last_event
            .get()
            .is_some_and(|at| at.elapsed() < SETTLE);
        let at_most = if settling {
            at_most.min(SETTLE_POLL)
        } else {
            at_most
        };
        match self.changes.recv_timeout(at_most) {
            Ok(()) => {
                while self.changes.try_recv().is_ok() {}
                self.last_event.set(Some(Instant::now()));
            }
            Err(RecvTimeoutError::Timeout) => {}
            // No watcher: poll.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(at_most.min(Duration::from_millis(250)))
            }
        }
    }
}

/// Wakes when a server's event stream carries a message event: how `listen` and
/// `ask --wait` wait over HTTP, with no polling.
pub struct StreamWatcher {
    changes: Receiver<()>,
}

impl StreamWatcher {
    /// Connects before the first check, so no message between a check and the wait is
    /// missed. The stream is read on its own thread.
    pub fn new(client: &baton_client::Client) -> CliResult<StreamWatcher> {
        let feed = client.follow(&baton_client::FollowFilter {
            action: Some("message.".into()),
            ..baton_client::FollowFilter::default()
        })?;
        let (tx, changes) = mpsc::channel();
        std::thread::spawn(move || {
            for event in feed {
                if event.is_err() || tx.send(()).is_err() {
                    return;
                }
            }
        });
        Ok(StreamWatcher { changes })
    }

    pub fn wait(&self, at_most: Duration) {
        match self.changes.recv_timeout(at_most) {
            Ok(()) => while self.changes.try_recv().is_ok() {},
            Err(RecvTimeoutError::Timeout) => {}
            // The stream broke: fall back to polling.
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(at_most.min(Duration::from_millis(500)))
            }
        }
    }
}

/// Wakes when any process commits events to a PostgreSQL board (LISTEN/NOTIFY): how
/// `listen` and `ask --wait` wait with `BATON_DATABASE_URL`, with no polling.
pub struct DatabaseWatcher {
    listener: std::cell::RefCell<Option<Box<baton_postgres::EventListener>>>,
}

impl DatabaseWatcher {
    /// Listens before the first check, so no commit between a check and the wait is missed.
    pub fn new(url: &str) -> CliResult<DatabaseWatcher> {
        let listener = baton_postgres::EventListener::connect(url)?;
        Ok(DatabaseWatcher {
            listener: std::cell::RefCell::new(Some(Box::new(listener))),
        })
    }

    pub fn wait(&self, at_most: Duration) {
        let mut slot = self.listener.borrow_mut();
        let broken = match slot.as_mut() {
            Some(listener) => listener.wait(at_most).is_err(),
            None => true,
        };
        if broken {
            // The connection broke: fall back to polling.
            *slot = None;
            std::thread::sleep(at_most.min(Duration::from_millis(500)));
        }
    }
}

/// Whichever wake-up fits where the board lives.
pub enum Waiter {
    Local(StoreWatcher),
    Remote(StreamWatcher),
    Database(DatabaseWatcher),
}

impl Waiter {
    /// Watches the board where it is: a database named directly, a server, or the
    /// project's store file.
    pub fn for_board(
        direct: Option<&str>,
        client: Option<&baton_client::Client>,
        database: &Path,
    ) -> CliResult<Waiter> {
        if let Some(url) = direct {
            return Ok(Waiter::Database(DatabaseWatcher::new(url)?));
        }
        if let Some(client) = client {
            return Ok(Waiter::Remote(StreamWatcher::new(client)?));
        }
        Ok(Waiter::Local(StoreWatcher::new(database)))
    }

    pub fn wait(&self, at_most: Duration) {
        match self {
            Waiter::Local(w) => w.wait(at_most),
            Waiter::Remote(w) => w.wait(at_most),
            Waiter::Database(w) => w.wait(at_most),
        }
    }
}
