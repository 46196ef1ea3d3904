//! Waiting for other processes' commits: a connection that LISTENs on [`EVENTS_CHANNEL`],
//! which every event-appending transaction notifies when it commits. Used by the server's
//! feed (across replicas) and by the CLI's `listen` / `ask --wait` on a database URL.

use std::time::Duration;

use baton_core::{Error, Result};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use crate::{redact, EVENTS_CHANNEL};

pub struct EventListener {
    client: Client,
}

impl EventListener {
    /// Connects and starts listening. Anything committed after this returns is seen by the
    /// next [`EventListener::wait`], so connect before the first check.
    pub fn connect(url: &str) -> Result<EventListener> {
        let mut client = Client::connect(url, NoTls).map_err(|e| Error::Unavailable {
            message: format!("cannot connect to PostgreSQL at {}: {e}", redact(url)),
            hint: Some("check that the database server runs and the URL is right".into()),
        })?;
        client
            .batch_execute(&format!("LISTEN {EVENTS_CHANNEL}"))
            .map_err(|e| Error::Unavailable {
                message: format!("cannot LISTEN on {EVENTS_CHANNEL}: {e}"),
                hint: Some("check the database server and retry".into()),
            })?;
        Ok(EventListener { client })
    }

    /// Blocks until some transaction appended events since the last call (returns `true`),
    /// or `at_most` passes (`false`). Notifications that queued up meanwhile count once.
    /// An error means the connection broke; connect again.
    pub fn wait(&mut self, at_most: Duration) -> Result<bool> {
        let mut notifications = self.client.notifications();
        let first = notifications
            .timeout_iter(at_most)
            .next()
            .map_err(crate::map_err)?;
        if first.is_none() {
            return Ok(false);
        }
        // Drain what is already buffered, without waiting.
        let mut queued = notifications.iter();
        while queued.next().map_err(crate::map_err)?.is_some() {}
        Ok(true)
    }
}
