//! The shared store: one PostgreSQL database per project, used by any number of `baton serve`
//! replicas (and CLI processes) at once.
//!
//! # Isolation
//!
//! Every write transaction runs at READ COMMITTED and first takes one transaction-level
//! advisory lock, [`WRITE_LOCK`], held until it commits or rolls back. Writers therefore run
//! one after another across every connection and every replica, exactly like SQLite's
//! `BEGIN IMMEDIATE`, and each one sees every commit before it (READ COMMITTED takes a new
//! snapshot per statement, and the lock is released only once the previous commit is
//! visible). That is what the rules in core assume: a pickup reads the ready queue, the live
//! reservations and the dependency states, then writes; allocating task ids and checking
//! reservation conflicts are read-then-write steps too. SERIALIZABLE would give the same
//! answers, but under contention it turns most pickups into serialization failures that
//! have to be retried from the start, which costs more than queueing on one lock for the
//! short time a transaction holds it (the server's writer also commits calls in groups, so
//! the lock is taken once per group, not once per call).
//!
//! Within that, pickup still locks its candidates with `FOR UPDATE SKIP LOCKED`, so a task
//! row a concurrent transaction holds is never handed out twice even by code that does not
//! take the write lock (an operator's manual SQL, a future finer-grained lock).
//!
//! Reads run at REPEATABLE READ, READ ONLY: one consistent snapshot, never blocked by
//! writers.
//!
//! A pickup's common case runs as one server-side function, `baton_claim_next` (see the
//! `claim` module): one round trip instead of a dozen, inside the same kind of write
//! transaction, under the same lock. It is not a narrower lock: the function reads the
//! ready queue and the lease state and appends an event exactly as core's statements do,
//! so it needs the same serial order, and event ids stay `max + 1` under [`WRITE_LOCK`].
//!
//! # Event ids
//!
//! The feed follows the log by id (`after_id`), so an event with a smaller id must never
//! become visible after one with a larger id. A sequence cannot promise that: two
//! transactions can take 6 and 7 and commit 7 first; a reader that sees 7 moves past 6 for
//! good. Here ids are `max(id) + 1`, assigned under [`WRITE_LOCK`], so ids follow commit
//! order with no gaps. The same transaction sends `NOTIFY baton_events` (delivered at
//! commit), which wakes the feed of every replica; the feed then reads the table by id.

mod claim;
mod copy;
mod knowledge;
mod listen;
mod messages;
mod migrations;
mod params;
mod rows;
mod tx;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use baton_core::model::{Claim, TaskRecord};
use baton_core::panic::contain;
use baton_core::store::NextClaim;
use baton_core::time::Timestamp;
use baton_core::{Error, Result, Store, StoreTx};
use postgres::{Client, NoTls, Statement};

pub use copy::{INSTANCE_TABLES, PROJECT_TABLES};
pub use listen::EventListener;
pub use migrations::{LATEST as SCHEMA_VERSION, MIGRATIONS};

/// The channel the event-appending transactions notify (see the module docs).
pub const EVENTS_CHANNEL: &str = "baton_events";

/// The advisory lock every write transaction holds until it ends.
pub const WRITE_LOCK: i64 = 7_420_001;

/// The advisory lock that keeps two processes from migrating at once.
pub(crate) const MIGRATE_LOCK: i64 = 7_420_002;

/// How long a writer waits for the write lock before giving up with `store_unavailable`.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection and the statements prepared on it (prepared once, run many times).
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
    /// In a group, the last call's savepoint is released together with the next call's
    /// start (one round trip instead of two); the commit releases the last one.
    release_pending: bool,
    /// In a group, a call without a savepoint failed: the transaction is aborted, and the
    /// group must not be reported as committed (PostgreSQL answers COMMIT on an aborted
    /// transaction by rolling back, without an error).
    group_aborted: bool,
}

pub struct PostgresStore {
    url: String,
    conn: Mutex<Option<Conn>>,
    /// Inside [`PostgresStore::begin_batch`]: each call runs in a savepoint of one shared
    /// transaction instead of its own.
    batch: AtomicBool,
    /// What pickups compute leases with (see the `claim` module), read on first use.
    lease_ttl: Mutex<Option<claim::LeaseTtl>>,
    /// Pickups the one-step function claimed (the others went through core).
    one_step_claims: AtomicU64,
    /// Whether pickups try the function first (see the `claim` module).
    one_step: bool,
}

impl PostgresStore {
    /// Connects, upgrades the schema, and records the project unless one exists. Returns the
    /// store and whether the project was created now.
    pub fn create(url: &str, project_name: &str) -> Result<(PostgresStore, bool)> {
        let store = PostgresStore::open(url)?;
        // Nearly always there already: look without taking the write lock first.
        let exists = store.transaction(Kind::Read, |tx| tx.has_project())?;
        if exists {
            return Ok((store, false));
        }
        let created = store.transaction(Kind::Write, |tx| {
            tx.ensure_project(project_name, Timestamp::now())
        })?;
        Ok((store, created))
    }

    /// Connects and upgrades an older schema. The project row is not required here; reading
    /// the project without one says how to create it.
    pub fn open(url: &str) -> Result<PostgresStore> {
        let mut conn = connect(url)?;
        migrations::migrate(&mut conn.client)?;
        Ok(PostgresStore {
            url: url.to_string(),
            conn: Mutex::new(Some(conn)),
            batch: AtomicBool::new(false),
            lease_ttl: Mutex::new(None),
            one_step_claims: AtomicU64::new(0),
            one_step: claim::one_step_enabled(),
        })
    }

    /// How many pickups this store claimed in one step (see the `claim` module).
    pub fn one_step_claims(&self) -> u64 {
        self.one_step_claims.load(Ordering::Relaxed)
    }

    /// The URL with any password left out, for logs and `/ready`.
    pub fn describe(&self) -> String {
        redact(&self.url)
    }

    pub fn schema_version(&self) -> Result<i64> {
        let mut guard = self.lock()?;
        let conn = ensure_connected(&mut guard, &self.url)?;
        migrations::version(&mut conn.client)
    }

    /// Group commit: until [`PostgresStore::commit_batch`], calls share one write
    /// transaction, each in its own savepoint, so a refused call still changes nothing while
    /// the others stand. Nothing is visible to other connections before that commit.
    pub fn begin_batch(&self) -> Result<()> {
        let mut guard = self.lock()?;
        let conn = ensure_connected(&mut guard, &self.url)?;
        conn.client.batch_execute(BEGIN_WRITE).map_err(map_err)?;
        conn.release_pending = false;
        conn.group_aborted = false;
        self.batch.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Commits every call since [`PostgresStore::begin_batch`]; on failure none stands.
    pub fn commit_batch(&self) -> Result<()> {
        self.batch.store(false, Ordering::SeqCst);
        let mut guard = self.lock()?;
        // Never a new connection here: a COMMIT on one would "succeed" with nothing in it.
        let conn = guard
            .as_mut()
            .ok_or_else(|| lost_connection("the connection dropped inside a group"))?;
        // COMMIT also releases the last call's savepoint.
        conn.release_pending = false;
        if std::mem::take(&mut conn.group_aborted) {
            let _ = conn.client.batch_execute("ROLLBACK");
            return Err(Error::Unavailable {
                message: "a call failed inside the group's transaction".into(),
                hint: Some("retry the request".into()),
            });
        }
        conn.client.batch_execute("COMMIT").map_err(|e| {
            let _ = conn.client.batch_execute("ROLLBACK");
            map_err(e)
        })
    }

    /// Drops every call since [`PostgresStore::begin_batch`].
    pub fn rollback_batch(&self) {
        self.batch.store(false, Ordering::SeqCst);
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(conn) = guard.as_mut() {
            conn.release_pending = false;
            conn.group_aborted = false;
            let _ = conn.client.batch_execute("ROLLBACK");
        }
    }

    /// The connection. A call that panicked has already been rolled back (see
    /// [`PostgresStore::transaction_with`]), so a poisoned lock still guards a usable one.
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Option<Conn>>> {
        Ok(self.conn.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn transaction<T>(
        &self,
        kind: Kind,
        f: impl FnOnce(&mut tx::PgTx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.transaction_with(kind, true, f)
    }

    /// A transaction, or inside a group a call in it: in a savepoint of its own unless
    /// `savepoint` is false (for a single statement that cannot leave the group's
    /// transaction half-changed or aborted).
    fn transaction_with<T>(
        &self,
        kind: Kind,
        savepoint: bool,
        f: impl FnOnce(&mut tx::PgTx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut guard = self.lock()?;
        if self.batch.load(Ordering::SeqCst) {
            let conn = guard
                .as_mut()
                .ok_or_else(|| lost_connection("the connection dropped inside a group"))?;
            if !savepoint {
                // Its work joins the previous call's savepoint (still to be released), or
                // the group's transaction itself; its failure fails the group.
                let result = contain(|| f(&mut tx::PgTx::new(conn, true)));
                if result.is_err() {
                    conn.group_aborted = true;
                }
                return result;
            }
            let start = if conn.release_pending {
                "RELEASE SAVEPOINT baton_call; SAVEPOINT baton_call"
            } else {
                "SAVEPOINT baton_call"
            };
            if let Err(e) = conn.client.batch_execute(start) {
                conn.group_aborted = true;
                return Err(map_err(e));
            }
            conn.release_pending = false;
            let result = contain(|| f(&mut tx::PgTx::new(conn, true)));
            return match result {
                Ok(value) => {
                    conn.release_pending = true;
                    Ok(value)
                }
                Err(e) => {
                    // Unless this call's own work is undone, the group must not commit.
                    if conn
                        .client
                        .batch_execute(
                            "ROLLBACK TO SAVEPOINT baton_call; RELEASE SAVEPOINT baton_call",
                        )
                        .is_err()
                    {
                        conn.group_aborted = true;
                    }
                    Err(e)
                }
            };
        }
        let conn = ensure_connected(&mut guard, &self.url)?;
        let begin = match kind {
            Kind::Read => BEGIN_READ,
            Kind::Write => BEGIN_WRITE,
        };
        let result = conn
            .client
            .batch_execute(begin)
            .map_err(map_err)
            .and_then(|()| contain(|| f(&mut tx::PgTx::new(conn, kind == Kind::Write))))
            .and_then(|value| {
                conn.client
                    .batch_execute("COMMIT")
                    .map(|()| value)
                    .map_err(map_err)
            });
        if let Err(e) = &result {
            let _ = conn.client.batch_execute("ROLLBACK");
            // A connection that failed (terminated, timed out), or whose call panicked or
            // hit a bug, is not trusted again: the next call opens a new one.
            if matches!(e, Error::Unavailable { .. } | Error::Internal(_)) {
                *guard = None;
            }
        }
        result
    }
}

impl Store for PostgresStore {
    fn read<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T> {
        self.transaction(Kind::Read, |tx| f(tx))
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T> {
        self.transaction(Kind::Write, |tx| f(tx))
    }

    fn claim_next(&self, claim: &NextClaim<'_>) -> Result<Option<(TaskRecord, Claim)>> {
        self.claim_next_now(claim)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
/// One round trip: the transaction and its write lock (see the module docs).
/// (The number is [`WRITE_LOCK`]; a unit test keeps the two equal.)
///
/// The wait happens on `LOCK TABLE baton_write_lock` (migration 0002): a LOCK statement
/// takes no snapshot, so a writer queued behind another holds back no row versions, and the
/// ready queue's replaced entries can be pruned as soon as the running writer commits. (A
/// writer waiting in `SELECT pg_advisory_xact_lock` holds its statement's snapshot, which
/// kept the last group's claims visible to it and every pickup of the other replica
/// stepping over them.) The advisory lock, then granted at once, is the one every version
/// of Baton takes, so writers of an older release still queue with these.
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED; \
    LOCK TABLE baton_write_lock IN EXCLUSIVE MODE; SELECT pg_advisory_xact_lock(7420001)";

fn connect(url: &str) -> Result<Conn> {
    let config: postgres::Config = url.parse().map_err(|e| Error::InvalidInput {
        message: format!("{} is not a PostgreSQL URL: {e}", redact(url)),
        hint: Some("write it as postgres://user:password@host:port/database".into()),
    })?;
    let mut client = config.connect(NoTls).map_err(|e| connect_error(url, &e))?;
    let timeout = std::env::var("BATON_LOCK_TIMEOUT")
        .ok()
        .and_then(|v| baton_core::time::parse_duration(&v))
        .unwrap_or(DEFAULT_LOCK_TIMEOUT);
    client
        // Generic plans: PostgreSQL otherwise plans a prepared statement again for its
        // values on each of the first runs and whenever it guesses a custom plan is
        // cheaper; planning the ready query costs more than running it. Our plans do not
        // depend on the values (the same choice as the SQLite store's stable plans).
        .batch_execute(&format!(
            "SET lock_timeout = {}; SET application_name = 'baton'; \
             SET plan_cache_mode = force_generic_plan",
            timeout.as_millis()
        ))
        .map_err(map_err)?;
    Ok(Conn {
        client,
        statements: HashMap::new(),
        release_pending: false,
        group_aborted: false,
    })
}

/// Why a connection was refused, with the server's own words and what to do about them.
fn connect_error(url: &str, e: &postgres::Error) -> Error {
    let (why, hint) = match e.as_db_error() {
        Some(db) => {
            let hint = match db.code().code() {
                // invalid_catalog_name
                "3D000" => "create the database first (createdb NAME, or CREATE DATABASE NAME)",
                // invalid_authorization_specification, invalid_password
                "28000" | "28P01" => "check the user and password in the URL",
                _ => "check the database server and the URL",
            };
            (db.message().to_string(), hint)
        }
        None => (
            // "error connecting to server", then why (connection refused, a timeout).
            std::iter::successors(Some(e as &dyn std::error::Error), |e| e.source())
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(": "),
            "check that the server runs and the URL (postgres://user:password@host:port/database) \
             is right",
        ),
    };
    Error::Unavailable {
        message: format!("cannot connect to PostgreSQL at {}: {why}", redact(url)),
        hint: Some(hint.into()),
    }
}

/// The connection, opened again when the previous one broke (a restarted server, a
/// dropped network): the next call works again without restarting Baton.
fn ensure_connected<'a>(slot: &'a mut Option<Conn>, url: &str) -> Result<&'a mut Conn> {
    if slot.as_ref().is_none_or(|c| c.client.is_closed()) {
        *slot = None;
        *slot = Some(connect(url)?);
    }
    slot.as_mut()
        .ok_or_else(|| lost_connection("no connection"))
}

fn lost_connection(why: &str) -> Error {
    Error::Unavailable {
        message: format!("lost the PostgreSQL connection: {why}"),
        hint: Some("retry the request".into()),
    }
}

/// The schema a project other than the default one lives in (a project key is lower-case
/// letters, digits and dashes, so the name needs no quoting).
pub fn project_schema(key: &str) -> String {
    format!("baton_p_{}", key.replace('-', "_"))
}

/// The URL of a project's own schema in the database at `url`: the same database, with the
/// project's schema as the connection's search path, so every query of the store finds
/// that project's tables and nothing else.
pub fn project_url(url: &str, key: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}options=-csearch_path%3D{}",
        project_schema(key)
    )
}

/// Creates a project's schema (if missing) in the database at `url`.
pub fn create_project_schema(url: &str, key: &str) -> Result<()> {
    let mut conn = connect(url)?;
    conn.client
        .batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            project_schema(key)
        ))
        .map_err(map_err)
}

/// `postgres://user:secret@host/db` -> `postgres://user@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_string(),
    }
}

/// Maps PostgreSQL failures to the error classes callers act on.
pub(crate) fn map_err(e: postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return match code {
            // lock_not_available, serialization_failure, deadlock_detected
            "55P03" | "40001" | "40P01" => Error::Unavailable {
                message: format!("the database stayed busy: {}", db.message()),
                hint: Some(
                    "another writer held the lock too long; retry, or raise BATON_LOCK_TIMEOUT"
                        .into(),
                ),
            },
            c if c.starts_with("08") || c.starts_with("53") || c.starts_with("57") => {
                Error::Unavailable {
                    message: format!("PostgreSQL is unavailable: {}", db.message()),
                    hint: Some("check the database server and retry".into()),
                }
            }
            _ => Error::Internal(format!("PostgreSQL error {code}: {}", db.message())),
        };
    }
    if e.is_closed() {
        return lost_connection(&e.to_string());
    }
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if io {
        return Error::Unavailable {
            message: format!("PostgreSQL connection failed: {e}"),
            hint: Some("check the database server and retry".into()),
        };
    }
    // A statement this crate got wrong (a parameter type, a column), not the database.
    Error::Internal(format!("PostgreSQL statement failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{redact, BEGIN_WRITE, WRITE_LOCK};

    #[test]
    fn every_write_takes_the_write_lock() {
        assert!(BEGIN_WRITE.ends_with(&format!("pg_advisory_xact_lock({WRITE_LOCK})")));
    }

    #[test]
    fn a_password_never_reaches_the_description() {
        assert_eq!(
            redact("postgres://baton:s3cret@db.internal:5432/team"),
            "postgres://baton@db.internal:5432/team"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact("postgres://localhost/x"), "postgres://localhost/x");
    }
}

#[doc(hidden)]
pub mod testing;
