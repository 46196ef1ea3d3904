//! `baton serve` and `baton server ...` as real processes, and the CLI talking to them
//! through BATON_URL.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{command_in, Foreground, Sandbox};

/// The URL a running server recorded in `.baton/server.json`.
fn recorded_url(sandbox: &Sandbox) -> String {
    let text = std::fs::read_to_string(sandbox.path().join(".baton/server.json")).unwrap();
    let state: Value = serde_json::from_str(&text).unwrap();
    state["url"].as_str().unwrap().to_string()
}

fn remote(sandbox: &Sandbox, url: &str, agent: Option<&str>, args: &[&str]) -> support::Run {
    remote_as(sandbox, url, agent, None, args)
}

fn remote_as(
    sandbox: &Sandbox,
    url: &str,
    agent: Option<&str>,
    token: Option<&str>,
    args: &[&str],
) -> support::Run {
    let mut cmd = command_in(sandbox.path(), args);
    cmd.env("BATON_URL", url);
    if let Some(t) = token {
        cmd.env("BATON_TOKEN", t);
    }
    if let Some(a) = agent {
        cmd.env("BATON_AGENT", a);
    }
    support::finish(cmd.output().unwrap())
}

#[test]
fn the_daemon_starts_reports_its_port_serves_the_cli_and_stops() {
    let sandbox = Sandbox::project();
    let started = sandbox.run(&["server", "start", "--port", "0"]).ok().json();
    let url = started["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // `start` returned once /health answers.
    assert!(baton_client::Client::new(&url, None)
        .unwrap()
        .health()
        .is_ok());
    let status = sandbox.run(&["server", "status"]).ok().json();
    assert_eq!(status["url"].as_str(), Some(url.as_str()));
    assert_eq!(status["healthy"], Value::Bool(true));
    // A second start finds it running.
    let again = sandbox.run(&["server", "start"]).ok().json();
    assert_eq!(again["already"], Value::Bool(true));

    // The CLI over HTTP, from a directory with no project at all.
    let elsewhere = Sandbox::new();
    let added = remote(
        &elsewhere,
        &url,
        None,
        &["task", "add", "Write the parser", "--files", "src/parse/**"],
    )
    .ok()
    .json();
    assert_eq!(added["id"], "T-1");
    let picked = remote(&elsewhere, &url, Some("w1"), &["task", "pickup"])
        .ok()
        .json();
    assert_eq!(picked["task"]["assignee"], "w1");
    assert_eq!(picked["claim"]["fence"], 1);
    remote(&elsewhere, &url, Some("w2"), &["task", "pickup"]).fails(3, "no_task_ready");
    remote(&elsewhere, &url, Some("w2"), &["task", "done", "T-1"]).fails(4, "not_holder");
    remote(
        &elsewhere,
        &url,
        Some("w2"),
        &["reserve", "src/parse/lexer.rs"],
    )
    .fails(4, "reservation_conflict");
    remote(
        &elsewhere,
        &url,
        Some("w1"),
        &["task", "done", "T-1", "--fence", "1"],
    )
    .ok();
    remote(&elsewhere, &url, None, &["task", "approve", "T-1"]).ok();
    let board = remote(&elsewhere, &url, None, &["board"]).ok().json();
    assert_eq!(board["counts"]["done"], 1);
    // The local file saw it all: the server writes the project's own database.
    let local = sandbox.run(&["task", "show", "T-1"]).ok().json();
    assert_eq!(local["status"], "done");

    let logs = sandbox.run(&["server", "logs"]).ok();
    assert!(logs.stdout.contains("serving"), "{}", logs.stdout);
    sandbox.run(&["server", "stop"]).ok();
    sandbox
        .run(&["server", "status"])
        .fails(3, "server_not_running");
    remote(&elsewhere, &url, None, &["board"]).fails(5, "store_unavailable");
}

/// A foreground `serve` beside the daemon leaves the daemon's state alone: `status` and
/// `stop` still find it, and the second server's exit does not remove its file.
#[test]
fn a_second_server_on_a_project_does_not_take_the_first_ones_state() {
    let sandbox = Sandbox::project();
    let started = sandbox.run(&["server", "start", "--port", "0"]).ok().json();
    let pid = started["pid"].as_u64().unwrap();
    let mut second = command_in(sandbox.path(), &["serve", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(second.stderr.take().unwrap()));
    let mut said = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("the second server said nothing")
            .unwrap();
        said.push(line.clone());
        if let Some(rest) = line.strip_prefix("baton: serving on ") {
            break rest.split(' ').next().unwrap().to_string();
        }
    };
    assert!(
        said.iter()
            .any(|l| l.contains(&format!("another server (pid {pid}) already serves"))),
        "{said:?}"
    );
    assert!(baton_client::Client::new(&url, None)
        .unwrap()
        .health()
        .is_ok());
    let status = sandbox.run(&["server", "status"]).ok().json();
    assert_eq!(status["pid"].as_u64(), Some(pid));
    // The second one stops; the daemon's file stays, and stop still stops the daemon.
    std::process::Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status()
        .unwrap();
    assert!(second.wait().unwrap().success());
    let status = sandbox.run(&["server", "status"]).ok().json();
    assert_eq!(status["pid"].as_u64(), Some(pid));
    sandbox.run(&["server", "stop"]).ok();
    sandbox
        .run(&["server", "status"])
        .fails(3, "server_not_running");
    // A file left by a server that is gone is taken over.
    std::fs::write(
        sandbox.path().join(".baton/server.json"),
        r#"{"pid": 999999, "url": "http://127.0.0.1:1", "port": 1, "bind": "127.0.0.1",
            "database": "x", "started_at": "2026-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    let server = Foreground::start(&sandbox, &[]);
    assert_eq!(recorded_url(&sandbox), server.url);
    server.terminate();
}

#[test]
fn a_bad_server_url_is_a_clear_error() {
    let sandbox = Sandbox::new();
    remote(&sandbox, "localhost:7420", None, &["board"]).fails(2, "invalid_input");
}

#[test]
fn binding_beyond_loopback_needs_a_user_first_and_then_a_credential() {
    let sandbox = Sandbox::project();
    let refused = sandbox.run(&["serve", "--bind", "0.0.0.0", "--port", "0"]);
    assert_eq!(refused.code, 4, "{}", refused.stderr);
    assert_eq!(refused.error()["code"], "no_admin");
    assert!(
        refused.error()["hint"]
            .as_str()
            .unwrap()
            .contains("baton user add NAME --admin"),
        "{}",
        refused.stderr
    );
    let token = support::admin_token(sandbox.path(), &[]);
    let server = Foreground::start(&sandbox, &["--bind", "0.0.0.0"]);
    assert_eq!(status_naming(&server.url, "127.0.0.1", None), 401);
    assert_eq!(
        status_naming(&server.url, "127.0.0.1", Some("baton_0000")),
        401
    );
    assert_eq!(status_naming(&server.url, "127.0.0.1", Some(&token)), 200);
    let stderr = server.terminate();
    assert!(stderr.contains("team mode"), "{stderr}");
    assert!(!stderr.contains(&token), "the log never shows a token");
    assert!(
        !sandbox.path().join(".baton/server.json").exists(),
        "a clean exit removes its state file"
    );
}

/// The status of `GET /api/v1/board` sent to the server at `url` (by its port, on
/// 127.0.0.1) naming `host`.
fn status_naming(url: &str, host: &str, token: Option<&str>) -> u16 {
    use std::io::{Read, Write};
    let port = url.rsplit(':').next().unwrap();
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET /api/v1/board HTTP/1.1\r\nHost: {host}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_public_bind_serves_ip_addresses_and_says_how_to_serve_a_name() {
    let sandbox = Sandbox::project();
    let token = support::admin_token(sandbox.path(), &[]);
    let t = Some(token.as_str());
    let server = Foreground::start(&sandbox, &["--bind", "0.0.0.0"]);
    assert_eq!(status_naming(&server.url, "board.example", t), 403);
    assert_eq!(status_naming(&server.url, "192.168.1.20:7420", t), 200);
    let stderr = server.terminate();
    assert!(
        stderr.contains("IP address") && stderr.contains("--allowed-host NAME"),
        "{stderr}"
    );
    let server = Foreground::start(
        &sandbox,
        &["--bind", "0.0.0.0", "--allowed-host", "board.example"],
    );
    assert_eq!(status_naming(&server.url, "board.example", t), 200);
    assert_eq!(status_naming(&server.url, "other.example", t), 403);
    let stderr = server.terminate();
    assert!(!stderr.contains("--allowed-host NAME"), "{stderr}");
}

#[test]
fn the_daemon_passes_its_allowed_hosts_on() {
    let sandbox = Sandbox::project();
    let started = sandbox
        .run(&[
            "server",
            "start",
            "--port",
            "0",
            "--allowed-host",
            "board.example",
        ])
        .ok()
        .json();
    let url = started["url"].as_str().unwrap().to_string();
    let served = status_naming(&url, "board.example", None);
    let refused = status_naming(&url, "other.example", None);
    sandbox.run(&["server", "stop"]).ok();
    assert_eq!((served, refused), (200, 403));
}

/// The issue's bound: a change a CLI process writes straight to the file reaches the
/// stream within 250 ms. The median of several tries is held to it (the machine is shared
/// and noisy); every try must arrive.
#[test]
fn changes_written_by_cli_processes_reach_the_stream_within_250ms() {
    let sandbox = Sandbox::project();
    let server = Foreground::start(&sandbox, &[]);
    let client = baton_client::Client::new(&server.url, None).unwrap();
    let mut feed = client
        .follow(&baton_client::FollowFilter::default())
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for e in feed.by_ref().flatten() {
            if tx.send((Instant::now(), e)).is_err() {
                return;
            }
        }
    });
    let mut delays = Vec::new();
    for i in 0..7 {
        // No BATON_URL: this process writes the SQLite file directly.
        let title = format!("direct {i}");
        let out = sandbox.run(&["task", "add", &title]).ok();
        let written = Instant::now();
        let (seen, event) = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("the stream carried it");
        assert_eq!(
            event.detail["title"].as_str(),
            Some(title.as_str()),
            "{}",
            out.stdout
        );
        delays.push(seen.saturating_duration_since(written));
    }
    delays.sort();
    let median = delays[delays.len() / 2];
    eprintln!("CLI write -> stream delays: {delays:?}");
    assert!(
        median <= Duration::from_millis(250),
        "median {median:?}: {delays:?}"
    );
    drop(server);
}

#[test]
fn events_follow_over_a_server_uses_the_stream() {
    let sandbox = Sandbox::project();
    let server = Foreground::start(&sandbox, &[]);
    let mut follower = command_in(sandbox.path(), &["events", "--follow", "--json"])
        .env("BATON_URL", &server.url)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    remote(&sandbox, &server.url, None, &["task", "add", "streamed"]).ok();
    // The recent log comes first, then live events.
    let created = loop {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) else {
            let _ = follower.kill();
            panic!("no task.created line");
        };
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["action"] == "task.created" {
            break event;
        }
    };
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(created["detail"]["title"], "streamed");
    assert!(recorded_url(&sandbox).starts_with("http://"));
}

/// Over a server, `ask --wait` waits on the event stream: the answer, given by another
/// process through the server, wakes it although the fallback poll is set to two minutes.
#[test]
fn ask_wait_over_a_server_is_woken_by_the_stream() {
    let sandbox = Sandbox::project();
    let server = Foreground::start(&sandbox, &[]);
    let elsewhere = Sandbox::new();
    let mut asker = command_in(
        elsewhere.path(),
        &[
            "ask",
            "--to",
            "codex",
            "Which hash for passwords?",
            "--wait",
            "60",
        ],
    );
    asker
        .env("BATON_URL", &server.url)
        .env("BATON_AGENT", "claude")
        .env("BATON_WAIT_POLL", "120s")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let asker = asker.spawn().unwrap();
    let started = Instant::now();
    let id = loop {
        let inbox = remote(&elsewhere, &server.url, Some("codex"), &["inbox"])
            .ok()
            .json();
        if let Some(m) = inbox.as_array().unwrap().first() {
            break m["id"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the question never arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(200));
    let answered = Instant::now();
    remote(
        &elsewhere,
        &server.url,
        Some("codex"),
        &["answer", &id, "argon2id"],
    )
    .ok();
    let out = support::finish(asker.wait_with_output().unwrap())
        .ok()
        .json();
    assert!(
        answered.elapsed() < Duration::from_secs(10),
        "{:?}",
        answered.elapsed()
    );
    assert_eq!(out["answer"]["body"], "argon2id");
    assert_eq!(out["answer"]["from"], "codex");
}

#[test]
fn serve_on_postgres_shares_one_board_between_replicas_and_the_cli() {
    let Some(database) = baton_postgres::testing::TestDatabase::create() else {
        return;
    };
    // Two checkouts, one database: each replica records its own URL in its checkout.
    let (one, two) = (Sandbox::project(), Sandbox::project());
    // On a database the servers run in team mode.
    let token = support::admin_token(one.path(), &[("BATON_DATABASE_URL", database.url())]);
    let t = Some(token.as_str());
    let first = Foreground::start(&one, &["--database", database.url()]);
    let second = Foreground::start(&two, &["--database", database.url()]);
    assert_eq!(
        remote(&one, &first.url, None, &["task", "list"]).code,
        6,
        "no credential"
    );
    remote_as(
        &one,
        &first.url,
        None,
        t,
        &["task", "add", "--title", "Shared"],
    )
    .ok();
    let listed = remote_as(&two, &second.url, None, t, &["task", "list"])
        .ok()
        .json();
    assert_eq!(listed[0]["title"], "Shared", "{listed}");
    // The CLI can use the database directly, without a server.
    let mut direct = command_in(two.path(), &["task", "pickup"]);
    direct
        .env("BATON_DATABASE_URL", database.url())
        .env("BATON_AGENT", "codex");
    let picked = support::finish(direct.output().unwrap()).ok().json();
    assert_eq!(picked["task"]["title"], "Shared", "{picked}");
    let stderr = first.terminate();
    assert!(
        stderr.contains("postgres://") && !stderr.contains("baton.db"),
        "{stderr}"
    );
    second.terminate();
}

#[test]
fn a_database_url_that_is_not_postgres_is_a_clear_error() {
    let sandbox = Sandbox::project();
    let run = sandbox
        .run(&[
            "serve",
            "--port",
            "0",
            "--database",
            "mysql://root@localhost/x",
        ])
        .fails(2, "invalid_input");
    assert!(run.error()["hint"]
        .as_str()
        .unwrap()
        .contains("postgres://"));
}

/// HTTPS: the given certificate, HTTP/2 by ALPN (what lifts the browser's six-connection
/// limit), and a session cookie marked Secure.
#[test]
fn tls_serves_http2_and_marks_the_session_cookie_secure() {
    let sandbox = Sandbox::project();
    let (cert, key) = (
        sandbox.path().join("cert.pem"),
        sandbox.path().join("key.pem"),
    );
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (.ci/run installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    support::admin_token(sandbox.path(), &[]);
    let server = Foreground::start(
        &sandbox,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let curl = |args: &[&str]| {
        let out = std::process::Command::new("curl")
            .args(["-s", "--cacert", cert.to_str().unwrap()])
            .args(args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let health = format!("{}/health", server.url);
    assert_eq!(
        curl(&["-o", "/dev/null", "-w", "%{http_version}", &health]),
        "2"
    );
    assert_eq!(
        curl(&[
            "--http1.1",
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            &health
        ]),
        "1.1"
    );
    let login = curl(&[
        "-i",
        "-H",
        "Content-Type: application/json",
        "-d",
        &format!(
            "{{\"name\": \"root\", \"password\": \"{}\"}}",
            support::PASSWORD
        ),
        &format!("{}/api/v1/auth/login", server.url),
    ]);
    let cookie = login
        .lines()
        .find(|l| l.to_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("{login}"));
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // Plain HTTP to the HTTPS port gets nothing useful.
    let plain = server.url.replacen("https://", "http://", 1);
    assert_ne!(
        curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{plain}/health")
        ]),
        "200"
    );
    server.terminate();
}

/// A port another program holds is a conflict over the port, said as such (exit 4), not a
/// store that is unavailable.
#[test]
fn a_port_in_use_is_refused_as_a_conflict_with_the_way_out() {
    let sandbox = Sandbox::project();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let refused = sandbox
        .run(&["serve", "--port", &port])
        .fails(4, "port_in_use");
    assert!(
        refused.error()["hint"].as_str().unwrap().contains("--port"),
        "{}",
        refused.stderr
    );
}
