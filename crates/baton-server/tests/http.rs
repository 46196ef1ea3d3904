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

/// Sends `body` as-is (declared as JSON) and returns the status and the parsed answer.
fn send(server: &TestServer, method: &str, path: &str, body: Option<&[u8]>) -> (u16, Value) {
    let url = format!("{}{path}", server.url);
    let agent = http();
    let json = "application/json";
    let response = match (method, body) {
        ("GET", _) => agent.get(&url).call(),
        ("DELETE", _) => agent.delete(&url).call(),
        ("POST", None) => agent.post(&url).send_empty(),
        ("POST", Some(b)) => agent.post(&url).content_type(json).send(b),
        ("PATCH", b) => agent.patch(&url).content_type(json).send(b.unwrap_or(b"")),
        ("PUT", b) => agent.put(&url).content_type(json).send(b.unwrap_or(b"")),
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
        .content_type("application/json")
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
        .content_type("application/json")
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

/// Sends `body` as the agent `agent` and returns the status and the parsed answer.
fn send_as(
    server: &TestServer,
    agent: &str,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, Value) {
    let url = format!("{}{path}", server.url);
    let request = match method {
        "POST" => http().post(&url),
        "PATCH" => http().patch(&url),
        _ => panic!("method {method}"),
    };
    let response = request
        .header("X-Baton-Agent", agent)
        .content_type("application/json")
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn a_json_array_is_refused_where_an_object_is_expected_at_any_depth() {
    let server = TestServer::start();
    add(&server, "only");
    // serde reads a struct from an array of its fields in order: `[null]` was a pickup
    // request with no id, and claimed the best task.
    let cases: [(&str, &str, &[u8]); 10] = [
        ("POST", "/api/v1/tasks/pickup", b"[null]"),
        ("POST", "/api/v1/tasks/pickup", b"[]"),
        ("POST", "/api/v1/tasks/pickup", b"5"),
        ("POST", "/api/v1/tasks/pickup", b"{\"bogus\": 1}"),
        ("POST", "/api/v1/tasks", b"[null, \"from an array\"]"),
        (
            "POST",
            "/api/v1/tasks/batch",
            b"[[null, \"from an array\"]]",
        ),
        ("PATCH", "/api/v1/tasks/T-1", b"[\"renamed by an array\"]"),
        ("POST", "/api/v1/heartbeat", b"[null, null]"),
        (
            "POST",
            "/api/v1/file-changes",
            b"{\"changes\": [[\"src/a.rs\", \"modified\"]]}",
        ),
        (
            "POST",
            "/api/v1/reservations",
            b"[[\"src/**\"], \"exclusive\", null, null, null]",
        ),
    ];
    for (method, path, body) in cases {
        let (status, answer) = send_as(&server, "claude", method, path, body);
        assert_eq!(
            status,
            422,
            "{method} {path} {}: {answer}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(error_code(&answer), "invalid_input", "{answer}");
    }
    let (_, answer) = send_as(&server, "claude", "POST", "/api/v1/tasks/pickup", b"[null]");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("a JSON object")),
        "{answer}"
    );
    // Nothing was claimed, added, renamed or reserved.
    let tasks = server.client.list_tasks(&Default::default()).unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].title, "only");
    assert_eq!(tasks[0].status, baton_core::Status::Open);
    assert!(server.client.mine("claude").unwrap().is_empty());
    assert!(server
        .client
        .reservations(&Default::default())
        .unwrap()
        .is_empty());
    // The object forms still work.
    let (status, answer) = send_as(&server, "claude", "POST", "/api/v1/tasks/pickup", b"{}");
    assert_eq!(status, 200, "{answer}");
}

/// Every operation documents the answers of the shared parts it goes through: the body
/// reader (400, 413, 415, 422), parameter parsing (422), the request guards (403). Checked
/// over the whole document, so a new route cannot forget them.
#[test]
fn every_operation_documents_the_errors_its_body_and_parameters_can_give() {
    let server = TestServer::start();
    let (_, doc) = send(&server, "GET", "/api/v1/openapi.json", None);
    let mut operation_ids = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let responses = operation["responses"].as_object().unwrap();
            let error = |status: &str| {
                let answer = responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{name} does not document {status}"));
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{name} {status}"
                );
                assert!(
                    answer["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{name} {status} has no description"
                );
            };
            error("403");
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    error(status);
                }
                assert!(
                    responses["400"]["description"]
                        .as_str()
                        .unwrap()
                        .contains("malformed_json"),
                    "{name}"
                );
            }
            if operation["parameters"]
                .as_array()
                .is_some_and(|p| !p.is_empty())
            {
                error("422");
            }
            operation_ids.insert(operation["operationId"].as_str().unwrap().to_string());
            checked += 1;
        }
    }
    assert!(checked >= 45, "{checked} operations");
    // Links name operations that exist.
    let mut links = 0;
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            for answer in operation["responses"].as_object().unwrap().values() {
                for link in answer["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    let target = link["operationId"].as_str().unwrap();
                    assert!(operation_ids.contains(target), "a link to {target}");
                    links += 1;
                }
            }
        }
    }
    assert!(links >= 20, "{links} links");
    // Agent names are described by core's rule, wherever they are taken.
    let agent_patterns: Vec<&Value> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .flat_map(|operation| operation["parameters"].as_array().into_iter().flatten())
        .filter(|p| p["name"] == "X-Baton-Agent" || (p["name"] == "name" && p["in"] == "path"))
        .map(|p| &p["schema"]["pattern"])
        .collect();
    assert!(agent_patterns.len() >= 20, "{agent_patterns:?}");
    for pattern in agent_patterns {
        assert_eq!(pattern, baton_core::board::AGENT_NAME_PATTERN);
    }
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
    // The operations record: a run with its usage, sessions, log entries.
    let api = &server.client;
    let run = api
        .start_run(
            "w1",
            baton_core::api::NewRun {
                task: baton_core::TaskId(1),
                provider: "claude".into(),
                account: None,
                attempt: 1,
                runner: "r:1:1".into(),
                host: "r".into(),
                worktree: None,
                branch: None,
                session: None,
                spool: None,
            },
        )
        .unwrap();
    api.finish_run(
        "w1",
        run.id,
        baton_core::api::RunEnd {
            status: baton_core::RunStatus::Succeeded,
            reason: None,
            final_text: None,
            session: None,
            usage: Some(baton_core::RunUsage {
                input_tokens: 1200,
                output_tokens: 300,
                cost_usd: Some(0.25),
                ..baton_core::RunUsage::default()
            }),
        },
    )
    .unwrap();
    let ops = api.operations();
    ops.start_session("lead", baton_core::api::NewSession::default())
        .unwrap();
    let log = |action: &str, level| {
        ops.log(
            "ci",
            baton_core::api::NewLogEntry {
                message: "m".into(),
                action: Some(action.into()),
                level: Some(level),
                ..Default::default()
            },
        )
        .unwrap();
    };
    use baton_core::model::LogLevel;
    log("BUILD", LogLevel::Error);
    let (_, first) = send(&server, "GET", "/metrics", None);
    assert!(first
        .as_str()
        .unwrap()
        .contains("baton_log_entries_total{action=\"build\",level=\"error\"} 1"));
    log("BUILD", LogLevel::Error);
    log("deploy", LogLevel::Info);
    // Made-up actions past the cap share one label.
    for i in 0..60 {
        log(&format!("made-up-{i}"), LogLevel::Debug);
    }
    let (status, metrics) = send(&server, "GET", "/metrics", None);
    assert_eq!(status, 200);
    let text = metrics.as_str().unwrap().to_string();
    for line in [
        "baton_runs_total{provider=\"claude\",status=\"succeeded\"} 1",
        "baton_run_tokens_total{provider=\"claude\",type=\"input\"} 1200",
        "baton_run_cost_usd_total{provider=\"claude\"} 0.25",
        "baton_sessions_started_total{kind=\"ai\"} 1",
        "baton_sessions_open{kind=\"human\"} 1",
        "baton_log_entries_total{action=\"build\",level=\"error\"} 2",
        "baton_log_entries_total{action=\"deploy\",level=\"info\"} 1",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    let series = text
        .lines()
        .filter(|l| l.starts_with("baton_log_entries_total{"))
        .count();
    assert!(
        series <= 51,
        "{series} log series: the action label is bounded"
    );
    assert!(text.contains("baton_log_entries_total{action=\"other\",level=\"debug\"}"));
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
                                    summary: None,
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

/// One request written by hand, so any method, Host, Origin or content type can be sent.
/// `headers` without a `Host` get the server's address; `("Host", "")` sends none (then
/// as HTTP/1.0, where Host is optional).
fn raw(
    server: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("host"))
        .map_or(addr, |(_, v)| *v);
    let version = if host.is_empty() { "1.0" } else { "1.1" };
    let mut head = format!("{method} {path} HTTP/{version}\r\nConnection: close\r\n");
    if !host.is_empty() {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    for (name, value) in headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("host"))
    {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").trim();
    let value = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    (status, value)
}

fn task_titles(server: &TestServer) -> Vec<String> {
    let tasks = server.client.list_tasks(&Default::default()).unwrap();
    tasks.into_iter().map(|t| t.title).collect()
}

const MCP_INITIALIZE: &[u8] = br#"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}}"#;

/// `POST /mcp` initialize, naming `host`.
fn mcp_initialize(server: &TestServer, host: &str) -> (u16, Value) {
    raw(
        server,
        "POST",
        "/mcp",
        &[
            ("Host", host),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        MCP_INITIALIZE,
    )
}

#[test]
fn a_body_that_is_not_declared_json_is_refused_with_415_and_changes_nothing() {
    let server = TestServer::start();
    add(&server, "first");
    let task = br#"{"title": "from a form"}"#;
    for content_type in [
        Some("text/plain"),
        Some("text/plain;charset=UTF-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonp"),
        None,
    ] {
        let headers: Vec<(&str, &str)> =
            content_type.iter().map(|t| ("Content-Type", *t)).collect();
        let (status, answer) = raw(&server, "POST", "/api/v1/tasks", &headers, task);
        assert_eq!(status, 415, "{content_type:?}: {answer}");
        assert_eq!(error_code(&answer), "unsupported_media_type", "{answer}");
        assert!(answer["error"]["hint"].as_str().is_some(), "{answer}");
    }
    // A declared type counts even on an empty body: a cross-site form with no fields.
    let (status, answer) = raw(
        &server,
        "POST",
        "/api/v1/tasks/pickup",
        &[("Content-Type", "text/plain"), ("X-Baton-Agent", "w1")],
        b"",
    );
    assert_eq!(status, 415, "{answer}");
    let (status, answer) = raw(
        &server,
        "PATCH",
        "/api/v1/tasks/T-1",
        &[("Content-Type", "text/plain")],
        br#"{"title": "renamed"}"#,
    );
    assert_eq!(status, 415, "{answer}");
    assert_eq!(task_titles(&server), ["first"]);
    let board = server.client.board().unwrap();
    assert_eq!(board.counts.open, 1, "nothing was picked up");
}

#[test]
fn json_with_parameters_or_a_write_without_a_body_is_accepted() {
    let server = TestServer::start();
    for (i, content_type) in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;Charset=UTF-8",
    ]
    .iter()
    .enumerate()
    {
        let body = format!(r#"{{"title": "t{i}"}}"#);
        let headers = [("Content-Type", *content_type)];
        let (status, answer) = raw(&server, "POST", "/api/v1/tasks", &headers, body.as_bytes());
        assert_eq!(status, 201, "{content_type}: {answer}");
    }
    // `curl -X POST .../pickup -H 'X-Baton-Agent: w1'`: no body, no type.
    let (status, answer) = raw(
        &server,
        "POST",
        "/api/v1/tasks/pickup",
        &[("X-Baton-Agent", "w1")],
        b"",
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["task"]["title"], "t0", "{answer}");
}

#[test]
fn a_request_naming_a_foreign_host_is_refused_on_every_route() {
    let server = TestServer::start();
    let evil = [("Host", "evil.example")];
    let evil_port = format!("evil.example:{}", server.url.rsplit(':').next().unwrap());
    let json = [
        ("Host", evil_port.as_str()),
        ("Content-Type", "application/json"),
    ];
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8]);
    let cases: Vec<Case> = vec![
        ("GET", "/api/v1/tasks", &evil, b""),
        ("GET", "/api/v1/board", &evil, b""),
        ("POST", "/api/v1/tasks", &json, br#"{"title": "rebound"}"#),
        ("GET", "/metrics", &evil, b""),
        ("GET", "/", &evil, b""),
        ("GET", "/dashboard/app.js", &evil, b""),
        ("GET", "/api/v1/events/stream", &evil, b""),
        ("GET", "/api/v1/openapi.json", &evil, b""),
        ("GET", "/health", &evil, b""),
    ];
    for (method, path, headers, body) in cases {
        let (status, answer) = raw(&server, method, path, headers, body);
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(error_code(&answer), "host_not_allowed", "{answer}");
        assert!(
            answer["error"]["hint"]
                .as_str()
                .is_some_and(|h| h.contains("--allowed-host")),
            "{answer}"
        );
    }
    let (status, answer) = mcp_initialize(&server, "evil.example");
    assert_eq!(status, 403, "{answer}");
    assert_eq!(error_code(&answer), "host_not_allowed", "{answer}");
    assert!(task_titles(&server).is_empty());
}

#[test]
fn localhost_ip_literals_and_requests_without_a_host_are_served() {
    let server = TestServer::start();
    let port = server.url.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "LocalHost".to_string(),
        format!("[::1]:{port}"),
        "192.168.1.20:8080".to_string(),
    ] {
        let (status, answer) = raw(&server, "GET", "/api/v1/tasks", &[("Host", &host)], b"");
        assert_eq!(status, 200, "{host}: {answer}");
        let (status, answer) = raw(
            &server,
            "POST",
            "/api/v1/tasks",
            &[("Host", &host), ("Content-Type", "application/json")],
            br#"{"title": "x"}"#,
        );
        assert_eq!(status, 201, "{host}: {answer}");
        let (status, answer) = mcp_initialize(&server, &host);
        assert_eq!(status, 200, "{host}: {answer}");
    }
    // HTTP/1.0 without a Host: only a non-browser client omits it; served.
    let (status, answer) = raw(&server, "GET", "/health", &[("Host", "")], b"");
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = raw(
        &server,
        "POST",
        "/api/v1/tasks",
        &[("Host", ""), ("Content-Type", "application/json")],
        br#"{"title": "y"}"#,
    );
    assert_eq!(status, 201, "{answer}");
}

#[test]
fn an_allowed_host_is_served_by_name_and_others_still_refused() {
    let server = TestServer::start_with(baton_server::ServerOptions {
        allowed_hosts: vec!["Board.Example".into(), "pinned.example:8443".into()],
        ..baton_server::ServerOptions::default()
    });
    for (host, expected) in [
        ("board.example", 200),
        ("board.example:7420", 200),
        ("BOARD.EXAMPLE.", 200),
        ("pinned.example:8443", 200),
        ("pinned.example:9000", 403),
        ("other.example", 403),
    ] {
        let (status, answer) = raw(&server, "GET", "/api/v1/board", &[("Host", host)], b"");
        assert_eq!(status, expected, "{host}: {answer}");
        let (status, answer) = mcp_initialize(&server, host);
        assert_eq!(status, expected, "/mcp {host}: {answer}");
    }
}

#[test]
fn a_server_refuses_a_malformed_allowed_host() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("baton.db");
    baton_sqlite::SqliteStore::create(&db, "test").unwrap();
    let backend = baton_server::SqliteBackend::new(&db).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = baton_server::ServerOptions {
        allowed_hosts: vec!["https://board.example/".into()],
        ..baton_server::ServerOptions::default()
    };
    let error = runtime
        .block_on(baton_server::Server::start(
            std::sync::Arc::new(backend),
            "127.0.0.1:0".parse().unwrap(),
            options,
        ))
        .err()
        .expect("refused");
    assert_eq!(error.code(), "invalid_input", "{error}");
}

#[test]
fn browser_writes_from_another_site_are_refused_and_change_nothing() {
    let server = TestServer::start();
    let addr = server.url.trim_start_matches("http://").to_string();
    let port = addr.rsplit(':').next().unwrap().to_string();
    let other_port = format!("http://127.0.0.1:{}", port.parse::<u16>().unwrap() ^ 1);
    let refused: Vec<Vec<(&str, &str)>> = vec![
        vec![("Origin", "http://evil.example")],
        vec![("Origin", "null")],
        vec![("Origin", &other_port)],
        vec![("Origin", "https://127.0.0.1")],
        vec![("Sec-Fetch-Site", "cross-site")],
        vec![("Sec-Fetch-Site", "same-site")],
        // Fetch metadata wins over an Origin that happens to match.
        vec![("Origin", &server.url), ("Sec-Fetch-Site", "cross-site")],
    ];
    for headers in &refused {
        let mut with_type = headers.clone();
        with_type.push(("Content-Type", "application/json"));
        for (method, path, body) in [
            ("POST", "/api/v1/tasks", &br#"{"title": "forged"}"#[..]),
            ("POST", "/api/v1/tasks/pickup", b"{}"),
            ("DELETE", "/api/v1/tasks/T-1", b""),
            ("POST", "/mcp", MCP_INITIALIZE),
        ] {
            let (status, answer) = raw(&server, method, path, &with_type, body);
            assert_eq!(status, 403, "{method} {path} {headers:?}: {answer}");
            assert_eq!(error_code(&answer), "cross_site_request", "{answer}");
            assert!(answer["error"]["hint"].as_str().is_some(), "{answer}");
        }
        // Reading is not writing: a cross-site GET is answered (the browser keeps the
        // answer from the page, there being no CORS headers).
        let (status, _) = raw(&server, "GET", "/api/v1/tasks", headers, b"");
        assert_eq!(status, 200, "{headers:?}");
    }
    assert!(task_titles(&server).is_empty());
    // The dashboard's own writes: same origin, by address or by localhost.
    let localhost = format!("localhost:{port}");
    let localhost_origin = format!("http://{localhost}");
    for headers in [
        vec![
            ("Origin", server.url.as_str()),
            ("Sec-Fetch-Site", "same-origin"),
        ],
        vec![
            ("Host", localhost.as_str()),
            ("Origin", localhost_origin.as_str()),
        ],
        vec![("Sec-Fetch-Site", "none")],
    ] {
        let mut headers = headers.clone();
        headers.push(("Content-Type", "application/json"));
        let (status, answer) = raw(
            &server,
            "POST",
            "/api/v1/tasks",
            &headers,
            br#"{"title": "mine"}"#,
        );
        assert_eq!(status, 201, "{headers:?}: {answer}");
    }
    assert_eq!(task_titles(&server), ["mine", "mine", "mine"]);
}

#[test]
fn a_public_bind_serves_mcp_to_ip_addresses_but_not_to_unlisted_names() {
    // Bound to every interface; the test only ever talks to 127.0.0.1.
    let server = TestServer::start_bound("0.0.0.0", baton_server::ServerOptions::default());
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let (status, answer) = mcp_initialize(&server, &format!("evil.example:{port}"));
    assert_eq!(status, 403, "{answer}");
    assert_eq!(error_code(&answer), "host_not_allowed", "{answer}");
    let (status, answer) = raw(
        &server,
        "GET",
        "/api/v1/tasks",
        &[("Host", "evil.example")],
        b"",
    );
    assert_eq!(status, 403, "{answer}");
    for host in [format!("127.0.0.1:{port}"), format!("192.168.1.20:{port}")] {
        let (status, answer) = mcp_initialize(&server, &host);
        assert_eq!(status, 200, "{host}: {answer}");
    }
}

fn request_series(server: &TestServer) -> Vec<String> {
    let (_, metrics) = send(server, "GET", "/metrics", None);
    metrics
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("baton_http_requests_total{"))
        .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
        .collect()
}

#[test]
fn made_up_methods_do_not_grow_the_request_series() {
    let server = TestServer::start();
    add(&server, "a");
    let before = request_series(&server);
    for i in 0..2_000 {
        let method = format!("BREW{i}");
        let path = if i % 2 == 0 {
            "/api/v1/tasks"
        } else {
            "/nowhere"
        };
        let (status, _) = raw(&server, &method, path, &[], b"");
        assert!((400..500).contains(&status), "{method} {path}: {status}");
    }
    let after = request_series(&server);
    let new: Vec<&String> = after.iter().filter(|s| !before.contains(s)).collect();
    // At most: other × {/api/v1/tasks, unmatched} × a status or two, and the scrape itself.
    assert!(new.len() <= 6, "{new:#?}");
    assert!(
        after.iter().all(|s| !s.contains("BREW")),
        "a made-up method became a label: {after:#?}"
    );
    assert!(
        after
            .iter()
            .any(|s| s.contains(r#"method="other",route="/api/v1/tasks""#)),
        "{after:#?}"
    );
}

fn git_in(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A team server runs where there is no checkout: it reads diffs from its own clone of
/// the repository the project names, fetched as runners push.
#[test]
fn a_server_without_a_checkout_reads_diffs_from_its_clone_of_the_project_repository() {
    use baton_core::api::{Errands, NewErrand};
    let src = tempfile::tempdir().unwrap();
    git_in(src.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(src.path().join("README.md"), "app\n").unwrap();
    git_in(src.path(), &["add", "."]);
    git_in(src.path(), &["commit", "-qm", "first"]);
    let remote = src.path().join("remote.git");
    git_in(
        src.path(),
        &["clone", "-q", "--bare", ".", remote.to_str().unwrap()],
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(baton_server::ServerOptions {
        code_root: Some(elsewhere.path().to_path_buf()),
        ..baton_server::ServerOptions::default()
    });
    server
        .client
        .create_errand(
            "lead",
            NewErrand {
                title: "fix the README".into(),
                provider: None,
            },
        )
        .unwrap();
    let (status, body) = send(&server, "GET", "/api/v1/diff/E-1", None);
    assert_eq!(
        (status, error_code(&body)),
        (404, "no_repository"),
        "{body}"
    );

    server
        .client
        .set_setting("lead", "repository", remote.to_str().unwrap())
        .unwrap();
    let (status, body) = send(&server, "GET", "/api/v1/diff/E-1", None);
    assert_eq!(status, 404, "no branch pushed yet: {body}");
    // A runner pushes the errand's branch; the server's clone fetches it.
    git_in(src.path(), &["checkout", "-q", "-b", "baton/errand-1"]);
    std::fs::write(src.path().join("README.md"), "app, fixed\n").unwrap();
    git_in(src.path(), &["commit", "-qam", "fix"]);
    git_in(
        src.path(),
        &["push", "-q", remote.to_str().unwrap(), "baton/errand-1"],
    );
    std::thread::sleep(std::time::Duration::from_secs(4));
    let (status, body) = send(&server, "GET", "/api/v1/diff/E-1", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["files"][0]["path"], "README.md", "{body}");
    assert!(elsewhere.path().join(".baton/clones/remote").is_dir());
}

#[test]
fn the_server_applies_log_retention_in_the_background() {
    let server = TestServer::start_with(baton_server::ServerOptions {
        retention_every: Duration::from_millis(200),
        ..baton_server::ServerOptions::default()
    });
    let ops = server.client.operations();
    let entry = |message: &str| baton_core::api::NewLogEntry {
        message: message.into(),
        ..Default::default()
    };
    ops.log("ci", entry("old")).unwrap();
    server
        .client
        .set_setting("lead", "log_retention", "7d")
        .unwrap();
    server.clock.advance(Duration::from_secs(8 * 86_400));
    ops.log("ci", entry("new")).unwrap();
    let logs = || {
        server
            .client
            .events(&baton_core::store::EventQuery {
                action: Some("log.".into()),
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|e| e.detail["message"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while logs() != ["new"] {
        assert!(Instant::now() < deadline, "not pruned: {:?}", logs());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, applied) = send(&server, "GET", "/api/v1/events?action=retention.", None);
    assert_eq!(applied[0]["actor"], "baton", "{applied}");
    assert_eq!(applied[0]["detail"]["log_entries"], 1);

    // On demand over HTTP: a dry run counts; bad bodies are refused with a hint.
    let (status, dry) = send(
        &server,
        "POST",
        "/api/v1/operations/prune",
        Some(br#"{"dry_run": true}"#),
    );
    assert_eq!(
        (status, dry["retention"].as_str()),
        (200, Some("7d")),
        "{dry}"
    );
    assert_eq!(dry["log_entries"], 0);
    for bad in [&br#"{"limit": "many"}"#[..], br#"{"dry": true}"#, b"{"] {
        let (status, answer) = send(&server, "POST", "/api/v1/operations/prune", Some(bad));
        assert!(matches!(status, 400 | 422), "{status} {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
}

#[test]
fn anomalies_flag_a_burst_and_refuse_bad_parameters_with_a_hint() {
    let server = TestServer::start();
    let (status, none) = send(&server, "GET", "/api/v1/operations/anomalies", None);
    assert_eq!(
        (status, none.as_array().map(Vec::len)),
        (200, Some(0)),
        "{none}"
    );
    let ops = server.client.operations();
    for i in 0..6 {
        ops.log(
            "ci",
            baton_core::api::NewLogEntry {
                message: format!("build {i} failed"),
                ..Default::default()
            },
        )
        .unwrap();
    }
    let (status, found) = send(
        &server,
        "GET",
        "/api/v1/operations/anomalies?since=2h&bucket=10m&threshold=3&window=12",
        None,
    );
    assert_eq!(status, 200);
    let series: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["series"].as_str().unwrap())
        .collect();
    assert!(series.contains(&"events by ci"), "{found}");
    for bad in [
        "since=yesterday",
        "bucket=0s",
        "bucket=2d",
        "threshold=-1",
        "threshold=NaN",
        "window=2",
        "window=many",
        "colour=red",
    ] {
        let (status, answer) = send(
            &server,
            "GET",
            &format!("/api/v1/operations/anomalies?{bad}"),
            None,
        );
        assert!(matches!(status, 400 | 422), "{bad}: {status} {answer}");
        assert!(answer["error"]["message"].is_string(), "{bad}: {answer}");
    }
}
