//! What a storage backend provides. Rules stay in [`crate::board`]; a store only reads and
//! writes rows, inside one transaction per use-case.
//!
//! A write transaction must be exclusive for the rows it touches: SQLite takes the write lock
//! up front (`BEGIN IMMEDIATE`); PostgreSQL locks candidate rows (`FOR UPDATE SKIP LOCKED`).

use crate::error::Result;
use crate::id::TaskId;
use crate::model::{
    Event, NewEvent, Note, Priority, Project, Reservation, ReservationMode, Status, StatusCounts,
    Task, TaskRecord,
};
use crate::time::Timestamp;

pub trait Store: Send + Sync {
    /// Runs `f` in a read transaction (one consistent snapshot).
    fn read<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T>;

    /// Runs `f` in a write transaction. Commits when `f` returns `Ok`, rolls back otherwise,
    /// so a refused request never leaves a half-written change.
    fn write<T>(&self, f: impl FnOnce(&mut dyn StoreTx) -> Result<T>) -> Result<T>;
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
}

/// Open tasks that may be handed out, best first (priority, then oldest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyQuery {
    /// Statuses that satisfy a dependency (decided by core). A deleted dependency counts as
    /// met.
    pub satisfied: Vec<Status>,
    pub capability: Option<String>,
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
    fn status_counts(&mut self) -> Result<StatusCounts>;

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
}
