//! Importing another tool's board. Tasks keep their numbers, so the board must hold no tasks
//! of its own: it is empty, or everything on it came from the same source (a re-import,
//! which adds only what is new). Events keep their times and actors.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{docs, event, leases};
use crate::api::{ImportReport, ImportedBoard, ImportedTask};
use crate::error::{Error, Result};
use crate::graph::find_any_cycle;
use crate::id::{DocId, TaskId};
use crate::model::{actions, Doc, NewEvent, Status, Task};
use crate::store::{AgentRow, StoreTx};
use crate::time::Timestamp;

const TASK: &str = "task";
const DOC: &str = "doc";
const EVENT: &str = "event";

/// Baton's action name for an imported one, when Baton knows it.
fn known_action(name: &str) -> Option<&'static str> {
    use actions::*;
    [
        TASK_CREATED,
        TASK_UPDATED,
        TASK_PICKED_UP,
        TASK_DONE,
        TASK_APPROVED,
        TASK_REJECTED,
        TASK_BLOCKED,
        TASK_UNBLOCKED,
        TASK_NOTED,
        TASK_DELETED,
        TASK_DEPS_MET,
        TASK_LEASE_EXPIRED,
        DOC_CREATED,
        DOC_UPDATED,
        DOC_DELETED,
        MESSAGE_ASKED,
        MESSAGE_ANSWERED,
    ]
    .into_iter()
    .find(|a| *a == name)
}

pub fn check(board: &ImportedBoard) -> Result<()> {
    if board.source.trim().is_empty() {
        return Err(Error::invalid("an import needs a source name"));
    }
    let mut ids = HashSet::new();
    for t in &board.tasks {
        if !ids.insert(t.id) {
            return Err(Error::invalid(format!(
                "the source holds task {} twice",
                t.id
            )));
        }
        if t.title.trim().is_empty() {
            return Err(Error::invalid(format!("task {} has no title", t.id)));
        }
    }
    Ok(())
}

pub fn import(
    tx: &mut dyn StoreTx,
    actor: &str,
    board: ImportedBoard,
    now: Timestamp,
) -> Result<ImportReport> {
    let source = board.source.trim().to_string();
    let mut report = ImportReport {
        source: source.clone(),
        ..ImportReport::default()
    };
    let known_tasks: HashMap<String, u64> = tx.import_keys(&source, TASK)?.into_iter().collect();
    let own = tx.task_count()?.saturating_sub(known_tasks.len() as u64);
    if own > 0 {
        return Err(Error::Conflict {
            code: "import_conflict",
            message: format!(
                "this board already holds {own} task(s) of its own; imported tasks keep their numbers, so they would collide"
            ),
            hint: Some(
                "import into a new project (`baton init` in an empty directory); importing the same source again is fine"
                    .into(),
            ),
        });
    }

    // Docs first, so tasks can refer to them.
    let mut doc_ids: HashMap<String, DocId> = tx
        .import_keys(&source, DOC)?
        .into_iter()
        .map(|(k, id)| (k, DocId(id)))
        .collect();
    for d in board.docs {
        if doc_ids.contains_key(&d.key) {
            report.skipped += 1;
            continue;
        }
        let doc = docs::insert(
            tx,
            Doc {
                id: DocId(0),
                kind: d.kind,
                title: d.title,
                body: d.body,
                tags: d.tags,
                author: d.author,
                tasks: Vec::new(),
                version: 1,
                created_at: d.created_at,
                updated_at: d.updated_at,
                deleted_at: None,
            },
        )?;
        tx.record_import_key(&source, DOC, &d.key, doc.id.number())?;
        doc_ids.insert(d.key, doc.id);
        report.docs += 1;
    }

    let ttl = leases::lease_ttl(tx)?;
    let mut fresh: Vec<(TaskId, Vec<TaskId>)> = Vec::new();
    let mut all_ids: HashSet<TaskId> = known_tasks.values().map(|n| TaskId(*n)).collect();
    all_ids.extend(board.tasks.iter().map(|t| t.id));
    let mut highest = None;
    for t in board.tasks {
        if known_tasks.contains_key(&t.key) {
            report.skipped += 1;
            continue;
        }
        if !tx.existing(&[t.id])?.is_empty() {
            return Err(Error::Conflict {
                code: "import_conflict",
                message: format!(
                    "task {} is already on this board, from another item of the source",
                    t.id
                ),
                hint: Some(
                    "the source numbers two tasks alike; fix it there and import again".into(),
                ),
            });
        }
        let key = t.key.clone();
        let id = t.id;
        let (task, deps) = task_of(t, &doc_ids, &all_ids, ttl, now, &mut report.warnings);
        tx.insert_task(&task)?;
        tx.record_import_key(&source, TASK, &key, id.number())?;
        highest = highest.max(Some(id));
        fresh.push((id, deps));
        report.tasks += 1;
    }
    // Dependencies once every task exists; a cycle in the source is refused.
    let edges: HashMap<TaskId, Vec<TaskId>> = fresh.iter().cloned().collect();
    if let Some(cycle) = find_any_cycle(&edges) {
        return Err(Error::DependencyCycle { cycle });
    }
    for (id, deps) in &fresh {
        tx.set_dependencies(*id, deps)?;
    }
    if let Some(h) = highest {
        tx.reserve_task_ids_through(h)?;
    }

    for a in board.agents {
        if tx.insert_agent(&AgentRow {
            name: a.name,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
        })? {
            report.agents += 1;
        }
    }

    let known_events: HashSet<String> = tx
        .import_keys(&source, EVENT)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    for e in board.events {
        if known_events.contains(&e.key) {
            report.skipped += 1;
            continue;
        }
        let mut detail = match e.detail {
            serde_json::Value::Object(m) => serde_json::Value::Object(m),
            serde_json::Value::Null => json!({}),
            other => json!({ "value": other }),
        };
        detail["imported_from"] = json!(source);
        let action = known_action(&e.action).unwrap_or_else(|| {
            detail["original_action"] = json!(e.action);
            actions::EVENT_IMPORTED
        });
        let id = tx.append_event(&NewEvent {
            at: e.at,
            actor: e.actor,
            action: action.into(),
            task: e.task.filter(|t| all_ids.contains(t)),
            detail,
            session: None,
        })?;
        tx.record_import_key(&source, EVENT, &e.key, id)?;
        report.events += 1;
    }

    if report.tasks + report.docs + report.agents + report.events > 0 {
        event(
            tx,
            now,
            actor,
            actions::BOARD_IMPORTED,
            None,
            json!({
                "source": source,
                "tasks": report.tasks,
                "docs": report.docs,
                "agents": report.agents,
                "events": report.events,
            }),
        )?;
    }
    Ok(report)
}

/// The task to store (dependencies set later) and its dependencies that exist.
fn task_of(
    t: ImportedTask,
    doc_ids: &HashMap<String, DocId>,
    all_ids: &HashSet<TaskId>,
    ttl: std::time::Duration,
    now: Timestamp,
    warnings: &mut Vec<String>,
) -> (Task, Vec<TaskId>) {
    let mut deps = Vec::new();
    for d in t.depends_on {
        if d == t.id || !all_ids.contains(&d) {
            warnings.push(format!(
                "{}: dependency {d} is not in the source; dropped",
                t.id
            ));
        } else if !deps.contains(&d) {
            deps.push(d);
        }
    }
    let mut context_refs = Vec::new();
    for r in t.context_refs {
        match doc_ids.get(&r) {
            Some(id) => context_refs.push(id.to_string()),
            None => warnings.push(format!(
                "{}: context ref '{r}' names no imported doc; dropped",
                t.id
            )),
        }
    }
    // A claim from the old board gets a fresh lease and fence: if its holder does not come
    // back, the lease expires and the task returns to the queue.
    let held = t.status == Status::InProgress && t.assignee.is_some();
    let task = Task {
        id: t.id,
        title: t.title.trim().to_string(),
        description: t.description,
        status: if t.status == Status::InProgress && !held {
            Status::Open
        } else {
            t.status
        },
        blocked_reason: t.blocked_reason.filter(|_| t.status == Status::Blocked),
        priority: t.priority,
        assignee: t.assignee,
        epic: t.epic.filter(|e| !e.trim().is_empty()),
        capabilities: t.capabilities,
        depends_on: Vec::new(),
        deps_met: true,
        waiting_on: Vec::new(),
        verify: t.verify.filter(|v| !v.trim().is_empty()),
        acceptance_criteria: t.acceptance_criteria,
        context_refs,
        files: Vec::new(),
        notes: t.notes,
        retry_count: 0,
        fence: u64::from(held),
        lease_expires_at: held.then(|| now.plus(ttl)),
        created_at: t.created_at,
        updated_at: t.updated_at,
        started_at: t.started_at,
        completed_at: t.completed_at,
        deleted_at: None,
        initiative: None,
        phase: None,
        parent: None,
        category: Default::default(),
        summary: None,
        gated: false,
    };
    (task, deps)
}
