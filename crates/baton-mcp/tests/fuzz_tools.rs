//! Fuzzing the MCP tools with arbitrary arguments, as a model (or anything else speaking
//! JSON-RPC) may send them: known and unknown names, every JSON type in every argument,
//! ids, globs and text from the hostile generators. Each call answers, or fails as a tool
//! error (`isError`) with a code and a hint; never a panic, never `internal`.

use std::path::PathBuf;
use std::sync::Arc;

use baton_core::fuzzing::{self, glob_text, hostile_text, id_text, json_value, short_text};
use baton_core::{Api, Board};
use baton_mcp::{BoxFuture, Host, Job, Tools};
use baton_sqlite::SqliteStore;
use proptest::prelude::*;
use serde_json::{Map, Value};

struct LocalBoard {
    board: Arc<Board<SqliteStore>>,
    code_root: PathBuf,
}

impl Host for LocalBoard {
    fn run(&self, _write: bool, job: Job) -> BoxFuture<baton_core::Result<Value>> {
        let board = self.board.clone();
        Box::pin(async move { job(&*board as &dyn Api) })
    }

    fn code_root(&self) -> Option<PathBuf> {
        Some(self.code_root.clone())
    }
}

/// A value for argument `name`: its usual shape with hostile content, or any JSON.
fn argument(name: String) -> BoxedStrategy<(String, Value)> {
    let shaped: BoxedStrategy<Value> = match name.as_str() {
        "id" | "reply_to" | "task" => prop_oneof![id_text("T"), id_text("D"), id_text("M")]
            .prop_map(Value::String)
            .boxed(),
        "globs" | "files" => prop_oneof![
            prop::collection::vec(glob_text(), 0..4).prop_map(|v| serde_json::json!(v)),
            glob_text().prop_map(Value::String),
        ]
        .boxed(),
        "limit" | "fence" | "depth" => prop_oneof![
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            short_text().prop_map(Value::String),
        ]
        .boxed(),
        "to" | "agent" | "assignee" => prop_oneof![
            prop::sample::select(vec!["any", "human", "me", "T-1", "codex", "a€"])
                .prop_map(|s| Value::String(s.into())),
            short_text().prop_map(Value::String),
        ]
        .boxed(),
        _ => prop_oneof![
            hostile_text().prop_map(Value::String),
            prop::collection::vec(short_text(), 0..4).prop_map(|v| serde_json::json!(v)),
        ]
        .boxed(),
    };
    prop_oneof![5 => shaped, 1 => json_value()]
        .prop_map(move |v| (name.clone(), v))
        .boxed()
}

/// A tool name (mostly real) and arguments (mostly its own).
fn call() -> impl Strategy<Value = (String, Map<String, Value>)> {
    let tools: Vec<(String, Vec<String>)> = baton_mcp::catalog()
        .into_iter()
        .map(|(name, _, schema)| {
            let params = schema["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            (name.to_string(), params)
        })
        .collect();
    let tool = prop_oneof![
        9 => prop::sample::select(tools),
        1 => short_text().prop_map(|name| (name, vec!["agent".to_string()])),
    ];
    tool.prop_flat_map(|(name, params)| {
        let names = prop_oneof![
            6 => prop::sample::select(params),
            1 => short_text(),
        ];
        let args = prop::collection::vec(names.prop_flat_map(argument), 0..6)
            .prop_map(|kv| kv.into_iter().collect::<Map<_, _>>());
        (Just(name), args, prop::option::of(short_text()))
    })
    .prop_map(|(name, mut args, agent)| {
        // Most calls say who calls, as the agents do.
        if let Some(agent) = agent.filter(|_| !args.contains_key("agent")) {
            args.insert("agent".into(), Value::String(agent));
        }
        (name, args)
    })
}

#[test]
fn any_tool_call_answers_or_fails_as_a_tool_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SqliteStore::create(&dir.path().join("baton.db"), "fuzz").unwrap();
    let board = Arc::new(Board::new(store));
    // Something to find: a task held by `codex`, a doc, a question.
    board
        .add_tasks(
            "lead",
            vec![baton_core::api::NewTask {
                title: "held".into(),
                files: vec!["src/**".into()],
                ..Default::default()
            }],
        )
        .unwrap();
    board
        .pickup("codex", &baton_core::api::PickupRequest::default())
        .unwrap();
    let tools = Tools::new(Arc::new(LocalBoard {
        board,
        code_root: dir.path().to_path_buf(),
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    fuzzing::runner(1000, file!())
        .run(
            &(call(), prop::option::of(short_text())),
            |((name, args), caller)| {
                let result = runtime.block_on(tools.call(&name, args, caller));
                if let Err(e) = result {
                    prop_assert!(e.error != "internal", "{} -> {:?}", name, e);
                    prop_assert!(!e.message.is_empty(), "{} -> {:?}", name, e);
                    prop_assert!(
                        e.hint.as_deref().is_some_and(|h| !h.trim().is_empty()),
                        "{} -> {:?} has no hint",
                        name,
                        e
                    );
                }
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
