//! Sessions: a span of work by one identity. A person starts and stops one (`baton session
//! start`); a runner's run is one for its agent. Every event the identity writes while its
//! session is open carries the session, so `baton tail --session S-3` reads what it did.

use serde::{Deserialize, Serialize};

use super::ActorKind;
use crate::id::{RunId, SessionId};
use crate::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub id: SessionId,
    /// Who works in it: a person's name, an agent's (`claude-1`) or a system's.
    pub identity: String,
    pub purpose: Option<String>,
    pub kind: ActorKind,
    /// The AI tool or provider it runs under (`claude-code`, `codex`), when known.
    pub tool: Option<String>,
    /// The run it is, for an agent run by a runner.
    pub run: Option<RunId>,
    pub started_at: Timestamp,
    /// Absent while open.
    pub ended_at: Option<Timestamp>,
    pub ended_by: Option<String>,
    /// Why it ended: `stopped`, `replaced` (the identity started another), or a run's
    /// final status.
    pub end_reason: Option<String>,
}

/// A session with what happened in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    #[serde(flatten)]
    pub session: Session,
    /// Events written in it (board changes and log entries).
    pub events: u64,
    /// Of those, log entries (`baton log`).
    pub log_entries: u64,
    /// Of those, log entries at level error.
    pub errors: u64,
    /// Tasks its events were about.
    pub tasks: u64,
    pub last_event_at: Option<Timestamp>,
}

/// One series an agent exported over OpenTelemetry (OTLP), attributed to its run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TelemetrySeries {
    /// The run it came from (the `baton.run` resource attribute the runner sets).
    pub run: Option<RunId>,
    pub agent: Option<String>,
    pub task: Option<crate::id::TaskId>,
    /// The metric's name (`claude_code.token.usage`).
    pub name: String,
    /// The data point's attributes (`type=input`, `model=...`).
    pub attributes: std::collections::BTreeMap<String, String>,
    pub unit: Option<String>,
    /// `delta` (summed as points arrive), `cumulative` or `gauge` (the latest point), each
    /// with `_histogram` for a histogram's sum.
    pub kind: String,
    pub value: f64,
    /// For a histogram: how many observations.
    pub count: Option<u64>,
    /// Data points received.
    pub points: u64,
    pub first_at: Timestamp,
    pub updated_at: Timestamp,
}
