//! Read-side views: task queries, an agent's own tasks, the board summary, agents.

use std::collections::BTreeMap;

use super::finish;
use crate::api::TaskFilter;
use crate::error::Result;
use crate::id::TaskId;
use crate::lifecycle::SATISFIES_DEPENDENCY;
use crate::model::{Agent, BlockedTask, BoardSummary, StaleLease, Status, Task};
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

/// Tasks in progress, and the same grouped by holder.
type Holdings = (Vec<Task>, BTreeMap<String, Vec<TaskId>>);

fn holdings(tx: &mut dyn StoreTx) -> Result<Holdings> {
    let held: Vec<Task> = tx
        .tasks(&TaskQuery {
            statuses: vec![Status::InProgress],
            ..TaskQuery::default()
        })?
        .into_iter()
        .map(finish)
        .collect();
    let mut by_agent: BTreeMap<String, Vec<TaskId>> = BTreeMap::new();
    for t in &held {
        if let Some(a) = &t.assignee {
            by_agent.entry(a.clone()).or_default().push(t.id);
        }
    }
    Ok((held, by_agent))
}

pub fn agents(tx: &mut dyn StoreTx) -> Result<Vec<Agent>> {
    let (_, mut by_agent) = holdings(tx)?;
    Ok(tx
        .agents()?
        .into_iter()
        .map(|row| Agent {
            holding: by_agent.remove(&row.name).unwrap_or_default(),
            name: row.name,
            first_seen: row.first_seen,
            last_seen: row.last_seen,
        })
        .collect())
}

pub fn board(tx: &mut dyn StoreTx, now: Timestamp) -> Result<BoardSummary> {
    let project = tx.project()?;
    let counts = tx.status_counts()?;
    let ready = tx.count_ready(&SATISFIES_DEPENDENCY)?;
    let blocked = tx
        .tasks(&TaskQuery {
            statuses: vec![Status::Blocked],
            ..TaskQuery::default()
        })?
        .into_iter()
        .map(|r| BlockedTask {
            id: r.task.id,
            title: r.task.title,
            reason: r.task.blocked_reason,
        })
        .collect();
    let (held, _) = holdings(tx)?;
    let stale_leases = held
        .iter()
        .filter_map(|t| match t.lease_expires_at {
            Some(exp) if exp < now => Some(StaleLease {
                id: t.id,
                assignee: t.assignee.clone(),
                lease_expires_at: exp,
            }),
            _ => None,
        })
        .collect();
    Ok(BoardSummary {
        project: project.name,
        total: counts.total(),
        counts,
        ready,
        blocked,
        agents: agents(tx)?,
        stale_leases,
    })
}
