//! Leases: expiry returns work to the queue (or blocks it after too many retries), any
//! mutation by the holder renews, `heartbeat` renews explicitly. Also project settings.

use std::time::Duration;

use serde_json::json;

use super::{event, reservations, resolve};
use crate::api::HeartbeatRequest;
use crate::error::{Error, Result};
use crate::model::{actions, AgentState, Heartbeat, HeldLease, MergeStrategy, Setting, Status};
use crate::store::StoreTx;
use crate::time::{format_duration, parse_duration, Timestamp};

/// The actor recorded for what Baton does by itself (lease expiry).
pub const SYSTEM: &str = "baton";

pub const LEASE_TTL: &str = "lease_ttl";
pub const MAX_RETRIES: &str = "max_retries";
/// The branch initiatives start from and approved work finally lands on.
pub const DEFAULT_BRANCH: &str = "default_branch";
/// `merge` or `rebase`: how a merge treats a target that moved on (see [`MergeStrategy`]).
pub const MERGE_STRATEGY: &str = "merge_strategy";
/// `merge`: an approved initiative's branch merges into the default branch; `pull_request`:
/// it is left for a pull request.
pub const LAND: &str = "land";
/// Where runners clone the project's repository from (a URL or path); empty: they work in
/// the project's own checkout.
pub const REPOSITORY: &str = "repository";
/// How long log entries and run output are kept (`off`: for ever); see
/// [`super::retention`].
pub const LOG_RETENTION: &str = "log_retention";
const DEFAULTS: [(&str, &str); 7] = [
    (LEASE_TTL, "30m"),
    (MAX_RETRIES, "3"),
    (DEFAULT_BRANCH, "main"),
    (MERGE_STRATEGY, "merge"),
    (LAND, "merge"),
    (REPOSITORY, ""),
    (LOG_RETENTION, "off"),
];
const MAX_LEASE: Duration = Duration::from_secs(7 * 86_400);

pub(crate) fn setting(tx: &mut dyn StoreTx, key: &str) -> Result<String> {
    let default = DEFAULTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default();
    Ok(tx.setting(key)?.unwrap_or(default))
}

pub fn lease_ttl(tx: &mut dyn StoreTx) -> Result<Duration> {
    let raw = setting(tx, LEASE_TTL)?;
    parse_duration(&raw).ok_or_else(|| Error::Internal(format!("bad lease_ttl setting '{raw}'")))
}

pub fn max_retries(tx: &mut dyn StoreTx) -> Result<u32> {
    let raw = setting(tx, MAX_RETRIES)?;
    raw.parse()
        .map_err(|_| Error::Internal(format!("bad max_retries setting '{raw}'")))
}

/// Checks and normalizes a setting's value; unknown keys are refused.
fn normalize(key: &str, value: &str) -> Result<String> {
    match key {
        LEASE_TTL => match parse_duration(value) {
            Some(d) if d >= Duration::from_secs(1) && d <= MAX_LEASE => Ok(format_duration(d)),
            _ => Err(Error::invalid_with_hint(
                format!("'{value}' is not a lease TTL"),
                "use a duration from 1s to 7d, such as 90s, 30m or 2h",
            )),
        },
        MAX_RETRIES => match value.trim().parse::<u32>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n.to_string()),
            _ => Err(Error::invalid_with_hint(
                format!("'{value}' is not a retry limit"),
                "use a whole number from 1 to 100",
            )),
        },
        DEFAULT_BRANCH => {
            let branch = value.trim();
            super::plan::check_branch(branch)?;
            Ok(branch.to_string())
        }
        MERGE_STRATEGY => MergeStrategy::parse(value)
            .map(|s| s.as_str().to_string())
            .ok_or_else(|| {
                Error::invalid_with_hint(
                    format!("'{value}' is not a merge strategy"),
                    "use merge (a merge commit joins both lines) or rebase (the work is \
                     replayed onto the moved target)",
                )
            }),
        REPOSITORY => {
            let v = value.trim();
            if v.len() > 2000 || v.chars().any(char::is_control) || v.starts_with('-') {
                return Err(Error::invalid_with_hint(
                    format!("'{value}' is not a repository location"),
                    "give a URL or path git can clone (git@host:team/app.git, \
                     https://host/team/app.git, /srv/git/app.git), or nothing to work in \
                     the project's own checkout",
                ));
            }
            Ok(v.to_string())
        }
        LOG_RETENTION => super::retention::normalize(value),
        LAND => match value.trim() {
            "merge" | "pull_request" => Ok(value.trim().to_string()),
            _ => Err(Error::invalid_with_hint(
                format!("'{value}' is not a way to land an initiative"),
                "use merge (into the default branch on approval) or pull_request (leave \
                 the initiative's branch for a pull request)",
            )),
        },
        _ => Err(Error::invalid_with_hint(
            format!("unknown setting '{key}'"),
            format!("settings: {}", DEFAULTS.map(|(k, _)| k).join(", ")),
        )),
    }
}

pub fn settings(tx: &mut dyn StoreTx) -> Result<Vec<Setting>> {
    DEFAULTS
        .iter()
        .map(|(key, default)| {
            let stored = tx.setting(key)?;
            Ok(Setting {
                key: key.to_string(),
                default: stored.is_none(),
                value: stored.unwrap_or_else(|| default.to_string()),
            })
        })
        .collect()
}

pub fn set_setting(
    tx: &mut dyn StoreTx,
    actor: &str,
    key: &str,
    value: &str,
    now: Timestamp,
) -> Result<Setting> {
    let key = key.trim();
    let value = normalize(key, value)?;
    let before = setting(tx, key)?;
    tx.set_setting(key, &value)?;
    if before != value {
        event(
            tx,
            now,
            actor,
            actions::CONFIG_UPDATED,
            None,
            json!({ "key": key, "from": before, "to": value }),
        )?;
    }
    Ok(Setting {
        key: key.to_string(),
        value,
        default: false,
    })
}

/// Applies every expired lease: the task goes back to open (or backlog while dependencies
/// are unmet) with one more retry, or to blocked once the retries are used up; its surface
/// is released.
pub fn reap(tx: &mut dyn StoreTx, now: Timestamp) -> Result<()> {
    let expired = tx.expired_leases(now)?;
    if expired.is_empty() {
        return Ok(());
    }
    let limit = max_retries(tx)?;
    for record in expired {
        let mut task = record.task;
        let holder = task.assignee.take();
        let expired_at = task.lease_expires_at.take();
        task.retry_count += 1;
        task.status = if task.retry_count >= limit {
            task.blocked_reason = Some(format!(
                "lease expired {} times (last held by {}); check why the work keeps stalling",
                task.retry_count,
                holder.as_deref().unwrap_or("nobody")
            ));
            Status::Blocked
        } else if resolve::deps_met(&record.deps) {
            Status::Open
        } else {
            Status::Backlog
        };
        task.updated_at = now;
        tx.update_task(&task)?;
        if let Some(holder) = &holder {
            let loss = super::losses::Loss {
                holder,
                task: &task,
                fence: task.fence,
                reason: super::losses::LEASE_EXPIRED,
                by: SYSTEM,
                feedback: None,
                at: expired_at.unwrap_or(now),
            };
            super::losses::record(tx.sql(), loss)?;
        }
        let released = reservations::release_task_surface(tx, task.id)?;
        event(
            tx,
            now,
            SYSTEM,
            actions::TASK_LEASE_EXPIRED,
            Some(task.id),
            json!({
                "held_by": holder,
                "fence": task.fence,
                "expired_at": expired_at,
                "retry_count": task.retry_count,
                "to": task.status,
                "released": released,
            }),
        )?;
    }
    Ok(())
}

/// An agent's state by the lease rules (see [`AgentState`]): a holder is stale once its
/// soonest lease has less than half of `ttl` left, the point from which any call of its own
/// would have renewed it ([`renew`]); one that holds nothing is idle for a lease term after
/// its last call, then away.
pub fn agent_state(
    last_seen: Timestamp,
    soonest_lease: Option<Timestamp>,
    ttl: Duration,
    now: Timestamp,
) -> AgentState {
    match soonest_lease {
        Some(until) if until < now.plus(ttl / 2) => AgentState::Stale,
        Some(_) => AgentState::Working,
        None if last_seen.plus(ttl) < now => AgentState::Away,
        None => AgentState::Idle,
    }
}

/// Renews `agent`'s leases and reservations when less than half of their term is left, so
/// that ordinary calls by the holder keep its claims alive without rewriting them each time.
pub fn renew(tx: &mut dyn StoreTx, agent: &str, now: Timestamp) -> Result<()> {
    let ttl = lease_ttl(tx)?;
    tx.renew_leases(agent, now.plus(ttl), now.plus(ttl / 2))?;
    tx.renew_reservations(agent, now)?;
    Ok(())
}

pub fn heartbeat(
    tx: &mut dyn StoreTx,
    agent: &str,
    request: &HeartbeatRequest,
    now: Timestamp,
) -> Result<Heartbeat> {
    if let Some(id) = request.task {
        let record = super::load_live(tx, id)?;
        super::claims::check_fence(&record.task, request.fence)
            .and_then(|()| super::claims::require_holder(&record.task, agent, "renew"))
            .map_err(|e| super::losses::explain(tx.sql(), agent, &record.task, e))?;
    }
    let ttl = lease_ttl(tx)?;
    let until = now.plus(ttl);
    let renewed = tx.renew_leases(agent, until, until)?;
    let reservations = tx.renew_reservations(agent, now)?;
    Ok(Heartbeat {
        agent: agent.to_string(),
        tasks: renewed
            .into_iter()
            .map(|t| HeldLease {
                id: t.id,
                fence: t.fence,
                lease_expires_at: t.lease_expires_at.unwrap_or(until),
            })
            .collect(),
        reservations,
        lost: super::losses::take_unreported(tx, agent, now)?,
    })
}
