//! Knowledge-base scenarios, run on every `Api`.

use super::{add, task};
use crate::api::*;
use crate::model::DocType;
use crate::store::EventQuery;
use crate::{Api, DocId, TaskId};

pub fn doc(kind: DocType, title: &str, body: &str) -> NewDoc {
    NewDoc {
        kind,
        title: title.into(),
        body: body.into(),
        tags: Vec::new(),
        tasks: Vec::new(),
        author: None,
    }
}

fn search(api: &dyn Api, query: &str) -> Vec<String> {
    api.search_docs(&DocSearch {
        query: query.into(),
        ..DocSearch::default()
    })
    .expect("search")
    .into_iter()
    .map(|h| h.doc.title)
    .collect()
}

pub fn docs_keep_every_version_and_name_who_wrote_each(api: &dyn Api) {
    let d = api
        .write_doc(
            "claude",
            doc(DocType::Decision, "Use JWT", "Sessions are JWTs."),
        )
        .unwrap();
    assert_eq!(
        (d.id, d.version, d.author.as_str()),
        (DocId(1), 1, "claude")
    );
    let patch = |body: &str| DocPatch {
        body: Some(body.into()),
        ..DocPatch::default()
    };
    api.update_doc("codex", d.id, patch("Sessions are JWTs, 15 minutes."))
        .unwrap();
    let v3 = api
        .update_doc("claude", d.id, patch("Sessions are JWTs, 30 minutes."))
        .unwrap();
    assert_eq!(v3.version, 3);
    assert_eq!(v3.author, "claude", "the doc keeps its first author");
    // Nothing changed: no new version.
    let same = api
        .update_doc("claude", d.id, patch("Sessions are JWTs, 30 minutes."))
        .unwrap();
    assert_eq!(same.version, 3);
    let history = api.doc_history(d.id).unwrap();
    let seen: Vec<(u32, &str, &str)> = history
        .iter()
        .map(|v| (v.version, v.author.as_str(), v.body.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, "claude", "Sessions are JWTs."),
            (2, "codex", "Sessions are JWTs, 15 minutes."),
            (3, "claude", "Sessions are JWTs, 30 minutes."),
        ]
    );
    assert_eq!(
        api.get_doc(d.id).unwrap().body,
        "Sessions are JWTs, 30 minutes."
    );
    let events: Vec<String> = api
        .events(&EventQuery {
            action: Some("doc.".into()),
            ..EventQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(events, vec!["doc.created", "doc.updated", "doc.updated"]);
    assert_eq!(api.get_doc(DocId(9)).unwrap_err().code(), "doc_not_found");
}

pub fn a_deleted_doc_stays_readable_but_leaves_listings_and_search(api: &dyn Api) {
    let d = api
        .write_doc(
            "a",
            doc(DocType::Learning, "Flaky test", "The cache test is flaky."),
        )
        .unwrap();
    assert_eq!(search(api, "flaky"), vec!["Flaky test"]);
    let deleted = api.delete_doc("a", d.id).unwrap();
    assert!(deleted.deleted_at.is_some());
    assert!(search(api, "flaky").is_empty());
    assert!(api.list_docs(&DocFilter::default()).unwrap().is_empty());
    let all = api
        .list_docs(&DocFilter {
            include_deleted: true,
            ..DocFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(api.get_doc(d.id).unwrap().title, "Flaky test");
    assert_eq!(api.doc_history(d.id).unwrap().len(), 1);
    let e = api.delete_doc("a", d.id).unwrap_err();
    assert_eq!(e.code(), "doc_deleted");
    let e = api
        .update_doc(
            "a",
            d.id,
            DocPatch {
                title: Some("x".into()),
                ..DocPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "doc_deleted");
}

pub fn search_ranks_the_most_relevant_doc_first_with_a_snippet(api: &dyn Api) {
    let corpus = [
        (DocType::Operational, "Deploying the API", "Run make deploy. The API reads its token from the vault at start."),
        (DocType::Decision, "Token refresh flow", "Access tokens expire after 15 minutes. The client refreshes the token with the refresh token before expiry; a refresh token is used once."),
        (DocType::Learning, "Refreshing the dashboard cache", "The dashboard cache refreshes every minute; a stale cache shows old counts."),
        (DocType::Reference, "Database schema", "Tables: users, sessions, tokens. Sessions reference users."),
        (DocType::Review, "Review of the login form", "The form trims whitespace; error messages are clear."),
    ];
    for (kind, title, body) in corpus {
        api.write_doc("a", doc(kind, title, body)).unwrap();
    }
    let hits = api
        .search_docs(&DocSearch {
            query: "token refresh".into(),
            ..DocSearch::default()
        })
        .unwrap();
    assert_eq!(hits[0].doc.title, "Token refresh flow", "{hits:?}");
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(hits[0].snippet.contains("**"), "{}", hits[0].snippet);
    assert!(hits[0].snippet.len() < 400);
    // Stemming: "refreshing" finds "refreshes".
    assert!(search(api, "refreshing cache")[0].contains("dashboard cache"));
    // No doc holds every word: any word may match.
    assert_eq!(
        search(api, "whitespace nonsenseword"),
        vec!["Review of the login form"]
    );
    let typed = api
        .search_docs(&DocSearch {
            query: "token".into(),
            kind: Some(DocType::Reference),
            limit: None,
        })
        .unwrap();
    assert_eq!(typed.len(), 1);
    assert_eq!(typed[0].doc.title, "Database schema");
    // Query syntax is not interpreted: quotes and operators are words or nothing.
    assert!(search(api, "\"token* OR (").len() >= 3);
    let e = api
        .search_docs(&DocSearch {
            query: " ?! ".into(),
            ..DocSearch::default()
        })
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
}

pub fn a_doc_body_over_one_mebibyte_is_refused(api: &dyn Api) {
    let limit = crate::board::docs::MAX_BODY_BYTES;
    let fits = api.write_doc("a", doc(DocType::Reference, "Big", &"x".repeat(limit)));
    assert_eq!(fits.unwrap().body.len(), limit);
    let e = api
        .write_doc(
            "a",
            doc(DocType::Reference, "Too big", &"x".repeat(limit + 1)),
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("1 MiB"), "{e}");
    assert!(e.hint().is_some());
    assert_eq!(api.list_docs(&DocFilter::default()).unwrap().len(), 1);
}

pub fn docs_are_listed_by_type_tag_and_task(api: &dyn Api) {
    let t = add(api, task("auth"));
    let mut linked = doc(DocType::Decision, "Auth decision", "JWT.");
    linked.tasks = vec![t.id];
    linked.tags = vec!["auth".into(), "security".into()];
    let linked = api.write_doc("a", linked).unwrap();
    let other = api
        .write_doc("a", doc(DocType::Reference, "Style guide", "Tabs."))
        .unwrap();
    let list = |f: DocFilter| -> Vec<DocId> {
        api.list_docs(&f)
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect()
    };
    assert_eq!(
        list(DocFilter::default()),
        vec![other.id, linked.id],
        "newest first"
    );
    assert_eq!(
        list(DocFilter {
            kind: Some(DocType::Decision),
            ..DocFilter::default()
        }),
        vec![linked.id]
    );
    assert_eq!(
        list(DocFilter {
            tag: Some("security".into()),
            ..DocFilter::default()
        }),
        vec![linked.id]
    );
    // A task's docs: linked to it, or named in its context_refs.
    api.update_task(
        "lead",
        t.id,
        TaskPatch {
            context_refs: Some(vec![other.id.to_string()]),
            ..TaskPatch::default()
        },
    )
    .unwrap();
    let mut of_task = list(DocFilter {
        task: Some(t.id),
        ..DocFilter::default()
    });
    of_task.sort();
    assert_eq!(of_task, vec![linked.id, other.id]);
    let mut missing = doc(DocType::Decision, "x", "y");
    missing.tasks = vec![TaskId(42)];
    assert_eq!(
        api.write_doc("a", missing).unwrap_err().code(),
        "task_not_found"
    );
}

pub fn context_refs_must_name_docs_that_exist(api: &dyn Api) {
    let d = api
        .write_doc("a", doc(DocType::Reference, "PRD", "The product."))
        .unwrap();
    let with_refs = |refs: &[&str]| NewTask {
        context_refs: refs.iter().map(|r| r.to_string()).collect(),
        ..task("x")
    };
    let t = api.add_tasks("lead", vec![with_refs(&["d-1"])]).unwrap();
    assert_eq!(
        t[0].context_refs,
        vec![d.id.to_string()],
        "normalized to D-1"
    );
    let e = api
        .add_tasks("lead", vec![with_refs(&["D-7"])])
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    assert!(e.to_string().contains("D-7"), "{e}");
    let e = api
        .add_tasks("lead", vec![with_refs(&["docs/auth.md"])])
        .unwrap_err();
    assert!(e.hint().unwrap().contains("D-1"), "{:?}", e.hint());
    api.delete_doc("a", d.id).unwrap();
    let e = api
        .update_task(
            "lead",
            t[0].id,
            TaskPatch {
                context_refs: Some(vec!["D-1".into()]),
                ..TaskPatch::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("deleted"), "{e}");
}
