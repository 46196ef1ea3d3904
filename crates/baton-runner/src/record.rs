//! What a run of an agent CLI comes to, the same for every CLI: its session, what it did,
//! what it cost, its last words, and how it ended.

use baton_core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How a run ended. Decided from what the CLI printed and how its process ended, never from
/// the exit code alone: exit 0 with no final result is a crash, not a success.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The CLI reported a final result that is not an error.
    Succeeded,
    /// The CLI stopped at its turn limit; the session can be resumed with "continue".
    MaxTurns,
    /// The provider refused for now; `reset_at` is when to try again, when it said.
    RateLimited { reset_at: Option<Timestamp> },
    /// The account's quota is used up (until `reset_at`, when known).
    QuotaExhausted { reset_at: Option<Timestamp> },
    /// The provider refused the credentials: the account needs a person.
    AuthFailed { reason: String },
    /// Anything else: an error result, a non-zero exit, a signal, or no result at all.
    Crashed { reason: String },
    /// The runner's watchdog stopped it: no output for too long.
    Hung,
    /// Someone stopped it (`baton run stop`, a shutdown).
    Stopped,
}

impl Outcome {
    /// The name stored with the run (`rate_limited`).
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::MaxTurns => "max_turns",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::QuotaExhausted { .. } => "quota_exhausted",
            Outcome::AuthFailed { .. } => "auth_failed",
            Outcome::Crashed { .. } => "crashed",
            Outcome::Hung => "hung",
            Outcome::Stopped => "stopped",
        }
    }
}

/// Tokens by type, and cost where the CLI reports it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turns: Option<u64>,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
            + self.reasoning_tokens
    }
}

/// One thing the agent did, in every CLI's words the same.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunEvent {
    /// The CLI's session (thread) id: what a resume needs.
    Session { id: String },
    /// Text the agent wrote.
    Text { text: String },
    /// A tool call: its name and a short form of its input.
    ToolUse { name: String, input: String },
    /// A tool's result (cut), and whether it failed.
    ToolResult { output: String, is_error: bool },
    /// The provider said how close the account is to its limit.
    RateLimit {
        status: String,
        reset_at: Option<Timestamp>,
    },
    /// An error the CLI reported (it may still go on).
    Error { message: String },
    /// The CLI's final report.
    Result { is_error: bool, text: String },
}

/// How the process ended, as the supervisor saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it (not one of ours).
    Signaled(i32),
    /// The runner stopped it on request.
    Stopped,
    /// The runner's watchdog stopped it.
    Hung,
}

/// The whole run, from its stream and its ending.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub session_id: Option<String>,
    pub usage: Usage,
    /// The agent's last words: the final result's text, else its last text.
    pub final_text: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Lines that were not in the expected format (kept out of the events, counted).
    pub unreadable_lines: u64,
    /// From the spawn to the process's end (set by the supervisor).
    #[serde(default)]
    pub wall_ms: u64,
    /// The provider account the run used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// From the spawn to the first line of output, if any came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_output_ms: Option<u64>,
}

/// The longest text kept in one event; the raw log keeps everything.
pub const MAX_EVENT_TEXT: usize = 4000;

/// `text` cut to at most `max` bytes on a character boundary, with an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_never_splits_a_character() {
        assert_eq!(cut("héllo", 2), "h…");
        assert_eq!(cut("héllo", 3), "hé…");
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("€€€", 4), "€…");
    }

    #[test]
    fn outcomes_serialize_with_their_stored_name() {
        let o = Outcome::RateLimited { reset_at: None };
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["outcome"], o.name());
    }
}
