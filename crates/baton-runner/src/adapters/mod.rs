//! One adapter per output format, all reducing to one [`RunRecord`]. An adapter only reads:
//! lines in, events out; what a run ends as is decided in one place ([`Tracker::finish`]).

mod claude;
mod codex;
mod gemini;
mod goose;
mod opencode;
mod plain;

use baton_core::time::Timestamp;
use serde_json::Value;

use crate::record::{cut, Ending, Outcome, RunEvent, RunRecord, Usage, MAX_EVENT_TEXT};

/// Reads one CLI's output.
pub trait Adapter: Send {
    /// One line of the CLI's stdout; the events it carried (often none).
    fn line(&mut self, line: &str) -> Vec<RunEvent>;
    /// The process ended: the whole run.
    fn finish(&mut self, ending: Ending) -> RunRecord;

    /// A run that never started (its CLI could not be spawned): a crash, with `reason`.
    fn finish_with_reason(&mut self, reason: String) -> RunRecord {
        let mut record = self.finish(Ending::Exited(-1));
        record.outcome = Outcome::Crashed { reason };
        record
    }
}

/// A format of one JSON object per line: the adapter reads objects, the rest is shared.
pub(crate) trait JsonLines: Send {
    fn tracker(&mut self) -> &mut Tracker;
    /// The events one object carries.
    fn read(&mut self, v: &Value) -> Vec<RunEvent>;
    /// A line that is not JSON (already counted as unreadable).
    fn plain(&mut self, _line: &str) {}
    /// After each line's events were noted.
    fn after(&mut self) {}
    /// Before the run's record is made.
    fn before_finish(&mut self, _ending: Ending) {}
}

impl<T: JsonLines> Adapter for T {
    fn line(&mut self, line: &str) -> Vec<RunEvent> {
        let line = line.trim();
        if line.is_empty() {
            return Vec::new();
        }
        let events = match serde_json::from_str::<Value>(line) {
            Ok(v) => self.read(&v),
            Err(_) => {
                self.tracker().unreadable += 1;
                self.plain(line);
                Vec::new()
            }
        };
        self.tracker().note(&events);
        self.after();
        events
    }

    fn finish(&mut self, ending: Ending) -> RunRecord {
        self.before_finish(ending);
        self.tracker().finish(ending)
    }
}

/// The formats an adapter reads, as provider files name them.
pub const FORMATS: [&str; 6] = [
    claude::FORMAT,
    codex::FORMAT,
    gemini::FORMAT,
    opencode::FORMAT,
    goose::FORMAT,
    plain::FORMAT,
];

/// A fresh adapter for `format` (one of [`FORMATS`]).
pub fn adapter_for(format: &str) -> Option<Box<dyn Adapter>> {
    Some(match format {
        claude::FORMAT => Box::new(claude::StreamJson::default()),
        codex::FORMAT => Box::new(codex::Jsonl::default()),
        gemini::FORMAT => Box::new(gemini::StreamJson::default()),
        opencode::FORMAT => Box::new(opencode::Jsonl::default()),
        goose::FORMAT => Box::new(goose::StreamJson::default()),
        plain::FORMAT => Box::new(plain::Plain::default()),
        _ => return None,
    })
}

/// What the provider said about limits and credentials along the way.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Signals {
    pub rate_limited: Option<Option<Timestamp>>,
    pub quota_exhausted: Option<Option<Timestamp>>,
    pub auth_failed: Option<String>,
    pub max_turns: bool,
}

impl Signals {
    /// Reads an error text (an API error, a CLI's message) for what it says about limits
    /// and credentials. `reset_at` is the reset time given beside it, if any.
    pub fn read_error(&mut self, text: &str, reset_at: Option<Timestamp>) {
        let lower = text.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        if has(&[
            "quota exceeded",
            "insufficient_quota",
            "exceeded your current quota",
            "quota_exhausted",
        ]) {
            self.quota_exhausted = Some(reset_at);
        } else if let Some(reset) = usage_limit_reset(text) {
            // "Claude AI usage limit reached|1767225600": the account's limit, with its reset.
            self.rate_limited = Some(Some(reset));
        } else if has(&[
            "rate limit",
            "rate_limit",
            "ratelimit",
            "usage limit",
            "usage_limit_reached",
            "too many requests",
            "resource_exhausted",
            " 429",
            "(429)",
            "overloaded",
        ]) {
            self.rate_limited = Some(reset_at.or(self.rate_limited.flatten()));
        } else if has(&[
            "invalid api key",
            "invalid x-api-key",
            "authentication_error",
            "authentication failed",
            "unauthorized",
            " 401",
            "(401)",
            "please run /login",
            "not logged in",
            "permission_error",
        ]) {
            self.auth_failed = Some(cut(text, 300));
        }
    }

    /// An HTTP status the CLI reported for its last API call.
    pub fn read_status(&mut self, status: u64, text: &str, reset_at: Option<Timestamp>) {
        match status {
            429 | 529 => {
                self.read_error(text, reset_at);
                if self.quota_exhausted.is_none() && self.rate_limited.is_none() {
                    self.rate_limited = Some(reset_at);
                }
            }
            401 | 403 => self.auth_failed = Some(cut(text, 300)),
            _ => self.read_error(text, reset_at),
        }
    }
}

/// The reset time in "... usage limit reached|EPOCH" (seconds), the form some CLIs print.
fn usage_limit_reset(text: &str) -> Option<Timestamp> {
    let (before, after) = text.split_once('|')?;
    if !before.to_ascii_lowercase().contains("limit reached") {
        return None;
    }
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    epoch(digits.parse().ok()?)
}

/// A Unix time in seconds or milliseconds (CLIs use both).
pub(crate) fn epoch(n: i64) -> Option<Timestamp> {
    if n <= 0 {
        return None;
    }
    let millis = if n < 100_000_000_000 { n * 1000 } else { n };
    Timestamp::from_unix_millis(millis)
}

/// A reset time given as a Unix time (number or numeric text) or an RFC 3339 text.
pub(crate) fn reset_time(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Number(n) => n.as_i64().and_then(epoch),
        Value::String(s) => s
            .parse::<i64>()
            .ok()
            .and_then(epoch)
            .or_else(|| Timestamp::parse(s)),
        _ => None,
    }
}

/// What every adapter keeps while reading, and how a run ends (one place for all formats).
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    pub session_id: Option<String>,
    pub usage: Usage,
    pub last_text: Option<String>,
    /// The final report: `(is_error, text)`.
    pub result: Option<(bool, String)>,
    pub last_error: Option<String>,
    pub signals: Signals,
    pub unreadable: u64,
}

impl Tracker {
    /// Keeps what the events say about the run as a whole.
    pub fn note(&mut self, events: &[RunEvent]) {
        for event in events {
            match event {
                RunEvent::Session { id } => self.session_id = Some(id.clone()),
                RunEvent::Text { text } if !text.trim().is_empty() => {
                    self.last_text = Some(text.clone())
                }
                RunEvent::Error { message } => self.last_error = Some(message.clone()),
                RunEvent::Result { is_error, text } => {
                    self.result = Some((*is_error, text.clone()))
                }
                _ => {}
            }
        }
    }

    /// The run as a whole. A final result that is no error is a success whatever came after
    /// (a CLI that lingers after its result is stopped by the runner); without one, the
    /// runner's own stop or watchdog, then what the provider said, then a crash.
    pub fn finish(&self, ending: Ending) -> RunRecord {
        let succeeded = matches!(self.result, Some((false, _))) && !self.signals.max_turns;
        let s = &self.signals;
        let outcome = if succeeded {
            Outcome::Succeeded
        } else if ending == Ending::Stopped {
            Outcome::Stopped
        } else if ending == Ending::Hung {
            Outcome::Hung
        } else if let Some(reason) = &s.auth_failed {
            Outcome::AuthFailed {
                reason: reason.clone(),
            }
        } else if let Some(reset_at) = s.quota_exhausted {
            Outcome::QuotaExhausted { reset_at }
        } else if let Some(reset_at) = s.rate_limited {
            Outcome::RateLimited { reset_at }
        } else if s.max_turns {
            Outcome::MaxTurns
        } else {
            Outcome::Crashed {
                reason: self.crash_reason(ending),
            }
        };
        let final_text = match &self.result {
            Some((_, text)) if !text.trim().is_empty() => Some(text.clone()),
            _ => self.last_text.clone(),
        };
        RunRecord {
            session_id: self.session_id.clone(),
            usage: self.usage.clone(),
            final_text,
            outcome,
            unreadable_lines: self.unreadable,
            wall_ms: 0,
            account: None,
            first_output_ms: None,
        }
    }

    fn crash_reason(&self, ending: Ending) -> String {
        let how = match ending {
            Ending::Exited(0) if self.result.is_some() => {
                "exited 0 after a failed result".to_string()
            }
            Ending::Exited(0) => "exited 0 without a final result".to_string(),
            Ending::Exited(code) => format!("exited with code {code}"),
            Ending::Signaled(signal) => format!("killed by signal {signal}"),
            Ending::Stopped | Ending::Hung => unreachable!("handled before"),
        };
        match (&self.result, &self.last_error) {
            (Some((true, text)), _) if !text.trim().is_empty() => {
                format!("{how}: {}", cut(text, 300))
            }
            (_, Some(error)) => format!("{how}: {}", cut(error, 300)),
            _ => how,
        }
    }
}

/// Text of an event, cut to [`MAX_EVENT_TEXT`].
pub(crate) fn short(text: &str) -> String {
    cut(text, MAX_EVENT_TEXT)
}

/// A tool's input as one short line: its command or path when it has one, else its JSON.
pub(crate) fn tool_input(input: &Value) -> String {
    for key in [
        "command",
        "cmd",
        "file_path",
        "path",
        "pattern",
        "url",
        "query",
    ] {
        match input.get(key) {
            Some(Value::String(s)) => return cut(s, 500),
            Some(Value::Array(parts)) => {
                let words: Vec<&str> = parts.iter().filter_map(Value::as_str).collect();
                if !words.is_empty() {
                    return cut(&words.join(" "), 500);
                }
            }
            _ => {}
        }
    }
    cut(&input.to_string(), 500)
}

/// A number field as u64 (absent or not a number: 0).
pub(crate) fn count(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// A text field.
pub(crate) fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_texts_are_read_for_limits_and_credentials() {
        let mut s = Signals::default();
        s.read_error("Claude AI usage limit reached|1767225600", None);
        assert_eq!(
            s.rate_limited,
            Some(Timestamp::from_unix_millis(1_767_225_600_000))
        );
        let mut s = Signals::default();
        s.read_error(
            "You exceeded your current quota, please check your plan",
            None,
        );
        assert!(s.quota_exhausted.is_some());
        let mut s = Signals::default();
        s.read_error("API Error: 401 invalid x-api-key", None);
        assert!(s.auth_failed.is_some());
        let mut s = Signals::default();
        s.read_error("tests failed: 3 of 40", None);
        assert_eq!(s, Signals::default());
    }

    #[test]
    fn exit_zero_without_a_result_is_a_crash() {
        let t = Tracker::default();
        let record = t.finish(Ending::Exited(0));
        assert_eq!(record.outcome.name(), "crashed");
        assert!(format!("{:?}", record.outcome).contains("without a final result"));
    }

    #[test]
    fn a_success_stands_even_when_the_lingering_process_is_stopped() {
        let mut t = Tracker::default();
        t.note(&[RunEvent::Result {
            is_error: false,
            text: "done".into(),
        }]);
        assert_eq!(t.finish(Ending::Stopped).outcome, Outcome::Succeeded);
        assert_eq!(t.finish(Ending::Signaled(15)).outcome, Outcome::Succeeded);
    }

    #[test]
    fn every_format_has_an_adapter() {
        for format in FORMATS {
            assert!(adapter_for(format).is_some(), "{format}");
        }
        assert!(adapter_for("nonsense").is_none());
    }
}
