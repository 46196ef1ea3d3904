//! The `baton` binary, driven as agents and people drive it.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{command_in, run_in, Sandbox};

#[test]
fn init_creates_the_project_and_a_second_init_keeps_it() {
    let s = Sandbox::new();
    let first = s.run(&["init", "--name", "shop"]).ok().json();
    assert_eq!(first["created"], true);
    assert_eq!(first["project"], "shop");
    let dir = s.path().join(".baton");
    assert!(dir.join("config.toml").is_file());
    assert!(dir.join("baton.db").is_file());
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.contains("!config.toml"), "{ignore}");
    s.run(&["task", "add", "--title", "keep me"]).ok();

    let again = s.run(&["init", "--name", "other"]).ok().json();
    assert_eq!(again["created"], false);
    assert_eq!(again["project"], "shop");
    assert_eq!(
        s.run(&["task", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// `git add -A` takes the project's shared settings and nothing of this machine's: no
/// databases, fences, server state, runner accounts, clones or worktrees. An earlier
/// version's default .gitignore is upgraded; one a person wrote is kept.
#[test]
fn git_add_takes_only_what_a_team_shares_from_dot_baton() {
    let s = Sandbox::new();
    let git = |args: &[&str]| support::git(s.path(), args);
    git(&["init", "-q"]);
    s.run(&["init"]).ok();
    let dir = s.path().join(".baton");
    for f in [
        "fences/claude-1.json",
        "server.json",
        "baton-runner.lock",
        "clones/app/HEAD",
        "worktrees/T-1/a.rs",
        "accounts.toml",
        "runs/R-1.log",
        "projects/web/baton.db",
        "config.toml.tmp",
        "AGENTS.md",
        "CLAUDE.md",
        "providers/local.toml",
    ] {
        let path = dir.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if !path.exists() {
            std::fs::write(&path, "x").unwrap();
        }
    }
    git(&["add", "-A"]);
    let staged: Vec<String> = git(&["diff", "--cached", "--name-only"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        staged,
        [
            ".baton/.gitignore",
            ".baton/AGENTS.md",
            ".baton/CLAUDE.md",
            ".baton/config.toml",
            ".baton/providers/local.toml",
        ]
    );

    // An old default is replaced on the next init; a hand-written one stays.
    let old = "# Baton's databases and runtime files stay out of git; config.toml can be shared.\n*.db\n*.db-wal\n*.db-shm\n*.db-journal\n*.pid\n*.log\n# The runner's: provider accounts (they may hold keys), run logs, task worktrees.\naccounts.toml\nruns/\nworktrees/\n";
    std::fs::write(dir.join(".gitignore"), old).unwrap();
    s.run(&["init"]).ok();
    let now = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(now.contains("!config.toml"), "{now}");
    std::fs::write(dir.join(".gitignore"), "*.db\n").unwrap();
    s.run(&["init"]).ok();
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "*.db\n"
    );
}

#[test]
fn init_inside_a_subdirectory_puts_baton_at_the_repository_root() {
    let s = Sandbox::new();
    let sub = s.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    run_in(&sub, &["init"]).ok();
    assert!(s.path().join(".baton/config.toml").is_file());
    assert!(!sub.join(".baton").exists());
}

#[test]
fn commands_find_the_project_from_any_subdirectory() {
    let s = Sandbox::project();
    let sub = s.path().join("a/b/c");
    std::fs::create_dir_all(&sub).unwrap();
    run_in(&sub, &["task", "add", "--title", "from below"]).ok();
    assert_eq!(
        s.run(&["task", "show", "T-1"]).ok().json()["title"],
        "from below"
    );
}

#[test]
fn outside_a_project_every_command_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["task", "list"]).fails(3, "no_project");
    assert!(r.error()["hint"].as_str().unwrap().contains("baton init"));
}

#[test]
fn task_ids_are_accepted_in_the_spellings_people_type() {
    let s = Sandbox::project();
    s.run(&["task", "add", "x"]).ok();
    for id in ["T-1", "t-1", "T-001", "1"] {
        assert_eq!(
            s.run(&["task", "show", id]).ok().json()["id"],
            "T-1",
            "{id}"
        );
    }
    s.run(&["task", "show", "T-x"])
        .fails(2, "invalid_arguments");
    s.run(&["task", "show", "T-9"]).fails(3, "task_not_found");
}

#[test]
fn a_task_has_every_contract_field() {
    let s = Sandbox::project();
    let t = s
        .run(&[
            "task",
            "add",
            "--title",
            "Auth API",
            "--priority",
            "P0",
            "--epic",
            "auth",
            "--files",
            "src/auth/**,src/lib.rs",
            "--capabilities",
            "rust",
            "--verify",
            "cargo test",
            "--acceptance",
            "tokens refresh",
            "--acceptance",
            "401 on expiry",
            "--description",
            "JWT",
        ])
        .ok()
        .json();
    for field in [
        "id",
        "title",
        "status",
        "priority",
        "assignee",
        "epic",
        "depends_on",
        "deps_met",
        "files",
        "retry_count",
        "notes",
        "created_at",
        "updated_at",
    ] {
        assert!(t.get(field).is_some(), "missing {field}: {t}");
    }
    assert_eq!(t["files"], json!(["src/auth/**", "src/lib.rs"]));
    assert_eq!(
        t["acceptance_criteria"],
        json!(["tokens refresh", "401 on expiry"])
    );
    assert_eq!(t["priority"], "P0");
    assert_eq!(t["status"], "open");
}

#[test]
fn pickup_prints_the_task_and_its_claim() {
    let s = Sandbox::project();
    s.run(&["task", "add", "x"]).ok();
    let p = s.as_agent("claude", &["task", "pickup"]).ok().json();
    assert_eq!(p["task"]["id"], "T-1");
    assert_eq!(p["task"]["status"], "in-progress");
    assert_eq!(p["task"]["assignee"], "claude");
    assert_eq!(p["claim"]["fence"], 1);
    assert!(p["claim"]["lease_expires_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    let r = s
        .as_agent("codex", &["task", "pickup"])
        .fails(3, "no_task_ready");
    assert!(r.error()["hint"]
        .as_str()
        .unwrap()
        .contains("1 in progress"));
    s.run(&["task", "pickup"]).fails(2, "invalid_input");
    // The --agent flag works as well as the variable.
    s.run(&["task", "add", "y"]).ok();
    let p = s.run(&["--agent", "gemini", "task", "pickup"]).ok().json();
    assert_eq!(p["task"]["assignee"], "gemini");
}

#[test]
fn the_whole_lifecycle_through_the_binary() {
    let s = Sandbox::project();
    s.run(&["task", "add", "api"]).ok();
    s.run(&["task", "add", "ui", "--depends-on", "T-1"]).ok();
    assert_eq!(
        s.run(&["task", "show", "2"]).ok().json()["status"],
        "backlog"
    );
    let fence = s.as_agent("claude", &["task", "pickup"]).ok().json()["claim"]["fence"].clone();
    let fence = fence.to_string();
    s.as_agent("codex", &["task", "done", "T-1"])
        .fails(4, "not_holder");
    s.as_agent("claude", &["task", "done", "T-1", "--fence", "99"])
        .fails(4, "stale_claim");
    let done = s
        .as_agent(
            "claude",
            &[
                "task", "done", "T-1", "--fence", &fence, "--notes", "shipped",
            ],
        )
        .ok()
        .json();
    assert_eq!(done["status"], "review");
    assert_eq!(s.run(&["task", "show", "2"]).ok().json()["status"], "open");
    s.run(&["task", "reject", "T-1", "--feedback", "add tests"])
        .ok();
    assert_eq!(
        s.as_agent("claude", &["task", "mine"]).ok().json()["tasks"][0]["id"],
        "T-1"
    );
    s.as_agent("claude", &["task", "done", "T-1"]).ok();
    assert_eq!(
        s.run(&["task", "approve", "T-1"]).ok().json()["status"],
        "done"
    );
    s.run(&["task", "approve", "T-1"])
        .fails(4, "invalid_transition");

    s.run(&["task", "block", "T-2", "--reason", "waiting for design"])
        .ok();
    let board = s.run(&["board"]).ok().json();
    assert_eq!(board["blocked"][0]["reason"], "waiting for design");
    assert_eq!(board["counts"]["done"], 1);
    s.run(&["task", "unblock", "T-2"]).ok();
    s.run(&["task", "note", "T-2", "design is in docs/ui.md"])
        .ok();
    let t = s
        .run(&["task", "delete", "T-2", "--reason", "merged into T-1"])
        .ok()
        .json();
    assert!(t["deleted_at"].is_string());
    assert_eq!(
        s.run(&["task", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.run(&["task", "list", "--deleted"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let actions: Vec<String> = s
        .run(&["events", "--limit", "0"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for expected in [
        "task.created",
        "task.picked_up",
        "task.done",
        "task.deps_met",
        "task.rejected",
        "task.approved",
        "task.blocked",
        "task.unblocked",
        "task.noted",
        "task.deleted",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} missing from {actions:?}"
        );
    }
}

#[test]
fn a_cycle_is_refused_with_exit_4_naming_it() {
    let s = Sandbox::project();
    s.run(&["task", "add", "a"]).ok();
    s.run(&["task", "add", "b", "--depends-on", "T-1"]).ok();
    let r = s
        .run(&["task", "update", "T-1", "--depends-on", "T-2"])
        .fails(4, "dependency_cycle");
    assert_eq!(r.error()["message"], "dependency cycle: T-1 -> T-2 -> T-1");
}

#[test]
fn update_moves_follow_the_lifecycle() {
    let s = Sandbox::project();
    s.run(&["task", "add", "a"]).ok();
    let r = s
        .run(&["task", "update", "1", "--status", "in-progress"])
        .fails(4, "invalid_transition");
    assert!(r.error()["hint"]
        .as_str()
        .unwrap()
        .contains("pickup --id T-1"));
    s.run(&["task", "update", "1", "--status", "sideways"])
        .fails(2, "invalid_arguments");
    s.run(&["task", "update", "1"]).fails(2, "invalid_input");
    let t = s
        .run(&["task", "update", "1", "--title", "renamed", "--epic", "e1"])
        .ok()
        .json();
    assert_eq!(
        (t["title"].as_str(), t["epic"].as_str()),
        (Some("renamed"), Some("e1"))
    );
    let t = s.run(&["task", "update", "1", "--epic", ""]).ok().json();
    assert!(t["epic"].is_null());
}

#[test]
fn list_filters_and_limits() {
    let s = Sandbox::project();
    for i in 0..12 {
        let epic = if i % 2 == 0 { "even" } else { "odd" };
        s.run(&["task", "add", &format!("task {i}"), "--epic", epic])
            .ok();
    }
    let count = |args: &[&str]| s.run(args).ok().json().as_array().unwrap().len();
    assert_eq!(count(&["task", "list", "--epic", "even"]), 6);
    assert_eq!(count(&["task", "list", "--limit", "5"]), 5);
    assert_eq!(count(&["task", "list", "--limit", "0"]), 12);
    assert_eq!(count(&["task", "list", "--text", "TASK 1"]), 3); // 1, 10, 11
    assert_eq!(count(&["task", "list", "--status", "open,backlog"]), 12);
    assert_eq!(count(&["task", "list", "--status", "done"]), 0);
}

#[test]
fn batch_add_links_by_key_and_prints_an_array() {
    let s = Sandbox::project();
    let file = s.write(
        "tasks.json",
        r#"[{"key": "api", "title": "Auth API", "priority": "P0", "files": ["src/auth/**"]},
            {"key": "ui", "title": "Login UI", "depends_on": ["api"], "acceptance": ["shows errors"]},
            {"title": "Docs", "depends_on": ["ui", "api"], "epic": "docs"}]"#,
    );
    let tasks = s
        .run(&["task", "add", "--batch", file.to_str().unwrap()])
        .ok()
        .json();
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 3);
    assert_eq!(tasks[2]["depends_on"], json!(["T-2", "T-1"]));
    assert_eq!(tasks[1]["acceptance_criteria"], json!(["shows errors"]));
    // {"tasks": [...]} works too.
    let wrapped = s.write(
        "w.json",
        r#"{"tasks": [{"title": "one more", "depends_on": ["T-3"]}]}"#,
    );
    let added = s
        .run(&["task", "add", "--batch", wrapped.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(added[0]["id"], "T-4");
}

#[test]
fn a_bad_batch_writes_nothing() {
    let s = Sandbox::project();
    let cases = [
        ("malformed.json", "[{\"title\": \"a\"},".to_string(), "invalid_input"),
        ("typo.json", r#"[{"title": "a", "prioritty": "P0"}]"#.to_string(), "invalid_input"),
        ("badref.json", r#"[{"title": "a"}, {"title": "b", "depends_on": ["nope"]}]"#.to_string(), "invalid_input"),
        ("cycle.json", r#"[{"key":"a","title":"a","depends_on":["b"]},{"key":"b","title":"b","depends_on":["a"]}]"#.to_string(), "dependency_cycle"),
        ("empty.json", "[]".to_string(), "invalid_input"),
    ];
    for (name, body, code) in cases {
        let path = s.write(name, &body);
        let expected_exit = if code == "dependency_cycle" { 4 } else { 2 };
        s.run(&["task", "add", "--batch", path.to_str().unwrap()])
            .fails(expected_exit, code);
    }
    let too_many: Vec<Value> = (0..10_001)
        .map(|i| json!({"title": format!("t{i}")}))
        .collect();
    let path = s.write("huge.json", &serde_json::to_string(&too_many).unwrap());
    s.run(&["task", "add", "--batch", path.to_str().unwrap()])
        .fails(2, "invalid_input");
    assert_eq!(
        s.run(&["task", "list", "--limit", "0"]).ok().json(),
        json!([])
    );
    s.run(&["task", "add", "--batch", "/nonexistent.json"])
        .fails(2, "invalid_input");
}

/// Each mistake an agent makes in a plan file names the task (place and title), the field,
/// and what is accepted; `--dry-run` checks a plan without writing it, locally and through
/// a server.
#[test]
fn batch_errors_name_task_and_field_and_dry_runs_write_nothing() {
    let s = Sandbox::project();
    let cases = [
        (
            r#"[{"title": "Auth API"}, {"title": "Login UI", "priority": "high"}]"#,
            "task 2 of 2 (\"Login UI\"), field \"priority\": 'high' is not a priority",
            "P0 (most urgent), P1 (default), P2",
        ),
        (
            r#"[{"title": "Auth API", "dependson": ["T-1"]}]"#,
            "task 1 of 1 (\"Auth API\"), unknown field \"dependson\"",
            "did you mean \"depends_on\"?",
        ),
        (
            r#"{"tasks": [{"key": "api", "priority": "P0"}]}"#,
            "task 1 of 1 (key \"api\"), field \"title\" is missing",
            "every task needs a \"title\"",
        ),
        (
            r#"[{"title": "Ünïcode ✓", "acceptance_criteria": "tests pass"}]"#,
            "task 1 of 1 (\"Ünïcode ✓\"), field \"acceptance_criteria\": invalid type: string",
            "\"acceptance_criteria\": [\"...\", \"...\"]",
        ),
        (
            r#"[{"title": "A", "key": "a"}, {"title": "B", "depends_on": ["nope"]}]"#,
            "task 2 of 2 (\"B\"): depends on 'nope'",
            "by their \"key\"",
        ),
    ];
    for (body, message, hint) in cases {
        let path = s.write("plan.json", body);
        for dry in [false, true] {
            let mut args = vec!["task", "add", "--batch", path.to_str().unwrap()];
            if dry {
                args.push("--dry-run");
            }
            let error = s.run(&args).fails(2, "invalid_input").error();
            let text = error["message"].as_str().unwrap();
            if !message.contains("depends on") {
                // A file that does not read names the file; a plan that reads but does not
                // fit the board names only the task.
                assert!(text.contains("plan.json: task "), "{text}");
            }
            assert!(text.contains(message), "{text}");
            assert!(error["hint"].as_str().unwrap().contains(hint), "{error}");
        }
    }
    let valid = s.write(
        "plan.json",
        r#"[{"key": "a", "title": "A"}, {"title": "B", "depends_on": ["a"]}]"#,
    );
    let valid = valid.to_str().unwrap();
    let checked = s
        .run(&["task", "add", "--batch", valid, "--dry-run"])
        .ok()
        .json();
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["written"], false);
    assert_eq!(checked["tasks"][1]["depends_on"], json!(["T-1"]));
    assert_eq!(checked["tasks"][1]["status"], "backlog");
    let listed = |s: &Sandbox| s.run(&["task", "list"]).ok().json();
    assert_eq!(listed(&s), json!([]));

    // Through a server: the same messages, the same dry run.
    let server = support::Foreground::start(&s, &[]);
    let typo = s.write("typo.json", r#"[{"title": "X", "prioritty": "P0"}]"#);
    let error = s
        .run(&["task", "add", "--batch", typo.to_str().unwrap()])
        .fails(2, "invalid_input")
        .error();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("task 1 of 1 (\"X\"), unknown field \"prioritty\""),
        "{error}"
    );
    let checked = s
        .run(&["task", "add", "--batch", valid, "--dry-run"])
        .ok()
        .json();
    assert_eq!(checked["tasks"][0]["id"], "T-1");
    assert_eq!(listed(&s), json!([]));
    let added = s.run(&["task", "add", "--batch", valid]).ok().json();
    assert_eq!(added[1]["id"], "T-2");
    server.terminate();
}

/// An agent whose task was taken hears how from its next heartbeat or `task mine`, once,
/// and a late `done` tells the story instead of only the task's state.
#[test]
fn an_agent_is_told_what_happened_to_the_tasks_it_lost() {
    let s = Sandbox::project();
    s.run(&["config", "set", "lease_ttl", "1s"]).ok();
    s.run(&["task", "add", "Login UI"]).ok();
    s.run(&["task", "add", "Auth API"]).ok();
    s.as_agent("claude", &["task", "pickup", "--id", "T-1"])
        .ok();
    std::thread::sleep(Duration::from_millis(1_500));
    s.as_agent("codex", &["task", "pickup", "--id", "T-1"]).ok();
    let error = s
        .as_agent("claude", &["task", "done", "T-1"])
        .fails(4, "stale_claim")
        .error();
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("you no longer hold T-1 (\"Login UI\"): its lease expired at "),
        "{message}"
    );
    assert!(message.ends_with("codex holds it now"), "{message}");
    assert!(
        error["hint"]
            .as_str()
            .unwrap()
            .contains("baton ask --to codex"),
        "{error}"
    );

    let beat = s.as_agent("claude", &["heartbeat"]).ok().json();
    assert_eq!(beat["lost"][0]["task"], "T-1");
    assert_eq!(beat["lost"][0]["reason"], "lease_expired");
    assert_eq!(beat["lost"][0]["now_held_by"], "codex");
    // Told once; a person taking a task back is the next news, in `task mine`.
    s.run(&["config", "set", "lease_ttl", "30m"]).ok();
    s.as_agent("claude", &["task", "pickup", "--id", "T-2"])
        .ok();
    s.run(&["task", "update", "T-2", "--status", "open"]).ok();
    let mine = s.as_agent("claude", &["task", "mine"]).ok().json();
    assert_eq!(mine["tasks"], json!([]));
    assert_eq!(mine["lost"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["lost"][0]["task"], "T-2");
    assert_eq!(mine["lost"][0]["reason"], "moved");
    assert_eq!(mine["lost"][0]["by"], "human");
    assert_eq!(
        s.as_agent("claude", &["heartbeat"]).ok().json()["lost"],
        json!([])
    );
    // People get the story and the next step as lines.
    s.as_agent("claude", &["task", "pickup", "--id", "T-2"])
        .ok();
    s.run(&["task", "block", "T-2", "--reason", "needs the API key"])
        .ok();
    let text = s
        .command(&["task", "mine", "--human"])
        .env("BATON_AGENT", "claude")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Your tasks changed hands or state since your last call:"),
        "{text}"
    );
    assert!(text.contains("human blocked it at"), "{text}");
    assert!(text.contains("\"needs the API key\""), "{text}");
    assert!(text.contains("next: ask human about it"), "{text}");
}

#[test]
fn a_full_batch_of_ten_thousand_is_accepted() {
    let s = Sandbox::project();
    let tasks: Vec<Value> = (0..10_000)
        .map(|i| {
            let mut t = json!({"key": format!("k{i}"), "title": format!("task {i}")});
            if i > 0 {
                t["depends_on"] = json!([format!("k{}", i - 1)]);
            }
            t
        })
        .collect();
    let path = s.write("big.json", &serde_json::to_string(&tasks).unwrap());
    let added = s
        .run(&["task", "add", "--batch", path.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(added.as_array().unwrap().len(), 10_000);
    assert_eq!(
        s.run(&["task", "show", "T-10000"]).ok().json()["depends_on"],
        json!(["T-9999"])
    );
}

#[test]
fn bad_input_gets_a_clear_error_never_a_panic() {
    let s = Sandbox::project();
    s.run(&["task", "add", "x"]).ok();
    let long_title = "x".repeat(501);
    s.run(&["task", "add", "--title", &long_title])
        .fails(2, "invalid_input");
    s.run(&["task", "add", "--title", "  "])
        .fails(2, "invalid_input");
    s.run(&["task", "add", "y", "--priority", "P9"])
        .fails(2, "invalid_arguments");
    s.run(&["task", "add", "y", "--depends-on", "T-50"])
        .fails(2, "invalid_input");
    s.run(&["task", "add", "y", "--depends-on", "banana"])
        .fails(2, "invalid_input");
    s.run(&["task", "reject", "T-1", "--feedback", "no"])
        .fails(4, "invalid_transition");
    s.run(&["--agent", "has space", "task", "pickup"])
        .fails(2, "invalid_input");
    s.run(&["events", "--since", "yesterday-ish"])
        .fails(2, "invalid_input");
    s.run(&["no-such-command"]).fails(2, "invalid_arguments");
    let huge_note = "n".repeat(100_001);
    s.run(&["task", "note", "T-1", &huge_note])
        .fails(2, "invalid_input");
    // None of the refusals changed the task.
    let t = s.run(&["task", "show", "T-1"]).ok().json();
    assert_eq!(
        (t["status"].as_str(), t["notes"].as_array().map(Vec::len)),
        (Some("open"), Some(0))
    );
}

#[test]
fn human_output_is_a_table_and_json_can_be_forced() {
    let s = Sandbox::project();
    s.run(&["task", "add", "Readable title"]).ok();
    let table = s.run(&["task", "list", "--human"]).ok().stdout;
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("T-1") && table.contains("Readable title"));
    let json = s.run(&["task", "list", "--json"]).ok().json();
    assert_eq!(json[0]["id"], "T-1");
    let board = s.run(&["board", "--human"]).ok().stdout;
    assert!(board.contains("open 1"), "{board}");
}

#[test]
fn the_board_shows_the_first_holdings_and_says_how_many_more() {
    let s = Sandbox::project();
    let tasks: Vec<String> = (0..23)
        .map(|i| format!("{{\"title\": \"t{i}\"}}"))
        .collect();
    let file = s.write("tasks.json", &format!("[{}]", tasks.join(",")));
    s.run(&["task", "add", "--batch", file.to_str().unwrap()])
        .ok();
    for _ in 0..23 {
        s.as_agent("claude", &["task", "pickup"]).ok();
    }
    let board = s.run(&["board"]).ok().json();
    assert_eq!(board["agents"][0]["holding"].as_array().unwrap().len(), 20);
    assert_eq!(board["agents"][0]["holding_total"], 23);
    let human = s.run(&["board", "--human"]).ok().stdout;
    assert!(human.contains("and 3 more (23 in all)"), "{human}");
    // People see each agent's state by the lease rules, as the page does.
    s.as_agent("codex", &["heartbeat"]).ok();
    let line = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {text}"))
            .to_string()
    };
    assert!(
        line(&human, "claude").contains("working (lease ends in "),
        "{human}"
    );
    let agents = s.run(&["agents", "--human"]).ok().stdout;
    assert!(agents.contains("STATE"), "{agents}");
    assert!(line(&agents, "claude").contains("working (lease ends in "));
    assert!(line(&agents, "codex").contains("idle"), "{agents}");
}

#[test]
fn a_database_from_a_newer_baton_is_refused_with_exit_5() {
    let s = Sandbox::project();
    set_user_version(&s.path().join(".baton/baton.db"), 999);
    let r = s.run(&["task", "list"]).fails(5, "schema_too_new");
    assert!(r.error()["hint"]
        .as_str()
        .unwrap()
        .contains("upgrade baton"));
}

/// Writes `PRAGMA user_version` straight into the file header (big-endian u32 at offset 60),
/// as a newer release would have left it. The database is closed, so the header is current.
fn set_user_version(db: &std::path::Path, version: u32) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
    f.seek(SeekFrom::Start(60)).unwrap();
    f.write_all(&version.to_be_bytes()).unwrap();
}

#[test]
fn events_follow_prints_changes_made_by_other_processes() {
    let s = Sandbox::project();
    s.run(&["task", "add", "before"]).ok();
    let mut follower = command_in(
        s.path(),
        &[
            "events",
            "--follow",
            "--action",
            "task.created",
            "--limit",
            "0",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(follower.stdout.take().unwrap()).lines();
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["detail"]["title"], "before");
    let started = Instant::now();
    s.run(&["task", "add", "after"]).ok();
    let next: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let waited = started.elapsed();
    follower.kill().unwrap();
    let _ = follower.wait();
    assert_eq!(next["detail"]["title"], "after");
    assert!(waited < Duration::from_secs(2), "took {waited:?}");
}

#[test]
fn events_filter_by_task_actor_and_action() {
    let s = Sandbox::project();
    s.run(&["task", "add", "a"]).ok();
    s.run(&["task", "add", "b"]).ok();
    s.as_agent("claude", &["task", "pickup"]).ok();
    let n = |args: &[&str]| s.run(args).ok().json().as_array().unwrap().len();
    assert_eq!(n(&["events", "--task", "T-1"]), 2);
    assert_eq!(n(&["events", "--by", "claude"]), 1);
    assert_eq!(
        n(&["events", "--agent", "claude"]),
        1,
        "--agent typed on the line filters"
    );
    let all = s.as_agent("claude", &["events"]).ok().json();
    assert_eq!(
        all.as_array().unwrap().len(),
        4,
        "BATON_AGENT alone does not filter"
    );
    assert_eq!(n(&["events", "--action", "task.created"]), 2);
    assert_eq!(n(&["events", "--action", "task.*"]), 3);
    assert_eq!(n(&["events", "--since", "1h"]), 4);
    assert_eq!(n(&["events", "--limit", "1"]), 1);
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let s = Sandbox::project();
    let tasks: Vec<Value> = (0..3000)
        .map(|i| json!({"title": format!("task {i} {}", "x".repeat(100))}))
        .collect();
    let path = s.write("many.json", &serde_json::to_string(&tasks).unwrap());
    s.run(&["task", "add", "--batch", path.to_str().unwrap()])
        .ok();
    let mut child = command_in(s.path(), &["task", "list", "--limit", "0", "--human"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_batch_killed_mid_write_leaves_all_or_nothing() {
    let s = Sandbox::project();
    let tasks: Vec<Value> = (0..10_000)
        .map(|i| json!({"title": format!("task {i}"), "description": "x".repeat(200)}))
        .collect();
    let path = s.write("big.json", &serde_json::to_string(&tasks).unwrap());
    let mut outcomes = Vec::new();
    for delay_ms in [5u64, 40, 120, 300, 600, 1200] {
        let mut child = command_in(
            s.path(),
            &["task", "add", "--batch", path.to_str().unwrap()],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL: no chance to clean up
        outcomes.push(child.wait().unwrap().success());
        let listed = s.run(&["task", "list", "--limit", "0"]).ok().json();
        let n = listed.as_array().unwrap().len();
        assert_eq!(
            n % 10_000,
            0,
            "after a kill at {delay_ms} ms the board holds {n} tasks"
        );
        let created = s
            .run(&["events", "--action", "task.created", "--limit", "0"])
            .ok()
            .json();
        assert_eq!(
            created.as_array().unwrap().len(),
            n,
            "every task has its event, no more"
        );
    }
    // The board still works after the kills.
    s.run(&["task", "add", "after the crash"]).ok();
    eprintln!("batches that finished before the kill: {outcomes:?}");
}

#[test]
fn a_database_locked_too_long_is_store_unavailable_and_changes_nothing() {
    let s = Sandbox::project();
    let db = s.path().join(".baton/baton.db");
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let r = {
        let mut cmd = command_in(s.path(), &["task", "add", "waits for the lock"]);
        cmd.env("BATON_LOCK_TIMEOUT", "500ms");
        support::finish(cmd.output().unwrap())
    };
    let waited = started.elapsed();
    let r = r.fails(5, "store_unavailable");
    assert!(r.error()["hint"]
        .as_str()
        .unwrap()
        .contains("BATON_LOCK_TIMEOUT"));
    assert!(
        waited >= Duration::from_millis(450),
        "it waited for the lock: {waited:?}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(s.run(&["task", "list"]).ok().json(), json!([]));
    s.run(&["task", "add", "now it goes through"]).ok();
}

/// A git worktree a person makes for a second agent session carries the committed
/// `.baton/config.toml` but not the board: commands there use the main checkout's board,
/// and `init` there sets up no second one.
#[test]
fn a_git_worktree_of_the_repository_shares_its_board() {
    let s = support::repository();
    s.run(&["task", "add", "--title", "Shared work"]).ok();
    s.as_agent("alice", &["reserve", "src/auth/**"]).ok();
    support::git(
        s.path(),
        &["add", ".baton/config.toml", ".baton/.gitignore"],
    );
    support::git(s.path(), &["commit", "-qm", "Baton's settings"]);
    let tree = tempfile::tempdir().unwrap();
    let wt = tree.path().join("second-session");
    support::git(
        s.path(),
        &[
            "worktree",
            "add",
            "-q",
            wt.to_str().unwrap(),
            "-b",
            "second",
        ],
    );
    assert!(wt.join(".baton/config.toml").is_file());
    let listed = run_in(&wt, &["task", "list", "--json"]).ok().json();
    assert_eq!(listed[0]["title"], "Shared work", "{listed}");
    // From a folder below the worktree's top too, and the edit-time check sees the
    // reservation made in the main checkout.
    std::fs::create_dir_all(wt.join("src/auth")).unwrap();
    let mut check = command_in(&wt.join("src"), &["edit-check", "auth/login.rs"]);
    check.env("BATON_AGENT", "bob");
    let out = check.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("alice"));
    let init = run_in(&wt, &["init", "--json"]).ok().json();
    assert_eq!(init["created"], false, "{init}");
    assert_eq!(
        std::path::Path::new(init["root"].as_str().unwrap())
            .canonicalize()
            .unwrap(),
        s.path().canonicalize().unwrap()
    );
    assert!(!wt.join(".baton/baton.db").exists());
}
