//! A task's `verify` command, run in its worktree when the agent says it is finished: in
//! its own process group, with a time limit, its output kept (the end of it) for the agent
//! to fix and for the reviewer to read.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::process::{AgentProcess, StopLadder};
use crate::provider::Invocation;

/// The most of a verify command's output that is kept (its end: where failures are).
const KEPT_OUTPUT: usize = 4000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verification {
    pub command: String,
    pub passed: bool,
    /// The exit code; none when it was stopped (time limit) or killed.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// The end of its combined output.
    pub output: String,
    pub seconds: f64,
}

impl Verification {
    /// One line for a task note.
    pub fn summary(&self) -> String {
        if self.passed {
            format!("verify passed: `{}` ({:.1}s)", self.command, self.seconds)
        } else {
            let how = if self.timed_out {
                "timed out".to_string()
            } else {
                match self.exit_code {
                    Some(code) => format!("exit {code}"),
                    None => "killed".to_string(),
                }
            };
            format!(
                "verify FAILED: `{}` ({how}); output ends:\n{}",
                self.command,
                self.output.trim_end()
            )
        }
    }
}

/// Runs `command` with `sh -c` in `workdir`, stopped after `limit`.
pub fn run(command: &str, workdir: &Path, limit: Duration) -> std::io::Result<Verification> {
    let invocation = Invocation {
        program: "sh".into(),
        // Output of both streams in order, as a person would see it.
        args: vec!["-c".into(), format!("exec 2>&1\n{command}")],
        stdin: None,
        env: Vec::new(),
    };
    let started = Instant::now();
    let mut run = AgentProcess::spawn(&invocation, workdir, &[])?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = run.stdout.read_to_end(&mut out);
        out
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = run.process.try_wait()? {
            run.process.signal_group(rustix::process::Signal::KILL);
            break status;
        }
        if started.elapsed() >= limit {
            timed_out = true;
            break run.process.stop(StopLadder::default())?;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = reader.join().unwrap_or_default();
    let text = String::from_utf8_lossy(&output);
    Ok(Verification {
        command: command.to_string(),
        passed: status.success() && !timed_out,
        exit_code: status.code(),
        timed_out,
        output: tail(&text, KEPT_OUTPUT),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The last `max` bytes of `text`, on a character boundary.
fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passing_and_a_failing_command_are_told_apart_with_their_output() {
        let dir = std::env::temp_dir();
        let ok = run("echo fine", &dir, Duration::from_secs(10)).unwrap();
        assert!(ok.passed);
        assert_eq!(ok.output.trim(), "fine");
        let bad = run("echo broken >&2; exit 4", &dir, Duration::from_secs(10)).unwrap();
        assert!(!bad.passed);
        assert_eq!(bad.exit_code, Some(4));
        assert_eq!(bad.output.trim(), "broken", "stderr is kept too");
        assert!(bad.summary().contains("exit 4"));
    }

    #[test]
    fn a_command_over_its_limit_is_stopped_with_what_it_printed() {
        let dir = std::env::temp_dir();
        let slow = run("echo started; sleep 60", &dir, Duration::from_millis(300)).unwrap();
        assert!(!slow.passed && slow.timed_out);
        assert!(slow.output.contains("started"));
        assert!(slow.seconds < 10.0);
    }

    #[test]
    fn only_the_end_of_a_long_output_is_kept() {
        let t = tail(&"é".repeat(5000), 4000);
        assert!(t.len() <= 4000 + "…".len());
        assert!(t.starts_with('…'));
    }
}
