//! The operations record (issue 19): attributed log entries beside the board's events.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::TaskId;
use crate::model::{ActorKind, Event, LogLevel};

/// A log entry (`baton log "Build started" --action BUILD`): stored as an event
/// `log.<action>` in the same append-only log as every board change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLogEntry {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 10000))]
    pub message: String,
    /// What kind of thing happened (`BUILD`, `DEPLOY`, `ERROR`): a letter, then up to 39
    /// letters, digits, `_` or `-`; kept lowercase (`log.build`). Default `note`.
    #[serde(default)]
    pub action: Option<String>,
    /// Default `info`.
    #[serde(default)]
    pub level: Option<LogLevel>,
    /// Who wrote it; default `human`.
    #[serde(default)]
    pub kind: Option<ActorKind>,
    /// The AI tool it came from (`claude-code`, `codex`, `cursor`, `gemini`), when known.
    #[serde(default)]
    pub tool: Option<String>,
    /// The task it is about.
    #[serde(default)]
    pub task: Option<TaskId>,
}

pub trait Operations {
    /// Appends a log entry to the event log; returns it as an event.
    fn log(&self, actor: &str, entry: NewLogEntry) -> Result<Event>;
}
