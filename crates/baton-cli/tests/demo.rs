//! `baton demo` through the real binary: a throw-away project outside the current
//! directory, the dashboard's server, scripted agents through the real runner, a stand-in
//! for the person, and a clean stop.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{command_in, git, run_in};

/// A running `baton demo --json` and the lines it prints.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Demo {
    fn start(cwd: &Path, tmp: &Path, args: &[&str]) -> Demo {
        let mut all = vec!["demo", "--fast", "--port", "0", "--json"];
        all.extend(args);
        let mut child = command_in(cwd, &all)
            .env("TMPDIR", tmp)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run baton demo");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Demo { child, lines }
    }

    fn line(&self, within: Duration) -> Value {
        let line = self
            .lines
            .recv_timeout(within)
            .expect("baton demo printed a line in time");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// Its exit code, once it exits by itself within `within`.
    fn exit(&mut self, within: Duration) -> i32 {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("baton demo did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn alive(pid: &Value) -> bool {
    let pid = pid.as_u64().expect("a pid");
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}

fn get(url: &str) -> Value {
    let mut response = ureq::get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let text = response.body_mut().read_to_string().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: {e}: {text}"))
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn the_demo_runs_its_plan_to_the_end_through_the_runner_and_stops_cleanly() {
    let cwd = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(cwd.path(), tmp.path(), &["--exit-when-done", "--keep"]);
    let started = demo.line(Duration::from_secs(30));
    let url = started["url"].as_str().unwrap().to_string();
    let project = Path::new(started["project"].as_str().unwrap()).to_path_buf();
    assert_eq!(started["pid"], demo.child.id());
    assert!(project.starts_with(tmp.path()), "{started}");

    // The dashboard's server answers with the plan.
    let tasks = get(&format!("{url}/api/v1/tasks"));
    assert_eq!(tasks.as_array().unwrap().len(), 6, "{tasks}");
    let page = ureq::get(&format!("{url}/"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        page.contains("<html") || page.contains("<!doctype"),
        "{page}"
    );

    assert_eq!(demo.exit(Duration::from_secs(50)), 0);
    let finished = demo.line(Duration::from_secs(1));
    assert_eq!(finished["finished"], true, "{finished}");
    assert_eq!(finished["removed"], false, "{finished}");

    // Every task was picked up by a scripted agent, worked, handed in, approved and merged.
    let tasks = run_in(&project, &["task", "list", "--limit", "0"])
        .ok()
        .json();
    for t in tasks.as_array().unwrap() {
        assert_eq!(t["status"], "done", "{t}");
        assert!(t["assignee"].as_str().unwrap().starts_with("demo-"), "{t}");
    }
    let merges = run_in(&project, &["merge", "list"]).ok().json();
    assert_eq!(merges.as_array().unwrap().len(), 6, "{merges}");
    assert!(merges
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["state"] == "merged"));
    let main = git(&project, &["log", "--format=%an %s", "main"]);
    assert!(
        main.contains("demo-") && main.contains("T-4: write app/ratelimit.py"),
        "{main}"
    );

    // One agent asked another (the holder of T-1), one asked the person; both answered,
    // and the answers went into the work.
    let events = run_in(&project, &["events", "--limit", "0"]).ok().json();
    let count = |action: &str| {
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == action)
            .count()
    };
    assert_eq!(count("message.asked"), 2, "{events}");
    assert_eq!(count("message.answered"), 2, "{events}");
    assert!(count("reservation.created") >= 6, "{events}");
    assert_eq!(count("run.finished"), 6, "{events}");
    // The two threads, whichever question came first.
    let threads: Vec<Value> = ["M-1", "M-2", "M-3", "M-4"]
        .iter()
        .map(|id| run_in(&project, &["thread", id]).ok().json())
        .filter(|t| t[0]["reply_to"].is_null())
        .collect();
    let to_agent = threads.iter().find(|t| t[0]["task"] == "T-1").unwrap();
    assert!(
        to_agent[1]["from"].as_str().unwrap().starts_with("demo-"),
        "{to_agent}"
    );
    let checkout = git(&project, &["show", "main:web/checkout.js"]);
    assert!(checkout.contains("returns 201"), "{checkout}");
    let to_human = threads.iter().find(|t| t[0]["to"] == "human").unwrap();
    assert_eq!(to_human[1]["from"], "human", "{to_human}");
    let limit = git(&project, &["show", "main:app/ratelimit.py"]);
    assert!(limit.contains("10 orders per minute"), "{limit}");

    // Nothing was left running, and nothing was written where the demo was started.
    for pid in ["server_pid", "runner_pid"] {
        assert!(!alive(&started[pid]), "{pid} still runs: {started}");
    }
    let address = url.trim_start_matches("http://");
    assert!(std::net::TcpStream::connect(address).is_err());
    assert!(
        is_empty(cwd.path()),
        "the demo wrote into its working directory"
    );
}

#[test]
fn an_interrupted_demo_stops_its_agents_and_server_and_removes_its_project() {
    let cwd = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut demo = Demo::start(cwd.path(), tmp.path(), &[]);
    let started = demo.line(Duration::from_secs(30));
    let url = started["url"].as_str().unwrap().to_string();
    let project = Path::new(started["project"].as_str().unwrap()).to_path_buf();
    // Interrupted while agents work.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let tasks = get(&format!("{url}/api/v1/tasks"));
        if tasks
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["status"] == "in-progress")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no agent picked up a task: {tasks}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::process::Command::new("kill")
        .args(["-INT", &demo.child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(demo.exit(Duration::from_secs(30)), 0);
    let finished = demo.line(Duration::from_secs(1));
    assert_eq!(finished["removed"], true, "{finished}");
    assert!(!project.exists(), "{} is left", project.display());
    for pid in ["server_pid", "runner_pid"] {
        assert!(!alive(&started[pid]), "{pid} still runs: {started}");
    }
    assert!(is_empty(cwd.path()) && is_empty(tmp.path()));
}

/// A port asked for and taken is refused before anything is made: nothing is left behind.
#[test]
fn a_demo_on_a_port_in_use_is_refused_and_leaves_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = command_in(cwd.path(), &["demo", "--fast", "--port", &port, "--json"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("port_in_use"));
    assert!(is_empty(cwd.path()) && is_empty(tmp.path()));
}
