//! Scenarios for the knowledge base, messages and import, run on every `Api`.

use super::{add, task};
use crate::api::*;
use crate::model::{DocType, Note, Status};
use crate::store::EventQuery;
use crate::time::Timestamp;
use crate::{Api, DocId, Priority, TaskId};

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

fn ask(api: &dyn Api, from: &str, to: &str, body: &str) -> crate::model::Message {
    api.ask(
        from,
        AskRequest {
            to: to.into(),
            body: body.into(),
        },
    )
    .expect("ask")
}

fn inbox(api: &dyn Api, who: &str) -> Vec<String> {
    api.inbox(who, &InboxRequest::default())
        .unwrap()
        .into_iter()
        .map(|m| m.body)
        .collect()
}

pub fn a_question_to_a_task_reaches_its_holder_and_the_answer_comes_back(api: &dyn Api) {
    let t = add(api, task("auth"));
    api.pickup("codex", &PickupRequest::default()).unwrap();
    let q = ask(
        api,
        "claude",
        &t.id.to_string(),
        "Which hash for passwords?",
    );
    assert_eq!((q.to.as_str(), q.task), ("codex", Some(t.id)));
    assert_eq!(q.thread, q.id);
    assert_eq!(inbox(api, "codex"), vec!["Which hash for passwords?"]);
    assert!(
        inbox(api, "claude").is_empty(),
        "the asker's inbox holds no question"
    );
    // An open question stays until answered.
    assert_eq!(inbox(api, "codex").len(), 1);
    let a = api
        .answer(
            "codex",
            q.id,
            AnswerRequest {
                body: "argon2id".into(),
            },
        )
        .unwrap();
    assert_eq!(
        (a.to.as_str(), a.reply_to, a.thread),
        ("claude", Some(q.id), q.id)
    );
    assert!(inbox(api, "codex").is_empty(), "answered");
    // An answer is delivered once; --all shows everything.
    assert_eq!(inbox(api, "claude"), vec!["argon2id"]);
    assert!(inbox(api, "claude").is_empty());
    let all = api
        .inbox(
            "claude",
            &InboxRequest {
                all: true,
                ..InboxRequest::default()
            },
        )
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].read_at.is_some());
    let thread = api.thread(a.id).unwrap();
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[0].answered_by.as_deref(), Some("codex"));
    let events: Vec<String> = api
        .events(&EventQuery {
            action: Some("message.".into()),
            ..EventQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(events, vec!["message.asked", "message.answered"]);
}

pub fn questions_to_any_reach_everyone_but_the_asker(api: &dyn Api) {
    ask(api, "claude", "any", "Who knows the deploy key?");
    ask(api, "claude", "human", "May I drop the old table?");
    assert_eq!(inbox(api, "codex"), vec!["Who knows the deploy key?"]);
    assert!(inbox(api, "claude").is_empty());
    assert_eq!(
        inbox(api, "human"),
        vec!["Who knows the deploy key?", "May I drop the old table?"]
    );
    let answers_only = api
        .inbox(
            "claude",
            &InboxRequest {
                reply_to: Some(crate::MessageId(2)),
                ..InboxRequest::default()
            },
        )
        .unwrap();
    assert!(answers_only.is_empty());
    api.answer(
        "human",
        crate::MessageId(2),
        AnswerRequest { body: "yes".into() },
    )
    .unwrap();
    let answers_only = api
        .inbox(
            "claude",
            &InboxRequest {
                reply_to: Some(crate::MessageId(2)),
                ..InboxRequest::default()
            },
        )
        .unwrap();
    assert_eq!(answers_only.len(), 1);
    assert_eq!(answers_only[0].from, "human");
}

pub fn asking_nobody_is_refused_with_a_way_out(api: &dyn Api) {
    let t = add(api, task("x"));
    let e = api
        .ask(
            "claude",
            AskRequest {
                to: t.id.to_string(),
                body: "?".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "task_not_held");
    assert!(e.hint().unwrap().contains("any"));
    let e = api
        .ask(
            "claude",
            AskRequest {
                to: "claude".into(),
                body: "?".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = api
        .ask(
            "claude",
            AskRequest {
                to: "codex".into(),
                body: "  ".into(),
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "invalid_input");
    let e = api
        .answer(
            "codex",
            crate::MessageId(5),
            AnswerRequest { body: "x".into() },
        )
        .unwrap_err();
    assert_eq!(e.code(), "message_not_found");
}

fn imported(source: &str) -> ImportedBoard {
    let at = Timestamp::parse("2026-03-21T18:00:00Z").unwrap();
    let t = |n: u64, status: Status, deps: &[u64]| ImportedTask {
        key: format!("uuid-{n}"),
        id: TaskId(n),
        title: format!("task {n}"),
        description: String::new(),
        status,
        blocked_reason: None,
        priority: Priority::P0,
        assignee: Some("codex".into()),
        epic: Some("Setup".into()),
        capabilities: Vec::new(),
        depends_on: deps.iter().map(|d| TaskId(*d)).collect(),
        verify: Some("true".into()),
        acceptance_criteria: vec!["works".into()],
        context_refs: vec!["doc-uuid".into()],
        notes: vec![Note {
            author: "codex".into(),
            at,
            text: "did it".into(),
        }],
        created_at: at,
        updated_at: at,
        started_at: None,
        completed_at: None,
    };
    ImportedBoard {
        source: source.into(),
        tasks: vec![t(1, Status::Done, &[]), t(3, Status::Open, &[1])],
        agents: vec![ImportedAgent {
            name: "codex".into(),
            first_seen: at,
            last_seen: at,
        }],
        docs: vec![ImportedDoc {
            key: "doc-uuid".into(),
            kind: DocType::Reference,
            title: "PRD".into(),
            body: "Build a snake game.".into(),
            tags: vec!["prd".into()],
            author: "human".into(),
            created_at: at,
            updated_at: at,
        }],
        events: vec![ImportedEvent {
            key: "e1".into(),
            at,
            actor: "codex".into(),
            action: "task.done".into(),
            task: Some(TaskId(1)),
            detail: serde_json::json!({ "notes": "did it" }),
        }],
    }
}

pub fn an_import_keeps_numbers_and_times_and_a_second_import_adds_nothing(api: &dyn Api) {
    let report = api.import_board("human", imported("tool:p1")).unwrap();
    assert_eq!(
        (
            report.tasks,
            report.docs,
            report.agents,
            report.events,
            report.skipped
        ),
        (2, 1, 1, 1, 0)
    );
    let t3 = api.get_task(TaskId(3)).unwrap();
    assert_eq!(t3.depends_on, vec![TaskId(1)]);
    assert!(t3.deps_met);
    assert_eq!(t3.context_refs, vec!["D-1"]);
    assert_eq!(t3.notes[0].text, "did it");
    assert_eq!(t3.created_at.to_string(), "2026-03-21T18:00:00.000Z");
    let e = api
        .events(&EventQuery {
            action: Some("task.done".into()),
            ..EventQuery::default()
        })
        .unwrap();
    assert_eq!(e[0].at.to_string(), "2026-03-21T18:00:00.000Z");
    assert_eq!(e[0].actor, "codex");
    let again = api.import_board("human", imported("tool:p1")).unwrap();
    assert_eq!(
        (again.tasks, again.docs, again.events, again.skipped),
        (0, 0, 0, 4)
    );
    assert_eq!(api.list_tasks(&TaskFilter::default()).unwrap().len(), 2);
    // New tasks continue after the imported numbers.
    assert_eq!(add(api, task("next")).id, TaskId(4));
    // Now the board holds a task of its own: another import is refused.
    let e = api.import_board("human", imported("tool:p1")).unwrap_err();
    assert_eq!(e.code(), "import_conflict");
    assert!(e.hint().unwrap().contains("baton init"));
}

pub fn an_import_into_a_board_with_its_own_tasks_is_refused(api: &dyn Api) {
    add(api, task("mine"));
    let e = api.import_board("human", imported("tool:p1")).unwrap_err();
    assert_eq!(e.code(), "import_conflict");
    assert_eq!(e.class().exit_code(), 4);
    assert!(
        api.list_docs(&DocFilter::default()).unwrap().is_empty(),
        "nothing half-written"
    );
}
