//! One run watched to its end, with scripts standing in for agent CLIs: the outcome, the
//! raw log, the watchdog, a stop, and a CLI that lingers after its result.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use baton_runner::process::{group_alive, AgentProcess, StopLadder};
use baton_runner::provider::Invocation;
use baton_runner::supervise::{supervise, Recorder, Watch};
use baton_runner::{adapter_for, Outcome, RunEvent, RunRecord};

const SESSION: &str = r#"{"type":"system","subtype":"init","session_id":"s-1"}"#;
const SAID: &str = r#"{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"Done: added hello.txt"}],"usage":{"input_tokens":10,"output_tokens":5}}}"#;
const RESULT: &str = r#"{"type":"result","subtype":"success","is_error":false,"result":"Done: added hello.txt","session_id":"s-1","total_cost_usd":0.01,"num_turns":2,"usage":{"input_tokens":100,"output_tokens":20,"cache_read_input_tokens":7,"cache_creation_input_tokens":3}}"#;

fn watch(idle_ms: u64, linger_ms: u64) -> Watch {
    Watch {
        idle_timeout: Duration::from_millis(idle_ms),
        linger_after_result: Duration::from_millis(linger_ms),
        ladder: StopLadder {
            after_interrupt: Duration::from_millis(200),
            after_terminate: Duration::from_millis(200),
        },
    }
}

/// Runs `script` under `sh` as a Claude-format agent; returns the record, the raw log, the
/// events seen live and the process group.
fn run(
    script: &str,
    watch: Watch,
    stop: Arc<AtomicBool>,
) -> (RunRecord, String, Vec<RunEvent>, u32) {
    let invocation = Invocation {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        stdin: None,
        env: Vec::new(),
    };
    let started = AgentProcess::spawn(&invocation, Path::new("."), &[]).unwrap();
    let pgid = started.process.pgid;
    let mut adapter = adapter_for("claude-stream-json").unwrap();
    let mut log = Vec::new();
    let mut control = Recorder {
        flag: stop,
        events: Vec::new(),
    };
    let record = supervise(started, adapter.as_mut(), &mut log, &watch, &mut control).unwrap();
    (
        record,
        String::from_utf8(log).unwrap(),
        control.events,
        pgid,
    )
}

fn lines(list: &[&str]) -> String {
    list.iter().map(|l| format!("echo '{l}'; ")).collect()
}

#[test]
fn a_run_with_a_result_succeeds_and_its_output_is_logged_whole() {
    let script = format!("{} echo oops >&2; exit 0", lines(&[SESSION, SAID, RESULT]));
    let (record, log, events, _) = run(&script, watch(5000, 5000), Arc::default());
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert_eq!(record.session_id.as_deref(), Some("s-1"));
    assert_eq!(record.final_text.as_deref(), Some("Done: added hello.txt"));
    assert_eq!(record.usage.input_tokens, 100);
    assert_eq!(record.usage.cache_read_tokens, 7);
    assert_eq!(record.usage.cost_usd, Some(0.01));
    assert!(
        log.contains(RESULT) && log.contains("[stderr] oops"),
        "{log}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        RunEvent::Result {
            is_error: false,
            ..
        }
    )));
}

#[test]
fn exit_zero_without_a_result_is_a_crash() {
    let (record, _, _, _) = run(&lines(&[SESSION, SAID]), watch(5000, 5000), Arc::default());
    match record.outcome {
        Outcome::Crashed { reason } => {
            assert!(reason.contains("without a final result"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(record.final_text.as_deref(), Some("Done: added hello.txt"));
}

#[test]
fn a_cli_that_lingers_after_its_result_is_stopped_and_keeps_its_success() {
    let script = format!("{} sleep 300 & wait", lines(&[SESSION, RESULT]));
    let started = std::time::Instant::now();
    let (record, _, _, pgid) = run(&script, watch(60_000, 300), Arc::default());
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!group_alive(pgid) || zombies_only(pgid));
}

#[test]
fn the_watchdog_stops_a_run_that_goes_quiet() {
    let script = format!("{} sleep 300", lines(&[SESSION, SAID]));
    let (record, _, _, pgid) = run(&script, watch(400, 60_000), Arc::default());
    assert_eq!(record.outcome, Outcome::Hung);
    assert_eq!(
        record.session_id.as_deref(),
        Some("s-1"),
        "a hung run can still resume"
    );
    assert!(!group_alive(pgid) || zombies_only(pgid));
}

#[test]
fn a_stop_request_ends_the_run_as_stopped() {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let script = format!(
        "{} while :; do echo '{SAID}'; sleep 0.05; done",
        lines(&[SESSION])
    );
    let (record, _, _, _) = run(&script, watch(60_000, 60_000), stop);
    assert_eq!(record.outcome, Outcome::Stopped);
}

#[test]
fn a_rate_limited_result_is_reported_as_such() {
    let limited = r#"{"type":"result","subtype":"success","is_error":true,"api_error_status":429,"result":"API Error: Request rejected (429)","session_id":"s-1"}"#;
    let script = format!("{} exit 1", lines(&[SESSION, limited]));
    let (record, _, _, _) = run(&script, watch(5000, 5000), Arc::default());
    assert_eq!(
        record.outcome.name(),
        "rate_limited",
        "{:?}",
        record.outcome
    );
}

/// Orphans are reaped by init, not by us: a group of zombies only runs nothing.
fn zombies_only(pgid: u32) -> bool {
    std::thread::sleep(Duration::from_millis(200));
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            (fields.get(2)?.parse::<u32>().ok()? == pgid).then(|| fields[0].to_string())
        })
        .all(|state| state == "Z")
}
