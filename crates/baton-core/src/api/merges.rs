//! Requests for merges: the queue of branches to carry up the chain (task -> phase ->
//! initiative -> default branch) that runners work through.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::{ErrandId, InitiativeId, MergeId, PhaseId, TaskId};
use crate::model::{BranchPlan, Errand, ErrandStatus, Merge, MergeKind, MergeState};

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

pub trait Errands {
    fn create_errand(&self, actor: &str, new: NewErrand) -> Result<Errand>;
    fn list_errands(&self, status: Option<ErrandStatus>) -> Result<Vec<Errand>>;
    fn get_errand(&self, id: ErrandId) -> Result<Errand>;
    /// Moves follow the errand's lifecycle (a merged or abandoned errand takes no change
    /// but reopening an abandoned one to active).
    fn update_errand(&self, actor: &str, id: ErrandId, update: ErrandUpdate) -> Result<Errand>;
    /// Only an abandoned or merged errand is deleted.
    fn delete_errand(&self, actor: &str, id: ErrandId) -> Result<Errand>;
}
