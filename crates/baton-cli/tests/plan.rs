//! The plan above tasks from the command line: a two-phase initiative driven by a person
//! and two agent processes working at once, through review, a request for changes and its
//! revision task, to the initiative's approval; every step in the event log.

mod support;

use serde_json::Value;
use support::{Run, Sandbox};

fn id(r: Run) -> String {
    r.ok().json()["id"].as_str().unwrap().to_string()
}

/// Two agents pick up at the same time, each in its own process, until nothing is ready;
/// returns the tasks each took.
fn both_work(s: &Sandbox) -> Vec<(String, String)> {
    let taken = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for agent in ["claude", "codex"] {
            let taken = &taken;
            scope.spawn(move || loop {
                let r = s.as_agent(agent, &["task", "pickup"]);
                if r.code != 0 {
                    assert_eq!(r.error()["code"], "no_task_ready", "{}", r.stderr);
                    return;
                }
                let p = r.json();
                let task = p["task"]["id"].as_str().unwrap().to_string();
                let summary = format!("{agent} finished {task}: done with care — ✓");
                s.as_agent(agent, &["task", "done", &task, "--summary", &summary])
                    .ok();
                taken.lock().unwrap().push((task, agent.to_string()));
            });
        }
    });
    let mut taken = taken.into_inner().unwrap();
    taken.sort();
    taken
}

#[test]
fn a_two_phase_initiative_goes_from_plan_to_approval_with_two_agents() {
    let s = Sandbox::project();
    let i = id(s.run(&[
        "initiative",
        "add",
        "Checkout flow",
        "-d",
        "Cart to receipt",
    ]));
    assert_eq!(i, "I-1");
    let shown = s.run(&["initiative", "show", &i]).ok().json();
    assert_eq!(shown["initiative"]["branch"], "baton/checkout-flow");
    // An agent plans: it takes the plan task and proposes phases with their tasks.
    let planning = id(s.run(&[
        "task",
        "add",
        "plan checkout",
        "--initiative",
        &i,
        "--category",
        "plan",
    ]));
    let got = s
        .as_agent("claude", &["task", "pickup", "--category", "plan"])
        .ok()
        .json();
    assert_eq!(got["task"]["id"], planning.as_str());
    let plan = serde_json::json!({"phases": [
        {"key": "cart", "name": "Cart", "content": "## Cart\n- add, remove",
         "tasks": [{"key": "model", "title": "cart model"}, {"title": "cart page"}]},
        {"key": "pay", "name": "Payment", "depends_on": ["cart"],
         "tasks": [{"key": "charge", "title": "charge card", "depends_on": ["model"]},
                   {"title": "compare PSPs", "category": "research", "parent": "charge"}]}
    ]});
    let proposed = s
        .as_agent(
            "claude",
            &[
                "proposal",
                "add",
                "-i",
                &i,
                "--target",
                "plan",
                "Cart, then payment",
                "--task",
                &planning,
                "--content",
                &plan.to_string(),
            ],
        )
        .ok()
        .json();
    let proposal = proposed["id"].as_str().unwrap().to_string();
    s.as_agent(
        "claude",
        &["task", "done", &planning, "-s", "two phases proposed"],
    )
    .ok();
    assert_eq!(
        s.run(&["phase", "list", "-i", &i]).ok().json(),
        serde_json::json!([]),
        "nothing exists before a person accepts"
    );
    let accepted = s.run(&["proposal", "accept", &proposal]).ok().json();
    assert_eq!(accepted["status"], "accepted");
    let applied: Vec<String> = accepted["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let [p1, p2, cart, cart_ui, pay, research] = <[String; 6]>::try_from(applied).unwrap();
    assert_eq!((p1.as_str(), p2.as_str()), ("P-1", "P-2"));

    // Nothing of the plan is handed out before a person approves phase 1.
    s.as_agent("claude", &["task", "pickup"])
        .fails(3, "no_task_ready");
    s.as_agent("claude", &["task", "pickup", "--id", &cart])
        .fails(4, "phase_gated");
    let out = s.run(&["phase", "approve", &p1]).ok().json();
    assert_eq!(out["phase"]["status"], "approved");

    // Two agent processes take phase 1's two tasks, each exactly once.
    let taken = both_work(&s);
    let ids: Vec<&str> = taken.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(ids, vec![cart.as_str(), cart_ui.as_str()], "{taken:?}");
    let phase = s.run(&["phase", "show", &p1]).ok().json();
    assert_eq!(phase["phase"]["status"], "pending_review");

    // Review: a comment on a line, a reply, then changes requested.
    let c = id(s.run(&[
        "review",
        "comment",
        "Prices must be integers of cents",
        "--phase",
        &p1,
        "--file",
        "src/cart.rs",
        "--line",
        "12",
        "--side",
        "added",
    ]));
    s.as_agent(
        "claude",
        &[
            "review",
            "comment",
            "Will switch to i64 cents",
            "--reply-to",
            &c,
        ],
    )
    .ok();
    let out = s
        .run(&[
            "phase",
            "request-changes",
            &p1,
            "--reason",
            "Money as floats",
        ])
        .ok()
        .json();
    assert_eq!(out["phase"]["status"], "in_progress");
    let revision = out["revision"]["id"].as_str().unwrap().to_string();
    let text = out["revision"]["description"].as_str().unwrap();
    assert!(text.contains("src/cart.rs:12 (added)") && text.contains("Money as floats"));
    assert!(text.contains("Will switch to i64 cents"), "{text}");

    let taken = both_work(&s);
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].0, revision);
    s.run(&["review", "resolve", &c]).ok();
    let open = s
        .run(&["review", "list", "--phase", &p1, "--open"])
        .ok()
        .json();
    assert_eq!(open.as_array().unwrap().len(), 0);

    // Approving phase 1 approves its tasks and opens phase 2 (approved before, waiting).
    s.run(&["phase", "approve", &p2]).ok();
    let out = s.run(&["phase", "approve", &p1]).ok().json();
    assert_eq!(out["phase"]["status"], "completed");
    assert_eq!(out["approved"].as_array().unwrap().len(), 3);
    assert_eq!(out["opened"], serde_json::json!([p2]));

    // Phase 2: the research task by category, then the dependent task with its context.
    let r = s
        .as_agent("codex", &["task", "pickup", "--category", "research"])
        .ok()
        .json();
    assert_eq!(r["task"]["id"], research.as_str());
    assert_eq!(r["task"]["parent"], pay.as_str());
    s.as_agent("codex", &["task", "done", &research, "-s", "Stripe wins"])
        .ok();
    let p = s.as_agent("claude", &["task", "pickup"]).ok().json();
    assert_eq!(p["task"]["id"], pay.as_str());
    let context = p["context"].as_array().unwrap();
    assert_eq!(context[0]["id"], cart.as_str());
    assert!(context[0]["summary"].as_str().unwrap().contains("✓"));
    s.as_agent("claude", &["task", "done", &pay, "-s", "charges cards"])
        .ok();
    s.run(&["phase", "approve", &p2]).ok();
    let shown = s.run(&["initiative", "show", &i]).ok().json();
    assert_eq!(shown["initiative"]["status"], "pending_review");
    let done = s.run(&["initiative", "approve", &i]).ok().json();
    assert_eq!(done["status"], "completed");

    // Every step is in the log, in order.
    let events = s.run(&["events", "--limit", "0"]).ok().json();
    let actions: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e: &Value| e["action"].as_str().unwrap().to_string())
        .collect();
    let expected = [
        "initiative.created",
        "task.created",
        "proposal.created",
        "phase.created",
        "task.created",
        "proposal.accepted",
        "phase.status_changed",
        "phase.opened",
        "task.picked_up",
        "task.done",
        "comment.created",
        "phase.changes_requested",
        "task.approved",
        "initiative.status_changed",
    ];
    let mut at = 0;
    for e in expected {
        let found = actions[at..].iter().position(|a| a == e);
        assert!(found.is_some(), "{e} after position {at} in {actions:?}");
        at += found.unwrap();
    }
    let last = actions.last().unwrap();
    assert_eq!(last, "initiative.status_changed");

    // Bad input gets a clear error.
    s.run(&["phase", "approve", "P-99"])
        .fails(3, "phase_not_found");
    s.run(&["phase", "add", "-i", &i, "Late", "--depends-on", &p1])
        .fails(4, "initiative_closed");
    let other = id(s.run(&["initiative", "add", "Refunds", "--no-approval"]));
    s.run(&[
        "phase",
        "add",
        "-i",
        &other,
        "Dangling",
        "--depends-on",
        "P-77",
    ])
    .fails(2, "invalid_input");
    s.run(&[
        "phase",
        "add",
        "-i",
        &other,
        "Stranger",
        "--depends-on",
        &p1,
    ])
    .fails(2, "invalid_input");
    s.run(&["phase", "update", &p1, "--depends-on", &p2])
        .fails(4, "dependency_cycle");
    s.run(&["initiative", "approve", &i])
        .fails(4, "invalid_transition");
    let r = s.run(&["task", "add", "x", "--category", "coding"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("research"), "{}", r.stderr);
}
