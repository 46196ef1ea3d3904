//! Fuzzing `baton import codepakt`: small codepakt databases with hostile text, wrong types
//! (numbers, blobs, bytes that are not UTF-8), missing columns and tables, odd versions.
//! Reading one gives a board or a clear refusal naming the file; importing what was read
//! gives a report or a refusal of the caller's making, and a refused import leaves the
//! board empty.

use std::path::Path;

use baton_core::api::TaskFilter;
use baton_core::fuzzing::{self, hostile_text, id_text, json_value, short_text};
use baton_core::{Api, Board, ErrorClass};
use baton_sqlite::{codepakt, SqliteStore};
use proptest::prelude::*;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;

/// A cell as SQLite may hold it, whatever the column's declared type.
fn cell(text: BoxedStrategy<String>) -> BoxedStrategy<Sql> {
    prop_oneof![
        8 => text.prop_map(Sql::Text),
        1 => Just(Sql::Null),
        1 => any::<i64>().prop_map(Sql::Integer),
        1 => any::<f64>().prop_map(Sql::Real),
        1 => prop::collection::vec(any::<u8>(), 0..12).prop_map(Sql::Blob),
    ]
    .boxed()
}

fn json_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::collection::vec(short_text(), 0..4).prop_map(|v| serde_json::json!(v).to_string()),
        2 => json_value().prop_map(|v| v.to_string()),
        1 => short_text(),
    ]
    .boxed()
}

fn time_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just("2026-03-21 18:11:36".to_string()),
        2 => Just("2026-03-21T18:11:36Z".to_string()),
        1 => "[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}[ T][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\\.[0-9]{0,9})?Z?",
        1 => short_text(),
    ]
    .boxed()
}

fn pick(values: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(values).prop_map(str::to_string),
        1 => short_text(),
    ]
    .boxed()
}

const TASK_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "task_number",
    "title",
    "description",
    "status",
    "assignee",
    "priority",
    "epic",
    "capabilities",
    "depends_on",
    "acceptance_criteria",
    "context_refs",
    "verify",
    "notes",
    "blocker_reason",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
];

fn task_cell(column: &'static str) -> BoxedStrategy<Sql> {
    let text = match column {
        "id" => prop_oneof!["[a-f0-9]{1,4}", short_text()].boxed(),
        "project_id" => Just("p".to_string()).boxed(),
        "task_number" => prop_oneof![
            3 => (1u64..6).prop_map(|n| format!("T-{n:03}")),
            1 => id_text("T"),
        ]
        .boxed(),
        "status" => pick(&[
            "open",
            "backlog",
            "in-progress",
            "review",
            "blocked",
            "done",
        ]),
        "priority" => pick(&["P0", "P1", "P2"]),
        "assignee" => pick(&["codex", "claude", "human", "a b", ""]),
        "capabilities" | "acceptance_criteria" | "context_refs" | "notes" => json_text(),
        "depends_on" => prop_oneof![
            prop::collection::vec(
                prop_oneof!["T-00[1-6]", "[a-f0-9]{1,4}", id_text("T")],
                0..4
            )
            .prop_map(|v| serde_json::json!(v).to_string()),
            json_text(),
        ]
        .boxed(),
        "created_at" | "updated_at" | "started_at" | "completed_at" => time_text(),
        _ => hostile_text().boxed(),
    };
    cell(text)
}

/// Which columns a table has (some dropped), and rows of cells for them.
fn table(
    columns: &'static [&'static str],
    value: fn(&'static str) -> BoxedStrategy<Sql>,
    rows: std::ops::Range<usize>,
) -> impl Strategy<Value = Option<(Vec<&'static str>, Vec<Vec<Sql>>)>> {
    let kept =
        prop::collection::vec(prop::bool::weighted(0.9), columns.len()).prop_map(move |keep| {
            columns
                .iter()
                .zip(keep)
                .filter(|(_, k)| *k)
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
        });
    let present = kept.prop_flat_map(move |kept| {
        let row: Vec<BoxedStrategy<Sql>> = kept.iter().map(|c| value(c)).collect();
        (Just(kept), prop::collection::vec(row, rows.clone()))
    });
    prop::option::weighted(0.95, present)
}

const DOC_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "type",
    "title",
    "body",
    "section",
    "tags",
    "author",
    "created_at",
    "updated_at",
];

fn doc_cell(column: &'static str) -> BoxedStrategy<Sql> {
    let text = match column {
        "type" => pick(&["operational", "decision", "reference", "learning", "review"]),
        "tags" => json_text(),
        "created_at" | "updated_at" => time_text(),
        "project_id" => Just("p".to_string()).boxed(),
        _ => hostile_text().boxed(),
    };
    cell(text)
}

const EVENT_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "task_id",
    "agent",
    "action",
    "detail",
    "created_at",
];

fn event_cell(column: &'static str) -> BoxedStrategy<Sql> {
    let text = match column {
        "action" => pick(&[
            "task_created",
            "task_pickup",
            "task_done",
            "deps_met",
            "doc_created",
        ]),
        "detail" => json_text(),
        "task_id" => prop_oneof!["[a-f0-9]{1,4}", short_text()].boxed(),
        "agent" => pick(&["codex", "claude"]),
        "created_at" => time_text(),
        "project_id" => Just("p".to_string()).boxed(),
        _ => short_text().boxed(),
    };
    cell(text)
}

const AGENT_COLUMNS: &[&str] = &["id", "project_id", "name", "last_seen"];

fn agent_cell(column: &'static str) -> BoxedStrategy<Sql> {
    let text = match column {
        "name" => pick(&["codex", "claude", "human", "system", "a b", "€"]),
        "last_seen" => time_text(),
        _ => short_text().boxed(),
    };
    cell(text)
}

type Table = Option<(Vec<&'static str>, Vec<Vec<Sql>>)>;

#[derive(Debug)]
struct CodepaktBoard {
    versions: Vec<Sql>,
    tables: Vec<(&'static str, Table)>,
}

fn codepakt_board() -> impl Strategy<Value = CodepaktBoard> {
    let versions = prop::collection::vec(
        prop_oneof![
            6 => prop::sample::select(vec![2i64, 3]).prop_map(Sql::Integer),
            1 => any::<i64>().prop_map(Sql::Integer),
            1 => cell(short_text().boxed()),
        ],
        0..3,
    );
    (
        versions,
        table(TASK_COLUMNS, task_cell, 0..6),
        table(DOC_COLUMNS, doc_cell, 0..3),
        table(EVENT_COLUMNS, event_cell, 0..5),
        table(AGENT_COLUMNS, agent_cell, 0..3),
    )
        .prop_map(|(versions, tasks, docs, events, agents)| CodepaktBoard {
            versions,
            tables: vec![
                ("tasks", tasks),
                ("docs", docs),
                ("events", events),
                ("agents", agents),
            ],
        })
}

/// Writes the board as a codepakt file: columns without types, so any value goes in.
fn write(board: &CodepaktBoard, path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE schema_version (version)")
        .unwrap();
    for v in &board.versions {
        conn.execute("INSERT INTO schema_version VALUES (?1)", [v])
            .unwrap();
    }
    for (name, table) in &board.tables {
        let Some((columns, rows)) = table else {
            continue;
        };
        if columns.is_empty() {
            continue;
        }
        conn.execute_batch(&format!("CREATE TABLE {name} ({})", columns.join(", ")))
            .unwrap();
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!("INSERT INTO {name} VALUES ({})", marks.join(", "));
        for row in rows {
            conn.execute(&sql, rusqlite::params_from_iter(row)).unwrap();
        }
    }
}

#[test]
fn any_codepakt_file_is_imported_or_refused_and_a_refusal_leaves_the_board_empty() {
    fuzzing::runner(96, file!())
        .run(&codepakt_board(), |generated| {
            let dir = tempfile::tempdir().unwrap();
            let source = dir.path().join("data.db");
            write(&generated, &source);
            let imported = match codepakt::read(&source) {
                Ok(board) => board,
                Err(e) => {
                    prop_assert_eq!(e.class(), ErrorClass::Invalid, "{}", e);
                    prop_assert!(e.to_string().contains("data.db"), "{}", e);
                    return Ok(());
                }
            };
            let (store, _) = SqliteStore::create(&dir.path().join("baton.db"), "p").unwrap();
            let board = Board::new(store);
            let tasks = imported.tasks.len() as u64;
            match board.import_board("human", imported.clone()) {
                Ok(report) => {
                    prop_assert_eq!(report.tasks, tasks);
                    // Once more: everything is known, nothing is added.
                    let again = board.import_board("human", imported);
                    prop_assert!(again.is_ok(), "{:?}", again);
                    prop_assert_eq!(again.unwrap().tasks, 0);
                }
                Err(e) => {
                    prop_assert!(
                        !matches!(e.class(), ErrorClass::Internal | ErrorClass::Unavailable),
                        "{}: {}",
                        e.code(),
                        e
                    );
                    let left = board
                        .list_tasks(&TaskFilter {
                            include_deleted: true,
                            ..TaskFilter::default()
                        })
                        .unwrap();
                    prop_assert!(
                        left.is_empty(),
                        "a refused import left {} tasks",
                        left.len()
                    );
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The real board with one field at a time made hostile: the rest of the file stays valid,
/// so the reader gets past its first checks.
#[test]
fn the_real_board_with_one_hostile_field_is_imported_or_refused() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/codepakt/snake-game.data.db");
    if !fixture.is_file() {
        panic!("the codepakt fixture is missing: {}", fixture.display());
    }
    let fields = prop::sample::select(vec![
        ("tasks", "task_number"),
        ("tasks", "title"),
        ("tasks", "status"),
        ("tasks", "priority"),
        ("tasks", "depends_on"),
        ("tasks", "notes"),
        ("tasks", "created_at"),
        ("tasks", "assignee"),
        ("docs", "type"),
        ("docs", "title"),
        ("docs", "tags"),
        ("events", "detail"),
        ("events", "created_at"),
        ("events", "agent"),
        ("agents", "name"),
        ("agents", "last_seen"),
    ]);
    fuzzing::runner(96, file!())
        .run(
            &(
                fields,
                cell(hostile_text().boxed()),
                any::<prop::sample::Index>(),
            ),
            |((table, column), value, row)| {
                let dir = tempfile::tempdir().unwrap();
                let source = dir.path().join("data.db");
                std::fs::copy(&fixture, &source).unwrap();
                let mut perms = std::fs::metadata(&source).unwrap().permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perms.set_readonly(false);
                std::fs::set_permissions(&source, perms).unwrap();
                {
                    let conn = Connection::open(&source).unwrap();
                    // Without the schema's CHECKs and types: a copy of the table as plain
                    // columns, so any value fits.
                    conn.execute_batch(&format!(
                        "PRAGMA ignore_check_constraints = ON; \
                         CREATE TABLE loose AS SELECT * FROM {table}; DROP TABLE {table}; \
                         ALTER TABLE loose RENAME TO {table};"
                    ))
                    .unwrap();
                    let rows: i64 = conn
                        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                        .unwrap();
                    if rows > 0 {
                        let target = row.index(rows as usize) as i64;
                        conn.execute(
                            &format!(
                                "UPDATE {table} SET {column} = ?1 WHERE rowid = \
                                 (SELECT rowid FROM {table} LIMIT 1 OFFSET ?2)"
                            ),
                            rusqlite::params![value, target],
                        )
                        .unwrap();
                    }
                }
                let imported = match codepakt::read(&source) {
                    Ok(board) => board,
                    Err(e) => {
                        prop_assert_eq!(e.class(), ErrorClass::Invalid, "{}", e);
                        return Ok(());
                    }
                };
                let (store, _) = SqliteStore::create(&dir.path().join("baton.db"), "p").unwrap();
                let board = Board::new(store);
                if let Err(e) = board.import_board("human", imported) {
                    prop_assert!(
                        !matches!(e.class(), ErrorClass::Internal | ErrorClass::Unavailable),
                        "{}: {}",
                        e.code(),
                        e
                    );
                }
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
