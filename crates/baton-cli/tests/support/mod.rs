//! Runs the real `baton` binary in a temp dir of its own.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_baton");

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    pub fn error(&self) -> Value {
        let v: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON object ({e}): {}", self.stderr));
        v["error"].clone()
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails(self, code: i32, error_code: &str) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.error()["code"], error_code, "stderr: {}", self.stderr);
        self
    }
}

impl Sandbox {
    /// An empty directory that is a git repository.
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join(".git")).expect(".git");
        Sandbox { dir }
    }

    /// A sandbox with `baton init` done.
    pub fn project() -> Sandbox {
        let s = Sandbox::new();
        s.run(&["init"]).ok();
        s
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        command_in(self.path(), args)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }

    pub fn as_agent(&self, agent: &str, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.env("BATON_AGENT", agent);
        finish(cmd.output().expect("run baton"))
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    }
}

pub fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_remove("BATON_AGENT")
        .env_remove("BATON_URL")
        .env_remove("BATON_DATABASE_URL")
        .env_remove("BATON_TOKEN")
        .env_remove("BATON_PROJECT")
        .env_remove("BATON_PASSWORD")
        .env_remove("BATON_JWT_SECRET")
        // Stored logins stay inside the test's own directory.
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .stdin(Stdio::null());
    cmd
}

/// The password the test users get.
pub const PASSWORD: &str = "correct horse battery";

/// Makes an admin (`root`) on the store `env` points at (a project directory, or
/// `BATON_DATABASE_URL`) and returns an API token for every project, as its admin.
pub fn admin_token(dir: &Path, env: &[(&str, &str)]) -> String {
    use std::io::Write as _;
    let mut add = command_in(dir, &["user", "add", "root", "--admin", "--password-stdin"]);
    add.envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = add.spawn().expect("run baton user add");
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = finish(child.wait_with_output().unwrap());
    assert_eq!(out.code, 0, "user add: {}", out.stderr);
    let mut create = command_in(
        dir,
        &[
            "token",
            "create",
            "--project",
            "*",
            "--role",
            "admin",
            "--json",
        ],
    );
    create.envs(env.iter().copied());
    let made = finish(create.output().unwrap());
    assert_eq!(made.code, 0, "token create: {}", made.stderr);
    made.json()["token"].as_str().unwrap().to_string()
}

pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    finish(command_in(dir, args).output().expect("run baton"))
}

pub fn finish(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A foreground `baton serve --port 0`, waited for until it answers.
pub struct Foreground {
    pub child: Child,
    pub url: String,
}

impl Foreground {
    // The child is waited for by `terminate` or `Drop`.
    #[allow(clippy::zombie_processes)]
    pub fn start(sandbox: &Sandbox, extra: &[&str]) -> Foreground {
        Foreground::start_with_env(sandbox, extra, &[])
    }

    /// [`Foreground::start`] with extra environment variables for the server.
    #[allow(clippy::zombie_processes)]
    pub fn start_with_env(sandbox: &Sandbox, extra: &[&str], env: &[(&str, &str)]) -> Foreground {
        let mut args = vec!["serve", "--port", "0"];
        args.extend(extra);
        let mut child = command_in(sandbox.path(), &args)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(sandbox.path().join(".baton/server.json")) {
                let state: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                if state["pid"].as_u64() == Some(child.id() as u64) {
                    let url = state["url"].as_str().unwrap().to_string();
                    // HTTPS with a test certificate: answering on the port is enough.
                    let up = match url.strip_prefix("https://") {
                        Some(address) => std::net::TcpStream::connect(address).is_ok(),
                        None => baton_client::Client::new(&url, None)
                            .unwrap()
                            .health()
                            .is_ok(),
                    };
                    if up {
                        return Foreground { child, url };
                    }
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("baton serve did not come up");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn terminate(mut self) -> String {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let out = std::mem::replace(&mut self.child, dummy())
            .wait_with_output()
            .unwrap();
        assert!(
            out.status.success(),
            "serve exits 0 on SIGTERM: {:?}",
            out.status
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn dummy() -> Child {
    std::process::Command::new("true").spawn().unwrap()
}

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test virtualenv's Python (with the MCP SDK); missing: a failure in CI, a skip with
/// a printed reason locally.
pub fn tool_python() -> Option<PathBuf> {
    let venv = std::env::var_os("BATON_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv"));
    let python = venv.join("bin/python");
    if python.is_file() {
        return Some(python);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !in_ci,
        "{} is missing; .ci/run creates it",
        python.display()
    );
    eprintln!(
        "skipping: no test virtualenv at {} (.ci/run creates it)",
        venv.display()
    );
    None
}

/// A command's JSON against the PostgreSQL copy instead of the project's file.
pub fn on_postgres(sandbox: &Sandbox, url: &str, agent: &str, args: &[&str]) -> Run {
    let mut cmd = command_in(sandbox.path(), args);
    cmd.env("BATON_DATABASE_URL", url).env("BATON_AGENT", agent);
    finish(cmd.output().unwrap())
}

/// A board with something of every kind: dependencies, notes, claims with fences and
/// reservations, a reviewed task, a doc with two versions, a question and its answer,
/// a manual reservation and a changed setting.
pub fn busy_project() -> Sandbox {
    let s = Sandbox::project();
    s.run(&[
        "task",
        "add",
        "--title",
        "Schema",
        "--priority",
        "P0",
        "--files",
        "db/**",
    ])
    .ok();
    s.run(&[
        "task",
        "add",
        "--title",
        "API",
        "--depends-on",
        "T-1",
        "--acceptance",
        "documented",
    ])
    .ok();
    s.run(&["task", "add", "--title", "UI", "--capabilities", "frontend"])
        .ok();
    s.as_agent("claude", &["task", "pickup"]).ok();
    s.as_agent("claude", &["task", "note", "T-1", "halfway"])
        .ok();
    s.as_agent("claude", &["task", "done", "T-1"]).ok();
    s.as_agent("codex", &["task", "pickup"]).ok();
    s.as_agent("codex", &["reserve", "docs/**", "--reason", "rewriting"])
        .ok();
    s.as_agent(
        "claude",
        &[
            "docs",
            "write",
            "-T",
            "decision",
            "-t",
            "Token refresh",
            "-b",
            "Refresh before expiry.",
            "--tags",
            "auth",
            "--task",
            "T-2",
        ],
    )
    .ok();
    s.as_agent(
        "codex",
        &[
            "docs",
            "update",
            "D-1",
            "-b",
            "Refresh one minute before expiry.",
        ],
    )
    .ok();
    s.as_agent(
        "codex",
        &["ask", "--to", "claude", "Which table holds sessions?"],
    )
    .ok();
    s.as_agent("claude", &["answer", "M-1", "sessions, see D-1"])
        .ok();
    s.run(&["config", "set", "max_retries", "5"]).ok();
    s
}

pub const READS: &[&[&str]] = &[
    &["task", "list", "--limit", "0"],
    &["task", "show", "T-1"],
    &["events", "--limit", "0"],
    &["board"],
    &["agents"],
    &["reservations"],
    &["docs", "list"],
    &["docs", "history", "D-1"],
    &["thread", "M-1"],
    &["config", "list"],
];

/// Runs git in `dir`; its trimmed stdout (the test fails on git's error).
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A project in a real git repository with one commit on `main`.
pub fn repository() -> Sandbox {
    let s = Sandbox::new();
    std::fs::remove_dir(s.path().join(".git")).unwrap();
    git(s.path(), &["init", "-q", "-b", "main"]);
    git(s.path(), &["config", "user.name", "Lead"]);
    git(s.path(), &["config", "user.email", "lead@example.invalid"]);
    std::fs::write(s.path().join("README.md"), "app\n").unwrap();
    git(s.path(), &["add", "."]);
    git(s.path(), &["commit", "-qm", "first"]);
    s.run(&["init"]).ok();
    s
}

/// An executable shell script in the sandbox (`set -e`).
pub fn script(s: &Sandbox, name: &str, body: &str) -> PathBuf {
    let path = s.path().join(format!("{name}.sh"));
    std::fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
    Command::new("chmod").arg("+x").arg(&path).status().unwrap();
    path
}
