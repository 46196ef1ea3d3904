//! Agent processes: each run in a process group of its own, so that stopping a run stops
//! everything it started (an MCP server, a dev server, a shell's background job).
//!
//! Built on `std::process` (`process_group(0)`) and `rustix` for the group signals; nothing
//! else in Baton sends signals. Stopping is a ladder: SIGINT, then SIGTERM, then SIGKILL,
//! each after a grace period; and once the leader is gone, the group is killed again so no
//! child outlives its run.

use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal};

use crate::provider::Invocation;

/// The grace periods of a stop: how long after SIGINT, then after SIGTERM, before the next.
#[derive(Clone, Copy, Debug)]
pub struct StopLadder {
    pub after_interrupt: Duration,
    pub after_terminate: Duration,
}

impl Default for StopLadder {
    fn default() -> Self {
        StopLadder {
            after_interrupt: Duration::from_secs(2),
            after_terminate: Duration::from_secs(2),
        }
    }
}

/// A process just started, with its output streams.
pub struct Started {
    pub process: AgentProcess,
    pub stdout: ChildStdout,
    pub stderr: ChildStderr,
}

/// A started agent process, leader of its own process group.
pub struct AgentProcess {
    child: Child,
    /// The group's id (the leader's pid).
    pub pgid: u32,
    /// When the kernel started it (`/proc/<pid>/stat`, clock ticks since boot): with the
    /// pid, it tells a restarted runner whether a recorded run is still this process.
    pub start_ticks: Option<u64>,
    pub started: Instant,
}

impl AgentProcess {
    /// Starts `invocation` in `workdir` with `env` added, in a new process group, with its
    /// output piped. The prompt, when it goes on standard input, is written by a thread of
    /// its own (a large prompt must not block on a full pipe) and the input then closed.
    pub fn spawn(
        invocation: &Invocation,
        workdir: &Path,
        env: &[(String, String)],
    ) -> std::io::Result<Started> {
        use std::os::unix::process::CommandExt;

        let mut command = Command::new(&invocation.program);
        command
            .args(&invocation.args)
            .current_dir(workdir)
            .envs(invocation.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .process_group(0)
            .stdin(if invocation.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn()?;
        if let (Some(text), Some(mut stdin)) = (invocation.stdin.clone(), child.stdin.take()) {
            std::thread::Builder::new()
                .name("baton-agent-stdin".into())
                .spawn(move || {
                    // A CLI that exits without reading its input is not an error here.
                    let _ = stdin.write_all(text.as_bytes());
                })?;
        }
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let pid = child.id();
        Ok(Started {
            process: AgentProcess {
                child,
                pgid: pid,
                start_ticks: start_ticks(pid),
                started: Instant::now(),
            },
            stdout,
            stderr,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the leader has exited (and its status), without waiting.
    pub fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Sends `signal` to the whole group; a group that is already gone is not an error.
    pub fn signal_group(&self, signal: Signal) {
        signal_group(self.pgid, signal);
    }

    /// Waits for the leader to exit, then kills whatever is left of its group.
    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait()?;
        self.signal_group(Signal::KILL);
        Ok(status)
    }

    /// Stops the run: SIGINT, SIGTERM, SIGKILL to the group, each after its grace period
    /// unless the leader exited; then the group is killed once more.
    pub fn stop(&mut self, ladder: StopLadder) -> std::io::Result<ExitStatus> {
        for (signal, grace) in [
            (Signal::INT, ladder.after_interrupt),
            (Signal::TERM, ladder.after_terminate),
        ] {
            if let Some(status) = self.child.try_wait()? {
                self.signal_group(Signal::KILL);
                return Ok(status);
            }
            self.signal_group(signal);
            if let Some(status) = wait_up_to(&mut self.child, grace)? {
                self.signal_group(Signal::KILL);
                return Ok(status);
            }
        }
        self.signal_group(Signal::KILL);
        self.child.wait()
    }
}

/// Sends `signal` to process group `pgid`; one that is gone is not an error.
pub fn signal_group(pgid: u32, signal: Signal) {
    if let Some(pid) = Pid::from_raw(pgid as i32) {
        let _ = kill_process_group(pid, signal);
    }
}

/// Whether any process of group `pgid` still exists (zombies included).
pub fn group_alive(pgid: u32) -> bool {
    Pid::from_raw(pgid as i32).is_some_and(|pid| test_kill_process_group(pid).is_ok())
}

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `pid` is alive and is the process that started at `ticks` (not a reused pid).
/// A zombie (ended, not yet reaped by its parent) is not alive.
pub fn same_process(pid: u32, ticks: u64) -> bool {
    start_ticks(pid) == Some(ticks) && !ended(pid)
}

/// Whether `pid` has ended and waits to be reaped (state Z or X in `/proc/<pid>/stat`).
fn ended(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_string));
    matches!(state.as_deref(), Some("Z") | Some("X") | None)
}

fn wait_up_to(child: &mut Child, grace: Duration) -> std::io::Result<Option<ExitStatus>> {
    let until = Instant::now() + grace;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
