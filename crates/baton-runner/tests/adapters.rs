//! The adapters on what the real CLIs printed (`captures/`, made by `capture.sh` with
//! Claude Code, Codex, opencode and Gemini CLI against the scripted model server): every
//! capture reads without an unreadable line and ends as the CLI's run did. Goose could not be installed
//! here: its captures (`goose-handmade-*`) are written by hand after its source.

use std::path::PathBuf;

use baton_core::time::Timestamp;
use baton_runner::{adapter_for, Ending, Outcome, Provider, RunEvent, RunRecord};

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
    // A shell reports death by signal N as 128 + N; only the -killed captures died so
    // (Gemini CLI exits with an HTTP status cut to 8 bits: 429 is 173).
    let ending = if exit > 128 && name.ends_with("-killed") {
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
const OPENCODE: &str = "opencode-json";
const GOOSE: &str = "goose-stream-json";
const GEMINI: &str = "gemini-stream-json";

fn crash_reason(record: &RunRecord) -> &str {
    match &record.outcome {
        Outcome::Crashed { reason } => reason,
        other => panic!("not a crash: {other:?}"),
    }
}

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
    for (format, name) in [
        (CLAUDE, "claude-killed"),
        (CODEX, "codex-killed"),
        (OPENCODE, "opencode-killed"),
    ] {
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

/// Codex 0.171.0's stdout for a run the runner starts with
/// --dangerously-bypass-hook-trust (whose apply_patch a hook refused: that shows on stderr
/// only): the two notices about the flag are not errors of the run.
#[test]
fn codex_notice_about_the_hook_trust_flag_is_no_error() {
    let stream = r#"{"type":"thread.started","thread_id":"01a24e67-755d-7791-9512-b316e6ae5504"}
{"type":"item.completed","item":{"id":"item_0","type":"error","message":"`--dangerously-bypass-hook-trust` is enabled. Enabled hooks may run without review for this invocation."}}
{"type":"item.completed","item":{"id":"item_1","type":"error","message":"`--dangerously-bypass-hook-trust` is enabled. Enabled hooks may run without review for this invocation."}}
{"type":"turn.started"}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"done"}}
{"type":"item.completed","item":{"id":"item_3","type":"error","message":"something else"}}
{"type":"turn.completed","usage":{"input_tokens":2000,"cached_input_tokens":0,"cache_write_input_tokens":0,"output_tokens":40,"reasoning_output_tokens":0}}"#;
    let mut adapter = adapter_for(CODEX).unwrap();
    let events: Vec<RunEvent> = stream.lines().flat_map(|l| adapter.line(l)).collect();
    let record = adapter.finish(Ending::Exited(0));
    assert_eq!(record.outcome, Outcome::Succeeded);
    let errors: Vec<&RunEvent> = events
        .iter()
        .filter(|e| matches!(e, RunEvent::Error { .. }))
        .collect();
    assert_eq!(
        errors,
        [&RunEvent::Error {
            message: "something else".into()
        }]
    );
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
fn opencode_success_gives_session_usage_cost_tools_and_last_words() {
    let (record, events) = read(OPENCODE, "opencode-success");
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert_eq!(
        record.session_id.as_deref(),
        Some("ses_dbb2fbdb1ffenXMSny8e3Y6uRL")
    );
    assert_eq!(
        record.final_text.as_deref(),
        Some("Created hello.txt and committed it.")
    );
    // Two steps: 1200/30, then 1500/45 with 800 read from the cache (counted apart).
    let u = &record.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cache_read_tokens),
        (2700, 75, 800)
    );
    assert_eq!(u.turns, Some(2));
    let cost = u.cost_usd.expect("opencode reports a cost");
    assert!((cost - 0.009225).abs() < 1e-9, "{cost}");
    let commands = tool_commands(&events);
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(commands[0].contains("git commit"));
    assert!(events.iter().any(|e| matches!(e, RunEvent::ToolResult { output, is_error: false } if output.contains("Add hello.txt"))));
    let results = events
        .iter()
        .filter(|e| matches!(e, RunEvent::Result { .. }))
        .count();
    assert_eq!(results, 1, "a step that calls tools is no result");
}

#[test]
fn opencode_429_after_its_retries_is_a_rate_limit_with_the_reset_it_was_given() {
    let (record, events) = read(OPENCODE, "opencode-rate-limited");
    // The error event at 1796450841556 ms, retry-after: 1.
    assert_eq!(
        record.outcome,
        Outcome::RateLimited {
            reset_at: Timestamp::from_unix_millis(1_796_450_842_556)
        }
    );
    assert!(record.session_id.is_some(), "resumable");
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::Error { message } if message.contains("rate limit"))));
}

#[test]
fn opencode_refused_or_missing_credentials_fail_the_account() {
    for name in ["opencode-auth-failed", "opencode-no-credentials"] {
        let (record, _) = read(OPENCODE, name);
        assert_eq!(
            record.outcome.name(),
            "auth_failed",
            "{name}: {:?}",
            record.outcome
        );
    }
    let (record, _) = read(OPENCODE, "opencode-no-credentials");
    assert!(format!("{:?}", record.outcome).contains("API key is missing"));
}

#[test]
fn opencode_error_fails_the_run_even_when_opencode_went_on_after_it() {
    // A context overflow: opencode compacts, answers, and still exits 1.
    let (record, events) = read(OPENCODE, "opencode-context-overflow");
    let reason = crash_reason(&record);
    assert!(reason.contains("exited with code 1"), "{reason}");
    assert!(reason.contains("prompt is too long"), "{reason}");
    assert!(events.iter().any(|e| matches!(e, RunEvent::Error { .. })));
}

#[test]
fn opencode_exit_0_without_an_answer_is_a_crash() {
    // Without --auto a call that asks is rejected and opencode ends there, exit 0.
    let (record, events) = read(OPENCODE, "opencode-permission-rejected");
    let reason = crash_reason(&record);
    assert!(
        reason.contains("exited 0 without a final result"),
        "{reason}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::ToolResult { is_error: true, .. })));
}

#[test]
fn opencode_resume_keeps_the_session() {
    let (first, _) = read(OPENCODE, "opencode-resume.first");
    let (second, _) = read(OPENCODE, "opencode-resume");
    assert_eq!(first.outcome, Outcome::Succeeded);
    assert_eq!(second.outcome, Outcome::Succeeded);
    assert_eq!(first.session_id, second.session_id);
    assert_eq!(
        second.final_text.as_deref(),
        Some("Resumed: extended hello.txt and committed it.")
    );
    assert_eq!(second.usage.turns, Some(2), "this run's steps only");
}

#[test]
fn goose_success_joins_the_streamed_reply_and_takes_the_totals() {
    let (record, events) = read(GOOSE, "goose-handmade-success");
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert_eq!(record.session_id, None, "Goose's stream names no session");
    assert_eq!(
        record.final_text.as_deref(),
        Some("Created hello.txt and committed it.")
    );
    let u = &record.usage;
    assert_eq!(
        (u.input_tokens, u.output_tokens, u.cache_read_tokens),
        (2700, 75, 800)
    );
    assert_eq!(u.cost_usd, Some(0.009225));
    let commands = tool_commands(&events);
    assert_eq!(commands.len(), 1);
    assert!(commands[0].contains("git commit"));
    assert!(events.iter().any(|e| matches!(e, RunEvent::ToolResult { output, is_error: false } if output.contains("Add hello.txt"))));
}

#[test]
fn goose_failures_in_its_reply_are_not_successes() {
    // Goose words a 429 or a 400 as its reply and ends with `complete`, exit 0.
    let (record, events) = read(GOOSE, "goose-handmade-rate-limited");
    assert_eq!(record.outcome, Outcome::RateLimited { reset_at: None });
    assert!(events.iter().any(|e| matches!(e, RunEvent::Error { .. })));
    let (record, events) = read(GOOSE, "goose-handmade-error");
    let reason = crash_reason(&record);
    assert!(reason.contains("Bad request (400)"), "{reason}");
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::ToolResult { is_error: true, .. })));
}

#[test]
fn goose_typed_errors_fail_the_account_or_its_quota() {
    let (record, _) = read(GOOSE, "goose-handmade-auth-failed");
    assert_eq!(record.outcome.name(), "auth_failed", "{:?}", record.outcome);
    let (record, _) = read(GOOSE, "goose-handmade-credits-exhausted");
    assert_eq!(record.outcome, Outcome::QuotaExhausted { reset_at: None });
}

#[test]
fn goose_turn_limit_is_max_turns() {
    let (record, _) = read(GOOSE, "goose-handmade-max-turns");
    assert_eq!(record.outcome, Outcome::MaxTurns);
}

#[test]
fn goose_exit_0_without_complete_is_a_crash() {
    let (record, events) = read(GOOSE, "goose-handmade-no-result");
    let reason = crash_reason(&record);
    assert!(
        reason.contains("exited 0 without a final result"),
        "{reason}"
    );
    assert!(!tool_commands(&events).is_empty());
}

#[test]
fn opencode_and_goose_ship_as_providers_reading_the_prompt_on_stdin() {
    use baton_runner::provider::RunSpec;
    let all = Provider::builtin();
    for (name, format, resume) in [
        ("opencode", OPENCODE, ["--session", "ses_1"]),
        ("goose", GOOSE, ["-n", "ses_1"]),
    ] {
        let p = Provider::find(&all, name).unwrap();
        assert_eq!(p.format, format);
        let spec = RunSpec {
            prompt: "-fix \"it\" now",
            session: Some("ses_1"),
            workdir: std::path::Path::new("/w"),
            max_turns: None,
            name: "baton-T-1",
        };
        let run = p.invocation(&spec);
        assert_eq!(run.stdin.as_deref(), Some("-fix \"it\" now"), "{name}");
        assert!(!run.args.iter().any(|a| a.contains("fix")), "{name}");
        assert!(
            run.args.windows(2).any(|w| w == resume),
            "{name}: {:?}",
            run.args
        );
    }
}

#[test]
fn gemini_success_gives_session_usage_tools_and_last_words() {
    let (record, events) = read(GEMINI, "gemini-success");
    assert_eq!(record.outcome, Outcome::Succeeded);
    assert_eq!(
        record.session_id.as_deref(),
        Some("6063b74f-6499-4b28-a50c-3220f15dcdba")
    );
    assert_eq!(
        record.final_text.as_deref(),
        Some("Created hello.txt and committed it.")
    );
    // The result's totals, the router's side call (1000/20) included: 3700 in, 800 of
    // them from the cache, 95 out.
    let u = &record.usage;
    assert_eq!(
        (u.input_tokens, u.cache_read_tokens, u.output_tokens),
        (2900, 800, 95)
    );
    assert!(
        tool_commands(&events)[0].contains("git commit"),
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        RunEvent::ToolResult { output, is_error: false } if output.contains("Add hello.txt")
    )));
}

#[test]
fn gemini_429_exit_is_a_rate_limit_whatever_its_message_says() {
    // A daily-quota 429: no retry, a failed result that names no status, exit 173.
    let (record, events) = read(GEMINI, "gemini-rate-limited");
    assert_eq!(record.outcome, Outcome::RateLimited { reset_at: None });
    assert_eq!(
        record.session_id.as_deref(),
        Some("d4a22eac-eacf-4b75-a405-177009a99367")
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, RunEvent::Result { is_error: true, .. })));
    assert_eq!(
        (record.usage.input_tokens, record.usage.output_tokens),
        (1000, 20)
    );
}

#[test]
fn gemini_api_error_is_a_crash_with_its_message() {
    let (record, _) = read(GEMINI, "gemini-error");
    assert_eq!(
        record.session_id.as_deref(),
        Some("96f454aa-8942-4c6d-ad4f-fe82b3215fbe")
    );
    let reason = crash_reason(&record);
    assert!(reason.starts_with("exited with code 144"), "{reason}");
    assert!(reason.contains("INVALID_ARGUMENT"), "{reason}");
}

#[test]
fn gemini_ships_as_a_provider_that_trusts_the_work_tree() {
    use baton_runner::provider::RunSpec;
    let all = Provider::builtin();
    let p = Provider::find(&all, "gemini").unwrap();
    assert_eq!(p.format, GEMINI);
    let spec = RunSpec {
        prompt: "fix it",
        session: None,
        workdir: std::path::Path::new("/w"),
        max_turns: None,
        name: "baton-T-1",
    };
    let run = p.invocation(&spec);
    for flag in ["--yolo", "--skip-trust"] {
        assert!(run.args.iter().any(|a| a == flag), "{:?}", run.args);
    }
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
        "opencode-success",
        "opencode-rate-limited",
        "opencode-auth-failed",
        "opencode-no-credentials",
        "opencode-context-overflow",
        "opencode-permission-rejected",
        "opencode-resume.first",
        "opencode-resume",
        "opencode-killed",
        "goose-handmade-success",
        "goose-handmade-rate-limited",
        "goose-handmade-error",
        "goose-handmade-auth-failed",
        "goose-handmade-credits-exhausted",
        "goose-handmade-max-turns",
        "goose-handmade-no-result",
        "gemini-success",
        "gemini-rate-limited",
        "gemini-error",
    ];
    for entry in std::fs::read_dir(captures()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".jsonl") {
            assert!(tested.contains(&stem), "capture {stem} has no test");
        }
    }
}
