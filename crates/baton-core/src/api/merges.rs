//! Requests for merges: the queue of branches to carry up the chain (task -> phase ->
//! initiative -> default branch) that runners work through.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::{ErrandId, InitiativeId, MergeId, PhaseId, TaskId};
use crate::model::{BranchPlan, Errand, ErrandStatus, Merge, MergeKind, MergeState, MergeStrategy};

/// Which merges to list; newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[serde(deny_unknown_fields)]
pub struct MergeFilter {
    #[serde(default)]
    pub state: Option<MergeState>,
    #[serde(default)]
    pub kind: Option<MergeKind>,
    #[serde(default)]
    pub task: Option<TaskId>,
    #[serde(default)]
    pub phase: Option<PhaseId>,
    #[serde(default)]
    pub initiative: Option<InitiativeId>,
    /// At most this many (default 200, at most 1,000).
    #[serde(default)]
    pub limit: Option<u64>,
}

/// A runner asking for the next merge it may carry out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeClaim {
    /// The runner (`host:pid:start`); it alone may report the outcome.
    pub runner: String,
    /// How long the claim holds before another runner may retry the merge (seconds,
    /// default 600).
    #[serde(default)]
    pub lease_secs: Option<u64>,
}

/// What became of a claimed merge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
pub enum MergeOutcome {
    /// The target now holds the source's work at `result`.
    Merged {
        base: String,
        source_head: String,
        target_head: String,
        result: String,
    },
    /// Merging would conflict; nothing was changed. A merge task is made.
    Conflict {
        base: String,
        source_head: String,
        target_head: String,
        files: Vec<String>,
    },
    /// Nothing to merge (the source branch does not exist: no run worked on it).
    Skipped { reason: String },
    /// It could not be done now; `retry` puts it back in the queue.
    Failed { error: String, retry: bool },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MergeReport {
    pub runner: String,
    pub outcome: MergeOutcome,
}

pub trait Merges {
    fn list_merges(&self, filter: &MergeFilter) -> Result<Vec<Merge>>;
    fn get_merge(&self, id: MergeId) -> Result<Merge>;
    /// Where a task's work goes in git (its branch, what it starts from, where it merges).
    fn branch_plan(&self, task: TaskId) -> Result<BranchPlan>;
    /// The oldest merge that may run now (none waits on an unfinished merge into its
    /// source), or one whose runner's claim lapsed; `None` when nothing is ready.
    fn claim_merge(&self, actor: &str, claim: MergeClaim) -> Result<Option<Merge>>;
    fn finish_merge(&self, actor: &str, id: MergeId, report: MergeReport) -> Result<Merge>;
    /// Puts a failed, skipped or conflicted merge back in the queue.
    fn retry_merge(&self, actor: &str, id: MergeId) -> Result<Merge>;
}

/// An errand to start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewErrand {
    /// What to do ("fix typo in README"): the agent's whole instruction.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub title: String,
    #[serde(default)]
    pub provider: Option<String>,
}

/// What a runner (or a person) records about an errand; `None` leaves a field alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrandUpdate {
    #[serde(default)]
    pub status: Option<ErrandStatus>,
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub conflicts: Option<Vec<String>>,
    /// Empty clears it.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a person asks of an errand's agent; a runner (or `baton errand` in the
/// foreground) takes it with [`Errands::claim_errand`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "ask", rename_all = "snake_case", deny_unknown_fields)]
pub enum ErrandRequest {
    /// Resume the agent's session with a message (reopens an abandoned errand; on a
    /// conflicted one, the agent resolves the conflict).
    Chat {
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
        message: String,
    },
    /// Merge the branch into its base branch; `strategy` defaults to the project's
    /// `merge_strategy`.
    Merge {
        #[serde(default)]
        strategy: Option<MergeStrategy>,
    },
}

/// A runner takes an errand's request: a given errand's, or the oldest waiting one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrandClaim {
    /// The runner; it alone may finish the request.
    pub runner: String,
    #[serde(default)]
    pub errand: Option<ErrandId>,
    /// The agent CLI the runner drives: it takes only merges and the requests of errands
    /// meant for that provider (or for none in particular).
    #[serde(default)]
    pub provider: Option<String>,
    /// Seconds the claim holds before another runner may take the request (default 1,800:
    /// an agent's run is long).
    #[serde(default)]
    pub lease_secs: Option<u64>,
}

/// A runner's report that it did an errand's request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrandFinish {
    /// The runner that claimed it.
    pub runner: String,
    /// The agent's reply (its last message), when it gave one.
    #[serde(default)]
    pub reply: Option<String>,
}

pub trait Errands {
    fn create_errand(&self, actor: &str, new: NewErrand) -> Result<Errand>;
    fn list_errands(&self, status: Option<ErrandStatus>) -> Result<Vec<Errand>>;
    fn get_errand(&self, id: ErrandId) -> Result<Errand>;
    /// Moves follow the errand's lifecycle (a merged or abandoned errand takes no change
    /// but reopening an abandoned one to active).
    fn update_errand(&self, actor: &str, id: ErrandId, update: ErrandUpdate) -> Result<Errand>;
    /// Only an abandoned or merged errand is deleted.
    fn delete_errand(&self, actor: &str, id: ErrandId) -> Result<Errand>;
    /// Asks the errand's agent something (one request at a time); the lifecycle decides
    /// what may be asked: no chat with a merged errand, a merge only once it is pending
    /// review or in conflict.
    fn request_errand(&self, actor: &str, id: ErrandId, request: ErrandRequest) -> Result<Errand>;
    /// Takes a waiting request (or one whose runner's claim lapsed); `None` when there is
    /// none. Asking for a given errand whose request another runner holds is refused.
    fn claim_errand(&self, actor: &str, claim: ErrandClaim) -> Result<Option<Errand>>;
    /// The claiming runner reports its request done, with the agent's reply; the request
    /// is cleared. A runner whose claim lapsed and was taken is refused.
    fn finish_errand(&self, actor: &str, id: ErrandId, finish: ErrandFinish) -> Result<Errand>;
}
