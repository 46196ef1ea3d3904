//! The board's nouns: tasks, their statuses and priorities, notes, agents, events; docs and
//! messages (in `docs`, `messages`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id::{InitiativeId, PhaseId, TaskId};
use crate::time::Timestamp;

mod docs;
mod messages;
mod plan;
mod runs;
mod sessions;

pub use docs::{Doc, DocHit, DocSummary, DocType, DocVersion};
pub use messages::{Message, ANYONE};
pub use plan::{
    ActorKind, BranchPlan, BranchStart, Category, DepSummary, Diff, DiffFile, DiffHunk, DiffLine,
    Errand, ErrandAsk, ErrandStatus, Initiative, InitiativeStatus, LineSide, LogLevel, Merge,
    MergeKind, MergeState, MergeStrategy, Page, Phase, PhaseCounts, PhaseStatus, Proposal,
    ProposalStatus, ProposalTarget, ReviewComment, TaskCounts,
};
pub use runs::{AccountState, AccountStatus, Run, RunLogLine, RunStatus, RunUsage};
pub use sessions::{Session, SessionInfo, TelemetrySeries};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Backlog,
    Open,
    InProgress,
    Review,
    Done,
    Blocked,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Backlog,
        Status::Open,
        Status::InProgress,
        Status::Review,
        Status::Done,
        Status::Blocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Backlog => "backlog",
            Status::Open => "open",
            Status::InProgress => "in-progress",
            Status::Review => "review",
            Status::Done => "done",
            Status::Blocked => "blocked",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| {
                format!("'{s}' is not a status (backlog, open, in-progress, review, done, blocked)")
            })
    }
}

/// P0 is the most urgent. Ordering follows urgency: `P0 < P1 < P2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    P0,
    #[default]
    P1,
    P2,
}

impl Priority {
    pub fn rank(self) -> u8 {
        self as u8
    }

    pub fn from_rank(rank: u8) -> Option<Priority> {
        [Priority::P0, Priority::P1, Priority::P2]
            .get(rank as usize)
            .copied()
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.rank())
    }
}

impl FromStr for Priority {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t.strip_prefix(['P', 'p']).unwrap_or(t);
        digits
            .parse::<u8>()
            .ok()
            .and_then(Priority::from_rank)
            .ok_or_else(|| format!("'{s}' is not a priority (P0, P1 or P2)"))
    }
}

/// Input is read through `FromStr`, so JSON accepts the same loose spellings as the CLI
/// (`"in_progress"`, `"p0"`, and for priorities also a bare number).
macro_rules! deserialize_via_from_str {
    ($ty:ty) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Text(String),
                    Number(u64),
                }
                let text = match Raw::deserialize(d)? {
                    Raw::Text(s) => s,
                    Raw::Number(n) => n.to_string(),
                };
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
deserialize_via_from_str!(Status);
deserialize_via_from_str!(Priority);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    pub author: String,
    pub at: Timestamp,
    pub text: String,
}

/// A task as every surface shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub blocked_reason: Option<String>,
    pub priority: Priority,
    pub assignee: Option<String>,
    pub epic: Option<String>,
    pub capabilities: Vec<String>,
    pub depends_on: Vec<TaskId>,
    /// Every dependency is in review or done (derived, never stored).
    pub deps_met: bool,
    /// The dependencies not yet met, which a task in backlog waits for (derived, never
    /// stored; absent from older servers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting_on: Vec<TaskId>,
    pub verify: Option<String>,
    pub acceptance_criteria: Vec<String>,
    pub context_refs: Vec<String>,
    pub files: Vec<String>,
    pub notes: Vec<Note>,
    pub retry_count: u32,
    /// Grows on every claim; a write carrying an older fence is refused.
    pub fence: u64,
    pub lease_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
    /// The initiative it belongs to (its phase's, or its own when it has no phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiative: Option<InitiativeId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PhaseId>,
    /// The task it was split from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<TaskId>,
    #[serde(default)]
    pub category: Category,
    /// What the agent that finished it says it did: handed to the tasks that depend on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Its phase's gate is closed, so it is not handed out yet (computed by core from the
    /// phase, kept with the task for the ready queue).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gated: bool,
}

/// The state of one dependency, as a store reports it alongside a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepState {
    pub id: TaskId,
    pub status: Status,
    pub deleted: bool,
}

/// A task as the store holds it: the task and the state of what it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRecord {
    pub task: Task,
    pub deps: Vec<DepState>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Claim {
    pub fence: u64,
    pub lease_expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pickup {
    pub task: Task,
    pub claim: Claim,
    /// With `explain`: better-ranked tasks that were passed over, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
    /// What the tasks it depends on left for it: their result summaries (bounded; the whole
    /// text is on each task).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<DepSummary>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    pub name: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    /// Tasks this agent holds (in progress), by id. In the board summary only the first
    /// [`BOARD_LIST_LIMIT`] of them, those whose leases end soonest; `holding_total` counts
    /// them all.
    pub holding: Vec<TaskId>,
    /// How many tasks this agent holds in all (absent from older servers: 0).
    #[serde(default)]
    pub holding_total: u64,
    /// When the soonest of its leases ends, if it holds any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<Timestamp>,
    /// Whether it is working, idle or has gone quiet, by the lease rules
    /// ([`crate::board::leases::agent_state`]).
    #[serde(default)]
    pub state: AgentState,
}

/// An agent's state by the lease rules: any call by a holder renews its leases once less
/// than half of their term is left, and a heartbeat renews them in full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AgentState {
    /// Holds tasks and has called since its leases entered their renewal window.
    Working,
    /// Holds tasks, but its soonest lease is under half its term: it has not called since
    /// the lease could have been renewed, and the work returns to the queue when it ends.
    Stale,
    /// Holds nothing and was seen within one lease term.
    #[default]
    Idle,
    /// Holds nothing and has not been seen for longer than a lease term.
    Away,
}

impl AgentState {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::Working => "working",
            AgentState::Stale => "stale",
            AgentState::Idle => "idle",
            AgentState::Away => "away",
        }
    }
}

/// How many items each list of the board summary shows at most (per agent for holdings);
/// a `*_total` beside each list counts them all, so the summary stays small on any board.
pub const BOARD_LIST_LIMIT: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub id: u64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub task: Option<TaskId>,
    /// What changed, by action (fields before and after, reasons, fences).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: Value,
    /// The actor's session it happened in (`baton session start`, or an agent's run), when
    /// one was open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<crate::id::SessionId>,
}

/// An event about to be appended; the store assigns its id.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub at: Timestamp,
    pub actor: String,
    /// One of [`actions`], or a log entry's `log.<tag>`.
    pub action: std::borrow::Cow<'static, str>,
    pub task: Option<TaskId>,
    pub detail: Value,
    pub session: Option<crate::id::SessionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Project {
    pub name: String,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockedTask {
    pub id: TaskId,
    pub title: String,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaleLease {
    pub id: TaskId,
    pub assignee: Option<String>,
    pub lease_expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCounts {
    pub backlog: u64,
    pub open: u64,
    pub in_progress: u64,
    pub review: u64,
    pub done: u64,
    pub blocked: u64,
}

impl StatusCounts {
    pub fn zero() -> Self {
        StatusCounts {
            backlog: 0,
            open: 0,
            in_progress: 0,
            review: 0,
            done: 0,
            blocked: 0,
        }
    }

    pub fn slot(&mut self, status: Status) -> &mut u64 {
        match status {
            Status::Backlog => &mut self.backlog,
            Status::Open => &mut self.open,
            Status::InProgress => &mut self.in_progress,
            Status::Review => &mut self.review,
            Status::Done => &mut self.done,
            Status::Blocked => &mut self.blocked,
        }
    }

    pub fn total(&self) -> u64 {
        self.backlog + self.open + self.in_progress + self.review + self.done + self.blocked
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardSummary {
    pub project: String,
    pub total: u64,
    pub counts: StatusCounts,
    /// Open tasks whose dependencies are met: what `pickup` can hand out now.
    pub ready: u64,
    /// The first [`BOARD_LIST_LIMIT`] blocked tasks by id; `blocked_total` counts them all.
    pub blocked: Vec<BlockedTask>,
    #[serde(default)]
    pub blocked_total: u64,
    /// Agents seen on this board, each with the first of its holdings.
    pub agents: Vec<Agent>,
    /// The first [`BOARD_LIST_LIMIT`] leases that ended and are not yet applied.
    pub stale_leases: Vec<StaleLease>,
    #[serde(default)]
    pub stale_leases_total: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ReservationMode {
    /// Nobody else may reserve an overlapping glob.
    Exclusive,
    /// Others may share it; only an exclusive holder conflicts.
    Shared,
}

impl ReservationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReservationMode::Exclusive => "exclusive",
            ReservationMode::Shared => "shared",
        }
    }

    pub fn parse(s: &str) -> Option<ReservationMode> {
        match s {
            "exclusive" => Some(ReservationMode::Exclusive),
            "shared" => Some(ReservationMode::Shared),
            _ => None,
        }
    }

    /// Whether holding `self` and `other` on overlapping globs (by different agents) collides.
    pub fn conflicts_with(self, other: ReservationMode) -> bool {
        self == ReservationMode::Exclusive || other == ReservationMode::Exclusive
    }
}

/// An advisory lock on a glob of paths, held by an agent until released or expired.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reservation {
    pub id: u64,
    pub agent: String,
    pub glob: String,
    pub mode: ReservationMode,
    /// Set when the reservation is a task's surface, taken by pickup.
    pub task: Option<TaskId>,
    pub reason: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Renewals extend the reservation by this much.
    #[serde(skip)]
    pub ttl_ms: u64,
}

/// A task pickup passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Skipped {
    pub id: TaskId,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldLease {
    pub id: TaskId,
    pub fence: u64,
    pub lease_expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Heartbeat {
    pub agent: String,
    pub tasks: Vec<HeldLease>,
    pub reservations: u64,
    /// Tasks taken from this agent since its last heartbeat or `task mine`.
    #[serde(default)]
    pub lost: Vec<LostTask>,
}

/// A task taken from its holder by something else, told to the holder once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LostTask {
    pub task: TaskId,
    pub title: String,
    /// `lease_expired`, `rejected` (back to the queue), `returned` (rejected, back to you
    /// with feedback), `moved` (someone changed its status), `blocked` or `deleted`.
    pub reason: String,
    pub at: Timestamp,
    /// Who did it (`system` for an expired lease).
    pub by: String,
    /// Its status right after.
    pub status: Status,
    /// The claim's fence that was lost.
    pub fence: u64,
    /// The rejection's feedback or the block's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Who holds it now, if someone picked it up since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now_held_by: Option<String>,
    /// What happened, in one sentence.
    pub message: String,
    /// What to do next.
    pub hint: String,
}

/// Who holds what on one path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PathCheck {
    pub path: String,
    pub reservations: Vec<Reservation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub default: bool,
}

/// Event action names, one place for every surface.
pub mod actions {
    pub const TASK_CREATED: &str = "task.created";
    pub const TASK_UPDATED: &str = "task.updated";
    pub const TASK_PICKED_UP: &str = "task.picked_up";
    pub const TASK_DONE: &str = "task.done";
    pub const TASK_APPROVED: &str = "task.approved";
    pub const TASK_REJECTED: &str = "task.rejected";
    pub const TASK_BLOCKED: &str = "task.blocked";
    pub const TASK_UNBLOCKED: &str = "task.unblocked";
    pub const TASK_NOTED: &str = "task.noted";
    pub const TASK_DELETED: &str = "task.deleted";
    pub const TASK_DEPS_MET: &str = "task.deps_met";
    pub const TASK_LEASE_EXPIRED: &str = "task.lease_expired";
    pub const PROJECT_CREATED: &str = "project.created";
    pub const CONFIG_UPDATED: &str = "config.updated";
    /// Log entries and run output older than `log_retention` were deleted (counts).
    pub const RETENTION_APPLIED: &str = "retention.applied";
    pub const RESERVATION_CREATED: &str = "reservation.created";
    pub const RESERVATION_RELEASED: &str = "reservation.released";
    pub const RESERVATION_VIOLATED: &str = "reservation.violated";
    pub const FILE_CHANGED: &str = "file.changed";
    pub const DOC_CREATED: &str = "doc.created";
    pub const DOC_UPDATED: &str = "doc.updated";
    pub const DOC_DELETED: &str = "doc.deleted";
    pub const MESSAGE_ASKED: &str = "message.asked";
    pub const MESSAGE_ANSWERED: &str = "message.answered";
    pub const BOARD_IMPORTED: &str = "board.imported";
    pub const RUN_STARTED: &str = "run.started";
    pub const RUN_FINISHED: &str = "run.finished";
    pub const RUN_ADOPTED: &str = "run.adopted";
    pub const RUN_STOP_REQUESTED: &str = "run.stop_requested";
    pub const RUN_RETRY_REQUESTED: &str = "run.retry_requested";
    pub const ACCOUNT_UPDATED: &str = "account.updated";
    pub const INITIATIVE_CREATED: &str = "initiative.created";
    pub const INITIATIVE_UPDATED: &str = "initiative.updated";
    pub const INITIATIVE_STATUS: &str = "initiative.status_changed";
    pub const PHASE_CREATED: &str = "phase.created";
    pub const PHASE_UPDATED: &str = "phase.updated";
    pub const PHASE_STATUS: &str = "phase.status_changed";
    pub const PHASE_CHANGES_REQUESTED: &str = "phase.changes_requested";
    /// A phase's gate opened: its tasks may be handed out (`detail.tasks`).
    pub const PHASE_OPENED: &str = "phase.opened";
    /// A phase's gate closed: its open tasks wait (`detail.tasks`).
    pub const PHASE_CLOSED: &str = "phase.closed";
    pub const COMMENT_CREATED: &str = "comment.created";
    pub const COMMENT_UPDATED: &str = "comment.updated";
    pub const PAGE_CREATED: &str = "page.created";
    pub const PLAN_IMPORTED: &str = "plan.imported";
    pub const PROPOSAL_CREATED: &str = "proposal.created";
    pub const PROPOSAL_ACCEPTED: &str = "proposal.accepted";
    pub const PROPOSAL_DISMISSED: &str = "proposal.dismissed";
    pub const MERGE_QUEUED: &str = "merge.queued";
    pub const MERGE_STARTED: &str = "merge.started";
    pub const MERGE_MERGED: &str = "merge.merged";
    pub const MERGE_CONFLICT: &str = "merge.conflict";
    /// A conflicted merge whose merge task's branch merged.
    pub const MERGE_RESOLVED: &str = "merge.resolved";
    pub const MERGE_FAILED: &str = "merge.failed";
    pub const MERGE_SKIPPED: &str = "merge.skipped";
    pub const MERGE_RETRIED: &str = "merge.retried";
    pub const ERRAND_CREATED: &str = "errand.created";
    pub const ERRAND_UPDATED: &str = "errand.updated";
    pub const ERRAND_DELETED: &str = "errand.deleted";
    /// A person asked an errand's agent to start, answer a message or merge.
    pub const ERRAND_REQUESTED: &str = "errand.requested";
    /// A runner took an errand's request.
    pub const ERRAND_CLAIMED: &str = "errand.claimed";
    /// A runner finished an errand's request (with the agent's reply).
    pub const ERRAND_REPLIED: &str = "errand.replied";
    /// An approved initiative whose branch is left for a pull request (`land` setting).
    pub const MERGE_LEFT_FOR_PULL_REQUEST: &str = "merge.left_for_pull_request";
    pub const SESSION_STARTED: &str = "session.started";
    pub const SESSION_ENDED: &str = "session.ended";
    pub const WEBHOOK_ADDED: &str = "webhook.added";
    pub const WEBHOOK_REMOVED: &str = "webhook.removed";
    /// `baton webhook test`: sent to the webhook tested alone.
    pub const WEBHOOK_PING: &str = "webhook.ping";
    /// An imported event whose action Baton does not know (`detail.original_action`).
    pub const EVENT_IMPORTED: &str = "event.imported";

    /// Every action above, for checking what a webhook or a filter names.
    pub const ALL: &[&str] = &[
        TASK_CREATED,
        TASK_UPDATED,
        TASK_PICKED_UP,
        TASK_DONE,
        TASK_APPROVED,
        TASK_REJECTED,
        TASK_BLOCKED,
        TASK_UNBLOCKED,
        TASK_NOTED,
        TASK_DELETED,
        TASK_DEPS_MET,
        TASK_LEASE_EXPIRED,
        PROJECT_CREATED,
        CONFIG_UPDATED,
        RETENTION_APPLIED,
        RESERVATION_CREATED,
        RESERVATION_RELEASED,
        RESERVATION_VIOLATED,
        FILE_CHANGED,
        DOC_CREATED,
        DOC_UPDATED,
        DOC_DELETED,
        MESSAGE_ASKED,
        MESSAGE_ANSWERED,
        BOARD_IMPORTED,
        RUN_STARTED,
        RUN_FINISHED,
        RUN_ADOPTED,
        RUN_STOP_REQUESTED,
        RUN_RETRY_REQUESTED,
        ACCOUNT_UPDATED,
        INITIATIVE_CREATED,
        INITIATIVE_UPDATED,
        INITIATIVE_STATUS,
        PHASE_CREATED,
        PHASE_UPDATED,
        PHASE_STATUS,
        PHASE_CHANGES_REQUESTED,
        PHASE_OPENED,
        PHASE_CLOSED,
        COMMENT_CREATED,
        COMMENT_UPDATED,
        PAGE_CREATED,
        PLAN_IMPORTED,
        PROPOSAL_CREATED,
        PROPOSAL_ACCEPTED,
        PROPOSAL_DISMISSED,
        MERGE_QUEUED,
        MERGE_STARTED,
        MERGE_MERGED,
        MERGE_CONFLICT,
        MERGE_RESOLVED,
        MERGE_FAILED,
        MERGE_SKIPPED,
        MERGE_RETRIED,
        ERRAND_CREATED,
        ERRAND_UPDATED,
        ERRAND_DELETED,
        ERRAND_REQUESTED,
        ERRAND_CLAIMED,
        ERRAND_REPLIED,
        MERGE_LEFT_FOR_PULL_REQUEST,
        SESSION_STARTED,
        SESSION_ENDED,
        WEBHOOK_ADDED,
        WEBHOOK_REMOVED,
        WEBHOOK_PING,
        EVENT_IMPORTED,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_reads_loose_spellings() {
        assert_eq!("in_progress".parse::<Status>().unwrap(), Status::InProgress);
        assert_eq!("In Progress".parse::<Status>().unwrap(), Status::InProgress);
        assert_eq!("REVIEW".parse::<Status>().unwrap(), Status::Review);
        assert!("doing".parse::<Status>().is_err());
        assert_eq!(
            serde_json::to_string(&Status::InProgress).unwrap(),
            "\"in-progress\""
        );
    }

    #[test]
    fn json_input_takes_the_same_spellings_as_the_cli() {
        let p: Vec<Priority> = serde_json::from_str(r#"["P0", "p1", 2]"#).unwrap();
        assert_eq!(p, vec![Priority::P0, Priority::P1, Priority::P2]);
        let s: Status = serde_json::from_str(r#""in_progress""#).unwrap();
        assert_eq!(s, Status::InProgress);
        assert!(serde_json::from_str::<Priority>(r#""urgent""#).is_err());
    }

    #[test]
    fn priority_orders_by_urgency() {
        assert!(Priority::P0 < Priority::P2);
        assert_eq!("p0".parse::<Priority>().unwrap(), Priority::P0);
        assert_eq!("2".parse::<Priority>().unwrap(), Priority::P2);
        assert!("P3".parse::<Priority>().is_err());
        assert!("high".parse::<Priority>().is_err());
    }
}
