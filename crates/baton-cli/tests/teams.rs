//! Team mode from the command line: the first admin on the server's machine, projects,
//! members, tokens (shown once, bound to an agent, revoked), `baton login` keeping its
//! session in a file only the user can read, `whoami`, and clear errors with their exit
//! codes (6 not logged in, 7 not allowed).

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use serde_json::Value;
use support::{command_in, Foreground, Run, Sandbox, PASSWORD};

/// `baton ARGS` against the server at `url` with `token` (if any) and `env`.
fn remote(s: &Sandbox, url: &str, token: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = command_in(s.path(), args);
    cmd.env("BATON_URL", url).envs(env.iter().copied());
    if let Some(t) = token {
        cmd.env("BATON_TOKEN", t);
    }
    support::finish(cmd.output().unwrap())
}

fn with_stdin(s: &Sandbox, args: &[&str], env: &[(&str, &str)], input: &str) -> Run {
    let mut cmd = command_in(s.path(), args);
    cmd.envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{input}").unwrap();
    support::finish(child.wait_with_output().unwrap())
}

#[test]
fn a_team_is_set_up_from_the_command_line() {
    let s = Sandbox::project();
    // The first admin, on the server's machine (the store directly).
    let root = with_stdin(
        &s,
        &["user", "add", "root", "--admin", "--password-stdin"],
        &[],
        PASSWORD,
    )
    .ok()
    .json();
    assert_eq!(root["admin"], true);
    // A short password is refused before anything is written.
    with_stdin(
        &s,
        &["user", "add", "maya", "--password-stdin"],
        &[],
        "short",
    )
    .fails(2, "invalid_input");
    with_stdin(
        &s,
        &["user", "add", "maya", "--password-stdin"],
        &[],
        "maya's long password",
    )
    .ok();
    with_stdin(
        &s,
        &["user", "add", "maya", "--password-stdin"],
        &[],
        "maya's long password",
    )
    .fails(4, "user_exists");
    let users = s.run(&["user", "list"]).ok().json();
    assert_eq!(users.as_array().unwrap().len(), 2);
    assert!(!users.to_string().contains("argon2"), "no hash is listed");
    s.run(&["project", "create", "web", "--name", "Web shop"])
        .ok();
    s.run(&["project", "create", "web"])
        .fails(4, "project_exists");
    s.run(&["project", "create", "Not A Key"])
        .fails(2, "invalid_input");
    assert!(s.path().join(".baton/projects/web.db").is_file());
    s.run(&["project", "member", "web", "maya", "--role", "maintainer"])
        .ok();
    s.run(&["project", "member", "web", "maya", "--role", "owner"])
        .fails(2, "invalid_input");
    let shown = s.run(&["project", "show", "web"]).ok().json();
    assert_eq!(shown["members"][0]["role"], "maintainer", "{shown}");
    // The project's own board, locally: its own ids.
    s.run(&["--project", "web", "task", "add", "--title", "Landing page"])
        .ok();
    let listed = s.run(&["task", "list", "--project", "web"]).ok().json();
    assert_eq!(listed[0]["id"], "T-1");
    assert!(s
        .run(&["task", "list"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    s.run(&["--project", "nope", "task", "list"])
        .fails(3, "project_not_found");

    let server = Foreground::start(&s, &[]);
    let url = server.url.clone();
    // No credential: exit 6 with the way in.
    let refused = remote(&s, &url, None, &[], &["task", "list"]).fails(6, "unauthenticated");
    assert!(refused.stderr.contains("baton login"), "{}", refused.stderr);
    // maya logs in; the session is kept in a file only she can read.
    let login = with_stdin(
        &s,
        &["login", &url, "--name", "maya", "--password-stdin"],
        &[],
        "maya's long password",
    )
    .ok()
    .json();
    let stored = std::path::PathBuf::from(login["stored"].as_str().unwrap());
    assert!(stored.starts_with(s.path()), "{stored:?}");
    let mode = std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    let me = remote(&s, &url, None, &[("BATON_PROJECT", "web")], &["whoami"])
        .ok()
        .json();
    assert_eq!(
        (me["user"].as_str(), me["role"].as_str()),
        (Some("maya"), Some("maintainer")),
        "{me}"
    );
    let me = remote(&s, &url, None, &[], &["whoami"]).ok().json();
    assert_eq!(me["role"], Value::Null, "no role in the default project");
    remote(&s, &url, None, &[], &["task", "list"]).fails(7, "forbidden");
    // A maintainer makes an agent token for web; it works there, as its agent only.
    let made = remote(
        &s,
        &url,
        None,
        &[("BATON_PROJECT", "web")],
        &[
            "token",
            "create",
            "--agent",
            "claude",
            "--role",
            "agent",
            "--expires",
            "30d",
        ],
    )
    .ok()
    .json();
    let token = made["token"].as_str().unwrap().to_string();
    assert_eq!(
        (made["agent"].as_str(), made["project"].as_str()),
        (Some("claude"), Some("web"))
    );
    remote(
        &s,
        &url,
        None,
        &[("BATON_PROJECT", "web")],
        &["token", "create", "--role", "admin"],
    )
    .fails(7, "forbidden");
    let web = [("BATON_PROJECT", "web")];
    let picked = remote(&s, &url, Some(&token), &web, &["task", "pickup"])
        .ok()
        .json();
    assert_eq!(picked["task"]["assignee"], "claude");
    remote(
        &s,
        &url,
        Some(&token),
        &[("BATON_PROJECT", "web"), ("BATON_AGENT", "codex")],
        &["heartbeat"],
    )
    .fails(7, "forbidden");
    remote(&s, &url, Some(&token), &web, &["task", "approve", "T-1"]).fails(7, "forbidden");
    let tokens = remote(&s, &url, None, &web, &["token", "list", "--project", "web"])
        .ok()
        .json();
    assert!(
        !tokens.to_string().contains(&token[6..]),
        "a listing never shows a secret"
    );
    let id = tokens[0]["id"].as_u64().unwrap().to_string();
    remote(&s, &url, None, &web, &["token", "revoke", &id]).ok();
    remote(&s, &url, Some(&token), &web, &["task", "list"]).fails(6, "unauthenticated");
    // Logging out ends the session on the server too.
    remote(&s, &url, None, &[], &["logout"]).ok();
    remote(&s, &url, None, &web, &["task", "list"]).fails(6, "unauthenticated");
    let log = server.terminate();
    for secret in [token.as_str(), PASSWORD, "maya's long password"] {
        assert!(!log.contains(secret), "the server's log holds a secret");
    }
}

/// Moving a team to PostgreSQL: `baton migrate` carries users and tokens with the default
/// project, and `--project` moves another project into its own schema; the server on the
/// database then takes the same token and serves both projects.
#[test]
fn migrate_carries_the_team_and_each_project_to_postgres() {
    let Some(database) = baton_postgres::testing::TestDatabase::create() else {
        return;
    };
    let s = Sandbox::project();
    let token = support::admin_token(s.path(), &[]);
    s.run(&["project", "create", "web"]).ok();
    s.run(&["task", "add", "--title", "Default work"]).ok();
    s.run(&["--project", "web", "task", "add", "--title", "Web work"])
        .ok();
    let moved = s.run(&["migrate", "--to", database.url()]).ok().json();
    assert_eq!(moved["rows"]["users"], 1, "{moved}");
    assert_eq!(moved["rows"]["api_tokens"], 1, "{moved}");
    s.run(&["--project", "web", "migrate", "--to", database.url()])
        .ok();
    let elsewhere = Sandbox::project();
    let server = Foreground::start(&elsewhere, &["--database", database.url()]);
    let listed = remote(
        &elsewhere,
        &server.url,
        Some(&token),
        &[],
        &["task", "list"],
    )
    .ok()
    .json();
    assert_eq!(listed[0]["title"], "Default work", "{listed}");
    let listed = remote(
        &elsewhere,
        &server.url,
        Some(&token),
        &[("BATON_PROJECT", "web")],
        &["task", "list"],
    )
    .ok()
    .json();
    assert_eq!(listed[0]["title"], "Web work", "{listed}");
    let projects = remote(
        &elsewhere,
        &server.url,
        Some(&token),
        &[],
        &["project", "list"],
    )
    .ok()
    .json();
    assert_eq!(projects.as_array().unwrap().len(), 2, "{projects}");
    server.terminate();
}

#[test]
fn failed_logins_count_on_every_server_of_the_store_and_across_restarts() {
    let s = Sandbox::project();
    with_stdin(
        &s,
        &["user", "add", "root", "--admin", "--password-stdin"],
        &[],
        PASSWORD,
    )
    .ok();
    let login = |url: &str, password: &str| {
        with_stdin(
            &s,
            &["login", url, "--name", "root", "--password-stdin"],
            &[],
            password,
        )
    };
    // Two servers on one store, as behind a load balancer (the second one runs beside the
    // first, which the project's commands keep using).
    let one = Foreground::start(&s, &[]);
    let two = Beside::start(&s);
    for _ in 0..=baton_core::instance::FREE_LOGIN_FAILURES {
        login(&one.url, "not the password").fails(6, "unauthenticated");
    }
    // The other server makes the next attempt wait, right password or not, and so does
    // the first one after a restart.
    let waited = login(&two.url, PASSWORD).fails(8, "rate_limited");
    assert!(waited.stderr.contains("wait 1 s"), "{}", waited.stderr);
    drop(one);
    let one = Foreground::start(&s, &[]);
    login(&one.url, PASSWORD).fails(8, "rate_limited");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    login(&two.url, PASSWORD).ok();
    // The success cleared the count: one wrong password is just wrong again.
    login(&one.url, "not the password").fails(6, "unauthenticated");
    login(&one.url, PASSWORD).ok();
}

/// A second `baton serve` on a project, beside the one `server.json` names.
struct Beside {
    child: std::process::Child,
    url: String,
}

impl Beside {
    fn start(s: &Sandbox) -> Beside {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = command_in(s.path(), &["serve", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let client = baton_client::Client::new(&url, None).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while client.health().is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the second server did not come up"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Beside { child, url }
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
