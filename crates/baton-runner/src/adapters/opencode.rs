//! `opencode run --format json` (opencode): JSON Lines, each with `type`, `timestamp` (ms)
//! and `sessionID`. A model call is a step: `step_start`, its `text` and `tool_use` parts
//! (a tool only once it finished), then `step_finish` with the step's `reason` (`tool-calls`
//! while the agent goes on, `stop` when it is done), its tokens and cost. There is no result
//! event: the last step's `stop` is the end. A failure is one `error` event (`name`, `data`
//! with `message`, and for an API error `statusCode` and `responseHeaders`), and then the
//! process exits 1, even when opencode went on after it (it compacts and continues after a
//! context overflow). Retries of a rate limit are silent: only the last failure is printed.

use baton_core::time::Timestamp;
use serde_json::Value;

use super::{count, reset_time, short, text, tool_input, JsonLines, Tracker};
use crate::record::{Ending, RunEvent};

pub const FORMAT: &str = "opencode-json";

/// Step endings that are not a finished answer.
const FAILED_REASONS: [&str; 3] = ["length", "content-filter", "error"];

#[derive(Default)]
pub struct Jsonl {
    t: Tracker,
    /// The text of the step under way (a step may write several text parts).
    said: Vec<String>,
    /// The failure opencode reported; it exits non-zero after one.
    failed: Option<String>,
}

impl JsonLines for Jsonl {
    fn tracker(&mut self) -> &mut Tracker {
        &mut self.t
    }

    fn read(&mut self, v: &Value) -> Vec<RunEvent> {
        let mut out = Vec::new();
        if self.t.session_id.is_none() {
            if let Some(id) = text(v, "sessionID") {
                out.push(RunEvent::Session { id: id.to_string() });
            }
        }
        let part = &v["part"];
        match text(v, "type").unwrap_or_default() {
            "step_start" => self.said.clear(),
            "text" => self.text(part, &mut out),
            "tool_use" => tool(part, &mut out),
            "step_finish" => self.step_finish(part, &mut out),
            "error" => self.error(v, &mut out),
            _ => {}
        }
        out
    }

    fn before_finish(&mut self, ending: Ending) {
        // opencode exits non-zero after a failure even when a later step stopped normally:
        // the failure decides.
        if self.failed.is_some() && matches!(ending, Ending::Exited(code) if code != 0) {
            self.t.result = None;
        }
    }
}

impl Jsonl {
    fn text(&mut self, part: &Value, out: &mut Vec<RunEvent>) {
        let said = text(part, "text").unwrap_or_default();
        if part["synthetic"].as_bool().unwrap_or(false) {
            // opencode's own words to the model, not the agent's. After a compaction it
            // tells the model to go on: the step that stopped before was the summary.
            if part["metadata"]["compaction_continue"].as_bool() == Some(true) {
                self.t.result = None;
            }
            return;
        }
        self.said.push(said.to_string());
        out.push(RunEvent::Text { text: short(said) });
    }

    fn step_finish(&mut self, part: &Value, out: &mut Vec<RunEvent>) {
        let tokens = &part["tokens"];
        let usage = &mut self.t.usage;
        // opencode's counts are disjoint: input excludes the cached tokens.
        usage.input_tokens += count(tokens, "input");
        usage.output_tokens += count(tokens, "output");
        usage.reasoning_tokens += count(tokens, "reasoning");
        usage.cache_read_tokens += count(&tokens["cache"], "read");
        usage.cache_write_tokens += count(&tokens["cache"], "write");
        if let Some(cost) = part["cost"].as_f64() {
            usage.cost_usd = Some(usage.cost_usd.unwrap_or(0.0) + cost);
        }
        usage.turns = Some(usage.turns.unwrap_or(0) + 1);
        let reason = text(part, "reason").unwrap_or("stop");
        if reason == "tool-calls" || self.failed.is_some() {
            return;
        }
        let is_error = FAILED_REASONS.contains(&reason);
        let said = if is_error {
            format!("the model stopped: {reason}")
        } else {
            self.said.join("\n")
        };
        out.push(RunEvent::Result {
            is_error,
            text: short(&said),
        });
    }

    fn error(&mut self, v: &Value, out: &mut Vec<RunEvent>) {
        let error = &v["error"];
        let data = &error["data"];
        let name = text(error, "name").unwrap_or("error");
        let message = text(data, "message")
            .or_else(|| text(error, "message"))
            .unwrap_or(name);
        let said = format!("{name}: {message}");
        let signals = &mut self.t.signals;
        if name == "ProviderAuthError" {
            signals.auth_failed = Some(short(&said));
        } else if let Some(status) = data["statusCode"].as_u64() {
            let at = v["timestamp"]
                .as_i64()
                .and_then(Timestamp::from_unix_millis);
            let reset_at = resets(&data["responseHeaders"], at);
            // The body may name the kind of limit (a quota) where the message does not.
            let body = text(data, "responseBody").unwrap_or_default();
            signals.read_status(status, &format!("{message} {body}"), reset_at);
        } else {
            signals.read_error(message, None);
        }
        self.failed = Some(said.clone());
        out.push(RunEvent::Error {
            message: short(&said),
        });
    }
}

fn tool(part: &Value, out: &mut Vec<RunEvent>) {
    let state = &part["state"];
    out.push(RunEvent::ToolUse {
        name: text(part, "tool").unwrap_or("tool").to_string(),
        input: tool_input(&state["input"]),
    });
    let status = text(state, "status").unwrap_or_default();
    if status == "completed" || status == "error" {
        let exit = state["metadata"]["exit"].as_i64().unwrap_or(0);
        let output = text(state, "output")
            .or_else(|| text(state, "error"))
            .unwrap_or_default();
        out.push(RunEvent::ToolResult {
            output: short(output),
            is_error: status == "error" || exit != 0,
        });
    }
}

/// When the provider said to come back, from the response's headers: `retry-after`
/// (seconds) or `retry-after-ms` after the event's time, or an absolute reset time.
fn resets(headers: &Value, at: Option<Timestamp>) -> Option<Timestamp> {
    let header = |name: &str| -> Option<f64> {
        let value = headers.get(name)?;
        value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
    };
    let after = |ms: f64| at.map(|at| at.plus(std::time::Duration::from_millis(ms as u64)));
    if let Some(ms) = header("retry-after-ms").filter(|ms| *ms >= 0.0) {
        return after(ms);
    }
    if let Some(secs) = header("retry-after").filter(|s| *s >= 0.0) {
        return after(secs * 1000.0);
    }
    [
        "anthropic-ratelimit-unified-reset",
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-tokens-reset",
    ]
    .into_iter()
    .find_map(|name| headers.get(name).and_then(reset_time))
}
