//! Requests for the plan above tasks: initiatives, phases and their gates, review comments.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::{CommentId, DocId, InitiativeId, PhaseId, ProposalId, TaskId};
use crate::model::{
    Initiative, InitiativeStatus, LineSide, Page, Phase, PhaseStatus, Proposal, ProposalStatus,
    ProposalTarget, ReviewComment, Task,
};

/// An initiative to create.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewInitiative {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub description: Option<String>,
    /// Default on: phases wait for approval and are reviewed when finished.
    #[serde(default)]
    pub merge_requires_approval: Option<bool>,
    /// Default: `baton/` and the name in lower case with dashes (`baton/user-auth`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub branch: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub repositories: Vec<String>,
}

/// Fields to change; `None` leaves a field alone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InitiativePatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub description: Option<String>,
    #[serde(default)]
    pub merge_requires_approval: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub repositories: Option<Vec<String>>,
}

/// A person's move on an initiative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InitiativeMove {
    /// Accept an initiative whose phases are all completed (pending_review -> completed).
    Approve,
    /// Shelve it: its tasks are no longer handed out.
    Archive,
    /// Bring an archived or completed initiative back (-> active).
    Reopen,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InitiativeFilter {
    #[serde(default)]
    pub status: Option<InitiativeStatus>,
}

/// A phase to create in an initiative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPhase {
    pub initiative: InitiativeId,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: String,
    /// Markdown.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200000))]
    pub content: Option<String>,
    /// Phases of the same initiative that must be completed first.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub depends_on: Vec<PhaseId>,
}

/// Fields to change; `None` leaves a field alone. `depends_on` replaces the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhasePatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200000))]
    pub content: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub depends_on: Option<Vec<PhaseId>>,
}

/// A person's move on a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PhaseAction {
    /// Approve its plan (pending -> approved) or its finished work (pending_review ->
    /// completed; its tasks in review are approved with it).
    Approve,
    /// Send finished work back: a revision task holding the review comments is added to
    /// the phase (pending_review -> in_progress).
    RequestChanges,
    Block,
    Unblock,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PhaseMoveRequest {
    pub action: PhaseAction,
    /// Why (block), or what to change overall (request_changes).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub reason: Option<String>,
    /// Comments to add with a request for changes.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub comments: Vec<CommentBody>,
}

/// What a move on a phase did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhaseOutcome {
    pub phase: Phase,
    /// The revision task a request for changes added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Task>,
    /// Tasks in review approved with the phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approved: Vec<TaskId>,
    /// Phases whose gate this move opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub opened: Vec<PhaseId>,
}

/// A comment's place and text, without what it is on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub file: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub line: Option<u64>,
    #[serde(default)]
    pub side: Option<LineSide>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub body: String,
}

/// A review comment on a phase or a task, or a reply to one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[serde(default)]
    pub phase: Option<PhaseId>,
    #[serde(default)]
    pub task: Option<TaskId>,
    /// Answer this comment (its phase and task are taken from it).
    #[serde(default)]
    pub reply_to: Option<CommentId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub file: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub line: Option<u64>,
    #[serde(default)]
    pub side: Option<LineSide>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub body: String,
}

impl NewComment {
    /// Where and what, without what it is on.
    pub fn body(&self) -> CommentBody {
        CommentBody {
            file: self.file.clone(),
            line: self.line,
            side: self.side,
            body: self.body.clone(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommentFilter {
    #[serde(default)]
    pub phase: Option<PhaseId>,
    #[serde(default)]
    pub task: Option<TaskId>,
    /// Only comments not yet resolved (and their replies).
    #[serde(default)]
    pub open: bool,
}

/// A page to add to an initiative's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPage {
    pub initiative: InitiativeId,
    /// The page above it; default the initiative's root page (the first page is the root).
    #[serde(default)]
    pub parent: Option<DocId>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub title: String,
    /// Markdown.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1048576))]
    pub body: Option<String>,
}

/// A change to the plan an agent proposes. `content` by target:
/// - `page`: `{"title", "body", "parent"?}` (with `target_id` D-n: the page's new text);
/// - `phase`: `{"name", "content"?, "depends_on"?: ["P-1"]}` (with `target_id` P-n: changes);
/// - `task`: `{"phase"?: "P-2", "tasks": [task, ...]}` (with `target_id` T-n: a task patch);
/// - `plan`: `{"phases": [{"key", "name", "content"?, "depends_on"?: [key or P-n],
///   "tasks"?: [task, ...]}]}`: phases, their dependencies and tasks, created together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewProposal {
    pub initiative: InitiativeId,
    pub target: ProposalTarget,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub target_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub title: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub summary: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: serde_json::Value,
    /// The plan, detail or refine task it comes from.
    #[serde(default)]
    pub task: Option<TaskId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposalFilter {
    #[serde(default)]
    pub initiative: Option<InitiativeId>,
    #[serde(default)]
    pub status: Option<ProposalStatus>,
}

/// A person's decision on a proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProposalDecision {
    /// Accept (apply it, all or nothing) or dismiss.
    pub accept: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100000))]
    pub reason: Option<String>,
}

/// The plan above tasks, for one project: in process the board, over HTTP the server.
pub trait Plan {
    fn create_initiative(&self, actor: &str, new: NewInitiative) -> Result<Initiative>;
    fn list_initiatives(&self, filter: &InitiativeFilter) -> Result<Vec<Initiative>>;
    fn get_initiative(&self, id: InitiativeId) -> Result<Initiative>;
    fn update_initiative(
        &self,
        actor: &str,
        id: InitiativeId,
        patch: InitiativePatch,
    ) -> Result<Initiative>;
    fn move_initiative(
        &self,
        actor: &str,
        id: InitiativeId,
        to: InitiativeMove,
    ) -> Result<Initiative>;

    fn create_phase(&self, actor: &str, new: NewPhase) -> Result<Phase>;
    /// Phases of one initiative (in order), or of all.
    fn list_phases(&self, initiative: Option<InitiativeId>) -> Result<Vec<Phase>>;
    fn get_phase(&self, id: PhaseId) -> Result<Phase>;
    fn update_phase(&self, actor: &str, id: PhaseId, patch: PhasePatch) -> Result<Phase>;
    fn move_phase(
        &self,
        actor: &str,
        id: PhaseId,
        request: PhaseMoveRequest,
    ) -> Result<PhaseOutcome>;

    fn add_comment(&self, actor: &str, new: NewComment) -> Result<ReviewComment>;
    fn list_comments(&self, filter: &CommentFilter) -> Result<Vec<ReviewComment>>;
    fn resolve_comment(&self, actor: &str, id: CommentId, resolved: bool) -> Result<ReviewComment>;

    fn add_page(&self, actor: &str, new: NewPage) -> Result<Page>;
    /// An initiative's pages, root first, each before its children.
    fn list_pages(&self, initiative: InitiativeId) -> Result<Vec<Page>>;

    fn propose(&self, actor: &str, new: NewProposal) -> Result<Proposal>;
    fn list_proposals(&self, filter: &ProposalFilter) -> Result<Vec<Proposal>>;
    fn get_proposal(&self, id: ProposalId) -> Result<Proposal>;
    /// Accept (applied in one transaction, every created row an event) or dismiss.
    fn decide_proposal(
        &self,
        actor: &str,
        id: ProposalId,
        decision: ProposalDecision,
    ) -> Result<Proposal>;

    /// Brings a plan read from another tool over, all or nothing.
    fn import_plan(&self, actor: &str, plan: ImportedPlan) -> Result<PlanImportReport>;
}

/// A plan read from another tool (Codewalkers), to bring over in one transaction. Every
/// reference is the source's own key; `import_plan` maps them to new ids and records the
/// keys, so importing the same source again adds only what is new.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedPlan {
    /// Names the source (`codewalkers:<path>`), for the import keys.
    pub source: String,
    pub initiatives: Vec<ImportedInitiative>,
    pub phases: Vec<ImportedPhase>,
    pub tasks: Vec<ImportedPlanTask>,
    pub pages: Vec<ImportedPage>,
    pub comments: Vec<ImportedComment>,
    pub conversations: Vec<ImportedConversation>,
    /// What the reader could not map.
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedInitiative {
    pub key: String,
    pub name: String,
    pub status: Option<InitiativeStatus>,
    pub merge_requires_approval: bool,
    pub branch: Option<String>,
    pub repositories: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedPhase {
    pub key: String,
    pub initiative: String,
    pub name: String,
    /// Markdown.
    pub content: String,
    pub status: PhaseStatus,
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedPlanTask {
    pub key: String,
    pub phase: Option<String>,
    pub initiative: Option<String>,
    pub parent: Option<String>,
    pub title: String,
    pub description: String,
    pub category: crate::model::Category,
    pub priority: crate::model::Priority,
    /// Where it stands here: open, done or blocked (nothing is held after an import).
    pub status: crate::model::Status,
    pub summary: Option<String>,
    pub depends_on: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedPage {
    pub key: String,
    pub initiative: String,
    pub parent: Option<String>,
    pub title: String,
    /// Markdown.
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedComment {
    pub key: String,
    pub phase: String,
    pub file: Option<String>,
    pub line: Option<u64>,
    pub side: Option<LineSide>,
    pub body: String,
    pub author: String,
    pub resolved: bool,
}

/// A question between agents, with its answer if it got one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportedConversation {
    pub key: String,
    pub from: String,
    pub to: String,
    pub question: String,
    pub answer: Option<String>,
}

/// What an import brought over, and what it could not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanImportReport {
    pub source: String,
    pub initiatives: u64,
    pub phases: u64,
    pub tasks: u64,
    pub pages: u64,
    pub comments: u64,
    pub messages: u64,
    /// Rows already imported from this source before.
    pub skipped: u64,
    pub warnings: Vec<String>,
}
