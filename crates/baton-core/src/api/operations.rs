//! The operations record (issue 19): attributed log entries beside the board's events.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::{SessionId, TaskId};
use crate::model::{ActorKind, Event, LogLevel, Session, SessionInfo};

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

/// Log entries appended in one transaction (`baton log --stdin`, POST /api/v1/log/batch):
/// all of them or none, at most [`MAX_LOG_BATCH`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LogBatch {
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
    pub entries: Vec<NewLogEntry>,
}

/// The most entries one [`LogBatch`] may carry.
pub const MAX_LOG_BATCH: usize = 1000;

/// What a [`LogBatch`] wrote: how many entries, and the event ids of the first and last.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogBatchReport {
    pub written: u64,
    pub first: Option<u64>,
    pub last: Option<u64>,
}

/// A session to start (`baton session start`): the actor's, ending any it has open.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSession {
    /// What the session is for (up to 1,000 bytes).
    #[serde(default)]
    pub purpose: Option<String>,
    /// Who works in it; default `human`.
    #[serde(default)]
    pub kind: Option<ActorKind>,
    /// The AI tool it runs under (`claude-code`, `codex`, `cursor`, `gemini`), when known.
    #[serde(default)]
    pub tool: Option<String>,
}

/// Which session to stop: the one named, or the actor's open one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StopSession {
    #[serde(default)]
    pub session: Option<SessionId>,
}

/// Which sessions to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionQuery {
    pub identity: Option<String>,
    /// Only open ones.
    pub open: bool,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<u64>,
}

/// Totals of the operations record, for `/metrics` and `baton metrics`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperationsStats {
    /// Runs by provider and status, with their usage.
    pub runs: Vec<RunStats>,
    /// Sessions by kind of actor.
    pub sessions: Vec<SessionStats>,
    /// Log entries with an event id above the one asked for, by action and level.
    pub log_entries: Vec<LogStats>,
    /// The newest event id counted (ask for entries after it next time).
    pub through: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunStats {
    pub provider: String,
    pub status: String,
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStats {
    pub kind: String,
    pub started: u64,
    pub open: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogStats {
    /// The log action's tag (`build` for `log.build`).
    pub action: String,
    pub level: String,
    pub entries: u64,
}

/// What `baton prune` asks: apply `log_retention` now, or only count what it would delete.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PruneRequest {
    /// Count, delete nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The most log entries and the most run-output lines deleted in this call (default
    /// and cap 10,000 each); call again while `more` says so.
    #[serde(default)]
    pub limit: Option<u64>,
}

/// What applying `log_retention` deleted (or, on a dry run, would delete).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PruneReport {
    /// The setting applied (`off`, `30d`).
    pub retention: String,
    /// Entries and output older than this went; none when retention is off.
    pub before: Option<crate::time::Timestamp>,
    pub dry_run: bool,
    /// Log entries (events `log.*`) deleted; board events are never touched.
    pub log_entries: u64,
    /// Lines of output of runs that ended before the cutoff.
    pub run_log_lines: u64,
    /// Whether more remain past this call's limit.
    pub more: bool,
}

/// Who a batch of telemetry is about, from its resource attributes: the runner sets
/// `baton.run`, `baton.task` and `baton.agent` (OTEL_RESOURCE_ATTRIBUTES); `service.name`
/// names the tool.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub run: Option<String>,
    pub task: Option<String>,
    pub agent: Option<String>,
    pub service: Option<String>,
}

/// How a metric's points combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Each point is the change since the last one: points add up.
    Delta,
    /// Each point is the total so far: the latest wins.
    Cumulative,
    /// A reading: the latest wins.
    Gauge,
}

/// One metric data point received over OTLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TelemetryPoint {
    pub resource: Attribution,
    pub name: String,
    pub unit: Option<String>,
    pub aggregation: Aggregation,
    /// A histogram's point: `value` is its sum, `count` its observations.
    pub histogram: bool,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub value: f64,
    pub count: Option<u64>,
}

/// One log record received over OTLP; stored as a log entry (`log.<event name>`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TelemetryLog {
    pub resource: Attribution,
    /// OTLP severity number (1-24; 0 unset).
    pub severity: i32,
    pub body: String,
    /// The event's name (`claude_code.api_request`, or the `event.name` attribute).
    pub event_name: Option<String>,
    pub attributes: std::collections::BTreeMap<String, String>,
}

/// What an OTLP export carried.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TelemetryBatch {
    pub points: Vec<TelemetryPoint>,
    pub logs: Vec<TelemetryLog>,
}

/// What was kept of a batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelemetryReport {
    pub points: u64,
    pub logs: u64,
    /// Points and records refused (a name too long, a value not finite), with why.
    pub rejected: u64,
    pub errors: Vec<String>,
}

pub trait Operations {
    /// Appends a log entry to the event log; returns it as an event.
    fn log(&self, actor: &str, entry: NewLogEntry) -> Result<Event>;

    /// Appends many log entries in one transaction: all or none; an error names the entry.
    fn log_batch(&self, actor: &str, batch: LogBatch) -> Result<LogBatchReport>;

    /// Starts a session for `actor`; an open one of theirs ends first (`replaced`).
    fn start_session(&self, actor: &str, new: NewSession) -> Result<Session>;

    /// Ends the named session, or `actor`'s open one. Only its identity ends it; a run's
    /// session ends with its run.
    fn stop_session(&self, actor: &str, stop: StopSession) -> Result<Session>;

    /// A session with counts of what happened in it.
    fn session(&self, id: SessionId) -> Result<SessionInfo>;

    fn sessions(&self, query: &SessionQuery) -> Result<Vec<Session>>;

    /// Run, session and log-entry totals; log entries only above event id `log_after`, so
    /// that a scraper can count them as it goes.
    fn stats(&self, log_after: u64) -> Result<OperationsStats>;

    /// Keeps what an agent exported over OpenTelemetry: metric points by series, log
    /// records as log entries, each attributed to its run (and so its agent, task and
    /// session) when the resource names one.
    fn record_telemetry(&self, actor: &str, batch: TelemetryBatch) -> Result<TelemetryReport>;

    /// Applies the `log_retention` setting: deletes log entries and the output of runs
    /// older than it, at most `limit` of each per call; board events stay.
    /// `actor` is a caller's name; the reserved `baton` is refused here.
    fn prune(&self, actor: &str, request: PruneRequest) -> Result<PruneReport>;

    /// The same as the system itself (`baton`): the server's background retention pass.
    /// Only a board in this process can do it; a client of a server cannot.
    fn prune_as_system(&self, request: PruneRequest) -> Result<PruneReport> {
        let _ = request;
        Err(crate::Error::Forbidden {
            message: "only the server applies retention as the system".into(),
            hint: Some("call prune with your own name".into()),
        })
    }

    /// The series a run exported, by name.
    fn telemetry(&self, run: crate::id::RunId) -> Result<Vec<crate::model::TelemetrySeries>>;
}
