//! The HTTP surface itself: error contract on malformed and hostile input, the OpenAPI
//! document against the routes, the live stream, metrics, graceful shutdown.

mod support;

use std::time::{Duration, Instant};

use baton_client::FollowFilter;
use baton_core::api::{NewTask, PickupRequest};
use baton_core::Api;
use serde_json::{json, Value};
use support::TestServer;

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends `body` as-is and returns the status and the parsed answer.
fn send(server: &TestServer, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Value) {
    let url = format!("{}{path}", server.url);
    let agent = http();
    let response = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        ("POST", b) => agent.post(&url).send(b.unwrap_or(b"")),
        ("PATCH", b) => agent.patch(&url).send(b.unwrap_or(b"")),
        ("PUT", b) => agent.put(&url).send(b.unwrap_or(b"")),
        _ => panic!("method {method}"),
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .with_config()
        .limit(1 << 30)
        .read_to_string()
        .unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Sends only the headers of a POST with `Expect: 100-continue` and reads the answer.
fn ask_before_sending(server: &TestServer, path: &str, length: usize) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (
        status,
        serde_json::from_str(body.trim()).unwrap_or(Value::String(text.clone())),
    )
}

fn error_code(answer: &Value) -> &str {
    answer["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not a JSON error: {answer}"))
}

#[test]
fn bad_input_gets_a_4xx_json_error_never_a_500() {
    let server = TestServer::start();
    add(&server, "a");
    let huge = vec![b'x'; 5 << 20];
    let mut huge_json = b"{\"title\": \"".to_vec();
    huge_json.extend(std::iter::repeat_n(b'a', 5 << 20));
    huge_json.extend(b"\"}");
    // (method, path, body, status, error code)
    type Case<'a> = (&'a str, &'a str, Option<&'a [u8]>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/tasks",
            Some(b"{\"title\": "),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/api/v1/tasks",
            Some(b"not json"),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/api/v1/tasks",
            Some(b"{\"title\": 5}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks",
            Some(b"{\"title\": \"x\", \"bogus\": 1}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks",
            Some(b"[1,2]"),
            422,
            "invalid_input",
        ),
        ("POST", "/api/v1/tasks", Some(b"{}"), 422, "invalid_input"),
        (
            "POST",
            "/api/v1/tasks",
            Some(b"{\"title\": \"\"}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks",
            Some(b"{\"title\": \"x\", \"priority\": \"P9\"}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks/batch",
            Some(b"{\"title\": \"x\"}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks/batch",
            Some(b"[{\"title\": \"x\", \"depends_on\": [\"nope\"]}]"),
            422,
            "invalid_input",
        ),
        ("GET", "/api/v1/tasks/T-99", None, 404, "task_not_found"),
        ("GET", "/api/v1/tasks/banana", None, 422, "invalid_input"),
        ("GET", "/api/v1/tasks/-1", None, 422, "invalid_input"),
        (
            "GET",
            "/api/v1/tasks/99999999999999999999999",
            None,
            422,
            "invalid_input",
        ),
        (
            "GET",
            "/api/v1/tasks/..%2F..%2Fetc%2Fpasswd",
            None,
            422,
            "invalid_input",
        ),
        ("GET", "/api/v1/../../etc/passwd", None, 404, "not_found"),
        (
            "GET",
            "/api/v1/tasks?status=sleeping",
            None,
            422,
            "invalid_input",
        ),
        ("GET", "/api/v1/tasks?limit=-4", None, 422, "invalid_input"),
        (
            "GET",
            "/api/v1/tasks?nonsense=1",
            None,
            422,
            "invalid_input",
        ),
        (
            "GET",
            "/api/v1/events?since=yesterday",
            None,
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks/T-1/done",
            Some(b"{}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/tasks/T-1/approve",
            None,
            409,
            "invalid_transition",
        ),
        (
            "PATCH",
            "/api/v1/tasks/T-1",
            Some(b"{\"depends_on\": [\"T-1\"]}"),
            409,
            "dependency_cycle",
        ),
        ("POST", "/api/v1/tasks/pickup", None, 422, "invalid_input"),
        (
            "POST",
            "/api/v1/reservations",
            Some(b"{\"globs\": [\"src/[\"]}"),
            422,
            "invalid_input",
        ),
        (
            "PUT",
            "/api/v1/settings/lease_ttl",
            Some(b"{\"value\": \"forever\"}"),
            422,
            "invalid_input",
        ),
        (
            "PUT",
            "/api/v1/settings/colour",
            Some(b"{\"value\": \"red\"}"),
            422,
            "invalid_input",
        ),
        (
            "GET",
            "/api/v1/agents/%00/tasks",
            None,
            422,
            "invalid_input",
        ),
        ("DELETE", "/api/v1/tasks", None, 405, "method_not_allowed"),
        ("GET", "/api/v1/docs/D-9", None, 404, "doc_not_found"),
        ("GET", "/api/v1/docs/T-1", None, 422, "invalid_input"),
        ("GET", "/api/v1/docs/search", None, 422, "invalid_input"),
        (
            "POST",
            "/api/v1/docs",
            Some(b"{\"type\": \"gossip\", \"title\": \"x\", \"body\": \"y\"}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/messages",
            Some(b"{\"to\": \"\", \"body\": \"?\"}"),
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/messages/M-4/answer",
            Some(b"{\"body\": \"yes\"}"),
            404,
            "message_not_found",
        ),
        (
            "GET",
            "/api/v1/messages/M-x/thread",
            None,
            422,
            "invalid_input",
        ),
        (
            "POST",
            "/api/v1/import",
            Some(b"{\"tasks\": 3}"),
            422,
            "invalid_input",
        ),
        ("GET", "/api/v2/tasks", None, 404, "not_found"),
        (
            "GET",
            "/api/v1/code/summary",
            None,
            404,
            "code_index_missing",
        ),
        ("GET", "/api/v1/code/outline", None, 422, "invalid_input"),
        (
            "GET",
            "/api/v1/code/symbols?kind=banana",
            None,
            422,
            "invalid_input",
        ),
        ("GET", "/dashboard/../Cargo.toml", None, 404, "not_found"),
        ("GET", "/dashboard/nope.js", None, 404, "not_found"),
        (
            "GET",
            "/dashboard/..%2F..%2F..%2FCargo.toml",
            None,
            404,
            "not_found",
        ),
        ("GET", "/dashboard/%2Fetc%2Fpasswd", None, 404, "not_found"),
    ];
    for (method, path, body, status, code) in cases {
        let (got, answer) = send(&server, method, path, body);
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert_eq!(error_code(&answer), code, "{method} {path}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {path}: {answer}"
        );
    }
    // Huge bodies: refused from their declared length, before the body is read. The client
    // asks first (`Expect: 100-continue`, as curl does for large uploads), so the answer
    // cannot race the upload.
    for (length, path) in [
        (huge.len(), "/api/v1/tasks"),
        (huge_json.len(), "/api/v1/docs"),
    ] {
        let (status, answer) = ask_before_sending(&server, path, length);
        assert_eq!(status, 413, "{path}: {answer}");
        assert_eq!(error_code(&answer), "payload_too_large", "{answer}");
    }
    // Sent whole, a huge body is refused too (when the connection lasts long enough for
    // the client to read the answer: the server does not read what it refuses).
    if let Ok(r) = http()
        .post(format!("{}/api/v1/tasks", server.url))
        .send(&huge_json[..])
    {
        assert_eq!(r.status().as_u16(), 413);
    }
    // Nothing half-written: still the one task.
    let tasks = server.client.list_tasks(&Default::default()).unwrap();
    assert_eq!(tasks.len(), 1);
}

#[test]
fn the_agent_header_names_the_actor() {
    let server = TestServer::start();
    let (status, task) = http()
        .post(format!("{}/api/v1/tasks", server.url))
        .header("X-Baton-Agent", "planner")
        .send(&b"{\"title\": \"x\"}"[..])
        .map(|r| {
            let s = r.status().as_u16();
            (s, r.into_body().read_to_string().unwrap())
        })
        .unwrap();
    assert_eq!(status, 201, "{task}");
    let created = baton_core::store::EventQuery {
        action: Some("task.created".into()),
        ..Default::default()
    };
    let events = server.client.events(&created).unwrap();
    assert_eq!(events[0].actor, "planner");
    // Without the header a person acts.
    send(
        &server,
        "POST",
        "/api/v1/tasks",
        Some(b"{\"title\": \"y\"}"),
    );
    let events = server.client.events(&created).unwrap();
    assert_eq!(events[1].actor, "human");
}

/// Fills the path parameters of a documented route with plausible values.
fn concrete(path: &str) -> String {
    path.replace("{id}", "T-1")
        .replace("{name}", "claude")
        .replace("{key}", "lease_ttl")
        .replace("{file}", "app.js")
}

#[test]
fn every_documented_route_is_served_and_every_served_route_is_documented() {
    let server = TestServer::start();
    let (status, doc) = send(&server, "GET", "/api/v1/openapi.json", None);
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                documented.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(documented.len() >= 25, "{documented:?}");
    // Documented => served: a served route never falls through to the JSON 404/405.
    for (method, path) in &documented {
        if path.ends_with("/stream") {
            continue; // checked by the stream tests
        }
        let (status, answer) = send(&server, method, &concrete(path), Some(b"{}"));
        let code = answer["error"]["code"].as_str().unwrap_or("");
        assert!(
            !(status == 404 && code == "not_found") && status != 405,
            "{method} {path} is documented but not served: {status} {answer}"
        );
    }
    // Served => documented: drive the API through the client (each scenario on a fresh
    // server), then every route the server saw (by its template, from /metrics) must be in
    // the document.
    use baton_core::conformance as c;
    let scenarios: Vec<fn(&TestServer)> = vec![
        |s| c::full_lifecycle_is_recorded_in_order(&s.client),
        |s| c::an_agent_may_hold_several_tasks_and_mine_lists_them(&s.client),
        |s| c::delete_is_soft_recorded_and_frees_dependents(&s.client),
        |s| c::update_records_only_changed_fields(&s.client),
        |s| c::block_needs_a_reason_and_unblock_returns_to_the_queue(&s.client),
        |s| c::reject_returns_work_to_its_holder_or_to_the_queue(&s.client),
        |s| c::board_summary_counts_and_shows_who_holds_what(&s.client),
        |s| c::notes_keep_author_and_order(&s.client),
        |s| c::events_can_be_filtered(&s.client),
        |s| c::the_guard_blocks_exclusive_reservations_of_others_and_reports_shared_ones(s),
        |s| c::an_edit_to_a_path_reserved_by_someone_else_is_a_violation(s),
        |s| c::settings_are_checked_and_recorded(s),
        |s| c::released_and_expired_reservations_hold_nothing(s),
        |s| c::the_holder_keeps_its_lease_alive_by_working(s),
        |s| c::docs_keep_every_version_and_name_who_wrote_each(&s.client),
        |s| c::a_deleted_doc_stays_readable_but_leaves_listings_and_search(&s.client),
        |s| c::docs_are_listed_by_type_tag_and_task(&s.client),
        |s| c::a_question_to_a_task_reaches_its_holder_and_the_answer_comes_back(&s.client),
        |s| c::an_import_keeps_numbers_and_times_and_a_second_import_adds_nothing(&s.client),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for scenario in scenarios {
        let server = TestServer::start();
        scenario(&server);
        let (_, metrics) = send(&server, "GET", "/metrics", None);
        for line in metrics
            .as_str()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("baton_http_requests_total{"))
        {
            let label = |name: &str| {
                line.split(&format!("{name}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_string()
            };
            seen.insert((label("method"), label("route")));
        }
    }
    assert!(seen.len() >= 20, "{seen:?}");
    for (method, route) in seen {
        assert_ne!(
            route, "unmatched",
            "the client called a route the server does not have"
        );
        assert!(
            documented.iter().any(|(m, p)| *m == method && *p == route),
            "{method} {route} is served but not in the OpenAPI document"
        );
    }
}

/// Validates the document with the reference validator when the test virtualenv exists
/// (`.ci/run` creates it); in CI its absence is a failure.
#[test]
fn the_openapi_document_is_valid_openapi_3_1() {
    let Some(python) = support::tool_python() else {
        return;
    };
    let server = TestServer::start();
    let (_, doc) = send(&server, "GET", "/api/v1/openapi.json", None);
    let file = server.dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let out = std::process::Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn metrics_pass_promtool_and_count_what_happened() {
    let server = TestServer::start();
    add(&server, "a");
    server
        .client
        .pickup("w1", &PickupRequest::default())
        .unwrap();
    let _ = server
        .client
        .pickup("w1", &PickupRequest::default())
        .unwrap_err();
    send(&server, "GET", "/api/v1/tasks/T-77", None);
    let (status, metrics) = send(&server, "GET", "/metrics", None);
    assert_eq!(status, 200);
    let text = metrics.as_str().unwrap().to_string();
    assert!(
        text.contains("baton_pickups_total{result=\"claimed\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("baton_pickups_total{result=\"refused\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("baton_tasks{status=\"in-progress\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("baton_http_requests_total{method=\"GET\",route=\"/api/v1/tasks/{id}\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(text.contains(
        "baton_http_request_duration_seconds_bucket{route=\"/api/v1/tasks/pickup\",le=\"+Inf\"} 2"
    ));
    let Some(promtool) = support::tool("promtool") else {
        return;
    };
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn health_and_ready_answer() {
    let server = TestServer::start();
    let (status, health) = send(&server, "GET", "/health", None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = send(&server, "GET", "/ready", None);
    assert_eq!((status, ready["project"].as_str()), (200, Some("test")));
}

fn add(server: &TestServer, title: &str) {
    server
        .client
        .add_tasks(
            "lead",
            vec![NewTask {
                title: title.into(),
                ..NewTask::default()
            }],
        )
        .unwrap();
}

/// Reads events from a feed on a thread, so the test can wait with a timeout.
fn collect(
    mut feed: baton_client::EventFeed,
    count: usize,
) -> std::sync::mpsc::Receiver<baton_core::Event> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..count {
            match feed.next() {
                Some(Ok(e)) => {
                    if tx.send(e).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
        // Dropping the feed here closes the connection.
    });
    rx
}

#[test]
fn the_stream_carries_new_events_and_resumes_without_gaps() {
    let server = TestServer::start();
    add(&server, "before");
    let feed = server.client.follow(&FollowFilter::default()).unwrap();
    let rx = collect(feed, 3);
    for t in ["one", "two", "three"] {
        add(&server, t);
    }
    let got: Vec<_> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).expect("event"))
        .collect();
    let titles: Vec<_> = got
        .iter()
        .map(|e| e.detail["title"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        titles,
        ["one", "two", "three"],
        "a fresh stream starts after the newest event"
    );
    let last = got[2].id;
    // While disconnected, more happens.
    for t in ["four", "five"] {
        add(&server, t);
    }
    let resumed = server
        .client
        .follow(&FollowFilter {
            after: Some(last),
            ..FollowFilter::default()
        })
        .unwrap();
    let rx = collect(resumed, 3);
    add(&server, "six");
    let ids: Vec<u64> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).expect("event").id)
        .collect();
    assert_eq!(ids, [last + 1, last + 2, last + 3], "no gap, no repeat");
    // The whole log from the start, filtered.
    let all = server
        .client
        .follow(&FollowFilter {
            after: Some(0),
            action: Some("task.created".into()),
            ..FollowFilter::default()
        })
        .unwrap();
    let rx = collect(all, 7);
    let created: Vec<_> = (0..7)
        .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
        .collect();
    assert!(created.iter().all(|e| e.action == "task.created"));
    assert_eq!(created[0].detail["title"], json!("before"));
}

#[test]
fn a_stream_sees_writes_made_straight_to_the_database() {
    let server = TestServer::start();
    let feed = server.client.follow(&FollowFilter::default()).unwrap();
    let rx = collect(feed, 1);
    // Another writer on the same file, as a CLI process would be.
    let board = baton_core::Board::new(baton_sqlite::SqliteStore::open(&server.db).unwrap());
    let started = Instant::now();
    board
        .add_tasks(
            "cli",
            vec![NewTask {
                title: "direct".into(),
                ..NewTask::default()
            }],
        )
        .unwrap();
    let event = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the feed saw it");
    assert_eq!(event.actor, "cli");
    // The feed polls every 100 ms; allow for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_lagging_stream_catches_up_from_the_table() {
    let server = TestServer::start();
    let feed = server.client.follow(&FollowFilter::default()).unwrap();
    // 6,000 events at once, more than the feed's channel holds.
    let batch: Vec<NewTask> = (0..6000)
        .map(|i| NewTask {
            title: format!("t{i}"),
            ..NewTask::default()
        })
        .collect();
    server.client.add_tasks("lead", batch).unwrap();
    let rx = collect(feed, 6000);
    let first = rx.recv_timeout(Duration::from_secs(20)).expect("event");
    assert_eq!(first.detail["title"], json!("t0"));
    for expected in first.id + 1..first.id + 6000 {
        let e = rx.recv_timeout(Duration::from_secs(20)).expect("event");
        assert_eq!(e.id, expected, "in order, none missing");
    }
}

#[test]
fn shutdown_finishes_requests_in_flight_and_ends_streams() {
    let mut server = TestServer::start();
    let feed = server.client.follow(&FollowFilter::default()).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut feed = feed;
        while let Some(Ok(_)) = feed.next() {}
        let _ = tx.send(());
    });
    let url = server.url.clone();
    let batch: Vec<NewTask> = (0..10_000)
        .map(|i| NewTask {
            title: format!("t{i}"),
            ..NewTask::default()
        })
        .collect();
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = finished.clone();
    let client = baton_client::Client::new(&url, None).unwrap();
    let request = std::thread::spawn(move || {
        let added = client.add_tasks("lead", batch).map(|t| t.len());
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        added
    });
    // Stop while the batch's transaction runs: it holds the database's write lock, which
    // another connection sees as busy.
    let probe = rusqlite::Connection::open(&server.db).unwrap();
    probe.busy_timeout(Duration::ZERO).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match probe.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
            Err(_) => break,
            Ok(()) => {
                assert!(
                    !finished.load(std::sync::atomic::Ordering::SeqCst),
                    "the batch finished before it was seen running; make it larger"
                );
                assert!(
                    std::time::Instant::now() < deadline,
                    "the batch never started"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    drop(probe);
    server.stop();
    assert_eq!(
        request.join().unwrap().unwrap(),
        10_000,
        "the request in flight finished"
    );
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the stream ended on shutdown");
    let board = baton_core::Board::new(baton_sqlite::SqliteStore::open(&server.db).unwrap());
    assert_eq!(board.board().unwrap().counts.total(), 10_000);
}

/// Many clients at once: the writer groups their calls into shared commits. Every task is
/// claimed exactly once, refused calls in the same groups change nothing, and every
/// answer matches what the board holds afterwards.
#[test]
fn concurrent_clients_through_grouped_commits_claim_each_task_once() {
    let server = TestServer::start();
    let tasks: Vec<NewTask> = (0..600)
        .map(|i| NewTask {
            title: format!("t{i}"),
            ..NewTask::default()
        })
        .collect();
    server.client.add_tasks("lead", tasks).unwrap();
    let url = server.url.clone();
    let workers: Vec<_> = (0..24)
        .map(|w| {
            let url = url.clone();
            std::thread::spawn(move || {
                let client = baton_client::Client::new(&url, None).unwrap();
                let agent = format!("w{w}");
                let mut mine = Vec::new();
                loop {
                    match client.pickup(&agent, &PickupRequest::default()) {
                        Ok(p) => {
                            // Interleave refused calls: a stale fence, a task held by others.
                            let stale = client.done(
                                &agent,
                                p.task.id,
                                baton_core::api::DoneRequest {
                                    notes: None,
                                    fence: Some(0),
                                },
                            );
                            assert_eq!(stale.unwrap_err().code(), "stale_claim");
                            mine.push(p.task.id);
                        }
                        Err(e) => {
                            assert_eq!(e.code(), "no_task_ready", "{e}");
                            return mine;
                        }
                    }
                }
            })
        })
        .collect();
    let mut claimed: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    claimed.sort();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!(
        (before, claimed.len()),
        (600, 600),
        "each task claimed once"
    );
    let board = server.client.board().unwrap();
    assert_eq!(board.counts.in_progress, 600);
    let picked = server
        .client
        .events(&baton_core::store::EventQuery {
            action: Some("task.picked_up".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(picked.len(), 600);
    let refused_left_no_trace = server
        .client
        .events(&baton_core::store::EventQuery {
            action: Some("task.done".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(refused_left_no_trace.is_empty());
    // The writer did group calls.
    let (_, metrics) = send(&server, "GET", "/metrics", None);
    let value = |name: &str| -> u64 {
        let text = metrics.as_str().unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap();
        line.split(' ').nth(1).unwrap().parse().unwrap()
    };
    let (calls, commits) = (
        value("baton_writer_calls_total"),
        value("baton_writer_commits_total"),
    );
    assert!(calls >= 1200, "{calls}");
    assert!(
        commits < calls,
        "no call shared a commit: {commits} commits for {calls} calls"
    );
    eprintln!("{calls} writer calls in {commits} commits");
}
