//! The MCP tools through a real MCP client: the official Python SDK (`mcp`, in the test
//! virtualenv that `.ci/run` creates) drives `baton mcp` over stdio and `/mcp` on a real
//! `baton serve` over streamable HTTP, on a board imported from a real codepakt project.
//! The token budget is measured with a real tokenizer (o200k).

mod support;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use serde_json::{json, Value};
use support::{tool_python, Foreground, Sandbox, BIN};

const AGENT: &str = "claude-1";

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/codepakt/snake-game.data.db")
}

/// A project with the snake-game board imported (done tasks, docs, agents), one more
/// task shaped like its longest one (open, depending on a done task), a decision doc,
/// and a scanned code index.
fn project() -> Sandbox {
    let s = Sandbox::new();
    s.run(&["init"]).ok();
    let dir = s.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(fixture(), dir.join("data.db")).unwrap();
    let mut perms = std::fs::metadata(dir.join("data.db"))
        .unwrap()
        .permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(dir.join("data.db"), perms).unwrap();
    s.run(&["import", "codepakt", "old/data.db"]).ok();
    let tasks = s.run(&["task", "list", "--limit", "0"]).ok().json();
    let longest = tasks
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|t| t["description"].as_str().unwrap_or("").len())
        .unwrap()
        .clone();
    let batch = json!([{
        "title": format!("{} (second pass)", longest["title"].as_str().unwrap()),
        "description": longest["description"],
        "priority": "P0",
        "epic": longest["epic"],
        "verify": longest["verify"],
        "acceptance_criteria": longest["acceptance_criteria"],
        "files": ["game/board.py", "game/render.py"],
        "depends_on": [longest["id"]],
    }]);
    s.write("batch.json", &batch.to_string());
    s.run(&["task", "add", "--batch", "batch.json"]).ok();
    s.run(&[
        "docs",
        "write",
        "--type",
        "decision",
        "--title",
        "Grid size",
        "--body",
        "The board is a 20x20 grid; cells are squares drawn with CSS grid.",
    ])
    .ok();
    std::fs::create_dir_all(s.path().join("game")).unwrap();
    s.write(
        "game/board.py",
        "class Board:\n    \"\"\"The grid.\"\"\"\n\n    def move_snake(self, direction):\n        return direction\n",
    );
    s.write(
        "game/render.py",
        "from game.board import Board\n\ndef draw(board: Board):\n    pass\n",
    );
    s.write("game/__init__.py", "");
    s.run(&["scan"]).ok();
    s
}

/// Runs the Python SDK client with `plan`; returns its report.
/// Runs `cmd` with `input` on its standard input; its output, once it ended.
fn fed(mut cmd: std::process::Command, input: &[u8]) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn drive(python: &PathBuf, plan: Value) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp_client.py");
    let mut cmd = std::process::Command::new(python);
    cmd.arg(script);
    let out = fed(cmd, plan.to_string().as_bytes());
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stdio_plan(s: &Sandbox, calls: Value) -> Value {
    json!({
        "transport": "stdio",
        "command": BIN,
        "cwd": s.path(),
        "env": {"BATON_AGENT": AGENT, "PATH": std::env::var("PATH").unwrap_or_default()},
        "calls": calls,
    })
}

fn tokens(text: &str) -> usize {
    // Loading the vocabulary takes a while: once per test binary.
    static O200K: std::sync::OnceLock<tiktoken_rs::CoreBPE> = std::sync::OnceLock::new();
    O200K
        .get_or_init(|| tiktoken_rs::o200k_base().unwrap())
        .encode_with_special_tokens(text)
        .len()
}

/// The call results, by tool, in order; the text parsed as JSON.
fn results(report: &Value) -> Vec<(String, bool, Value)> {
    report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let text = c["text"].as_str().unwrap();
            let value = serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", c["tool"]));
            (
                c["tool"].as_str().unwrap().to_string(),
                c["is_error"].as_bool().unwrap(),
                value,
            )
        })
        .collect()
}

fn new_task_id(s: &Sandbox) -> String {
    let open = s.run(&["task", "list", "--status", "open"]).ok().json();
    open[0]["id"].as_str().unwrap().to_string()
}

/// The whole flow an agent goes through, and its errors, over stdio.
#[test]
fn stdio_tools_serve_the_python_sdk_with_compact_replies_and_tool_errors() {
    let Some(python) = tool_python() else { return };
    let s = project();
    let id = new_task_id(&s);
    let report = drive(
        &python,
        stdio_plan(
            &s,
            json!([
                ["pickup", {}],
                ["heartbeat", {}],
                ["reserve", {"globs": ["styles/**"]}],
                ["docs", {"q": "grid"}],
                ["code", {"op": "symbols", "name": "move"}],
                ["code", {"op": "dependents", "file": "game/board.py"}],
                ["note", {"id": id, "text": "grid drawn"}],
                ["done", {"id": id, "notes": "second pass finished"}],
                // Errors: each is a tool error the model can read, and the session goes on.
                ["done", {"id": "T-9999"}],
                ["done", {"id": id}],
                ["pickup", {"id": 12.5}],
                ["task", {"id": id, "colour": "red"}],
                ["code", {"op": "grep"}],
                ["nonexistent", {}],
                ["task", {"id": id}],
            ]),
        ),
    );
    assert_eq!(report["server"], "baton");
    let names: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for needed in [
        "pickup",
        "task",
        "task_add",
        "task_update",
        "done",
        "block",
        "note",
        "heartbeat",
        "reserve",
        "docs",
        "doc_write",
        "ask",
        "inbox",
        "answer",
        "code",
    ] {
        assert!(names.contains(&needed), "{needed} missing from {names:?}");
    }

    let r = results(&report);
    let (_, failed, picked) = &r[0];
    assert!(!failed, "{picked}");
    assert_eq!(picked["id"], id.as_str());
    assert!(picked["fence"].as_u64().unwrap() >= 1);
    assert!(picked["lease_expires_at"].is_string());
    assert!(picked["description"].as_str().unwrap().len() > 100);
    // Compact: no nulls, no empty lists, the claim not repeated, no history timestamps.
    let text = report["calls"][0]["text"].as_str().unwrap();
    for absent in ["null", "[]", "claim", "created_at", "deps_met", "assignee"] {
        assert!(!text.contains(absent), "pickup reply has {absent}: {text}");
    }
    assert_eq!(
        r[1].2["tasks"][0]["id"],
        id.as_str(),
        "heartbeat: {}",
        r[1].2
    );
    assert_eq!(r[2].2["reserved"][0]["glob"], "styles/**");
    assert_eq!(r[3].2[0]["title"], "Grid size", "docs: {}", r[3].2);
    assert_eq!(r[4].2[0]["name"], "move_snake", "code symbols: {}", r[4].2);
    assert_eq!(r[4].2[0]["container"], "Board");
    assert_eq!(
        r[5].2[0]["file"], "game/render.py",
        "dependents: {}",
        r[5].2
    );
    assert_eq!(r[6].2["notes"], 1);
    assert_eq!(r[7].2, json!({"id": id, "status": "review"}));

    let errors: Vec<(&str, &str)> = r[8..14]
        .iter()
        .map(|(tool, failed, v)| {
            assert!(failed, "{tool} should fail: {v}");
            assert!(v["message"].is_string() && v["hint"].is_string(), "{v}");
            (tool.as_str(), v["error"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("done", "task_not_found"),
            ("done", "invalid_transition"),
            ("pickup", "invalid_input"),
            ("task", "invalid_input"),
            ("code", "invalid_input"),
            ("nonexistent", "unknown_tool"),
        ]
    );
    // Hints name the tools to call, not the CLI commands core's errors name.
    assert_eq!(r[8].2["hint"], "list tasks with `task`");
    for (tool, _, v) in &r[8..14] {
        let hint = v["hint"].as_str().unwrap();
        assert!(!hint.contains("`baton task"), "{tool}: {hint}");
    }
    // After the errors the session still answers, and the board holds what the tools did.
    let (_, failed, task) = &r[14];
    assert!(!failed);
    assert_eq!(task["status"], "review");
    let notes: Vec<&str> = task["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert!(notes.contains(&"grid drawn"), "{notes:?}");
    let shown = s.run(&["task", "show", &id]).ok().json();
    assert_eq!(shown["status"], "review");
    let reservations = s.run(&["reservations"]).ok().json();
    assert!(
        reservations.to_string().contains("styles/**"),
        "{reservations}"
    );
}

/// The agent is named by a tool argument when the client sets no BATON_AGENT, and a
/// tool that acts for an agent says so when none is known.
#[test]
fn identity_comes_from_an_argument_when_the_environment_has_none() {
    let Some(python) = tool_python() else { return };
    let s = project();
    let mut plan = stdio_plan(
        &s,
        json!([
            ["pickup", {}],
            ["pickup", {"agent": "codex-2"}],
            ["ask", {"to": "human", "text": "Which colour is the snake?", "agent": "codex-2"}],
            ["inbox", {"agent": "codex-2"}],
        ]),
    );
    plan["env"] = json!({"PATH": std::env::var("PATH").unwrap_or_default()});
    let r = results(&drive(&python, plan));
    assert!(r[0].1);
    assert_eq!(r[0].2["error"], "agent_required", "{}", r[0].2);
    assert!(!r[1].1, "{}", r[1].2);
    let agents = s.run(&["agents"]).ok().json();
    assert!(agents.to_string().contains("codex-2"), "{agents}");
    assert!(
        r[2].2["id"].as_str().unwrap().starts_with("M-"),
        "{}",
        r[2].2
    );
    let asked = s.run(&["inbox", "--agent", "human"]).ok().json();
    assert!(asked.to_string().contains("Which colour"), "{asked}");
}

/// `ask` with `wait` returns the answer that another process gives meanwhile.
#[test]
fn ask_waits_for_the_answer_from_another_process() {
    let Some(python) = tool_python() else { return };
    let s = Sandbox::project();
    let dir = s.path().to_path_buf();
    let answerer = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            let inbox = support::run_in(&dir, &["inbox", "--agent", "human"])
                .ok()
                .json();
            if let Some(id) = inbox[0]["id"].as_str() {
                support::run_in(&dir, &["answer", id, "Green.", "--agent", "human"]).ok();
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        false
    });
    let r = results(&drive(
        &python,
        stdio_plan(
            &s,
            json!([["ask", {"to": "human", "text": "Which colour is the snake?", "wait": 30}]]),
        ),
    ));
    assert!(
        answerer.join().unwrap(),
        "the question never reached the inbox"
    );
    assert!(!r[0].1, "{}", r[0].2);
    assert_eq!(r[0].2["answer"]["body"], "Green.", "{}", r[0].2);
    assert_eq!(r[0].2["answer"]["from"], "human");
}

/// A JSON-RPC `initialize` sent by hand: the server's raw answer, headers included.
fn raw_post(url: &str, path: &str, token: Option<&str>) -> String {
    use std::io::Read;
    let address = url.trim_start_matches("http://");
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// `/mcp` on a team server: the SDK connects with a token and is refused without one; each
/// tool call is checked against the token's role, and a token bound to an agent acts only
/// as that agent.
#[test]
fn a_team_server_takes_the_sdk_with_a_token_and_refuses_it_without() {
    let Some(python) = tool_python() else { return };
    let s = project();
    let id = new_task_id(&s);
    support::admin_token(s.path(), &[]);
    let token = |args: &[&str]| {
        let mut all = vec!["token", "create", "--json"];
        all.extend_from_slice(args);
        s.run(&all).ok().json()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let agent = token(&["--agent", AGENT, "--role", "agent"]);
    let viewer = token(&["--role", "viewer"]);
    let server = Foreground::start(&s, &[]);
    let url = format!("{}/mcp", server.url);
    let plan = |token: Option<&str>, calls: Value| json!({"transport": "http", "url": url, "token": token, "mode": "legacy", "calls": calls});
    for bad in [None, Some("baton_00000000")] {
        let report = drive(&python, plan(bad, json!([["task", {}]])));
        assert!(report["connect_error"].is_string(), "{report}");
        // What the server answered: 401, pointing at its protected-resource metadata.
        let answer = raw_post(&server.url, "/mcp", bad);
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        assert!(
            answer
                .to_lowercase()
                .contains("www-authenticate: bearer realm=\"baton\", resource_metadata=\"http://")
                && answer.contains("/.well-known/oauth-protected-resource"),
            "{answer}"
        );
    }
    let r = results(&drive(
        &python,
        plan(
            Some(&agent),
            json!([
                ["pickup", {"agent": "codex"}],
                ["pickup", {}],
                ["done", {"id": id, "notes": "with a token"}],
            ]),
        ),
    ));
    assert!(r[0].1, "another agent's name is refused: {}", r[0].2);
    assert_eq!(r[0].2["error"], "forbidden", "{}", r[0].2);
    assert!(!r[1].1, "{}", r[1].2);
    assert_eq!(r[1].2["id"], id.as_str(), "{}", r[1].2);
    assert!(!r[2].1, "{}", r[2].2);
    let r = results(&drive(
        &python,
        plan(Some(&viewer), json!([["task", {"id": id}], ["pickup", {}]])),
    ));
    assert!(!r[0].1, "a viewer reads: {}", r[0].2);
    assert!(r[1].1, "a viewer does not pick up: {}", r[1].2);
    assert_eq!(r[1].2["error"], "forbidden", "{}", r[1].2);
    let shown = s.run(&["task", "show", &id]).ok().json();
    assert_eq!(shown["assignee"], AGENT);
    server.terminate();
}

/// `/mcp` on `baton serve`: the same tools over streamable HTTP, the agent named by the
/// X-Baton-Agent header, in both of the SDK's connection modes.
#[test]
fn the_server_offers_the_tools_over_streamable_http() {
    let Some(python) = tool_python() else { return };
    let s = project();
    let id = new_task_id(&s);
    let server = Foreground::start(&s, &[]);
    let url = format!("{}/mcp", server.url);
    for mode in ["legacy", "auto"] {
        // The first session claims and finishes the task; the second finds nothing ready.
        let report = drive(
            &python,
            json!({
                "transport": "http", "url": url, "agent": AGENT, "mode": mode,
                "calls": [
                    ["pickup", {}],
                    ["docs", {"q": "squares"}],
                    ["code", {"op": "symbols", "name": "=Board"}],
                    ["done", {"id": id, "notes": "over HTTP"}],
                    ["done", {"id": "T-0"}],
                ],
            }),
        );
        assert_eq!(report["tools"].as_array().unwrap().len(), 16, "{mode}");
        let r = results(&report);
        if mode == "legacy" {
            assert_eq!(r[0].2["id"], id.as_str(), "{}", r[0].2);
            assert_eq!(r[3].2["status"], "review", "{}", r[3].2);
        } else {
            assert!(r[0].1, "{}", r[0].2);
            assert!(r[3].1, "{}", r[3].2);
        }
        assert_eq!(r[1].2[0]["title"], "Grid size", "{}", r[1].2);
        assert_eq!(r[2].2[0]["kind"], "class", "{}", r[2].2);
        assert!(r[4].1);
        assert_eq!(r[4].2["error"], "invalid_input", "{}", r[4].2);
    }
    let shown = s.run(&["task", "show", &id]).ok().json();
    assert!(shown.to_string().contains("over HTTP"), "{shown}");
    assert_eq!(shown["assignee"], AGENT);

    // Over stdio with BATON_URL, the tools act through that server, even from a directory
    // that holds no project.
    let elsewhere = Sandbox::new();
    let mut plan = stdio_plan(
        &elsewhere,
        json!([["task_add", {"title": "Through the server"}]]),
    );
    plan["env"]["BATON_URL"] = json!(server.url);
    let r = results(&drive(&python, plan));
    assert!(!r[0].1, "{}", r[0].2);
    let client = baton_client::Client::new(&server.url, None).unwrap();
    let added: baton_core::TaskId = r[0].2["id"].as_str().unwrap().parse().unwrap();
    use baton_core::api::Api;
    assert_eq!(client.get_task(added).unwrap().title, "Through the server");
    server.terminate();
}

/// The tool list costs at most 2,000 tokens of context and a pickup reply at most 300,
/// measured with the o200k tokenizer on what the client received. Prints the CLI's cost
/// for the same operations, for docs/PERFORMANCE.md.
#[test]
fn the_tool_list_and_a_pickup_reply_fit_the_token_budget() {
    let Some(python) = tool_python() else { return };
    let mcp = project();
    let cli = project();
    let id = new_task_id(&mcp);
    let report = drive(
        &python,
        stdio_plan(
            &mcp,
            json!([
                ["pickup", {}],
                ["docs", {"q": "grid"}],
                ["code", {"op": "symbols", "name": "Board"}],
                ["done", {"id": id, "notes": "finished"}],
            ]),
        ),
    );
    let listed = json!({"tools": report["tools"]}).to_string();
    let list_tokens = tokens(&listed);
    let mcp_tokens: Vec<usize> = report["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| tokens(c["text"].as_str().unwrap()))
        .collect();
    let as_agent = |args: &[&str]| {
        let out = cli.as_agent(AGENT, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        tokens(&out.stdout)
    };
    let cli_tokens = [
        as_agent(&["task", "pickup", "--json"]),
        as_agent(&["docs", "search", "grid", "--json"]),
        as_agent(&["code", "symbols", "--name", "Board", "--json"]),
        as_agent(&["task", "done", &id, "--notes", "finished", "--json"]),
    ];
    let help = support::run_in(cli.path(), &["--help"]).ok();
    println!(
        "tokens (o200k): tools/list {list_tokens}; MCP replies pickup/docs/code/done {mcp_tokens:?}; \
         CLI --json output for the same {cli_tokens:?}; `baton --help` {}",
        tokens(&help.stdout)
    );
    assert!(list_tokens <= 2_000, "tools/list is {list_tokens} tokens");
    assert!(
        mcp_tokens[0] <= 300,
        "a pickup reply is {} tokens",
        mcp_tokens[0]
    );
    assert!(
        mcp_tokens[0] < cli_tokens[0],
        "the MCP pickup reply ({}) should be smaller than the CLI's ({})",
        mcp_tokens[0],
        cli_tokens[0]
    );
}

/// `baton generate` writes the protocol, adds its block to the user's own CLAUDE.md and
/// AGENTS.md without touching the rest, is idempotent, and `--check` finds stale files.
/// The Claude Code configuration it prints starts a server the SDK can use.
#[test]
fn generate_writes_the_protocol_and_a_configuration_that_works() {
    let s = Sandbox::project();
    let mine = "# House rules\n\nTabs, not spaces.\n";
    s.write("CLAUDE.md", mine);
    s.run(&["generate", "--check"])
        .fails(4, "generated_files_stale");
    let report = s.run(&["generate"]).ok().json();
    let states: Vec<(&str, &str)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            (".baton/AGENTS.md", "created"),
            (".baton/CLAUDE.md", "created"),
            (".cursor/rules/baton.mdc", "created"),
            ("CLAUDE.md", "updated"),
            ("AGENTS.md", "created"),
        ]
    );
    let claude = std::fs::read_to_string(s.path().join("CLAUDE.md")).unwrap();
    assert!(claude.starts_with(mine), "{claude}");
    assert_eq!(claude.matches("@.baton/CLAUDE.md").count(), 1, "{claude}");
    let protocol = std::fs::read_to_string(s.path().join(".baton/CLAUDE.md")).unwrap();
    for step in [
        "pickup",
        "heartbeat",
        "reserve",
        "code",
        "docs",
        "ask",
        "done",
        "inbox",
    ] {
        assert!(protocol.contains(&format!("`{step}`")), "{step} missing");
    }
    println!("tokens (o200k): .baton/CLAUDE.md {}", tokens(&protocol));
    assert!(
        tokens(&protocol) <= 800,
        "the protocol costs {} tokens",
        tokens(&protocol)
    );

    // Again: nothing changes, and the user's later edits outside the block stay.
    let again = s.run(&["generate"]).ok().json();
    assert!(again["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["state"] == "current"));
    let edited = claude.clone() + "\nMore rules.\n";
    s.write("CLAUDE.md", &edited);
    s.run(&["generate", "--check"]).ok();
    // A file from another version (or edited by hand) is stale; generate repairs it.
    let agents = s.path().join(".baton/AGENTS.md");
    let old = std::fs::read_to_string(&agents)
        .unwrap()
        .replace(env!("CARGO_PKG_VERSION"), "0.0.1");
    std::fs::write(&agents, old).unwrap();
    let stale = s
        .run(&["generate", "--check"])
        .fails(4, "generated_files_stale");
    assert!(
        stale.stderr.contains(".baton/AGENTS.md (stale)"),
        "{}",
        stale.stderr
    );
    s.run(&["generate"]).ok();
    s.run(&["generate", "--check"]).ok();
    assert_eq!(
        std::fs::read_to_string(s.path().join("CLAUDE.md")).unwrap(),
        edited
    );

    let codex = report["mcp"]["codex"]["config"].as_str().unwrap();
    let parsed: toml::Table = codex.parse().unwrap();
    assert_eq!(
        parsed["mcp_servers"]["baton"]["args"][0].as_str(),
        Some("mcp")
    );
    let Some(python) = tool_python() else { return };
    let server = &report["mcp"]["claude_code"]["config"]["mcpServers"]["baton"];
    assert_eq!(server["args"], json!(["mcp"]));
    let mut env = server["env"].clone();
    env["PATH"] = json!(std::env::var("PATH").unwrap_or_default());
    let listed = drive(
        &python,
        json!({
            "transport": "stdio", "command": server["command"], "cwd": s.path(), "env": env,
            "calls": [["heartbeat", {}]],
        }),
    );
    assert_eq!(listed["tools"].as_array().unwrap().len(), 16);
    assert!(
        !listed["calls"][0]["is_error"].as_bool().unwrap(),
        "{listed}"
    );
}

/// The `plan` tool: an agent in a plan task proposes phases over MCP, a person accepts on
/// the command line, the agent reads the phase and comments on it, and its next pickup
/// carries the summary of the task it depends on.
#[test]
fn an_agent_plans_and_reviews_through_the_plan_tool() {
    let Some(python) = tool_python() else { return };
    let s = Sandbox::new();
    s.run(&["init"]).ok();
    s.run(&["initiative", "add", "Dark mode", "--no-approval"])
        .ok();
    let plan = json!({"phases": [{"key": "theme", "name": "Theme tokens",
        "tasks": [{"key": "a", "title": "colour tokens"},
                  {"title": "apply tokens", "depends_on": ["a"]}]}]})
    .to_string();
    let r = results(&drive(
        &python,
        stdio_plan(
            &s,
            json!([
                ["plan", {"op": "propose", "initiative": "I-1", "target": "plan",
                          "title": "One phase", "content": plan}],
                ["plan", {"op": "propose", "initiative": "I-1", "target": "plan",
                          "title": "broken", "content": "{not json"}],
                ["plan", {"op": "flip"}],
            ]),
        ),
    ));
    assert!(!r[0].1, "{}", r[0].2);
    assert_eq!(r[0].2, json!({"id": "PR-1", "status": "pending"}));
    assert!(r[1].1 && r[1].2["error"] == "invalid_input", "{}", r[1].2);
    assert!(r[2].1, "{}", r[2].2);
    s.run(&["proposal", "accept", "PR-1"]).ok();

    let r = results(&drive(
        &python,
        stdio_plan(
            &s,
            json!([
                ["plan", {"op": "phases", "initiative": "I-1"}],
                ["pickup", {"category": "execute"}],
                ["done", {"id": "T-1", "summary": "tokens live in theme.css"}],
                ["pickup", {}],
                ["plan", {"op": "comment", "phase": "P-1", "file": "theme.css",
                          "line": 4, "body": "contrast is too low"}],
                ["plan", {"op": "phase", "id": "P-1"}],
            ]),
        ),
    ));
    for (tool, error, value) in &r {
        assert!(!error, "{tool}: {value}");
    }
    assert_eq!(r[0].2[0]["id"], "P-1");
    assert_eq!(r[0].2[0]["open"], true);
    assert_eq!(r[1].2["id"], "T-1");
    assert_eq!(r[3].2["id"], "T-2");
    assert_eq!(r[3].2["context"][0]["summary"], "tokens live in theme.css");
    assert_eq!(r[4].2["id"], "C-1");
    assert_eq!(r[5].2["comments"][0]["body"], "contrast is too low");
    assert_eq!(r[5].2["tasks"].as_array().unwrap().len(), 2);
}

/// `BATON_AGENT=claude-*`: each session's `baton mcp` claims its own name, sessions running
/// at once never share one, a freed name is reused, and the commands a session runs (its
/// shell tool, its hooks) act as that session without any configuration.
#[test]
fn each_session_gets_its_own_identity_and_its_commands_share_it() {
    let s = project();
    // A "session": a shell that starts `baton mcp` (kept alive by an open stdin) and then
    // runs a command the way a client's shell tool would, with no BATON_AGENT.
    let session = |hold: &str| {
        let script = format!(
            "sleep {hold} | BATON_AGENT='claude-*' '{BIN}' mcp >/dev/null 2>&1 &
             for i in $(seq 1 100); do
               if out=$('{BIN}' heartbeat --json 2>/dev/null); then echo \"$out\"; break; fi
               sleep 0.05
             done
             wait"
        );
        std::process::Command::new("sh")
            .args(["-c", &script])
            .current_dir(s.path())
            .env_remove("BATON_AGENT")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let agent_of = |child: std::process::Child| -> String {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let beat: Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("{text}"));
        beat["agent"].as_str().unwrap().to_string()
    };
    let first = session("2");
    let second = session("2");
    let mut names = vec![agent_of(first), agent_of(second)];
    names.sort();
    assert_eq!(names, ["claude-1", "claude-2"]);
    // Both ended: the next session takes claude-1 again.
    assert_eq!(agent_of(session("0.5")), "claude-1");
    // Outside any session a command has no agent identity, and a pattern alone is refused.
    let e = s.run(&["heartbeat"]).fails(2, "invalid_input").error();
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("needs an agent identity"),
        "{e}"
    );
    s.as_agent("claude-*", &["heartbeat"])
        .fails(2, "invalid_input");
}

/// `baton generate --hooks` adds the edit-time check to Claude Code's settings (keeping
/// the rest) and to Codex's project hooks, and `baton edit-check` fed either CLI's hook
/// JSON refuses, with exit 2 and the holder's name, an edit of a file another agent
/// reserved.
#[test]
fn the_edit_hook_refuses_edits_of_files_others_reserved() {
    let s = project();
    std::fs::create_dir_all(s.path().join(".claude")).unwrap();
    std::fs::write(
        s.path().join(".claude/settings.json"),
        r#"{"permissions": {"deny": [], "allow": ["Bash(ls)"]}, "model": "opus",
            "hooks": {"PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "true"}]}]}}"#,
    )
    .unwrap();
    let report = s.run(&["generate", "--hooks"]).ok().json();
    // The person's file keeps its order (a sorted rewrite is a diff of every line).
    let text = std::fs::read_to_string(s.path().join(".claude/settings.json")).unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
    assert!(
        at("permissions") < at("deny") && at("deny") < at("allow") && at("allow") < at("model"),
        "{text}"
    );
    assert!(at("model") < at("hooks"), "{text}");
    assert!(
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["file"] == ".claude/settings.json" && f["state"] == "updated"),
        "{report}"
    );
    let settings: Value = serde_json::from_str(
        &std::fs::read_to_string(s.path().join(".claude/settings.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(settings["permissions"]["allow"][0], "Bash(ls)");
    let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
    assert_eq!(pre.len(), 2, "{settings}");
    assert_eq!(pre[1]["matcher"], "Edit|Write|MultiEdit|NotebookEdit");
    let command = pre[1]["hooks"][0]["command"].as_str().unwrap().to_string();
    assert!(command.ends_with(" edit-check"), "{command}");
    // Again: the same file, not a second entry.
    let again = s.run(&["generate", "--hooks"]).ok().json();
    assert!(again["files"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["file"] == ".claude/settings.json" && f["state"] == "current"));

    let codex: Value =
        serde_json::from_str(&std::fs::read_to_string(s.path().join(".codex/hooks.json")).unwrap())
            .unwrap();
    let entry = &codex["hooks"]["PreToolUse"][0];
    assert_eq!(entry["matcher"], "apply_patch", "{codex}");
    assert_eq!(entry["hooks"][0]["command"], command.as_str(), "{codex}");

    s.as_agent("codex", &["reserve", "src/auth/**"]).ok();
    let run_hook = |agent: &str, input: Value| {
        let mut cmd = support::command_in(s.path(), &["edit-check"]);
        cmd.env("BATON_AGENT", agent);
        let out = fed(cmd, input.to_string().as_bytes());
        // An allowed edit prints nothing: the CLIs read a hook's output as instructions.
        if out.status.code() == Some(0) {
            assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        }
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let hook = |agent: &str, file: &str| {
        run_hook(
            agent,
            json!({
                "session_id": "abc", "hook_event_name": "PreToolUse", "tool_name": "Edit",
                "tool_input": {"file_path": s.path().join(file), "old_string": "a", "new_string": "b"},
            }),
        )
    };
    // Codex: a patch whose files are relative to the session's directory.
    let patch = |agent: &str, files: &[&str]| {
        let mut text = String::from("*** Begin Patch\n");
        for f in files {
            text.push_str(&format!("*** Update File: {f}\n@@\n-a\n+b\n"));
        }
        text.push_str("*** End Patch\n");
        run_hook(
            agent,
            json!({
                "session_id": "abc", "hook_event_name": "PreToolUse", "tool_name": "apply_patch",
                "cwd": s.path().join("src"), "tool_input": {"command": text},
            }),
        )
    };
    let (code, said) = patch("claude", &["other.rs", "auth/login.rs"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("src/auth/login.rs is reserved by codex (src/auth/**")
            && said.contains("claude does not hold it")
            && said.contains("baton ask --to codex"),
        "{said}"
    );
    assert!(!said.contains("commit"), "an edit is no commit: {said}");
    assert_eq!(patch("claude", &["other.rs", "main.rs"]).0, Some(0));
    // Input that is no hook's: the hook failed (1), which lets the edit go; 2 would block it.
    let out = fed(support::command_in(s.path(), &["edit-check"]), b"not json");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was checked"));
    assert_eq!(patch("codex", &["auth/login.rs"]).0, Some(0));
    let (code, said) = hook("claude", "src/auth/login.rs");
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("codex") && said.contains("src/auth/**"),
        "{said}"
    );
    assert_eq!(hook("codex", "src/auth/login.rs").0, Some(0));
    assert_eq!(hook("claude", "src/other.rs").0, Some(0));
    assert_eq!(hook("claude", "../outside.rs").0, Some(0));
}
