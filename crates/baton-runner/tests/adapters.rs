//! The adapters on what the real CLIs printed (`captures/`, made by `capture.sh` with
//! Claude Code and Codex against the scripted model server): every capture reads without
//! an unreadable line and ends as the CLI's run did.

use std::path::PathBuf;

use baton_runner::{adapter_for, Ending, Outcome, RunEvent, RunRecord};

fn captures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/captures")
}

/// Reads capture `name` with the adapter for `format`, ended as the capture's exit says.
fn read(format: &str, name: &str) -> (RunRecord, Vec<RunEvent>) {
    let dir = captures();
    let stream = std::fs::read_to_string(dir.join(format!("{name}.jsonl"))).unwrap();
    let exit: i32 = std::fs::read_to_string(dir.join(format!("{name}.exit")))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // A shell reports death by signal N as 128 + N.
    let ending = if exit > 128 {
        Ending::Signaled(exit - 128)
    } else {
        Ending::Exited(exit)
    };
    let mut adapter = adapter_for(format).unwrap();
    let events: Vec<RunEvent> = stream.lines().flat_map(|l| adapter.line(l)).collect();
    let record = adapter.finish(ending);
    assert_eq!(record.unreadable_lines, 0, "{name}");
    (record, events)
}

fn tool_commands(events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::ToolUse { input, .. } => Some(input.clone()),
            _ => None,
        })
        .collect()
}

const CLAUDE: &str = "claude-stream-json";
const CODEX: &str = "codex-jsonl";

#[test]
fn claude_code_success_gives_session_usage_cost_tools_and_last_words() {
    let (record, events) = read(CLAUDE, "claude-success");
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert_eq!(
        record.session_id.as_deref(),
        Some("9dcc9607-c3eb-46ac-a474-66233d63e939")
    );
    assert_eq!(
        record.final_text.as_deref(),
        Some("Created hello.txt and committed it.")
    );
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (2000, 40)
    );
    assert_eq!(record.usage.cost_usd, Some(0.0088));
    assert_eq!(record.usage.turns, Some(2));
    assert!(
        tool_commands(&events)[0].contains("git commit"),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(e, RunEvent::ToolResult { output, is_error: false } if output.contains("Add hello.txt"))));
}

#[test]
fn claude_code_429_is_a_rate_limit_whatever_its_subtype_says() {
    for name in ["claude-rate-limited", "claude-rate-limited-retry"] {
        let (record, events) = read(CLAUDE, name);
        assert_eq!(
            record.outcome.name(),
            "rate_limited",
            "{name}: {:?}",
            record.outcome
        );
        assert!(record.session_id.is_some(), "{name}: resumable");
        assert!(
            events.iter().any(|e| matches!(e, RunEvent::Error { .. })),
            "{name}"
        );
    }
}

#[test]
fn claude_code_turn_limit_is_max_turns() {
    let (record, _) = read(CLAUDE, "claude-max-turns");
    assert_eq!(record.outcome, Outcome::MaxTurns);
}

#[test]
fn claude_code_resume_keeps_the_session() {
    let (first, _) = read(CLAUDE, "claude-resume.first");
    let (second, _) = read(CLAUDE, "claude-resume");
    assert_eq!(first.outcome, Outcome::Succeeded);
    assert_eq!(second.outcome, Outcome::Succeeded);
    assert_eq!(first.session_id, second.session_id);
}

#[test]
fn a_killed_cli_is_a_crash_that_can_resume() {
    for (format, name) in [(CLAUDE, "claude-killed"), (CODEX, "codex-killed")] {
        let (record, events) = read(format, name);
        match &record.outcome {
            Outcome::Crashed { reason } => assert!(reason.contains("signal 9"), "{reason}"),
            other => panic!("{name}: {other:?}"),
        }
        assert!(record.session_id.is_some(), "{name}");
        assert!(
            !tool_commands(&events).is_empty(),
            "{name}: the work before the kill is seen"
        );
    }
}

#[test]
fn codex_success_gives_thread_usage_commands_and_last_words() {
    let (record, events) = read(CODEX, "codex-success");
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert_eq!(
        record.session_id.as_deref(),
        Some("01a2421e-9e11-7020-86bb-dc59c4fa853a")
    );
    assert_eq!(
        record.final_text.as_deref(),
        Some("Created hello.txt and committed it.")
    );
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (2000, 40)
    );
    assert_eq!(record.usage.cost_usd, None, "Codex reports no cost");
    let commands = tool_commands(&events);
    assert_eq!(
        commands.len(),
        1,
        "item.started is not counted twice: {commands:?}"
    );
    assert!(commands[0].contains("git commit"));
}

#[test]
fn codex_usage_limits_and_exhausted_retries_are_rate_limits() {
    for name in ["codex-rate-limited", "codex-rate-limited-retry"] {
        let (record, _) = read(CODEX, name);
        assert_eq!(
            record.outcome.name(),
            "rate_limited",
            "{name}: {:?}",
            record.outcome
        );
    }
}

#[test]
fn codex_resume_keeps_the_thread() {
    let (first, _) = read(CODEX, "codex-resume.first");
    let (second, _) = read(CODEX, "codex-resume");
    assert_eq!(second.outcome, Outcome::Succeeded);
    assert_eq!(first.session_id, second.session_id);
    assert_eq!(
        second.final_text.as_deref(),
        Some("Resumed: extended hello.txt and committed it.")
    );
}

#[test]
fn every_capture_is_covered_by_a_test() {
    let tested = [
        "claude-success",
        "claude-rate-limited",
        "claude-rate-limited-retry",
        "claude-max-turns",
        "claude-resume.first",
        "claude-resume",
        "claude-killed",
        "codex-success",
        "codex-rate-limited",
        "codex-rate-limited-retry",
        "codex-resume.first",
        "codex-resume",
        "codex-killed",
    ];
    for entry in std::fs::read_dir(captures()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".jsonl") {
            assert!(tested.contains(&stem), "capture {stem} has no test");
        }
    }
}
