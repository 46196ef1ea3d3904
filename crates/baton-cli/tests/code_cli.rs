//! `baton scan` and `baton code ...` driven through the real binary in a real
//! git repository.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_baton");

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn json(&self) -> Value {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    #[track_caller]
    fn fails(&self, exit: i32, code: &str) {
        assert_eq!(
            self.code, exit,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON object ({e}): {}", self.stderr));
        assert_eq!(v["error"]["code"], code, "{}", self.stderr);
        assert!(v["error"]["hint"].is_string(), "{}", self.stderr);
    }
}

/// git must be there; under CI a missing git fails instead of skipping.
fn have_git() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "git is required under CI"
        );
        eprintln!("skipping: git is not installed");
    }
    ok
}

impl Repo {
    /// A git repository with an identity and `baton init` done.
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let repo = Repo { _dir: dir, root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Baton Test"]);
        repo.git(&["config", "user.email", "test@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        assert_eq!(repo.baton(&["init"]).code, 0);
        repo
    }

    fn write(&self, rel: &str, text: &str) -> &Repo {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn baton(&self, args: &[&str]) -> Run {
        self.baton_in(&self.root, args)
    }

    fn baton_in(&self, dir: &Path, args: &[&str]) -> Run {
        let out = Command::new(BIN)
            .current_dir(dir)
            .args(args)
            .env_remove("BATON_AGENT")
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A small TypeScript + Python project, committed and scanned.
    fn sample() -> Repo {
        let r = Repo::new();
        r.write(
            "src/session.ts",
            "export class Session {\n  refresh(): void {}\n}\nexport function openSession() {}\n",
        )
        .write(
            "src/api.ts",
            "import { Session } from './session';\nexport function handle(s: Session) {}\n",
        )
        .write(
            "src/server.ts",
            "import { handle } from './api';\nconst PORT = 1;\n",
        )
        .write("tools/run.py", "def session_tool():\n    pass\n");
        r.git(&["add", "-A"]);
        r.git(&["commit", "-q", "-m", "init"]);
        r.baton(&["scan"]).json();
        r
    }
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scan_reports_what_it_indexed_as_json() {
    if !have_git() {
        return;
    }
    let r = Repo::new();
    r.write("a.py", "def f():\n    pass\n");
    let report = r.baton(&["scan"]).json();
    assert_eq!(report["mode"], "full");
    assert_eq!(report["files"], 1);
    assert_eq!(report["symbols"], 1);
    assert!(r.root.join(".baton/code.db").is_file());
}

#[test]
fn symbols_are_compact_json_with_the_documented_fields() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let v = r.baton(&["code", "symbols", "--name", "=Session"]).json();
    assert_eq!(
        v,
        serde_json::json!([{
            "name": "Session", "kind": "class", "file": "src/session.ts", "line": 1,
            "end_line": 3, "signature": "class Session", "exported": true
        }])
    );
    let methods = r.baton(&["code", "symbols", "--kind", "method"]).json();
    assert_eq!(methods[0]["container"], "Session");
}

#[test]
fn symbol_filters_name_kind_file_exported_and_limit() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let by_name = r.baton(&["code", "symbols", "--name", "session"]).json();
    assert_eq!(names(&by_name), ["Session", "session_tool", "openSession"]);
    let functions = r
        .baton(&[
            "code",
            "symbols",
            "--kind",
            "function",
            "--file",
            "src",
            "--exported",
        ])
        .json();
    assert_eq!(names(&functions), ["handle", "openSession"]);
    let limited = r.baton(&["code", "symbols", "--limit", "2"]).json();
    assert_eq!(limited.as_array().unwrap().len(), 2);
    let all = r.baton(&["code", "symbols", "--limit", "0"]).json();
    assert_eq!(all.as_array().unwrap().len(), 6);
}

#[test]
fn outline_and_imports_take_paths_relative_to_the_current_directory() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let src = r.root.join("src");
    let outline = r.baton_in(&src, &["code", "outline", "session.ts"]).json();
    assert_eq!(names(&outline), ["Session", "refresh", "openSession"]);
    let imports = r
        .baton_in(&src, &["code", "imports", "--file", "api.ts"])
        .json();
    assert_eq!(imports[0]["source"], "./session");
    assert_eq!(imports[0]["resolved"], "src/session.ts");
    assert_eq!(imports[0]["names"], serde_json::json!(["Session"]));
    // A root-relative path works from anywhere in the project.
    let from_root = r
        .baton_in(&src, &["code", "outline", "tools/run.py"])
        .json();
    assert_eq!(names(&from_root), ["session_tool"]);
    // Every command that takes one file takes it as an argument or with --file.
    let by_option = r
        .baton_in(&src, &["code", "outline", "--file", "session.ts"])
        .json();
    assert_eq!(by_option, outline);
    let by_argument = r.baton_in(&src, &["code", "imports", "api.ts"]).json();
    assert_eq!(by_argument, imports);
    let dependents = |args: &[&str]| r.baton(&[&["code", "dependents"], args].concat()).json();
    assert_eq!(
        dependents(&["src/session.ts"]),
        dependents(&["--file", "src/session.ts"])
    );
    assert_eq!(dependents(&["src/session.ts"])[0]["file"], "src/api.ts");
    r.baton(&["code", "imports"]).fails(2, "invalid_arguments");
    r.baton(&["code", "why", "a.ts", "--file", "b.ts"])
        .fails(2, "invalid_arguments");
}

#[test]
fn dependents_follow_imports_transitively_up_to_a_depth() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let all = r
        .baton(&["code", "dependents", "--file", "src/session.ts"])
        .json();
    let files: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["src/api.ts", "src/server.ts"]);
    assert_eq!(all[1]["depth"], 2);
    let one = r
        .baton(&[
            "code",
            "dependents",
            "--file",
            "src/session.ts",
            "--depth",
            "1",
        ])
        .json();
    assert_eq!(one.as_array().unwrap().len(), 1);
}

#[test]
fn impact_and_summary_describe_the_project() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let impact = r
        .baton(&["code", "impact", "--files", "src/session.ts"])
        .json();
    assert_eq!(impact["files"].as_array().unwrap().len(), 2);
    assert_eq!(impact["symbols"][0]["name"], "Session");
    assert_eq!(
        impact["symbols"][0]["used_by"],
        serde_json::json!(["src/api.ts"])
    );
    let summary = r.baton(&["code", "summary"]).json();
    assert_eq!(summary["files"], 4);
    assert_eq!(summary["languages"][0]["language"], "typescript");
}

#[test]
fn human_output_is_a_table() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let run = r.baton(&["code", "symbols", "--name", "=Session", "--human"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.starts_with("KIND"), "{}", run.stdout);
    assert!(run.stdout.contains("src/session.ts:1"), "{}", run.stdout);
}

#[test]
fn errors_are_json_with_distinct_exit_codes() {
    if !have_git() {
        return;
    }
    let r = Repo::new();
    r.baton(&["code", "symbols"]).fails(3, "code_index_missing");
    r.write("a.py", "x = 1\n");
    r.baton(&["scan"]).json();
    r.baton(&["code", "outline", "missing.py"])
        .fails(3, "file_not_indexed");
    r.baton(&["code", "symbols", "--kind", "nonsense"])
        .fails(2, "invalid_arguments");
    let outside = tempfile::tempdir().unwrap();
    r.baton_in(outside.path(), &["code", "summary"])
        .fails(3, "no_project");
}

#[test]
fn incremental_scan_picks_up_edits_additions_and_deletions() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    r.write(
        "src/session.ts",
        "export class Session {}\nexport function closeSession() {}\n",
    )
    .write("src/new.go", "package src\n\nfunc Fresh() {}\n");
    std::fs::remove_file(r.root.join("tools/run.py")).unwrap();
    let report = r.baton(&["scan", "--incremental"]).json();
    assert_eq!(report["mode"], "incremental");
    assert_eq!(report["indexed"], 2);
    assert_eq!(report["removed"], 1);
    let all = names(&r.baton(&["code", "symbols", "--limit", "0"]).json());
    assert!(all.contains(&"closeSession".to_string()), "{all:?}");
    assert!(all.contains(&"Fresh".to_string()), "{all:?}");
    assert!(!all.contains(&"session_tool".to_string()), "{all:?}");
}

#[test]
fn installed_hook_refreshes_the_index_on_commit_and_can_be_removed() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    let installed = r.baton(&["scan", "--install-hook"]).json();
    assert_eq!(installed["change"], "installed");
    r.write("src/late.ts", "export function arrivedByCommit() {}\n");
    r.git(&["add", "src/late.ts"]);
    r.git(&["commit", "-q", "-m", "late"]);
    let found = r
        .baton(&["code", "symbols", "--name", "=arrivedByCommit"])
        .json();
    assert_eq!(
        found.as_array().unwrap().len(),
        1,
        "the hook ran the incremental scan"
    );
    let removed = r.baton(&["scan", "--remove-hook"]).json();
    assert_eq!(removed["change"], "removed");
    assert!(!r.root.join(".git/hooks/pre-commit").exists());
}

#[test]
fn scan_explain_lists_what_was_left_out_and_code_why_explains_one_file() {
    if !have_git() {
        return;
    }
    let r = Repo::sample();
    r.write("dist/bundle.ts", "export function bundled() {}\n")
        .write("dist/kept.ts", "export function kept() {}\n")
        .write("assets/logo.ts", "\0PNG");
    r.git(&["add", "dist/kept.ts"]);
    let scan = r.baton(&["scan", "--explain"]).json();
    assert_eq!(scan["mode"], "full");
    let skipped: Vec<(String, String)> = scan["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        skipped.contains(&("assets/logo.ts".into(), "binary".into())),
        "{scan}"
    );
    assert!(
        skipped.contains(&("dist".into(), "build_or_dependency".into())),
        "{scan}"
    );
    // Tracked files in that folder are indexed all the same.
    assert_eq!(
        names(&r.baton(&["code", "outline", "dist/kept.ts"]).json()),
        ["kept"]
    );
    let why = r.baton(&["code", "why", "dist/bundle.ts"]).json();
    assert_eq!(why["reason"], "build_or_dependency", "{why}");
    assert_eq!(why["indexed"], false);
    assert!(why["fix"].as_str().unwrap().contains("git add"), "{why}");
    assert_eq!(
        r.baton(&["code", "why", "src/api.ts"]).json()["reason"],
        "indexed"
    );
    let refused = r.baton(&["code", "outline", "dist/bundle.ts"]);
    refused.fails(3, "file_not_indexed");
    assert!(
        refused.stderr.contains("does not track it"),
        "{}",
        refused.stderr
    );
    let people = r.baton(&["--human", "scan", "--explain"]);
    assert!(
        people.stdout.contains("dist/") && people.stdout.contains("build or dependency"),
        "{}",
        people.stdout
    );
}
