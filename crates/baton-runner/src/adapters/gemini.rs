//! `gemini -p --output-format stream-json` (Gemini CLI): JSON Lines of `init` (session,
//! model), `message` chunks, `tool_use`, `tool_result`, `error` and a final `result` with
//! its status and token counts. Exit codes carry meaning too: 53 is the turn limit, 42 an
//! input error, and a run that ends on an API error exits with the HTTP status cut to 8
//! bits (`process.exit(429)` is exit 173, 400 is 144), after a `result` whose error
//! message need not name the status ("You have exhausted your daily quota on this model."
//! for a daily-quota 429): checked on Gemini CLI 0.61.0 (`tests/captures/gemini-*`).

use serde_json::Value;

use super::{count, short, text, tool_input, JsonLines, Tracker};
use crate::record::{Ending, RunEvent};

pub const FORMAT: &str = "gemini-stream-json";

/// The exit code of a run that reached its turn limit.
const TURN_LIMIT_EXIT: i32 = 53;

/// The exit code of a run that ended on an HTTP 429: `process.exit(429)`, cut to 8 bits.
const RATE_LIMIT_EXIT: i32 = 429 & 0xff;

#[derive(Default)]
pub struct StreamJson {
    t: Tracker,
    /// The assistant message being streamed in chunks.
    speaking: String,
    /// The error message of a failed `result`.
    failed: Option<String>,
}

impl JsonLines for StreamJson {
    fn tracker(&mut self) -> &mut Tracker {
        &mut self.t
    }

    fn read(&mut self, v: &Value) -> Vec<RunEvent> {
        self.event(v)
    }

    fn after(&mut self) {
        // The last text is the whole message, never its last chunk.
        if !self.speaking.trim().is_empty() {
            self.t.last_text = Some(self.speaking.clone());
        }
    }

    fn before_finish(&mut self, ending: Ending) {
        if ending == Ending::Exited(TURN_LIMIT_EXIT) {
            self.t.signals.max_turns = true;
        }
        if ending == Ending::Exited(RATE_LIMIT_EXIT) {
            if let Some(message) = &self.failed {
                self.t.signals.read_status(429, message, None);
            }
        }
    }
}

impl StreamJson {
    fn event(&mut self, v: &Value) -> Vec<RunEvent> {
        match text(v, "type").unwrap_or_default() {
            "init" => text(v, "session_id")
                .or_else(|| text(v, "sessionId"))
                .map(|id| vec![RunEvent::Session { id: id.to_string() }])
                .unwrap_or_default(),
            "message" if text(v, "role") == Some("assistant") => {
                let chunk = text(v, "content").unwrap_or_default();
                if v["delta"].as_bool().unwrap_or(false) {
                    self.speaking.push_str(chunk);
                } else {
                    self.speaking = chunk.to_string();
                }
                vec![RunEvent::Text { text: short(chunk) }]
            }
            "tool_use" => {
                self.speaking.clear();
                vec![RunEvent::ToolUse {
                    name: text(v, "tool_name").unwrap_or("tool").to_string(),
                    input: tool_input(&v["parameters"]),
                }]
            }
            "tool_result" => {
                let is_error = text(v, "status").is_some_and(|s| s != "success");
                let output = text(v, "output")
                    .or_else(|| text(&v["error"], "message"))
                    .unwrap_or_default();
                vec![RunEvent::ToolResult {
                    output: short(output),
                    is_error,
                }]
            }
            "error" => {
                let message = text(v, "message").unwrap_or("error");
                self.t.signals.read_error(message, None);
                vec![RunEvent::Error {
                    message: short(message),
                }]
            }
            "result" => {
                let is_error = text(v, "status") != Some("success");
                let stats = &v["stats"];
                let cached = count(stats, "cached");
                self.t.usage.input_tokens = count(stats, "input_tokens").saturating_sub(cached);
                self.t.usage.cache_read_tokens = cached;
                self.t.usage.output_tokens = count(stats, "output_tokens");
                let said = if is_error {
                    let message = text(&v["error"], "message").unwrap_or("the run failed");
                    self.t.signals.read_error(message, None);
                    self.failed = Some(message.to_string());
                    message.to_string()
                } else {
                    self.speaking.clone()
                };
                vec![RunEvent::Result {
                    is_error,
                    text: short(&said),
                }]
            }
            _ => Vec::new(),
        }
    }
}
