//! Questions and answers between agents and people. A question goes to an agent, to the
//! holder of a task, to `human` or to `any`; an answer goes back to whoever asked, in the
//! same thread. Open questions stay in the recipient's inbox until answered; an answer stays
//! until it has been delivered once.

use serde_json::json;

use super::{event, load_live, touch, validate};
use crate::api::{AnswerRequest, AskRequest, InboxRequest, HUMAN};
use crate::error::{Error, Result};
use crate::id::{MessageId, TaskId};
use crate::model::{actions, Message, Status, ANYONE};
use crate::store::{MessageQuery, NewMessage, StoreTx};
use crate::time::Timestamp;

pub fn check_body(field: &str, body: &str) -> Result<()> {
    validate::required_text(field, body)
}

/// Who a message about `task` with no addressee goes to (`baton chat T-12`): the agent of
/// its latest run, else its assignee.
fn worked_on(tx: &mut dyn StoreTx, task: TaskId) -> Result<String> {
    let assignee = load_live(tx, task)?.task.assignee;
    let last = crate::sql::query_map(
        tx.sql(),
        "run",
        "SELECT agent FROM runs WHERE task = ?1 ORDER BY id DESC LIMIT 1",
        &[task.number().into()],
        |r| r.text(0),
    )?
    .pop();
    last.or(assignee).ok_or_else(|| Error::NotFound {
        what: "agent",
        name: format!("who worked on {task}"),
        hint: Some(format!(
            "no agent has worked on {task} yet: name one with --to, or ask everyone (--to any)"
        )),
    })
}

/// Who a question goes to: `(recipient, task)`.
fn recipient(tx: &mut dyn StoreTx, to: &str) -> Result<(String, Option<TaskId>)> {
    let to = to.trim();
    if to.eq_ignore_ascii_case(ANYONE) {
        return Ok((ANYONE.into(), None));
    }
    if to.eq_ignore_ascii_case(HUMAN) {
        return Ok((HUMAN.into(), None));
    }
    // `get` rather than a byte slice: the text is the caller's and may start with a
    // multi-byte character.
    let looks_like_task = to.len() > 2 && to.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("T-"));
    if looks_like_task {
        let id: TaskId = to
            .parse()
            .map_err(|e: crate::id::BadTaskId| Error::invalid(e.to_string()))?;
        let task = load_live(tx, id)?.task;
        return match (&task.assignee, task.status) {
            (Some(holder), Status::InProgress) => Ok((holder.clone(), Some(id))),
            _ => Err(Error::Conflict {
                code: "task_not_held",
                message: format!("task {id} is {}; nobody holds it to answer", task.status),
                hint: Some("ask --to any, or ask an agent by name".into()),
            }),
        };
    }
    if to.is_empty() {
        return Err(Error::invalid_with_hint(
            "a question needs a recipient",
            "pass --to with an agent name, a task id (T-3), human or any",
        ));
    }
    validate::validate_agent_name(to)?;
    Ok((to.to_string(), None))
}

pub fn ask(
    tx: &mut dyn StoreTx,
    actor: &str,
    request: AskRequest,
    now: Timestamp,
) -> Result<Message> {
    touch(tx, actor, now)?;
    let to = match (request.to.trim(), request.task) {
        ("", Some(task)) => worked_on(tx, task)?,
        (to, _) => to.to_string(),
    };
    let (to, held) = recipient(tx, &to)?;
    if let (Some(named), Some(held)) = (request.task, held) {
        if named != held {
            return Err(Error::invalid(format!(
                "the question is to {held}'s holder but about {named}"
            )));
        }
    }
    let task = match held.or(request.task) {
        Some(id) => Some(load_live(tx, id)?.task.id),
        None => None,
    };
    if to == actor {
        return Err(Error::invalid_with_hint(
            format!("{actor} would be asking itself"),
            "ask another agent, human, or any",
        ));
    }
    let warning = unknown_addressee(tx, &to)?;
    let mut message = tx.insert_message(&NewMessage {
        from: actor.to_string(),
        to,
        task,
        body: request.body,
        reply_to: None,
        thread: None,
        created_at: now,
    })?;
    event(
        tx,
        now,
        actor,
        actions::MESSAGE_ASKED,
        task,
        json!({ "message": message.id, "to": message.to }),
    )?;
    message.warning = warning;
    Ok(message)
}

/// How many known names a warning lists.
const KNOWN_SHOWN: u64 = 20;

/// A question to a name nobody has used on this board waits for someone who may never come
/// (a typo, `claude1` for `claude-1`): it is kept, and the asker is told, with the names
/// seen lately. `human` and `any` are always known.
fn unknown_addressee(tx: &mut dyn StoreTx, to: &str) -> Result<Option<String>> {
    if to == crate::api::HUMAN || to == "any" {
        return Ok(None);
    }
    let db = tx.sql();
    if !db
        .query("SELECT 1 FROM agents WHERE name = ?1", &[to.into()])?
        .is_empty()
    {
        return Ok(None);
    }
    let rows = db.query(
        &format!("SELECT name FROM agents ORDER BY last_seen DESC, name LIMIT {KNOWN_SHOWN}"),
        &[],
    )?;
    let names = rows
        .iter()
        .map(|r| crate::sql::Row::new(r, "agent").text(0))
        .collect::<Result<Vec<String>>>()?;
    let known = if names.is_empty() {
        "none yet".to_string()
    } else {
        names.join(", ")
    };
    Ok(Some(format!(
        "nobody named '{to}' has used this board yet; the message waits for them. Known: {known}"
    )))
}

pub fn answer(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: MessageId,
    request: AnswerRequest,
    now: Timestamp,
) -> Result<Message> {
    touch(tx, actor, now)?;
    let asked = tx.message(id)?.ok_or(Error::MessageNotFound(id))?;
    let reply = tx.insert_message(&NewMessage {
        from: actor.to_string(),
        to: asked.from.clone(),
        task: asked.task,
        body: request.body,
        reply_to: Some(id),
        thread: Some(asked.thread),
        created_at: now,
    })?;
    tx.mark_answered(id, actor, now)?;
    event(
        tx,
        now,
        actor,
        actions::MESSAGE_ANSWERED,
        asked.task,
        json!({ "message": reply.id, "reply_to": id, "to": reply.to }),
    )?;
    Ok(reply)
}

/// The names a message to `actor` may be addressed to.
fn addresses(actor: &str) -> Vec<String> {
    vec![actor.to_string(), ANYONE.to_string()]
}

pub fn inbox_query(actor: &str, request: &InboxRequest) -> MessageQuery {
    let limit = request.limit.filter(|l| *l > 0);
    match request.reply_to {
        Some(question) => MessageQuery {
            to: vec![actor.to_string()],
            reply_to: Some(question),
            pending_only: !request.all,
            limit,
            ..MessageQuery::default()
        },
        None => MessageQuery {
            to: addresses(actor),
            not_from: Some(actor.to_string()),
            pending_only: !request.all,
            limit,
            ..MessageQuery::default()
        },
    }
}

/// Answers among `messages` that are now delivered to `actor`.
pub fn undelivered(actor: &str, request: &InboxRequest, messages: &[Message]) -> Vec<MessageId> {
    if request.all {
        return Vec::new();
    }
    messages
        .iter()
        .filter(|m| !m.is_question() && m.read_at.is_none() && m.to == actor)
        .map(|m| m.id)
        .collect()
}

pub fn thread(tx: &mut dyn StoreTx, id: MessageId) -> Result<Vec<Message>> {
    let m = tx.message(id)?.ok_or(Error::MessageNotFound(id))?;
    tx.messages(&MessageQuery {
        thread: Some(m.thread),
        ..MessageQuery::default()
    })
}
