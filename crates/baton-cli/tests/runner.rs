//! `baton runner` end to end: real git repositories, the real `baton` binary, agents that
//! are scripts (the `command` provider) and the real Claude Code CLI against the scripted
//! model server (`crates/baton-runner/tests/model_server.py`).

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use support::{command_in, git, repository, script, Sandbox};

fn runner(s: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> support::Run {
    let mut all = vec!["runner", "--json"];
    all.extend(args);
    let mut cmd = command_in(s.path(), &all);
    cmd.env_remove("BATON_AGENT").envs(env.iter().copied());
    support::finish(cmd.output().unwrap())
}

fn reports(run: &support::Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn task(s: &Sandbox, id: &str) -> Value {
    s.run(&["task", "show", id]).ok().json()
}

#[test]
fn script_agents_finish_every_ready_task_on_its_own_branch() {
    let s = repository();
    for title in ["Parser", "Lexer", "Printer"] {
        s.run(&["task", "add", "--title", title]).ok();
    }
    // The agent reads its prompt, works in its worktree, commits, reports through baton.
    let agent = script(
        &s,
        "agent",
        r#"prompt=$(cat)
task=$(printf '%s' "$prompt" | sed -n 's/.*You hold task \(T-[0-9]*\).*/\1/p' | head -1)
printf '%s\n' "$BATON_AGENT did $task" > "work-$task.txt"
git add . && git -c user.name=agent -c user.email=a@example.invalid commit -qm "$task by $BATON_AGENT"
baton task note "$task" "notes from the agent"
echo "finished $task""#,
    );
    let status_before = git(s.path(), &["status", "--porcelain"]);
    let run = runner(
        &s,
        &["--provider", "command", "--once", "--max-agents", "2"],
        &[("BATON_AGENT_COMMAND", agent.to_str().unwrap())],
    )
    .ok();
    let done = reports(&run);
    assert_eq!(done.len(), 3, "{}", run.stdout);
    let mut tasks: Vec<String> = done
        .iter()
        .map(|r| r["task"].as_str().unwrap().to_string())
        .collect();
    tasks.sort();
    assert_eq!(tasks, ["T-1", "T-2", "T-3"], "each task claimed once");
    for r in &done {
        let id = r["task"].as_str().unwrap();
        assert_eq!(r["status"], "review", "{r}");
        assert_eq!(r["runs"][0]["outcome"]["outcome"], "succeeded", "{r}");
        assert_eq!(r["worktree"], "removed", "{r}");
        // The branch's diff is recorded: its base, and a one-line summary in the notes.
        assert_eq!(r["diff"], "1 file changed, 1 insertion(+)", "{r}");
        let base = r["base"].as_str().unwrap();
        assert_eq!(base, git(s.path(), &["rev-parse", "main"]));
        let t = task(&s, id);
        assert!(
            t["notes"]
                .to_string()
                .contains("1 file changed, 1 insertion(+)"),
            "{t}"
        );
        assert_eq!(t["status"], "review");
        let notes = t["notes"].to_string();
        assert!(
            notes.contains("notes from the agent") && notes.contains(&format!("finished {id}")),
            "{notes}"
        );
        // The work is on the task's branch, not on main.
        let branch = format!("baton/{id}");
        let file = git(s.path(), &["show", &format!("{branch}:work-{id}.txt")]);
        assert!(file.ends_with(&format!("did {id}")), "{file}");
        assert!(git(s.path(), &["ls-tree", "--name-only", "main"])
            .lines()
            .all(|f| !f.starts_with("work-")));
    }
    // Finished worktrees are removed; the main checkout is clean.
    assert_eq!(git(s.path(), &["worktree", "list"]).lines().count(), 1);
    assert_eq!(git(s.path(), &["status", "--porcelain"]), status_before);
}

#[test]
fn a_crashing_agent_is_retried_then_the_task_is_blocked_with_its_work_kept() {
    let s = repository();
    s.run(&[
        "task",
        "add",
        "--title",
        "Flaky",
        "--description",
        "Make the parser accept empty input.",
    ])
    .ok();
    let prompts = s.path().join("prompts.log");
    let agent = script(
        &s,
        "crash",
        &format!(
            r#"cat >> {prompts}; echo "=== end of prompt" >> {prompts}
echo "attempt by $BATON_AGENT" >> partial.txt
echo "segfault in the model adapter" >&2
echo "giving up"
exit 3"#,
            prompts = prompts.display()
        ),
    );
    let run = runner(
        &s,
        &["--provider", "command", "--once", "--attempts", "2"],
        &[("BATON_AGENT_COMMAND", agent.to_str().unwrap())],
    )
    .ok();
    let done = reports(&run);
    assert_eq!(done.len(), 1);
    assert_eq!(
        done[0]["runs"].as_array().unwrap().len(),
        2,
        "one retry: {}",
        done[0]
    );
    let t = task(&s, "T-1");
    assert_eq!(t["status"], "blocked");
    let reason = t["blocked_reason"].as_str().unwrap();
    assert!(
        reason.contains("exited with code 3") && reason.contains("after 2 runs"),
        "{reason}"
    );
    assert!(
        reason.contains("giving up"),
        "the last output is in the reason: {reason}"
    );
    // Nothing was lost: both attempts' uncommitted work is on the branch.
    let partial = git(s.path(), &["show", "baton/T-1:partial.txt"]);
    assert_eq!(partial.lines().count(), 2, "{partial}");
    // The retry, a fresh process that cannot resume a session, is given the whole task
    // again, and told what ended the run before.
    let said = std::fs::read_to_string(&prompts).unwrap();
    let said: Vec<&str> = said.split("=== end of prompt").collect();
    assert_eq!(said.len(), 3, "{said:?}");
    for prompt in &said[..2] {
        assert!(
            prompt.contains("Make the parser accept empty input."),
            "{prompt}"
        );
    }
    assert!(
        said[1].contains("Your previous run on T-1 ended (crashed)"),
        "{}",
        said[1]
    );
    // The raw output of every run is kept.
    let logs = done[0]["logs"].as_array().unwrap();
    let first = std::fs::read_to_string(logs[0].as_str().unwrap()).unwrap();
    assert!(first.contains("[stderr] segfault"), "{first}");
    // The board recorded both runs, with their processes and their output.
    let runs = s.run(&["runs", "--task", "T-1", "--json"]).ok().json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:?}");
    for r in runs {
        assert_eq!(r["status"], "crashed", "{r}");
        assert!(
            r["pid"].as_u64().is_some() && r["ended_at"].is_string(),
            "{r}"
        );
        assert!(r["reason"].as_str().unwrap().contains("code 3"), "{r}");
    }
    let log = s.run(&["run", "logs", "R-1", "--human"]).ok().stdout;
    assert!(
        log.contains("giving up") && log.contains("[stderr] segfault"),
        "{log}"
    );
    let shown = s.run(&["run", "show", "R-2", "--human"]).ok().stdout;
    assert!(
        shown.contains("attempt 2") && shown.contains("crashed"),
        "{shown}"
    );
}

fn runs_with(s: &Sandbox, status: &str) -> Vec<Value> {
    let listed = s.run(&["runs", "--status", status, "--json"]).ok().json();
    listed.as_array().unwrap().clone()
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !ready() {
        assert!(
            std::time::Instant::now() < until,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Whether a process (`123`) or a process group (`-123`) exists.
fn alive(pid: &str) -> bool {
    Command::new("kill")
        .args(["-0", "--", pid])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_runner_killed_and_started_again_adopts_live_runs_and_requeues_the_others() {
    let s = repository();
    s.run(&["task", "add", "--title", "Long", "--priority", "P0"])
        .ok();
    s.run(&["task", "add", "--title", "Short", "--priority", "P1"])
        .ok();
    // T-1's agent outlives its runner (it ignores the broken pipe); T-2's dies with it, and
    // on its second run (its worktree holds the marker) finishes.
    let agent = script(
        &s,
        "agent",
        r#"cat > /dev/null
case "$PWD" in
  *T-1) trap '' PIPE
        echo "long work" >> long.txt
        while true; do echo tick 2>/dev/null || true; sleep 0.2; done ;;
esac
if [ -f marker ]; then
  echo "finished" >> short.txt
  git add -A && git commit -qm "short: done"
  echo "done"
  exit 0
fi
touch marker
echo "half" >> short.txt
while true; do echo tick; sleep 0.2; done"#,
    );
    let env = [("BATON_AGENT_COMMAND", agent.to_str().unwrap())];
    let start = |extra: &[&str]| -> Child {
        let mut args = vec![
            "runner",
            "--json",
            "--provider",
            "command",
            "--max-agents",
            "2",
        ];
        args.extend(extra);
        let mut cmd = command_in(s.path(), &args);
        cmd.envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.spawn().unwrap()
    };
    let mut first = start(&[]);
    wait_for("two runs with their processes", || {
        let running = runs_with(&s, "running");
        running.len() == 2 && running.iter().all(|r| r["pid"].is_u64())
    });
    let before = runs_with(&s, "running");
    let pid_of = |task: &str| -> (String, String) {
        let r = before.iter().find(|r| r["task"] == task).unwrap();
        (r["pid"].to_string(), r["id"].as_str().unwrap().to_string())
    };
    let (long_pid, long_run) = pid_of("T-1");
    let (short_pid, short_run) = pid_of("T-2");
    first.kill().unwrap(); // SIGKILL: no cleanup of any kind
    first.wait().unwrap();
    wait_for("the orphaned short agent to die of its broken pipe", || {
        !alive(&short_pid)
    });
    assert!(
        alive(&long_pid),
        "the long agent lives on without its runner"
    );

    let mut second = start(&["--once"]);
    wait_for("the live run to be adopted", || {
        let r = s.run(&["run", "show", &long_run, "--json"]).ok().json();
        r["status"] == "running"
            && s.run(&["events", "--action", "run.adopted", "--json"])
                .ok()
                .stdout
                .contains(&long_run)
    });
    s.run(&["run", "stop", &long_run]).ok();
    let status = second.wait().unwrap();
    assert!(
        status.success(),
        "the second runner ends once nothing is left"
    );

    // No run is left running without a process; every run has its ending.
    assert!(runs_with(&s, "running").is_empty());
    let long = s.run(&["run", "show", &long_run, "--json"]).ok().json();
    assert_eq!(long["status"], "stopped", "{long}");
    assert!(!alive(&long_pid), "the adopted process was stopped");
    let pgid = format!("-{}", long["pgid"]);
    assert!(!alive(&pgid), "nothing of its process group is left");
    let short = s.run(&["run", "show", &short_run, "--json"]).ok().json();
    assert_eq!(short["status"], "interrupted", "{short}");
    let again = s.run(&["runs", "--task", "T-2", "--json"]).ok().json();
    let again = again.as_array().unwrap();
    assert_eq!(again.len(), 2, "{again:?}");
    assert_eq!(again[0]["status"], "succeeded", "{}", again[0]);

    // Tasks: the interrupted one was requeued and finished; the stopped one waits for a person.
    assert_eq!(task(&s, "T-2")["status"], "review");
    let t1 = task(&s, "T-1");
    assert_eq!(t1["status"], "blocked");
    assert!(
        t1["blocked_reason"].as_str().unwrap().contains("stopped"),
        "{t1}"
    );
    // Nothing was lost: each run's work is on its task's branch.
    assert!(git(s.path(), &["show", "baton/T-1:long.txt"]).contains("long work"));
    let short_work = git(s.path(), &["show", "baton/T-2:short.txt"]);
    assert!(
        short_work.contains("half") && short_work.contains("finished"),
        "{short_work}"
    );
}

#[test]
fn a_failing_verify_goes_back_to_the_agent_and_the_result_reaches_the_review() {
    let s = repository();
    s.run(&[
        "task",
        "add",
        "--title",
        "Checked",
        "--verify",
        "test -f checked.txt && echo all good",
    ])
    .ok();
    // First run: work without the file verify wants. Told that verify failed, it fixes it.
    let agent = script(
        &s,
        "verified",
        r#"prompt=$(cat)
case "$prompt" in
  *"verify command failed"*) echo ok > checked.txt; msg="add checked.txt";;
  *) echo draft > work.txt; msg="first try";;
esac
git add . && git -c user.name=agent -c user.email=a@example.invalid commit -qm "$msg"
echo "did: $msg""#,
    );
    let run = runner(
        &s,
        &["--provider", "command", "--once", "--attempts", "3"],
        &[("BATON_AGENT_COMMAND", agent.to_str().unwrap())],
    )
    .ok();
    let done = reports(&run);
    let r = &done[0];
    assert_eq!(r["runs"].as_array().unwrap().len(), 2, "{r}");
    let checks = r["verify"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{r}");
    assert_eq!(checks[0]["passed"], false);
    assert_eq!(checks[1]["passed"], true);
    assert!(checks[1]["output"].as_str().unwrap().contains("all good"));
    let t = task(&s, "T-1");
    assert_eq!(t["status"], "review");
    assert!(t["notes"].to_string().contains("verify passed"), "{t}");
    assert_eq!(git(s.path(), &["show", "baton/T-1:checked.txt"]), "ok");
    // Each run's stored output ends with its verify result.
    let first = s.run(&["run", "logs", "R-1", "--human"]).ok().stdout;
    let second = s.run(&["run", "logs", "R-2", "--human"]).ok().stdout;
    assert!(first.contains("[verify] verify FAILED"), "{first}");
    assert!(second.contains("[verify] verify passed"), "{second}");
}

#[test]
fn verify_that_keeps_failing_still_reaches_review_with_the_failure_shown() {
    let s = repository();
    s.run(&[
        "task",
        "add",
        "--title",
        "Never green",
        "--verify",
        "echo 3 tests failed; exit 1",
    ])
    .ok();
    let agent = script(
        &s,
        "stubborn",
        r#"cat > /dev/null
date +%s%N >> tries.txt
git add . && git -c user.name=agent -c user.email=a@example.invalid commit -qm try
echo tried"#,
    );
    let run = runner(
        &s,
        &["--provider", "command", "--once", "--attempts", "2"],
        &[("BATON_AGENT_COMMAND", agent.to_str().unwrap())],
    )
    .ok();
    let r = &reports(&run)[0];
    assert_eq!(r["verify"].as_array().unwrap().len(), 2, "{r}");
    let t = task(&s, "T-1");
    assert_eq!(t["status"], "review", "a person decides: {t}");
    let notes = t["notes"].to_string();
    assert!(
        notes.contains("verify FAILED") && notes.contains("3 tests failed"),
        "{notes}"
    );
}

#[test]
fn a_provider_file_with_a_mistake_is_refused_with_its_reason() {
    let s = repository();
    std::fs::create_dir_all(s.path().join(".baton/providers")).unwrap();
    std::fs::write(
        s.path().join(".baton/providers/mine.toml"),
        "name = \"mine\"\ncommand = \"x\"\nargs = [\"-p\"]\nformat = \"plain\"\n",
    )
    .unwrap();
    let run = runner(&s, &["--provider", "mine", "--once"], &[]).fails(2, "bad_provider");
    assert!(run.error()["message"]
        .as_str()
        .unwrap()
        .contains("{prompt}"));
    std::fs::remove_file(s.path().join(".baton/providers/mine.toml")).unwrap();
    runner(&s, &["--provider", "nope", "--once"], &[]).fails(3, "unknown_provider");
    let listed = runner(&s, &["--list-providers"], &[]).ok().json();
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "codex"));
}

// ---- the real Claude Code CLI ----------------------------------------------------------

/// The installed agent CLIs (`.ci/install-agent-clis`); missing: a failure in CI, a skip
/// with a printed reason locally.
fn agent_clis() -> Option<PathBuf> {
    let dir = std::env::var_os("BATON_AGENT_CLIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/agent-clis/node_modules/.bin")
        });
    if dir.join("claude").exists() {
        return Some(dir);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !in_ci,
        "{} has no claude; .ci/run installs it",
        dir.display()
    );
    eprintln!(
        "skipping: no Claude Code CLI in {} (run .ci/install-agent-clis)",
        dir.display()
    );
    None
}

/// The scripted model server on 127.0.0.1, killed on drop.
struct ModelServer {
    child: Child,
    port: u16,
}

impl ModelServer {
    fn start(script: &Value, dir: &Path) -> ModelServer {
        let path = dir.join("model-script.json");
        std::fs::write(&path, script.to_string()).unwrap();
        let server =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../baton-runner/tests/model_server.py");
        let mut child = Command::new("python3")
            .arg(server)
            .args(["--port", "0", "--script"])
            .arg(&path)
            .arg("--log")
            .arg(dir.join("model-requests.jsonl"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = serde_json::from_str::<Value>(&first).unwrap()["port"]
            .as_u64()
            .unwrap() as u16;
        ModelServer { child, port }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment that points Claude Code at the scripted server, in a home of its own.
fn claude_env(clis: &Path, model: &ModelServer, home: &Path) -> Vec<(String, String)> {
    vec![
        (
            "PATH".into(),
            format!(
                "{}:{}",
                clis.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
        ("HOME".into(), home.display().to_string()),
        (
            "CLAUDE_CONFIG_DIR".into(),
            home.join("claude").display().to_string(),
        ),
        (
            "ANTHROPIC_BASE_URL".into(),
            format!("http://127.0.0.1:{}", model.port),
        ),
        ("ANTHROPIC_API_KEY".into(), "test-key-not-secret".into()),
    ]
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn claude_code_does_the_task_through_baton_and_it_reaches_review_with_its_commit() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.run(&[
        "task",
        "add",
        "--title",
        "Say hello",
        "--description",
        "Add hello.txt",
    ])
    .ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "Bash", "input": {"command":
                "echo hello > hello.txt && git add hello.txt && git -c user.name=claude -c user.email=c@example.invalid commit -qm 'Add hello.txt' && baton task note T-1 'hello.txt added' && baton task done T-1 --notes 'Added hello.txt, committed'",
                "description": "Create, commit, report"}},
            {"text": "Added hello.txt and marked T-1 done."}
        ]),
        s.path(),
    );
    let home = tempfile::tempdir().unwrap();
    let env = claude_env(&clis, &model, home.path());
    let run = runner(
        &s,
        &["--provider", "claude", "--once", "--idle-timeout", "120s"],
        &pairs(&env),
    )
    .ok();
    let done = reports(&run);
    assert_eq!(done.len(), 1, "{}\n{}", run.stdout, run.stderr);
    let r = &done[0];
    assert_eq!(r["runs"][0]["outcome"]["outcome"], "succeeded", "{r}");
    assert!(r["runs"][0]["session_id"].is_string(), "{r}");
    assert!(
        r["runs"][0]["usage"]["input_tokens"].as_u64().unwrap() > 0,
        "{r}"
    );
    let t = task(&s, "T-1");
    assert_eq!(t["status"], "review", "{t}");
    let notes = t["notes"].to_string();
    assert!(
        notes.contains("hello.txt added"),
        "the agent's own baton call went to this board: {notes}"
    );
    assert_eq!(git(s.path(), &["show", "baton/T-1:hello.txt"]), "hello");
    assert_eq!(
        git(s.path(), &["log", "-1", "--format=%s", "baton/T-1"]),
        "Add hello.txt"
    );
}

/// The edit-time check in a real Claude Code: `baton generate --hooks` installs the hook in
/// the repository's settings, the task's worktree carries them, and Claude Code's Write of
/// a file another agent reserved is refused before it happens, the model being told who
/// holds it.
#[test]
fn claude_codes_edit_of_a_file_another_agent_reserved_is_refused_by_the_hook() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.run(&["generate", "--hooks"]).ok();
    git(s.path(), &["add", ".claude/settings.json"]);
    git(s.path(), &["commit", "-qm", "Baton's edit hook"]);
    s.as_agent("codex", &["reserve", "src/auth/**", "--ttl", "30m"])
        .ok();
    s.run(&["task", "add", "--title", "Touch login"]).ok();
    let worktree = s
        .path()
        .canonicalize()
        .unwrap()
        .join(".baton/worktrees/T-1");
    let reserved = worktree.join("src/auth/login.rs");
    let free = worktree.join("notes.txt");
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "Write", "input": {"file_path": reserved, "content": "fn login() {}\n"}},
            {"tool": "Write", "input": {"file_path": free, "content": "free\n"}},
            {"text": "The login file is reserved by codex; I left it."}
        ]),
        s.path(),
    );
    let home = tempfile::tempdir().unwrap();
    let env = claude_env(&clis, &model, home.path());
    let run = runner(
        &s,
        &["--provider", "claude", "--once", "--idle-timeout", "120s"],
        &pairs(&env),
    );
    let log = std::fs::read_to_string(s.path().join("model-requests.jsonl")).unwrap();
    // What Claude Code sent back for each Write, in the request after it.
    let results: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .flat_map(|r| {
            r["body"]["messages"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["type"] == "tool_result")
        .map(|c| c["content"].to_string())
        .collect();
    assert!(
        results
            .iter()
            .any(|r| r.contains("codex") && r.contains("src/auth/**")),
        "the refusal named the holder: {results:?}\n{}\n{}",
        run.stdout,
        run.stderr
    );
    // The runner commits what the agent left: the free file, not the reserved one.
    only_the_free_file_landed(&s);
}

#[test]
fn a_claude_code_process_killed_mid_run_is_retried_in_the_same_session() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    let marker = format!("Kill-me-{}", std::process::id());
    s.run(&["task", "add", "--title", &marker]).ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "Bash", "input": {"command": "echo one > one.txt", "description": "Start"}},
            {"text": "This answer never completes.", "stall": 120},
            {"tool": "Bash", "input": {"command":
                "echo two > two.txt && git add -A && git -c user.name=claude -c user.email=c@example.invalid commit -qm 'Finish after the crash' && baton task done T-1 --notes 'finished after a resume'",
                "description": "Finish"}},
            {"text": "Finished."}
        ]),
        s.path(),
    );
    let home = tempfile::tempdir().unwrap();
    let env = claude_env(&clis, &model, home.path());
    let mut all = vec![
        "runner",
        "--json",
        "--provider",
        "claude",
        "--once",
        "--idle-timeout",
        "300s",
    ];
    all.push("--attempts");
    all.push("3");
    let mut cmd = command_in(s.path(), &all);
    cmd.env_remove("BATON_AGENT").envs(pairs(&env));
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the stalled answer is on its way, kill the CLI itself (not its group, not the
    // runner): the runner must see a crash.
    let log = s.path().join("model-requests.jsonl");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let requests = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count();
        if requests >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the CLI never reached the stalled answer"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("pkill")
        .args(["-KILL", "-f", &marker])
        .status()
        .unwrap();
    assert!(killed.success(), "no CLI process carried the task's prompt");
    let out = child.wait_with_output().unwrap();
    let run = support::finish(out).ok();
    let done = reports(&run);
    let runs = done[0]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{}", done[0]);
    assert_eq!(runs[0]["outcome"]["outcome"], "crashed", "{}", done[0]);
    assert!(runs[0]["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("signal 9"));
    assert_eq!(runs[1]["outcome"]["outcome"], "succeeded", "{}", done[0]);
    assert_eq!(
        runs[0]["session_id"], runs[1]["session_id"],
        "resumed, not restarted"
    );
    assert_eq!(task(&s, "T-1")["status"], "review");
    // The crashed run's uncommitted file was committed for it, then the resumed run's.
    assert_eq!(git(s.path(), &["show", "baton/T-1:one.txt"]), "one");
    assert_eq!(git(s.path(), &["show", "baton/T-1:two.txt"]), "two");
}

#[test]
fn a_quiet_claude_code_run_is_stopped_by_the_watchdog_and_its_work_committed() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.run(&["task", "add", "--title", "Draft"]).ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "Bash", "input": {"command": "echo draft > draft.txt", "description": "Draft"}},
            {"hang": 120}
        ]),
        s.path(),
    );
    let home = tempfile::tempdir().unwrap();
    let env = claude_env(&clis, &model, home.path());
    let started = std::time::Instant::now();
    let run = runner(
        &s,
        &[
            "--provider",
            "claude",
            "--once",
            "--idle-timeout",
            "3s",
            "--attempts",
            "1",
        ],
        &pairs(&env),
    )
    .ok();
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    let done = reports(&run);
    assert_eq!(
        done[0]["runs"][0]["outcome"]["outcome"], "hung",
        "{}",
        done[0]
    );
    let t = task(&s, "T-1");
    assert_eq!(t["status"], "blocked");
    assert!(
        t["blocked_reason"].as_str().unwrap().contains("quiet"),
        "{t}"
    );
    assert_eq!(git(s.path(), &["show", "baton/T-1:draft.txt"]), "draft");
    // No process of the run is left.
    let left = Command::new("pgrep")
        .args(["-f", "Draft"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&left.stdout).trim().is_empty(),
        "a process survived"
    );
}

#[test]
fn a_rate_limited_account_is_parked_and_the_task_finishes_on_the_next_one() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.run(&["task", "add", "--title", "Limited"]).ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"status": 429, "retry_after": 3600},
            {"tool": "Bash", "input": {"command":
                "echo done > limited.txt && git add . && git -c user.name=claude -c user.email=c@example.invalid commit -qm 'After the limit'",
                "description": "Work"}},
            {"text": "Finished on the second account."}
        ]),
        s.path(),
    );
    let home = tempfile::tempdir().unwrap();
    let mut env = claude_env(&clis, &model, home.path());
    env.retain(|(k, _)| k != "ANTHROPIC_API_KEY");
    // Two accounts by API key (one config directory, so the session can be resumed).
    std::fs::write(
        s.path().join(".baton/accounts.toml"),
        "[[account]]\nprovider = \"claude\"\nname = \"first\"\nenv = { ANTHROPIC_API_KEY = \"key-first\" }\n\
         [[account]]\nprovider = \"claude\"\nname = \"second\"\nenv = { ANTHROPIC_API_KEY = \"key-second\" }\n",
    )
    .unwrap();
    let run = runner(
        &s,
        &["--provider", "claude", "--once", "--idle-timeout", "120s"],
        &pairs(&env),
    )
    .ok();
    let r = &reports(&run)[0];
    let runs = r["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{r}");
    assert_eq!(runs[0]["outcome"]["outcome"], "rate_limited", "{r}");
    assert_eq!(runs[0]["account"], "first");
    assert_eq!(runs[1]["outcome"]["outcome"], "succeeded", "{r}");
    assert_eq!(runs[1]["account"], "second");
    assert_eq!(
        runs[0]["session_id"], runs[1]["session_id"],
        "the same session, resumed"
    );
    assert_eq!(task(&s, "T-1")["status"], "review");
    assert_eq!(git(s.path(), &["show", "baton/T-1:limited.txt"]), "done");
    // The first account is parked, and no key reached the state file or the board.
    let state = std::fs::read_to_string(s.path().join(".baton/runs/accounts.json")).unwrap();
    let parked: Value = serde_json::from_str(&state).unwrap();
    assert!(
        parked["claude/first"]["cooling_until"].is_string(),
        "{state}"
    );
    assert!(!state.contains("key-first"));
    let events = s.run(&["events", "--limit", "1000"]).ok().stdout;
    assert!(!events.contains("key-first") && !events.contains("key-second"));
    // The board holds both runs and the accounts' states, for every runner and person.
    let on_board = s.run(&["runs", "--json"]).ok().json();
    let on_board = on_board.as_array().unwrap();
    assert_eq!(on_board.len(), 2, "{on_board:?}");
    assert_eq!(
        (
            on_board[1]["status"].as_str(),
            on_board[1]["account"].as_str()
        ),
        (Some("rate_limited"), Some("first"))
    );
    assert_eq!(
        (
            on_board[0]["status"].as_str(),
            on_board[0]["account"].as_str()
        ),
        (Some("succeeded"), Some("second"))
    );
    assert!(
        on_board[0]["usage"]["output_tokens"].as_u64().unwrap() > 0,
        "{}",
        on_board[0]
    );
    let accounts = s.run(&["accounts", "--json"]).ok();
    let states: Vec<(String, String)> = accounts
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().into(),
                a["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("first".into(), "cooling".into()),
            ("second".into(), "available".into())
        ]
    );
    assert!(!accounts.stdout.contains("key-first"));
}

/// A CODEX_HOME for one test (outside /tmp: Codex refuses its helper binaries there),
/// whose config sends Codex to the scripted model server without sandbox or approvals.
fn codex_home(model: &ModelServer, test: &str) -> PathBuf {
    let codex_home = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("codex-home-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&codex_home).unwrap();
    std::fs::write(
        codex_home.join("config.toml"),
        format!(
            "model_provider = \"scripted\"\nmodel = \"gpt-5.5\"\nsandbox_mode = \"danger-full-access\"\n\
             approval_policy = \"never\"\ncheck_for_update_on_startup = false\n\
             [analytics]\nenabled = false\n[features]\nplugins = false\napps = false\nremote_plugin = false\n\
             [model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"http://127.0.0.1:{}/v1\"\n\
             env_key = \"SCRIPTED_API_KEY\"\nwire_api = \"responses\"\n",
            model.port
        ),
    )
    .unwrap();
    codex_home
}

/// `baton runner --provider codex --once` in `s`, Codex sent to `model` with a home of its
/// own (removed after).
fn codex_runner(s: &Sandbox, clis: &Path, model: &ModelServer, test: &str) -> support::Run {
    let codex_home = codex_home(model, test);
    let home = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        clis.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = runner(
        s,
        &["--provider", "codex", "--once", "--idle-timeout", "120s"],
        &[
            ("PATH", path.as_str()),
            ("HOME", home.path().to_str().unwrap()),
            ("CODEX_HOME", codex_home.to_str().unwrap()),
            ("SCRIPTED_API_KEY", "test-key-not-secret"),
        ],
    )
    .ok();
    let _ = std::fs::remove_dir_all(&codex_home);
    run
}

#[test]
fn codex_does_the_task_and_it_reaches_review_with_its_commit() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.run(&["task", "add", "--title", "Codex hello"]).ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "exec_command", "input": {"cmd":
                "echo hi > codex.txt && git add codex.txt && git -c user.name=codex -c user.email=x@example.invalid commit -qm 'Add codex.txt'"}},
            {"text": "Added codex.txt."}
        ]),
        s.path(),
    );
    let run = codex_runner(&s, &clis, &model, "does");
    let done = reports(&run);
    assert_eq!(done.len(), 1, "{}\n{}", run.stdout, run.stderr);
    let r = &done[0];
    assert_eq!(r["runs"][0]["outcome"]["outcome"], "succeeded", "{r}");
    assert_eq!(r["summary"], "Added codex.txt.", "{r}");
    // The agent did not say done: the runner did, with its summary.
    let t = task(&s, "T-1");
    assert_eq!(t["status"], "review", "{t}");
    assert!(t["notes"].to_string().contains("Added codex.txt."), "{t}");
    assert_eq!(git(s.path(), &["show", "baton/T-1:codex.txt"]), "hi");
}

/// The edit-time check in a real Codex under the runner, with nothing set up by hand: the
/// runner passes the hook, Codex's apply_patch of a file another agent reserved is refused
/// before it happens (the model is told who holds it), and its other patch lands.
#[test]
fn codex_patch_of_a_file_another_agent_reserved_is_refused_by_the_hook() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.as_agent("claude-2", &["reserve", "src/auth/**", "--ttl", "30m"])
        .ok();
    s.run(&["task", "add", "--title", "Touch login"]).ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "apply_patch", "input":
                "*** Begin Patch\n*** Add File: src/auth/login.rs\n+fn login() {}\n*** End Patch\n"},
            {"tool": "apply_patch", "input":
                "*** Begin Patch\n*** Add File: notes.txt\n+free\n*** End Patch\n"},
            {"text": "The login file is reserved by claude-2; I left it."}
        ]),
        s.path(),
    );
    let run = codex_runner(&s, &clis, &model, "hook");
    let done = reports(&run);
    assert_eq!(done.len(), 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        done[0]["runs"][0]["outcome"]["outcome"], "succeeded",
        "{}",
        done[0]
    );
    // What Codex sent back for the first patch, in the request after it.
    let log = std::fs::read_to_string(s.path().join("model-requests.jsonl")).unwrap();
    let outputs: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .flat_map(|r| r["body"]["input"].as_array().cloned().unwrap_or_default())
        .filter(|i| {
            i["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("call_output"))
        })
        .map(|i| i["output"].to_string())
        .collect();
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("claude-2") && o.contains("src/auth/**")),
        "the refusal named the holder: {outputs:?}\n{}",
        run.stderr
    );
    only_the_free_file_landed(&s);
}

/// The task's branch holds the free file the agent wrote, and nothing under the reserved
/// `src/`.
fn only_the_free_file_landed(s: &Sandbox) {
    assert_eq!(git(s.path(), &["show", "baton/T-1:notes.txt"]), "free");
    assert_eq!(
        git(
            s.path(),
            &["ls-tree", "-r", "--name-only", "baton/T-1", "src"]
        ),
        "",
        "the reserved file was never written"
    );
}

/// The `.codex/hooks.json` that `baton generate --hooks` writes is what a person's own Codex
/// reads: in the trusted project, with the hook trusted (here by
/// --dangerously-bypass-hook-trust, standing in for the person's review in /hooks), Codex
/// refuses a patch of a file another agent reserved.
#[test]
fn codex_outside_the_runner_reads_the_generated_hook_file() {
    let Some(clis) = agent_clis() else { return };
    let s = repository();
    s.run(&["generate", "--hooks"]).ok();
    s.as_agent("claude-2", &["reserve", "src/auth/**", "--ttl", "30m"])
        .ok();
    let model = ModelServer::start(
        &serde_json::json!([
            {"tool": "apply_patch", "input":
                "*** Begin Patch\n*** Add File: src/auth/login.rs\n+fn login() {}\n*** End Patch\n"},
            {"text": "Left it."}
        ]),
        s.path(),
    );
    let codex_home = codex_home(&model, "generated");
    let root = s.path().canonicalize().unwrap();
    let mut config = std::fs::read_to_string(codex_home.join("config.toml")).unwrap();
    config.push_str(&format!(
        "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        root.display()
    ));
    std::fs::write(codex_home.join("config.toml"), config).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(clis.join("codex"))
        .args([
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "danger-full-access",
            "--dangerously-bypass-hook-trust",
            "Add the login function.",
        ])
        .current_dir(&root)
        .env("HOME", home.path())
        .env("CODEX_HOME", &codex_home)
        .env("SCRIPTED_API_KEY", "test-key-not-secret")
        .env("BATON_AGENT", "codex-1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&codex_home);
    let log = std::fs::read_to_string(s.path().join("model-requests.jsonl")).unwrap();
    assert!(
        log.contains("claude-2") && log.contains("Do not edit it"),
        "Codex told the model who holds the file: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!root.join("src/auth/login.rs").exists());
}

#[test]
fn two_runners_serve_one_server_and_a_clash_of_agent_names_is_refused() {
    let s = repository();
    for n in 1..=6 {
        s.run(&["task", "add", "--title", &format!("Piece {n}")])
            .ok();
    }
    let server = support::Foreground::start(&s, &[]);
    // Each agent waits for the gate file, then commits its piece and reports done.
    let gate = s.path().join("gate");
    let agent = script(
        &s,
        "agent",
        &format!(
            r#"prompt=$(cat)
task=$(printf '%s' "$prompt" | sed -n 's/.*You hold task \(T-[0-9]*\).*/\1/p' | head -1)
while [ ! -f {gate} ]; do sleep 0.1; done
echo "$BATON_AGENT" > "piece-$task.txt"
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm "$task"
echo "finished $task""#,
            gate = gate.display()
        ),
    );
    let start = |name: &str| -> Child {
        let mut cmd = command_in(
            s.path(),
            &[
                "runner",
                "--json",
                "--provider",
                "command",
                "--once",
                "--max-agents",
                "2",
                "--name",
                name,
            ],
        );
        cmd.env("BATON_URL", &server.url)
            .env("BATON_AGENT_COMMAND", &agent)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    };
    let first = start("east");
    let listed = |s: &Sandbox| -> Vec<Value> {
        let mut cmd = command_in(s.path(), &["runs", "--status", "running", "--json"]);
        cmd.env("BATON_URL", &server.url);
        let out = support::finish(cmd.output().unwrap()).ok();
        out.json().as_array().unwrap().clone()
    };
    wait_for("east's two runs", || listed(&s).len() == 2);
    // A second runner under the same names is refused, with the way out.
    let mut clash = command_in(
        s.path(),
        &[
            "runner",
            "--json",
            "--provider",
            "command",
            "--once",
            "--name",
            "east",
        ],
    );
    clash
        .env("BATON_URL", &server.url)
        .env("BATON_AGENT_COMMAND", &agent);
    let refused = support::finish(clash.output().unwrap());
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("agent_names_taken") && refused.stderr.contains("--name"),
        "{}",
        refused.stderr
    );
    let second = start("west");
    wait_for("four runs at once", || listed(&s).len() == 4);
    std::fs::write(&gate, "").unwrap();
    let outputs = [first, second].map(|c| c.wait_with_output().unwrap());
    let mut claimed = Vec::new();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let r: Value = serde_json::from_str(line).unwrap();
            assert_eq!(r["status"], "review", "{r}");
            claimed.push(r["task"].as_str().unwrap().to_string());
        }
    }
    claimed.sort();
    assert_eq!(
        claimed,
        ["T-1", "T-2", "T-3", "T-4", "T-5", "T-6"],
        "each task once"
    );
    for n in 1..=6 {
        let piece = git(s.path(), &["show", &format!("baton/T-{n}:piece-T-{n}.txt")]);
        assert!(
            piece.starts_with("east-") || piece.starts_with("west-"),
            "{piece}"
        );
    }
    // The server's board holds every run, by both runners.
    let mut cmd = command_in(s.path(), &["runs", "--json"]);
    cmd.env("BATON_URL", &server.url);
    let runs = support::finish(cmd.output().unwrap()).ok().json();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 6);
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{runs:?}");
    let agents: std::collections::BTreeSet<&str> =
        runs.iter().map(|r| r["agent"].as_str().unwrap()).collect();
    assert!(
        agents.iter().any(|a| a.starts_with("east-"))
            && agents.iter().any(|a| a.starts_with("west-"))
    );
}

#[test]
fn a_cli_that_names_no_session_is_started_under_a_name_and_resumed_by_it() {
    let s = repository();
    s.run(&["task", "add", "--title", "Named"]).ok();
    std::fs::create_dir_all(s.path().join(".baton/providers")).unwrap();
    std::fs::write(
        s.path().join(".baton/providers/named.toml"),
        r#"name = "named"
description = "a CLI that resumes sessions by the name it was started with"
command = "sh"
args = ["-c", 'exec "$BATON_AGENT_COMMAND" new "$0"', "{name}"]
resume_args = ["-c", 'exec "$BATON_AGENT_COMMAND" resume "$0"', "{session}"]
prompt = "stdin"
format = "plain"
"#,
    )
    .unwrap();
    let calls = s.path().join("calls.txt");
    let agent = script(
        &s,
        "named",
        &format!(
            r#"cat > /dev/null
echo "$1 $2" >> {calls}
if [ "$1" = new ]; then echo "lost my way"; exit 3; fi
echo done > named.txt
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm named
echo "finished""#,
            calls = calls.display()
        ),
    );
    runner(
        &s,
        &["--provider", "named", "--once"],
        &[("BATON_AGENT_COMMAND", agent.to_str().unwrap())],
    )
    .ok();
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "new baton-T-1\nresume baton-T-1\n",
        "the retry resumed the session by the name the first run was given"
    );
    assert_eq!(task(&s, "T-1")["status"], "review");
    let runs = s.run(&["runs", "--json"]).ok().json();
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .all(|r| r["session"] == "baton-T-1"),
        "{runs}"
    );
}

#[test]
fn a_run_left_by_a_machine_that_went_away_is_interrupted_and_its_task_run_again() {
    use baton_core::api::{NewRun, PickupRequest};
    use baton_core::Api;
    let s = repository();
    s.run(&["task", "add", "--title", "Orphaned"]).ok();
    let db = s.path().join(".baton/baton.db");
    {
        let board = baton_core::Board::new(baton_sqlite::SqliteStore::open(&db).unwrap());
        board.pickup("far-1", &PickupRequest::default()).unwrap();
        board
            .start_run(
                "far-1",
                NewRun {
                    task: baton_core::TaskId(1),
                    provider: "command".into(),
                    account: None,
                    attempt: 1,
                    runner: "far-away:77:1".into(),
                    host: "far-away".into(),
                    worktree: None,
                    branch: None,
                    session: None,
                    spool: None,
                },
            )
            .unwrap();
    }
    // Its runner last updated it an hour ago.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE runs SET updated_at = '2026-01-01T00:00:00.000Z' WHERE id = 1",
        [],
    )
    .unwrap();
    let agent = script(
        &s,
        "agent",
        r#"cat > /dev/null
echo again > again.txt
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm again
echo finished"#,
    );
    runner(
        &s,
        &["--provider", "command", "--once", "--name", "near"],
        &[("BATON_AGENT_COMMAND", agent.to_str().unwrap())],
    )
    .ok();
    let first = s.run(&["run", "show", "R-1", "--json"]).ok().json();
    assert_eq!(first["status"], "interrupted", "{first}");
    assert!(
        first["reason"]
            .as_str()
            .unwrap()
            .contains("stopped updating"),
        "{first}"
    );
    let second = s.run(&["run", "show", "R-2", "--json"]).ok().json();
    assert_eq!(
        (second["status"].as_str(), second["agent"].as_str()),
        (Some("succeeded"), Some("near-1"))
    );
    assert_eq!(task(&s, "T-1")["status"], "review");
}

#[test]
fn run_commands_refuse_bad_input_with_the_way_out() {
    let s = repository();
    let bad = s.run(&["runs", "--status", "bogus"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("interrupted") && bad.stderr.contains("rate_limited"),
        "{}",
        bad.stderr
    );
    let unknown = s.run(&["run", "show", "R-9"]);
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("baton runs"), "{}", unknown.stderr);
    let wrong = s.run(&["run", "stop", "T-1"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(wrong.stderr.contains("R-12"), "{}", wrong.stderr);
}
