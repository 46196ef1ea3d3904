//! The operations record with real processes: two agents and a person write log entries
//! and board changes; `baton tail -f` sees each one live, attributed.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use support::{command_in, Run, Sandbox};

fn as_tool(s: &Sandbox, agent: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = command_in(s.path(), args);
    cmd.env_remove("BATON_AGENT")
        .env_remove("CLAUDECODE")
        .env_remove("CLAUDE_CODE_ENTRYPOINT")
        .env_remove("CODEX_SANDBOX")
        .env_remove("CODEX_THREAD_ID")
        .env_remove("CURSOR_AGENT")
        .env_remove("GEMINI_CLI");
    if let Some(a) = agent {
        cmd.env("BATON_AGENT", a);
    }
    cmd.envs(env.iter().copied());
    support::finish(cmd.output().unwrap())
}

#[test]
fn two_agents_and_a_person_log_and_tail_follows_them_live() {
    let s = Sandbox::project();
    let mut tail = command_in(s.path(), &["tail", "-f", "--format", "json", "-n", "0"]);
    tail.stdout(Stdio::piped()).stderr(Stdio::null());
    let mut child = tail.spawn().unwrap();
    let (send, lines) = mpsc::channel::<Value>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { return };
            if let Ok(v) = serde_json::from_str(&line) {
                if send.send(v).is_err() {
                    return;
                }
            }
        }
    });
    // Give the follower a moment to start after the newest event.
    std::thread::sleep(Duration::from_millis(500));
    let next = |what: &str| -> Value {
        lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("tail -f did not show {what}"))
    };

    let claude = [("CLAUDECODE", "1")];
    as_tool(
        &s,
        Some("claude-1"),
        &claude,
        &["log", "Build started", "--action", "BUILD"],
    )
    .ok();
    let e = next("claude's log entry");
    assert_eq!(
        (e["action"].as_str(), e["actor"].as_str()),
        (Some("log.build"), Some("claude-1"))
    );
    assert_eq!(e["detail"]["kind"], "ai");
    assert_eq!(e["detail"]["tool"], "claude-code");
    assert_eq!(e["detail"]["level"], "info");

    let codex = [("CODEX_SANDBOX", "seatbelt")];
    as_tool(
        &s,
        Some("codex-1"),
        &codex,
        &["task", "add", "--title", "Fix the flaky test"],
    )
    .ok();
    let e = next("the board change");
    assert_eq!(
        (e["action"].as_str(), e["actor"].as_str()),
        (Some("task.created"), Some("codex-1"))
    );
    as_tool(
        &s,
        Some("codex-1"),
        &codex,
        &[
            "log",
            "Tests failed: 3 of 812",
            "--action",
            "test",
            "--level",
            "error",
            "--task",
            "T-1",
        ],
    )
    .ok();
    let e = next("codex's error");
    assert_eq!(e["action"], "log.test");
    assert_eq!(
        (e["detail"]["tool"].as_str(), e["task"].as_str()),
        (Some("codex"), Some("T-1"))
    );
    assert_eq!(e["detail"]["level"], "error");

    as_tool(
        &s,
        None,
        &[],
        &["log", "Deploy window opens at 18:00", "--action", "DEPLOY"],
    )
    .ok();
    let e = next("the person's entry");
    assert_eq!(
        (e["detail"]["kind"].as_str(), e["actor"].as_str()),
        (Some("human"), Some("human"))
    );
    as_tool(
        &s,
        None,
        &[],
        &[
            "log",
            "Deployed 1.4.2",
            "--action",
            "DEPLOY",
            "--system",
            "ci",
        ],
    )
    .ok();
    let e = next("the system's entry");
    assert_eq!(
        (e["detail"]["kind"].as_str(), e["actor"].as_str()),
        (Some("system"), Some("ci"))
    );
    child.kill().ok();
    child.wait().ok();

    // Filters: a log action, an actor, an event prefix; text lines read as messages.
    let deploys = as_tool(
        &s,
        None,
        &[],
        &["tail", "--action", "DEPLOY", "--format", "json"],
    )
    .ok();
    assert_eq!(deploys.stdout.lines().count(), 2, "{}", deploys.stdout);
    let by_codex = as_tool(
        &s,
        None,
        &[],
        &["tail", "--actor", "codex-1", "--format", "json"],
    )
    .ok();
    assert_eq!(by_codex.stdout.lines().count(), 2, "{}", by_codex.stdout);
    let text = as_tool(&s, None, &[], &["tail", "-n", "3", "--format", "text"])
        .ok()
        .stdout;
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.contains("[error] Tests failed: 3 of 812 (ai, codex)"),
        "{text}"
    );
    let tasks = as_tool(
        &s,
        None,
        &[],
        &["tail", "--action", "task.", "--format", "json"],
    )
    .ok();
    assert_eq!(tasks.stdout.lines().count(), 1);

    // Bad input changes nothing.
    as_tool(&s, None, &[], &["log", "  "]).fails(2, "invalid_input");
    as_tool(&s, None, &[], &["log", "x", "--action", "no good!"]).fails(2, "invalid_input");
    as_tool(&s, None, &[], &["log", "x", "--task", "T-99"]).fails(3, "task_not_found");
    as_tool(&s, None, &[], &["log", "x", "--level", "loud"]).fails(2, "invalid_arguments");
    let all = as_tool(&s, None, &[], &["tail", "--all", "--format", "json"]).ok();
    assert_eq!(all.stdout.lines().count(), 6, "{}", all.stdout);
    let none = as_tool(&s, None, &[], &["tail", "-n", "0"]).ok();
    assert_eq!(none.stdout, "");

    // whoami names the AI tool it runs under.
    let me = as_tool(&s, Some("claude-1"), &claude, &["whoami", "--json"])
        .ok()
        .json();
    assert_eq!(me["tool"], "claude-code");
    let me = as_tool(&s, None, &[], &["whoami", "--json"]).ok().json();
    assert_eq!(me["tool"], Value::Null);
}

#[test]
fn analyze_groups_messages_by_shape_and_flags_a_burst() {
    let s = Sandbox::project();
    let log = |agent: &str, message: &str, action: &str| {
        as_tool(&s, Some(agent), &[], &["log", message, "--action", action]).ok();
    };
    // A seeded set: three shapes, numbers, ids and paths varying within each.
    for (i, path) in ["/srv/a.toml", "/etc/b.toml", "/home/c.toml"]
        .iter()
        .enumerate()
    {
        log(
            "steady",
            &format!("cannot open {path}: permission denied"),
            "ERROR",
        );
        log(
            "steady",
            &format!("build {} failed after {}s", 100 + i, 3 + i),
            "BUILD",
        );
    }
    log("steady", "task T-4 lost its lease", "ERROR");
    log("steady", "task T-19 lost its lease", "ERROR");
    let found = as_tool(&s, None, &[], &["analyze", "patterns", "--json"])
        .ok()
        .json();
    let shapes: Vec<(String, u64)> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["shape"].as_str().unwrap().to_string(),
                p["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        shapes,
        [
            ("build <n> failed after <n>s".to_string(), 3),
            ("cannot open <path>: permission denied".to_string(), 3),
            ("task <id> lost its lease".to_string(), 2),
        ],
        "{found}"
    );
    let errors = as_tool(
        &s,
        None,
        &[],
        &["analyze", "patterns", "--action", "ERROR", "--json"],
    )
    .ok()
    .json();
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors}");

    // Steady for a few seconds, then a burst from one actor: the burst is flagged.
    let quiet = as_tool(
        &s,
        None,
        &[],
        &[
            "analyze",
            "anomalies",
            "--since",
            "1m",
            "--bucket",
            "1s",
            "--json",
        ],
    )
    .ok()
    .json();
    assert!(
        !quiet
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["series"] == "events by burst"),
        "{quiet}"
    );
    std::thread::sleep(Duration::from_secs(3));
    for i in 0..20 {
        log("burst", &format!("retry {i}"), "RETRY");
    }
    let flagged = as_tool(
        &s,
        None,
        &[],
        &[
            "analyze",
            "anomalies",
            "--since",
            "1m",
            "--bucket",
            "2s",
            "--json",
        ],
    )
    .ok()
    .json();
    let burst: Vec<&Value> = flagged
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["series"] == "events by burst")
        .collect();
    assert!(!burst.is_empty(), "{flagged}");
    assert!(burst[0]["score"].as_f64().unwrap() > 3.0, "{flagged}");
}

#[test]
fn analyze_agents_counts_throughput_rejections_and_cycle_time() {
    let s = Sandbox::project();
    for t in ["one", "two", "three"] {
        s.run(&["task", "add", "--title", t]).ok();
    }
    let as_agent = |a: &str, args: &[&str]| s.as_agent(a, args).ok();
    as_agent("alpha", &["task", "pickup"]);
    as_agent("alpha", &["task", "done", "T-1"]);
    as_agent("beta", &["task", "pickup"]);
    as_agent("beta", &["task", "done", "T-2"]);
    s.run(&["task", "reject", "T-2", "--feedback", "tests missing"])
        .ok();
    as_agent("alpha", &["task", "pickup"]);
    let report = s.run(&["analyze", "agents", "--json"]).ok().json();
    let by = |name: &str| {
        report
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["agent"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    let (a, b) = (by("alpha"), by("beta"));
    assert_eq!(
        (a["picked_up"].as_u64(), a["handed_in"].as_u64()),
        (Some(2), Some(1)),
        "{a}"
    );
    assert_eq!(
        (b["handed_in"].as_u64(), b["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{b}"
    );
    assert_eq!(b["rejection_rate"], 1.0);
    assert_eq!(a["rejection_rate"], 0.0);
    assert!(a["cycle_median_secs"].as_f64().unwrap() >= 0.0, "{a}");
    let text = s.run(&["analyze", "agents"]).ok().stdout;
    assert!(text.contains("AGENT") || text.starts_with('['), "{text}");
}
