//! Leases, fencing, reservations, guard and watcher, through real processes.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{command_in, Sandbox};

fn git(s: &Sandbox, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(s.path())
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs (install git)")
}

/// A real git repository with a first commit, and a Baton project in it.
fn repo() -> Sandbox {
    let s = Sandbox::new();
    std::fs::remove_dir(s.path().join(".git")).unwrap();
    assert!(git(&s, &["init", "-q"]).status.success());
    std::fs::create_dir_all(s.path().join("src/auth")).unwrap();
    s.write("src/auth/login.rs", "fn login() {}\n");
    s.write("README.md", "hello\n");
    assert!(git(&s, &["add", "."]).status.success());
    assert!(git(&s, &["commit", "-qm", "first"]).status.success());
    s.run(&["init"]).ok();
    s
}

#[test]
fn an_expired_lease_returns_the_task_and_the_zombie_is_refused() {
    let s = Sandbox::project();
    s.run(&["config", "set", "lease_ttl", "1s"]).ok();
    s.run(&["task", "add", "flaky work", "--files", "src/**"])
        .ok();
    let first = s.as_agent("claude", &["task", "pickup"]).ok().json();
    assert_eq!(first["claim"]["fence"], 1);
    std::thread::sleep(Duration::from_millis(1500));

    let shown = s.run(&["task", "show", "T-1"]).ok().json();
    assert_eq!(
        shown["status"], "open",
        "expiry is applied by reads, with no server"
    );
    assert_eq!(shown["retry_count"], 1);
    assert_eq!(s.run(&["reservations"]).ok().json(), serde_json::json!([]));

    let second = s.as_agent("codex", &["task", "pickup"]).ok().json();
    assert_eq!(second["claim"]["fence"], 2);
    // claude's process comes back: its remembered fence is stale.
    let r = s
        .as_agent("claude", &["task", "done", "T-1"])
        .fails(4, "stale_claim");
    assert!(
        r.error()["message"]
            .as_str()
            .unwrap()
            .contains("codex holds it now"),
        "{}",
        r.stderr
    );
    s.as_agent("codex", &["task", "done", "T-1"]).ok();
    let expired = s
        .run(&["events", "--action", "task.lease_expired"])
        .ok()
        .json();
    assert_eq!(expired[0]["detail"]["held_by"], "claude");
}

#[test]
fn heartbeat_keeps_a_short_lease_alive() {
    let s = Sandbox::project();
    s.run(&["config", "set", "lease_ttl", "2s"]).ok();
    s.run(&["task", "add", "x"]).ok();
    s.as_agent("claude", &["task", "pickup"]).ok();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(800));
        let beat = s
            .as_agent("claude", &["heartbeat", "--task", "T-1"])
            .ok()
            .json();
        assert_eq!(beat["tasks"][0]["id"], "T-1");
    }
    assert_eq!(
        s.run(&["task", "show", "1"]).ok().json()["status"],
        "in-progress"
    );
    s.as_agent("codex", &["heartbeat", "--task", "T-1"])
        .fails(4, "not_holder");
}

#[test]
fn pickup_passes_over_tasks_whose_files_are_reserved() {
    let s = Sandbox::project();
    s.run(&[
        "task",
        "add",
        "auth",
        "--priority",
        "P0",
        "--files",
        "src/auth/**",
    ])
    .ok();
    s.run(&["task", "add", "docs", "--files", "docs/**"]).ok();
    s.as_agent(
        "codex",
        &["reserve", "src/auth/login.rs", "--reason", "hotfix"],
    )
    .ok();
    let p = s
        .as_agent("claude", &["task", "pickup", "--explain"])
        .ok()
        .json();
    assert_eq!(p["task"]["title"], "docs");
    assert_eq!(p["skipped"][0]["id"], "T-1");
    assert!(p["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("codex"));
    let r = s
        .as_agent("gemini", &["task", "pickup"])
        .fails(3, "no_task_ready");
    assert!(
        r.error()["hint"].as_str().unwrap().contains("reserved"),
        "{}",
        r.stderr
    );
    // The pickup reserved docs/** for claude.
    let held = s.run(&["check", "docs/guide.md"]).ok().json();
    assert_eq!(held[0]["reservations"][0]["agent"], "claude");
}

#[test]
fn reservations_conflict_release_and_list() {
    let s = Sandbox::project();
    let made = s
        .as_agent("claude", &["reserve", "src/auth/**", "--ttl", "10m"])
        .ok()
        .json();
    assert_eq!(made[0]["mode"], "exclusive");
    let r = s
        .as_agent("codex", &["reserve", "src/**", "--shared"])
        .fails(4, "reservation_conflict");
    let msg = r.error()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("claude") && msg.contains("src/auth/**") && msg.contains("until"),
        "{msg}"
    );
    s.as_agent("codex", &["reserve", "docs/**", "--shared"])
        .ok();
    s.as_agent("gemini", &["reserve", "docs/*.md", "--shared"])
        .ok();
    s.as_agent("codex", &["reserve", "src/[oops"])
        .fails(2, "invalid_input");
    s.as_agent("codex", &["reserve", "x", "--ttl", "forever"])
        .fails(2, "invalid_input");
    assert_eq!(
        s.run(&["reservations"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let by_path = s.run(&["reservations", "--path", "docs/a.md"]).ok().json();
    assert_eq!(by_path.as_array().unwrap().len(), 2);
    let checked = s.run(&["check", "src/auth/x.rs", "README.md"]).ok().json();
    assert_eq!(checked[0]["reservations"][0]["agent"], "claude");
    assert_eq!(checked[1]["reservations"], serde_json::json!([]));
    s.as_agent("claude", &["release", "nope/**"])
        .fails(4, "reservation_not_found");
    s.as_agent("claude", &["release", "--all"]).ok();
    s.as_agent("codex", &["reserve", "src/**"]).ok();

    // --all keeps the files of a task one holds, and says so; asked, it drops them too.
    s.run(&["task", "add", "Lib", "--files", "lib/**"]).ok();
    s.as_agent("gemini", &["task", "pickup"]).ok();
    s.as_agent("gemini", &["reserve", "notes/**"]).ok();
    let gone = s.as_agent("gemini", &["release", "--all"]).ok().json();
    let globs: Vec<&str> = gone
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["glob"].as_str().unwrap())
        .collect();
    assert_eq!(globs, ["docs/*.md", "notes/**"]);
    let people = s
        .as_agent("gemini", &["release", "--all", "--human"])
        .ok()
        .stdout;
    assert!(
        people.contains("Kept 1 reservation(s) of tasks you hold"),
        "{people}"
    );
    s.as_agent("codex", &["reserve", "lib/x.rs"])
        .fails(4, "reservation_conflict");
    s.as_agent("gemini", &["release", "lib/**", "--with-task-surfaces"])
        .fails(2, "invalid_input");
    let gone = s
        .as_agent("gemini", &["release", "--all", "--with-task-surfaces"])
        .ok()
        .json();
    assert_eq!(gone[0]["glob"], "lib/**");
    s.as_agent("codex", &["reserve", "lib/x.rs"]).ok();
}

#[test]
fn config_reads_checks_and_writes_settings() {
    let s = Sandbox::project();
    let all = s.run(&["config", "list"]).ok().json();
    let keys: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "lease_ttl",
            "max_retries",
            "default_branch",
            "merge_strategy",
            "land",
            "repository",
            "log_retention"
        ]
    );
    assert_eq!(
        s.run(&["config", "get", "lease_ttl"]).ok().json()["value"],
        "30m"
    );
    assert_eq!(
        s.run(&["config", "set", "lease_ttl", "45m"]).ok().json()["value"],
        "45m"
    );
    s.run(&["config", "set", "lease_ttl", "0"])
        .fails(2, "invalid_input");
    s.run(&["config", "set", "max_retries", "many"])
        .fails(2, "invalid_input");
    s.run(&["config", "get", "colour"])
        .fails(2, "invalid_input");
}

#[test]
fn the_guard_refuses_commits_touching_files_another_agent_reserved() {
    let s = repo();
    s.as_agent("codex", &["reserve", "src/auth/**"]).ok();
    s.write("src/auth/login.rs", "fn login() { todo() }\n");
    s.write("README.md", "changed\n");
    assert!(git(&s, &["add", "."]).status.success());
    let r = s
        .as_agent("claude", &["guard", "--staged"])
        .fails(4, "reservation_conflict");
    let msg = r.error()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("src/auth/login.rs") && msg.contains("codex"),
        "{msg}"
    );
    s.as_agent("codex", &["guard", "--staged"]).ok();

    // As a pre-commit hook, next to an existing hook's own content.
    let hooks = s.path().join(".git/hooks");
    std::fs::write(
        hooks.join("pre-commit"),
        "#!/bin/sh\necho existing-hook-ran\n",
    )
    .unwrap();
    let installed = s.run(&["guard", "--install-hook"]).ok().json();
    assert_eq!(installed["change"], "installed");
    let hook = std::fs::read_to_string(hooks.join("pre-commit")).unwrap();
    assert!(
        hook.contains("existing-hook-ran") && hook.contains("guard --staged"),
        "{hook}"
    );

    let mut commit = Command::new("git");
    commit
        .args(["commit", "-qm", "by claude"])
        .current_dir(s.path())
        .env("BATON_AGENT", "claude");
    for (k, v) in [
        ("GIT_AUTHOR_NAME", "t"),
        ("GIT_AUTHOR_EMAIL", "t@e"),
        ("GIT_COMMITTER_NAME", "t"),
        ("GIT_COMMITTER_EMAIL", "t@e"),
    ] {
        commit.env(k, v);
    }
    let refused = commit.output().unwrap();
    assert!(!refused.status.success(), "claude's commit must be refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("codex"));

    commit.env("BATON_AGENT", "codex");
    let accepted = commit.output().unwrap();
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );

    assert_eq!(
        s.run(&["guard", "--remove-hook"]).ok().json()["change"],
        "removed"
    );
    let hook = std::fs::read_to_string(hooks.join("pre-commit")).unwrap();
    assert!(
        hook.contains("existing-hook-ran") && !hook.contains("guard"),
        "{hook}"
    );
}

#[test]
fn the_watcher_records_edits_and_flags_reserved_files() {
    let s = repo();
    s.as_agent("claude", &["reserve", "src/auth/**"]).ok();
    let command = command_in(
        s.path(),
        &[
            "watch",
            "--agent",
            "codex",
            "--for",
            "20s",
            "--debounce",
            "100ms",
        ],
    );
    let (mut watch, rx) = watch_lines(command);
    // Give the watcher a moment to start, then edit a reserved file and a free one,
    // repeating until it reports (the watch starts asynchronously).
    let started = Instant::now();
    let mut seen: Vec<Value> = Vec::new();
    while started.elapsed() < Duration::from_secs(15) {
        s.write(
            "src/auth/login.rs",
            &format!("fn login() {{}} // {:?}\n", started.elapsed()),
        );
        s.write("notes.txt", "free\n");
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.push(serde_json::from_str(&line).unwrap());
        }
        if seen.iter().any(|r| r["path"] == "src/auth/login.rs")
            && seen.iter().any(|r| r["path"] == "notes.txt")
        {
            break;
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let login = seen
        .iter()
        .find(|r| r["path"] == "src/auth/login.rs")
        .expect("edit reported");
    assert_eq!(login["actor"], "codex");
    assert_eq!(login["violated"][0]["agent"], "claude");
    let free = seen
        .iter()
        .find(|r| r["path"] == "notes.txt")
        .expect("edit reported");
    assert_eq!(free["violated"], serde_json::json!([]));
    assert!(seen
        .iter()
        .all(|r| !r["path"].as_str().unwrap().starts_with(".baton")));
    let violations = s
        .run(&["events", "--action", "reservation.violated"])
        .ok()
        .json();
    assert!(!violations.as_array().unwrap().is_empty());
    assert_eq!(violations[0]["detail"]["holder"], "claude");
}

/// An edit in a task's worktree is its run's agent's (at the repository path), whoever
/// runs the watcher; the holder of the reserved file hears of it in its inbox.
#[test]
fn the_watcher_attributes_worktree_edits_to_their_agent_and_tells_the_holder() {
    use baton_core::Api;
    let s = repo();
    s.as_agent("claude", &["reserve", "src/auth/**"]).ok();
    s.run(&["task", "add", "Sessions"]).ok();
    s.as_agent("gemini", &["task", "pickup"]).ok();
    let worktree = s.path().join(".baton/worktrees/t-1-sessions");
    std::fs::create_dir_all(worktree.join("src/auth")).unwrap();
    let board = baton_core::Board::new(
        baton_sqlite::SqliteStore::open(&s.path().join(".baton/baton.db")).unwrap(),
    );
    board
        .start_run(
            "gemini",
            baton_core::api::NewRun {
                task: baton_core::TaskId(1),
                provider: "script".into(),
                account: None,
                attempt: 1,
                runner: "host:1:1".into(),
                host: "host".into(),
                worktree: Some(worktree.display().to_string()),
                branch: None,
                session: None,
                spool: None,
            },
        )
        .unwrap();
    // The watcher runs as someone else: that says nothing about who edits.
    let mut command = command_in(s.path(), &["watch", "--for", "20s", "--debounce", "100ms"]);
    command.env("BATON_AGENT", "overseer");
    let (mut watch, rx) = watch_lines(command);
    let started = Instant::now();
    let mut seen: Vec<Value> = Vec::new();
    while started.elapsed() < Duration::from_secs(15) {
        let stamp = format!("// {:?}\n", started.elapsed());
        std::fs::write(worktree.join("src/auth/session.rs"), &stamp).unwrap();
        s.write("src/auth/login.rs", &stamp);
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.push(serde_json::from_str(&line).unwrap());
        }
        if seen.iter().any(|r| r["path"] == "src/auth/session.rs")
            && seen.iter().any(|r| r["path"] == "src/auth/login.rs")
        {
            break;
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let in_worktree = seen
        .iter()
        .find(|r| r["path"] == "src/auth/session.rs")
        .unwrap_or_else(|| panic!("worktree edit reported: {seen:?}"));
    assert_eq!(in_worktree["actor"], "gemini");
    assert_eq!(in_worktree["violated"][0]["agent"], "claude");
    let in_checkout = seen
        .iter()
        .find(|r| r["path"] == "src/auth/login.rs")
        .expect("checkout edit reported");
    assert_eq!(
        in_checkout["actor"], "claude",
        "the holder, not the watcher's identity"
    );
    assert!(seen.iter().all(|r| r["actor"] != "overseer"), "{seen:?}");
    let inbox = s.as_agent("claude", &["inbox"]).ok().json();
    let told = inbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["from"] == "gemini")
        .unwrap_or_else(|| panic!("{inbox}"));
    assert!(
        told["body"]
            .as_str()
            .unwrap()
            .contains("src/auth/session.rs (modified, under your src/auth/**)")
            || told["body"]
                .as_str()
                .unwrap()
                .contains("src/auth/session.rs (created, under your src/auth/**)"),
        "{told}"
    );
}

#[test]
fn concurrent_reservations_of_one_glob_have_exactly_one_winner() {
    let s = Sandbox::project();
    let results: Vec<(i32, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let r = s.as_agent(&format!("agent-{i}"), &["reserve", "src/**"]);
                    let code = if r.code == 0 {
                        String::new()
                    } else {
                        r.error()["code"].as_str().unwrap().to_string()
                    };
                    (r.code, code)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let winners = results.iter().filter(|(c, _)| *c == 0).count();
    assert_eq!(winners, 1, "{results:?}");
    assert!(results
        .iter()
        .filter(|(c, _)| *c != 0)
        .all(|(c, code)| *c == 4 && code == "reservation_conflict"));
    assert_eq!(
        s.run(&["reservations"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn concurrent_pickups_never_hand_out_overlapping_surfaces() {
    let s = Sandbox::project();
    // Every task touches the shared config, so only one can be in progress at a time.
    let tasks: Vec<Value> = (0..20)
        .map(|i| serde_json::json!({"title": format!("t{i}"), "files": ["shared/config.toml", format!("pkg{i}/**")]}))
        .collect();
    let path = s.write("tasks.json", &serde_json::to_string(&tasks).unwrap());
    s.run(&["task", "add", "--batch", path.to_str().unwrap()])
        .ok();
    let claimed: Vec<i32> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let s = &s;
                scope.spawn(move || s.as_agent(&format!("w{i}"), &["task", "pickup"]).code)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        claimed.iter().filter(|c| **c == 0).count(),
        1,
        "{claimed:?}"
    );
    assert!(claimed.iter().all(|c| *c == 0 || *c == 3), "{claimed:?}");
    let held = s
        .run(&["task", "list", "--status", "in-progress"])
        .ok()
        .json();
    assert_eq!(held.as_array().unwrap().len(), 1);
}

#[test]
fn the_watcher_tracks_moves_and_duplicates_and_keeps_to_its_globs() {
    let s = repo();
    std::fs::create_dir_all(s.path().join("src/gen")).unwrap();
    s.write("src/auth/token.rs", "fn token() -> u32 { 7 }\n");
    let bad = s.run(&["watch", "--include", "src/[a", "--for", "1s"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("not a valid glob"), "{}", bad.stderr);

    let command = command_in(
        s.path(),
        &[
            "watch",
            "--json",
            "--agent",
            "codex",
            "--report-duplicates",
            "--include",
            "src/",
            "--exclude",
            "src/gen/",
            "--debounce",
            "150ms",
            "--for",
            "30s",
        ],
    );
    let (mut watch, lines) = watch_lines(command);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines {
            let _ = tx.send(serde_json::from_str::<Value>(&line).unwrap());
        }
    });
    // Until the watcher answers (it starts asynchronously).
    let mut seen: Vec<Value> = Vec::new();
    let started = Instant::now();
    while !seen.iter().any(|r| r["path"] == "src/probe.rs") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "watcher silent"
        );
        s.write("src/probe.rs", &format!("// {:?}\n", started.elapsed()));
        while let Ok(r) = rx.recv_timeout(Duration::from_millis(400)) {
            seen.push(r);
        }
    }
    let drain = |seen: &mut Vec<Value>| {
        while let Ok(r) = rx.recv_timeout(Duration::from_millis(800)) {
            seen.push(r);
        }
    };
    s.write("src/copy.rs", "fn token() -> u32 { 7 }\n");
    s.write("src/gen/out.rs", "generated\n");
    s.write("README.md", "changed\n");
    s.write("src/.swap", "editor noise\n");
    drain(&mut seen);
    std::fs::rename(
        s.path().join("src/auth/login.rs"),
        s.path().join("src/login.rs"),
    )
    .unwrap();
    drain(&mut seen);
    // A delete and a create of the same content: a move by content.
    std::fs::remove_file(s.path().join("src/copy.rs")).unwrap();
    s.write("src/moved_copy.rs", "fn token() -> u32 { 7 }\n");
    drain(&mut seen);
    let _ = watch.kill();
    let _ = watch.wait();

    let find = |path: &str| {
        seen.iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("{path} not reported: {seen:?}"))
            .clone()
    };
    let copy = find("src/copy.rs");
    assert_eq!(copy["kind"], "created");
    assert_eq!(copy["duplicates"], serde_json::json!(["src/auth/token.rs"]));
    assert_eq!(copy["sha256"].as_str().unwrap().len(), 64);
    let moved = find("src/login.rs");
    assert_eq!(
        (moved["kind"].as_str(), moved["from"].as_str()),
        (Some("renamed"), Some("src/auth/login.rs"))
    );
    assert!(
        !seen.iter().any(|r| r["path"] == "src/auth/login.rs"),
        "a move is one change: {seen:?}"
    );
    let by_content = find("src/moved_copy.rs");
    assert_eq!(by_content["kind"], "renamed", "{seen:?}");
    assert_eq!(by_content["from"], "src/copy.rs");
    for r in &seen {
        let path = r["path"].as_str().unwrap();
        assert!(
            path.starts_with("src/") && !path.starts_with("src/gen") && !path.contains("/."),
            "{path} should not be reported"
        );
    }
    // The record has the move and its hash.
    let events = s.run(&["events", "--action", "file.changed"]).ok().json();
    assert!(events.as_array().unwrap().iter().any(
        |e| e["detail"]["from"] == "src/auth/login.rs" && e["detail"]["path"] == "src/login.rs"
    ));
}

/// Starts `baton watch` and reads its lines as they come, on a thread.
fn watch_lines(mut command: Command) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut watch = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (watch, rx)
}
