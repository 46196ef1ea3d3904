//! Runs: one start of an agent CLI on one task by a runner, and the provider accounts the
//! runners use. A run is written before its process starts, so a runner that dies leaves a
//! record a restarted runner can act on.

use serde::{Deserialize, Serialize};

use crate::id::{RunId, TaskId};
use crate::time::Timestamp;

/// Where a run stands. `running` until it ends; every other status is final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Its process is (or is about to be) running under a runner.
    Running,
    /// The CLI reported a final result that is not an error.
    Succeeded,
    /// The CLI stopped at its turn limit.
    MaxTurns,
    /// The provider refused for now (a rate limit).
    RateLimited,
    /// The account's quota is used up.
    QuotaExhausted,
    /// The provider refused the credentials.
    AuthFailed,
    /// An error result, a non-zero exit, a signal, or no result at all.
    Crashed,
    /// The watchdog stopped it: no output for too long.
    Hung,
    /// Someone stopped it.
    Stopped,
    /// Its runner died; the run's work was kept and the task requeued.
    Interrupted,
}

impl RunStatus {
    pub const ALL: [RunStatus; 10] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::MaxTurns,
        RunStatus::RateLimited,
        RunStatus::QuotaExhausted,
        RunStatus::AuthFailed,
        RunStatus::Crashed,
        RunStatus::Hung,
        RunStatus::Stopped,
        RunStatus::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::MaxTurns => "max_turns",
            RunStatus::RateLimited => "rate_limited",
            RunStatus::QuotaExhausted => "quota_exhausted",
            RunStatus::AuthFailed => "auth_failed",
            RunStatus::Crashed => "crashed",
            RunStatus::Hung => "hung",
            RunStatus::Stopped => "stopped",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        self != RunStatus::Running
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for RunStatus {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        RunStatus::parse(s).ok_or_else(|| {
            let all = RunStatus::ALL.map(|r| r.as_str()).join(", ");
            // The list is in the message too: argument parsers show only the message.
            crate::Error::invalid_with_hint(
                format!("'{s}' is not a run status (one of: {all})"),
                format!("one of: {all}"),
            )
        })
    }
}

/// Tokens by type, and cost where the CLI reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// US dollars, as the CLI reported them (kept to the millionth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turns: Option<u64>,
}

impl RunUsage {
    /// Every token, of every type.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.reasoning_tokens
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    pub id: RunId,
    pub task: TaskId,
    /// The agent name the run worked as (`claude-1`).
    pub agent: String,
    pub provider: String,
    /// The provider account it ran as (a name; the account's secrets never leave its runner).
    pub account: Option<String>,
    /// Which run of this claim it is (a retry is the next).
    pub attempt: u32,
    /// The runner that started it: `host:pid:start`.
    pub runner: String,
    pub host: String,
    pub status: RunStatus,
    /// The agent process (leader of its own process group), once started.
    pub pid: Option<u32>,
    pub pgid: Option<u32>,
    /// When the kernel started the process (clock ticks since boot): with the pid, tells
    /// whether a recorded process is still this one.
    pub process_start: Option<u64>,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    /// The CLI's session, for a resume.
    pub session: Option<String>,
    /// Where the runner spools the process's output (on the runner's machine).
    pub spool: Option<String>,
    pub started_at: Timestamp,
    pub updated_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub usage: RunUsage,
    /// The agent's last words (cut).
    pub final_text: Option<String>,
    /// Why it ended as it did, when not plain success.
    pub reason: Option<String>,
    /// Someone asked for it to stop; its runner stops it.
    pub stop_requested: bool,
    /// Lines of output stored so far (older ones past the retention limit are dropped).
    pub log_lines: u64,
}

/// One stored line of a run's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunLogLine {
    /// 1 for the first line of the run; increases by one per line.
    pub seq: u64,
    pub at: Timestamp,
    pub line: String,
}

/// Where a provider account stands, as every runner sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Available,
    /// Rate-limited or out of quota until `until`.
    Cooling,
    /// Refused its credentials: a person must look.
    Disabled,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Available => "available",
            AccountStatus::Cooling => "cooling",
            AccountStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<AccountStatus> {
        [
            AccountStatus::Available,
            AccountStatus::Cooling,
            AccountStatus::Disabled,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// A provider account's state (never its secrets).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountState {
    pub provider: String,
    pub name: String,
    pub status: AccountStatus,
    /// Cooling until then.
    pub until: Option<Timestamp>,
    pub reason: Option<String>,
    pub last_used_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}
