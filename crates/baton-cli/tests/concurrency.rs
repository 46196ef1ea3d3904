//! Many `baton` processes claiming from one SQLite file at once.

mod support;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use support::Sandbox;

#[test]
fn sixteen_processes_claim_five_hundred_tasks_each_exactly_once() {
    const WORKERS: usize = 16;
    const TASKS: usize = 500;
    let s = Sandbox::project();
    let tasks: Vec<Value> = (0..TASKS)
        .map(|i| json!({"title": format!("task {i}")}))
        .collect();
    let path = s.write("tasks.json", &serde_json::to_string(&tasks).unwrap());
    s.run(&["task", "add", "--batch", path.to_str().unwrap()])
        .ok();

    let claims: Arc<Mutex<Vec<(String, String, u64)>>> = Arc::default();
    let endings: Arc<Mutex<Vec<String>>> = Arc::default();
    std::thread::scope(|scope| {
        for w in 0..WORKERS {
            let claims = Arc::clone(&claims);
            let endings = Arc::clone(&endings);
            let s = &s;
            scope.spawn(move || {
                let agent = format!("worker-{w}");
                loop {
                    let r = s.as_agent(&agent, &["task", "pickup"]);
                    if r.code == 0 {
                        let p = r.json();
                        let id = p["task"]["id"].as_str().unwrap().to_string();
                        assert_eq!(p["task"]["assignee"], agent.as_str());
                        let fence = p["claim"]["fence"].as_u64().unwrap();
                        claims.lock().unwrap().push((id, agent.clone(), fence));
                    } else {
                        assert_eq!(r.code, 3, "unexpected failure: {}", r.stderr);
                        endings
                            .lock()
                            .unwrap()
                            .push(r.error()["code"].as_str().unwrap().to_string());
                        break;
                    }
                }
            });
        }
    });

    let claims = claims.lock().unwrap();
    let unique: HashSet<&String> = claims.iter().map(|(id, _, _)| id).collect();
    assert_eq!(claims.len(), TASKS, "every task claimed once, none twice");
    assert_eq!(unique.len(), TASKS);
    assert!(claims.iter().all(|(_, _, fence)| *fence == 1));
    let endings = endings.lock().unwrap();
    assert_eq!(endings.len(), WORKERS);
    assert!(endings.iter().all(|c| c == "no_task_ready"), "{endings:?}");

    // The store agrees: every task is in progress, held by the agent that was told so.
    let listed = s.run(&["task", "list", "--limit", "0"]).ok().json();
    for t in listed.as_array().unwrap() {
        assert_eq!(t["status"], "in-progress");
        let id = t["id"].as_str().unwrap();
        let (_, agent, _) = claims.iter().find(|(cid, _, _)| cid == id).unwrap();
        assert_eq!(t["assignee"], agent.as_str());
    }
    let picked = s
        .run(&["events", "--action", "task.picked_up", "--limit", "0"])
        .ok()
        .json();
    assert_eq!(
        picked.as_array().unwrap().len(),
        TASKS,
        "one event per claim"
    );
}
