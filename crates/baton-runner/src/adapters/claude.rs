//! `claude -p --output-format stream-json --verbose` (Claude Code; Amp and Cursor's CLI
//! print the same shape): `system/init` with the session, `assistant` and `user` messages,
//! `rate_limit_event`s, and one final `result`. The result's `is_error` decides, never its
//! `subtype` alone: a 429 ends with `subtype: "success"` and `is_error: true`.

use serde_json::Value;

use super::{count, reset_time, short, text, tool_input, JsonLines, Tracker};
use crate::record::{RunEvent, Usage};

pub const FORMAT: &str = "claude-stream-json";

#[derive(Default)]
pub struct StreamJson {
    t: Tracker,
    /// The assistant message whose usage was counted last (a message repeats per block).
    counted_message: Option<String>,
}

impl JsonLines for StreamJson {
    fn tracker(&mut self) -> &mut Tracker {
        &mut self.t
    }

    fn read(&mut self, v: &Value) -> Vec<RunEvent> {
        self.event(v)
    }

    fn plain(&mut self, line: &str) {
        // Older builds print "Claude AI usage limit reached|EPOCH" as a plain line.
        self.t.signals.read_error(line, None);
    }
}

impl StreamJson {
    fn event(&mut self, v: &Value) -> Vec<RunEvent> {
        let mut out = Vec::new();
        if self.t.session_id.is_none() {
            if let Some(id) = text(v, "session_id") {
                out.push(RunEvent::Session { id: id.to_string() });
            }
        }
        match text(v, "type") {
            Some("assistant") => self.assistant(v, &mut out),
            Some("user") => user(v, &mut out),
            Some("rate_limit_event") => {
                let info = v.get("rate_limit_info").unwrap_or(v);
                let status = text(info, "status").unwrap_or("unknown").to_string();
                let reset_at = info
                    .get("resetsAt")
                    .or_else(|| info.get("resets_at"))
                    .and_then(reset_time);
                if status == "rejected" {
                    self.t.signals.rate_limited = Some(reset_at);
                }
                out.push(RunEvent::RateLimit { status, reset_at });
            }
            Some("result") => self.result(v, &mut out),
            _ => {}
        }
        out
    }

    fn assistant(&mut self, v: &Value, out: &mut Vec<RunEvent>) {
        let message = &v["message"];
        let mut said = Vec::new();
        for block in message["content"].as_array().into_iter().flatten() {
            match text(block, "type") {
                Some("text") => {
                    let t = text(block, "text").unwrap_or_default();
                    said.push(t.to_string());
                    out.push(RunEvent::Text { text: short(t) });
                }
                Some("tool_use") => out.push(RunEvent::ToolUse {
                    name: text(block, "name").unwrap_or("tool").to_string(),
                    input: tool_input(&block["input"]),
                }),
                _ => {}
            }
        }
        // Until the result gives the totals, count each message's usage once.
        let id = text(message, "id").map(str::to_string);
        if id.is_some() && id != self.counted_message {
            add(&mut self.t.usage, &message["usage"]);
            self.counted_message = id;
        }
        if let Some(kind) = text(v, "error") {
            let message = format!("{kind}: {}", said.join(" "));
            self.t.signals.read_error(&message, None);
            out.push(RunEvent::Error {
                message: short(&message),
            });
        }
    }

    fn result(&mut self, v: &Value, out: &mut Vec<RunEvent>) {
        let subtype = text(v, "subtype").unwrap_or_default();
        let is_error = v
            .get("is_error")
            .and_then(Value::as_bool)
            .unwrap_or(subtype != "success");
        let said = text(v, "result").unwrap_or_default();
        if subtype == "error_max_turns" {
            self.t.signals.max_turns = true;
        }
        if v.get("usage").is_some_and(Value::is_object) {
            let mut usage = Usage::default();
            add(&mut usage, &v["usage"]);
            self.t.usage = usage;
        }
        self.t.usage.cost_usd = v.get("total_cost_usd").and_then(Value::as_f64);
        self.t.usage.turns = v.get("num_turns").and_then(Value::as_u64);
        if is_error {
            match v.get("api_error_status").and_then(Value::as_u64) {
                Some(status) => self.t.signals.read_status(status, said, None),
                None => self.t.signals.read_error(said, None),
            }
        }
        out.push(RunEvent::Result {
            is_error,
            text: short(said),
        });
    }
}

fn user(v: &Value, out: &mut Vec<RunEvent>) {
    for block in v["message"]["content"].as_array().into_iter().flatten() {
        if text(block, "type") != Some("tool_result") {
            continue;
        }
        let output = match &block["content"] {
            Value::String(s) => s.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| text(p, "text"))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        };
        out.push(RunEvent::ToolResult {
            output: short(&output),
            is_error: block["is_error"].as_bool().unwrap_or(false),
        });
    }
}

/// Adds an Anthropic usage object (its four token counts are disjoint).
fn add(usage: &mut Usage, u: &Value) {
    usage.input_tokens += count(u, "input_tokens");
    usage.output_tokens += count(u, "output_tokens");
    usage.cache_read_tokens += count(u, "cache_read_input_tokens");
    usage.cache_write_tokens += count(u, "cache_creation_input_tokens");
}
