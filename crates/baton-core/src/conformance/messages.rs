//! Scenarios for messages and for importing a board, run on every `Api`.

use super::{add, task};
use crate::api::*;
use crate::model::{DocType, Note, Status};
use crate::store::EventQuery;
use crate::time::Timestamp;
use crate::{Api, Priority, TaskId};

fn ask(api: &dyn Api, from: &str, to: &str, body: &str) -> crate::model::Message {
    api.ask(
        from,
        AskRequest {
            task: None,
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

pub fn every_message_is_listed_whoever_it_is_between_and_listing_delivers_nothing(api: &dyn Api) {
    let q = ask(api, "claude", "codex", "Which port?");
    ask(api, "codex", "human", "May I drop the table?");
    let a = api
        .answer(
            "codex",
            q.id,
            AnswerRequest {
                body: "8080".into(),
            },
        )
        .unwrap();
    let all = api.messages(None).unwrap();
    let bodies: Vec<&str> = all.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["Which port?", "May I drop the table?", "8080"]);
    assert_eq!(all[0].answered_by.as_deref(), Some("codex"));
    let newest = api.messages(Some(2)).unwrap();
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[1].id, a.id);
    // The answer is still waiting for claude: listing everything delivered nothing.
    assert_eq!(inbox(api, "claude"), vec!["8080"]);
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

pub fn a_question_to_a_name_nobody_used_is_kept_with_a_warning(api: &dyn Api) {
    add(api, task("seen"));
    api.pickup("claude-1", &PickupRequest::default()).unwrap();
    let typo = ask(api, "codex", "claude1", "is the API frozen?");
    let warning = typo.warning.expect("a warning");
    assert!(warning.contains("nobody named 'claude1'"), "{warning}");
    assert!(warning.contains("claude-1"), "{warning}");
    // Kept: it waits for them.
    assert_eq!(inbox(api, "claude1"), vec!["is the API frozen?"]);
    // Known names, a person and everyone get none; neither do listed messages.
    for to in ["claude-1", HUMAN, "any"] {
        assert_eq!(ask(api, "codex", to, "hello").warning, None, "{to}");
    }
    let thread = api.thread(typo.id).unwrap();
    assert_eq!(thread[0].warning, None);
}

pub fn asking_nobody_is_refused_with_a_way_out(api: &dyn Api) {
    let t = add(api, task("x"));
    let e = api
        .ask(
            "claude",
            AskRequest {
                task: None,
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
                task: None,
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
                task: None,
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
