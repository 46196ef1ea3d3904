//! Claims and the moves around them: pickup, done, approve, reject, block, unblock.

use serde_json::json;

use super::edit::{transition_error, waiting_error};
use super::{event, finish, lease_ttl, load_live, resolve, touch};
use crate::api::{BlockRequest, DoneRequest, PickupRequest, RejectRequest};
use crate::error::{Error, Result};
use crate::id::TaskId;
use crate::lifecycle::{self, Action, SATISFIES_DEPENDENCY};
use crate::model::{actions, Claim, Note, Pickup, Status, Task, TaskRecord};
use crate::store::{ReadyQuery, StoreTx};
use crate::time::Timestamp;

/// How many candidates to read per pickup; the first that passes every rule wins.
const CANDIDATES: u64 = 16;

pub fn pickup(
    tx: &mut dyn StoreTx,
    agent: &str,
    request: &PickupRequest,
    now: Timestamp,
) -> Result<Pickup> {
    touch(tx, agent, now)?;
    let capability = request
        .capability
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let record = match request.id {
        Some(id) => {
            let record = load_live(tx, id)?;
            claimable(&record, capability)?;
            record
        }
        None => {
            let candidates = tx.ready_candidates(&ReadyQuery {
                satisfied: SATISFIES_DEPENDENCY.to_vec(),
                capability: capability.map(str::to_string),
                limit: CANDIDATES,
            })?;
            match candidates
                .into_iter()
                .find(|r| claimable(r, capability).is_ok())
            {
                Some(record) => record,
                None => return Err(nothing_ready(tx, capability)?),
            }
        }
    };

    let ttl = lease_ttl(tx)?;
    let mut task = record.task;
    task.status = Status::InProgress;
    task.assignee = Some(agent.to_string());
    task.fence += 1;
    task.lease_expires_at = Some(now.plus(ttl));
    task.started_at = Some(now);
    task.updated_at = now;
    tx.update_task(&task)?;
    let claim = Claim {
        fence: task.fence,
        lease_expires_at: now.plus(ttl),
    };
    event(
        tx,
        now,
        agent,
        actions::TASK_PICKED_UP,
        Some(task.id),
        json!({ "fence": claim.fence, "lease_expires_at": claim.lease_expires_at }),
    )?;
    Ok(Pickup {
        task: finish(TaskRecord {
            task,
            deps: record.deps,
        }),
        claim,
    })
}

/// Every rule a task must pass to be claimed now.
fn claimable(record: &TaskRecord, capability: Option<&str>) -> Result<()> {
    let task = &record.task;
    if task.status == Status::InProgress {
        return Err(held_error(task));
    }
    if lifecycle::target(task.status, Action::Pickup).is_none() {
        return Err(transition_error(task, Action::Pickup));
    }
    if !resolve::deps_met(&record.deps) {
        return Err(waiting_error(task, &record.deps));
    }
    if let Some(cap) = capability {
        if !task.capabilities.iter().any(|c| c == cap) {
            return Err(Error::Conflict {
                code: "capability_mismatch",
                message: format!("task {} does not list capability '{cap}'", task.id),
                hint: Some(format!(
                    "its capabilities: [{}]",
                    task.capabilities.join(", ")
                )),
            });
        }
    }
    Ok(())
}

fn held_error(task: &Task) -> Error {
    let holder = task.assignee.as_deref().unwrap_or("nobody");
    let until = task
        .lease_expires_at
        .map(|t| format!(", lease until {t}"))
        .unwrap_or_default();
    Error::Conflict {
        code: "task_claimed",
        message: format!("task {} is in-progress (held by {holder}{until})", task.id),
        hint: Some(
            "pick another task, or wait until the holder finishes or its lease expires".into(),
        ),
    }
}

/// Explains why nothing is ready, so an agent knows whether to wait or stop.
fn nothing_ready(tx: &mut dyn StoreTx, capability: Option<&str>) -> Result<Error> {
    let counts = tx.status_counts()?;
    let mut parts = Vec::new();
    if let Some(cap) = capability {
        parts.push(format!(
            "no open task with capability '{cap}' has its dependencies met"
        ));
    }
    if counts.open > 0 && capability.is_none() {
        parts.push(format!("{} open but waiting on dependencies", counts.open));
    }
    if counts.backlog > 0 {
        parts.push(format!("{} in backlog", counts.backlog));
    }
    if counts.in_progress > 0 {
        parts.push(format!("{} in progress", counts.in_progress));
    }
    if counts.review > 0 {
        parts.push(format!("{} in review", counts.review));
    }
    if counts.blocked > 0 {
        parts.push(format!("{} blocked (see `baton board`)", counts.blocked));
    }
    let hint = if counts.total() == counts.done {
        "the board has no unfinished task; add one with `baton task add`".to_string()
    } else {
        format!("{}; try again when dependencies finish", parts.join(", "))
    };
    Ok(Error::NoTaskReady { hint })
}

/// Refuses a write that carries the fence of an older claim.
pub(crate) fn check_fence(task: &Task, fence: Option<u64>) -> Result<()> {
    match fence {
        Some(f) if f != task.fence => Err(Error::Conflict {
            code: "stale_claim",
            message: format!(
                "fence {f} is stale: task {} is now at fence {} (held by {})",
                task.id,
                task.fence,
                task.assignee.as_deref().unwrap_or("nobody")
            ),
            hint: Some("your claim was lost; pick up another task".into()),
        }),
        _ => Ok(()),
    }
}

fn require_holder(task: &Task, agent: &str, action: &str) -> Result<()> {
    match task.assignee.as_deref() {
        Some(holder) if holder == agent => Ok(()),
        holder => Err(Error::Conflict {
            code: "not_holder",
            message: format!(
                "task {} is held by {}, not {agent}",
                task.id,
                holder.unwrap_or("nobody")
            ),
            hint: Some(format!(
                "only the holder can {action} it; a person can move it with `baton task update {} --status review`",
                task.id
            )),
        }),
    }
}

fn transition(task: &Task, action: Action) -> Result<Status> {
    lifecycle::target(task.status, action).ok_or_else(|| transition_error(task, action))
}

fn add_note(
    tx: &mut dyn StoreTx,
    task: &mut Task,
    author: &str,
    text: String,
    now: Timestamp,
) -> Result<()> {
    let note = Note {
        author: author.to_string(),
        at: now,
        text,
    };
    tx.add_note(task.id, &note)?;
    task.notes.push(note);
    Ok(())
}

pub fn done(
    tx: &mut dyn StoreTx,
    agent: &str,
    id: TaskId,
    request: DoneRequest,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, agent, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    let to = transition(&task, Action::Done)?;
    check_fence(&task, request.fence)?;
    require_holder(&task, agent, "finish")?;
    if let Some(notes) = request.notes.clone() {
        add_note(tx, &mut task, agent, notes, now)?;
    }
    task.status = to;
    task.lease_expires_at = None;
    task.updated_at = now;
    tx.update_task(&task)?;
    let mut detail = json!({ "fence": task.fence });
    if let Some(notes) = request.notes {
        detail["notes"] = json!(notes);
    }
    event(tx, now, agent, actions::TASK_DONE, Some(id), detail)?;
    resolve::release_dependents(tx, id, agent, now)?;
    Ok(finish(TaskRecord {
        task,
        deps: record.deps,
    }))
}

pub fn approve(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    notes: Option<String>,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    task.status = transition(&task, Action::Approve)?;
    if let Some(text) = notes.clone() {
        add_note(tx, &mut task, actor, text, now)?;
    }
    task.completed_at = Some(now);
    task.updated_at = now;
    tx.update_task(&task)?;
    let mut detail = json!({});
    if let Some(n) = notes {
        detail["notes"] = json!(n);
    }
    event(tx, now, actor, actions::TASK_APPROVED, Some(id), detail)?;
    resolve::release_dependents(tx, id, actor, now)?;
    Ok(finish(TaskRecord {
        task,
        deps: record.deps,
    }))
}

pub fn reject(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    request: RejectRequest,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    let wanted = request.to.unwrap_or(if task.assignee.is_some() {
        Status::InProgress
    } else {
        Status::Open
    });
    if wanted == Status::InProgress && task.assignee.is_none() {
        return Err(Error::invalid_with_hint(
            format!("task {id} has no holder to return to"),
            "reject it to open instead (--to open)",
        ));
    }
    let to = transition(&task, Action::Reject { to: wanted })?;
    add_note(
        tx,
        &mut task,
        actor,
        format!("Rejected: {}", request.feedback),
        now,
    )?;
    task.status = to;
    if to == Status::InProgress {
        // Back to the same holder under the same claim, with a fresh lease.
        task.lease_expires_at = Some(now.plus(lease_ttl(tx)?));
    } else {
        task.assignee = None;
        task.lease_expires_at = None;
    }
    task.updated_at = now;
    tx.update_task(&task)?;
    event(
        tx,
        now,
        actor,
        actions::TASK_REJECTED,
        Some(id),
        json!({ "feedback": request.feedback, "to": to, "assignee": task.assignee }),
    )?;
    Ok(finish(TaskRecord {
        task,
        deps: record.deps,
    }))
}

pub fn block(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    request: BlockRequest,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    let to = transition(&task, Action::Block)?;
    check_fence(&task, request.fence)?;
    let from = task.status;
    let holder = task.assignee.take();
    task.status = to;
    task.blocked_reason = Some(request.reason.trim().to_string());
    task.lease_expires_at = None;
    task.updated_at = now;
    tx.update_task(&task)?;
    event(
        tx,
        now,
        actor,
        actions::TASK_BLOCKED,
        Some(id),
        json!({ "reason": task.blocked_reason, "from": from, "held_by": holder }),
    )?;
    Ok(finish(TaskRecord {
        task,
        deps: record.deps,
    }))
}

pub fn unblock(tx: &mut dyn StoreTx, actor: &str, id: TaskId, now: Timestamp) -> Result<Task> {
    touch(tx, actor, now)?;
    let record = load_live(tx, id)?;
    let mut task = record.task;
    transition(&task, Action::Unblock)?;
    // Back to the queue, or to backlog while dependencies are unmet.
    task.status = if resolve::deps_met(&record.deps) {
        Status::Open
    } else {
        Status::Backlog
    };
    let reason = task.blocked_reason.take();
    task.updated_at = now;
    tx.update_task(&task)?;
    event(
        tx,
        now,
        actor,
        actions::TASK_UNBLOCKED,
        Some(id),
        json!({ "to": task.status, "was_blocked_for": reason }),
    )?;
    Ok(finish(TaskRecord {
        task,
        deps: record.deps,
    }))
}
