//! What a storage backend provides. Rules stay in [`crate::board`]; a store only reads and
//! writes rows, inside one transaction per use-case.
//!
//! A write transaction must be exclusive for the rows it touches: SQLite takes the write lock
//! up front (`BEGIN IMMEDIATE`); PostgreSQL locks candidate rows (`FOR UPDATE SKIP LOCKED`).

use crate::error::{Error, Result};
use crate::id::{DocId, MessageId, TaskId};
use crate::model::{
    Claim, Doc, DocType, DocVersion, Event, Message, NewEvent, Note, Priority, Project,
    Reservation, ReservationMode, Status, StatusCounts, Task, TaskRecord,
};
use crate::time::Timestamp;

pub trait Store: Send + Sync {
    /// Runs `f` in a read transaction (one consistent snapshot).
    fn read<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T>;

    /// Runs `f` in a write transaction. Commits when `f` returns `Ok`, rolls back otherwise,
    /// so a refused request never leaves a half-written change.
    fn write<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T>;

    /// A pickup's common case in one step of the store's own, in its own write transaction
    /// (or the current group's): the best ready task claimed for `claim.agent`, with what
    /// [`crate::board::Board`] would do around it (expired leases applied and the caller's
    /// claims renewed first). Its outcome must be exactly the one core's rules give; when
    /// the store cannot promise that for this call it declines (`Ok(None)`, nothing written)
    /// and core runs the call. Declining is always correct: the default does.
    fn claim_next(&self, claim: &NextClaim<'_>) -> Result<Option<(TaskRecord, Claim)>> {
        let _ = claim;
        Ok(None)
    }
}

/// What [`Store::claim_next`] is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextClaim<'a> {
    pub agent: &'a str,
    pub capability: Option<&'a str>,
    pub now: Timestamp,
    /// Statuses that satisfy a dependency (as in [`ReadyQuery`]).
    pub satisfied: &'a [Status],
    /// The event's action (`task.picked_up`).
    pub action: &'static str,
}

/// Which tasks to list. Every field narrows the result; deleted tasks are left out unless
/// asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub ids: Option<Vec<TaskId>>,
    pub statuses: Vec<Status>,
    pub assignee: Option<String>,
    pub epic: Option<String>,
    pub priority: Option<Priority>,
    /// Case-insensitive substring of title or description.
    pub text: Option<String>,
    /// Tasks that depend on this one.
    pub dependents_of: Option<TaskId>,
    pub include_deleted: bool,
    /// `None` = all.
    pub limit: Option<u64>,
    pub phase: Option<crate::id::PhaseId>,
    pub initiative: Option<crate::id::InitiativeId>,
    pub parent: Option<TaskId>,
}

/// Open tasks that may be handed out, best first (priority, then oldest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyQuery {
    /// Statuses that satisfy a dependency (decided by core). A deleted dependency counts as
    /// met.
    pub satisfied: Vec<Status>,
    pub capability: Option<String>,
    /// Only tasks of this category (`execute`, ...).
    pub category: Option<crate::model::Category>,
    pub initiative: Option<crate::id::InitiativeId>,
    /// Only candidates ranked after this one (priority, id): the next page.
    pub after: Option<(Priority, TaskId)>,
    pub limit: u64,
}

/// A reservation about to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewReservation {
    pub agent: String,
    pub glob: String,
    /// The glob's literal directory prefix (see `Glob::prefix`), for candidate lookup.
    pub prefix: String,
    pub mode: ReservationMode,
    pub task: Option<TaskId>,
    pub reason: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub ttl_ms: u64,
}

/// Which live reservations to read. Fields narrow the result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReservationQuery {
    /// Only those still valid at this time.
    pub active_at: Option<Timestamp>,
    pub agent: Option<String>,
    /// Held by anyone but this agent.
    pub not_agent: Option<String>,
    pub task: Option<TaskId>,
    /// Only reservations taken by hand (`reserve`), not a task's surface taken by pickup.
    pub manual_only: bool,
    /// Only those whose prefix is one of these (the ancestors of a glob's prefix) or starts
    /// with `descendants_of`: the candidates that can overlap a glob.
    pub prefixes: Option<(Vec<String>, String)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    pub task: Option<TaskId>,
    pub actor: Option<String>,
    /// Exact action, or a prefix ending in `.` or `*` (`task.` matches every task event).
    pub action: Option<String>,
    pub since: Option<Timestamp>,
    /// Only events written in this session.
    pub session: Option<crate::id::SessionId>,
    /// Only events with a larger id (for following the log).
    pub after_id: Option<u64>,
    /// The newest `limit` events (still returned oldest first); with `after_id`, the oldest
    /// `limit` after it (the next page when following). `None` = all.
    pub limit: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRow {
    pub name: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// Which docs to read, newest change first. Deleted docs are left out unless asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocQuery {
    pub ids: Option<Vec<DocId>>,
    pub kind: Option<DocType>,
    /// Docs carrying this tag.
    pub tag: Option<String>,
    /// Docs linked to this task.
    pub task: Option<TaskId>,
    pub include_deleted: bool,
    /// Bodies are left empty unless asked for (listings do not need them).
    pub with_body: bool,
    pub limit: Option<u64>,
}

/// A full-text search. The store reads `text` as plain words (no query syntax), ranks by
/// relevance (title counts most, then tags, then body) and leaves deleted docs out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocSearchQuery {
    pub text: String,
    pub kind: Option<DocType>,
    pub limit: u64,
}

/// A doc that matched, its relevance (higher is better) and an excerpt with matches
/// marked `**like this**`.
#[derive(Clone, Debug, PartialEq)]
pub struct DocMatch {
    pub doc: Doc,
    pub score: f64,
    pub snippet: String,
}

/// A message about to be stored; the store assigns its id (and, for a question, makes it
/// the first of its own thread).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMessage {
    pub from: String,
    pub to: String,
    pub task: Option<TaskId>,
    pub body: String,
    pub reply_to: Option<MessageId>,
    pub thread: Option<MessageId>,
    pub created_at: Timestamp,
}

/// Which messages to read, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageQuery {
    /// Addressed to one of these.
    pub to: Vec<String>,
    /// Not sent by this one.
    pub not_from: Option<String>,
    pub thread: Option<MessageId>,
    pub reply_to: Option<MessageId>,
    /// Open questions and undelivered answers only (see `InboxRequest`).
    pub pending_only: bool,
    /// The newest `limit` (still returned oldest first).
    pub limit: Option<u64>,
}

pub trait StoreTx {
    fn project(&mut self) -> Result<Project>;
    fn setting(&mut self, key: &str) -> Result<Option<String>>;
    fn set_setting(&mut self, key: &str, value: &str) -> Result<()>;

    /// Reserves `count` consecutive task numbers and returns the first.
    fn allocate_task_ids(&mut self, count: u64) -> Result<TaskId>;
    /// Inserts a task with its dependencies and notes.
    fn insert_task(&mut self, task: &Task) -> Result<()>;
    /// Writes a task's own fields (not its dependencies or notes).
    fn update_task(&mut self, task: &Task) -> Result<()>;
    fn set_dependencies(&mut self, task: TaskId, deps: &[TaskId]) -> Result<()>;
    fn add_note(&mut self, task: TaskId, note: &Note) -> Result<()>;

    fn task(&mut self, id: TaskId) -> Result<Option<TaskRecord>>;
    fn tasks(&mut self, query: &TaskQuery) -> Result<Vec<TaskRecord>>;
    /// Ids that exist (deleted or not) among `ids`, with their deleted flag.
    fn existing(&mut self, ids: &[TaskId]) -> Result<Vec<(TaskId, bool)>>;
    fn dependencies_of(&mut self, task: TaskId) -> Result<Vec<TaskId>>;
    fn ready_candidates(&mut self, query: &ReadyQuery) -> Result<Vec<TaskRecord>>;
    fn count_ready(&mut self, satisfied: &[Status]) -> Result<u64>;
    /// Live tasks by status, from counts the store keeps as tasks change: the same on any
    /// board size.
    fn status_counts(&mut self) -> Result<StatusCounts>;
    /// How many tasks each agent holds in progress (agents holding none left out), from the
    /// same kept counts.
    fn holder_counts(&mut self) -> Result<Vec<(String, u64)>>;
    /// The tasks `agent` holds in progress, by lease end (soonest first), at most `limit`.
    fn held_by(&mut self, agent: &str, limit: Option<u64>) -> Result<Vec<TaskId>>;

    /// In-progress tasks whose lease ended before `now`.
    fn expired_leases(&mut self, now: Timestamp) -> Result<Vec<TaskRecord>>;
    /// Sets the lease of every task `agent` holds whose lease ends before `if_before` to end
    /// at `until`, and the reservations of those tasks likewise; returns the renewed tasks.
    fn renew_leases(
        &mut self,
        agent: &str,
        until: Timestamp,
        if_before: Timestamp,
    ) -> Result<Vec<Task>>;

    fn insert_reservation(&mut self, r: &NewReservation) -> Result<Reservation>;
    fn reservations(&mut self, query: &ReservationQuery) -> Result<Vec<Reservation>>;
    /// Deletes reservations by id; returns how many went.
    fn delete_reservations(&mut self, ids: &[u64]) -> Result<u64>;
    /// Extends `agent`'s reservations not bound to a task by their own TTL from `now`.
    fn renew_reservations(&mut self, agent: &str, now: Timestamp) -> Result<u64>;

    fn touch_agent(&mut self, name: &str, at: Timestamp) -> Result<()>;
    fn agents(&mut self) -> Result<Vec<AgentRow>>;

    fn append_event(&mut self, event: &NewEvent) -> Result<u64>;
    fn events(&mut self, query: &EventQuery) -> Result<Vec<Event>>;

    /// Inserts a doc's current row (its id is assigned) with its task links.
    fn insert_doc(&mut self, doc: &Doc) -> Result<DocId>;
    /// Writes a doc's current row and its task links.
    fn update_doc(&mut self, doc: &Doc) -> Result<()>;
    /// Appends one version to a doc's history.
    fn add_doc_version(&mut self, version: &DocVersion) -> Result<()>;
    fn doc(&mut self, id: DocId) -> Result<Option<Doc>>;
    fn docs(&mut self, query: &DocQuery) -> Result<Vec<Doc>>;
    fn doc_versions(&mut self, id: DocId) -> Result<Vec<DocVersion>>;
    fn search_docs(&mut self, query: &DocSearchQuery) -> Result<Vec<DocMatch>>;

    fn insert_message(&mut self, message: &NewMessage) -> Result<Message>;
    fn message(&mut self, id: MessageId) -> Result<Option<Message>>;
    fn messages(&mut self, query: &MessageQuery) -> Result<Vec<Message>>;
    /// Records the first answer to a message (later answers leave it as it is).
    fn mark_answered(&mut self, id: MessageId, by: &str, at: Timestamp) -> Result<()>;
    fn mark_read(&mut self, ids: &[MessageId], at: Timestamp) -> Result<()>;

    /// Every task row, deleted ones included.
    fn task_count(&mut self) -> Result<u64>;
    /// Makes the next allocated task number larger than `id`.
    fn reserve_task_ids_through(&mut self, id: TaskId) -> Result<()>;
    /// Inserts an agent unless one of that name exists; returns whether it was added.
    fn insert_agent(&mut self, agent: &AgentRow) -> Result<bool>;
    /// The local ids of items imported from `source`, by `kind` (`task`, `doc`, `event`):
    /// `(key in the source, local id)`.
    fn import_keys(&mut self, source: &str, kind: &str) -> Result<Vec<(String, u64)>>;
    fn record_import_key(&mut self, source: &str, kind: &str, key: &str, local: u64) -> Result<()>;

    /// The transaction as a place for plain queries written once for both stores
    /// ([`crate::sql`]): runs, run logs and accounts use it.
    fn sql(&mut self) -> &mut dyn crate::sql::Sql;
}

/// One table's rows as stored, for copying a whole project between stores
/// (`baton migrate`): the same columns and values on both sides, nothing interpreted.
#[derive(Clone, Debug, PartialEq)]
pub struct TableRows {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<RawValue>>,
    /// Where each row came from (`line 12` of a file), for errors about it; empty when the
    /// rows come from a store.
    pub sources: Vec<String>,
}

impl TableRows {
    /// Row `index` as an error names it: where it came from, else its place in the table.
    pub fn origin(&self, index: usize) -> String {
        self.sources
            .get(index)
            .cloned()
            .unwrap_or_else(|| format!("{} row {}", self.table, index + 1))
    }

    /// The target refused row `index` for what it holds (a duplicate id, a missing parent,
    /// a value of the wrong type): the input's fault, not the store's.
    pub fn refused(&self, index: usize, why: impl std::fmt::Display) -> Error {
        Error::invalid_with_hint(
            format!(
                "{}: the {} row was refused: {why}",
                self.origin(index),
                self.table
            ),
            "the rows must be a whole Baton project as exported, unchanged; nothing was written",
        )
    }
}

/// A stored value: both stores keep every column as an integer or text.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    Null,
    Integer(i64),
    Text(String),
}
