//! Many `baton` processes claiming at once: from one SQLite file, and through two
//! `baton serve` processes sharing one PostgreSQL database.

mod support;

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::Mutex;

use baton_postgres::testing::TestDatabase;
use serde_json::{json, Value};
use support::{on_postgres, Run, Sandbox};

/// A claim as a client process was told it: task id, agent, fence.
type Claimed = (String, String, u64);

/// `workers` threads, each running `pickup(worker, agent)` (one process per call) as its own
/// agent until it fails; every failure must be exit 3. Returns the claims and each worker's
/// last error code.
fn claim_until_empty(
    workers: usize,
    pickup: impl Fn(usize, &str) -> Run + Sync,
) -> (Vec<Claimed>, Vec<String>) {
    let claims = Mutex::new(Vec::new());
    let endings = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for w in 0..workers {
            let (claims, endings, pickup) = (&claims, &endings, &pickup);
            scope.spawn(move || {
                let agent = format!("worker-{w}");
                loop {
                    let r = pickup(w, &agent);
                    if r.code != 0 {
                        assert_eq!(r.code, 3, "unexpected failure: {}", r.stderr);
                        let code = r.error()["code"].as_str().unwrap().to_string();
                        endings.lock().unwrap().push(code);
                        return;
                    }
                    let p = r.json();
                    let id = p["task"]["id"].as_str().unwrap().to_string();
                    assert_eq!(p["task"]["assignee"], agent.as_str());
                    let fence = p["claim"]["fence"].as_u64().unwrap();
                    claims.lock().unwrap().push((id, agent.clone(), fence));
                }
            });
        }
    });
    (claims.into_inner().unwrap(), endings.into_inner().unwrap())
}

#[test]
fn sixteen_processes_claim_five_hundred_tasks_each_exactly_once() {
    const WORKERS: usize = 16;
    const TASKS: usize = 500;
    let s = Sandbox::project();
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| json!({"title": format!("task {i}")}))
        .collect();
    let path = s.write("tasks.json", &serde_json::to_string(&tasks).unwrap());
    s.run(&["task", "add", "--batch", path.to_str().unwrap()])
        .ok();

    let (claims, endings) =
        claim_until_empty(WORKERS, |_, agent| s.as_agent(agent, &["task", "pickup"]));
    assert_each_task_claimed_once(&claims, &endings, TASKS, WORKERS, |args| s.run(args));
}

/// What the clients were told, against the store (read by `run`, a `baton` command): each
/// task claimed by exactly one worker at the first fence, every worker ended on an empty
/// queue, every task in progress held by the agent told so, one event per claim.
fn assert_each_task_claimed_once(
    claims: &[Claimed],
    endings: &[String],
    tasks: usize,
    workers: usize,
    run: impl Fn(&[&str]) -> Run,
) {
    let unique: HashSet<&String> = claims.iter().map(|(id, _, _)| id).collect();
    assert_eq!(claims.len(), tasks, "every task claimed once, none twice");
    assert_eq!(unique.len(), tasks);
    assert!(claims.iter().all(|(_, _, fence)| *fence == 1));
    assert_eq!(endings.len(), workers);
    assert!(endings.iter().all(|c| c == "no_task_ready"), "{endings:?}");

    let listed = run(&["task", "list", "--limit", "0"]).ok().json();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), tasks);
    for t in listed {
        assert_eq!(t["status"], "in-progress");
        let id = t["id"].as_str().unwrap();
        let (_, agent, _) = claims.iter().find(|(cid, _, _)| cid == id).unwrap();
        assert_eq!(t["assignee"], agent.as_str());
    }
    let picked = run(&["events", "--action", "task.picked_up", "--limit", "0"])
        .ok()
        .json();
    assert_eq!(
        picked.as_array().unwrap().len(),
        tasks,
        "one event per claim"
    );
}

/// A `baton serve --database URL --port 0` process, killed when dropped.
struct Replica {
    child: Child,
    url: String,
}

impl Replica {
    fn start(s: &Sandbox, database: &str) -> Replica {
        let mut child = s
            .command(&["serve", "--database", database, "--port", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = match lines.next() {
                Some(line) => line.unwrap(),
                None => panic!("baton serve exited: {:?}", child.wait()),
            };
            if let Some(rest) = line.split("serving on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep reading what it logs, so a full pipe never stalls it.
        std::thread::spawn(move || lines.for_each(drop));
        Replica { child, url }
    }
}

impl Replica {
    /// The pickups this server says it claimed (`baton_pickups_total` on `/metrics`).
    fn claimed(&self, token: &str) -> u64 {
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.0\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("baton_pickups_total{result=\"claimed\"}"))
            .unwrap_or_else(|| panic!("no pickup counter in {text}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn thirty_two_processes_through_two_serve_processes_on_postgres_claim_each_task_once() {
    const WORKERS: usize = 32;
    const TASKS: usize = 240;
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let s = Sandbox::new();
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| json!({"title": format!("task {i}")}))
        .collect();
    let path = s.write("tasks.json", &serde_json::to_string(&tasks).unwrap());
    let batch = ["task", "add", "--batch", path.to_str().unwrap()];
    on_postgres(&s, database.url(), "lead", &batch).ok();
    // On a database the servers run in team mode: every call carries a token.
    let token = support::admin_token(s.path(), &[("BATON_DATABASE_URL", database.url())]);
    let replicas = [
        Replica::start(&s, database.url()),
        Replica::start(&s, database.url()),
    ];

    let (claims, endings) = claim_until_empty(WORKERS, |w, agent| {
        // Workers alternate between the replicas.
        let mut cmd = s.command(&["task", "pickup"]);
        cmd.env("BATON_URL", &replicas[w % 2].url)
            .env("BATON_TOKEN", &token)
            .env("BATON_AGENT", agent);
        support::finish(cmd.output().unwrap())
    });
    // Every claim went through a server, and both servers made some.
    let served: Vec<u64> = replicas.iter().map(|r| r.claimed(&token)).collect();
    assert_eq!(served.iter().sum::<u64>(), TASKS as u64, "{served:?}");
    assert!(served.iter().all(|&n| n > 0), "{served:?}");
    assert_each_task_claimed_once(&claims, &endings, TASKS, WORKERS, |args| {
        on_postgres(&s, database.url(), "lead", args)
    });
}
