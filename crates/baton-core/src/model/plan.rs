//! The plan above the tasks: initiatives (features) made of phases that depend on each
//! other, each phase made of tasks, with review gates; review comments on phases and tasks;
//! agents' proposals to change the plan. The rules are in [`crate::gates`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::{CommentId, DocId, InitiativeId, PhaseId, ProposalId, TaskId};
use crate::time::Timestamp;

/// A closed set of words stored and shown as text (`pending_review`), read loosely (case,
/// `-` or space for `_`), with the list of valid words in the error.
macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, [$($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)?]) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
                $name::ALL.iter().copied().find(|v| v.as_str() == norm)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s).ok_or_else(|| {
                    let words: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("'{s}' is not {} ({})", $what, words.join(", "))
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

text_enum!(
    /// What kind of work a task is (as Codewalkers names them); `execute` by default.
    Category,
    "a task category",
    [
        Execute => "execute",
        Research => "research",
        Discuss => "discuss",
        Plan => "plan",
        Detail => "detail",
        Refine => "refine",
        Verify => "verify",
        Merge => "merge",
        Review => "review",
    ]
);

#[allow(clippy::derivable_impls)] // the variants are declared by `text_enum!`
impl Default for Category {
    fn default() -> Self {
        Category::Execute
    }
}

text_enum!(
    /// Where an initiative stands: `active -> pending_review -> completed`, or `archived`.
    InitiativeStatus,
    "an initiative status",
    [
        Active => "active",
        PendingReview => "pending_review",
        Completed => "completed",
        Archived => "archived",
    ]
);

text_enum!(
    /// Where a phase stands: `pending -> approved -> in_progress -> pending_review ->
    /// completed`, or `blocked`.
    PhaseStatus,
    "a phase status",
    [
        Pending => "pending",
        Approved => "approved",
        InProgress => "in_progress",
        PendingReview => "pending_review",
        Completed => "completed",
        Blocked => "blocked",
    ]
);

text_enum!(
    /// Which side of a diff a review comment's line is on.
    LineSide,
    "a line side",
    [
        Added => "added",
        Removed => "removed",
        Context => "context",
    ]
);

text_enum!(
    /// What a proposal creates or changes.
    ProposalTarget,
    "a proposal target",
    [
        /// A page of the initiative (create, or change `target`).
        Page => "page",
        /// A phase (create, or change `target`).
        Phase => "phase",
        /// Tasks (create in a phase, or change `target`).
        Task => "task",
        /// A whole plan: phases with their dependencies and tasks, created together.
        Plan => "plan",
    ]
);

text_enum!(
    ProposalStatus,
    "a proposal status",
    [
        Pending => "pending",
        Accepted => "accepted",
        Dismissed => "dismissed",
    ]
);

/// A feature: phases of tasks, a branch, the repositories it touches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Initiative {
    pub id: InitiativeId,
    pub name: String,
    pub description: String,
    pub status: InitiativeStatus,
    /// Phases need a person's approval before their tasks start, and a review when their
    /// tasks are finished (on by default). Off: phases start and complete on their own.
    pub merge_requires_approval: bool,
    /// The integration branch, derived from the name (`baton/user-auth`).
    pub branch: String,
    pub repositories: Vec<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Its phases' statuses, counted (derived).
    #[serde(default)]
    pub progress: PhaseCounts,
}

/// How many phases of an initiative are in each status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhaseCounts {
    pub total: u64,
    pub completed: u64,
}

/// A step of an initiative: markdown content, tasks, and the phases it waits for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Phase {
    pub id: PhaseId,
    pub initiative: InitiativeId,
    pub name: String,
    /// Markdown.
    pub content: String,
    pub status: PhaseStatus,
    /// Why it is blocked, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// Phases that must be completed before this one's tasks are handed out.
    pub depends_on: Vec<PhaseId>,
    /// Its tasks may be handed out now (derived: the gate is open).
    pub open: bool,
    /// Its live tasks, counted by status (derived).
    pub tasks: TaskCounts,
    /// Review comments not yet resolved (derived).
    pub open_comments: u64,
    pub position: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A phase's live tasks by where they stand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskCounts {
    pub total: u64,
    /// In review or done: finished as far as the phase is concerned.
    pub finished: u64,
    pub in_progress: u64,
    pub blocked: u64,
}

/// A comment on a line of a phase's (or a task's) changes, or a reply to one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewComment {
    pub id: CommentId,
    pub phase: Option<PhaseId>,
    pub task: Option<TaskId>,
    /// The comment this one answers (a thread); replies carry no file or line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<CommentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<LineSide>,
    pub body: String,
    pub author: String,
    pub resolved: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A change to the plan an agent proposes and a person accepts or dismisses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proposal {
    pub id: ProposalId,
    pub initiative: InitiativeId,
    pub target: ProposalTarget,
    /// The page (`D-3`), phase (`P-2`) or task (`T-9`) it changes; none when it creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
    pub title: String,
    pub summary: String,
    /// What to create or change, as structured JSON (see `baton proposal --help`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub content: serde_json::Value,
    pub status: ProposalStatus,
    pub author: String,
    /// The task it came from (a plan, detail or refine task).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    /// What accepting it created or changed (ids), once accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<String>,
    pub created_at: Timestamp,
}

/// What a task's dependency left for the next agent: its result summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DepSummary {
    pub id: TaskId,
    pub title: String,
    pub summary: String,
    /// The summary was cut to fit; `baton task show` has the whole text.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// A page of an initiative: a doc (versioned and searched with the others) in the
/// initiative's tree of pages. Its text is read and changed as a doc.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page {
    pub doc: DocId,
    pub initiative: InitiativeId,
    /// The page above it; none for the root page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<DocId>,
    pub title: String,
    pub version: u64,
    pub position: u64,
    pub updated_at: Timestamp,
}

text_enum!(
    /// What a merge carries up the chain: a task's branch into its phase's, a phase's into
    /// its initiative's, an initiative's into the project's default branch.
    MergeKind,
    "a merge kind",
    [
        Task => "task",
        Phase => "phase",
        Initiative => "initiative",
    ]
);

text_enum!(
    /// Where a merge stands: `pending -> running -> merged`, or `conflict` (a merge task
    /// resolves it, then it is `merged`), `failed` (retried by a person) or `skipped`
    /// (there was nothing to merge).
    MergeState,
    "a merge state",
    [
        Pending => "pending",
        Running => "running",
        Merged => "merged",
        Conflict => "conflict",
        Failed => "failed",
        Skipped => "skipped",
    ]
);

impl MergeState {
    /// Still to be done: later merges out of its target wait for it.
    pub fn unfinished(self) -> bool {
        !matches!(self, MergeState::Merged | MergeState::Skipped)
    }
}

text_enum!(
    /// How a merge treats a target that moved on since the source branched off it.
    MergeStrategy,
    "a merge strategy",
    [
        /// A merge commit joins both lines (nothing rewritten).
        Merge => "merge",
        /// The source's commits are replayed onto the target, which then moves forward.
        Rebase => "rebase",
    ]
);

/// A merge of one branch into another, queued when its subject is approved and carried out
/// by a runner (or `baton merge run`) in its clone, under the repository's lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Merge {
    pub id: crate::id::MergeId,
    pub kind: MergeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PhaseId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiative: Option<InitiativeId>,
    /// The branch merged, and the branch it goes into.
    pub source: String,
    pub target: String,
    pub state: MergeState,
    pub strategy: MergeStrategy,
    /// The conflicted merge this one resolves (the merge of a `merge` task's branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolves: Option<crate::id::MergeId>,
    /// The merge that resolved this conflicted one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<crate::id::MergeId>,
    /// The task made to resolve a conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_task: Option<TaskId>,
    /// The merge base of source and target when it ran: a merged phase's diff is
    /// `base..result` long after its branches moved on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_head: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_head: Option<String>,
    /// The target's commit after the merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// The files both sides changed, for a conflict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Why it failed or was skipped; the last transient failure of one being retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub attempts: u32,
    /// The runner carrying it out, while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A branch to create when missing, and what it starts from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchStart {
    pub branch: String,
    pub from: String,
    /// Branches merged into it when it is created: the branches of the phases it depends
    /// on whose work has not reached `from` yet (their merge is still queued).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<String>,
}

/// Where a task's work goes in git: its own branch, started from its phase's branch (or its
/// initiative's, or the default branch), and what approving it merges into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BranchPlan {
    pub task: TaskId,
    pub branch: String,
    /// What the task's branch starts from.
    pub base: String,
    /// Where its work is merged once approved.
    pub target: String,
    /// Branches to create first, in order, when they do not exist yet (the initiative's
    /// from the default branch, then the phase's from the initiative's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create: Vec<BranchStart>,
    /// For a `merge` task: the branch to merge into its fresh worktree, leaving the
    /// conflicts for the agent to resolve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub premerge: Option<String>,
    /// The project's default branch.
    pub default_branch: String,
}

/// What a task, phase or initiative changed: its branch against the base it started from
/// (or, once merged, the base stored with the merge), file by file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diff {
    /// `T-12`, `P-3` or `I-1`.
    pub of: String,
    /// The commits compared (`from..to`).
    pub from: String,
    pub to: String,
    /// `merged` (the stored base of a done merge) or `branch` (the branch against the merge
    /// base with where it goes).
    pub basis: String,
    pub files: Vec<DiffFile>,
    /// Lines were left out past the size limit (`files` still lists every file).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffFile {
    pub path: String,
    /// The path before a rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    /// added, modified, deleted or renamed.
    pub status: String,
    pub added: u64,
    pub removed: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub binary: bool,
    pub hunks: Vec<DiffHunk>,
    /// Its lines were left out (the diff was too large).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffHunk {
    /// The `@@ -a,b +c,d @@ context` line.
    pub header: String,
    pub lines: Vec<DiffLine>,
}

/// One line of a hunk: `+` added (has `new`), `-` removed (has `old`), ` ` context (both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffLine {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<u64>,
    pub text: String,
}

text_enum!(
    /// How much a log entry (`baton log`) matters.
    LogLevel,
    "a log level",
    [
        Debug => "debug",
        Info => "info",
        Warn => "warn",
        Error => "error",
    ]
);

text_enum!(
    /// Who wrote a log entry: a person, an AI agent, or a system (CI, a script, a service).
    ActorKind,
    "an actor kind",
    [
        Human => "human",
        Ai => "ai",
        System => "system",
    ]
);

text_enum!(
    /// What a person asked of an errand that a runner has not done yet: `start` (its first
    /// run), `chat` (resume its agent with a message), `merge` (into its base branch).
    ErrandAsk,
    "an errand request",
    [
        Start => "start",
        Chat => "chat",
        Merge => "merge",
    ]
);

text_enum!(
    /// Where an errand stands: `active` (its agent works), `pending_review` (done, waiting
    /// for a person), `conflict` (merging it would conflict), `merged`, `abandoned`.
    ErrandStatus,
    "an errand status",
    [
        Active => "active",
        PendingReview => "pending_review",
        Conflict => "conflict",
        Merged => "merged",
        Abandoned => "abandoned",
    ]
);

/// A small isolated change: one agent on a branch off the default branch, with no task
/// board around it (`baton errand start "fix typo in README"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Errand {
    pub id: crate::id::ErrandId,
    pub title: String,
    /// Its branch (`baton/errand-1`), and the branch it starts from and merges into.
    pub branch: String,
    pub base_branch: String,
    pub status: ErrandStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's session, resumed by `errand chat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The merge base when it merged, and the base branch's commit after the merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Why its last run or merge did not go through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What a person asked that a runner has not done yet, with its message (chat) or
    /// strategy (merge), who asked, and the runner doing it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ErrandAsk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    /// The agent's last reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
