//! The dashboard in a real headless Chromium (Debian's chromium and chromium-driver,
//! installed by `.ci/run`), driven over WebDriver: create a task in the UI, drag it,
//! approve it, watch a change made outside the browser appear live, no console errors.
//! Screenshots go to `target/dashboard/`.

mod support;

use std::process::Command;
use std::time::Duration;

use baton_core::api::{DoneRequest, NewTask, PickupRequest};
use baton_core::Api;
use fantoccini::Locator;
use serde_json::{json, Value};
use support::browser::*;
use support::TestServer;

#[test]
fn a_person_creates_drags_and_approves_a_task_and_sees_agents_work_live() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let mut server = TestServer::start();
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/new").await;
        b.wait()
            .for_element(Locator::Css("#n-title"))
            .await
            .unwrap();
        type_into(&b, "#n-title", "Write the parser").await;
        type_into(&b, "#n-epic", "lang").await;
        type_into(&b, "#n-files", "src/parse/**").await;
        click(&b, "#new button").await;
        until(
            &b,
            "location.hash === '#/task/T-1'",
            Duration::from_secs(10),
        )
        .await;
        let t = server.client.get_task(baton_core::TaskId(1)).unwrap();
        assert_eq!(
            (t.title.as_str(), t.epic.as_deref()),
            ("Write the parser", Some("lang"))
        );
        assert_eq!(t.files, ["src/parse/**"]);

        // The board: drag to backlog and back.
        visit(&b, &url, "#/board").await;
        until(&b, &card_in("T-1", "open"), Duration::from_secs(10)).await;
        screenshot(&b, "board").await;
        drag(&b, "T-1", "backlog").await;
        until(&b, &card_in("T-1", "backlog"), Duration::from_secs(10)).await;
        assert_eq!(
            server
                .client
                .get_task(baton_core::TaskId(1))
                .unwrap()
                .status
                .as_str(),
            "backlog"
        );
        drag(&b, "T-1", "open").await;
        until(&b, &card_in("T-1", "open"), Duration::from_secs(10)).await;

        // An agent picks it up and hands it in, outside the browser: the board follows live.
        let claim = server
            .client
            .pickup("codex", &PickupRequest::default())
            .unwrap();
        let seen = until(&b, &card_in("T-1", "in-progress"), Duration::from_secs(5)).await;
        eprintln!("live update (pickup by an agent) seen after {seen:?}");
        assert!(seen < Duration::from_secs(1), "{seen:?}");
        // A refused move snaps back with the reason: a person cannot hand in codex's work.
        drag(&b, "T-1", "review").await;
        until(
            &b,
            "document.querySelector('#toast .msg.error')",
            Duration::from_secs(5),
        )
        .await;
        until(&b, &card_in("T-1", "in-progress"), Duration::from_secs(5)).await;
        let toast = b
            .find(Locator::Css("#toast .msg.error"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            toast.contains("reserved") || toast.contains("holder") || toast.contains("hold"),
            "{toast}"
        );
        server
            .client
            .done(
                "codex",
                claim.task.id,
                DoneRequest {
                    summary: None,
                    notes: None,
                    fence: Some(claim.claim.fence),
                },
            )
            .unwrap();
        until(&b, &card_in("T-1", "review"), Duration::from_secs(5)).await;

        // Approve by dragging to done.
        drag(&b, "T-1", "done").await;
        until(&b, &card_in("T-1", "done"), Duration::from_secs(10)).await;
        let t = server.client.get_task(baton_core::TaskId(1)).unwrap();
        assert_eq!(t.status.as_str(), "done");

        // A change written straight to the database (as a CLI process would) shows up.
        let direct = baton_core::Board::new(baton_sqlite::SqliteStore::open(&server.db).unwrap());
        direct
            .add_tasks(
                "cli",
                vec![NewTask {
                    title: "From the shell".into(),
                    ..NewTask::default()
                }],
            )
            .unwrap();
        let seen = until(&b, &card_in("T-2", "open"), Duration::from_secs(5)).await;
        eprintln!("live update (CLI write to the file) seen after {seen:?}");
        assert!(seen < Duration::from_secs(1), "{seen:?}");

        // The task page: notes, history, the approve action's effect.
        visit(&b, &url, "#/task/T-1").await;
        until(
            &b,
            "document.querySelector('#note')",
            Duration::from_secs(10),
        )
        .await;
        type_into(&b, "#note textarea", "looks good").await;
        click(&b, "#note button").await;
        until(
            &b,
            "document.body.innerText.includes('looks good')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "task").await;
        // Keyboard users change status from the edit form (no drag needed).
        visit(&b, &url, "#/task/T-2").await;
        until(
            &b,
            "document.querySelector('#e-status')",
            Duration::from_secs(10),
        )
        .await;
        b.execute(
            "document.querySelector('#e-status').value = 'backlog'",
            vec![],
        )
        .await
        .unwrap();
        click(&b, "#edit button").await;
        until(
            &b,
            "document.body.innerText.includes('T-2 saved')",
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(
            server
                .client
                .get_task(baton_core::TaskId(2))
                .unwrap()
                .status
                .as_str(),
            "backlog"
        );
        server
            .client
            .update_task(
                "lead",
                baton_core::TaskId(2),
                baton_core::api::TaskPatch {
                    status: Some(baton_core::Status::Open),
                    ..Default::default()
                },
            )
            .unwrap();
        for view in [
            "agents",
            "reservations",
            "docs",
            "inbox",
            "events",
            "graph",
            "charts",
        ] {
            visit(&b, &url, &format!("#/{view}")).await;
            until(
                &b,
                "document.querySelector('main h1')",
                Duration::from_secs(10),
            )
            .await;
            screenshot(&b, view).await;
        }
        // Dark theme, keyboard: the toggle is a button, cards are focusable.
        click(&b, "#theme").await;
        visit(&b, &url, "#/board").await;
        until(&b, &card_in("T-2", "open"), Duration::from_secs(10)).await;
        let focusable = b
            .execute("return document.querySelector('.card').tabIndex", vec![])
            .await
            .unwrap();
        assert_eq!(focusable, json!(0));
        screenshot(&b, "board-dark").await;

        // Reloads do not leak the event stream's connection (browsers allow six per
        // server; a leak hangs the seventh load).
        for i in 0..8 {
            b.goto(&format!("{url}/?reload={i}#/board")).await.unwrap();
            until(&b, &card_in("T-2", "open"), Duration::from_secs(10)).await;
        }
        let errors = console_errors(&b, &driver).await;
        // The refused drag above was answered with an error on purpose; the browser logs
        // that request. Nothing else may be logged as an error.
        let unexpected: Vec<_> = errors
            .iter()
            .filter(|e| {
                !e["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("/api/v1/tasks/T-1/done")
            })
            .collect();
        assert!(unexpected.is_empty(), "console errors: {unexpected:?}");

        // The server restarts: the page reconnects and catches up on what it missed.
        // (From another thread: the test server has a runtime of its own.)
        std::thread::scope(|scope| scope.spawn(|| server.restart()).join().unwrap());
        server
            .client
            .add_tasks(
                "lead",
                vec![NewTask {
                    title: "After the restart".into(),
                    ..NewTask::default()
                }],
            )
            .unwrap();
        until(&b, &card_in("T-3", "open"), Duration::from_secs(15)).await;
        until(
            &b,
            "document.querySelector('#live.on')",
            Duration::from_secs(15),
        )
        .await;
        b.close().await.unwrap();
    });
}

/// Renders a 5,000-task board and reports how long it took (docs/PERFORMANCE.md).
#[test]
fn a_five_thousand_task_board_renders_in_about_a_second() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let batch: Vec<NewTask> = (0..5000)
        .map(|i| NewTask {
            title: format!("Task {i}: a title of a realistic length"),
            epic: Some(format!("epic-{}", i % 12)),
            files: vec![format!("src/module_{i}/**")],
            ..NewTask::default()
        })
        .collect();
    server.client.add_tasks("lead", batch).unwrap();
    for i in 0..800 {
        server
            .client
            .pickup(&format!("agent-{}", i % 8), &PickupRequest::default())
            .unwrap();
    }
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/board").await;
        until(&b, "document.body.dataset.rendered", Duration::from_secs(20)).await;
        let ms = b
            .execute(
                "return Number(document.body.dataset.rendered) - performance.timeOrigin;",
                vec![],
            )
            .await
            .unwrap();
        let cards = b
            .execute("return document.querySelectorAll('.card').length", vec![])
            .await
            .unwrap();
        assert_eq!(cards, json!(5000));
        let fetch = b
            .execute(
                "const r = performance.getEntriesByType('resource').find(e => e.name.includes('/api/v1/tasks?'));
                 return r ? Math.round(r.duration) : -1;",
                vec![],
            )
            .await
            .unwrap();
        eprintln!("5,000-task board rendered {ms} ms after navigation start (the task list fetch: {fetch} ms)");
        screenshot(&b, "board-5000").await;
        b.close().await.unwrap();
    });
}

#[test]
fn the_code_explorer_finds_a_symbol_and_shows_its_file() {
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let (_dir, server) = python_code_server(
        "class SessionStore:\n    def refresh(self, token):\n        return token\n",
    );
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/code").await;
        until(&b, "document.querySelector('#cs')", Duration::from_secs(10)).await;
        type_into(&b, "#cs input", "SessionSt").await;
        click(&b, "#cs button").await;
        until(
            &b,
            "document.body.innerText.includes('app/session.py:1')",
            Duration::from_secs(10),
        )
        .await;
        b.find(Locator::LinkText("app/session.py:1"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        until(
            &b,
            "document.body.innerText.includes('refresh')",
            Duration::from_secs(10),
        )
        .await;
        until(
            &b,
            "document.body.innerText.includes('app/login.py')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "code").await;
        finish(b, &driver).await;
    });
}

#[test]
fn runs_show_their_output_live_and_a_person_stops_and_retries_them() {
    use baton_core::api::{AccountUpdate, BlockRequest, NewRun, RunEnd, RunUpdate};
    use baton_core::model::{AccountStatus, RunStatus};
    use baton_core::RunId;

    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api = &server.client;
    let task = api
        .add_tasks(
            "lead",
            vec![NewTask {
                title: "Login page".into(),
                ..NewTask::default()
            }],
        )
        .unwrap()
        .remove(0);
    let claim = api.pickup("claude-1", &PickupRequest::default()).unwrap();
    let run = api
        .start_run(
            "claude-1",
            NewRun {
                task: task.id,
                provider: "claude".into(),
                account: Some("first".into()),
                attempt: 1,
                runner: "build-1:1:1".into(),
                host: "build-1".into(),
                worktree: None,
                branch: Some("baton/T-1".into()),
                session: None,
                spool: None,
            },
        )
        .unwrap();
    api.update_run(
        "claude-1",
        run.id,
        RunUpdate {
            pid: Some(4242),
            ..RunUpdate::default()
        },
    )
    .unwrap();
    api.append_run_log(
        run.id,
        vec!["hello from the agent".into(), "<b>not markup</b>".into()],
    )
    .unwrap();
    let until_later = baton_core::time::Timestamp::now().plus(Duration::from_secs(3600));
    for (name, status, until) in [
        ("first", AccountStatus::Cooling, Some(until_later)),
        ("second", AccountStatus::Available, None),
    ] {
        api.set_account(
            "claude-1",
            AccountUpdate {
                provider: "claude".into(),
                name: name.into(),
                status,
                until,
                reason: None,
                used: true,
            },
        )
        .unwrap();
    }
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/runs").await;
        until(&b, "document.querySelector('tr[data-run=\"R-1\"]')", Duration::from_secs(10)).await;
        until(
            &b,
            "document.querySelector('[data-account=\"claude/first\"]').innerText.includes('cooling')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "runs").await;
        b.find(Locator::LinkText("R-1")).await.unwrap().click().await.unwrap();
        until(
            &b,
            "document.querySelector('#run-log')?.textContent.includes('hello from the agent')",
            Duration::from_secs(10),
        )
        .await;
        let log: String = b
            .execute("return document.querySelector('#run-log').innerHTML;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert!(log.contains("&lt;b&gt;not markup"), "output is text, never markup: {log}");
        // A line stored now appears without a reload.
        api.append_run_log(run.id, vec!["a line written later".into()]).unwrap();
        let took = until(
            &b,
            "document.querySelector('#run-log').textContent.includes('a line written later')",
            Duration::from_secs(10),
        )
        .await;
        assert!(took < Duration::from_secs(3), "live output took {took:?}");

        click(&b, "[data-stop=\"R-1\"]").await;
        eventually("the stop request reached the board", || api.get_run(RunId(1)).unwrap().stop_requested).await;
        // The runner stops it and blocks the task; the page follows.
        api.finish_run(
            "claude-1",
            run.id,
            RunEnd {
                status: RunStatus::Stopped,
                reason: None,
                final_text: Some("Stopped halfway.".into()),
                session: Some("sess-1".into()),
                usage: None,
            },
        )
        .unwrap();
        api.block(
            "claude-1",
            task.id,
            BlockRequest {
                reason: "run R-1 was stopped".into(),
                fence: Some(claim.claim.fence),
            },
        )
        .unwrap();
        until(&b, "document.querySelector('#run-log').dataset.ended === 'true'", Duration::from_secs(10)).await;
        until(&b, "document.querySelector('[data-retry=\"R-1\"]')", Duration::from_secs(10)).await;
        assert!(
            b.execute("return document.querySelector('#run-log').textContent;", vec![])
                .await
                .unwrap()
                .as_str()
                .unwrap()
                .matches("hello from the agent")
                .count()
                == 1,
            "a live re-render does not repeat the output"
        );
        click(&b, "[data-retry=\"R-1\"]").await;
        eventually("the retry put the task back", || api.get_task(task.id).unwrap().status == baton_core::Status::Open).await;
        screenshot(&b, "run").await;
        finish(b, &driver).await;
    });
}

/// Team mode in the browser: the page shows a login form, logs in (the session is an
/// HttpOnly cookie the page's script cannot read), says who and which role, switches to
/// another project, makes a token shown once, and logs out.
#[test]
fn a_person_logs_in_switches_project_makes_a_token_and_logs_out() {
    use baton_core::auth::Role;
    use baton_core::instance::NewUser;
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start_with(baton_server::ServerOptions {
        team: true,
        ..baton_server::ServerOptions::default()
    });
    let store = baton_core::Board::new(baton_sqlite::SqliteStore::open(&server.db).unwrap());
    let i = store.instance();
    for (name, admin) in [("root", true), ("maya", false)] {
        i.add_user(
            "setup",
            NewUser {
                name: name.into(),
                email: None,
                password: "correct horse battery".into(),
                admin,
            },
        )
        .unwrap();
    }
    i.register_project("root", "web", "Web shop").unwrap();
    i.set_member("root", "default", "maya", Some(Role::Viewer))
        .unwrap();
    i.set_member("root", "web", "maya", Some(Role::Maintainer))
        .unwrap();
    store
        .add_tasks(
            "root",
            vec![NewTask {
                title: "Default project work".into(),
                ..NewTask::default()
            }],
        )
        .unwrap();
    let url = server.url.clone();
    let root_token = i
        .create_token(
            "root",
            baton_core::instance::NewToken {
                name: None,
                project: None,
                agent: None,
                role: Role::Admin,
                expires_at: None,
            },
        )
        .unwrap()
        .token;
    let web = baton_client::Client::new(&url, Some(root_token))
        .unwrap()
        .for_project(Some("web"));
    web.add_tasks(
        "root",
        vec![NewTask {
            title: "Web project work".into(),
            ..NewTask::default()
        }],
    )
    .unwrap();
    runtime().block_on(async {
        let b = browser(&driver).await;
        b.goto(&format!("{url}/#/board")).await.unwrap();
        until(&b, "document.querySelector('#login')", Duration::from_secs(10)).await;
        screenshot(&b, "login").await;
        type_into(&b, "#login input[name=name]", "maya").await;
        type_into(&b, "#login input[name=password]", "wrong password").await;
        click(&b, "#login button").await;
        until(
            &b,
            "document.querySelector('#toast')?.textContent.includes('password is wrong')",
            Duration::from_secs(10),
        )
        .await;
        let field = b
            .find(Locator::Css("#login input[name=password]"))
            .await
            .unwrap();
        field.clear().await.unwrap();
        type_into(&b, "#login input[name=password]", "correct horse battery").await;
        click(&b, "#login button").await;
        until(
            &b,
            "document.querySelector('#me')?.textContent.includes('maya · viewer')",
            Duration::from_secs(10),
        )
        .await;
        until(
            &b,
            "document.body.textContent.includes('Default project work')",
            Duration::from_secs(10),
        )
        .await;
        // The session cookie is HttpOnly: the page's script cannot read it.
        let cookies = b.execute("return document.cookie", vec![]).await.unwrap();
        assert!(!cookies.as_str().unwrap_or("").contains("baton_session"));
        assert!(
            b.find(Locator::Css("#tokens-link"))
                .await
                .unwrap()
                .attr("hidden")
                .await
                .unwrap()
                .is_some(),
            "a viewer manages no tokens"
        );
        // Switch to the project maya maintains.
        b.execute(
            "const s = document.querySelector('#switch'); s.value = 'web'; s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap();
        until(
            &b,
            "document.querySelector('#me')?.textContent.includes('maya · maintainer')",
            Duration::from_secs(10),
        )
        .await;
        until(
            &b,
            "document.body.textContent.includes('Web project work') && !document.body.textContent.includes('Default project work')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "team-board").await;
        visit(&b, &url, "#/tokens").await;
        until(&b, "document.querySelector('#new-token')", Duration::from_secs(10)).await;
        type_into(&b, "#new-token input[name=agent]", "claude").await;
        click(&b, "#new-token button").await;
        until(
            &b,
            "document.querySelector('#new-secret')?.textContent.startsWith('baton_')",
            Duration::from_secs(10),
        )
        .await;
        let secret = b
            .execute("return document.querySelector('#new-secret').textContent", vec![])
            .await
            .unwrap();
        let secret = secret.as_str().unwrap().to_string();
        screenshot(&b, "token-made").await;
        // The new token works, for web, as claude.
        let agent = baton_client::Client::new(&url, Some(secret.clone()))
            .unwrap()
            .for_project(Some("web"));
        let me = agent.whoami().unwrap();
        assert_eq!((me["agent"].as_str(), me["role"].as_str()), (Some("claude"), Some("agent")));
        click(&b, "#logout").await;
        until(&b, "document.querySelector('#login')", Duration::from_secs(10)).await;
        b.goto(&format!("{url}/#/board")).await.unwrap();
        until(&b, "document.querySelector('#login')", Duration::from_secs(10)).await;
        let errors = console_errors(&b, &driver).await;
        // The wrong password and the logged-out page answer 401, which the console logs.
        let unexpected: Vec<&Value> = errors
            .iter()
            .filter(|e| !e["message"].as_str().unwrap_or("").contains("401"))
            .collect();
        assert!(unexpected.is_empty(), "console errors: {unexpected:?}");
        b.close().await.unwrap();
    });
}

/// The plan in the browser: a person accepts an agent's plan proposal, sees the phases as
/// lanes with their gates, approves the first phase, reviews its finished work with a line
/// comment and a request for changes (a revision task appears), then approves it and sees
/// the next phase open; a page is edited into a new version.
#[test]
fn a_person_accepts_a_plan_and_reviews_a_phase_in_the_browser() {
    use baton_core::api::{NewInitiative, NewPage, NewProposal, TaskFilter};
    use baton_core::model::{PhaseStatus, ProposalTarget};
    use baton_core::PhaseId;

    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api = &server.client;
    let i = api
        .plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: "Search".into(),
                description: Some("Find anything — fast.".into()),
                ..NewInitiative::default()
            },
        )
        .unwrap();
    let page = api
        .plan()
        .add_page(
            "lead",
            NewPage {
                initiative: i.id,
                parent: None,
                title: "Search spec".into(),
                body: Some("# Search\n\nFirst draft.".into()),
            },
        )
        .unwrap();
    api.plan()
        .propose(
            "planner",
            NewProposal {
                initiative: i.id,
                target: ProposalTarget::Plan,
                target_id: None,
                title: "Index, then query".into(),
                summary: Some("Two phases.".into()),
                content: json!({"phases": [
                    {"key": "index", "name": "Indexer", "tasks": [{"title": "tokenizer"}]},
                    {"key": "query", "name": "Query API", "depends_on": ["index"],
                     "tasks": [{"title": "search endpoint"}]}]}),
                task: None,
            },
        )
        .unwrap();
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/plan").await;
        until(&b, "document.querySelector('[data-accept=\"PR-1\"]')", Duration::from_secs(10)).await;
        click(&b, "[data-accept=\"PR-1\"]").await;
        until(&b, "document.querySelector('[data-phase=\"P-2\"]')", Duration::from_secs(10)).await;
        until(
            &b,
            "document.querySelector('[data-phase=\"P-1\"]').innerText.includes('gate closed')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "plan").await;
        // Phase 2's plan is approved now; it still waits for phase 1.
        api.plan()
            .move_phase(
                "lead",
                PhaseId(2),
                baton_core::api::PhaseMoveRequest {
                    action: baton_core::api::PhaseAction::Approve,
                    reason: None,
                    comments: Vec::new(),
                },
            )
            .unwrap();

        visit(&b, &url, "#/phase/P-1").await;
        until(&b, "document.querySelector('#approve-phase')", Duration::from_secs(10)).await;
        click(&b, "#approve-phase").await;
        eventually("the approval reached the board", || api.plan().get_phase(PhaseId(1)).unwrap().status == PhaseStatus::Approved).await;
        // An agent works the phase outside the browser; the page follows live.
        let p = api.pickup("claude-1", &PickupRequest::default()).unwrap();
        api.done(
            "claude-1",
            p.task.id,
            DoneRequest {
                summary: Some("Unicode-aware tokenizer.".into()),
                ..DoneRequest::default()
            },
        )
        .unwrap();
        until(&b, "document.querySelector('#changes')", Duration::from_secs(10)).await;
        until(
            &b,
            "document.querySelector('#phase-tasks').innerText.includes('Unicode-aware tokenizer.')",
            Duration::from_secs(10),
        )
        .await;
        type_into(&b, "#comment [name=file]", "src/tokenize.rs").await;
        type_into(&b, "#comment [name=line]", "17").await;
        type_into(&b, "#comment [name=body]", "<i>Split on graphemes</i>, not bytes").await;
        click(&b, "#comment button").await;
        until(&b, "document.querySelector('[data-comment=\"C-1\"]')", Duration::from_secs(10)).await;
        let shown: String = b
            .execute("return document.querySelector('[data-comment=\"C-1\"] .body').innerHTML;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert!(shown.contains("&lt;i&gt;"), "a comment is text, never markup: {shown}");
        type_into(&b, "#changes [name=reason]", "Graphemes please").await;
        click(&b, "#changes button").await;
        until(&b, "document.querySelector('#phase-tasks tr[data-task=\"T-3\"]')", Duration::from_secs(10)).await;
        let revision = api.get_task(baton_core::TaskId(3)).unwrap();
        assert!(revision.description.contains("Split on graphemes"));
        screenshot(&b, "phase").await;

        let p = api.pickup("claude-1", &PickupRequest::default()).unwrap();
        assert_eq!(p.task.id, revision.id);
        api.done("claude-1", p.task.id, DoneRequest::default()).unwrap();
        click(&b, "[data-resolve=\"C-1\"]").await;
        until(&b, "document.querySelector('#approve-phase')", Duration::from_secs(10)).await;
        click(&b, "#approve-phase").await;
        eventually("approving phase 1 opened phase 2", || api.plan().get_phase(PhaseId(2)).unwrap().open).await;
        assert_eq!(
            api.list_tasks(&TaskFilter { phase: Some(PhaseId(1)), ..TaskFilter::default() })
                .unwrap()
                .iter()
                .filter(|t| t.status == baton_core::Status::Done)
                .count(),
            2
        );
        visit(&b, &url, "#/plan").await;
        until(
            &b,
            "document.querySelector('[data-phase=\"P-2\"]')?.innerText.includes('gate open')",
            Duration::from_secs(10),
        )
        .await;

        // A page is a doc: edited in place into its next version.
        visit(&b, &url, &format!("#/doc/{}", page.doc)).await;
        until(&b, "document.querySelector('#edit-doc')", Duration::from_secs(10)).await;
        b.execute(
            "document.querySelector('#edit-doc details, details.panel').open = true; \
             document.querySelector('#edit-doc [name=body]').value = '# Search\\n\\nSecond draft.';",
            vec![],
        )
        .await
        .unwrap();
        click(&b, "#edit-doc button").await;
        eventually("the edit made version 2", || api.get_doc(page.doc).unwrap().version == 2).await;
        assert!(api.get_doc(page.doc).unwrap().body.contains("Second draft."));
        finish(b, &driver).await;
    });
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_person_reviews_a_phase_on_its_diff_with_threaded_line_comments() {
    use baton_core::api::{NewInitiative, NewPhase, PhaseAction, PhaseMoveRequest};
    use baton_core::model::PhaseStatus;
    use baton_core::PhaseId;

    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    // A repository whose phase branch holds the phase's work (as merges left it).
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(repo.join("src")).unwrap();
    std::fs::write(repo.join("src/search.rs"), "fn search() {}\n").unwrap();
    std::fs::write(repo.join("README.md"), "app\n").unwrap();
    git(repo, &["add", "."]);
    git(
        repo,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b.invalid",
            "commit",
            "-qm",
            "first",
        ],
    );
    git(repo, &["branch", "baton/search"]);
    git(repo, &["checkout", "-q", "-b", "baton/search--P-1"]);
    std::fs::write(
        repo.join("src/search.rs"),
        "fn search(query: &str) -> Vec<Hit> {\n    index().find(query)\n}\n",
    )
    .unwrap();
    std::fs::write(
        repo.join("src/index.rs"),
        "pub fn index() -> Index {\n    Index::open()\n}\n",
    )
    .unwrap();
    git(repo, &["add", "."]);
    git(
        repo,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b.invalid",
            "commit",
            "-qm",
            "search",
        ],
    );
    // And an errand's branch, as its runner left it.
    git(repo, &["checkout", "-q", "-b", "baton/errand-2", "main"]);
    std::fs::write(repo.join("README.md"), "app, with the typo fixed\n").unwrap();
    git(
        repo,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b.invalid",
            "commit",
            "-qam",
            "typo",
        ],
    );
    git(repo, &["checkout", "-q", "main"]);

    let server = TestServer::start_with(baton_server::ServerOptions {
        code_root: Some(repo.to_path_buf()),
        ..baton_server::ServerOptions::default()
    });
    let api = &server.client;
    let i = api
        .plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: "Search".into(),
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
                name: "Query".into(),
                content: None,
                depends_on: Vec::new(),
            },
        )
        .unwrap();
    api.add_tasks(
        "lead",
        vec![NewTask {
            title: "search".into(),
            phase: Some(p.id),
            ..NewTask::default()
        }],
    )
    .unwrap();
    let approve = PhaseMoveRequest {
        action: PhaseAction::Approve,
        reason: None,
        comments: Vec::new(),
    };
    api.plan()
        .move_phase("lead", p.id, approve.clone())
        .unwrap();
    let t = api
        .pickup("claude-1", &PickupRequest::default())
        .unwrap()
        .task;
    // A runner worked on it: approving it queues its merge.
    api.start_run(
        "claude-1",
        baton_core::api::NewRun {
            task: t.id,
            provider: "claude".into(),
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
    api.done("claude-1", t.id, DoneRequest::default()).unwrap();
    assert_eq!(
        api.plan().get_phase(p.id).unwrap().status,
        PhaseStatus::PendingReview
    );

    let url = server.url.clone();
    let line = ".diff-file[data-file=\"src/search.rs\"] tr[data-line=\"2\"][data-side=\"added\"]";
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/phase/P-1").await;
        until(&b, "document.querySelector('#review-diff')", Duration::from_secs(10)).await;
        click(&b, "#review-diff").await;
        until(&b, &format!("document.querySelector('{line}')"), Duration::from_secs(10)).await;
        let summary: String = b
            .execute("return document.querySelector('#diff-summary').innerText;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert!(summary.starts_with("2 files"), "{summary}");

        // A comment on an added line lands under it, with its place.
        click(&b, &format!("{line} button.add-comment")).await;
        type_into(&b, "tr.new-comment textarea", "Escape the query first").await;
        click(&b, "tr.new-comment button.primary").await;
        until(
            &b,
            &format!("document.querySelector('{line}').nextElementSibling?.querySelector('[data-comment=\"C-1\"]')"),
            Duration::from_secs(10),
        )
        .await;
        let c = api.plan().list_comments(&Default::default()).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].file.as_deref(), c[0].line), (Some("src/search.rs"), Some(2)));
        assert_eq!(c[0].side, Some(baton_core::model::LineSide::Added));
        assert_eq!(c[0].phase, Some(p.id));

        // A reply threads under it; resolve, then unresolve.
        submit(
            &b,
            "form.reply-form[data-reply=\"C-1\"] input",
            "Will do",
            "form.reply-form[data-reply=\"C-1\"] button",
            "document.querySelector('[data-comment=\"C-1\"] .reply')?.innerText.includes('Will do')",
        )
        .await;
        click(&b, "[data-resolve=\"C-1\"]").await;
        until(&b, "document.querySelector('[data-comment=\"C-1\"].resolved')", Duration::from_secs(10)).await;
        click(&b, "[data-resolve=\"C-1\"]").await;
        until(
            &b,
            "document.querySelector('[data-comment=\"C-1\"]') && !document.querySelector('[data-comment=\"C-1\"].resolved')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "diff").await;

        // Request changes: the open comment goes to a revision task.
        submit(
            &b,
            "#request [name=reason]",
            "Harden the query path",
            "#request button",
            "!document.querySelector('#request')",
        )
        .await;
        eventually("the request reached the board", || api.plan().get_phase(p.id).unwrap().status == PhaseStatus::InProgress).await;
        let revision = api.get_task(baton_core::TaskId(2)).unwrap();
        assert!(revision.description.contains("Escape the query first"), "{}", revision.description);
        assert!(revision.description.contains("src/search.rs:2"), "{}", revision.description);

        // The agent revises; the reviewer approves on the diff.
        let r = api.pickup("claude-1", &PickupRequest::default()).unwrap().task;
        api.done("claude-1", r.id, DoneRequest::default()).unwrap();
        b.refresh().await.unwrap();
        until(&b, "document.querySelector('#approve')", Duration::from_secs(10)).await;
        click(&b, "#approve").await;
        eventually("the approval reached the board", || api.plan().get_phase(PhaseId(1)).unwrap().status == PhaseStatus::Completed).await;

        // The plan shows where the branches stand; a conflict waits for a person.
        api.errands()
            .create_errand(
                "lead",
                baton_core::api::NewErrand {
                    title: "Fix the <b>typo</b> in README".into(),
                    provider: None,
                },
            )
            .unwrap();
        visit(&b, &url, "#/plan").await;
        until(
            &b,
            "document.querySelector('#errands [data-errand=\"E-1\"]')?.innerText.includes('Fix the <b>typo</b>')",
            Duration::from_secs(10),
        )
        .await;
        until(&b, "document.querySelector('#merges [data-merge=\"MR-1\"]')", Duration::from_secs(10)).await;
        until(
            &b,
            "document.querySelector('[data-phase=\"P-1\"] .branch')?.innerText.includes('merge pending')",
            Duration::from_secs(10),
        )
        .await;
        let m = api
            .merges()
            .claim_merge("runner", baton_core::api::MergeClaim { runner: "r".into(), lease_secs: None })
            .unwrap()
            .unwrap();
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
                        files: vec!["src/search.rs".into()],
                    },
                },
            )
            .unwrap();
        until(&b, "document.querySelector('#merges-waiting')", Duration::from_secs(10)).await;
        until(
            &b,
            "document.querySelector('[data-merge=\"MR-1\"]')?.innerText.includes('src/search.rs')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "merges").await;
        click(&b, "[data-retry-merge=\"MR-1\"]").await;
        eventually("the retry reached the board", || {
            api.merges().get_merge(m.id).unwrap().state == baton_core::model::MergeState::Pending
        })
        .await;

        // An errand started on the page waits for a runner of its agent CLI; the runner's
        // reply shows, a message to the agent is a request too, and so is the merge.
        type_into(&b, "#new-errand input[name=title]", "Fix the typo in README").await;
        click(&b, "#new-errand button").await;
        let e2 = baton_core::ErrandId(2);
        eventually("the errand reached the board", || api.errands().get_errand(e2).is_ok()).await;
        let asked = api.errands().get_errand(e2).unwrap();
        assert_eq!(
            (asked.request, asked.provider.as_deref(), asked.requested_by.is_some()),
            (Some(baton_core::model::ErrandAsk::Start), Some("claude"), true)
        );
        until(
            &b,
            "document.querySelector('[data-errand=\"E-2\"]')?.innerText.includes('waiting for a runner')",
            Duration::from_secs(10),
        )
        .await;
        let runner = |reply: &str, status| {
            let claim = baton_core::api::ErrandClaim {
                runner: "r".into(),
                errand: Some(e2),
                ..Default::default()
            };
            let e = api.errands().claim_errand("runner", claim).unwrap().unwrap();
            let update = baton_core::api::ErrandUpdate {
                status,
                session: Some("s-1".into()),
                ..Default::default()
            };
            api.errands().update_errand("errand-2", e.id, update).unwrap();
            let finish = baton_core::api::ErrandFinish {
                runner: "r".into(),
                reply: Some(reply.into()),
            };
            api.errands().finish_errand("errand-2", e.id, finish).unwrap();
        };
        runner(
            "Fixed the typo.",
            Some(baton_core::model::ErrandStatus::PendingReview),
        );
        until(
            &b,
            "document.querySelector('[data-errand=\"E-2\"]')?.innerText.includes('Fixed the typo.')",
            Duration::from_secs(10),
        )
        .await;
        visit(&b, &url, "#/diff/E-2").await;
        until(&b, "document.querySelector('#chat-form')", Duration::from_secs(10)).await;
        assert!(b
            .execute("return document.querySelector('#diff').textContent;", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .contains("with the typo fixed"));
        type_into(&b, "#chat-form input", "Also fix the heading").await;
        click(&b, "#chat-form button").await;
        eventually("the message reached the board", || {
            api.errands().get_errand(e2).unwrap().request == Some(baton_core::model::ErrandAsk::Chat)
        })
        .await;
        until(
            &b,
            "document.querySelector('#errand-actions')?.innerText.includes('waiting for a runner')",
            Duration::from_secs(10),
        )
        .await;
        runner("The heading is fixed too.", None);
        until(
            &b,
            "document.querySelector('#chat-log')?.innerText.includes('The heading is fixed too.') \
             && document.querySelector('#chat-log').innerText.includes('Also fix the heading')",
            Duration::from_secs(10),
        )
        .await;
        screenshot(&b, "errand").await;
        // The button shows once the page has seen the request finished.
        until(
            &b,
            "document.querySelector('[data-errand-merge=\"E-2\"]')",
            Duration::from_secs(10),
        )
        .await;
        click(&b, "[data-errand-merge=\"E-2\"]").await;
        eventually("the merge request reached the board", || {
            let e = api.errands().get_errand(e2).unwrap();
            e.request == Some(baton_core::model::ErrandAsk::Merge)
                && e.request_text.as_deref() == Some("merge")
        })
        .await;
        finish(b, &driver).await;
    });
}

#[test]
fn a_large_diff_draws_the_files_near_the_screen_first_and_the_rest_on_the_way() {
    use baton_core::api::{NewInitiative, NewPhase};

    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    let body = |changed: bool| -> String {
        (0..30)
            .map(|n| {
                if changed && n % 10 == 5 {
                    format!("line {n} changed\n")
                } else {
                    format!("line {n}\n")
                }
            })
            .collect()
    };
    for f in 0..300 {
        std::fs::write(repo.join(format!("f{f:03}.txt")), body(false)).unwrap();
    }
    git(repo, &["add", "."]);
    git(
        repo,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b.invalid",
            "commit",
            "-qm",
            "base",
        ],
    );
    git(repo, &["branch", "baton/big"]);
    git(repo, &["checkout", "-q", "-b", "baton/big--P-1"]);
    for f in 0..300 {
        std::fs::write(repo.join(format!("f{f:03}.txt")), body(true)).unwrap();
    }
    git(
        repo,
        &[
            "-c",
            "user.name=a",
            "-c",
            "user.email=a@b.invalid",
            "commit",
            "-qam",
            "all",
        ],
    );
    git(repo, &["checkout", "-q", "main"]);
    let server = TestServer::start_with(baton_server::ServerOptions {
        code_root: Some(repo.to_path_buf()),
        ..baton_server::ServerOptions::default()
    });
    let i = server
        .client
        .plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: "Big".into(),
                ..NewInitiative::default()
            },
        )
        .unwrap();
    server
        .client
        .plan()
        .create_phase(
            "lead",
            NewPhase {
                initiative: i.id,
                name: "All".into(),
                content: None,
                depends_on: Vec::new(),
            },
        )
        .unwrap();
    let url = server.url.clone();
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/diff/P-1").await;
        let count = |script: &'static str| {
            let b = b.clone();
            async move { b.execute(script, vec![]).await.unwrap().as_u64().unwrap() }
        };
        assert_eq!(
            count("return document.querySelectorAll('.diff-file').length;").await,
            300
        );
        let drawn = count("return document.querySelectorAll('table.diff').length;").await;
        assert!(
            (10..300).contains(&drawn),
            "{drawn} of 300 files drawn at first"
        );
        assert!(
            b.execute(
                "return !!document.querySelector('#file-299 [data-lazy]');",
                vec![]
            )
            .await
            .unwrap()
            .as_bool()
            .unwrap(),
            "the last file waits"
        );
        // Jumping to a file from the index draws it; scrolling down draws the rest.
        click(&b, "[data-jump=\"file-200\"]").await;
        until(
            &b,
            "document.querySelector('#file-200 table.diff')",
            Duration::from_secs(5),
        )
        .await;
        b.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
        for _ in 0..300 {
            if count("return document.querySelectorAll('[data-lazy]').length;").await == 0 {
                break;
            }
            b.execute("window.scrollBy(0, 3000);", vec![])
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            count("return document.querySelectorAll('table.diff').length;").await,
            300
        );
        assert!(b
            .execute(
                "return document.querySelector('#file-299').textContent;",
                vec![]
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .contains("line 25 changed"));
        finish(b, &driver).await;
    });
}

#[test]
fn a_person_follows_the_log_live_by_level_and_session_and_sees_anomalies_and_run_charts() {
    use baton_core::api::{NewLogEntry, NewRun, NewSession, RunEnd};
    use baton_core::model::{LogLevel, RunStatus};

    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(driver) = chromedriver() else { return };
    let server = TestServer::start();
    let api = &server.client;
    let ops = api.operations();
    let session = ops
        .start_session(
            "alice",
            NewSession {
                purpose: Some("release 1.4".into()),
                ..NewSession::default()
            },
        )
        .unwrap();
    let log = |who: &str, message: &str, level| {
        ops.log(
            who,
            NewLogEntry {
                message: message.into(),
                action: Some("BUILD".into()),
                level: Some(level),
                ..NewLogEntry::default()
            },
        )
        .unwrap();
    };
    log("alice", "Release build started", LogLevel::Info);
    // A burst from ci: far above its (empty) baseline.
    for i in 0..8 {
        log(
            "ci",
            &format!("Build {i} failed: <b>linker</b>"),
            LogLevel::Error,
        );
    }
    // A crashed run that cost something, for the charts.
    let task = api
        .add_tasks(
            "lead",
            vec![NewTask {
                title: "Login page".into(),
                ..NewTask::default()
            }],
        )
        .unwrap()
        .remove(0);
    let run = api
        .start_run(
            "claude-1",
            NewRun {
                task: task.id,
                provider: "claude".into(),
                account: None,
                attempt: 1,
                runner: "build-1:1:1".into(),
                host: "build-1".into(),
                worktree: None,
                branch: None,
                session: None,
                spool: None,
            },
        )
        .unwrap();
    api.finish_run(
        "claude-1",
        run.id,
        RunEnd {
            status: RunStatus::Crashed,
            reason: Some("exit 1".into()),
            final_text: None,
            session: None,
            usage: Some(baton_core::RunUsage {
                cost_usd: Some(0.25),
                ..baton_core::RunUsage::default()
            }),
        },
    )
    .unwrap();
    let url = server.url.clone();
    let count = "document.querySelectorAll('#log-entries tr[data-log]').length";
    runtime().block_on(async {
        let b = browser(&driver).await;
        visit(&b, &url, "#/ops").await;
        until(&b, &format!("{count} === 9"), Duration::from_secs(10)).await;
        // Text stays text.
        until(
            &b,
            "document.querySelector('#log-entries').textContent.includes('<b>linker</b>')",
            Duration::from_secs(5),
        )
        .await;
        until(
            &b,
            &format!(
                "document.querySelector('#sessions [data-session-row=\"{}\"]')?.textContent.includes('release 1.4')",
                session.id
            ),
            Duration::from_secs(5),
        )
        .await;
        until(
            &b,
            "document.querySelector('#anomalies [data-anomaly=\"events by ci\"]')",
            Duration::from_secs(5),
        )
        .await;

        // Only errors; a new one appears live, a new info entry does not.
        b.execute(
            "document.querySelector('#lf select[name=level]').value = 'error';",
            vec![],
        )
        .await
        .unwrap();
        click(&b, "#lf button").await;
        until(&b, &format!("{count} === 8"), Duration::from_secs(10)).await;
        log("ci", "Build 9 failed: disk full", LogLevel::Error);
        log("alice", "Coffee", LogLevel::Info);
        until(
            &b,
            "document.querySelector('#log-entries')?.textContent.includes('disk full')",
            Duration::from_secs(10),
        )
        .await;
        until(&b, &format!("{count} === 9"), Duration::from_secs(10)).await;
        screenshot(&b, "operations").await;

        // One session's entries: alice's, any level.
        b.execute(
            "document.querySelector('#lf select[name=level]').value = '';",
            vec![],
        )
        .await
        .unwrap();
        click(&b, "#lf button").await;
        until(&b, &format!("{count} === 11"), Duration::from_secs(10)).await;
        click(&b, &format!("#sessions a[data-session=\"{}\"]", session.id)).await;
        until(&b, &format!("{count} === 2"), Duration::from_secs(10)).await;
        until(
            &b,
            "[...document.querySelectorAll('#log-entries td:nth-child(3)')].every((td) => td.textContent.startsWith('alice'))",
            Duration::from_secs(5),
        )
        .await;

        visit(&b, &url, "#/charts").await;
        until(
            &b,
            "document.querySelector('#failed-runs h3')?.textContent.endsWith(': 1') && document.querySelector('#run-cost h3').textContent.includes('$0.25')",
            Duration::from_secs(10),
        )
        .await;
        finish(b, &driver).await;
    });
}
