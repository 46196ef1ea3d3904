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
