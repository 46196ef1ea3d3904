//! Branches and merges end to end, in real git repositories with the real `baton` binary:
//! script agents (the `command` provider) work on task branches cut from their phase's;
//! approving carries the work up the chain (task -> phase -> initiative -> main); a conflict
//! changes nothing and becomes a merge task an agent resolves; a moved base is merged or
//! rebased; a target checked out elsewhere moves with its files; a runner killed in the
//! middle of a merge leaves git consistent and the merge is retried.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{command_in, git, repository, script, Sandbox};

/// The agent: writes its file (or, given `SHARED`, the shared one), commits; on a merge
/// task it resolves the conflict by keeping both sides' lines (given `CARELESS`, it commits
/// the file as git left it, markers and all).
const AGENT: &str = r#"prompt=$(cat)
task=$(printf '%s' "$prompt" | sed -n 's/.*You hold task \(T-[0-9]*\).*/\1/p' | head -1)
if git rev-parse -q --verify MERGE_HEAD >/dev/null; then
  if [ -z "$CARELESS" ]; then
    sed -e '/^[<=>|]\{7\}/d' shared.txt | sort > resolved.txt
    mv resolved.txt shared.txt
  fi
  git add shared.txt
  git -c user.name=agent -c user.email=a@example.invalid commit -q --no-edit
  echo "resolved for $task"
  exit 0
fi
if [ -n "$SHARED" ]; then
  printf 'line from %s\n' "$task" > shared.txt
else
  printf '%s\n' "$task" > "work-$task.txt"
fi
git add . && git -c user.name=agent -c user.email=a@example.invalid commit -qm "$task by $BATON_AGENT"
echo "finished $task""#;

fn run_agents(s: &Sandbox, env: &[(&str, &str)]) {
    run_agents_with(s, &[], env);
}

fn run_agents_with(s: &Sandbox, extra: &[&str], env: &[(&str, &str)]) {
    let agent = script(s, "agent", AGENT);
    let mut args = vec!["runner", "--json", "--provider", "command", "--once"];
    args.extend(extra);
    let mut cmd = command_in(s.path(), &args);
    cmd.env_remove("BATON_AGENT")
        .env("BATON_AGENT_COMMAND", agent.to_str().unwrap())
        .envs(env.iter().copied());
    support::finish(cmd.output().unwrap()).ok();
}

fn json(s: &Sandbox, args: &[&str]) -> Value {
    s.run(args).ok().json()
}

fn merge_run(s: &Sandbox) -> Vec<Value> {
    json(s, &["merge", "run"]).as_array().unwrap().clone()
}

fn head(dir: &Path, branch: &str) -> String {
    git(dir, &["rev-parse", &format!("refs/heads/{branch}")])
}

/// A person writes `file` in the checkout at `dir` and commits it.
fn commit_file(dir: &Path, file: &str, text: &str, message: &str) {
    std::fs::write(dir.join(file), text).unwrap();
    git(dir, &["add", file]);
    let who = ["-c", "user.name=p", "-c", "user.email=p@example.invalid"];
    git(dir, &[&who[..], &["commit", "-qm", message]].concat());
}

fn files_on(dir: &Path, branch: &str) -> Vec<String> {
    git(dir, &["ls-tree", "--name-only", "-r", branch])
        .lines()
        .map(str::to_string)
        .collect()
}

/// An initiative with one approved phase of `tasks` tasks; (initiative, phase, branches).
fn planned(s: &Sandbox, tasks: usize) -> (String, String, String, String) {
    let i = json(s, &["initiative", "add", "Checkout flow"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let p = json(s, &["phase", "add", "-i", &i, "Cart"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    for n in 1..=tasks {
        s.run(&[
            "task",
            "add",
            "--title",
            &format!("part {n}"),
            "--phase",
            &p,
        ])
        .ok();
    }
    s.run(&["phase", "approve", &p]).ok();
    let initiative_branch = "baton/checkout-flow".to_string();
    let phase_branch = format!("{initiative_branch}--{p}");
    (i, p, initiative_branch, phase_branch)
}

#[test]
fn approved_work_goes_up_the_chain_to_main_and_every_step_is_an_event() {
    let s = repository();
    let (i, p, ib, pb) = planned(&s, 2);
    run_agents(&s, &[]);
    // Task branches were cut from the phase's, itself cut from the initiative's, from main.
    let main_before = head(s.path(), "main");
    assert_eq!(head(s.path(), &ib), main_before);
    assert_eq!(head(s.path(), &pb), main_before);
    for t in ["T-1", "T-2"] {
        assert_eq!(json(&s, &["task", "show", t])["status"], "review");
        s.run(&["task", "approve", t]).ok();
    }
    let merged = merge_run(&s);
    assert_eq!(merged.len(), 2, "{merged:?}");
    for m in &merged {
        assert_eq!(m["state"], "merged", "{m}");
        assert_eq!(m["kind"], "task");
        assert_eq!(m["target"], pb.as_str());
    }
    let on_phase = files_on(s.path(), &pb);
    assert!(
        on_phase.contains(&"work-T-1.txt".to_string()),
        "{on_phase:?}"
    );
    assert!(
        on_phase.contains(&"work-T-2.txt".to_string()),
        "{on_phase:?}"
    );
    // Nothing reached the initiative or main yet.
    assert_eq!(head(s.path(), &ib), main_before);
    assert_eq!(head(s.path(), "main"), main_before);

    // The phase's diff against its base, while its branch is open.
    let d = json(&s, &["diff", &p, "--stat"]);
    assert_eq!(d["basis"], "branch");
    let mut paths: Vec<&str> = d["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, ["work-T-1.txt", "work-T-2.txt"]);

    // The phase waits for review; approving it merges it into the initiative's branch.
    assert_eq!(
        json(&s, &["phase", "show", &p])["phase"]["status"],
        "pending_review"
    );
    s.run(&["phase", "approve", &p]).ok();
    let merged = merge_run(&s);
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(merged[0]["kind"], "phase");
    assert_eq!(merged[0]["state"], "merged");
    let phase_base = merged[0]["base"].as_str().unwrap().to_string();
    assert_eq!(
        phase_base, main_before,
        "the stored base is where the phase began"
    );
    assert!(files_on(s.path(), &ib).contains(&"work-T-2.txt".to_string()));

    // The initiative, approved, lands on main, which is checked out in the sandbox: its
    // files move with it.
    assert_eq!(
        json(&s, &["initiative", "show", &i])["initiative"]["status"],
        "pending_review"
    );
    s.run(&["initiative", "approve", &i]).ok();
    let merged = merge_run(&s);
    assert_eq!(merged.len(), 1, "{merged:?}");
    assert_eq!(merged[0]["kind"], "initiative");
    assert_eq!(merged[0]["target"], "main");
    assert_eq!(
        head(s.path(), "main"),
        merged[0]["result"].as_str().unwrap()
    );
    assert!(s.path().join("work-T-1.txt").is_file());
    assert!(s.path().join("work-T-2.txt").is_file());
    assert_eq!(
        git(s.path(), &["status", "--porcelain", "--untracked-files=no"]),
        ""
    );

    // Long after, the phase's diff is shown from its stored base.
    let d = json(&s, &["diff", &p, "--stat"]);
    assert_eq!(d["basis"], "merged");
    assert_eq!(d["from"], phase_base.as_str());
    assert_eq!(d["files"].as_array().unwrap().len(), 2);
    let d = json(&s, &["diff", "T-1"]);
    assert_eq!(d["files"][0]["path"], "work-T-1.txt");
    assert_eq!(
        d["files"][0]["hunks"][0]["lines"][0],
        serde_json::json!({"kind": "+", "new": 1, "text": "T-1"})
    );
    let text = s.run(&["diff", "T-1", "--human"]).ok().stdout;
    assert!(text.contains("+T-1"), "{text}");

    let events = json(&s, &["events", "--limit", "500"]);
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "merge.queued").count(), 4);
    assert_eq!(actions.iter().filter(|a| **a == "merge.merged").count(), 4);
    assert!(merge_run(&s).is_empty(), "nothing left to merge");
}

/// Two tasks that both write `shared.txt`: T-1 merged into the phase's branch, then T-2's
/// merge in conflict. The sandbox, the phase's branch, its head after T-1, and T-2's merge.
fn conflicted() -> (Sandbox, String, String, Value) {
    let s = repository();
    let (_, _, _, pb) = planned(&s, 2);
    run_agents(&s, &[("SHARED", "1")]);
    s.run(&["task", "approve", "T-1"]).ok();
    assert_eq!(merge_run(&s)[0]["state"], "merged");
    let phase_head = head(s.path(), &pb);
    s.run(&["task", "approve", "T-2"]).ok();
    let m = merge_run(&s).remove(0);
    assert_eq!(m["state"], "conflict", "{m}");
    (s, pb, phase_head, m)
}

#[test]
fn a_conflict_changes_nothing_and_its_merge_task_resolves_it() {
    let (s, pb, phase_head, m) = conflicted();
    assert_eq!(m["conflicts"], serde_json::json!(["shared.txt"]));
    assert_eq!(head(s.path(), &pb), phase_head, "a conflict moves nothing");
    assert_eq!(
        git(s.path(), &["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    let merge_task = m["merge_task"].as_str().unwrap().to_string();
    let t = json(&s, &["task", "show", &merge_task]);
    assert_eq!(t["category"], "merge");
    assert_eq!(t["parent"], "T-2");
    let description = t["description"].as_str().unwrap();
    assert!(description.contains("shared.txt"), "{description}");
    assert!(description.contains("baton/T-2") && description.contains(&pb));

    // An agent resolves it in a worktree that starts mid-merge; approved, it merges.
    run_agents(&s, &[]);
    assert_eq!(json(&s, &["task", "show", &merge_task])["status"], "review");
    s.run(&["task", "approve", &merge_task]).ok();
    let out = merge_run(&s);
    assert_eq!(out[0]["state"], "merged", "{out:?}");
    assert_eq!(out[0]["resolves"], m["id"]);
    let original = json(&s, &["merge", "show", m["id"].as_str().unwrap()]);
    assert_eq!(original["state"], "merged");
    assert_eq!(original["resolved_by"], out[0]["id"]);
    let shared = git(s.path(), &["show", &format!("{pb}:shared.txt")]);
    assert_eq!(shared, "line from T-1\nline from T-2");
}

#[test]
fn a_resolution_that_keeps_conflict_markers_is_not_merged_until_they_are_gone() {
    let (s, pb, _, m) = conflicted();
    let merge_task = m["merge_task"].as_str().unwrap().to_string();
    // The agent commits shared.txt as git left it: the merge is clean to git, but refused.
    run_agents(&s, &[("CARELESS", "1")]);
    let task_branch = format!("baton/{merge_task}");
    let left = git(s.path(), &["show", &format!("{task_branch}:shared.txt")]);
    assert!(left.contains("<<<<<<<"), "{left}");
    s.run(&["task", "approve", &merge_task]).ok();
    let phase_head = head(s.path(), &pb);
    let out = merge_run(&s);
    assert_eq!(out[0]["state"], "failed", "{out:?}");
    let error = out[0]["error"].as_str().unwrap();
    assert!(
        error.contains("conflict markers")
            && error.contains("shared.txt:1")
            && error.contains(&task_branch),
        "{error}"
    );
    assert_eq!(head(s.path(), &pb), phase_head, "nothing merged");
    // Once the lines are resolved on the branch, a retry merges it.
    let fix = s.path().join("fix");
    git(
        s.path(),
        &[
            "worktree",
            "add",
            "-q",
            "--force",
            fix.to_str().unwrap(),
            &task_branch,
        ],
    );
    commit_file(&fix, "shared.txt", "line from T-1\nline from T-2\n", "fix");
    let id = out[0]["id"].as_str().unwrap();
    assert_eq!(json(&s, &["merge", "retry", id])["state"], "pending");
    assert_eq!(merge_run(&s)[0]["state"], "merged");
    let shared = git(s.path(), &["show", &format!("{pb}:shared.txt")]);
    assert_eq!(shared, "line from T-1\nline from T-2");
}

#[test]
fn a_moved_base_is_merged_or_rebased_and_nothing_is_dropped() {
    for strategy in ["merge", "rebase"] {
        let s = repository();
        s.run(&["config", "set", "merge_strategy", strategy]).ok();
        let (_, _, _, pb) = planned(&s, 3);
        run_agents(&s, &[]);
        // Each merge moves the phase's branch on from where the next task began.
        for t in ["T-1", "T-2", "T-3"] {
            s.run(&["task", "approve", t]).ok();
        }
        let out = merge_run(&s);
        assert!(out.iter().all(|m| m["state"] == "merged"), "{out:?}");
        let files = files_on(s.path(), &pb);
        for t in ["T-1", "T-2", "T-3"] {
            assert!(
                files.contains(&format!("work-{t}.txt")),
                "{strategy}: {files:?}"
            );
        }
        let merges = git(s.path(), &["rev-list", "--merges", &pb]);
        if strategy == "rebase" {
            assert_eq!(merges, "", "rebased history is linear");
            assert_eq!(
                git(s.path(), &["rev-list", "--count", &format!("main..{pb}")]),
                "3"
            );
        } else {
            assert_eq!(merges.lines().count(), 3, "one merge commit per task");
        }
    }
}

#[test]
fn a_target_checked_out_elsewhere_moves_with_its_files_or_refuses_and_is_retried() {
    let s = repository();
    let (_, _, _, pb) = planned(&s, 2);
    run_agents(&s, &[]);
    let elsewhere = s.path().join("elsewhere");
    git(
        s.path(),
        &["worktree", "add", "-q", elsewhere.to_str().unwrap(), &pb],
    );
    // An unrelated edit there does not stop the merge, and is kept.
    std::fs::write(elsewhere.join("README.md"), "local edit\n").unwrap();
    s.run(&["task", "approve", "T-1"]).ok();
    assert_eq!(merge_run(&s)[0]["state"], "merged");
    assert!(elsewhere.join("work-T-1.txt").is_file());
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("README.md")).unwrap(),
        "local edit\n"
    );
    // An uncommitted file in the way: the merge fails, saying where, and moves nothing.
    std::fs::write(elsewhere.join("work-T-2.txt"), "mine\n").unwrap();
    let before = head(s.path(), &pb);
    s.run(&["task", "approve", "T-2"]).ok();
    let out = merge_run(&s);
    assert_eq!(out[0]["state"], "failed", "{out:?}");
    let error = out[0]["error"].as_str().unwrap();
    assert!(error.contains("elsewhere"), "{error}");
    assert_eq!(head(s.path(), &pb), before);
    assert_eq!(
        std::fs::read_to_string(elsewhere.join("work-T-2.txt")).unwrap(),
        "mine\n"
    );
    // Cleared, and retried by a person, it merges.
    std::fs::remove_file(elsewhere.join("work-T-2.txt")).unwrap();
    let id = out[0]["id"].as_str().unwrap();
    assert_eq!(json(&s, &["merge", "retry", id])["state"], "pending");
    assert_eq!(merge_run(&s)[0]["state"], "merged");
    assert!(elsewhere.join("work-T-2.txt").is_file());
}

#[test]
fn a_runner_killed_mid_merge_leaves_git_consistent_and_the_merge_is_retried() {
    for point in ["commit", "update"] {
        let s = repository();
        let (_, _, _, pb) = planned(&s, 1);
        run_agents(&s, &[]);
        s.run(&["task", "approve", "T-1"]).ok();
        let before = head(s.path(), &pb);
        let mut cmd = command_in(s.path(), &["merge", "run", "--lease", "1s"]);
        cmd.env(baton_runner_abort(), point);
        let out = cmd.output().unwrap();
        assert!(!out.status.success(), "{point}: the process was to die");
        let m = &json(&s, &["merge", "list"])[0];
        assert_eq!(m["state"], "running", "{point}: {m}");
        let moved = head(s.path(), &pb) != before;
        assert_eq!(moved, point == "update", "{point}");
        git(s.path(), &["fsck", "--no-dangling"]);
        // Within the dead runner's claim nobody else takes it; after, it is retried.
        assert!(merge_run(&s).is_empty(), "{point}");
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let out = merge_run(&s);
        assert_eq!(out.len(), 1, "{point}: {out:?}");
        assert_eq!(out[0]["state"], "merged", "{point}");
        assert_eq!(out[0]["attempts"], 2, "{point}");
        assert!(files_on(s.path(), &pb).contains(&"work-T-1.txt".to_string()));
        assert_eq!(
            git(s.path(), &["rev-list", "--merges", "--count", &pb]),
            "1",
            "{point}: merged once"
        );
    }
}

fn baton_runner_abort() -> &'static str {
    "BATON_TEST_MERGE_ABORT"
}

#[test]
fn changes_requested_on_a_task_resume_the_agents_session_with_the_comments() {
    let s = repository();
    s.run(&["task", "add", "--title", "Named"]).ok();
    named_provider(&s);
    let prompts = s.path().join("prompts.txt");
    let agent = script(
        &s,
        "named",
        &format!(
            r#"printf '== %s %s\n' "$1" "$2" >> {prompts}
cat >> {prompts}
echo "v$(date +%s%N)" >> named.txt
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm named
echo "finished""#,
            prompts = prompts.display()
        ),
    );
    let run = |s: &Sandbox| run_named(s, &agent);
    run(&s);
    assert_eq!(json(&s, &["task", "show", "T-1"])["status"], "review");
    s.run(&[
        "review",
        "comment",
        "--task",
        "T-1",
        "--file",
        "named.txt",
        "--line",
        "1",
        "Use a counter, not the clock",
    ])
    .ok();
    s.run(&[
        "task",
        "reject",
        "T-1",
        "--feedback",
        "Make it deterministic",
        "--to",
        "open",
    ])
    .ok();
    run(&s);
    let text = std::fs::read_to_string(&prompts).unwrap();
    let second = text.split("== ").nth(2).expect("a second run");
    assert!(second.starts_with("resume baton-T-1"), "{second}");
    assert!(second.contains("Make it deterministic"), "{second}");
    assert!(second.contains("named.txt:1"), "{second}");
    assert!(second.contains("Use a counter, not the clock"), "{second}");
    assert_eq!(json(&s, &["task", "show", "T-1"])["status"], "review");
}

#[test]
fn runners_work_in_their_own_clones_of_a_remote_and_merges_reach_it() {
    let s = repository();
    let remote = s.path().join("remote.git");
    let remote_text = remote.to_str().unwrap().to_string();
    git(s.path(), &["clone", "-q", "--bare", ".", &remote_text]);
    s.run(&["config", "set", "repository", &remote_text]).ok();
    let (i, p, ib, pb) = planned(&s, 2);
    let clone_a = s.path().join("clone-a");
    let clone_b = s.path().join("clone-b");
    run_agents_with(&s, &["--clone-dir", clone_a.to_str().unwrap()], &[]);
    // The runner's work and the branches it made are on the remote.
    for branch in ["baton/T-1", "baton/T-2", &ib, &pb] {
        head(&remote, branch);
    }
    assert!(clone_a.join(".git").is_dir());
    // The diff is read from the project's own clone of the remote (the checkout here never
    // had the branch).
    assert!(git(s.path(), &["branch", "--list", "baton/T-1"]).is_empty());
    let d = json(&s, &["diff", "T-1", "--stat"]);
    assert_eq!(d["files"][0]["path"], "work-T-1.txt", "{d}");

    // Another process with its own clone carries the merges out and pushes them.
    s.run(&["task", "approve", "T-1"]).ok();
    s.run(&["task", "approve", "T-2"]).ok();
    let out = json(
        &s,
        &["merge", "run", "--clone-dir", clone_b.to_str().unwrap()],
    );
    assert!(
        out.as_array()
            .unwrap()
            .iter()
            .all(|m| m["state"] == "merged"),
        "{out}"
    );
    let on_phase = files_on(&remote, &pb);
    assert!(
        on_phase.contains(&"work-T-1.txt".to_string()),
        "{on_phase:?}"
    );
    assert!(
        on_phase.contains(&"work-T-2.txt".to_string()),
        "{on_phase:?}"
    );

    // Meanwhile someone pushes to main on the remote: the base moves.
    let other = s.path().join("someone");
    git(
        s.path(),
        &["clone", "-q", &remote_text, other.to_str().unwrap()],
    );
    commit_file(&other, "HOTFIX.md", "fixed\n", "hotfix");
    git(&other, &["push", "-q", "origin", "main"]);
    let hotfix = head(&remote, "main");

    s.run(&["phase", "approve", &p]).ok();
    s.run(&["initiative", "approve", &i]).ok();
    let out = json(
        &s,
        &["merge", "run", "--clone-dir", clone_a.to_str().unwrap()],
    );
    let states: Vec<&str> = out
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["merged", "merged"], "{out}");
    let main = files_on(&remote, "main");
    for f in ["HOTFIX.md", "work-T-1.txt", "work-T-2.txt", "README.md"] {
        assert!(main.contains(&f.to_string()), "{f} on main: {main:?}");
    }
    git(&remote, &["merge-base", "--is-ancestor", &hotfix, "main"]);
    // The project's own checkout was never touched.
    assert_eq!(
        git(s.path(), &["status", "--porcelain", "--untracked-files=no"]),
        ""
    );
    assert!(!s.path().join("work-T-1.txt").exists());
}

#[test]
fn chat_resumes_the_agents_session_and_its_reply_lands_in_the_thread() {
    let s = repository();
    s.run(&["task", "add", "--title", "Named"]).ok();
    named_provider(&s);
    let prompts = s.path().join("prompts.txt");
    let agent = script(
        &s,
        "named",
        &format!(
            r#"printf '== %s %s\n' "$1" "$2" >> {prompts}
prompt=$(cat)
printf '%s\n' "$prompt" >> {prompts}
if printf '%s' "$prompt" | grep -q 'session store'; then
  echo "uses the session store" > store.txt
  git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm "store"
  echo "Done: it now uses the existing session store."
  exit 0
fi
echo first > named.txt
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm named
echo "finished""#,
            prompts = prompts.display()
        ),
    );
    let run = |s: &Sandbox| run_named(s, &agent);
    run(&s);
    assert_eq!(json(&s, &["task", "show", "T-1"])["status"], "review");
    let asked = json(&s, &["chat", "T-1", "use the existing session store"]);
    assert_eq!(asked["to"], "named-1");
    assert_eq!(asked["task"], "T-1");
    run(&s);
    let text = std::fs::read_to_string(&prompts).unwrap();
    let second = text.split("== ").nth(2).expect("a second run");
    assert!(second.starts_with("resume baton-T-1"), "{second}");
    assert!(
        second.contains("use the existing session store"),
        "{second}"
    );
    // The reply is the answer, in the same thread; the change is on the task's branch.
    let thread = json(&s, &["thread", asked["id"].as_str().unwrap()]);
    let answer = &thread.as_array().unwrap()[1];
    assert_eq!(answer["from"], "named-1");
    assert!(
        answer["body"]
            .as_str()
            .unwrap()
            .contains("existing session store"),
        "{answer}"
    );
    assert_eq!(
        git(s.path(), &["show", "baton/T-1:store.txt"]),
        "uses the session store"
    );
    assert_eq!(
        json(&s, &["task", "show", "T-1"])["status"],
        "review",
        "a chat does not move the task"
    );
    // Answered questions are not asked again.
    run(&s);
    assert_eq!(
        std::fs::read_to_string(&prompts)
            .unwrap()
            .matches("== ")
            .count(),
        2
    );
    // Nobody worked on a fresh task: chat says so.
    s.run(&["task", "add", "--title", "Untouched"]).ok();
    s.run(&["chat", "T-2", "hello"]).fails(3, "no_agent");
}

/// A provider that resumes sessions by name, its agent a script (the named provider of the
/// runner's tests).
/// One pass of a runner on the `named` provider (see [`named_provider`]) driving `agent`.
fn run_named(s: &Sandbox, agent: &Path) {
    let mut cmd = command_in(
        s.path(),
        &["runner", "--json", "--provider", "named", "--once"],
    );
    cmd.env_remove("BATON_AGENT")
        .env("BATON_AGENT_COMMAND", agent.to_str().unwrap());
    support::finish(cmd.output().unwrap()).ok();
}

fn named_provider(s: &Sandbox) {
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
}

#[test]
fn an_errand_goes_from_start_through_a_conflict_to_merged_and_another_is_abandoned() {
    let s = repository();
    named_provider(&s);
    let calls = s.path().join("calls.txt");
    let otel = s.path().join("otel.txt");
    let agent = script(
        &s,
        "errand-agent",
        &format!(
            r#"echo "$1 $2" >> {calls}
echo "$OTEL_RESOURCE_ATTRIBUTES" > {otel}
{baton} log "errand at work" --action WORK >/dev/null
prompt=$(cat)
if git rev-parse -q --verify MERGE_HEAD >/dev/null; then
  sed -e '/^[<=>|]\{{7\}}/d' CHANGELOG.md | sort -u > merged.txt && mv merged.txt CHANGELOG.md
  git add CHANGELOG.md && git -c user.name=a -c user.email=a@example.invalid commit -q --no-edit
  echo "Resolved: kept both entries."
  exit 0
fi
case "$prompt" in
  *"mention the date"*) echo "- dated 2026-12-06" >> CHANGELOG.md; msg="Added the date." ;;
  *) echo "- first entry" > CHANGELOG.md; msg="Wrote CHANGELOG.md." ;;
esac
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm "changelog"
echo "$msg""#,
            calls = calls.display(),
            otel = otel.display(),
            baton = env!("CARGO_BIN_EXE_baton"),
        ),
    );
    let errand = |args: &[&str]| {
        let mut all = vec!["errand"];
        all.extend(args);
        let mut cmd = command_in(s.path(), &all);
        cmd.env_remove("BATON_AGENT")
            .env("BATON_AGENT_COMMAND", agent.to_str().unwrap());
        support::finish(cmd.output().unwrap())
    };
    let started = errand(&["start", "Add a CHANGELOG", "--provider", "named"])
        .ok()
        .json();
    assert_eq!(started["errand"]["id"], "E-1");
    assert_eq!(started["errand"]["status"], "pending_review", "{started}");
    assert_eq!(started["errand"]["branch"], "baton/errand-1");
    assert_eq!(started["reply"], "Wrote CHANGELOG.md.");
    let d = json(&s, &["diff", "E-1", "--stat"]);
    assert_eq!(d["files"][0]["path"], "CHANGELOG.md");
    assert!(!s.path().join("CHANGELOG.md").exists(), "main is untouched");
    // The run was the agent's session, and its telemetry names the agent and the errand.
    assert_eq!(
        std::fs::read_to_string(&otel).unwrap().trim(),
        "baton.agent=errand-1,baton.errand=E-1"
    );
    let sessions = json(&s, &["session", "list"]);
    let run = &sessions.as_array().unwrap()[0];
    assert_eq!(
        (
            run["identity"].as_str(),
            run["purpose"].as_str(),
            run["tool"].as_str()
        ),
        (
            Some("errand-1"),
            Some("E-1: Add a CHANGELOG"),
            Some("named")
        ),
        "{sessions}"
    );
    assert!(run["ended_at"].is_string(), "{sessions}");
    let work = json(&s, &["tail", "--action", "WORK", "--format", "json"]);
    assert_eq!(work["session"], run["id"], "{work}");

    // Talking to it resumes its session on the same branch.
    let chat = errand(&["chat", "E-1", "please mention the date"])
        .ok()
        .json();
    assert_eq!(chat["reply"], "Added the date.");
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "new baton-E-1\nresume baton-E-1\n"
    );

    // Main moves on with its own CHANGELOG: the merge conflicts and changes nothing.
    std::fs::write(s.path().join("CHANGELOG.md"), "- hotfix entry\n").unwrap();
    git(s.path(), &["add", "CHANGELOG.md"]);
    git(s.path(), &["commit", "-qm", "hotfix"]);
    let main_before = head(s.path(), "main");
    let merged = errand(&["merge", "E-1"]).ok().json();
    assert_eq!(merged["errand"]["status"], "conflict", "{merged}");
    assert_eq!(
        merged["errand"]["conflicts"],
        serde_json::json!(["CHANGELOG.md"])
    );
    assert_eq!(head(s.path(), "main"), main_before);
    // Its agent resolves it in a worktree that starts mid-merge; then it merges.
    let resolved = errand(&["chat", "E-1", "resolve the conflict"]).ok().json();
    assert_eq!(resolved["errand"]["status"], "pending_review", "{resolved}");
    let merged = errand(&["merge", "E-1"]).ok().json();
    assert_eq!(merged["errand"]["status"], "merged", "{merged}");
    let changelog = std::fs::read_to_string(s.path().join("CHANGELOG.md")).unwrap();
    for line in ["- hotfix entry", "- first entry", "- dated 2026-12-06"] {
        assert!(changelog.contains(line), "{changelog}");
    }
    errand(&["merge", "E-1"]).fails(4, "invalid_transition");

    // A second one, abandoned: it cannot merge, is deleted, and its branch stays.
    let second = errand(&["start", "Something else", "--provider", "named"])
        .ok()
        .json();
    assert_eq!(second["errand"]["id"], "E-2");
    errand(&["delete", "E-2"]).fails(4, "invalid_transition");
    assert_eq!(
        errand(&["abandon", "E-2"]).ok().json()["status"],
        "abandoned"
    );
    errand(&["merge", "E-2"]).fails(4, "invalid_transition");
    let listed = errand(&["list"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(
        errand(&["delete", "E-2"]).ok().json()["branch_deleted"],
        false
    );
    head(s.path(), "baton/errand-2");
    assert_eq!(
        errand(&["delete", "E-1"]).ok().json()["branch_deleted"],
        true
    );
    assert!(git(s.path(), &["branch", "--list", "baton/errand-1"]).is_empty());
    errand(&["show", "E-1"]).fails(3, "not_found");
    let events = json(&s, &["events", "--action", "errand.updated"]);
    assert!(events.as_array().unwrap().len() >= 5, "{events}");
}

/// What the dashboard does: errands and their messages are requests on the board, and a
/// runner for the errand's provider starts, resumes and merges them.
#[test]
fn a_runner_starts_talks_to_and_merges_errands_asked_for_on_the_board() {
    let s = repository();
    named_provider(&s);
    let agent = script(
        &s,
        "errand-agent",
        r#"prompt=$(cat)
case "$prompt" in
  *"say hello"*) echo "hello from $2" ;;
  *) echo "- entry" > NOTES.md; git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm notes; echo "Wrote NOTES.md." ;;
esac"#,
    );
    let run = || run_named(&s, &agent);
    let asked = json(
        &s,
        &[
            "errand",
            "start",
            "Add notes",
            "--provider",
            "named",
            "--detach",
        ],
    );
    assert_eq!(asked["request"], "start", "{asked}");
    assert_eq!(asked["status"], "active");
    // One request at a time, and the lifecycle's rules hold before any runner is involved.
    s.run(&["errand", "chat", "E-1", "hi", "--detach"])
        .fails(4, "errand_busy");
    s.run(&["errand", "merge", "E-1", "--detach"])
        .fails(4, "errand_busy");
    // A runner for another provider leaves it alone.
    let mut other = command_in(
        s.path(),
        &["runner", "--json", "--provider", "command", "--once"],
    );
    other
        .env_remove("BATON_AGENT")
        .env("BATON_AGENT_COMMAND", "true");
    support::finish(other.output().unwrap()).ok();
    assert_eq!(json(&s, &["errand", "show", "E-1"])["request"], "start");

    run();
    let e = json(&s, &["errand", "show", "E-1"]);
    assert_eq!(e["status"], "pending_review", "{e}");
    assert_eq!(e["reply"], "Wrote NOTES.md.");
    assert!(e.get("request").is_none(), "{e}");
    assert_eq!(
        git(s.path(), &["show", "baton/errand-1:NOTES.md"]).trim(),
        "- entry"
    );

    json(&s, &["errand", "chat", "E-1", "say hello", "--detach"]);
    run();
    let e = json(&s, &["errand", "show", "E-1"]);
    assert_eq!(e["reply"], "hello from baton-E-1", "{e}");

    s.run(&["errand", "merge", "E-9", "--detach"])
        .fails(3, "not_found");
    json(&s, &["errand", "merge", "E-1", "--detach"]);
    run();
    let e = json(&s, &["errand", "show", "E-1"]);
    assert_eq!(e["status"], "merged", "{e}");
    assert!(
        e["reply"].as_str().unwrap().starts_with("merged into main"),
        "{e}"
    );
    assert_eq!(git(s.path(), &["show", "main:NOTES.md"]).trim(), "- entry");
    s.run(&["errand", "chat", "E-1", "more", "--detach"])
        .fails(4, "invalid_transition");
    let events = json(&s, &["events", "--action", "errand.replied"]);
    assert_eq!(events.as_array().unwrap().len(), 3, "{events}");
}

#[test]
fn a_phase_starts_with_the_work_of_completed_phases_it_depends_on_whose_merge_is_queued() {
    let s = repository();
    let (i, p1, ib, _) = planned(&s, 1);
    let p2 = json(&s, &["phase", "add", "-i", &i, "Pay", "--depends-on", &p1])["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.run(&["task", "add", "--title", "pay", "--phase", &p2])
        .ok();
    s.run(&["phase", "approve", &p2]).ok();
    run_agents(&s, &[]);
    s.run(&["task", "approve", "T-1"]).ok();
    assert_eq!(merge_run(&s)[0]["state"], "merged");
    s.run(&["phase", "approve", &p1]).ok();
    // P-1's merge into the initiative's branch is under way (its runner died with the
    // claim): P-2 opens, and its branch must not start without P-1's work.
    let mut cmd = command_in(s.path(), &["merge", "run", "--lease", "10m"]);
    cmd.env(baton_runner_abort(), "commit");
    assert!(!cmd.output().unwrap().status.success());
    run_agents(&s, &[]);
    assert_eq!(json(&s, &["task", "show", "T-2"])["status"], "review");
    let p2b = format!("{ib}--{p2}");
    let on_p2 = files_on(s.path(), &p2b);
    assert!(on_p2.contains(&"work-T-1.txt".to_string()), "{on_p2:?}");
    let on_t2 = files_on(s.path(), "baton/T-2");
    assert!(on_t2.contains(&"work-T-1.txt".to_string()), "{on_t2:?}");
    assert!(!files_on(s.path(), &ib).contains(&"work-T-1.txt".to_string()));
}

#[test]
fn a_phase_revision_resumes_the_session_of_the_agent_that_did_the_work_in_its_place() {
    let s = repository();
    let (_, p, _, _) = planned(&s, 1);
    named_provider(&s);
    let prompts = s.path().join("prompts.txt");
    let agent = script(
        &s,
        "named-agent",
        &format!(
            r#"printf '== %s %s in %s\n' "$1" "$2" "$(pwd)" >> {prompts}
cat >> {prompts}
echo "v$(date +%s%N)" >> named.txt
git add . && git -c user.name=a -c user.email=a@example.invalid commit -qm named
echo "finished""#,
            prompts = prompts.display()
        ),
    );
    let run = || run_named(&s, &agent);
    run();
    s.run(&["task", "approve", "T-1"]).ok();
    assert_eq!(merge_run(&s)[0]["state"], "merged");
    s.run(&[
        "review",
        "comment",
        "Count, do not read the clock",
        "--phase",
        &p,
        "--file",
        "named.txt",
        "--line",
        "1",
    ])
    .ok();
    let out = json(
        &s,
        &[
            "phase",
            "request-changes",
            &p,
            "--reason",
            "Deterministic, please",
        ],
    );
    let revision = out["revision"]["id"].as_str().unwrap().to_string();
    assert_eq!(out["revision"]["parent"], "T-1", "{out}");
    run();
    let text = std::fs::read_to_string(&prompts).unwrap();
    let second = text.split("== ").nth(2).expect("a second run");
    let first_line = second.lines().next().unwrap();
    assert!(
        first_line.starts_with("resume baton-T-1 in "),
        "{first_line}"
    );
    assert!(first_line.ends_with(".baton/worktrees/T-1"), "{first_line}");
    assert!(second.contains("Your work on T-1 was reviewed"), "{second}");
    assert!(second.contains("Count, do not read the clock"), "{second}");
    assert!(second.contains("Deterministic, please"), "{second}");
    assert_eq!(json(&s, &["task", "show", &revision])["status"], "review");
    let on_revision = git(
        s.path(),
        &["log", "--format=%s", &format!("baton/{revision}")],
    );
    assert!(on_revision.lines().count() >= 2, "{on_revision}");
}

/// An idle runner wakes when the board changes: an errand asked for on the page is started
/// long before its next poll.
#[test]
fn an_idle_runner_wakes_when_an_errand_is_asked_for() {
    let s = repository();
    named_provider(&s);
    let agent = script(&s, "errand-agent", "cat >/dev/null; echo done");
    let mut cmd = command_in(
        s.path(),
        &["runner", "--provider", "named", "--poll", "10m"],
    );
    cmd.env_remove("BATON_AGENT")
        .env("BATON_AGENT_COMMAND", agent.to_str().unwrap())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut runner = cmd.spawn().unwrap();
    // Let it go idle first.
    std::thread::sleep(std::time::Duration::from_secs(2));
    json(
        &s,
        &[
            "errand",
            "start",
            "Say hi",
            "--provider",
            "named",
            "--detach",
        ],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut status = Value::Null;
    while std::time::Instant::now() < deadline {
        status = json(&s, &["errand", "show", "E-1"]);
        // Done once its request is finished (the reply comes with that).
        if status["status"] == "pending_review" && status.get("request").is_none() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    runner.kill().ok();
    runner.wait().ok();
    assert_eq!(status["status"], "pending_review", "{status}");
    assert_eq!(status["reply"], "done");
}
