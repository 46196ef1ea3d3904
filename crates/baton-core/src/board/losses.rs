//! Tasks taken from their holder by something else: an expired lease, a rejection, a
//! person moving the task, a block or a delete. Each is recorded in the transaction that
//! takes the task, told to the holder once (its next `task mine` or heartbeat), and a late
//! `done` or heartbeat on the task says what happened rather than only the task's state.

use crate::error::{Error, Result};
use crate::id::TaskId;
use crate::model::{LostTask, Status, Task};
use crate::sql::{Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// The claim was lost to an expired lease.
pub const LEASE_EXPIRED: &str = "lease_expired";
/// A reviewer rejected it back to the queue.
pub const REJECTED: &str = "rejected";
/// A reviewer rejected it back to its holder, with feedback: not lost, but news.
pub const RETURNED: &str = "returned";
/// Someone else changed its status.
pub const MOVED: &str = "moved";
pub const BLOCKED: &str = "blocked";
pub const DELETED: &str = "deleted";

/// The most losses one call reports; older ones wait for the next call.
const MAX_REPORTED: u64 = 100;

const COLUMNS: &str = "l.id, l.task, t.title, l.reason, l.at, l.by_actor, l.status, l.fence, \
                       l.feedback, t.assignee";

/// What took a task from its holder, as the taking write records it.
pub struct Loss<'a> {
    pub holder: &'a str,
    /// The task as it is after the change.
    pub task: &'a Task,
    /// The fence of the claim that was lost.
    pub fence: u64,
    pub reason: &'static str,
    pub by: &'a str,
    pub feedback: Option<&'a str>,
    /// When it happened (for a lease: when it expired, not when that was noticed).
    pub at: Timestamp,
}

/// Records a loss, unless the holder did it itself.
pub fn record(db: &mut dyn Sql, loss: Loss<'_>) -> Result<()> {
    if loss.holder == loss.by {
        return Ok(());
    }
    db.execute(
        "INSERT INTO task_losses (agent, task, fence, reason, at, by_actor, status, feedback) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        &[
            loss.holder.into(),
            loss.task.id.number().into(),
            loss.fence.into(),
            loss.reason.into(),
            loss.at.into(),
            loss.by.into(),
            loss.task.status.as_str().into(),
            loss.feedback.into(),
        ],
    )?;
    Ok(())
}

/// The losses `agent` has not been told of yet, oldest first; they count as told.
pub fn take_unreported(tx: &mut dyn StoreTx, agent: &str, now: Timestamp) -> Result<Vec<LostTask>> {
    let db = tx.sql();
    let rows = db.query(
        &format!(
            "SELECT {COLUMNS} FROM task_losses l JOIN tasks t ON t.id = l.task \
             WHERE l.agent = ?1 AND l.reported_at IS NULL ORDER BY l.id LIMIT {MAX_REPORTED}"
        ),
        &[agent.into()],
    )?;
    let Some(last) = rows.last() else {
        return Ok(Vec::new());
    };
    let last = Row::new(last, "task loss").uint(0)?;
    db.execute(
        "UPDATE task_losses SET reported_at = ?1 \
         WHERE agent = ?2 AND reported_at IS NULL AND id <= ?3",
        &[now.into(), agent.into(), last.into()],
    )?;
    rows.iter()
        .map(|r| from_row(&Row::new(r, "task loss"), agent))
        .collect()
}

/// `error`, a holder's action on `task` refused, or the story of how `agent` lost the task
/// when it did (and has not claimed it again since).
/// The error keeps its code (`stale_claim`, `not_holder`, `invalid_transition`), which
/// callers act on; its message and hint tell the story.
pub fn explain(db: &mut dyn Sql, agent: &str, task: &Task, error: Error) -> Error {
    let code = match error.code() {
        "stale_claim" => "stale_claim",
        "not_holder" => "not_holder",
        "invalid_transition" => "invalid_transition",
        _ => return error,
    };
    let latest = db.query(
        &format!(
            "SELECT {COLUMNS} FROM task_losses l JOIN tasks t ON t.id = l.task \
             WHERE l.task = ?1 AND l.agent = ?2 AND l.reason <> ?3 ORDER BY l.id DESC LIMIT 1"
        ),
        &[task.id.number().into(), agent.into(), RETURNED.into()],
    );
    let loss = match latest {
        Ok(rows) => match rows
            .first()
            .map(|r| from_row(&Row::new(r, "task loss"), agent))
        {
            Some(Ok(loss)) => loss,
            _ => return error,
        },
        Err(_) => return error,
    };
    let claimed_again = task.assignee.as_deref() == Some(agent) && task.fence != loss.fence;
    if claimed_again {
        return error;
    }
    let (what, hint) = story(&loss);
    Error::Conflict {
        code,
        message: format!(
            "you no longer hold {} (\"{}\"): {what}",
            task.id, loss.title
        ),
        hint: Some(hint),
    }
}

fn from_row(r: &Row<'_>, agent: &str) -> Result<LostTask> {
    let status_text = r.text(6)?;
    let status = status_text
        .parse::<Status>()
        .map_err(|_| Error::Internal(format!("a task loss has the status {status_text}")))?;
    let mut lost = LostTask {
        task: TaskId(r.uint(1)?),
        title: r.text(2)?,
        reason: r.text(3)?,
        at: r.ts(4)?,
        by: r.text(5)?,
        status,
        fence: r.uint(7)?,
        feedback: r.opt_text(8)?,
        now_held_by: r.opt_text(9)?.filter(|holder| holder != agent),
        message: String::new(),
        hint: String::new(),
    };
    let (what, hint) = story(&lost);
    lost.message = format!("{} (\"{}\"): {what}", lost.task, lost.title);
    lost.hint = hint;
    Ok(lost)
}

/// What happened, and what the former holder should do next.
fn story(l: &LostTask) -> (String, String) {
    let id = l.task;
    let said = |text: &Option<String>| match text {
        Some(t) => format!(": \"{t}\""),
        None => String::new(),
    };
    let mut what = match l.reason.as_str() {
        LEASE_EXPIRED if l.status == Status::Blocked => format!(
            "its lease expired at {} with no heartbeat or call from you, once too often, and it was blocked",
            l.at
        ),
        LEASE_EXPIRED => format!(
            "its lease expired at {} with no heartbeat or call from you, and it went back to {}",
            l.at, l.status
        ),
        REJECTED => format!(
            "{} rejected it at {} and sent it back to {}{}",
            l.by,
            l.at,
            l.status,
            said(&l.feedback)
        ),
        RETURNED => format!(
            "{} rejected it at {} and returned it to you{}",
            l.by,
            l.at,
            said(&l.feedback)
        ),
        BLOCKED => format!("{} blocked it at {}{}", l.by, l.at, said(&l.feedback)),
        DELETED => format!("{} deleted it at {}{}", l.by, l.at, said(&l.feedback)),
        _ => format!("{} moved it to {} at {}", l.by, l.status, l.at),
    };
    if let Some(holder) = &l.now_held_by {
        what.push_str(&format!("; {holder} holds it now"));
    }
    let hint = if let Some(holder) = &l.now_held_by {
        format!(
            "coordinate with {holder} (`baton ask --to {holder} --task {id} \"...\"`) before \
             touching it again; pick up other work with `baton task pickup`"
        )
    } else {
        match (l.reason.as_str(), l.status) {
            (RETURNED, _) => format!(
                "address the feedback, then `baton task done {id}` again (read it with `baton task show {id}`)"
            ),
            (DELETED, _) => "stop working on it; pick up other work with `baton task pickup`".into(),
            (_, Status::Open) => format!(
                "claim it again with `baton task pickup --id {id}` if you still work on it, and \
                 keep its lease alive with `baton heartbeat`; or pick up other work"
            ),
            (_, Status::Review | Status::Done) => {
                "it no longer needs you; pick up other work with `baton task pickup`".into()
            }
            _ => format!(
                "ask {} about it (`baton ask --to {} --task {id} \"...\"`), or pick up other work \
                 with `baton task pickup`",
                l.by, l.by
            ),
        }
    };
    (what, hint)
}
