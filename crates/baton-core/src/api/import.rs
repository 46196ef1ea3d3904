//! A board brought over from another tool, as plain data: the CLI reads the foreign file,
//! the board applies it. Every item carries the key it had in the source, so importing the
//! same source again adds only what is new.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id::TaskId;
use crate::model::{DocType, Note, Priority, Status};
use crate::time::Timestamp;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportedBoard {
    /// Names the source board, for example `codepakt:<project id>`.
    pub source: String,
    #[serde(default)]
    pub tasks: Vec<ImportedTask>,
    #[serde(default)]
    pub agents: Vec<ImportedAgent>,
    #[serde(default)]
    pub docs: Vec<ImportedDoc>,
    #[serde(default)]
    pub events: Vec<ImportedEvent>,
}

/// A task keeps its number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportedTask {
    pub key: String,
    pub id: TaskId,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub status: Status,
    #[serde(default)]
    pub blocked_reason: Option<String>,
    #[serde(default)]
    pub priority: Priority,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub epic: Option<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub depends_on: Vec<TaskId>,
    #[serde(default)]
    pub verify: Option<String>,
    #[serde(default)]
    pub acceptance_criteria: Vec<String>,
    /// Keys of imported docs, or ids of docs on this board.
    #[serde(default)]
    pub context_refs: Vec<String>,
    #[serde(default)]
    pub notes: Vec<Note>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportedAgent {
    pub name: String,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportedDoc {
    pub key: String,
    #[serde(rename = "type")]
    pub kind: DocType,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub author: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An event keeps its time and actor. `action` is a Baton action name (`task.done`);
/// an action Baton does not know is kept as `event.imported` with the name in its detail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportedEvent {
    pub key: String,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    #[serde(default)]
    pub task: Option<TaskId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: Value,
}

/// What an import added; items already imported from the same source are `skipped`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub source: String,
    pub tasks: u64,
    pub docs: u64,
    pub agents: u64,
    pub events: u64,
    pub skipped: u64,
    /// References that could not be kept (a dependency or doc the source does not hold).
    pub warnings: Vec<String>,
}
