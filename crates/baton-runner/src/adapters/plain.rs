//! Plain text (Aider, and `command` providers that run any script): every line is text; the
//! exit code is the only verdict, so exit 0 is the success here (the runner still checks
//! for committed work before calling a task done).

use super::{short, Adapter, Tracker};
use crate::record::{Ending, RunEvent, RunRecord};

pub const FORMAT: &str = "plain";

#[derive(Default)]
pub struct Plain {
    t: Tracker,
}

impl Adapter for Plain {
    fn line(&mut self, line: &str) -> Vec<RunEvent> {
        let line = line.trim_end();
        if line.trim().is_empty() {
            return Vec::new();
        }
        self.t.signals.read_error(line, None);
        let events = vec![RunEvent::Text { text: short(line) }];
        self.t.note(&events);
        events
    }

    fn finish(&mut self, ending: Ending) -> RunRecord {
        if ending == Ending::Exited(0) {
            let last = self.t.last_text.clone().unwrap_or_default();
            self.t.note(&[RunEvent::Result {
                is_error: false,
                text: last,
            }]);
        }
        self.t.finish(ending)
    }
}
