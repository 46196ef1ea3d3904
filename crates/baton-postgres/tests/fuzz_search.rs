//! Fuzzing doc search on PostgreSQL, where the words become a `plainto_tsquery` or
//! `websearch_to_tsquery`: any query gives hits or a clear refusal, never an internal or
//! SQL syntax error. Fewer cases than on SQLite: every case is a round trip to the server.
//! Skipped when PostgreSQL is not reachable, except under CI=true (see `testing`).

use baton_core::api::{DocSearch, NewDoc};
use baton_core::fuzzing::{self, search_text};
use baton_core::model::DocType;
use baton_core::{Api, Board, ErrorClass};
use baton_postgres::testing::TestDatabase;
use baton_postgres::PostgresStore;
use proptest::prelude::*;

#[test]
fn any_search_query_gives_hits_or_a_clear_refusal() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    PostgresStore::create(database.url(), "fuzz").unwrap();
    let board = Board::new(PostgresStore::open(database.url()).unwrap());
    for (i, text) in [
        "token refresh",
        "Ünïcödé body — 日本語 🦀",
        "\"quoted\" & !x:*",
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
    let kind = prop::option::of(prop::sample::select(vec![
        DocType::Decision,
        DocType::Learning,
    ]));
    fuzzing::runner(128, file!())
        .run(
            &(search_text(), kind, prop::option::of(any::<u64>())),
            |(query, kind, limit)| {
                let search = DocSearch { query, kind, limit };
                match board.search_docs(&search) {
                    Ok(hits) => {
                        let most = search.limit.filter(|n| *n > 0).unwrap_or(10);
                        prop_assert!(hits.len() as u64 <= most);
                    }
                    Err(e) => prop_assert_eq!(e.class(), ErrorClass::Invalid, "{}", e),
                }
                Ok(())
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
