//! Requests for runs and provider accounts (what `baton runner` records).

use serde::{Deserialize, Serialize};

use crate::id::TaskId;
use crate::model::{AccountStatus, RunStatus, RunUsage};
use crate::time::Timestamp;

/// A run about to start: written before its process is spawned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    pub task: TaskId,
    pub provider: String,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// The runner starting it: `host:pid:start`.
    pub runner: String,
    pub host: String,
    #[serde(default)]
    pub worktree: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    /// The session it resumes, if any.
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub spool: Option<String>,
}

fn first_attempt() -> u32 {
    1
}

/// What a runner learned about a running run; `None` leaves a field alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunUpdate {
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub pgid: Option<u32>,
    #[serde(default)]
    pub process_start: Option<u64>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub usage: Option<RunUsage>,
    /// A restarted runner adopting the run.
    #[serde(default)]
    pub runner: Option<String>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunEnd {
    /// Any status but `running`.
    pub status: RunStatus,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub final_text: Option<String>,
    #[serde(default)]
    pub session: Option<String>,
    #[serde(default)]
    pub usage: Option<RunUsage>,
}

/// Which runs to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct RunFilter {
    /// Any of these statuses (none: all).
    #[serde(default)]
    pub status: Vec<RunStatus>,
    #[serde(default)]
    pub task: Option<TaskId>,
    /// Started on this host.
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// An account's new state, as a runner saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    pub provider: String,
    pub name: String,
    pub status: AccountStatus,
    #[serde(default)]
    pub until: Option<Timestamp>,
    #[serde(default)]
    pub reason: Option<String>,
    /// The runner just handed it to a run.
    #[serde(default)]
    pub used: bool,
}
