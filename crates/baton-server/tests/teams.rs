//! Team mode over real HTTP: every operation of the OpenAPI document answered for each role
//! and for no credential as core's policy says; projects kept apart; tokens and sessions
//! refused once revoked, expired or logged out; failed logins slowed down; no secret in
//! the store, the answers or the log.

mod support;

use std::time::Duration;

use baton_core::api::NewTask;
use baton_core::auth::{allows, Action, Role};
use baton_core::instance::{Instance, NewToken, NewUser};
use baton_core::{Api, Board};
use baton_server::ServerOptions;
use baton_sqlite::SqliteStore;
use serde_json::{json, Value};
use support::TestServer;

const PASSWORD: &str = "correct horse battery";

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Sends a request with an optional bearer token and extra headers; the status, the body
/// (unread for event streams) and the headers.
fn send(
    url: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, Value, Vec<(String, String)>) {
    let agent = http();
    let full = format!("{url}{path}");
    macro_rules! with {
        ($b:expr) => {{
            let mut b = $b;
            if let Some(t) = token {
                b = b.header("Authorization", &format!("Bearer {t}"));
            }
            for (k, v) in headers {
                b = b.header(*k, *v);
            }
            b
        }};
    }
    let bytes = body.map(|b| b.to_string().into_bytes());
    let response = match method {
        "GET" => with!(agent.get(&full)).call(),
        "DELETE" => with!(agent.delete(&full)).call(),
        m => {
            let b = match m {
                "POST" => with!(agent.post(&full)),
                "PUT" => with!(agent.put(&full)),
                "PATCH" => with!(agent.patch(&full)),
                other => panic!("method {other}"),
            };
            match &bytes {
                Some(bytes) => b.content_type("application/json").send(&bytes[..]),
                None => b.send_empty(),
            }
        }
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    if path.ends_with("/stream") && status == 200 {
        return (status, Value::Null, headers);
    }
    let text = response.into_body().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value, headers)
}

/// A team server over a SQLite file, with users made on the store directly (as `baton
/// user add` does on the server's machine).
struct Team {
    server: TestServer,
    /// The store, opened beside the server (the instance).
    board: Board<SqliteStore>,
}

impl Team {
    fn start() -> Team {
        Team::start_with(ServerOptions::default())
    }

    fn start_with(options: ServerOptions) -> Team {
        let server = TestServer::start_with(ServerOptions {
            team: true,
            setup_code: Some("one-time-setup-code".into()),
            ..options
        });
        let board = Board::with_clock(SqliteStore::open(&server.db).unwrap(), server.clock.clock());
        Team { server, board }
    }

    fn instance(&self) -> &dyn Instance {
        self.board.instance()
    }

    fn user(&self, name: &str, admin: bool) {
        self.instance()
            .add_user(
                "setup",
                NewUser {
                    name: name.into(),
                    email: None,
                    password: PASSWORD.into(),
                    admin,
                },
            )
            .unwrap();
    }

    fn token(&self, user: &str, project: Option<&str>, agent: Option<&str>, role: Role) -> String {
        self.instance()
            .create_token(
                user,
                NewToken {
                    name: None,
                    project: project.map(String::from),
                    agent: agent.map(String::from),
                    role,
                    expires_at: None,
                },
            )
            .unwrap()
            .token
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, value, _) = send(&self.server.url, method, path, token, body, &[]);
        (status, value)
    }

    fn login(&self, name: &str, password: &str) -> (u16, Value, Vec<(String, String)>) {
        send(
            &self.server.url,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"name": name, "password": password})),
            &[],
        )
    }
}

/// A concrete path for a route template: ids and names that do not exist, so no call
/// changes anything that matters to the walk.
fn concrete(template: &str) -> String {
    let kind = |at: &str| -> &str {
        if at.contains("/tasks/") {
            "T-999"
        } else if at.contains("/docs/") {
            "D-999"
        } else if at.contains("/messages/") {
            "M-999"
        } else if at.contains("/runs/") {
            "R-999"
        } else {
            "999"
        }
    };
    let id = kind(template);
    template
        .replace("{id}", id)
        .replace("{name}", "nobody")
        .replace("{user}", "nobody")
        .replace("{key}", "nope")
        .replace("{file}", "app.js")
}

const ROLES: [Role; 5] = [
    Role::Viewer,
    Role::Agent,
    Role::Reviewer,
    Role::Maintainer,
    Role::Admin,
];

/// Each role's credential: a member of both projects with that role, through a login
/// session (the admin: an instance admin, through an API token for every project).
fn role_tokens(team: &Team) -> Vec<(Role, String)> {
    team.user("root", true);
    team.instance()
        .register_project("root", "web", "Web")
        .unwrap();
    let mut tokens = Vec::new();
    for role in ROLES {
        let token = if role == Role::Admin {
            team.token("root", None, None, Role::Admin)
        } else {
            let name = format!("u-{role}");
            team.user(&name, false);
            for project in ["default", "web"] {
                team.instance()
                    .set_member("root", project, &name, Some(role))
                    .unwrap();
            }
            let (status, login, _) = team.login(&name, PASSWORD);
            assert_eq!(status, 200, "{login}");
            login["token"].as_str().unwrap().to_string()
        };
        tokens.push((role, token));
    }
    tokens
}

fn action_named(name: &str) -> Action {
    Action::ALL
        .into_iter()
        .find(|a| a.as_str() == name)
        .unwrap_or_else(|| panic!("the document names an unknown action {name}"))
}

#[test]
fn every_operation_answers_each_role_and_no_credential_as_the_policy_says() {
    let team = Team::start();
    // Web's storage exists before it is used (the server creates it when asked over HTTP).
    let tokens_for = role_tokens(&team);
    let admin = tokens_for.last().unwrap().1.clone();
    let (_, doc) = team.send("GET", "/api/v1/openapi.json", Some(&admin), None);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let mut checked = 0;
    let mut operations: Vec<(String, String, Value)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(template, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(|(method, op)| (template.clone(), method.to_uppercase(), op.clone()))
        })
        .collect();
    // Logging out ends the sessions the walk uses: last.
    operations.sort_by_key(|(template, _, _)| template == "/api/v1/auth/logout");
    {
        for (template, method, operation) in &operations {
            let template = template.as_str();
            let access = &operation["x-baton-access"];
            let requires = access["requires"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {template} does not say what it needs"));
            let public = requires == "nothing";
            assert_eq!(
                operation["security"].as_array().map(Vec::is_empty),
                Some(public),
                "{method} {template}: security"
            );
            let body = operation.get("requestBody").map(|_| json!({}));
            // Project routes are walked on the default project and under another one.
            let mut paths = vec![concrete(template)];
            if requires == "role"
                && template.starts_with("/api/v1/")
                && !template.starts_with("/api/v1/projects")
                && !template.starts_with("/api/v1/tokens")
            {
                paths.push(concrete(template).replacen("/api/v1/", "/api/v1/projects/web/", 1));
            }
            for path in paths {
                let (status, answer) = team.send(method, &path, None, body.as_ref());
                if public {
                    assert!(
                        ![401, 403].contains(&status),
                        "{method} {path} public: {status} {answer}"
                    );
                } else {
                    assert_eq!(
                        status, 401,
                        "{method} {path} without a credential: {answer}"
                    );
                }
                for (role, token) in &tokens_for {
                    let (status, answer) = team.send(method, &path, Some(token), body.as_ref());
                    let expected_allowed = match requires {
                        "nothing" | "authenticated" => Some(true),
                        "admin" => Some(*role == Role::Admin),
                        // Without an action: decided by the handler from the project it names.
                        "role" => access["action"]
                            .as_str()
                            .map(|action| allows(*role, action_named(action))),
                        other => panic!("{method} {template}: unknown requirement {other}"),
                    };
                    assert_ne!(status, 401, "{method} {path} as {role}: {answer}");
                    match expected_allowed {
                        Some(true) => assert_ne!(
                            status, 403,
                            "{method} {path} as {role} should be allowed: {answer}"
                        ),
                        Some(false) => assert_eq!(
                            (status, answer["error"]["code"].as_str()),
                            (403, Some("forbidden")),
                            "{method} {path} as {role} should be refused: {answer}"
                        ),
                        None => {}
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 5 * 100, "{checked} answers checked");
}

#[test]
fn an_agent_token_acts_only_as_its_agent_and_only_within_its_role() {
    let team = Team::start();
    team.user("root", true);
    let claude = team.token("root", Some("default"), Some("claude"), Role::Agent);
    team.board
        .add_tasks(
            "root",
            vec![NewTask {
                title: "Build".into(),
                ..NewTask::default()
            }],
        )
        .unwrap();
    let (status, picked) = team.send("POST", "/api/v1/tasks/pickup", Some(&claude), None);
    assert_eq!(status, 200, "{picked}");
    assert_eq!(picked["task"]["assignee"], "claude");
    // Naming another agent is refused, naming itself is fine.
    for (name, expected) in [("codex", 403), ("claude", 200)] {
        let (status, answer, _) = send(
            &team.server.url,
            "POST",
            "/api/v1/heartbeat",
            Some(&claude),
            Some(&json!({})),
            &[("X-Baton-Agent", name)],
        );
        assert_eq!(status, expected, "{name}: {answer}");
    }
    let (status, _) = team.send(
        "POST",
        "/api/v1/tasks/T-1/done",
        Some(&claude),
        Some(&json!({})),
    );
    assert_eq!(status, 200);
    // An agent cannot approve its own work.
    let (status, answer) = team.send(
        "POST",
        "/api/v1/tasks/T-1/approve",
        Some(&claude),
        Some(&json!({})),
    );
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reviewer"),
        "{answer}"
    );
    // Nor take the board's settings or delete.
    assert_eq!(
        team.send("DELETE", "/api/v1/tasks/T-1", Some(&claude), None)
            .0,
        403
    );
    // whoami says who and what.
    let (_, me) = team.send("GET", "/api/v1/whoami", Some(&claude), None);
    assert_eq!(
        (
            me["user"].as_str(),
            me["role"].as_str(),
            me["agent"].as_str()
        ),
        (Some("root"), Some("agent"), Some("claude"))
    );
}

#[test]
fn projects_are_apart_a_token_of_one_sees_nothing_of_another() {
    let team = Team::start();
    team.user("root", true);
    let root = team.token("root", None, None, Role::Admin);
    for key in ["web", "api"] {
        let (status, answer) = team.send(
            "POST",
            "/api/v1/projects",
            Some(&root),
            Some(&json!({"key": key})),
        );
        assert_eq!(status, 201, "{answer}");
    }
    let (status, _) = team.send(
        "POST",
        "/api/v1/projects",
        Some(&root),
        Some(&json!({"key": "web"})),
    );
    assert_eq!(status, 409);
    let secret_title = "Rotate the api signing keys";
    let (status, task) = team.send(
        "POST",
        "/api/v1/projects/api/tasks",
        Some(&root),
        Some(&json!({"title": secret_title, "files": ["src/keys/**"]})),
    );
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["id"], "T-1", "ids are per project");
    let (status, doc) = team.send(
        "POST",
        "/api/v1/projects/api/docs",
        Some(&root),
        Some(&json!({"title": "Key rotation", "body": "rotate quarterly", "type": "decision"})),
    );
    assert_eq!(status, 201, "{doc}");
    let (_, found) = team.send(
        "GET",
        "/api/v1/projects/api/docs/search?q=rotate",
        Some(&root),
        None,
    );
    assert!(found.to_string().contains("Key rotation"), "{found}");
    let (status, web_task) = team.send(
        "POST",
        "/api/v1/projects/web/tasks",
        Some(&root),
        Some(&json!({"title": "Landing page"})),
    );
    assert_eq!((status, web_task["id"].as_str()), (201, Some("T-1")));

    let web = team.token("root", Some("web"), None, Role::Maintainer);
    // Every route of api, and the default project's, refuse web's token.
    for path in [
        "/api/v1/projects/api/tasks",
        "/api/v1/projects/api/tasks/T-1",
        "/api/v1/projects/api/board",
        "/api/v1/projects/api/events",
        "/api/v1/projects/api/docs/search?q=rotate",
        "/api/v1/projects/api/reservations",
        "/api/v1/projects/api/settings",
        "/api/v1/projects/api/events/stream",
        "/api/v1/projects/api/whoami",
        "/api/v1/tasks",
        "/api/v1/events",
    ] {
        let (status, answer) = team.send("GET", path, Some(&web), None);
        assert!([403, 404].contains(&status), "{path}: {status} {answer}");
        assert!(!answer.to_string().contains(secret_title), "{path}");
    }
    let (status, _) = team.send(
        "POST",
        "/api/v1/projects/api/tasks",
        Some(&web),
        Some(&json!({"title": "x"})),
    );
    assert!([403, 404].contains(&status));
    // Web's own routes show web only.
    for path in [
        "/api/v1/projects/web/tasks",
        "/api/v1/projects/web/events",
        "/api/v1/projects/web/board",
        "/api/v1/projects/web/docs/search?q=rotate",
        "/api/v1/projects/web/reservations",
    ] {
        let (status, answer) = team.send("GET", path, Some(&web), None);
        assert_eq!(status, 200, "{path}: {answer}");
        let text = answer.to_string();
        assert!(
            !text.contains(secret_title)
                && !text.contains("Key rotation")
                && !text.contains("src/keys"),
            "{path}: {text}"
        );
    }
    let (_, listed) = team.send("GET", "/api/v1/projects", Some(&web), None);
    let keys: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["web"]);
    // The live stream of web carries none of api's events.
    let (status, _, _) = send(
        &team.server.url,
        "GET",
        "/api/v1/projects/web/events/stream",
        Some(&web),
        None,
        &[],
    );
    assert_eq!(status, 200);
    // Each project's storage is its own file.
    assert!(team.server.dir.path().join("projects/api.db").is_file());
    assert!(team.server.dir.path().join("projects/web.db").is_file());
}

#[test]
fn revoked_and_expired_tokens_and_ended_sessions_are_refused() {
    let team = Team::start();
    team.user("root", true);
    let token = team.token("root", None, None, Role::Admin);
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&token), None).0, 200);
    let id = team.instance().list_tokens(None).unwrap()[0].id;
    let (status, revoked) = team.send(
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    let (status, answer) = team.send("GET", "/api/v1/tasks", Some(&token), None);
    assert_eq!(status, 401);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{answer}"
    );

    // Expiry, on the server's clock.
    let short = team
        .instance()
        .create_token(
            "root",
            NewToken {
                name: None,
                project: None,
                agent: None,
                role: Role::Viewer,
                // On the server's clock (it stands still: real time may be seconds on).
                expires_at: Some((team.server.clock.clock())().plus(Duration::from_secs(600))),
            },
        )
        .unwrap()
        .token;
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&short), None).0, 200);
    team.server.clock.advance(Duration::from_secs(601));
    let (status, answer) = team.send("GET", "/api/v1/tasks", Some(&short), None);
    assert_eq!(status, 401, "{answer}");

    // A login session: works until logout, then not, by token or cookie.
    let (status, login, headers) = team.login("root", PASSWORD);
    assert_eq!(status, 200, "{login}");
    let jwt = login["token"].as_str().unwrap().to_string();
    let cookie = headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_string();
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&jwt), None).0, 200);
    let by_cookie = send(
        &team.server.url,
        "GET",
        "/api/v1/tasks",
        None,
        None,
        &[("Cookie", &pair)],
    );
    assert_eq!(by_cookie.0, 200);
    // A write with the cookie needs the page's own origin.
    let origin = team.server.url.clone();
    let bare = send(
        &team.server.url,
        "POST",
        "/api/v1/tasks",
        None,
        Some(&json!({"title": "c"})),
        &[("Cookie", &pair)],
    );
    assert_eq!(bare.0, 403, "{}", bare.1);
    let from_page = send(
        &team.server.url,
        "POST",
        "/api/v1/tasks",
        None,
        Some(&json!({"title": "c"})),
        &[
            ("Cookie", &pair),
            ("Origin", &origin),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    );
    assert_eq!(from_page.0, 201, "{}", from_page.1);
    // A forged or altered session token is refused.
    let mut forged = jwt.clone();
    forged.pop();
    forged.push(if jwt.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        team.send("GET", "/api/v1/tasks", Some(&forged), None).0,
        401
    );
    let (status, _) = team.send("POST", "/api/v1/auth/logout", Some(&jwt), None);
    assert_eq!(status, 204);
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&jwt), None).0, 401);
    let after = send(
        &team.server.url,
        "GET",
        "/api/v1/tasks",
        None,
        None,
        &[("Cookie", &pair)],
    );
    assert_eq!(after.0, 401);
    // Sessions last a day.
    let (_, login, _) = team.login("root", PASSWORD);
    let jwt = login["token"].as_str().unwrap().to_string();
    team.server
        .clock
        .advance(Duration::from_secs(24 * 3600 + 1));
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&jwt), None).0, 401);
    // A disabled user's credentials stop working at once.
    team.user("ann", false);
    team.instance()
        .set_member("root", "default", "ann", Some(Role::Viewer))
        .unwrap();
    let ann = team.token("ann", Some("default"), None, Role::Viewer);
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&ann), None).0, 200);
    let fresh = team.token("root", None, None, Role::Admin);
    let (status, _) = team.send(
        "PATCH",
        "/api/v1/users/ann",
        Some(&fresh),
        Some(&json!({"disabled": true})),
    );
    assert_eq!(status, 200);
    assert_eq!(team.send("GET", "/api/v1/tasks", Some(&ann), None).0, 401);
}

#[test]
fn failed_logins_are_slowed_down_per_user_and_address() {
    let team = Team::start();
    team.user("root", true);
    for attempt in 0..baton_core::instance::FREE_LOGIN_FAILURES + 1 {
        let (status, answer, _) = team.login("root", "not the password");
        assert_eq!(status, 401, "attempt {attempt}: {answer}");
    }
    // Now even the right password waits.
    let (status, answer, headers) = team.login("root", PASSWORD);
    assert_eq!(status, 429, "{answer}");
    assert_eq!(answer["error"]["code"], "rate_limited");
    let retry: u64 = headers
        .iter()
        .find(|(k, _)| k == "retry-after")
        .map(|(_, v)| v.parse().unwrap())
        .expect("Retry-After");
    assert!((1..=300).contains(&retry), "{retry}");
    // The board's clock says when the wait is over (the store keeps the count).
    team.server.clock.advance(Duration::from_secs(retry));
    let (status, _, _) = team.login("root", PASSWORD);
    assert_eq!(status, 200);
    // Failures are recorded, with no password.
    let events = team.board.events(&Default::default()).unwrap();
    let failed = events
        .iter()
        .filter(|e| e.action == "auth.login_failed")
        .count();
    assert_eq!(failed, 4);
}

#[test]
fn the_first_admin_comes_from_the_one_time_setup_code() {
    let team = Team::start();
    let (_, status, _) = send(
        &team.server.url,
        "GET",
        "/api/v1/auth/status",
        None,
        None,
        &[],
    );
    assert_eq!(status["mode"], "team");
    assert_eq!(status["setup_needed"], true);
    let body = |code: &str| json!({"code": code, "name": "root", "password": PASSWORD});
    let (wrong, _, _) = send(
        &team.server.url,
        "POST",
        "/api/v1/auth/setup",
        None,
        Some(&body("guess")),
        &[],
    );
    assert_eq!(wrong, 403);
    let (status, user, _) = send(
        &team.server.url,
        "POST",
        "/api/v1/auth/setup",
        None,
        Some(&body("one-time-setup-code")),
        &[],
    );
    assert_eq!(status, 201, "{user}");
    assert_eq!(user["admin"], true);
    // Once only.
    let (again, _, _) = send(
        &team.server.url,
        "POST",
        "/api/v1/auth/setup",
        None,
        Some(&body("one-time-setup-code")),
        &[],
    );
    assert_eq!(again, 403);
    // Registration is closed until an admin opens it.
    let new = json!({"name": "eve", "password": PASSWORD});
    let (closed, _, _) = send(
        &team.server.url,
        "POST",
        "/api/v1/auth/register",
        None,
        Some(&new),
        &[],
    );
    assert_eq!(closed, 403);
    let (_, login, _) = team.login("root", PASSWORD);
    let jwt = login["token"].as_str().unwrap();
    let (status, _) = team.send(
        "PUT",
        "/api/v1/instance/settings/open_registration",
        Some(jwt),
        Some(&json!({"value": "true"})),
    );
    assert_eq!(status, 200);
    let (open, user, _) = send(
        &team.server.url,
        "POST",
        "/api/v1/auth/register",
        None,
        Some(&new),
        &[],
    );
    assert_eq!(open, 201, "{user}");
    assert_eq!(user["admin"], false);
}

#[test]
fn no_password_or_token_is_kept_in_the_store_or_sent_back() {
    let team = Team::start();
    team.user("root", true);
    let (_, login, _) = team.login("root", PASSWORD);
    let jwt = login["token"].as_str().unwrap().to_string();
    let (status, made) = team.send(
        "POST",
        "/api/v1/tokens",
        Some(&jwt),
        Some(&json!({"project": "default", "agent": "claude", "role": "agent"})),
    );
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("baton_") && token.len() >= 6 + 64);
    team.login("root", "a wrong password given");
    team.send("GET", "/api/v1/tasks", Some(&token), None);
    team.send(
        "GET",
        "/api/v1/tasks",
        Some("baton_not_a_real_token_but_secretish"),
        None,
    );
    let mut seen = String::new();
    for path in [
        "/api/v1/tokens",
        "/api/v1/events?limit=1000",
        "/api/v1/users",
        "/api/v1/profile/me",
    ] {
        let (status, answer) = team.send("GET", path, Some(&jwt), None);
        assert_eq!(status, 200, "{path}: {answer}");
        seen.push_str(&answer.to_string());
    }
    // Errors never echo the credential.
    let (_, refused) = team.send(
        "GET",
        "/api/v1/tasks",
        Some("baton_not_a_real_token_but_secretish"),
        None,
    );
    seen.push_str(&refused.to_string());
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(team.server.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    let stored = String::from_utf8_lossy(&stored).to_string();
    for secret in [
        PASSWORD,
        "a wrong password given",
        &token[6..],
        &jwt,
        "not_a_real_token_but_secretish",
    ] {
        assert!(!seen.contains(secret), "an answer holds a secret");
        assert!(!stored.contains(secret), "the store holds a secret");
    }
    // What the store keeps: an Argon2id hash and a token hash.
    assert!(stored.contains("$argon2id$"));
    assert!(stored.contains(&baton_core::auth::token_hash(&token)));
}

/// A real WebSocket client (Python `websockets`): refused without a credential, then given
/// exactly the stream's events, live and from a resume point.
#[test]
fn the_websocket_carries_the_streams_events_with_the_same_auth_and_resume() {
    let Some(python) = support::tool_python() else {
        return;
    };
    let team = Team::start();
    team.user("root", true);
    let token = team.token("root", None, None, Role::Admin);
    team.send(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({"title": "Before"})),
    );
    let ws = team.server.url.replacen("http://", "ws://", 1);
    let script = r#"
import json, sys
from websockets.sync.client import connect
from websockets.exceptions import InvalidStatus
url, token = sys.argv[1], sys.argv[2]
try:
    connect(url + "/api/v1/events/ws").close()
    print(json.dumps({"refused": None}), flush=True)
except InvalidStatus as e:
    print(json.dumps({"refused": e.response.status_code}), flush=True)
headers = {"Authorization": "Bearer " + token}
with connect(url + "/api/v1/events/ws?after=0", additional_headers=headers) as resumed:
    print(json.dumps({"resumed": [json.loads(resumed.recv(timeout=10)) for _ in range(2)]}), flush=True)
with connect(url + "/api/v1/events/ws?action=task.", additional_headers=headers) as live:
    print(json.dumps({"ready": json.loads(live.recv(timeout=10))}), flush=True)
    sys.stdin.readline()
    print(json.dumps({"live": json.loads(live.recv(timeout=10))}), flush=True)
"#;
    use std::io::{BufRead, Write};
    let mut child = std::process::Command::new(python)
        .args(["-c", script, &ws, &token])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || -> Value { serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap() };
    assert_eq!(next()["refused"], 401);
    let resumed = next();
    assert_eq!(resumed["resumed"][0]["ready"], 0, "{resumed}");
    assert_eq!(resumed["resumed"][1]["id"], 1, "{resumed}");
    assert_eq!(
        resumed["resumed"][1]["action"], "project.created",
        "{resumed}"
    );
    let ready = next();
    let start = ready["ready"]["ready"].as_u64().expect("a ready message");
    team.send(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({"title": "Live"})),
    );
    writeln!(child.stdin.as_mut().unwrap()).unwrap();
    let live = next();
    assert_eq!(live["live"]["action"], "task.created", "{live}");
    assert!(live["live"]["id"].as_u64().unwrap() > start, "{live}");
    assert!(live["live"].to_string().contains("Live"), "{live}");
    assert!(child.wait().unwrap().success());
}
