//! Fuzzing what the board reads from outside, through a `Board` on a real SQLite file: doc
//! search queries (which become FTS5 MATCH expressions), message targets, and batches of
//! new tasks (the JSON of `baton task add --batch` and `POST /api/v1/tasks/batch`).
//!
//! The invariant each time: an answer or an error of the caller's making (invalid input,
//! not found, conflict), never a panic nor an internal error; a refused write leaves
//! nothing behind, and the store still writes afterwards.

use baton_core::api::{
    AskRequest, DocSearch, DoneRequest, NewDoc, NewTask, PickupRequest, TaskFilter,
};
use baton_core::fuzzing::{
    self, glob_text, hostile_text, id_text, json_value, search_text, short_text,
};
use baton_core::model::DocType;
use baton_core::{Api, Board, Error, ErrorClass};
use baton_sqlite::SqliteStore;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Map, Value};

fn board(dir: &tempfile::TempDir) -> Board<SqliteStore> {
    let (store, _) = SqliteStore::create(&dir.path().join("baton.db"), "fuzz").unwrap();
    Board::new(store)
}

/// A refusal of the caller's making: anything but an internal error or a store failure.
fn callers_fault(e: &Error) -> Result<(), TestCaseError> {
    prop_assert!(
        !matches!(e.class(), ErrorClass::Internal | ErrorClass::Unavailable),
        "{} ({}): {}",
        e.code(),
        e.hint().unwrap_or_default(),
        e
    );
    prop_assert!(!e.to_string().is_empty());
    Ok(())
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    fuzzing::runner(cases, file!())
        .run(&strategy, test)
        .unwrap_or_else(|e| panic!("{e}"));
}

fn kinds() -> impl Strategy<Value = Option<DocType>> {
    prop::option::of(prop::sample::select(vec![
        DocType::Operational,
        DocType::Decision,
        DocType::Reference,
        DocType::Learning,
        DocType::Review,
    ]))
}

#[test]
fn any_search_query_gives_hits_or_a_clear_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    for (i, text) in [
        "token refresh",
        "Ünïcödé body — 日本語 🦀",
        "\"quoted\" AND NOT x*",
    ]
    .iter()
    .enumerate()
    {
        board
            .write_doc(
                "writer",
                NewDoc {
                    kind: DocType::Learning,
                    title: format!("doc {i} {text}"),
                    body: text.repeat(3),
                    tags: vec!["t".into()],
                    tasks: vec![],
                    author: None,
                },
            )
            .unwrap();
    }
    run(
        512,
        (search_text(), kinds(), prop::option::of(any::<u64>())),
        |(query, kind, limit)| {
            let search = DocSearch { query, kind, limit };
            match board.search_docs(&search) {
                Ok(hits) => {
                    let most = search.limit.filter(|n| *n > 0).unwrap_or(10);
                    prop_assert!(hits.len() as u64 <= most);
                }
                Err(e) => {
                    callers_fault(&e)?;
                    prop_assert_eq!(e.class(), ErrorClass::Invalid, "{}", e);
                }
            }
            Ok(())
        },
    );
}

#[test]
fn any_doc_text_is_written_and_found_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    run(
        192,
        (
            short_text(),
            hostile_text(),
            prop::collection::vec(short_text(), 0..4),
        ),
        |(title, body, tags)| {
            let doc = NewDoc {
                kind: DocType::Reference,
                title: title.clone(),
                body,
                tags,
                tasks: vec![],
                author: None,
            };
            match board.write_doc("writer", doc) {
                Ok(doc) => {
                    // Its own title finds it (when the title has a word to search for).
                    let hits = board.search_docs(&DocSearch {
                        query: doc.title.clone(),
                        kind: None,
                        limit: Some(100),
                    });
                    if let Err(e) = &hits {
                        callers_fault(e)?;
                    }
                }
                Err(e) => callers_fault(&e)?,
            }
            Ok(())
        },
    );
}

/// `to` as typed: agent names, task ids, `human`, `any`, and everything near them.
fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => id_text("T"),
        2 => short_text(),
        1 => hostile_text(),
        1 => prop::sample::select(vec![
            "a€", "T€", "€T-1", "t-", "T-", "T-1", "T-99999999999999999999", " any ", "HUMAN",
            "fuzzer", "other-agent", "holder",
        ])
        .prop_map(str::to_string),
    ]
}

#[test]
fn any_message_target_is_delivered_or_refused_and_the_store_still_writes() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    board
        .add_tasks(
            "lead",
            vec![NewTask {
                title: "held".into(),
                ..NewTask::default()
            }],
        )
        .unwrap();
    board
        .pickup("holder", &PickupRequest::default())
        .expect("T-1 is held by `holder`");
    run(512, (target(), short_text()), |(to, body)| {
        if let Err(e) = board.ask(
            "fuzzer",
            AskRequest {
                to,
                body,
                task: None,
            },
        ) {
            callers_fault(&e)?;
        }
        let after = board.ask(
            "fuzzer",
            AskRequest {
                task: None,
                to: "any".into(),
                body: "still there?".into(),
            },
        );
        prop_assert!(after.is_ok(), "the store stopped writing: {:?}", after);
        Ok(())
    });
}

/// A field value for a new task: the right shape with hostile content, or any JSON.
fn field(name: &'static str, keys: Vec<String>) -> BoxedStrategy<Value> {
    let list_of = |s: BoxedStrategy<String>| {
        prop::collection::vec(s, 0..5)
            .prop_map(|v| json!(v))
            .boxed()
    };
    let shaped = match name {
        "key" => prop_oneof![
            3 => prop::sample::select(if keys.is_empty() { vec!["k".to_string()] } else { keys.clone() }),
            1 => id_text("T"),
        ]
        .prop_map(Value::String)
        .boxed(),
        "title" | "description" | "verify" | "epic" => hostile_text().prop_map(Value::String).boxed(),
        "priority" => prop::sample::select(vec!["P0", "p1", "P2", "P3", "P9", "high", ""])
            .prop_map(|s| json!(s))
            .boxed(),
        "status" => prop::sample::select(vec![
            "open", "backlog", "done", "in-progress", "review", "blocked", "OPEN", "",
        ])
        .prop_map(|s| json!(s))
        .boxed(),
        "depends_on" => {
            let refs = prop_oneof![
                2 => prop::sample::select(if keys.is_empty() { vec!["k".to_string()] } else { keys }),
                2 => id_text("T"),
                1 => short_text(),
            ];
            list_of(refs.boxed())
        }
        "files" => list_of(glob_text().boxed()),
        _ => list_of(short_text().boxed()),
    };
    prop_oneof![6 => shaped, 1 => json_value()].boxed()
}

const FIELDS: &[&str] = &[
    "key",
    "title",
    "description",
    "priority",
    "status",
    "epic",
    "capabilities",
    "depends_on",
    "verify",
    "acceptance_criteria",
    "context_refs",
    "files",
];

/// A batch as JSON: mostly well-formed tasks with hostile values, some wrong types, some
/// unknown fields, keys that refer to each other (and to themselves).
fn batch() -> impl Strategy<Value = Value> {
    let keys = prop::collection::vec(prop_oneof!["[a-z]{1,4}", short_text()], 0..5);
    (keys, 0usize..7).prop_flat_map(|(keys, n)| {
        let task = prop::collection::vec(
            (prop::sample::select(FIELDS), any::<prop::sample::Index>()),
            1..8,
        )
        .prop_flat_map({
            let keys = keys.clone();
            move |picked| {
                let values: Vec<BoxedStrategy<(String, Value)>> = picked
                    .into_iter()
                    .map(|(name, _)| {
                        field(name, keys.clone())
                            .prop_map(move |v| (name.to_string(), v))
                            .boxed()
                    })
                    .collect();
                (values, any::<bool>(), prop::option::of(short_text()))
            }
        })
        .prop_map(|(fields, titled, unknown)| {
            let mut task: Map<String, Value> = fields.into_iter().collect();
            if titled && !task.contains_key("title") {
                task.insert("title".into(), json!("a task"));
            }
            if let Some(name) = unknown {
                task.insert(name, json!(1));
            }
            Value::Object(task)
        });
        prop::collection::vec(task, n..=n).prop_map(Value::Array)
    })
}

fn all_tasks(board: &Board<SqliteStore>) -> usize {
    board
        .list_tasks(&TaskFilter {
            include_deleted: true,
            ..TaskFilter::default()
        })
        .unwrap()
        .len()
}

#[test]
fn any_batch_is_added_whole_or_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let board = board(&dir);
    run(384, batch(), |json| {
        // The surfaces refuse what does not deserialize; what does goes to the board.
        let Ok(tasks) = serde_json::from_value::<Vec<NewTask>>(json) else {
            return Ok(());
        };
        let before = all_tasks(&board);
        let n = tasks.len();
        match board.add_tasks("lead", tasks) {
            Ok(added) => {
                prop_assert_eq!(added.len(), n);
                prop_assert_eq!(all_tasks(&board), before + n);
                // Their files are reservable: a pickup claims one and finishes it.
                match board.pickup("worker", &PickupRequest::default()) {
                    Ok(p) => {
                        let done = board.done(
                            "worker",
                            p.task.id,
                            DoneRequest {
                                summary: None,
                                notes: None,
                                fence: Some(p.claim.fence),
                            },
                        );
                        if let Err(e) = done {
                            callers_fault(&e)?;
                        }
                    }
                    Err(e) => callers_fault(&e)?,
                }
            }
            Err(e) => {
                callers_fault(&e)?;
                prop_assert_eq!(
                    all_tasks(&board),
                    before,
                    "a refused batch left tasks behind"
                );
            }
        }
        Ok(())
    });
}
