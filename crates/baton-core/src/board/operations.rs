//! Log entries: what people, agents and systems report (`baton log`), appended to the same
//! event log as board changes, in the same transaction rules, so one query (`baton tail`)
//! reads everything that happened, attributed.

use serde_json::json;

use super::{load, validate};
use crate::api::NewLogEntry;
use crate::error::{Error, Result};
use crate::model::{ActorKind, Event, LogLevel, NewEvent};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// The longest log message kept.
pub const MAX_MESSAGE: usize = 10_000;

/// `BUILD` -> `build`: the tag a log entry's action is made of.
pub fn tag(action: Option<&str>) -> Result<String> {
    let raw = action
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("note");
    let ok = raw.len() <= 40
        && raw.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(Error::invalid_with_hint(
            format!("'{raw}' is not a log action"),
            "a letter, then up to 39 letters, digits, _ or -: BUILD, DEPLOY, test-run",
        ));
    }
    Ok(raw.to_ascii_lowercase())
}

pub fn log(tx: &mut dyn StoreTx, actor: &str, entry: NewLogEntry, now: Timestamp) -> Result<Event> {
    let message = entry.message.trim();
    if message.is_empty() || message.len() > MAX_MESSAGE {
        return Err(Error::invalid_with_hint(
            "a log entry needs a message, in up to 10,000 bytes",
            "for example: baton log \"Build started\" --action BUILD",
        ));
    }
    let action = format!("log.{}", tag(entry.action.as_deref())?);
    if let Some(t) = &entry.tool {
        validate::validate_agent_name(t)?;
    }
    // Any task the board knows, a deleted one too: the record is about what happened.
    if let Some(task) = entry.task {
        load(tx, task)?;
    }
    let detail = json!({
        "message": message,
        "level": entry.level.unwrap_or(LogLevel::Info),
        "kind": entry.kind.unwrap_or(ActorKind::Human),
        "tool": entry.tool,
    });
    let id = tx.append_event(&NewEvent {
        at: now,
        actor: actor.to_string(),
        action: action.clone().into(),
        task: entry.task,
        detail: detail.clone(),
    })?;
    Ok(Event {
        id,
        at: now,
        actor: actor.to_string(),
        action,
        task: entry.task,
        detail,
    })
}

impl<S: crate::store::Store> crate::api::Operations for super::Board<S> {
    fn log(&self, actor: &str, entry: NewLogEntry) -> Result<Event> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| log(tx, actor, entry.clone(), now))
    }
}
