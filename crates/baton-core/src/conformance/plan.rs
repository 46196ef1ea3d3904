//! Scenarios for the plan above tasks (initiatives, phases, gates, review comments), run on
//! every `Api`.

use super::{add, task};
use crate::api::*;
use crate::model::{
    Category, InitiativeStatus, LineSide, Phase, PhaseStatus, Priority, Status, Task,
};
use crate::store::EventQuery;
use crate::{Api, Error, InitiativeId, PhaseId, TaskId};

fn code(e: Error) -> String {
    e.code().to_string()
}

fn initiative(api: &dyn Api, name: &str, approval: bool) -> InitiativeId {
    api.plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: name.into(),
                merge_requires_approval: Some(approval),
                ..NewInitiative::default()
            },
        )
        .unwrap()
        .id
}

fn phase(api: &dyn Api, initiative: InitiativeId, name: &str, deps: &[PhaseId]) -> Phase {
    api.plan()
        .create_phase(
            "lead",
            NewPhase {
                initiative,
                name: name.into(),
                content: Some(format!("# {name}\n\nWhat this phase does.")),
                depends_on: deps.to_vec(),
            },
        )
        .unwrap()
}

fn in_phase(api: &dyn Api, title: &str, phase: PhaseId, deps: &[TaskId]) -> Task {
    add(
        api,
        NewTask {
            phase: Some(phase),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            ..task(title)
        },
    )
}

fn act(api: &dyn Api, id: PhaseId, action: PhaseAction) -> Result<PhaseOutcome, Error> {
    api.plan().move_phase(
        "reviewer",
        id,
        PhaseMoveRequest {
            action,
            reason: None,
            comments: Vec::new(),
        },
    )
}

fn pickup(api: &dyn Api, agent: &str) -> Result<crate::model::Pickup, Error> {
    api.pickup(agent, &PickupRequest::default())
}

fn finish(api: &dyn Api, agent: &str, id: TaskId, summary: &str) -> Task {
    api.done(
        agent,
        id,
        DoneRequest {
            summary: Some(summary.into()),
            ..DoneRequest::default()
        },
    )
    .unwrap()
}

fn status_of(api: &dyn Api, id: PhaseId) -> PhaseStatus {
    api.plan().get_phase(id).unwrap().status
}

fn plan_actions(api: &dyn Api) -> Vec<String> {
    api.events(&EventQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("phase.") || a.starts_with("initiative."))
        .collect()
}

/// A phase's tasks wait for its approval and for the phases it depends on; finishing them
/// sends the phase to review; approving it opens the next one; the last phase's approval
/// sends the initiative to review. Summaries travel to the dependent task.
pub fn a_phase_opens_only_when_approved_and_its_dependencies_are_completed(api: &dyn Api) {
    let i = initiative(api, "User authentication", true);
    let shown = api.plan().get_initiative(i).unwrap();
    assert_eq!(shown.branch, "baton/user-authentication");
    assert_eq!(shown.status, InitiativeStatus::Active);
    assert!(shown.merge_requires_approval);
    let p1 = phase(api, i, "Schema", &[]);
    let p2 = phase(api, i, "Session API", &[p1.id]);
    assert_eq!((p1.status, p1.open), (PhaseStatus::Pending, false));
    let schema = in_phase(api, "users table", p1.id, &[]);
    let session = in_phase(api, "login endpoint", p2.id, &[schema.id]);
    assert!(schema.gated && session.gated);
    assert_eq!(schema.initiative, Some(i));
    let flat = add(
        api,
        NewTask {
            priority: Some(Priority::P2),
            ..task("flat work")
        },
    );

    // Only the task outside the plan is handed out.
    assert_eq!(pickup(api, "a").unwrap().task.id, flat.id);
    let e = pickup(api, "a").unwrap_err();
    assert_eq!(code(e), "no_task_ready");
    let e = api
        .pickup(
            "a",
            &PickupRequest {
                id: Some(schema.id),
                ..PickupRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "phase_gated", "{e}");

    // Approving phase 1's plan opens it; phase 2 still waits for phase 1.
    let out = act(api, p1.id, PhaseAction::Approve).unwrap();
    assert_eq!(out.phase.status, PhaseStatus::Approved);
    assert_eq!(out.opened, vec![p1.id]);
    assert!(!api.get_task(schema.id).unwrap().gated);
    let out = act(api, p2.id, PhaseAction::Approve).unwrap();
    assert_eq!(out.phase.status, PhaseStatus::Approved);
    assert!(!out.phase.open, "phase 2 waits for phase 1");
    assert!(out.opened.is_empty());

    let got = pickup(api, "a").unwrap();
    assert_eq!(got.task.id, schema.id);
    assert_eq!(status_of(api, p1.id), PhaseStatus::InProgress);
    finish(
        api,
        "a",
        schema.id,
        "Added the users table with a unique email index.",
    );
    assert_eq!(status_of(api, p1.id), PhaseStatus::PendingReview);
    assert_eq!(code(pickup(api, "b").unwrap_err()), "no_task_ready");

    // The phase's review approves its task too, and opens phase 2.
    let out = act(api, p1.id, PhaseAction::Approve).unwrap();
    assert_eq!(out.phase.status, PhaseStatus::Completed);
    assert_eq!(out.approved, vec![schema.id]);
    assert_eq!(out.opened, vec![p2.id]);
    assert_eq!(api.get_task(schema.id).unwrap().status, Status::Done);

    let got = pickup(api, "b").unwrap();
    assert_eq!(got.task.id, session.id);
    assert_eq!(got.context.len(), 1, "{:?}", got.context);
    assert_eq!(got.context[0].id, schema.id);
    assert!(got.context[0].summary.contains("unique email index"));
    finish(api, "b", session.id, "POST /login issues a session cookie.");
    assert_eq!(status_of(api, p2.id), PhaseStatus::PendingReview);
    act(api, p2.id, PhaseAction::Approve).unwrap();
    let shown = api.plan().get_initiative(i).unwrap();
    assert_eq!(shown.status, InitiativeStatus::PendingReview);
    assert_eq!((shown.progress.total, shown.progress.completed), (2, 2));
    let done = api
        .plan()
        .move_initiative("reviewer", i, InitiativeMove::Approve)
        .unwrap();
    assert_eq!(done.status, InitiativeStatus::Completed);

    let log = plan_actions(api);
    for expected in [
        "initiative.created",
        "phase.created",
        "phase.opened",
        "phase.status_changed",
        "initiative.status_changed",
    ] {
        assert!(log.iter().any(|a| a == expected), "{expected} in {log:?}");
    }
    // pending -> approved -> in_progress -> pending_review -> completed, for both phases.
    let moves = log.iter().filter(|a| *a == "phase.status_changed").count();
    assert_eq!(moves, 8, "{log:?}");
}

/// A request for changes adds a revision task to the phase, holding the reviewer's reason
/// and the open comments; the phase goes back to work and to review again.
pub fn request_changes_adds_a_revision_task_holding_the_comments(api: &dyn Api) {
    let i = initiative(api, "Billing", true);
    let p = phase(api, i, "Invoices", &[]);
    act(api, p.id, PhaseAction::Approve).unwrap();
    let t = in_phase(api, "invoice PDF", p.id, &[]);
    pickup(api, "a").unwrap();
    finish(api, "a", t.id, "Renders invoices with the company's logo.");
    assert_eq!(status_of(api, p.id), PhaseStatus::PendingReview);

    let c = api
        .plan()
        .add_comment(
            "reviewer",
            NewComment {
                phase: Some(p.id),
                file: Some("src/invoice.rs".into()),
                line: Some(42),
                side: Some(LineSide::Added),
                body: "Totals must round half-even — not half-up.".into(),
                ..NewComment::default()
            },
        )
        .unwrap();
    assert_eq!(c.author, "reviewer");
    assert!(!c.resolved);
    let reply = api
        .plan()
        .add_comment(
            "a",
            NewComment {
                reply_to: Some(c.id),
                body: "Agreed, will fix.".into(),
                ..NewComment::default()
            },
        )
        .unwrap();
    assert_eq!(reply.phase, Some(p.id));
    assert_eq!(api.plan().get_phase(p.id).unwrap().open_comments, 1);

    let out = api
        .plan()
        .move_phase(
            "reviewer",
            p.id,
            PhaseMoveRequest {
                action: PhaseAction::RequestChanges,
                reason: Some("Rounding is wrong for EUR.".into()),
                comments: vec![CommentBody {
                    file: Some("src/tax.rs".into()),
                    line: Some(7),
                    side: Some(LineSide::Context),
                    body: "Use the tax table, not a constant.".into(),
                }],
            },
        )
        .unwrap();
    assert_eq!(out.phase.status, PhaseStatus::InProgress);
    let revision = out.revision.expect("a revision task");
    assert_eq!(revision.phase, Some(p.id));
    assert_eq!(revision.priority, Priority::P0);
    assert!(!revision.gated);
    for text in [
        "Rounding is wrong for EUR.",
        "src/invoice.rs:42 (added)",
        "half-even — not half-up",
        "Agreed, will fix.",
        "src/tax.rs:7 (context)",
    ] {
        assert!(
            revision.description.contains(text),
            "{text} in {}",
            revision.description
        );
    }
    let comments = api
        .plan()
        .list_comments(&CommentFilter {
            phase: Some(p.id),
            open: true,
            ..CommentFilter::default()
        })
        .unwrap();
    assert_eq!(comments.len(), 3, "two comments and a reply");

    assert_eq!(pickup(api, "a").unwrap().task.id, revision.id);
    finish(api, "a", revision.id, "Half-even rounding; tax table.");
    assert_eq!(status_of(api, p.id), PhaseStatus::PendingReview);
    for c in comments.iter().filter(|c| c.reply_to.is_none()) {
        assert!(
            api.plan()
                .resolve_comment("reviewer", c.id, true)
                .unwrap()
                .resolved
        );
    }
    let e = api
        .plan()
        .resolve_comment("reviewer", reply.id, true)
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");
    assert_eq!(api.plan().get_phase(p.id).unwrap().open_comments, 0);
    let out = act(api, p.id, PhaseAction::Approve).unwrap();
    assert_eq!(out.phase.status, PhaseStatus::Completed);
    let mut approved = out.approved.clone();
    approved.sort();
    assert_eq!(approved, vec![t.id, revision.id]);
    let log = plan_actions(api);
    assert!(
        log.iter().any(|a| a == "phase.changes_requested"),
        "{log:?}"
    );
}

/// Phase dependencies form a DAG within one initiative; wrong moves are refused with what
/// the phase can do instead.
pub fn phase_rules_refuse_cycles_strangers_and_wrong_moves(api: &dyn Api) {
    let i = initiative(api, "Search", true);
    let other = initiative(api, "Other", true);
    let a = phase(api, i, "Index", &[]);
    let b = phase(api, i, "Query", &[a.id]);
    let c = phase(api, i, "Ranking", &[b.id]);
    let e = api
        .plan()
        .update_phase(
            "lead",
            a.id,
            PhasePatch {
                depends_on: Some(vec![c.id]),
                ..PhasePatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code(), "dependency_cycle");
    let text = e.to_string();
    assert!(text.contains("P-1") && text.contains("P-3"), "{text}");
    assert_eq!(api.plan().get_phase(a.id).unwrap().depends_on, vec![]);

    let stranger = phase(api, other, "Elsewhere", &[]);
    let e = api
        .plan()
        .create_phase(
            "lead",
            NewPhase {
                initiative: i,
                name: "Mixed".into(),
                content: None,
                depends_on: vec![stranger.id],
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");
    let e = api.plan().get_phase(PhaseId(99)).unwrap_err();
    assert_eq!(code(e), "phase_not_found");
    let e = api.plan().get_initiative(InitiativeId(99)).unwrap_err();
    assert_eq!(code(e), "initiative_not_found");
    let e = api
        .add_tasks(
            "lead",
            vec![NewTask {
                phase: Some(PhaseId(99)),
                ..task("nowhere")
            }],
        )
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");

    // Approving work that is not finished, blocking without a reason, changes on nothing.
    let e = act(api, b.id, PhaseAction::RequestChanges).unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    assert!(e.hint().unwrap().contains("approve"), "{:?}", e.hint());
    let e = act(api, b.id, PhaseAction::Block).unwrap_err();
    assert_eq!(code(e), "invalid_input");
    let blocked = api
        .plan()
        .move_phase(
            "lead",
            b.id,
            PhaseMoveRequest {
                action: PhaseAction::Block,
                reason: Some("waiting for the vendor's API keys".into()),
                comments: Vec::new(),
            },
        )
        .unwrap();
    assert_eq!(blocked.phase.status, PhaseStatus::Blocked);
    assert_eq!(
        blocked.phase.blocked_reason.as_deref(),
        Some("waiting for the vendor's API keys")
    );
    let back = act(api, b.id, PhaseAction::Unblock).unwrap();
    assert_eq!(back.phase.status, PhaseStatus::Pending);
    assert_eq!(back.phase.blocked_reason, None);

    // Comments need something to be on, and a line needs its file.
    let e = api
        .plan()
        .add_comment(
            "r",
            NewComment {
                body: "floating".into(),
                ..NewComment::default()
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");
    let e = api
        .plan()
        .add_comment(
            "r",
            NewComment {
                phase: Some(a.id),
                line: Some(3),
                body: "which file?".into(),
                ..NewComment::default()
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");
    // A branch is unique.
    let e = api
        .plan()
        .create_initiative(
            "lead",
            NewInitiative {
                name: "search".into(),
                ..NewInitiative::default()
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "branch_taken");
}

/// With approval off a phase starts as soon as its dependencies are completed and
/// completes when its tasks are finished; so does the initiative.
pub fn without_approval_phases_start_and_complete_on_their_own(api: &dyn Api) {
    let i = initiative(api, "Docs refresh", false);
    let p1 = phase(api, i, "Outline", &[]);
    let p2 = phase(api, i, "Write", &[p1.id]);
    let t1 = in_phase(api, "outline", p1.id, &[]);
    let t2 = in_phase(api, "write", p2.id, &[]);
    assert!(!t1.gated && t2.gated);
    assert_eq!(pickup(api, "a").unwrap().task.id, t1.id);
    finish(api, "a", t1.id, "Outline agreed.");
    assert_eq!(status_of(api, p1.id), PhaseStatus::Completed);
    assert!(!api.get_task(t2.id).unwrap().gated);
    assert_eq!(pickup(api, "a").unwrap().task.id, t2.id);
    finish(api, "a", t2.id, "Written.");
    assert_eq!(status_of(api, p2.id), PhaseStatus::Completed);
    assert_eq!(
        api.plan().get_initiative(i).unwrap().status,
        InitiativeStatus::Completed
    );
    // A completed phase takes no new tasks.
    let e = api
        .add_tasks(
            "lead",
            vec![NewTask {
                phase: Some(p1.id),
                ..task("late")
            }],
        )
        .unwrap_err();
    assert_eq!(code(e), "phase_completed");
}

/// Archiving an initiative holds every task of it; reopening hands them out again.
/// Pickup filters by category and initiative; tasks keep their parent.
pub fn archive_holds_an_initiative_and_pickup_filters_by_category_and_initiative(api: &dyn Api) {
    let i = initiative(api, "Mobile app", false);
    let j = initiative(api, "Web app", false);
    let p = phase(api, i, "Screens", &[]);
    let research = add(
        api,
        NewTask {
            phase: Some(p.id),
            category: Some(Category::Research),
            ..task("compare navigation libraries")
        },
    );
    let loose = add(
        api,
        NewTask {
            initiative: Some(j),
            category: Some(Category::Plan),
            ..task("plan the web app")
        },
    );
    let children = api
        .add_tasks(
            "lead",
            vec![
                NewTask {
                    key: Some("parent".into()),
                    phase: Some(p.id),
                    ..task("build the screens")
                },
                NewTask {
                    parent: Some("parent".into()),
                    phase: Some(p.id),
                    ..task("login screen")
                },
                NewTask {
                    parent: Some("parent".into()),
                    phase: Some(p.id),
                    ..task("settings screen")
                },
            ],
        )
        .unwrap();
    let parent = children[0].id;
    assert_eq!(children[1].parent, Some(parent));
    let listed = api
        .list_tasks(&TaskFilter {
            parent: Some(parent),
            ..TaskFilter::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        api.list_tasks(&TaskFilter {
            phase: Some(p.id),
            ..TaskFilter::default()
        })
        .unwrap()
        .len(),
        4
    );
    assert_eq!(loose.initiative, Some(j));
    assert_eq!(loose.category, Category::Plan);

    api.plan()
        .move_initiative("lead", i, InitiativeMove::Archive)
        .unwrap();
    assert!(api.get_task(research.id).unwrap().gated);
    let got = api
        .pickup(
            "a",
            &PickupRequest {
                category: Some(Category::Research),
                ..PickupRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(code(got), "no_task_ready");
    let got = pickup(api, "a").unwrap();
    assert_eq!(got.task.id, loose.id, "only the web app's task is out");
    api.plan()
        .move_initiative("lead", i, InitiativeMove::Reopen)
        .unwrap();
    let got = api
        .pickup(
            "b",
            &PickupRequest {
                category: Some(Category::Research),
                ..PickupRequest::default()
            },
        )
        .unwrap();
    assert_eq!(got.task.id, research.id);
    let e = api
        .pickup(
            "c",
            &PickupRequest {
                initiative: Some(j),
                ..PickupRequest::default()
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "no_task_ready");
    let got = api
        .pickup(
            "c",
            &PickupRequest {
                initiative: Some(i),
                ..PickupRequest::default()
            },
        )
        .unwrap();
    assert_eq!(got.task.phase, Some(p.id));
}

/// An agent's plan proposal, accepted, creates phases with their dependencies and tasks in
/// one step (every row an event); a dismissed one changes nothing; a proposal that does not
/// fit its target is refused when it is made; an accepted proposal that fails to apply
/// leaves nothing behind.
pub fn an_accepted_plan_proposal_creates_its_phases_and_tasks_at_once(api: &dyn Api) {
    let i = initiative(api, "Notifications", true);
    let planning = add(
        api,
        NewTask {
            initiative: Some(i),
            category: Some(Category::Plan),
            ..task("plan notifications")
        },
    );
    let content = serde_json::json!({
        "phases": [
            {"key": "api", "name": "Delivery API", "depends_on": ["model"],
             "tasks": [{"key": "send", "title": "send endpoint", "depends_on": ["table"]}]},
            {"key": "model", "name": "Data model", "content": "Tables for notifications.",
             "tasks": [{"key": "table", "title": "notifications table"}]}
        ]
    });
    let p = api
        .plan()
        .propose(
            "planner",
            NewProposal {
                initiative: i,
                target: crate::model::ProposalTarget::Plan,
                target_id: None,
                title: "Two phases".into(),
                summary: Some("model first, then the API".into()),
                content,
                task: Some(planning.id),
            },
        )
        .unwrap();
    assert_eq!(p.status, crate::model::ProposalStatus::Pending);
    assert!(api.plan().list_phases(Some(i)).unwrap().is_empty());

    let accepted = api
        .plan()
        .decide_proposal(
            "lead",
            p.id,
            ProposalDecision {
                accept: true,
                reason: None,
            },
        )
        .unwrap();
    assert_eq!(accepted.status, crate::model::ProposalStatus::Accepted);
    assert_eq!(accepted.decided_by.as_deref(), Some("lead"));
    let phases = api.plan().list_phases(Some(i)).unwrap();
    assert_eq!(phases.len(), 2);
    let model = phases.iter().find(|p| p.name == "Data model").unwrap();
    let delivery = phases.iter().find(|p| p.name == "Delivery API").unwrap();
    assert_eq!(delivery.depends_on, vec![model.id]);
    assert_eq!(accepted.applied.len(), 4, "{:?}", accepted.applied);
    let send = api
        .list_tasks(&TaskFilter {
            phase: Some(delivery.id),
            ..TaskFilter::default()
        })
        .unwrap()
        .remove(0);
    let table = api
        .list_tasks(&TaskFilter {
            phase: Some(model.id),
            ..TaskFilter::default()
        })
        .unwrap()
        .remove(0);
    assert_eq!(send.depends_on, vec![table.id]);
    assert!(send.gated && table.gated);
    let e = api
        .plan()
        .decide_proposal(
            "lead",
            p.id,
            ProposalDecision {
                accept: true,
                reason: None,
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "proposal_decided");

    // A page proposal, dismissed: nothing is created.
    let page = api
        .plan()
        .propose(
            "planner",
            NewProposal {
                initiative: i,
                target: crate::model::ProposalTarget::Page,
                target_id: None,
                title: "Spec".into(),
                summary: None,
                content: serde_json::json!({"title": "Spec", "body": "# Spec\n\nPush and e-mail."}),
                task: None,
            },
        )
        .unwrap();
    let dismissed = api
        .plan()
        .decide_proposal(
            "lead",
            page.id,
            ProposalDecision {
                accept: false,
                reason: Some("not yet".into()),
            },
        )
        .unwrap();
    assert_eq!(dismissed.status, crate::model::ProposalStatus::Dismissed);
    assert!(api.plan().list_pages(i).unwrap().is_empty());

    // Pages: the first is the root, later ones hang below it; they are docs.
    let root = api
        .plan()
        .add_page(
            "lead",
            NewPage {
                initiative: i,
                parent: None,
                title: "Notifications".into(),
                body: Some("# Notifications\n\nOverview — naïve first cut.".into()),
            },
        )
        .unwrap();
    let child = api
        .plan()
        .add_page(
            "lead",
            NewPage {
                initiative: i,
                parent: None,
                title: "Delivery".into(),
                body: None,
            },
        )
        .unwrap();
    assert_eq!(child.parent, Some(root.doc));
    let pages = api.plan().list_pages(i).unwrap();
    assert_eq!(
        pages.iter().map(|p| p.doc).collect::<Vec<_>>(),
        vec![root.doc, child.doc]
    );
    assert!(api.get_doc(root.doc).unwrap().body.contains("naïve"));
    let hits = api
        .search_docs(&DocSearch {
            query: "overview".into(),
            ..DocSearch::default()
        })
        .unwrap();
    assert_eq!(hits[0].doc.id, root.doc);

    // Bad content is refused when proposed; a change that fails on accept leaves nothing.
    let e = api
        .plan()
        .propose(
            "planner",
            NewProposal {
                initiative: i,
                target: crate::model::ProposalTarget::Phase,
                target_id: None,
                title: "nameless".into(),
                summary: None,
                content: serde_json::json!({"tasks": []}),
                task: None,
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");
    let broken = api
        .plan()
        .propose(
            "planner",
            NewProposal {
                initiative: i,
                target: crate::model::ProposalTarget::Plan,
                target_id: None,
                title: "depends on a stranger".into(),
                summary: None,
                content: serde_json::json!({"phases": [
                    {"key": "a", "name": "A", "tasks": [{"title": "first"}]},
                    {"key": "b", "name": "B", "depends_on": ["P-99"]}
                ]}),
                task: None,
            },
        )
        .unwrap();
    let before = api.list_tasks(&TaskFilter::default()).unwrap().len();
    let e = api
        .plan()
        .decide_proposal(
            "lead",
            broken.id,
            ProposalDecision {
                accept: true,
                reason: None,
            },
        )
        .unwrap_err();
    assert_eq!(code(e), "invalid_input");
    assert_eq!(
        api.list_tasks(&TaskFilter::default()).unwrap().len(),
        before
    );
    assert_eq!(api.plan().list_phases(Some(i)).unwrap().len(), 2);
    assert_eq!(
        api.plan().get_proposal(broken.id).unwrap().status,
        crate::model::ProposalStatus::Pending
    );
    let log: Vec<String> = api
        .events(&EventQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for a in [
        "proposal.created",
        "proposal.accepted",
        "proposal.dismissed",
        "page.created",
    ] {
        assert!(log.iter().any(|x| x == a), "{a} in {log:?}");
    }
}
