//! Claims and the moves around them: pickup, done, approve, reject, block, unblock.

use serde_json::json;

use super::edit::{transition_error, waiting_error};
use super::leases::lease_ttl;
use super::reservations::{self, compile, describe};
use super::{event, finish, load_live, losses, resolve, touch};
use crate::api::{BlockRequest, DoneRequest, PickupRequest, RejectRequest};
use crate::error::{Error, Result};
use crate::glob::Glob;
use crate::id::TaskId;
use crate::lifecycle::{self, Action, SATISFIES_DEPENDENCY};
use crate::model::{
    actions, Claim, Note, Pickup, ReservationMode, Skipped, Status, Task, TaskRecord,
};
use crate::store::{ReadyQuery, StoreTx};
use crate::time::Timestamp;

/// How many candidates to read per pickup; the first that passes every rule wins.
const CANDIDATES: u64 = 4;

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
    let mut skipped = Vec::new();
    let (record, surface) = match request.id {
        Some(id) => {
            let record = load_live(tx, id)?;
            claimable(&record, capability)?;
            if record.task.gated {
                return Err(gated_error(tx, &record.task)?);
            }
            let surface = surface(&record.task)?;
            if let Some(reason) = surface_conflict(tx, agent, &surface, now)? {
                return Err(Error::Conflict {
                    code: "reservation_conflict",
                    message: format!("task {id} cannot be claimed: {reason}"),
                    hint: Some("wait for the reservation to be released or expire".into()),
                });
            }
            (record, surface)
        }
        None => match best_ready(tx, agent, request, capability, now, &mut skipped)? {
            Some(found) => found,
            None => return Err(nothing_ready(tx, capability, &skipped)?),
        },
    };

    let ttl = lease_ttl(tx)?;
    let until = now.plus(ttl);
    let mut task = record.task;
    task.status = Status::InProgress;
    task.assignee = Some(agent.to_string());
    task.fence += 1;
    task.lease_expires_at = Some(until);
    task.started_at = Some(now);
    task.updated_at = now;
    tx.update_task(&task)?;
    reservations::reserve_task_surface(tx, agent, task.id, &surface, until, now)?;
    let claim = Claim {
        fence: task.fence,
        lease_expires_at: until,
    };
    event(
        tx,
        now,
        agent,
        actions::TASK_PICKED_UP,
        Some(task.id),
        json!({ "fence": claim.fence, "lease_expires_at": claim.lease_expires_at }),
    )?;
    let task = finish(TaskRecord {
        task,
        deps: record.deps,
    });
    super::plan::task_claimed(tx, &task, agent, now)?;
    let context = super::plan::dependency_summaries(tx, &task)?;
    Ok(Pickup {
        task,
        claim,
        skipped: if request.explain { skipped } else { Vec::new() },
        context,
    })
}

/// Why a task whose phase's gate is closed cannot be claimed.
fn gated_error(tx: &mut dyn StoreTx, task: &Task) -> Result<Error> {
    let why = match task.phase {
        Some(p) => {
            let phase = super::plan::load_phase(tx.sql(), p)?;
            let waiting: Vec<String> = phase.depends_on.iter().map(|d| d.to_string()).collect();
            format!(
                "its phase {p} is {}{}",
                phase.status,
                if waiting.is_empty() {
                    String::new()
                } else {
                    format!(" and waits for {}", waiting.join(", "))
                }
            )
        }
        None => "its initiative is not active".to_string(),
    };
    Ok(Error::Conflict {
        code: "phase_gated",
        message: format!("task {} is not handed out yet: {why}", task.id),
        hint: Some(match task.phase {
            Some(p) => format!(
                "a reviewer approves the phase (`baton phase approve {p}`) once the phases \
                 it depends on are completed"
            ),
            None => "reopen its initiative".into(),
        }),
    })
}

/// The store's one-step pickup ([`crate::store::Store::claim_next`]) when the request is
/// one it may take: the best ready task, for an agent (no task named).
pub fn shortcut(
    store: &impl crate::store::Store,
    agent: &str,
    request: &PickupRequest,
    now: Timestamp,
) -> Result<Option<Pickup>> {
    if request.id.is_some()
        || agent == crate::api::HUMAN
        || request.category.is_some()
        || request.initiative.is_some()
    {
        return Ok(None);
    }
    let capability = request
        .capability
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let claimed = store.claim_next(&crate::store::NextClaim {
        agent,
        capability,
        now,
        satisfied: &SATISFIES_DEPENDENCY,
        action: actions::TASK_PICKED_UP,
    })?;
    Ok(claimed.map(|(record, claim)| Pickup {
        task: finish(record),
        claim,
        // The best ready task won at once: nothing was passed over.
        skipped: Vec::new(),
        context: Vec::new(),
    }))
}

/// The task's file surface as compiled globs (validated when the task was written).
fn surface(task: &Task) -> Result<Vec<Glob>> {
    task.files.iter().map(|f| compile(f)).collect()
}

/// Why `agent` cannot take this surface now, if it cannot.
fn surface_conflict(
    tx: &mut dyn StoreTx,
    agent: &str,
    surface: &[Glob],
    now: Timestamp,
) -> Result<Option<String>> {
    for glob in surface {
        if let Some(r) =
            reservations::conflicts(tx, agent, glob, ReservationMode::Exclusive, now)?.first()
        {
            return Ok(Some(format!("its files {glob} overlap {}", describe(r))));
        }
    }
    Ok(None)
}

/// Walks the ready queue best first, page by page, passing over tasks whose surface is
/// reserved by someone else.
fn best_ready(
    tx: &mut dyn StoreTx,
    agent: &str,
    request: &PickupRequest,
    capability: Option<&str>,
    now: Timestamp,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<(TaskRecord, Vec<Glob>)>> {
    let mut after = None;
    loop {
        let page = tx.ready_candidates(&ReadyQuery {
            satisfied: SATISFIES_DEPENDENCY.to_vec(),
            capability: capability.map(str::to_string),
            category: request.category,
            initiative: request.initiative,
            after,
            limit: CANDIDATES,
        })?;
        let full = page.len() as u64 == CANDIDATES;
        let before = after;
        for record in page {
            after = Some((record.task.priority, record.task.id));
            if claimable(&record, capability).is_err() {
                continue;
            }
            let surface = surface(&record.task)?;
            match surface_conflict(tx, agent, &surface, now)? {
                None => return Ok(Some((record, surface))),
                Some(reason) => skipped.push(Skipped {
                    id: record.task.id,
                    reason,
                }),
            }
        }
        // A store that ignored `after` would hand out the same page forever.
        if !full || after == before {
            return Ok(None);
        }
    }
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
fn nothing_ready(
    tx: &mut dyn StoreTx,
    capability: Option<&str>,
    skipped: &[Skipped],
) -> Result<Error> {
    let counts = tx.status_counts()?;
    let mut parts = Vec::new();
    if !skipped.is_empty() {
        let shown: Vec<String> = skipped
            .iter()
            .take(3)
            .map(|s| format!("{} ({})", s.id, s.reason))
            .collect();
        let more = skipped.len().saturating_sub(3);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        parts.push(format!(
            "{} ready but their files are reserved: {}{more}",
            skipped.len(),
            shown.join("; ")
        ));
    }
    if let Some(cap) = capability {
        parts.push(format!(
            "no open task with capability '{cap}' has its dependencies met"
        ));
    }
    let waiting = counts.open.saturating_sub(skipped.len() as u64);
    if waiting > 0 && capability.is_none() {
        parts.push(format!(
            "{waiting} open but waiting on dependencies or a phase gate"
        ));
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

pub(crate) fn require_holder(task: &Task, agent: &str, action: &str) -> Result<()> {
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

/// The common end of `done` and `approve`: the task reached review or done, so it is
/// written, recorded, and its waiting dependents may open.
fn hand_on(
    tx: &mut dyn StoreTx,
    actor: &str,
    action: &'static str,
    record: TaskRecord,
    mut detail: serde_json::Value,
    notes: Option<String>,
    now: Timestamp,
) -> Result<Task> {
    let TaskRecord { mut task, deps } = record;
    if let Some(text) = notes {
        add_note(tx, &mut task, actor, text.clone(), now)?;
        detail["notes"] = json!(text);
    }
    task.updated_at = now;
    tx.update_task(&task)?;
    event(tx, now, actor, action, Some(task.id), detail)?;
    resolve::release_dependents(tx, task.id, actor, now)?;
    Ok(finish(TaskRecord { task, deps }))
}

pub fn done(
    tx: &mut dyn StoreTx,
    agent: &str,
    id: TaskId,
    request: DoneRequest,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, agent, now)?;
    let mut record = load_live(tx, id)?;
    let task = &mut record.task;
    let to = transition(task, Action::Done)
        .and_then(|to| {
            check_fence(task, request.fence)?;
            require_holder(task, agent, "finish")?;
            Ok(to)
        })
        .map_err(|e| losses::explain(tx.sql(), agent, task, e))?;
    task.status = to;
    task.lease_expires_at = None;
    let mut detail = json!({ "fence": task.fence });
    if let Some(summary) = request
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        task.summary = Some(summary.to_string());
        detail["summary"] = json!(summary);
    }
    let released = reservations::release_task_surface(tx, id)?;
    if !released.is_empty() {
        detail["released"] = json!(released);
    }
    hand_on(
        tx,
        agent,
        actions::TASK_DONE,
        record,
        detail,
        request.notes,
        now,
    )
}

pub fn approve(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: TaskId,
    notes: Option<String>,
    now: Timestamp,
) -> Result<Task> {
    touch(tx, actor, now)?;
    let mut record = load_live(tx, id)?;
    record.task.status = transition(&record.task, Action::Approve)?;
    record.task.completed_at = Some(now);
    let task = hand_on(
        tx,
        actor,
        actions::TASK_APPROVED,
        record,
        json!({}),
        notes,
        now,
    )?;
    super::merges::task_approved(tx, actor, &task, now)?;
    Ok(task)
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
    let previous = task.assignee.clone();
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
        // Back to the same holder under the same claim, with a fresh lease and its surface
        // (the parts nobody else took meanwhile).
        let until = now.plus(lease_ttl(tx)?);
        task.lease_expires_at = Some(until);
        let holder = task.assignee.clone().unwrap_or_default();
        let mut free = Vec::new();
        for glob in surface(&task)? {
            if reservations::conflicts(tx, &holder, &glob, ReservationMode::Exclusive, now)?
                .is_empty()
            {
                free.push(glob);
            }
        }
        reservations::reserve_task_surface(tx, &holder, id, &free, until, now)?;
    } else {
        task.assignee = None;
        task.lease_expires_at = None;
    }
    task.updated_at = now;
    tx.update_task(&task)?;
    if let Some(holder) = &previous {
        let loss = losses::Loss {
            holder,
            task: &task,
            fence: task.fence,
            reason: match to {
                Status::InProgress => losses::RETURNED,
                _ => losses::REJECTED,
            },
            by: actor,
            feedback: Some(request.feedback.as_str()),
            at: now,
        };
        losses::record(tx.sql(), loss)?;
    }
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
    if let Some(holder) = &holder {
        let loss = losses::Loss {
            holder,
            task: &task,
            fence: task.fence,
            reason: losses::BLOCKED,
            by: actor,
            feedback: task.blocked_reason.as_deref(),
            at: now,
        };
        losses::record(tx.sql(), loss)?;
    }
    reservations::release_task_surface(tx, id)?;
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
