//! The live feed: one thread tails the events table and fans new events out to every
//! stream. Tailing the table (rather than hooking the server's own writes) is what makes
//! changes by CLI processes, which write the SQLite file directly, show up too. The writer
//! wakes the tailer after each job, so the server's own changes go out at once; others are
//! seen within one poll interval.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use baton_core::store::EventQuery;
use baton_core::{Error, Event, Result};
use tokio::sync::{broadcast, watch};

use crate::backend::Backend;

/// How many events a slow stream may fall behind before it re-reads from the table.
const BACKLOG: usize = 4096;

/// Events read per poll; more wait for the next round (which comes at once).
const PAGE: u64 = 2048;

#[derive(Clone)]
pub struct Feed {
    events: broadcast::Sender<Arc<Event>>,
    last_id: Arc<AtomicU64>,
    waker: Waker,
}

/// Wakes the tailer early (after a write through the server).
#[derive(Clone)]
pub struct Waker(mpsc::SyncSender<()>);

impl Waker {
    pub fn wake(&self) {
        // A full slot means a wake-up is already pending.
        let _ = self.0.try_send(());
    }
}

impl Feed {
    pub fn start(
        backend: Arc<dyn Backend>,
        poll: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Feed> {
        let api = backend.open()?;
        let newest = api.events(&EventQuery {
            limit: Some(1),
            ..EventQuery::default()
        })?;
        let last_id = Arc::new(AtomicU64::new(newest.last().map_or(0, |e| e.id)));
        let (events, _) = broadcast::channel(BACKLOG);
        let (wake, woken) = mpsc::sync_channel(1);
        let feed = Feed {
            events,
            last_id,
            waker: Waker(wake),
        };
        let tail = feed.clone();
        std::thread::Builder::new()
            .name("baton-feed".into())
            .spawn(move || tail.run(api, &woken, poll, &shutdown))
            .map_err(|e| Error::Internal(format!("cannot start the feed thread: {e}")))?;
        Ok(feed)
    }

    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// The id of the newest event sent out.
    pub fn last_id(&self) -> u64 {
        self.last_id.load(Ordering::SeqCst)
    }

    /// New events from now on. Subscribe before reading `last_id` so nothing falls between.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    fn run(
        &self,
        api: Box<dyn baton_core::Api + Send>,
        woken: &mpsc::Receiver<()>,
        poll: Duration,
        shutdown: &watch::Receiver<bool>,
    ) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let after = self.last_id();
            // Reading through the board also applies expired leases, so their events go
            // out even when no one is calling.
            match api.events(&EventQuery {
                after_id: Some(after),
                limit: Some(PAGE),
                ..EventQuery::default()
            }) {
                Ok(events) => {
                    let more = events.len() as u64 == PAGE;
                    for event in events {
                        let id = event.id;
                        // Advance first: a stream that subscribes now and reads `last_id`
                        // either gets this event from the channel or from the table.
                        self.last_id.store(id, Ordering::SeqCst);
                        let _ = self.events.send(Arc::new(event));
                    }
                    if more {
                        continue;
                    }
                }
                Err(e) => eprintln!("baton serve: reading new events failed: {e}"),
            }
            match woken.recv_timeout(poll) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}
