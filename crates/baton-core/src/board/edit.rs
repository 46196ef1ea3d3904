//! Creating and editing tasks: add (one or a batch), update, note, delete.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{event, finish, load_live, resolve, touch};
use crate::api::{DeleteRequest, NewTask, NoteRequest, TaskPatch};
use crate::error::{Error, Result};
use crate::graph::{find_any_cycle, find_cycle};
use crate::id::TaskId;
use crate::lifecycle::{self, Action};
use crate::model::{actions, DepState, Note, Status, Task};
use crate::store::StoreTx;
use crate::time::Timestamp;

pub fn add_tasks(
    tx: &mut dyn StoreTx,
    actor: &str,
    batch: Vec<NewTask>,
    now: Timestamp,
) -> Result<Vec<Task>> {
    touch(tx, actor, now)?;
    let first = tx.allocate_task_ids(batch.len() as u64)?.number();
    let last = first + batch.len() as u64 - 1;
    let in_batch = |id: TaskId| (first..=last).contains(&id.number());
    let keys: HashMap<&str, TaskId> = batch
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.key.as_deref().map(|k| (k, TaskId(first + i as u64))))
        .collect();

    let label = |i: usize| {
        let t: &NewTask = &batch[i];
        crate::api::batch::task_label(i, batch.len(), Some(&t.title), t.key.as_deref())
    };
    // Resolve every reference to an id: a key of this batch, or a task id.
    let mut deps: Vec<Vec<TaskId>> = Vec::with_capacity(batch.len());
    for (i, t) in batch.iter().enumerate() {
        let mut ids = Vec::with_capacity(t.depends_on.len());
        for reference in &t.depends_on {
            let id = match keys.get(reference.as_str()) {
                Some(&id) => id,
                None => reference.parse::<TaskId>().map_err(|_| {
                    Error::invalid_with_hint(
                        format!("{}: depends on '{reference}', which is neither a task id nor a key in this batch", label(i)),
                        "refer to existing tasks as T-n, and to tasks of the same batch by their \"key\"",
                    )
                })?,
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        deps.push(ids);
    }

    for (i, t) in batch.iter().enumerate() {
        super::docs::check_refs(tx, &t.context_refs)
            .map_err(|e| crate::api::batch::within(&label(i), e))?;
    }

    // Where each task sits in the plan: its gate, its initiative, its parent.
    let mut placed: Vec<(bool, Option<crate::id::InitiativeId>, Option<TaskId>)> =
        Vec::with_capacity(batch.len());
    for (i, t) in batch.iter().enumerate() {
        let (gated, initiative) = super::plan::gate_for_new_task(tx.sql(), t.phase, t.initiative)
            .map_err(|e| crate::api::batch::within(&label(i), e))?;
        let parent = match t.parent.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(reference) => {
                let id = match keys.get(reference) {
                    Some(&id) => id,
                    None => reference.parse::<TaskId>().map_err(|_| {
                        Error::invalid_with_hint(
                            format!("{}: parent '{reference}' is neither a task id nor a key in this batch", label(i)),
                            "name the parent as T-n, or by the \"key\" of a task in this batch",
                        )
                    })?,
                };
                if id == TaskId(first + i as u64) {
                    return Err(Error::invalid(format!(
                        "{}: a task cannot be its own parent",
                        label(i)
                    )));
                }
                if !in_batch(id) {
                    super::load_live(tx, id).map_err(|e| match e {
                        Error::TaskNotFound(_) => Error::invalid_with_hint(
                            format!("parent {id} does not exist"),
                            "list tasks with `baton task list`",
                        ),
                        other => other,
                    })?;
                }
                Some(id)
            }
        };
        placed.push((gated, initiative, parent));
    }

    // Dependencies outside the batch must exist and be live.
    let mut outside: Vec<TaskId> = deps
        .iter()
        .flatten()
        .copied()
        .filter(|id| !in_batch(*id))
        .collect();
    outside.sort();
    outside.dedup();
    let known: HashMap<TaskId, bool> = tx.existing(&outside)?.into_iter().collect();
    for id in &outside {
        // Which task of the batch names it.
        let whose = deps
            .iter()
            .position(|d| d.contains(id))
            .map(|i| format!("{}: ", label(i)))
            .unwrap_or_default();
        match known.get(id) {
            None => {
                return Err(Error::invalid_with_hint(
                    format!("{whose}dependency {id} does not exist"),
                    "list tasks with `baton task list`",
                ))
            }
            Some(true) => {
                return Err(Error::invalid(format!(
                    "{whose}dependency {id} was deleted; a new task cannot depend on it"
                )))
            }
            Some(false) => {}
        }
    }

    // Existing tasks cannot depend on new ones, so any cycle lies inside the batch.
    let edges: HashMap<TaskId, Vec<TaskId>> = deps
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                TaskId(first + i as u64),
                d.iter().copied().filter(|id| in_batch(*id)).collect(),
            )
        })
        .collect();
    if let Some(cycle) = find_any_cycle(&edges) {
        // Named as the batch names its tasks: their ids are not theirs yet.
        let name = |id: &TaskId| {
            let i = (id.number() - first) as usize;
            let t = &batch[i];
            match t.key.as_deref() {
                Some(key) => format!("{key} ({:?})", t.title),
                None => format!("task {} of {} ({:?})", i + 1, batch.len(), t.title),
            }
        };
        let names: Vec<String> = cycle.iter().map(name).collect();
        return Err(Error::Conflict {
            code: "dependency_cycle",
            message: format!(
                "the batch's dependencies form a cycle: {}",
                names.join(" -> ")
            ),
            hint: Some("remove one of these dependencies (depends_on)".into()),
        });
    }

    let outside_states: HashMap<TaskId, DepState> = if outside.is_empty() {
        HashMap::new()
    } else {
        tx.tasks(&crate::store::TaskQuery {
            ids: Some(outside.clone()),
            ..Default::default()
        })?
        .into_iter()
        .map(|r| {
            (
                r.task.id,
                DepState {
                    id: r.task.id,
                    status: r.task.status,
                    deleted: false,
                },
            )
        })
        .collect()
    };

    let mut created = Vec::with_capacity(batch.len());
    let mut phases = Vec::new();
    let mut linked = Vec::new();
    for (i, ((t, task_deps), (gated, initiative, parent))) in
        batch.into_iter().zip(deps).zip(placed).enumerate()
    {
        let id = TaskId(first + i as u64);
        // A dependency inside the batch is new, hence not yet in review or done.
        let waiting_on: Vec<TaskId> = task_deps
            .iter()
            .filter(|d| !outside_states.get(d).is_some_and(resolve::dep_met))
            .copied()
            .collect();
        let met = waiting_on.is_empty();
        let status = match t.status {
            Some(Status::Backlog) => Status::Backlog,
            _ if met => Status::Open,
            _ => Status::Backlog,
        };
        let task = Task {
            id,
            title: t.title,
            description: t.description.unwrap_or_default(),
            status,
            blocked_reason: None,
            priority: t.priority.unwrap_or_default(),
            assignee: None,
            epic: t.epic.filter(|e| !e.trim().is_empty()),
            capabilities: t.capabilities,
            depends_on: task_deps,
            deps_met: met,
            waiting_on,
            verify: t.verify.filter(|v| !v.trim().is_empty()),
            acceptance_criteria: t.acceptance_criteria,
            context_refs: t.context_refs,
            files: t.files,
            notes: Vec::new(),
            retry_count: 0,
            fence: 0,
            lease_expires_at: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            completed_at: None,
            deleted_at: None,
            initiative,
            phase: t.phase,
            parent,
            category: t.category.unwrap_or_default(),
            summary: None,
            gated,
        };
        // Dependencies are written once every task of the batch exists: a task may name
        // a later one of the same batch.
        tx.insert_task(&Task {
            depends_on: Vec::new(),
            ..task.clone()
        })?;
        if !task.depends_on.is_empty() {
            linked.push((task.id, task.depends_on.clone()));
        }
        // After a write, so a test sees the rollback of a panicking call.
        crate::panic::fault_point(&task.title);
        let mut detail =
            json!({ "title": task.title, "priority": task.priority, "status": task.status });
        if !task.depends_on.is_empty() {
            detail["depends_on"] = json!(task.depends_on);
        }
        if let Some(epic) = &task.epic {
            detail["epic"] = json!(epic);
        }
        if let Some(phase) = task.phase {
            detail["phase"] = json!(phase);
            if !phases.contains(&phase) {
                phases.push(phase);
            }
        }
        if let Some(initiative) = task.initiative {
            detail["initiative"] = json!(initiative);
        }
        if let Some(parent) = task.parent {
            detail["parent"] = json!(parent);
        }
        if task.category != crate::model::Category::Execute {
            detail["category"] = json!(task.category);
        }
        if task.gated {
            detail["gated"] = json!(true);
        }
        event(tx, now, actor, actions::TASK_CREATED, Some(id), detail)?;
        created.push(task);
    }
    for (id, deps) in linked {
        tx.set_dependencies(id, &deps)?;
    }
    // New work in a phase under review sends it back to work.
    for phase in phases {
        let mut opened = Vec::new();
        super::plan::sync_phase(tx, phase, actor, now, &mut opened)?;
    }
    Ok(created)
}

/// Records `field: {from, to}` when the value changes.
fn change<T: PartialEq + serde::Serialize>(
    changes: &mut Map<String, Value>,
    field: &str,
    slot: &mut T,
    new: T,
) {
    if *slot != new {
        changes.insert(field.to_string(), json!({ "from": &*slot, "to": &new }));
        *slot = new;
    }
}

fn optional(text: String) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

pub fn update_task(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    patch: TaskPatch,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    let previous_holder = match task.status {
        Status::InProgress => task.assignee.clone(),
        _ => None,
    };
    let mut dep_states = record.deps;
    let mut changes = Map::new();

    if let Some(v) = patch.title {
        change(&mut changes, "title", &mut task.title, v.trim().to_string());
    }
    if let Some(v) = patch.description {
        change(&mut changes, "description", &mut task.description, v);
    }
    if let Some(v) = patch.priority {
        change(&mut changes, "priority", &mut task.priority, v);
    }
    if let Some(v) = patch.epic {
        change(&mut changes, "epic", &mut task.epic, optional(v));
    }
    if let Some(v) = patch.verify {
        change(&mut changes, "verify", &mut task.verify, optional(v));
    }
    if let Some(v) = patch.capabilities {
        change(&mut changes, "capabilities", &mut task.capabilities, v);
    }
    if let Some(v) = patch.acceptance_criteria {
        change(
            &mut changes,
            "acceptance_criteria",
            &mut task.acceptance_criteria,
            v,
        );
    }
    if let Some(v) = patch.context_refs {
        super::docs::check_refs(tx, &v)?;
        change(&mut changes, "context_refs", &mut task.context_refs, v);
    }
    if let Some(v) = patch.files {
        change(&mut changes, "files", &mut task.files, v);
    }
    if let Some(v) = patch.category {
        change(&mut changes, "category", &mut task.category, v);
    }
    if let Some(v) = patch.summary {
        change(&mut changes, "summary", &mut task.summary, optional(v));
    }

    if let Some(mut new_deps) = patch.depends_on {
        new_deps.dedup();
        let mut sorted_new = new_deps.clone();
        sorted_new.sort();
        let mut sorted_old = task.depends_on.clone();
        sorted_old.sort();
        if sorted_new != sorted_old {
            check_new_dependencies(tx, id, &new_deps)?;
            tx.set_dependencies(id, &new_deps)?;
            dep_states = load_live(tx, id)?.deps;
            change(&mut changes, "depends_on", &mut task.depends_on, new_deps);
        }
    }
    let met = resolve::deps_met(&dep_states);
    let waiting_on: Vec<TaskId> = dep_states
        .iter()
        .filter(|d| !resolve::dep_met(d))
        .map(|d| d.id)
        .collect();

    let mut reached_review_or_done = false;
    if let Some(to) = patch.status {
        if to != task.status {
            let action = Action::Move { to };
            if lifecycle::target(task.status, action).is_none() {
                return Err(transition_error(&task, action));
            }
            if to == Status::Open && !met {
                return Err(waiting_error(&task, &dep_states));
            }
            let from = task.status;
            change(&mut changes, "status", &mut task.status, to);
            apply_move(&mut task, from, to, now);
            reached_review_or_done = matches!(to, Status::Review | Status::Done);
        }
    } else if changes.contains_key("depends_on") {
        // New dependencies can hold an open task back, or free a waiting one.
        let next = match task.status {
            Status::Open if !met => Some(Status::Backlog),
            Status::Backlog if met => Some(Status::Open),
            _ => None,
        };
        if let Some(next) = next {
            change(&mut changes, "status", &mut task.status, next);
        }
    }

    if changes.is_empty() {
        task.deps_met = met;
        task.waiting_on = waiting_on;
        return Ok(task);
    }
    task.updated_at = now;
    tx.update_task(&task)?;
    if let Some(holder) = previous_holder.as_deref() {
        if task.assignee.as_deref() != Some(holder) || task.status != Status::InProgress {
            let loss = super::losses::Loss {
                holder,
                task: &task,
                fence: task.fence,
                reason: super::losses::MOVED,
                by: actor,
                feedback: None,
                at: now,
            };
            super::losses::record(tx.sql(), loss)?;
        }
    }
    if task.status != Status::InProgress {
        super::reservations::release_task_surface(tx, id)?;
    } else if changes.contains_key("files") {
        follow_new_surface(tx, &task, now)?;
    }
    event(
        tx,
        now,
        actor,
        actions::TASK_UPDATED,
        Some(id),
        json!({ "changes": changes }),
    )?;
    if reached_review_or_done {
        resolve::release_dependents(tx, id, actor, now)?;
    }
    task.deps_met = met;
    task.waiting_on = waiting_on;
    Ok(task)
}

/// A task in progress whose files change: its holder's reservations follow the new
/// surface, unless another agent holds part of it.
fn follow_new_surface(tx: &mut dyn StoreTx, task: &Task, now: Timestamp) -> Result<()> {
    let holder = task.assignee.clone().unwrap_or_default();
    let mut globs = Vec::new();
    for f in &task.files {
        let glob = super::reservations::compile(f)?;
        let clash = super::reservations::conflicts(
            tx,
            &holder,
            &glob,
            crate::model::ReservationMode::Exclusive,
            now,
        )?;
        if let Some(r) = clash.first() {
            return Err(Error::Conflict {
                code: "reservation_conflict",
                message: format!(
                    "{} is in progress and its new files {glob} overlap {}",
                    task.id,
                    super::reservations::describe(r)
                ),
                hint: Some("narrow the surface, or wait for that reservation".into()),
            });
        }
        globs.push(glob);
    }
    let until = task.lease_expires_at.unwrap_or(now);
    super::reservations::reserve_task_surface(tx, &holder, task.id, &globs, until, now)
}

/// Side effects of a direct status move on the claim and the timestamps.
fn apply_move(task: &mut Task, from: Status, to: Status, now: Timestamp) {
    if from == Status::InProgress || matches!(to, Status::Open | Status::Backlog) {
        task.lease_expires_at = None;
    }
    if matches!(to, Status::Open | Status::Backlog) {
        task.assignee = None;
        task.completed_at = None;
    }
    if to == Status::Done {
        task.completed_at = Some(now);
    }
}

fn check_new_dependencies(tx: &mut dyn StoreTx, id: TaskId, deps: &[TaskId]) -> Result<()> {
    let known: HashMap<TaskId, bool> = tx.existing(deps)?.into_iter().collect();
    for dep in deps {
        match known.get(dep) {
            None => {
                return Err(Error::invalid_with_hint(
                    format!("dependency {dep} does not exist"),
                    "list tasks with `baton task list`",
                ))
            }
            Some(true) => return Err(Error::invalid(format!("dependency {dep} was deleted"))),
            Some(false) => {}
        }
    }
    if let Some(cycle) = find_cycle(id, deps, |n| tx.dependencies_of(n))? {
        return Err(Error::DependencyCycle { cycle });
    }
    Ok(())
}

pub(crate) fn transition_error(task: &Task, action: Action) -> Error {
    Error::InvalidTransition {
        task: task.id,
        from: task.status,
        action: action.name(),
        allowed: lifecycle::allowed_from(action),
        hint: lifecycle::hint_for(task.status, action)
            .map(|h| h.replace("<task>", &task.id.to_string())),
    }
}

pub(crate) fn waiting_error(task: &Task, deps: &[DepState]) -> Error {
    let waiting: Vec<String> = deps
        .iter()
        .filter(|d| !resolve::dep_met(d))
        .map(|d| format!("{} ({})", d.id, d.status))
        .collect();
    Error::Conflict {
        code: "dependencies_unmet",
        message: format!("task {} waits on {}", task.id, waiting.join(", ")),
        hint: Some("it opens by itself when its dependencies reach review or done".into()),
    }
}

pub fn note(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    request: NoteRequest,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    super::claims::check_fence(&record.task, request.fence)?;
    let note = Note {
        author: actor.to_string(),
        at: now,
        text: request.text,
    };
    tx.add_note(id, &note)?;
    let mut task = record.task;
    task.updated_at = now;
    tx.update_task(&task)?;
    event(
        tx,
        now,
        actor,
        actions::TASK_NOTED,
        Some(id),
        json!({ "text": note.text }),
    )?;
    task.notes.push(note);
    Ok(finish(crate::model::TaskRecord {
        task,
        deps: record.deps,
    }))
}

pub fn delete(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    request: DeleteRequest,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    if task.status == Status::InProgress && !request.force {
        return Err(Error::Conflict {
            code: "task_claimed",
            message: format!(
                "task {id} is in-progress (held by {})",
                task.assignee.as_deref().unwrap_or("nobody")
            ),
            hint: Some("pass --force to delete it anyway".into()),
        });
    }
    let held = task.status == Status::InProgress;
    let previous_holder = task.assignee.take();
    task.deleted_at = Some(now);
    task.updated_at = now;
    task.lease_expires_at = None;
    tx.update_task(&task)?;
    super::reservations::release_task_surface(tx, id)?;
    let mut detail = json!({ "status": task.status });
    if let Some(reason) = &request.reason {
        detail["reason"] = json!(reason);
    }
    if let Some(holder) = previous_holder.filter(|_| held) {
        let loss = super::losses::Loss {
            holder: &holder,
            task: &task,
            fence: task.fence,
            reason: super::losses::DELETED,
            by: actor,
            feedback: request.reason.as_deref(),
            at: now,
        };
        super::losses::record(tx.sql(), loss)?;
        detail["held_by"] = json!(holder);
    }
    event(tx, now, actor, actions::TASK_DELETED, Some(id), detail)?;
    // Nothing is left to wait for: dependents may go ahead.
    resolve::release_dependents(tx, id, actor, now)?;
    Ok(finish(crate::model::TaskRecord {
        task,
        deps: record.deps,
    }))
}
