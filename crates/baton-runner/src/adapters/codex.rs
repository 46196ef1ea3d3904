//! `codex exec --json` (Codex CLI): JSON Lines of `thread.started` (the session),
//! `turn.started`, `item.*` (messages, commands, file changes, tool calls, errors),
//! `turn.completed` with the turn's usage, `turn.failed`, and `error`. There is no result
//! event: a completed last turn is the success, its last agent message the final text.

use serde_json::Value;

use super::{count, reset_time, short, text, tool_input, JsonLines, Tracker};
use crate::record::RunEvent;

pub const FORMAT: &str = "codex-jsonl";

#[derive(Default)]
pub struct Jsonl {
    t: Tracker,
}

impl JsonLines for Jsonl {
    fn tracker(&mut self) -> &mut Tracker {
        &mut self.t
    }

    fn read(&mut self, v: &Value) -> Vec<RunEvent> {
        self.event(v)
    }
}

impl Jsonl {
    fn event(&mut self, v: &Value) -> Vec<RunEvent> {
        match text(v, "type").unwrap_or_default() {
            "thread.started" => text(v, "thread_id")
                .map(|id| vec![RunEvent::Session { id: id.to_string() }])
                .unwrap_or_default(),
            "item.completed" => item(&v["item"]),
            "turn.completed" => {
                let u = &v["usage"];
                let cached = count(u, "cached_input_tokens");
                // Input tokens include the cached ones.
                self.t.usage.input_tokens += count(u, "input_tokens").saturating_sub(cached);
                self.t.usage.cache_read_tokens += cached;
                self.t.usage.cache_write_tokens += count(u, "cache_write_input_tokens");
                self.t.usage.output_tokens += count(u, "output_tokens");
                self.t.usage.reasoning_tokens += count(u, "reasoning_output_tokens");
                self.t.usage.turns = Some(self.t.usage.turns.unwrap_or(0) + 1);
                vec![RunEvent::Result {
                    is_error: false,
                    text: self.t.last_text.clone().unwrap_or_default(),
                }]
            }
            "turn.failed" => {
                let message = error_text(&v["error"]).unwrap_or("the turn failed");
                self.t.signals.read_error(message, resets(v));
                vec![RunEvent::Result {
                    is_error: true,
                    text: short(message),
                }]
            }
            "error" => {
                let message = text(v, "message").or_else(|| error_text(&v["error"]));
                let message = message.unwrap_or("error");
                self.t.signals.read_error(message, resets(v));
                vec![RunEvent::Error {
                    message: short(message),
                }]
            }
            _ => Vec::new(),
        }
    }
}

fn item(item: &Value) -> Vec<RunEvent> {
    match text(item, "type").unwrap_or_default() {
        "agent_message" => vec![RunEvent::Text {
            text: short(text(item, "text").unwrap_or_default()),
        }],
        "command_execution" => {
            let failed = text(item, "status") == Some("failed")
                || item["exit_code"].as_i64().is_some_and(|c| c != 0);
            vec![
                RunEvent::ToolUse {
                    name: "command".into(),
                    input: tool_input(item),
                },
                RunEvent::ToolResult {
                    output: short(text(item, "aggregated_output").unwrap_or_default()),
                    is_error: failed,
                },
            ]
        }
        "file_change" => {
            let paths: Vec<&str> = item["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| text(c, "path"))
                .collect();
            vec![RunEvent::ToolUse {
                name: "file_change".into(),
                input: short(&paths.join(" ")),
            }]
        }
        "mcp_tool_call" => vec![RunEvent::ToolUse {
            name: format!(
                "{}.{}",
                text(item, "server").unwrap_or("mcp"),
                text(item, "tool").unwrap_or("tool")
            ),
            input: tool_input(&item["arguments"]),
        }],
        "web_search" => vec![RunEvent::ToolUse {
            name: "web_search".into(),
            input: short(text(item, "query").unwrap_or_default()),
        }],
        // The runner asks for --dangerously-bypass-hook-trust (providers/codex.toml), and
        // Codex says so as an error item: that one is no error of the run's.
        "error"
            if text(item, "message")
                .is_some_and(|m| m.starts_with("`--dangerously-bypass-hook-trust` is enabled")) =>
        {
            Vec::new()
        }
        "error" => vec![RunEvent::Error {
            message: short(text(item, "message").unwrap_or("error")),
        }],
        _ => Vec::new(),
    }
}

fn error_text(e: &Value) -> Option<&str> {
    e.as_str().or_else(|| text(e, "message"))
}

/// A reset time anywhere the event gives one (`resets_at`, in the event or its error).
fn resets(v: &Value) -> Option<baton_core::time::Timestamp> {
    [v, &v["error"]]
        .into_iter()
        .find_map(|o| o.get("resets_at").and_then(reset_time))
}
