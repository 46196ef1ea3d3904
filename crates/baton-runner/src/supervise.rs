//! Watching one run to its end: the CLI's output goes line by line to the raw log and to
//! the adapter; a stop request, the idle watchdog, and a CLI that lingers after its final
//! result all end it through the process's stop ladder. The record says how it ended.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::adapters::Adapter;
use crate::process::{Started, StopLadder};
use crate::record::{Ending, RunEvent, RunRecord};

/// The limits one run is watched with.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    /// No output for this long: the run is stopped as hung.
    pub idle_timeout: Duration,
    /// A final result, then no exit for this long: the process is stopped (the run keeps
    /// its result). Some CLIs finish their work and never exit.
    pub linger_after_result: Duration,
    pub ladder: StopLadder,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            idle_timeout: Duration::from_secs(15 * 60),
            linger_after_result: Duration::from_secs(10),
            ladder: StopLadder::default(),
        }
    }
}

/// The longest line handed to the adapter (the raw log keeps lines whole).
pub const MAX_LINE: usize = 1 << 20;

/// How long, after the process ended, its output may take to drain.
const DRAIN: Duration = Duration::from_secs(2);

const TICK: Duration = Duration::from_millis(50);

enum Output {
    Out(Vec<u8>),
    Err(Vec<u8>),
}

/// What the caller of [`supervise`] decides and sees while a run goes on.
pub trait Control {
    /// Asked about every 50 ms: whether to stop the run now (a stop request, a lost
    /// claim). Also the place for periodic work such as renewing the task's lease.
    fn should_stop(&mut self) -> bool;
    /// Each event, as it comes.
    fn event(&mut self, event: &RunEvent);
    /// Each line of output as it comes (stderr lines marked `[stderr] `), for a live log.
    fn line(&mut self, _line: &str) {}
}

/// A [`Control`] that stops when `flag` is set and keeps the events.
#[derive(Default)]
pub struct Recorder {
    pub flag: std::sync::Arc<AtomicBool>,
    pub events: Vec<RunEvent>,
}

impl Control for Recorder {
    fn should_stop(&mut self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn event(&mut self, event: &RunEvent) {
        self.events.push(event.clone());
    }
}

/// Watches a started process until it ends. Its stdout is read by `adapter`; both streams are
/// appended to `log` (stderr lines marked `[stderr] `); `control` sees each event and may
/// stop the run, which ends through the stop ladder.
pub fn supervise(
    started: Started,
    adapter: &mut dyn Adapter,
    log: &mut dyn Write,
    watch: &Watch,
    control: &mut dyn Control,
) -> std::io::Result<RunRecord> {
    let Started {
        mut process,
        stdout,
        stderr,
    } = started;
    let (lines, output) = mpsc::channel();
    read_lines(stdout, lines.clone(), Output::Out)?;
    read_lines(stderr, lines, Output::Err)?;

    let spawned = process.started;
    let mut first_output: Option<Instant> = None;
    let mut last_output = Instant::now();
    let mut result_at: Option<Instant> = None;
    let mut forced: Option<Ending> = None;
    let take = |item: Output,
                adapter: &mut dyn Adapter,
                log: &mut dyn Write,
                control: &mut dyn Control,
                result_at: &mut Option<Instant>|
     -> std::io::Result<()> {
        match item {
            Output::Out(line) => {
                log.write_all(&line)?;
                log.write_all(b"\n")?;
                let text = String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]);
                control.line(&text);
                for event in adapter.line(&text) {
                    if matches!(event, RunEvent::Result { .. }) && result_at.is_none() {
                        *result_at = Some(Instant::now());
                    }
                    control.event(&event);
                }
            }
            Output::Err(line) => {
                log.write_all(b"[stderr] ")?;
                log.write_all(&line)?;
                log.write_all(b"\n")?;
                let text = String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]);
                control.line(&format!("[stderr] {text}"));
            }
        }
        Ok(())
    };

    let status = loop {
        match output.recv_timeout(TICK) {
            Ok(item) => {
                last_output = Instant::now();
                first_output.get_or_insert(last_output);
                take(item, adapter, log, control, &mut result_at)?;
                continue;
            }
            Err(mpsc::RecvTimeoutError::Timeout) | Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if let Some(status) = process.try_wait()? {
            break status;
        }
        let why = if control.should_stop() {
            Some(Some(Ending::Stopped))
        } else if last_output.elapsed() >= watch.idle_timeout {
            Some(Some(Ending::Hung))
        } else if result_at.is_some_and(|at| at.elapsed() >= watch.linger_after_result) {
            // A process lingering after its result is stopped, and the run keeps the
            // outcome its stream gave.
            Some(None)
        } else {
            None
        };
        if let Some(ending) = why {
            forced = ending;
            break process.stop(watch.ladder)?;
        }
    };
    // The leader is gone; whatever else held the pipes is killed, so they close.
    process.signal_group(rustix::process::Signal::KILL);
    let until = Instant::now() + DRAIN;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match output.recv_timeout(left) {
            Ok(item) => take(item, adapter, log, control, &mut result_at)?,
            Err(_) => break,
        }
    }
    log.flush()?;
    let ending = forced.unwrap_or_else(|| ending_of(status));
    let mut record = adapter.finish(ending);
    record.wall_ms = spawned.elapsed().as_millis() as u64;
    record.first_output_ms = first_output.map(|at| at.duration_since(spawned).as_millis() as u64);
    Ok(record)
}

fn ending_of(status: std::process::ExitStatus) -> Ending {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => Ending::Exited(code),
        (None, Some(signal)) => Ending::Signaled(signal),
        (None, None) => Ending::Exited(-1),
    }
}

/// A thread that sends each line of `stream` (without its newline) until the stream ends.
fn read_lines(
    stream: impl Read + Send + 'static,
    lines: mpsc::Sender<Output>,
    wrap: fn(Vec<u8>) -> Output,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("baton-agent-output".into())
        .spawn(move || {
            let mut reader = BufReader::new(stream);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if line.last() == Some(&b'\n') {
                            line.pop();
                        }
                        if lines.send(wrap(line)).is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .map(|_| ())
}
