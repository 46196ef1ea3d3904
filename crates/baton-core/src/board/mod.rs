//! `Board<S>`: the use-cases of the task board, run in process over a [`Store`].
//!
//! Each mutation is one write transaction that changes the rows and appends its events.

mod claims;
mod edit;
mod resolve;
mod validate;
mod views;

use std::time::Duration;

use crate::api::{
    Api, BlockRequest, DeleteRequest, DoneRequest, NewTask, NoteRequest, PickupRequest,
    RejectRequest, TaskFilter, TaskPatch,
};
use crate::error::{Error, Result};
use crate::id::TaskId;
use crate::model::{Agent, BoardSummary, Event, NewEvent, Pickup, Project, Task, TaskRecord};
use crate::store::{EventQuery, Store, StoreTx};
use crate::time::{parse_duration, Timestamp};

pub use validate::validate_agent_name;

/// Project settings and their defaults.
pub mod settings {
    pub const LEASE_TTL: &str = "lease_ttl";
    pub const LEASE_TTL_DEFAULT: &str = "30m";
    pub const MAX_RETRIES: &str = "max_retries";
    pub const MAX_RETRIES_DEFAULT: &str = "3";
}

pub struct Board<S> {
    store: S,
}

impl<S: Store> Board<S> {
    pub fn new(store: S) -> Self {
        Board { store }
    }

    pub fn store(&self) -> &S {
        &self.store
    }
}

/// Turns a stored record into the task every surface shows (derives `deps_met`).
pub(crate) fn finish(record: TaskRecord) -> Task {
    let mut task = record.task;
    task.deps_met = resolve::deps_met(&record.deps);
    task
}

pub(crate) fn load(tx: &mut dyn StoreTx, id: TaskId) -> Result<TaskRecord> {
    tx.task(id)?.ok_or(Error::TaskNotFound(id))
}

/// Loads a task that a mutation may touch: it exists and is not deleted.
pub(crate) fn load_live(tx: &mut dyn StoreTx, id: TaskId) -> Result<TaskRecord> {
    let record = load(tx, id)?;
    if let Some(at) = record.task.deleted_at {
        return Err(Error::Conflict {
            code: "task_deleted",
            message: format!("task {id} was deleted at {at}"),
            hint: Some("deleted tasks are kept for the record but cannot change".into()),
        });
    }
    Ok(record)
}

pub(crate) fn event(
    tx: &mut dyn StoreTx,
    at: Timestamp,
    actor: &str,
    action: &'static str,
    task: Option<TaskId>,
    detail: serde_json::Value,
) -> Result<u64> {
    tx.append_event(&NewEvent {
        at,
        actor: actor.to_string(),
        action,
        task,
        detail,
    })
}

/// Records that `actor` was seen, unless it is the anonymous human.
pub(crate) fn touch(tx: &mut dyn StoreTx, actor: &str, at: Timestamp) -> Result<()> {
    if actor != crate::api::HUMAN {
        tx.touch_agent(actor, at)?;
    }
    Ok(())
}

pub(crate) fn lease_ttl(tx: &mut dyn StoreTx) -> Result<Duration> {
    let raw = tx
        .setting(settings::LEASE_TTL)?
        .unwrap_or_else(|| settings::LEASE_TTL_DEFAULT.to_string());
    parse_duration(&raw).ok_or_else(|| Error::Internal(format!("bad lease_ttl setting '{raw}'")))
}

impl<S: Store> Api for Board<S> {
    fn project(&self) -> Result<Project> {
        self.store.read(|tx| tx.project())
    }

    fn add_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>> {
        validate::actor(actor)?;
        let prepared = validate::new_tasks(tasks)?;
        self.store
            .write(|tx| edit::add_tasks(tx, actor, prepared, Timestamp::now()))
    }

    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let query = views::task_query(filter)?;
        self.store
            .read(|tx| Ok(tx.tasks(&query)?.into_iter().map(finish).collect()))
    }

    fn get_task(&self, id: TaskId) -> Result<Task> {
        self.store.read(|tx| load(tx, id).map(finish))
    }

    fn update_task(&self, actor: &str, id: TaskId, patch: TaskPatch) -> Result<Task> {
        validate::actor(actor)?;
        validate::patch(&patch)?;
        self.store
            .write(|tx| edit::update_task(tx, actor, id, patch, Timestamp::now()))
    }

    fn pickup(&self, agent: &str, request: &PickupRequest) -> Result<Pickup> {
        validate_agent_name(agent)?;
        self.store
            .write(|tx| claims::pickup(tx, agent, request, Timestamp::now()))
    }

    fn done(&self, agent: &str, id: TaskId, request: DoneRequest) -> Result<Task> {
        validate_agent_name(agent)?;
        if let Some(notes) = &request.notes {
            validate::note_text(notes)?;
        }
        self.store
            .write(|tx| claims::done(tx, agent, id, request, Timestamp::now()))
    }

    fn approve(&self, actor: &str, id: TaskId, notes: Option<String>) -> Result<Task> {
        validate::actor(actor)?;
        if let Some(notes) = &notes {
            validate::note_text(notes)?;
        }
        self.store
            .write(|tx| claims::approve(tx, actor, id, notes, Timestamp::now()))
    }

    fn reject(&self, actor: &str, id: TaskId, request: RejectRequest) -> Result<Task> {
        validate::actor(actor)?;
        validate::required_text("feedback", &request.feedback)?;
        self.store
            .write(|tx| claims::reject(tx, actor, id, request, Timestamp::now()))
    }

    fn block(&self, actor: &str, id: TaskId, request: BlockRequest) -> Result<Task> {
        validate::actor(actor)?;
        validate::required_text("reason", &request.reason)?;
        self.store
            .write(|tx| claims::block(tx, actor, id, request, Timestamp::now()))
    }

    fn unblock(&self, actor: &str, id: TaskId) -> Result<Task> {
        validate::actor(actor)?;
        self.store
            .write(|tx| claims::unblock(tx, actor, id, Timestamp::now()))
    }

    fn note(&self, actor: &str, id: TaskId, request: NoteRequest) -> Result<Task> {
        validate::actor(actor)?;
        validate::required_text("note", &request.text)?;
        self.store
            .write(|tx| edit::note(tx, actor, id, request, Timestamp::now()))
    }

    fn delete(&self, actor: &str, id: TaskId, request: DeleteRequest) -> Result<Task> {
        validate::actor(actor)?;
        self.store
            .write(|tx| edit::delete(tx, actor, id, request, Timestamp::now()))
    }

    fn mine(&self, agent: &str) -> Result<Vec<Task>> {
        validate_agent_name(agent)?;
        self.store
            .write(|tx| views::mine(tx, agent, Timestamp::now()))
    }

    fn board(&self) -> Result<BoardSummary> {
        self.store.read(|tx| views::board(tx, Timestamp::now()))
    }

    fn agents(&self) -> Result<Vec<Agent>> {
        self.store.read(views::agents)
    }

    fn events(&self, query: &EventQuery) -> Result<Vec<Event>> {
        self.store.read(|tx| tx.events(query))
    }
}
