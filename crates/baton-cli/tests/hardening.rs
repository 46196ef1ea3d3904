//! One bad request must never stop the board: hostile text, panics inside a store call,
//! arguments that are not UTF-8, malformed MCP lines, and what killed processes leave.

mod support;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};
use support::{command_in, Foreground, Sandbox};

/// One HTTP/1.1 request on its own connection: `(status, body as JSON or Null)`.
fn http(url: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    http_with(url, method, path, body, None)
}

/// [`http`] with a bearer token (a team server's).
fn http_with(
    url: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let address = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text[9..12].parse().unwrap();
    let payload = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(payload).unwrap_or(Value::Null))
}

#[cfg(feature = "fault-injection")]
fn remote_with(
    sandbox: &Sandbox,
    url: &str,
    agent: &str,
    token: Option<&str>,
    args: &[&str],
) -> support::Run {
    let mut cmd = command_in(sandbox.path(), args);
    cmd.env("BATON_URL", url).env("BATON_AGENT", agent);
    if let Some(t) = token {
        cmd.env("BATON_TOKEN", t);
    }
    support::finish(cmd.output().unwrap())
}

#[cfg(feature = "fault-injection")]
fn titles(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .run(&["task", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_question_to_a_multibyte_name_is_refused_and_the_board_keeps_writing() {
    let s = Sandbox::project();
    // Through the CLI on the file: a clear error, not a panic (exit 101).
    let run = s.as_agent("claude", &["ask", "--to", "a€", "hi"]);
    run.fails(2, "invalid_input");
    for to in ["€", "T€", "€-1", "T-€", "ü-2"] {
        let code = s.as_agent("claude", &["ask", "--to", to, "hi"]).code;
        assert!(code == 2 || code == 3, "ask --to {to} exited {code}");
    }
    s.run(&["task", "add", "--title", "After"]).ok();

    // Through a server: a 4xx for that request, and every later write still works.
    let server = Foreground::start(&s, &[]);
    let (status, body) = http(
        &server.url,
        "POST",
        "/api/v1/messages",
        Some(&json!({"to": "a€", "body": "hi"})),
    );
    assert!((400..500).contains(&status), "{status} {body}");
    assert_eq!(body["error"]["code"], "invalid_input", "{body}");
    let (status, body) = http(
        &server.url,
        "POST",
        "/api/v1/tasks",
        Some(&json!({"title": "Still writing"})),
    );
    assert_eq!(status, 201, "{body}");
    // A CLI process on the same file is not locked out either.
    s.run(&["task", "add", "--title", "From the CLI"]).ok();
    let (status, _) = http(&server.url, "GET", "/ready", None);
    assert_eq!(status, 200);
}

#[test]
fn arguments_that_are_not_utf8_are_invalid_input_not_a_panic() {
    let s = Sandbox::project();
    let bad = OsStr::from_bytes(b"caf\xe9");
    let out = command_in(s.path(), &[])
        .args([
            OsStr::new("task"),
            OsStr::new("add"),
            OsStr::new("--title"),
            bad,
        ])
        .output()
        .unwrap();
    let run = support::finish(out);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.error()["code"], "invalid_arguments", "{}", run.stderr);
    // Even with --json, and as the command name itself.
    let out = command_in(s.path(), &["--json"]).arg(bad).output().unwrap();
    assert_eq!(support::finish(out).fails(2, "invalid_arguments").code, 2);
    // An agent name from the environment that is not UTF-8.
    let out = command_in(s.path(), &["task", "mine"])
        .env("BATON_AGENT", bad)
        .output()
        .unwrap();
    let run = support::finish(out);
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn malformed_lines_on_mcp_stdio_get_json_rpc_errors_and_the_session_goes_on() {
    let s = Sandbox::project();
    let mut child = command_in(s.path(), &["mcp"])
        .env("BATON_AGENT", "claude")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let lines: Vec<Vec<u8>> = vec![
        br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#.to_vec(),
        b"{not json".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        br#"{"jsonrpc":"2.0","id":7,"method":42}"#.to_vec(),
        br#"[1, 2]"#.to_vec(),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
        br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#.to_vec(),
    ];
    for line in &lines {
        stdin.write_all(line).unwrap();
        stdin.write_all(b"\n").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let replies: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let errors: Vec<(Value, i64)> = replies
        .iter()
        .filter(|r| r.get("error").is_some())
        .map(|r| (r["id"].clone(), r["error"]["code"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        errors,
        vec![
            (Value::Null, -32700),
            (Value::Null, -32700),
            (json!(7), -32600),
            (Value::Null, -32600),
        ],
        "{replies:?}"
    );
    let listed = replies
        .iter()
        .find(|r| r["id"] == 2)
        .expect("tools/list answered");
    assert!(listed["result"]["tools"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    assert!(replies
        .iter()
        .any(|r| r["id"] == 1 && r.get("result").is_some()));
}

#[test]
fn files_that_killed_processes_left_in_fences_are_swept() {
    let s = Sandbox::project();
    s.run(&["task", "add", "--title", "One"]).ok();
    let fences = s.path().join(".baton/fences");
    std::fs::create_dir_all(&fences).unwrap();
    let abandoned = fences.join("claude.tmp999999");
    let fresh = fences.join("codex.tmp888888");
    std::fs::write(&abandoned, "").unwrap();
    std::fs::write(&fresh, "").unwrap();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&abandoned)
        .unwrap()
        .set_modified(hour_ago)
        .unwrap();
    s.as_agent("claude", &["task", "pickup"]).ok();
    assert!(!abandoned.exists(), "an abandoned half-written file stays");
    // One just written may belong to a live process: left alone.
    assert!(fresh.exists());
    let left: Vec<String> = std::fs::read_dir(&fences)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.contains(&"claude.json".to_string()), "{left:?}");
}

#[test]
fn ready_says_so_when_the_store_cannot_take_a_write() {
    let s = Sandbox::project();
    // The server gives up on a held lock after a second, so the probe fails fast.
    let server = Foreground::start_with_env(&s, &[], &[("BATON_LOCK_TIMEOUT", "1s")]);
    assert_eq!(http(&server.url, "GET", "/ready", None).0, 200);

    // Another process holds the write lock.
    let holder = rusqlite::Connection::open(s.path().join(".baton/baton.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, body) = http(&server.url, "GET", "/ready", None);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("write"),
        "{body}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(http(&server.url, "GET", "/ready", None).0, 200);
}

/// With the `fault-injection` feature a task titled [`FAULT`] panics inside its write
/// transaction, after the task's row is written.
#[cfg(feature = "fault-injection")]
const FAULT: &str = baton_core::panic::FAULT_TEXT;

#[cfg(feature = "fault-injection")]
fn a_panicking_write_fails_alone(
    s: &Sandbox,
    server: &Foreground,
    direct: &[(&str, &str)],
    token: Option<&str>,
) {
    let owned = token.map(String::from);
    let (status, body) = http_with(
        &server.url,
        "POST",
        "/api/v1/tasks",
        Some(&json!({"title": FAULT})),
        token,
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rolled back"),
        "{body}"
    );

    // Later writes through the server, alone and in concurrent groups, all stand.
    let (status, body) = http_with(
        &server.url,
        "POST",
        "/api/v1/tasks",
        Some(&json!({"title": "After"})),
        token,
    );
    assert_eq!(status, 201, "{body}");
    let url = server.url.clone();
    let writers: Vec<_> = (0..12)
        .map(|i| {
            let url = url.clone();
            let owned = owned.clone();
            std::thread::spawn(move || {
                let title = if i % 4 == 0 {
                    FAULT.to_string()
                } else {
                    format!("Burst {i}")
                };
                http_with(
                    &url,
                    "POST",
                    "/api/v1/tasks",
                    Some(&json!({"title": title})),
                    owned.as_deref(),
                )
                .0
            })
        })
        .collect();
    let statuses: Vec<u16> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    for (i, status) in statuses.iter().enumerate() {
        let expected = if i % 4 == 0 { 500 } else { 201 };
        assert_eq!(*status, expected, "request {i}: {statuses:?}");
    }
    // Another process writes to the same store.
    let mut cmd = command_in(s.path(), &["task", "add", "--title", "From the CLI"]);
    for (k, v) in direct {
        cmd.env(k, v);
    }
    support::finish(cmd.output().unwrap()).ok();
    assert_eq!(http_with(&server.url, "GET", "/ready", None, token).0, 200);

    // Nothing of the panicking calls was kept: no task, no event.
    let listed = remote_with(s, &server.url, "human", token, &["task", "list"])
        .ok()
        .json();
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert!(!titles.contains(&FAULT), "{titles:?}");
    assert_eq!(titles.len(), 1 + 9 + 1, "{titles:?}");
    let events = remote_with(
        s,
        &server.url,
        "human",
        token,
        &["events", "--limit", "1000"],
    )
    .ok()
    .json();
    assert!(
        !events.to_string().contains(FAULT),
        "an event of a rolled-back call was kept"
    );
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_panic_inside_a_write_transaction_fails_that_request_only_on_sqlite() {
    let s = Sandbox::project();
    let server = Foreground::start(&s, &[]);
    a_panicking_write_fails_alone(&s, &server, &[], None);
    // The CLI on the file: the same panic is an internal error, and the file stays usable.
    s.run(&["task", "add", "--title", FAULT])
        .fails(1, "internal");
    s.run(&["task", "add", "--title", "Once more"]).ok();
    assert!(!titles(&s).contains(&FAULT.to_string()));
}

#[cfg(feature = "fault-injection")]
#[test]
fn a_panic_inside_a_write_transaction_fails_that_request_only_on_postgres() {
    let Some(database) = baton_postgres::testing::TestDatabase::create() else {
        return;
    };
    let s = Sandbox::project();
    let direct = [("BATON_DATABASE_URL", database.url())];
    let token = support::admin_token(s.path(), &direct);
    let server = Foreground::start(&s, &["--database", database.url()]);
    a_panicking_write_fails_alone(&s, &server, &direct, Some(&token));
}
