//! `Board<S>`: the use-cases of the task board, the knowledge base and messages, run in
//! process over a [`Store`].
//!
//! Each mutation is one write transaction that first applies expired leases, renews the
//! caller's own claims, changes the rows and appends its events. Reads apply expired leases
//! too, so expiry works with no server running.

mod claims;
pub mod docs;
mod edit;
pub mod errands;
mod import;
pub mod instance;
pub mod leases;
pub mod losses;
pub mod merges;
mod messages;
pub mod operations;
pub mod plan;
mod plan_import;
mod proposals;
mod reservations;
mod resolve;
pub mod retention;
pub mod runs;
pub mod sessions;
pub mod telemetry;
mod validate;
mod views;
pub mod webhooks;

use crate::api::{
    AccountUpdate, AnswerRequest, Api, AskRequest, BlockRequest, DeleteRequest, DocFilter,
    DocPatch, DocSearch, DoneRequest, FileChange, FileChangeReport, GuardReport, HeartbeatRequest,
    ImportReport, ImportedBoard, InboxRequest, NewDoc, NewRun, NewTask, NoteRequest, PickupRequest,
    RejectRequest, ReleaseRequest, ReservationFilter, ReserveRequest, RunEnd, RunFilter, RunUpdate,
    TaskFilter, TaskPatch,
};
use crate::error::{Error, Result};
use crate::id::{DocId, MessageId, RunId, TaskId};
use crate::model::{
    AccountState, Agent, BoardSummary, Doc, DocHit, DocSummary, DocVersion, Event, Heartbeat,
    LostTask, Message, NewEvent, PathCheck, Pickup, Project, Reservation, Run, RunLogLine, Setting,
    StatusCounts, Task, TaskRecord,
};
use crate::store::{EventQuery, Store, StoreTx};
use crate::time::Timestamp;

/// What a dry run's transaction fails with so that the store rolls it back.
const DRY_RUN: &str = "dry run: rolled back";

pub use leases::SYSTEM;
pub use validate::{actor as validate_actor, validate_agent_name, AGENT_NAME_PATTERN};

/// Where the board reads the time: the system clock, or a test's.
pub type Clock = std::sync::Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub struct Board<S> {
    store: S,
    clock: Clock,
}

impl<S: Store> Board<S> {
    pub fn new(store: S) -> Self {
        Board {
            store,
            clock: std::sync::Arc::new(Timestamp::now),
        }
    }

    /// A board whose notion of "now" comes from `clock` (tests move time forward).
    pub fn with_clock(store: S, clock: Clock) -> Self {
        Board { store, clock }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// A mutation: expired leases first, then the actor's own claims are renewed.
    fn write<T>(
        &self,
        actor: &str,
        f: impl FnOnce(&mut dyn StoreTx, Timestamp) -> Result<T>,
    ) -> Result<T> {
        let now = (self.clock)();
        self.store.write(|tx| {
            leases::reap(tx, now)?;
            if actor != crate::api::HUMAN {
                leases::renew(tx, actor, now)?;
            }
            f(tx, now)
        })
    }

    /// A read that sees expired leases applied. The check shares the read's transaction
    /// (a cheap indexed lookup); only when a lease did expire does it reap and read again.
    fn read<T>(&self, f: impl Fn(&mut dyn StoreTx, Timestamp) -> Result<T>) -> Result<T> {
        let now = (self.clock)();
        let first = self.store.read(|tx| {
            if !tx.expired_leases(now)?.is_empty() {
                return Ok(None);
            }
            f(tx, now).map(Some)
        })?;
        if let Some(value) = first {
            return Ok(value);
        }
        self.store.write(|tx| leases::reap(tx, now))?;
        self.store.read(|tx| f(tx, now))
    }
}

/// Turns a stored record into the task every surface shows (derives `deps_met`).
pub(crate) fn finish(record: TaskRecord) -> Task {
    let mut task = record.task;
    task.deps_met = resolve::deps_met(&record.deps);
    task.waiting_on = record
        .deps
        .iter()
        .filter(|d| !resolve::dep_met(d))
        .map(|d| d.id)
        .collect();
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
    let session = sessions::open_for(tx.sql(), actor)?;
    tx.append_event(&NewEvent {
        at,
        actor: actor.to_string(),
        action: action.into(),
        task,
        detail,
        session,
    })
}

/// After a task's status may have changed: its phase moves on if it should.
fn planned(tx: &mut dyn StoreTx, actor: &str, now: Timestamp, task: Task) -> Result<Task> {
    plan::task_changed(tx, &task, actor, now)?;
    Ok(task)
}

/// Records that `actor` was seen, unless it is the anonymous human.
pub(crate) fn touch(tx: &mut dyn StoreTx, actor: &str, at: Timestamp) -> Result<()> {
    if actor != crate::api::HUMAN {
        tx.touch_agent(actor, at)?;
    }
    Ok(())
}

impl<S: Store> Api for Board<S> {
    fn instance(&self) -> &dyn crate::instance::Instance {
        self
    }

    fn plan(&self) -> &dyn crate::api::Plan {
        self
    }

    fn merges(&self) -> &dyn crate::api::Merges {
        self
    }

    fn errands(&self) -> &dyn crate::api::Errands {
        self
    }

    fn operations(&self) -> &dyn crate::api::Operations {
        self
    }

    fn webhooks(&self) -> &dyn crate::api::Webhooks {
        self
    }

    fn project(&self) -> Result<Project> {
        self.store.read(|tx| tx.project())
    }

    fn check_writable(&self) -> Result<()> {
        self.store.write(|_| Ok(()))
    }

    fn add_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>> {
        validate::actor(actor)?;
        let prepared = validate::new_tasks(tasks)?;
        self.write(actor, |tx, now| edit::add_tasks(tx, actor, prepared, now))
    }

    fn check_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>> {
        validate::actor(actor)?;
        let prepared = validate::new_tasks(tasks)?;
        // The same write as add_tasks, rolled back: the ids are the ones it would get now.
        let mut checked = None;
        let outcome = self.store.write(|tx| {
            checked = Some(edit::add_tasks(tx, actor, prepared, (self.clock)())?);
            Err::<(), _>(Error::Internal(DRY_RUN.into()))
        });
        match (outcome, checked) {
            (Err(Error::Internal(m)), Some(tasks)) if m == DRY_RUN => Ok(tasks),
            (Err(e), _) => Err(e),
            (Ok(()), _) => Err(Error::Internal("a dry run was committed".into())),
        }
    }

    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let query = views::task_query(filter)?;
        self.read(|tx, _| Ok(tx.tasks(&query)?.into_iter().map(finish).collect()))
    }

    fn get_task(&self, id: TaskId) -> Result<Task> {
        self.read(|tx, _| load(tx, id).map(finish))
    }

    fn update_task(&self, actor: &str, id: TaskId, patch: TaskPatch) -> Result<Task> {
        validate::actor(actor)?;
        let patch = validate::patch(patch)?;
        self.write(actor, |tx, now| {
            let task = edit::update_task(tx, actor, id, patch, now)?;
            planned(tx, actor, now, task)
        })
    }

    fn pickup(&self, agent: &str, request: &PickupRequest) -> Result<Pickup> {
        validate_agent_name(agent)?;
        if let Some(mut pickup) = claims::shortcut(&self.store, agent, request, (self.clock)())? {
            if !pickup.task.depends_on.is_empty() {
                pickup.context = self
                    .store
                    .read(|tx| plan::dependency_summaries(tx, &pickup.task))?;
            }
            return Ok(pickup);
        }
        self.write(agent, |tx, now| claims::pickup(tx, agent, request, now))
    }

    fn done(&self, agent: &str, id: TaskId, request: DoneRequest) -> Result<Task> {
        validate_agent_name(agent)?;
        if let Some(notes) = &request.notes {
            validate::note_text(notes)?;
        }
        self.write(agent, |tx, now| {
            let task = claims::done(tx, agent, id, request, now)?;
            planned(tx, agent, now, task)
        })
    }

    fn approve(&self, actor: &str, id: TaskId, notes: Option<String>) -> Result<Task> {
        validate::actor(actor)?;
        if let Some(notes) = &notes {
            validate::note_text(notes)?;
        }
        self.write(actor, |tx, now| {
            let task = claims::approve(tx, actor, id, notes, now)?;
            planned(tx, actor, now, task)
        })
    }

    fn reject(&self, actor: &str, id: TaskId, request: RejectRequest) -> Result<Task> {
        validate::actor(actor)?;
        validate::required_text("feedback", &request.feedback)?;
        self.write(actor, |tx, now| {
            let task = claims::reject(tx, actor, id, request, now)?;
            planned(tx, actor, now, task)
        })
    }

    fn block(&self, actor: &str, id: TaskId, request: BlockRequest) -> Result<Task> {
        validate::actor(actor)?;
        validate::required_text("reason", &request.reason)?;
        self.write(actor, |tx, now| {
            let task = claims::block(tx, actor, id, request, now)?;
            planned(tx, actor, now, task)
        })
    }

    fn unblock(&self, actor: &str, id: TaskId) -> Result<Task> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            let task = claims::unblock(tx, actor, id, now)?;
            planned(tx, actor, now, task)
        })
    }

    fn note(&self, actor: &str, id: TaskId, request: NoteRequest) -> Result<Task> {
        validate::actor(actor)?;
        validate::required_text("note", &request.text)?;
        self.write(actor, |tx, now| edit::note(tx, actor, id, request, now))
    }

    fn delete(&self, actor: &str, id: TaskId, request: DeleteRequest) -> Result<Task> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            let task = edit::delete(tx, actor, id, request, now)?;
            planned(tx, actor, now, task)
        })
    }

    fn mine(&self, agent: &str) -> Result<Vec<Task>> {
        validate_agent_name(agent)?;
        self.write(agent, |tx, now| views::mine(tx, agent, now))
    }

    fn lost_tasks(&self, agent: &str) -> Result<Vec<LostTask>> {
        validate_agent_name(agent)?;
        self.write(agent, |tx, now| losses::take_unreported(tx, agent, now))
    }

    fn board(&self) -> Result<BoardSummary> {
        self.read(views::board)
    }

    fn status_counts(&self) -> Result<StatusCounts> {
        self.read(|tx, _| tx.status_counts())
    }

    fn agents(&self) -> Result<Vec<Agent>> {
        self.read(views::agents)
    }

    fn events(&self, query: &EventQuery) -> Result<Vec<Event>> {
        self.store.read(|tx| tx.events(query))
    }

    fn settings(&self) -> Result<Vec<Setting>> {
        self.store.read(leases::settings)
    }

    fn set_setting(&self, actor: &str, key: &str, value: &str) -> Result<Setting> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            leases::set_setting(tx, actor, key, value, now)
        })
    }

    fn heartbeat(&self, agent: &str, request: &HeartbeatRequest) -> Result<Heartbeat> {
        validate_agent_name(agent)?;
        let now = (self.clock)();
        // No blanket renewal first: a stale fence must be refused before anything renews.
        self.store.write(|tx| {
            leases::reap(tx, now)?;
            touch(tx, agent, now)?;
            leases::heartbeat(tx, agent, request, now)
        })
    }

    fn reserve(&self, agent: &str, request: ReserveRequest) -> Result<Vec<Reservation>> {
        validate_agent_name(agent)?;
        self.write(agent, |tx, now| {
            touch(tx, agent, now)?;
            reservations::reserve(tx, agent, request, now)
        })
    }

    fn release(&self, agent: &str, request: ReleaseRequest) -> Result<Vec<Reservation>> {
        validate_agent_name(agent)?;
        self.write(agent, |tx, now| {
            reservations::release(tx, agent, request, now)
        })
    }

    fn reservations(&self, filter: &ReservationFilter) -> Result<Vec<Reservation>> {
        self.read(|tx, now| reservations::list(tx, filter, now))
    }

    fn check_paths(&self, paths: &[String]) -> Result<Vec<PathCheck>> {
        if paths.is_empty() {
            return Err(Error::invalid("give at least one path to check"));
        }
        self.read(|tx, now| reservations::check(tx, paths, now))
    }

    fn guard(&self, committer: Option<&str>, paths: &[String]) -> Result<GuardReport> {
        if paths.is_empty() {
            return Ok(GuardReport {
                checked: 0,
                shared: Vec::new(),
            });
        }
        self.read(|tx, now| reservations::guard(tx, committer, paths, now))
    }

    fn record_changes(
        &self,
        editor: Option<&str>,
        changes: &[FileChange],
    ) -> Result<Vec<FileChangeReport>> {
        if let Some(e) = editor {
            validate_agent_name(e)?;
        }
        let now = (self.clock)();
        self.store.write(|tx| {
            leases::reap(tx, now)?;
            reservations::record_changes(tx, editor, changes, now)
        })
    }

    fn write_doc(&self, actor: &str, doc: NewDoc) -> Result<Doc> {
        validate::actor(actor)?;
        let doc = docs::check_new(doc)?;
        self.write(actor, |tx, now| docs::write(tx, actor, doc, now))
    }

    fn get_doc(&self, id: DocId) -> Result<Doc> {
        self.store.read(|tx| docs::get(tx, id))
    }

    fn list_docs(&self, filter: &DocFilter) -> Result<Vec<DocSummary>> {
        self.store.read(|tx| docs::list(tx, filter))
    }

    fn update_doc(&self, actor: &str, id: DocId, patch: DocPatch) -> Result<Doc> {
        validate::actor(actor)?;
        let patch = docs::check_patch(patch)?;
        self.write(actor, |tx, now| docs::update(tx, actor, id, patch, now))
    }

    fn doc_history(&self, id: DocId) -> Result<Vec<DocVersion>> {
        self.store.read(|tx| docs::history(tx, id))
    }

    fn delete_doc(&self, actor: &str, id: DocId) -> Result<Doc> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| docs::delete(tx, actor, id, now))
    }

    fn search_docs(&self, search: &DocSearch) -> Result<Vec<DocHit>> {
        let query = docs::search_query(search)?;
        self.store.read(|tx| docs::search(tx, &query))
    }

    fn ask(&self, actor: &str, request: AskRequest) -> Result<Message> {
        validate::actor(actor)?;
        messages::check_body("question", &request.body)?;
        self.write(actor, |tx, now| messages::ask(tx, actor, request, now))
    }

    fn answer(&self, actor: &str, id: MessageId, request: AnswerRequest) -> Result<Message> {
        validate::actor(actor)?;
        messages::check_body("answer", &request.body)?;
        self.write(actor, |tx, now| {
            messages::answer(tx, actor, id, request, now)
        })
    }

    fn inbox(&self, actor: &str, request: &InboxRequest) -> Result<Vec<Message>> {
        validate::actor(actor)?;
        let query = messages::inbox_query(actor, request);
        let mut found = self.store.read(|tx| tx.messages(&query))?;
        // Only a delivery writes, so an empty inbox is a plain read.
        let delivered = messages::undelivered(actor, request, &found);
        if !delivered.is_empty() {
            let now = (self.clock)();
            self.store.write(|tx| tx.mark_read(&delivered, now))?;
            for m in found.iter_mut().filter(|m| delivered.contains(&m.id)) {
                m.read_at = Some(now);
            }
        }
        Ok(found)
    }

    fn thread(&self, id: MessageId) -> Result<Vec<Message>> {
        self.store.read(|tx| messages::thread(tx, id))
    }

    fn messages(&self, limit: Option<u64>) -> Result<Vec<Message>> {
        let query = crate::store::MessageQuery {
            limit: limit.filter(|l| *l > 0),
            ..Default::default()
        };
        self.store.read(|tx| tx.messages(&query))
    }

    fn import_board(&self, actor: &str, board: ImportedBoard) -> Result<ImportReport> {
        validate::actor(actor)?;
        import::check(&board)?;
        self.write(actor, |tx, now| import::import(tx, actor, board, now))
    }

    fn start_run(&self, actor: &str, run: NewRun) -> Result<Run> {
        self.write(actor, |tx, now| runs::start(tx, actor, run, now))
    }

    fn update_run(&self, actor: &str, id: RunId, update: RunUpdate) -> Result<Run> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| runs::update(tx, actor, id, update, now))
    }

    fn finish_run(&self, actor: &str, id: RunId, end: RunEnd) -> Result<Run> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| runs::finish(tx, actor, id, end, now))
    }

    fn get_run(&self, id: RunId) -> Result<Run> {
        self.store.read(|tx| runs::load_run(tx.sql(), id))
    }

    fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        self.store.read(|tx| runs::list(tx.sql(), filter))
    }

    fn stop_run(&self, actor: &str, id: RunId) -> Result<Run> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| runs::stop(tx, actor, id, now))
    }

    fn retry_run(&self, actor: &str, id: RunId) -> Result<Task> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| runs::retry(tx, actor, id, now))
    }

    fn append_run_log(&self, id: RunId, lines: Vec<String>) -> Result<u64> {
        let now = (self.clock)();
        self.store.write(|tx| runs::append_log(tx, id, lines, now))
    }

    fn run_log(&self, id: RunId, after: u64, limit: u64) -> Result<Vec<RunLogLine>> {
        self.store.read(|tx| runs::log(tx.sql(), id, after, limit))
    }

    fn set_account(&self, actor: &str, update: AccountUpdate) -> Result<AccountState> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| runs::set_account(tx, actor, update, now))
    }

    fn accounts(&self, provider: Option<&str>) -> Result<Vec<AccountState>> {
        self.store.read(|tx| runs::accounts(tx.sql(), provider))
    }
}
