//! The dashboard for the person who looks in now and then, in a real headless Chromium:
//! what needs them first (with the action for each), notifications, the inbox with its
//! answers and every conversation, actions offered only where the lifecycle allows them,
//! agents' state by the lease rules, and a page that fits a laptop's half screen and a
//! phone. Screenshots of each view at 1400, 900 and 390 px go to `target/dashboard/`.

mod support;

use std::time::Duration;

use baton_core::api::{
    AnswerRequest, AskRequest, BlockRequest, DoneRequest, NewInitiative, NewPhase, NewProposal,
    NewRun, NewTask, PhaseAction, PhaseMoveRequest, PickupRequest,
};
use baton_core::{Api, Status, TaskId};
use fantoccini::Client;
use serde_json::json;
use support::browser::*;
use support::TestServer;

/// A laptop's full screen, its half screen, a phone.
const WIDTHS: [u64; 3] = [1400, 900, 390];

/// Shows the current view at each width: the page never gets wider than the window (tables
/// scroll inside themselves), and a screenshot of each goes to `target/dashboard/`.
async fn at_every_width(b: &Client, name: &str) {
    for width in WIDTHS {
        b.set_window_size(width as u32, 900).await.unwrap();
        until(
            b,
            &format!("Math.abs(window.innerWidth - {width}) < 40"),
            Duration::from_secs(5),
        )
        .await;
        let overflow = b
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{name} at {width} px is {overflow} px wider than the window"
        );
        // Nor does a column, card or panel reach past its right edge.
        let outside = b
            .execute(
                "return [...document.querySelectorAll('.column, .card, .panel, .top > *')]
                   .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
                   .map((e) => e.className || e.id || e.tagName);",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(outside, json!([]), "{name} at {width} px");
        screenshot(b, &format!("{name}-{width}")).await;
    }
    b.set_window_size(1280, 800).await.unwrap();
}

fn task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

fn ask(api: &dyn Api, from: &str, to: &str, body: &str) {
    api.ask(
        from,
        AskRequest {
            task: None,
            to: to.into(),
            body: body.into(),
        },
    )
    .unwrap();
}

/// `agent` picks up `id` and hands it in for review.
fn hand_in(api: &dyn Api, agent: &str, id: TaskId) {
    let claim = api
        .pickup(
            agent,
            &PickupRequest {
                id: Some(id),
                ..PickupRequest::default()
            },
        )
        .unwrap();
    api.done(
        agent,
        id,
        DoneRequest {
            summary: Some("done as asked".into()),
            notes: None,
            fence: Some(claim.claim.fence),
        },
    )
    .unwrap();
}

/// Stands in for the browser's notifications (a headless browser shows none): records what
/// the page would show, with the permission already given.
const FAKE_NOTIFICATIONS: &str = "window.shown = [];
    window.Notification = class {
      constructor(title, options) { window.shown.push(`${title} | ${options && options.body}`); }
      static get permission() { return 'granted'; }
      static requestPermission() { return Promise.resolve('granted'); }
    };";

#[test]
fn needs_me_comes_first_with_an_action_for_each_item_and_notifies_on_new_ones() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api: &dyn Api = &server.client;
    // Work in a phase that a runner did on a branch, so approving it queues a merge.
    let i = api
        .plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: "Checkout".into(),
                ..NewInitiative::default()
            },
        )
        .unwrap();
    let p = api
        .plan()
        .create_phase(
            "lead",
            NewPhase {
                initiative: i.id,
                name: "Cart".into(),
                content: None,
                depends_on: Vec::new(),
            },
        )
        .unwrap();
    api.add_tasks(
        "lead",
        vec![NewTask {
            phase: Some(p.id),
            ..task("Cart model")
        }],
    )
    .unwrap();
    api.plan()
        .move_phase(
            "lead",
            p.id,
            PhaseMoveRequest {
                action: PhaseAction::Approve,
                reason: None,
                comments: Vec::new(),
            },
        )
        .unwrap();
    let claim = api.pickup("codex", &PickupRequest::default()).unwrap();
    assert_eq!(claim.task.id, TaskId(1));
    api.start_run(
        "codex",
        NewRun {
            task: TaskId(1),
            provider: "command".into(),
            account: None,
            attempt: 1,
            runner: "host:1:1".into(),
            host: "host".into(),
            worktree: None,
            branch: Some("baton/T-1".into()),
            session: None,
            spool: None,
        },
    )
    .unwrap();
    api.done("codex", TaskId(1), DoneRequest::default())
        .unwrap();
    api.add_tasks(
        "lead",
        vec![task("Deploy"), task("Long job"), task("Second review")],
    )
    .unwrap();
    api.block(
        "lead",
        TaskId(2),
        BlockRequest {
            reason: "waiting for the cloud credentials".into(),
            fence: None,
        },
    )
    .unwrap();
    api.pickup(
        "claude",
        &PickupRequest {
            id: Some(TaskId(3)),
            ..PickupRequest::default()
        },
    )
    .unwrap();
    ask(api, "codex", "human", "May I drop the old sessions table?");
    ask(api, "codex", "claude", "Which port does the cart use?");
    // A planner's proposal waits for a person's decision.
    api.plan()
        .propose(
            "planner",
            NewProposal {
                initiative: i.id,
                target: baton_core::model::ProposalTarget::Page,
                target_id: None,
                title: "Checkout spec".into(),
                summary: Some("What the cart must do".into()),
                content: json!({"title": "Checkout spec", "body": "# Spec"}),
                task: None,
            },
        )
        .unwrap();
    // claude has been silent for 16 minutes: its 30-minute lease is under half its term.
    server.clock.advance(Duration::from_secs(16 * 60));

    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        // The page opens on what needs the person.
        b.goto(&format!("{url}/")).await.unwrap();
        until(
            &b,
            "document.body.dataset.shown === '#/needs' && !document.body.dataset.busy",
            Duration::from_secs(15),
        )
        .await;
        for item in [
            "#need-reviews [data-task=\"T-1\"] [data-approve]",
            "#need-reviews [data-task=\"T-1\"] form.reject",
            "#need-reviews [data-phase=\"P-1\"] a[href=\"#/diff/P-1\"]",
            "#need-questions [data-message=\"M-1\"] form.answer",
            "#need-blocked [data-task=\"T-2\"] [data-unblock]",
            "#need-stale [data-agent=\"claude\"] form.ask",
            "#need-proposals [data-proposal=\"PR-1\"] [data-accept-proposal]",
            "#need-proposals [data-proposal=\"PR-1\"] [data-dismiss-proposal]",
        ] {
            until(
                &b,
                &format!("document.querySelector('{item}')"),
                Duration::from_secs(10),
            )
            .await;
        }
        let text = b
            .execute("return document.querySelector('main').innerText", vec![])
            .await
            .unwrap();
        let text = text.as_str().unwrap();
        assert!(text.contains("waiting for the cloud credentials"), "{text}");
        assert!(
            !text.contains("Which port"),
            "a question between agents is not the person's: {text}"
        );
        let needs = b
            .execute(
                "return document.querySelector('#needs-count').innerText",
                vec![],
            )
            .await
            .unwrap();
        // With the phase, whose every task is handed in: it waits for its review too.
        assert_eq!(needs, json!("6"), "{text}");
        at_every_width(&b, "needs").await;

        // Notifications: off until asked for, then remembered.
        b.execute(FAKE_NOTIFICATIONS, vec![]).await.unwrap();
        click(&b, "#notify").await;
        until(
            &b,
            "document.querySelector('#notify').getAttribute('aria-pressed') === 'true' && localStorage.getItem('baton.notify') === 'on'",
            Duration::from_secs(5),
        )
        .await;
        hand_in(api, "codex", TaskId(4));
        ask(api, "claude", "human", "Should the cart expire after a day?");
        until(
            &b,
            "window.shown.some((n) => n.startsWith('T-4 waits for your review'))
             && window.shown.some((n) => n.startsWith('claude asks you') && n.includes('expire after a day'))",
            Duration::from_secs(10),
        )
        .await;
        let shown = b.execute("return window.shown", vec![]).await.unwrap();
        assert_eq!(
            shown.as_array().unwrap().len(),
            2,
            "only what is new is notified: {shown}"
        );

        // Each item's action, from this view.
        submit(
            &b,
            "[data-message=\"M-1\"] form.answer input",
            "Yes, it is unused since May",
            "[data-message=\"M-1\"] form.answer button",
            "!document.querySelector('#need-questions [data-message=\"M-1\"]')",
        )
        .await;
        let thread = api.thread(baton_core::MessageId(1)).unwrap();
        assert_eq!(thread[1].body, "Yes, it is unused since May");
        click(&b, "[data-dismiss-proposal=\"PR-1\"]").await;
        eventually("PR-1 dismissed", || {
            api.plan().get_proposal(baton_core::ProposalId(1)).unwrap().status.as_str() == "dismissed"
        })
        .await;
        click(&b, "[data-unblock=\"T-2\"]").await;
        eventually("T-2 unblocked", || {
            api.get_task(TaskId(2)).unwrap().status == Status::Open
        })
        .await;
        submit(
            &b,
            "form.reject[data-id=\"T-4\"] input",
            "Cover the empty cart",
            "form.reject[data-id=\"T-4\"] button",
            "!document.querySelector('#need-reviews [data-task=\"T-4\"]')",
        )
        .await;
        assert_eq!(api.get_task(TaskId(4)).unwrap().status, Status::Open);
        click(&b, "[data-approve=\"T-1\"]").await;
        eventually("T-1 approved", || {
            api.get_task(TaskId(1)).unwrap().status == Status::Done
        })
        .await;

        // Approving queued a merge; the runner finds a conflict: it waits for the person.
        let m = api
            .merges()
            .claim_merge(
                "runner",
                baton_core::api::MergeClaim {
                    runner: "r".into(),
                    lease_secs: None,
                },
            )
            .unwrap()
            .expect("the approval queued a merge");
        api.merges()
            .finish_merge(
                "runner",
                m.id,
                baton_core::api::MergeReport {
                    runner: "r".into(),
                    outcome: baton_core::api::MergeOutcome::Conflict {
                        base: "a".repeat(40),
                        source_head: "b".repeat(40),
                        target_head: "c".repeat(40),
                        files: vec!["src/cart.rs".into()],
                    },
                },
            )
            .unwrap();
        let merge = format!("#need-conflicts [data-merge=\"{}\"]", m.id);
        until(
            &b,
            &format!("document.querySelector('{merge}')?.innerText.includes('src/cart.rs')"),
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "needs-conflict").await;
        click(&b, &format!("{merge} [data-retry-merge]")).await;
        until(
            &b,
            &format!("!document.querySelector('{merge}')"),
            Duration::from_secs(10),
        )
        .await;

        // A reload remembers the choice.
        b.refresh().await.unwrap();
        until(
            &b,
            "document.querySelector('#notify').getAttribute('aria-pressed') === 'true'",
            Duration::from_secs(10),
        )
        .await;
        finish(b, &driver).await;
    });
}

#[test]
fn the_inbox_shows_answers_under_their_questions_and_every_conversation_between_agents() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api: &dyn Api = &server.client;
    ask(api, "codex", "human", "Which database for the tests?");
    api.answer(
        "human",
        baton_core::MessageId(1),
        AnswerRequest {
            body: "PostgreSQL 16".into(),
        },
    )
    .unwrap();
    ask(api, "codex", "human", "May I rename the crate?");
    ask(api, "claude", "codex", "Which port does the cart use?");
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/inbox").await;
        // Answered: marked so, with the answer under the question, and no answer form.
        until(
            &b,
            "document.querySelector('tr.answered[data-message=\"M-1\"] .answer-text')?.innerText.includes('PostgreSQL 16')",
            Duration::from_secs(10),
        )
        .await;
        until(
            &b,
            "document.querySelector('tr.answered[data-message=\"M-1\"] .state')?.innerText.includes('answered')
             && !document.querySelector('[data-message=\"M-1\"] form.answer')
             && document.querySelector('tr.open[data-message=\"M-3\"] form.answer')",
            Duration::from_secs(10),
        )
        .await;
        let mine = b
            .execute("return document.querySelector('main').innerText", vec![])
            .await
            .unwrap();
        assert!(!mine.as_str().unwrap().contains("Which port"), "{mine}");
        at_every_width(&b, "inbox").await;

        // Every conversation, between agents too, and it follows live.
        click(&b, "#all-messages").await;
        until(
            &b,
            "document.querySelector('tr.open[data-message=\"M-4\"]')?.innerText.includes('claude → codex')",
            Duration::from_secs(10),
        )
        .await;
        api.answer(
            "codex",
            baton_core::MessageId(4),
            AnswerRequest {
                body: "8080".into(),
            },
        )
        .unwrap();
        until(
            &b,
            "document.querySelector('tr.answered[data-message=\"M-4\"] .answer-text')?.innerText.includes('8080')",
            Duration::from_secs(10),
        )
        .await;
        at_every_width(&b, "inbox-all").await;
        // Reading every message delivered nothing: claude still gets its answer.
        let pending = api
            .inbox("claude", &baton_core::api::InboxRequest::default())
            .unwrap();
        assert_eq!(pending.len(), 1);
        finish(b, &driver).await;
    });
}

#[test]
fn a_task_offers_only_what_its_status_allows_a_click_opens_it_and_backlog_says_what_it_waits_for() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api: &dyn Api = &server.client;
    api.add_tasks(
        "lead",
        vec![
            NewTask {
                files: vec!["src/db/schema/migrations/very/deep/path/**".into()],
                ..task("Schema for the sessions store, with a long title that must wrap")
            },
            NewTask {
                depends_on: vec!["T-1".into()],
                ..task("Migrate the sessions")
            },
            task("Handed in"),
            task("Stuck"),
            NewTask {
                status: Some(Status::Backlog),
                ..task("Parked idea")
            },
        ],
    )
    .unwrap();
    hand_in(api, "codex", TaskId(3));
    api.block(
        "lead",
        TaskId(4),
        BlockRequest {
            reason: "no access".into(),
            fence: None,
        },
    )
    .unwrap();
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/board").await;
        until(
            &b,
            "document.querySelector('[data-status=\"backlog\"] .card[data-id=\"T-2\"] .waits')?.innerText.includes('waits for T-1 (open)')",
            Duration::from_secs(10),
        )
        .await;
        let parked = b
            .execute(
                "return document.querySelector('.card[data-id=\"T-5\"] .waits').innerText",
                vec![],
            )
            .await
            .unwrap();
        assert!(parked.as_str().unwrap().contains("nothing to wait for"), "{parked}");
        at_every_width(&b, "board").await;
        // A drop the lifecycle does not allow is refused on the spot, with where it may go.
        drag(&b, "T-5", "done").await;
        until(
            &b,
            "[...document.querySelectorAll('#toast .msg.error')].some((m) => m.innerText.includes('T-5 cannot go from backlog to done') && m.innerText.includes('blocked, open'))",
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(api.get_task(TaskId(5)).unwrap().status, Status::Backlog);

        // One click opens a card.
        click(&b, ".card[data-id=\"T-3\"]").await;
        until(
            &b,
            "document.body.dataset.shown === '#/task/T-3' && document.querySelector('#task-actions')",
            Duration::from_secs(10),
        )
        .await;
        at_every_width(&b, "task").await;

        // The actions each status allows, and no others.
        let offered = |id: &'static str| {
            let b = b.clone();
            let url = url.clone();
            async move {
                visit(&b, &url, &format!("#/task/{id}")).await;
                let v = b
                    .execute(
                        "return [...document.querySelectorAll('#task-actions button')].map((x) => x.innerText)",
                        vec![],
                    )
                    .await
                    .unwrap();
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            offered("T-3").await,
            ["Approve", "Reject…", "Block…", "Delete…"]
        );
        assert_eq!(
            offered("T-2").await,
            ["Block…", "Move to open", "Delete…"]
        );
        assert_eq!(
            offered("T-1").await,
            ["Pick up", "Block…", "Move to backlog", "Delete…"]
        );
        assert_eq!(offered("T-4").await, ["Unblock", "Delete…"]);
        let statuses = b
            .execute(
                "return [...document.querySelectorAll('#e-status option')].map((o) => o.value)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(statuses, json!(["blocked"]), "a blocked task leaves by unblock");

        // T-1 handed in: T-2 no longer waits, and moves to open by itself.
        hand_in(api, "codex", TaskId(1));
        visit(&b, &url, "#/board").await;
        until(
            &b,
            "document.querySelector('[data-status=\"open\"] .card[data-id=\"T-2\"]') && !document.querySelector('.card[data-id=\"T-2\"] .waits')",
            Duration::from_secs(10),
        )
        .await;
        finish(b, &driver).await;
    });
}

#[test]
fn agents_are_stale_by_their_leases_not_after_ten_minutes() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api: &dyn Api = &server.client;
    api.add_tasks("lead", vec![task("Long job"), task("Other job")])
        .unwrap();
    api.pickup("claude", &PickupRequest::default()).unwrap();
    api.pickup("codex", &PickupRequest::default()).unwrap();
    // Twelve minutes of silence with 18 minutes left on a 30-minute lease.
    server.clock.advance(Duration::from_secs(12 * 60));
    api.heartbeat("codex", &Default::default()).unwrap();
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        let state = |name: &'static str| {
            format!("document.querySelector('#agents [data-agent=\"{name}\"] .agent-state')?.innerText")
        };
        visit(&b, &url, "#/agents").await;
        until(
            &b,
            &format!("{} === 'working' && {} === 'working'", state("claude"), state("codex")),
            Duration::from_secs(10),
        )
        .await;
        at_every_width(&b, "agents").await;
        // Past half its lease without a call: stale, and among what needs the person.
        server.clock.advance(Duration::from_secs(4 * 60));
        visit(&b, &url, "#/needs").await;
        until(
            &b,
            "document.querySelector('#need-stale [data-agent=\"claude\"]')?.innerText.includes('T-1')
             && !document.querySelector('#need-stale [data-agent=\"codex\"]')",
            Duration::from_secs(10),
        )
        .await;
        visit(&b, &url, "#/agents").await;
        until(
            &b,
            &format!("{} === 'stale' && {} === 'working'", state("claude"), state("codex")),
            Duration::from_secs(10),
        )
        .await;
        finish(b, &driver).await;
    });
}

#[test]
fn the_code_page_shows_the_index_summary_as_tables() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let (_dir, server) = python_code_server(
        "import os\n\nclass SessionStore:\n    def refresh(self, token):\n        return token\n",
    );
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/code").await;
        until(
            &b,
            "document.querySelector('#code-summary [data-field=\"files\"]')?.innerText === '3'",
            Duration::from_secs(10),
        )
        .await;
        let languages = b
            .execute(
                "return [...document.querySelectorAll('#code-languages tr')].slice(1).map((r) => [...r.cells].map((c) => c.innerText))",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(languages, json!([["python", "3", "3"]]));
        let text = b
            .execute("return document.querySelector('main').innerText", vec![])
            .await
            .unwrap();
        let text = text.as_str().unwrap();
        assert!(!text.contains("{\""), "no raw JSON: {text}");
        assert!(text.contains("app/session.py"), "most imported: {text}");
        assert!(text.contains("class"), "kinds: {text}");
        at_every_width(&b, "code-summary").await;
        finish(b, &driver).await;
    });
}

#[test]
fn every_view_fits_a_laptops_half_screen_and_a_phone() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api: &dyn Api = &server.client;
    api.add_tasks(
        "lead",
        vec![
            NewTask {
                files: vec!["src/a/very/long/path/to/somewhere/deep/inside/the/tree/**".into()],
                ..task("A task with a title long enough to need wrapping on a phone screen")
            },
            task("Second"),
        ],
    )
    .unwrap();
    hand_in(api, "codex", TaskId(2));
    ask(
        api,
        "codex",
        "human",
        "A question with a rather long body that has to wrap somewhere on a small screen?",
    );
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        for view in [
            "needs",
            "board",
            "new",
            "plan",
            "graph",
            "charts",
            "agents",
            "runs",
            "reservations",
            "docs",
            "inbox",
            "ops",
            "events",
            "task/T-1",
        ] {
            visit(&b, &url, &format!("#/{view}")).await;
            until(
                &b,
                "document.querySelector('main h1, main .columns')",
                Duration::from_secs(10),
            )
            .await;
            for width in [900u32, 390] {
                b.set_window_size(width, 900).await.unwrap();
                until(
                    &b,
                    &format!("Math.abs(window.innerWidth - {width}) < 40"),
                    Duration::from_secs(5),
                )
                .await;
                let overflow = b
                    .execute(
                        "return document.documentElement.scrollWidth - window.innerWidth;",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert!(
                    overflow.as_i64().unwrap() <= 0,
                    "#/{view} at {width} px is {overflow} px wider than the window"
                );
            }
            b.set_window_size(1280, 800).await.unwrap();
        }
        finish(b, &driver).await;
    });
}
