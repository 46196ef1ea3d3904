//! Requests for the knowledge base and for messages.

use serde::{Deserialize, Serialize};

use crate::id::{MessageId, TaskId};
use crate::model::DocType;

/// A doc to write. The author defaults to the acting identity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewDoc {
    #[serde(rename = "type")]
    pub kind: DocType,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1048576))]
    pub body: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Tasks the doc is about; they must exist.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub tasks: Vec<TaskId>,
    #[serde(default)]
    pub author: Option<String>,
}

/// Fields to change; `None` leaves a field alone. Any change makes a new version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocPatch {
    #[serde(default, rename = "type")]
    pub kind: Option<DocType>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub title: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 1048576))]
    pub body: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub tasks: Option<Vec<TaskId>>,
}

impl DocPatch {
    pub fn is_empty(&self) -> bool {
        self == &DocPatch::default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocFilter {
    #[serde(default, rename = "type")]
    pub kind: Option<DocType>,
    #[serde(default)]
    pub tag: Option<String>,
    /// Docs linked to this task, or named in its context_refs.
    #[serde(default)]
    pub task: Option<TaskId>,
    #[serde(default)]
    pub include_deleted: bool,
    /// `None` or `Some(0)` = all.
    #[serde(default)]
    pub limit: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocSearch {
    /// Words to look for; every word must match (when none does together, any may).
    pub query: String,
    #[serde(default, rename = "type")]
    pub kind: Option<DocType>,
    /// Default 10.
    #[serde(default)]
    pub limit: Option<u64>,
}

/// A question to an agent, a task's holder (`T-3`), `human`, or `any`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    /// An agent's name, a task id (its holder), `human` or `any`; left empty with `task`
    /// given, the agent that worked on the task last.
    #[serde(default)]
    pub to: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub body: String,
    /// The task it is about. With an agent's name in `to`, that agent is asked about the
    /// task even when it no longer holds it (a runner resumes the agent's session to
    /// answer: `baton chat`).
    #[serde(default)]
    pub task: Option<crate::id::TaskId>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100000))]
    pub body: String,
}

/// By default the inbox holds open questions to you and answers not yet delivered to you;
/// answers it returns count as delivered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxRequest {
    /// Every message to you (and to `any`), answered and delivered ones too; delivers nothing.
    #[serde(default)]
    pub all: bool,
    /// Only answers to this message.
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// `None` or `Some(0)` = all.
    #[serde(default)]
    pub limit: Option<u64>,
}
