//! Read-side views: task queries, an agent's own tasks, the board summary, agents.

use std::collections::BTreeMap;

use super::{finish, leases};
use crate::api::TaskFilter;
use crate::error::Result;
use crate::lifecycle::SATISFIES_DEPENDENCY;
use crate::model::{Agent, BlockedTask, BoardSummary, StaleLease, Status, Task, BOARD_LIST_LIMIT};
use crate::store::{StoreTx, TaskQuery};
use crate::time::Timestamp;

pub fn task_query(filter: &TaskFilter) -> Result<TaskQuery> {
    let non_empty = |s: &Option<String>| {
        s.as_ref()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    Ok(TaskQuery {
        statuses: filter.status.clone(),
        assignee: non_empty(&filter.assignee),
        epic: non_empty(&filter.epic),
        priority: filter.priority,
        text: non_empty(&filter.text),
        include_deleted: filter.include_deleted,
        limit: filter.limit.filter(|l| *l > 0),
        phase: filter.phase,
        initiative: filter.initiative,
        parent: filter.parent,
        ..TaskQuery::default()
    })
}

/// Tasks the agent holds or has handed in for review.
pub fn mine(tx: &mut dyn StoreTx, agent: &str, now: Timestamp) -> Result<Vec<Task>> {
    super::touch(tx, agent, now)?;
    let records = tx.tasks(&TaskQuery {
        assignee: Some(agent.to_string()),
        statuses: vec![Status::InProgress, Status::Review],
        ..TaskQuery::default()
    })?;
    Ok(records.into_iter().map(finish).collect())
}

/// Agents seen on this board and what each holds: every task when `limit` is `None`,
/// else the first `limit` per agent (soonest lease first). Counts come from the store's kept
/// counts, so the summary costs the same on any board size.
fn agents_holding(
    tx: &mut dyn StoreTx,
    limit: Option<usize>,
    now: Timestamp,
) -> Result<Vec<Agent>> {
    let totals: BTreeMap<String, u64> = tx.holder_counts()?.into_iter().collect();
    let ttl = leases::lease_ttl(tx)?;
    let mut agents = Vec::new();
    for row in tx.agents()? {
        let total = totals.get(&row.name).copied().unwrap_or(0);
        let mut holding = if total == 0 {
            Vec::new()
        } else {
            tx.held_by(&row.name, limit.map(|l| l as u64))?
        };
        // Held soonest lease first: the first says when the agent must next be heard from.
        let lease_expires_at = match holding.first() {
            Some(id) => tx.task(*id)?.and_then(|r| r.task.lease_expires_at),
            None => None,
        };
        let state = leases::agent_state(row.last_seen, lease_expires_at, ttl, now);
        holding.sort();
        agents.push(Agent {
            holding_total: if limit.is_none() {
                holding.len() as u64
            } else {
                total
            },
            holding,
            name: row.name,
            first_seen: row.first_seen,
            last_seen: row.last_seen,
            lease_expires_at,
            state,
        });
    }
    Ok(agents)
}

pub fn agents(tx: &mut dyn StoreTx, now: Timestamp) -> Result<Vec<Agent>> {
    agents_holding(tx, None, now)
}

/// Counts, and the first few of each list: its size does not grow with the board.
pub fn board(tx: &mut dyn StoreTx, now: Timestamp) -> Result<BoardSummary> {
    let project = tx.project()?;
    let counts = tx.status_counts()?;
    let ready = tx.count_ready(&SATISFIES_DEPENDENCY)?;
    let blocked = tx
        .tasks(&TaskQuery {
            statuses: vec![Status::Blocked],
            limit: Some(BOARD_LIST_LIMIT as u64),
            ..TaskQuery::default()
        })?
        .into_iter()
        .map(|r| BlockedTask {
            id: r.task.id,
            title: r.task.title,
            reason: r.task.blocked_reason,
        })
        .collect();
    // Board reads apply expired leases first, so this is nearly always empty.
    let expired = tx.expired_leases(now)?;
    let stale_leases_total = expired.len() as u64;
    let stale_leases = expired
        .into_iter()
        .take(BOARD_LIST_LIMIT)
        .filter_map(|r| {
            Some(StaleLease {
                lease_expires_at: r.task.lease_expires_at?,
                id: r.task.id,
                assignee: r.task.assignee,
            })
        })
        .collect();
    Ok(BoardSummary {
        project: project.name,
        total: counts.total(),
        blocked_total: counts.blocked,
        counts,
        ready,
        blocked,
        agents: agents_holding(tx, Some(BOARD_LIST_LIMIT), now)?,
        stale_leases,
        stale_leases_total,
    })
}
