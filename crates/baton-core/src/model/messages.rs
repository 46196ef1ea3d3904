//! Messages: questions agents (and people) ask each other, and the answers, in threads.

use serde::{Deserialize, Serialize};

use crate::id::{MessageId, TaskId};
use crate::time::Timestamp;

/// Recipient of a question anyone may answer.
pub const ANYONE: &str = "any";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub from: String,
    /// An agent, `human`, or `any`.
    pub to: String,
    /// Set when the question was asked to a task's holder.
    pub task: Option<TaskId>,
    pub body: String,
    /// The message this one answers; `None` for a question that starts a thread.
    pub reply_to: Option<MessageId>,
    /// The first message of the thread.
    pub thread: MessageId,
    pub created_at: Timestamp,
    /// When the message first got an answer, and from whom.
    pub answered_at: Option<Timestamp>,
    pub answered_by: Option<String>,
    /// When an answer was delivered to its recipient (by `inbox`, `listen` or `ask --wait`).
    pub read_at: Option<Timestamp>,
    /// Set on a question just asked to a name nobody has used on this board (a typo, or an
    /// agent that never came): it waits for them; the warning lists the names seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Message {
    pub fn is_question(&self) -> bool {
        self.reply_to.is_none()
    }
}
