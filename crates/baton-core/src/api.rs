//! The one API every surface talks to. `Board` implements it in process; an HTTP client
//! implements it against a server. Request types are plain data so they travel as JSON.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::{DocId, InitiativeId, MessageId, PhaseId, RunId, TaskId};
use crate::model::{
    AccountState, Agent, BoardSummary, Category, Doc, DocHit, DocSummary, DocVersion, Event,
    Heartbeat, LostTask, Message, PathCheck, Pickup, Priority, Project, Reservation,
    ReservationMode, Run, RunLogLine, Setting, Status, StatusCounts, Task,
};
use crate::store::EventQuery;

pub(crate) mod batch;
mod import;
mod knowledge;
mod merges;
mod operations;
mod plan;
mod runs;
mod webhooks;

pub use batch::{batch_from_value, parse_batch};
pub use import::{
    ImportReport, ImportedAgent, ImportedBoard, ImportedDoc, ImportedEvent, ImportedTask,
};
pub use knowledge::{
    AnswerRequest, AskRequest, DocFilter, DocPatch, DocSearch, InboxRequest, NewDoc,
};
pub use merges::{
    ErrandClaim, ErrandFinish, ErrandRequest, ErrandUpdate, Errands, MergeClaim, MergeFilter,
    MergeOutcome, MergeReport, Merges, NewErrand,
};
pub use operations::{
    Aggregation, Attribution, LogBatch, LogBatchReport, LogStats, NewLogEntry, NewSession,
    Operations, OperationsStats, PruneReport, PruneRequest, RunStats, SessionQuery, SessionStats,
    StopSession, TelemetryBatch, TelemetryLog, TelemetryPoint, TelemetryReport, MAX_LOG_BATCH,
};
pub use plan::{
    CommentBody, CommentFilter, ImportedComment, ImportedConversation, ImportedInitiative,
    ImportedPage, ImportedPhase, ImportedPlan, ImportedPlanTask, InitiativeFilter, InitiativeMove,
    InitiativePatch, NewComment, NewInitiative, NewPage, NewPhase, NewProposal, PhaseAction,
    PhaseMoveRequest, PhaseOutcome, PhasePatch, Plan, PlanImportReport, ProposalDecision,
    ProposalFilter,
};
pub use runs::{AccountUpdate, NewRun, RunEnd, RunFilter, RunUpdate};
pub use webhooks::{
    AttemptOutcome, CreatedWebhook, Delivery, DeliveryQuery, DeliveryStatus, DueDelivery,
    NewWebhook, RetryPolicy, Webhook, Webhooks,
};

/// The actor name used when a person acts without an agent identity.
pub const HUMAN: &str = "human";

/// A task to create. In a batch, `key` names it so others in the batch can depend on it;
/// `depends_on` takes task ids (`T-3`) or keys of the same batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub key: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    /// `open` (default, or `backlog` while dependencies are unmet) or `backlog` to park it.
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub epic: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub capabilities: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub depends_on: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub verify: Option<String>,
    #[serde(default, alias = "acceptance")]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub acceptance_criteria: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub context_refs: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub files: Vec<String>,
    /// The phase it belongs to (and so its initiative): handed out only when the phase's
    /// gate is open.
    #[serde(default)]
    pub phase: Option<PhaseId>,
    /// The initiative it belongs to, for a task outside any phase.
    #[serde(default)]
    pub initiative: Option<InitiativeId>,
    /// The task it was split from: a task id, or a key of the same batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub parent: Option<String>,
    /// Default `execute`.
    #[serde(default)]
    pub category: Option<Category>,
}

/// Fields to change. `None` leaves a field alone; an empty string clears an optional text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub description: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub epic: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub capabilities: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub depends_on: Option<Vec<TaskId>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub verify: Option<String>,
    #[serde(default, alias = "acceptance")]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub acceptance_criteria: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub context_refs: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub files: Option<Vec<String>>,
    #[serde(default)]
    pub category: Option<Category>,
    /// Replace the result summary.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub summary: Option<String>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        self == &TaskPatch::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskFilter {
    #[serde(default)]
    pub status: Vec<Status>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub epic: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub include_deleted: bool,
    /// `None` or `Some(0)` = all.
    #[serde(default)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub phase: Option<PhaseId>,
    #[serde(default)]
    pub initiative: Option<InitiativeId>,
    /// Tasks split from this one.
    #[serde(default)]
    pub parent: Option<TaskId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PickupRequest {
    /// Claim this task instead of the best ready one.
    #[serde(default)]
    pub id: Option<TaskId>,
    /// Only tasks that list this capability.
    #[serde(default)]
    pub capability: Option<String>,
    /// Report the better-ranked tasks that were passed over, and why.
    #[serde(default)]
    pub explain: bool,
    /// Only tasks of this category.
    #[serde(default)]
    pub category: Option<Category>,
    /// Only tasks of this initiative.
    #[serde(default)]
    pub initiative: Option<InitiativeId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeartbeatRequest {
    /// Check this claim's fence as well.
    #[serde(default)]
    pub task: Option<TaskId>,
    #[serde(default)]
    pub fence: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReserveRequest {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub globs: Vec<String>,
    #[serde(default = "exclusive")]
    pub mode: ReservationMode,
    /// How long it lasts without renewal (`30m`); default: the project's lease TTL.
    #[serde(default)]
    pub ttl: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub reason: Option<String>,
    #[serde(default)]
    pub task: Option<TaskId>,
}

fn exclusive() -> ReservationMode {
    ReservationMode::Exclusive
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// Release these globs (as they were reserved); empty with `all` releases everything
    /// but the surfaces of tasks the caller holds.
    #[serde(default)]
    pub globs: Vec<String>,
    #[serde(default)]
    pub all: bool,
    /// With `all`: the surfaces of held tasks go too (their files are then unguarded
    /// while the task is still in progress).
    #[serde(default)]
    pub with_task_surfaces: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReservationFilter {
    #[serde(default)]
    pub agent: Option<String>,
    /// Only reservations that cover this path.
    #[serde(default)]
    pub path: Option<String>,
}

/// A change to a file seen by the watcher.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FileChange {
    pub path: String,
    /// created, modified, removed, renamed.
    pub kind: String,
    /// For `renamed`: where it was (a move within the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The SHA-256 of its content (64 hex digits), when the watcher hashed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Other paths with the same content (`baton watch --report-duplicates`), at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
}

/// The guard's verdict on a set of paths about to be committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuardReport {
    pub checked: u64,
    /// Paths another agent holds a shared reservation on: allowed, reported.
    pub shared: Vec<PathCheck>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileChangeReport {
    pub path: String,
    pub kind: String,
    /// For a move: where it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Other paths with the same content.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// Who the change is attributed to: the editor when known, else the holder.
    pub actor: String,
    /// Reservations of other agents the change touched.
    pub violated: Vec<Reservation>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DoneRequest {
    #[serde(default)]
    pub notes: Option<String>,
    /// What was done, for the agents of the tasks that depend on this one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub summary: Option<String>,
    /// The fence of the caller's claim; a stale one is refused.
    #[serde(default)]
    pub fence: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub feedback: String,
    /// `open` (back to the queue) or `in-progress` (back to its holder). Default: back to the
    /// holder when there is one.
    #[serde(default)]
    pub to: Option<Status>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub reason: String,
    #[serde(default)]
    pub fence: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub text: String,
    #[serde(default)]
    pub fence: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteRequest {
    #[serde(default)]
    pub reason: Option<String>,
    /// Delete even while an agent holds the task.
    #[serde(default)]
    pub force: bool,
}

pub trait Api {
    /// The instance this board belongs to (users, tokens, projects): in process, the
    /// board's own store (used for the default project's); over HTTP, the server.
    fn instance(&self) -> &dyn crate::instance::Instance;
    /// Initiatives, phases, gates and review comments of this project.
    fn plan(&self) -> &dyn Plan;
    /// Merges of task, phase and initiative branches, and where a task's branch goes.
    fn merges(&self) -> &dyn Merges;
    /// Errands: one agent on a branch of its own, no task board around it.
    fn errands(&self) -> &dyn Errands;
    /// The operations record: attributed log entries.
    fn operations(&self) -> &dyn Operations;
    /// Webhooks: chosen events POSTed to a URL by the server.
    fn webhooks(&self) -> &dyn Webhooks;
    fn project(&self) -> Result<Project>;
    /// Whether a write could run now: a write transaction that changes nothing (readiness
    /// probes). Implementations without a store of their own have nothing to check.
    fn check_writable(&self) -> Result<()> {
        Ok(())
    }
    fn add_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>>;
    /// Checks a batch as `add_tasks` would (fields, keys, dependencies, cycles, phases,
    /// docs) and answers the tasks it would create, writing nothing.
    fn check_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>>;
    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>>;
    fn get_task(&self, id: TaskId) -> Result<Task>;
    fn update_task(&self, actor: &str, id: TaskId, patch: TaskPatch) -> Result<Task>;
    fn pickup(&self, agent: &str, request: &PickupRequest) -> Result<Pickup>;
    fn done(&self, agent: &str, id: TaskId, request: DoneRequest) -> Result<Task>;
    fn approve(&self, actor: &str, id: TaskId, notes: Option<String>) -> Result<Task>;
    fn reject(&self, actor: &str, id: TaskId, request: RejectRequest) -> Result<Task>;
    fn block(&self, actor: &str, id: TaskId, request: BlockRequest) -> Result<Task>;
    fn unblock(&self, actor: &str, id: TaskId) -> Result<Task>;
    fn note(&self, actor: &str, id: TaskId, request: NoteRequest) -> Result<Task>;
    fn delete(&self, actor: &str, id: TaskId, request: DeleteRequest) -> Result<Task>;
    fn mine(&self, agent: &str) -> Result<Vec<Task>>;
    /// The tasks taken from `agent` (an expired lease, a rejection, a person moving it, a
    /// block, a delete) that it has not been told of yet, by this call or a heartbeat.
    fn lost_tasks(&self, agent: &str) -> Result<Vec<LostTask>>;
    fn board(&self) -> Result<BoardSummary>;
    /// Live tasks by status (what `/metrics` shows): the counts of [`Api::board`] alone.
    fn status_counts(&self) -> Result<StatusCounts> {
        Ok(self.board()?.counts)
    }
    fn agents(&self) -> Result<Vec<Agent>>;
    fn events(&self, query: &EventQuery) -> Result<Vec<Event>>;

    fn settings(&self) -> Result<Vec<Setting>>;
    fn set_setting(&self, actor: &str, key: &str, value: &str) -> Result<Setting>;
    fn heartbeat(&self, agent: &str, request: &HeartbeatRequest) -> Result<Heartbeat>;
    fn reserve(&self, agent: &str, request: ReserveRequest) -> Result<Vec<Reservation>>;
    fn release(&self, agent: &str, request: ReleaseRequest) -> Result<Vec<Reservation>>;
    fn reservations(&self, filter: &ReservationFilter) -> Result<Vec<Reservation>>;
    fn check_paths(&self, paths: &[String]) -> Result<Vec<PathCheck>>;
    /// Refuses (`reservation_conflict`) when another agent holds an exclusive reservation on
    /// any of `paths`; `committer` is who commits (`None`: every agent is another).
    fn guard(&self, committer: Option<&str>, paths: &[String]) -> Result<GuardReport>;
    /// Records file changes (from the watcher); `editor` is who made them, when known.
    fn record_changes(
        &self,
        editor: Option<&str>,
        changes: &[FileChange],
    ) -> Result<Vec<FileChangeReport>>;

    /// Writes a doc (version 1). Tasks it names must exist.
    fn write_doc(&self, actor: &str, doc: NewDoc) -> Result<Doc>;
    fn get_doc(&self, id: DocId) -> Result<Doc>;
    /// Newest changes first.
    fn list_docs(&self, filter: &DocFilter) -> Result<Vec<DocSummary>>;
    /// A change keeps the previous version in the history.
    fn update_doc(&self, actor: &str, id: DocId, patch: DocPatch) -> Result<Doc>;
    /// Every version, oldest first.
    fn doc_history(&self, id: DocId) -> Result<Vec<DocVersion>>;
    /// Soft: the doc stays readable and in its history, out of listings and search.
    fn delete_doc(&self, actor: &str, id: DocId) -> Result<Doc>;
    /// Best match first.
    fn search_docs(&self, search: &DocSearch) -> Result<Vec<DocHit>>;

    fn ask(&self, actor: &str, request: AskRequest) -> Result<Message>;
    fn answer(&self, actor: &str, id: MessageId, request: AnswerRequest) -> Result<Message>;
    /// Messages for `actor`; see [`InboxRequest`] for which, and what counts as delivered.
    fn inbox(&self, actor: &str, request: &InboxRequest) -> Result<Vec<Message>>;
    /// The whole thread `id` belongs to, oldest first.
    fn thread(&self, id: MessageId) -> Result<Vec<Message>>;
    /// Every message on the board, whoever it is between: the newest `limit` (all when
    /// `None`), oldest first. Reading them delivers nothing.
    fn messages(&self, limit: Option<u64>) -> Result<Vec<Message>>;

    /// Brings another tool's board in (see [`ImportedBoard`]). Refused (`import_conflict`)
    /// when this board holds tasks that did not come from the same source.
    fn import_board(&self, actor: &str, board: ImportedBoard) -> Result<ImportReport>;

    /// Records a run before its process starts (`run.started`).
    fn start_run(&self, actor: &str, run: NewRun) -> Result<Run>;
    /// What a runner learned about a running run; refused (`run_ended`) once it ended. The
    /// answer carries `stop_requested`.
    fn update_run(&self, actor: &str, id: RunId, update: RunUpdate) -> Result<Run>;
    /// Ends a running run (`run.finished`); refused (`run_ended`) when it already ended.
    fn finish_run(&self, actor: &str, id: RunId, end: RunEnd) -> Result<Run>;
    fn get_run(&self, id: RunId) -> Result<Run>;
    fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>>;
    /// Asks a running run's runner to stop it (`run.stop_requested`).
    fn stop_run(&self, actor: &str, id: RunId) -> Result<Run>;
    /// Puts an ended run's task back to be run again, resuming its session where the
    /// provider can (`run.retry_requested`); the task must be blocked or open.
    fn retry_run(&self, actor: &str, id: RunId) -> Result<Task>;
    /// Appends output lines to a run's log (cut, and only the newest kept); returns the
    /// run's line count.
    fn append_run_log(&self, id: RunId, lines: Vec<String>) -> Result<u64>;
    /// A run's stored output after line `after`, at most `limit` lines.
    fn run_log(&self, id: RunId, after: u64, limit: u64) -> Result<Vec<RunLogLine>>;
    /// Records a provider account's state (its secrets stay with the runner).
    fn set_account(&self, actor: &str, update: AccountUpdate) -> Result<AccountState>;
    fn accounts(&self, provider: Option<&str>) -> Result<Vec<AccountState>>;
}
