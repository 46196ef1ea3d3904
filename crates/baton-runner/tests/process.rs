//! Real processes: a stopped run leaves no process behind, whatever it started.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use baton_runner::process::{
    group_alive, same_process, start_ticks, AgentProcess, Started, StopLadder,
};
use baton_runner::provider::Invocation;

fn sh(script: &str) -> Invocation {
    Invocation {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        stdin: None,
        env: Vec::new(),
    }
}

fn quick() -> StopLadder {
    StopLadder {
        after_interrupt: Duration::from_millis(300),
        after_terminate: Duration::from_millis(300),
    }
}

fn alive(pid: u32) -> bool {
    // A zombie is dead for our purpose: it runs nothing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            let state = s[s.rfind(')').unwrap() + 2..].chars().next();
            state != Some('Z') && state != Some('X')
        })
        .unwrap_or(false)
}

/// Waits until nothing of the group runs (orphans are reaped by init, not by us).
fn gone(pgid: u32, others: &[u32]) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if !others.iter().any(|p| alive(*p)) && (!group_alive(pgid) || others.is_empty()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn stopping_a_run_stops_every_process_it_started() {
    let Started {
        process: mut agent,
        stdout,
        ..
    } = AgentProcess::spawn(
        &sh("sleep 300 & echo $!; (sleep 300 & echo $!; wait) & sleep 300"),
        Path::new("."),
        &[],
    )
    .unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let children: Vec<u32> = (0..2)
        .map(|_| lines.next().unwrap().unwrap().trim().parse().unwrap())
        .collect();
    assert!(children.iter().all(|p| alive(*p)));
    let status = agent.stop(quick()).unwrap();
    assert!(!status.success());
    assert!(
        gone(agent.pgid, &children),
        "a process of the run survived its stop"
    );
    assert!(!alive(agent.pid()));
}

#[test]
fn a_process_that_ignores_interrupt_and_terminate_is_killed() {
    use std::os::unix::process::ExitStatusExt;
    let Started {
        process: mut agent,
        stdout,
        ..
    } = AgentProcess::spawn(
        &sh("trap '' INT TERM; echo ready; while :; do sleep 0.05; done"),
        Path::new("."),
        &[],
    )
    .unwrap();
    let mut lines = BufReader::new(stdout).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    let started = Instant::now();
    let status = agent.stop(quick()).unwrap();
    assert_eq!(status.signal(), Some(9), "{status:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "both grace periods pass first"
    );
    assert!(gone(agent.pgid, &[agent.pid()]));
}

#[test]
fn children_left_behind_by_a_normal_exit_are_killed() {
    let Started {
        process: mut agent,
        stdout,
        ..
    } = AgentProcess::spawn(&sh("sleep 300 & echo $!; exit 0"), Path::new("."), &[]).unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let left: u32 = lines.next().unwrap().unwrap().trim().parse().unwrap();
    let status = agent.wait().unwrap();
    assert!(status.success());
    assert!(
        gone(agent.pgid, &[left]),
        "the background child outlived its run"
    );
}

#[test]
fn the_prompt_reaches_standard_input_whole() {
    let prompt = "line one\nlíne twö €\n".repeat(20_000);
    let invocation = Invocation {
        stdin: Some(prompt.clone()),
        ..sh("cat")
    };
    let Started {
        process: mut agent,
        mut stdout,
        ..
    } = AgentProcess::spawn(&invocation, Path::new("."), &[("X".into(), "1".into())]).unwrap();
    let mut got = String::new();
    stdout.read_to_string(&mut got).unwrap();
    assert!(agent.wait().unwrap().success());
    assert_eq!(got, prompt);
}

#[test]
fn a_recorded_process_is_recognised_by_its_start_time() {
    let me = std::process::id();
    let ticks = start_ticks(me).expect("own start time");
    assert!(same_process(me, ticks));
    assert!(
        !same_process(me, ticks + 1),
        "a reused pid has another start time"
    );
    assert!(!same_process(u32::MAX / 2, ticks));
}
