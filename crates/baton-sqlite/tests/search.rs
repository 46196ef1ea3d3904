//! Full-text search on a corpus large enough for the common-word rule to apply.

use baton_core::api::{DocSearch, NewDoc};
use baton_core::model::DocType;
use baton_core::{Api, Board};
use baton_sqlite::SqliteStore;

#[test]
fn words_in_most_docs_do_not_drown_the_telling_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = SqliteStore::create(&dir.path().join("baton.db"), "p").unwrap();
    let board = Board::new(store);
    let write = |title: String, body: String| {
        board
            .write_doc(
                "a",
                NewDoc {
                    kind: DocType::Learning,
                    title,
                    body,
                    tags: vec![],
                    tasks: vec![],
                    author: None,
                },
            )
            .unwrap()
    };
    let target = write(
        "Rotating the signing key".into(),
        "the service reads the signing key at start; rotate it with the vault job".into(),
    );
    for i in 0..1200 {
        write(
            format!("Note {i}"),
            format!("the service note number {i} about the build"),
        );
    }
    let search = |q: &str| {
        board
            .search_docs(&DocSearch {
                query: q.into(),
                ..DocSearch::default()
            })
            .unwrap()
    };
    // "the" and "service" are in every doc: only "rotate" decides.
    let hits = search("the service rotate");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].doc.id, target.id);
    assert!(
        hits[0].snippet.contains("**rotate**"),
        "{}",
        hits[0].snippet
    );
    // Only common words: the newest matching docs, unranked.
    let hits = search("the service");
    assert_eq!(hits.len(), 10);
    assert_eq!(hits[0].doc.title, "Note 1199");
    assert!(hits.iter().all(|h| h.score == 0.0));
    // Identifiers stay whole.
    write("Config".into(), "set refresh_token_ttl to 30m".into());
    assert_eq!(search("refresh_token_ttl")[0].doc.title, "Config");
    assert!(search("refresh").is_empty());
}
