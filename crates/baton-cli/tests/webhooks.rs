//! Webhooks end to end: a real `baton serve` POSTs to a receiver this test runs on
//! 127.0.0.1, which checks the signature, the body and the headers, fails attempts on
//! purpose (retries with backoff), and sees a server restart lose nothing.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use support::{on_postgres, Foreground, Sandbox};

const SECRET: &str = "a-receiver-shared-secret-0123456789";

#[derive(Clone, Debug)]
struct Received {
    at: Instant,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// An HTTP receiver that answers 503 to the requests whose numbers (from 1) are in
/// `failing`, and 204 to the others.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(failing: &'static [usize]) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks/baton", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let path = line.split(' ').nth(1).unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
                let length: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map(|(_, v)| v.parse().unwrap())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let number = {
                    let mut log = log.lock().unwrap();
                    log.push(Received {
                        at: Instant::now(),
                        path,
                        headers,
                        body,
                    });
                    log.len()
                };
                let answer = if failing.contains(&number) {
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
                } else {
                    "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
                };
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        Receiver { url, received }
    }

    fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {count}: {got:?}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn signed(body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn finish_a_task(s: &Sandbox, title: &str) -> String {
    let id = s
        .run(&["task", "add", "--title", title, "--json"])
        .ok()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.as_agent("claude", &["task", "pickup", "--id", &id, "--json"])
        .ok();
    s.as_agent("claude", &["task", "done", &id, "--json"]).ok();
    id
}

fn deliveries(s: &Sandbox) -> Vec<Value> {
    s.run(&["webhook", "deliveries", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .clone()
}

fn serve(s: &Sandbox) -> Foreground {
    Foreground::start_with_env(
        s,
        &["--webhook-timeout", "5s"],
        &[("BATON_WEBHOOK_RETRY", "200ms")],
    )
}

#[test]
fn a_webhook_is_signed_retried_with_backoff_and_survives_a_restart() {
    let s = Sandbox::project();
    // Requests 1 and 2 (the first delivery's first attempts) and 4 fail.
    let receiver = Receiver::start(&[1, 2, 4]);
    s.write("secret.txt", &format!("{SECRET}\n"));
    let mut server = serve(&s);

    s.run(&[
        "webhook",
        "add",
        "ftp://example.com/x",
        "--events",
        "task.done",
    ])
    .fails(2, "invalid_input");
    // A typo would make a webhook that never fires: refused, naming the action meant.
    let typo = s
        .run(&["webhook", "add", &receiver.url, "--events", "task.approve"])
        .fails(2, "invalid_input");
    assert!(
        typo.error()["message"]
            .as_str()
            .unwrap()
            .contains("did you mean task.approved?"),
        "{}",
        typo.stderr
    );
    let added = s
        .run(&[
            "webhook",
            "add",
            &receiver.url,
            "--events",
            "task.done,message.*",
            "--secret-file",
            "secret.txt",
            "--json",
        ])
        .ok();
    assert!(!added.stdout.contains(SECRET), "{}", added.stdout);
    let hook = added.json()["webhook"].clone();
    assert_eq!(hook["id"], "WH-1");
    assert_eq!(
        hook["events"],
        serde_json::json!(["task.done", "message.*"])
    );

    let task = finish_a_task(&s, "ship the login page");
    let got = receiver.wait_for(3);
    let uid = got[0].header("X-Baton-Delivery").to_string();
    for r in &got {
        assert_eq!(r.path, "/hooks/baton");
        assert_eq!(
            r.header("X-Baton-Event"),
            "task.done",
            "task.created is not selected"
        );
        assert_eq!(
            r.header("X-Baton-Delivery"),
            uid,
            "every attempt carries the same id"
        );
        assert!(r.header("Content-Type").starts_with("application/json"));
        assert_eq!(
            r.header("X-Baton-Signature"),
            signed(&r.body),
            "signed with the secret"
        );
        let body = r.json();
        assert_eq!(body["id"], uid.as_str());
        assert_eq!(body["event"]["action"], "task.done");
        assert_eq!(body["event"]["task"], task.as_str());
        assert_eq!(body["event"]["actor"], "claude");
        assert!(body["event"]["id"].as_u64().is_some(), "{body}");
        assert!(
            body["project"].as_str().is_some_and(|p| !p.is_empty()),
            "{body}"
        );
        assert!(body["sent_at"].as_str().is_some(), "{body}");
        assert!(!String::from_utf8_lossy(&r.body).contains(SECRET));
    }
    // Backoff: 200 ms after the first failure, 400 ms after the second.
    let waits = [got[1].at - got[0].at, got[2].at - got[1].at];
    assert!(
        waits[0] >= Duration::from_millis(190) && waits[1] >= Duration::from_millis(390),
        "{waits:?}"
    );
    assert!(waits[1] > waits[0], "the wait doubles: {waits:?}");

    let wait_until = |what: &str, done: &dyn Fn(&[Value]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = deliveries(&s);
            if done(&now) {
                return now;
            }
            assert!(Instant::now() < deadline, "{what}: {now:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let first = wait_until("the first delivery is recorded as delivered", &|d| {
        d.first().is_some_and(|d| d["status"] == "delivered")
    });
    assert_eq!(first.len(), 1);
    assert_eq!(
        (
            first[0]["attempts"].as_u64(),
            first[0]["last_status"].as_u64()
        ),
        (Some(3), Some(204))
    );
    assert_eq!(first[0]["uid"], uid.as_str());
    let listed = s.run(&["webhook", "list", "--json"]).ok();
    assert!(!listed.stdout.contains(SECRET), "{}", listed.stdout);
    let listed = listed.json();
    assert_eq!(listed[0]["delivered"], 1);
    assert!(
        listed[0]["last_error"].as_str().unwrap().contains("503"),
        "{listed}"
    );

    // The second delivery's first attempt fails; the server stops before the retry, and
    // a third event is written while it is down.
    finish_a_task(&s, "write the changelog");
    receiver.wait_for(4);
    wait_until("the failed attempt is recorded", &|d| {
        d.iter()
            .any(|d| d["attempts"] == 1 && d["last_error"].is_string())
    });
    server.terminate();
    s.as_agent(
        "claude",
        &["ask", "--to", "human", "which release?", "--json"],
    )
    .ok();
    server = serve(&s);
    let got = receiver.wait_for(6);
    let second = got[3].header("X-Baton-Delivery").to_string();
    let after: BTreeSet<(String, String)> = got[4..]
        .iter()
        .map(|r| {
            (
                r.header("X-Baton-Event").to_string(),
                r.header("X-Baton-Delivery").to_string(),
            )
        })
        .collect();
    assert!(
        after.contains(&("task.done".into(), second.clone())),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .any(|(e, d)| e == "message.asked" && *d != second),
        "{after:?}"
    );
    for r in &got[4..] {
        assert_eq!(r.header("X-Baton-Signature"), signed(&r.body));
    }
    let all = wait_until("every delivery is delivered", &|d| {
        d.len() == 3 && d.iter().all(|d| d["status"] == "delivered")
    });
    // Nothing is sent twice once delivered.
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(receiver.received.lock().unwrap().len(), 6, "{all:?}");

    // A ping reaches the webhook alone; after removal nothing more is sent.
    let ping = s.run(&["webhook", "test", "WH-1", "--json"]).ok().json();
    assert_eq!(
        (ping["status"].as_str(), ping["action"].as_str()),
        (Some("delivered"), Some("webhook.ping"))
    );
    assert_eq!(
        receiver.wait_for(7)[6].header("X-Baton-Event"),
        "webhook.ping"
    );
    s.run(&["webhook", "remove", "WH-1", "--json"]).ok();
    finish_a_task(&s, "after removal");
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(receiver.received.lock().unwrap().len(), 7);
    s.run(&["webhook", "test", "WH-1"])
        .fails(3, "webhook_not_found");
    let log = server.terminate();
    assert!(!log.contains(SECRET), "{log}");
}

/// `baton migrate` carries webhooks (their secrets too, so signing goes on) and their
/// deliveries; numbering goes on in PostgreSQL.
#[test]
fn webhooks_and_their_deliveries_move_with_baton_migrate() {
    let Some(database) = baton_postgres::testing::TestDatabase::create() else {
        return;
    };
    let s = Sandbox::project();
    s.run(&[
        "webhook",
        "add",
        "https://ci.example/hook",
        "--events",
        "task.*",
    ])
    .ok();
    s.run(&["webhook", "test", "WH-1", "--wait", "0"]).ok();
    let before: Vec<Value> = [&["webhook", "list"][..], &["webhook", "deliveries"]]
        .iter()
        .map(|args| s.run(args).ok().json())
        .collect();
    let copied = s.run(&["migrate", "--to", database.url()]).ok().json();
    assert_eq!(copied["rows"]["webhooks"], 1, "{copied}");
    assert_eq!(copied["rows"]["webhook_deliveries"], 1, "{copied}");
    for (args, sqlite) in [&["webhook", "list"][..], &["webhook", "deliveries"]]
        .iter()
        .zip(before)
    {
        let postgres: Value = on_postgres(&s, database.url(), "lead", args).ok().json();
        assert_eq!(sqlite, postgres, "baton {}", args.join(" "));
    }
    let next = on_postgres(
        &s,
        database.url(),
        "lead",
        &["webhook", "add", "https://ci.example/two", "--events", "*"],
    )
    .ok()
    .json();
    assert_eq!(next["webhook"]["id"], "WH-2", "{next}");
}

/// A team-mode server sends webhooks only to public addresses, so that whoever may add one
/// cannot make the server call services inside its network; `--webhook-private-hosts`
/// lets it reach them.
#[test]
fn a_team_mode_server_sends_webhooks_to_public_addresses_only() {
    let s = Sandbox::project();
    let receiver = Receiver::start(&[]);
    support::admin_token(s.path(), &[]);
    let team = |extra: &[&str]| {
        let mut args = vec!["--bind", "0.0.0.0", "--webhook-attempts", "1"];
        args.extend(extra);
        Foreground::start_with_env(&s, &args, &[])
    };
    let server = team(&[]);
    s.run(&["webhook", "add", &receiver.url, "--events", "task.done"])
        .ok();
    s.run(&["webhook", "test", "WH-1", "--wait", "0"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let all = deliveries(&s);
        if all.iter().any(|d| d["status"] == "failed") {
            break all;
        }
        assert!(Instant::now() < deadline, "{all:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let error = failed[0]["last_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("127.0.0.1 is not a public address")
            && error.contains("--webhook-private-hosts"),
        "{error}"
    );
    assert!(receiver.received.lock().unwrap().is_empty());
    server.terminate();

    let server = team(&["--webhook-private-hosts"]);
    let ping = s.run(&["webhook", "test", "WH-1", "--json"]).ok().json();
    assert_eq!(ping["status"], "delivered", "{ping}");
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
    server.terminate();
}

/// With no server for the project, a test ping says at once that nothing can send it
/// (it stays queued for the next server), instead of waiting out its time.
#[test]
fn a_test_ping_with_no_server_says_so_at_once() {
    let s = Sandbox::project();
    s.run(&[
        "webhook",
        "add",
        "https://ci.example.com/hooks/baton",
        "--events",
        "task.done",
    ])
    .ok();
    let started = Instant::now();
    let refused = s
        .run(&["webhook", "test", "WH-1"])
        .fails(5, "webhook_not_sent");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        refused.error()["message"]
            .as_str()
            .unwrap()
            .contains("no `baton serve` runs for this project"),
        "{}",
        refused.stderr
    );
    assert_eq!(deliveries(&s)[0]["status"], "pending");
}
