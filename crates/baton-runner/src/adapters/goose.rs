//! `goose run --output-format stream-json -q` (Goose): JSON Lines of `message` (a whole
//! conversation message, or a fragment of one: fragments of a streamed reply share the
//! message's `id`), `notification` (an extension's log or progress), and at the end either
//! `complete` (the session's token totals and cost) or `error` (`error`: its text, then a
//! non-zero exit). The stream names no session: Goose's session is picked by name
//! (`-n NAME`), which the stream never repeats.
//!
//! A message's `content` blocks are tagged by `type`: `text`, `toolRequest` (`toolCall`:
//! `status` and `value` {`name`, `arguments`}), `toolResponse` (`toolResult`: `status` and
//! `value` {`content`, `isError`}, or `error`), `thinking`, `systemNotification`
//! (`notificationType`, `msg`) and `error` (`kind`: `authentication`,
//! `contextLengthExceeded`, `creditsExhausted` or `other`; `message`).
//!
//! Goose turns most provider failures (a 429, a 400, a network error) into an assistant
//! text, "Ran into this error: ...", and then ends with `complete` and exit 0; its turn
//! limit is an assistant text too. Those texts are read here, so such a run is not a
//! success.

use serde_json::Value;

use super::{count, short, text, tool_input, JsonLines, Tracker};
use crate::record::RunEvent;

pub const FORMAT: &str = "goose-stream-json";

/// How Goose begins a reply it made of a provider failure.
const FAILURE_STARTS: [&str; 3] = [
    "Ran into this error",
    "The model returned an empty response",
    "Unable to continue:",
];

/// How Goose ends a reply it made of a network failure.
const FAILURE_END: &str = "Please resend your message to try again.";

/// How Goose begins its reply at its turn limit (`--max-turns`).
const TURN_LIMIT_START: &str = "I've reached the maximum number of actions";

#[derive(Default)]
pub struct StreamJson {
    t: Tracker,
    /// The assistant message being streamed: its id and text so far.
    speaking: Option<(Option<String>, String)>,
    /// A failure Goose reported inside the conversation.
    failed: Option<String>,
}

impl JsonLines for StreamJson {
    fn tracker(&mut self) -> &mut Tracker {
        &mut self.t
    }

    fn read(&mut self, v: &Value) -> Vec<RunEvent> {
        let mut out = Vec::new();
        match text(v, "type").unwrap_or_default() {
            "message" => self.message(&v["message"], &mut out),
            "error" => {
                let message = text(v, "error").unwrap_or("error");
                self.t.signals.read_error(message, None);
                out.push(RunEvent::Error {
                    message: short(message),
                });
                out.push(RunEvent::Result {
                    is_error: true,
                    text: short(message),
                });
            }
            "complete" => self.complete(v, &mut out),
            _ => {}
        }
        out
    }

    fn after(&mut self) {
        // The last text is the whole streamed message, never its last fragment.
        if let Some((_, said)) = &self.speaking {
            if !said.trim().is_empty() {
                self.t.last_text = Some(said.clone());
            }
        }
    }
}

impl StreamJson {
    fn message(&mut self, m: &Value, out: &mut Vec<RunEvent>) {
        let assistant = text(m, "role") == Some("assistant");
        let id = text(m, "id").map(str::to_string);
        for block in m["content"].as_array().into_iter().flatten() {
            match text(block, "type").unwrap_or_default() {
                "text" if assistant => {
                    let chunk = text(block, "text").unwrap_or_default();
                    match &mut self.speaking {
                        Some((current, said)) if id.is_some() && *current == id => {
                            said.push_str(chunk)
                        }
                        _ => self.speaking = Some((id.clone(), chunk.to_string())),
                    }
                    out.push(RunEvent::Text { text: short(chunk) });
                    out.extend(self.read_reply());
                }
                "toolRequest" => {
                    self.speaking = None;
                    let call = &block["toolCall"];
                    let value = &call["value"];
                    out.push(RunEvent::ToolUse {
                        name: text(value, "name").unwrap_or("tool").to_string(),
                        input: tool_input(&value["arguments"]),
                    });
                    if text(call, "status") == Some("error") {
                        let message = text(call, "error").unwrap_or("invalid tool call");
                        out.push(RunEvent::Error {
                            message: short(message),
                        });
                    }
                }
                "toolResponse" => {
                    let result = &block["toolResult"];
                    let value = &result["value"];
                    let failed = text(result, "status") == Some("error")
                        || value["isError"].as_bool().unwrap_or(false);
                    let output = match text(result, "error") {
                        Some(error) => error.to_string(),
                        None => value["content"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| text(c, "text"))
                            .collect::<Vec<_>>()
                            .join("\n"),
                    };
                    out.push(RunEvent::ToolResult {
                        output: short(&output),
                        is_error: failed,
                    });
                }
                "error" => {
                    let message = text(block, "message").unwrap_or("error");
                    let signals = &mut self.t.signals;
                    match text(block, "kind").unwrap_or_default() {
                        "authentication" => signals.auth_failed = Some(short(message)),
                        "creditsExhausted" => signals.quota_exhausted = Some(None),
                        _ => signals.read_error(message, None),
                    }
                    self.failed = Some(message.to_string());
                    out.push(RunEvent::Error {
                        message: short(message),
                    });
                }
                "systemNotification" => {
                    let msg = text(block, "msg").unwrap_or_default();
                    match text(block, "notificationType").unwrap_or_default() {
                        "creditsExhausted" => {
                            self.t.signals.quota_exhausted = Some(None);
                            self.failed = Some(msg.to_string());
                            out.push(RunEvent::Error {
                                message: short(msg),
                            });
                        }
                        "inlineMessage" if msg.starts_with("Unable to continue") => {
                            self.failed = Some(msg.to_string());
                            out.push(RunEvent::Error {
                                message: short(msg),
                            });
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
        }
    }

    /// Reads the assistant's reply so far for a failure or the turn limit in Goose's words;
    /// the failure's event the first time it is seen.
    fn read_reply(&mut self) -> Option<RunEvent> {
        let (_, said) = self.speaking.as_ref()?;
        let said = said.trim();
        if said.starts_with(TURN_LIMIT_START) {
            self.t.signals.max_turns = true;
            return None;
        }
        let failure =
            FAILURE_STARTS.iter().any(|f| said.starts_with(f)) || said.ends_with(FAILURE_END);
        if !failure || self.failed.as_deref() == Some(said) {
            return None;
        }
        let first = self.failed.is_none();
        self.t.signals.read_error(said, None);
        self.failed = Some(said.to_string());
        first.then(|| RunEvent::Error {
            message: short(said),
        })
    }

    fn complete(&mut self, v: &Value, out: &mut Vec<RunEvent>) {
        let usage = &mut self.t.usage;
        // The session's totals (a resumed session's include its earlier runs).
        usage.input_tokens = count(v, "input_tokens");
        usage.output_tokens = count(v, "output_tokens");
        usage.cache_read_tokens = count(v, "cache_read_input_tokens");
        usage.cache_write_tokens = count(v, "cache_write_input_tokens");
        usage.cost_usd = v.get("cost_usd").and_then(Value::as_f64);
        let (is_error, said) = match &self.failed {
            Some(failure) => (true, failure.clone()),
            None => (
                false,
                self.speaking
                    .as_ref()
                    .map(|(_, said)| said.clone())
                    .unwrap_or_default(),
            ),
        };
        out.push(RunEvent::Result {
            is_error,
            text: short(&said),
        });
    }
}
