//! Dependency resolution: when a task reaches review or done (or is deleted), dependents
//! waiting in backlog whose dependencies are now all met move to open.

use serde_json::json;

use crate::error::Result;
use crate::id::TaskId;
use crate::lifecycle::satisfies_dependency;
use crate::model::{actions, DepState, Status};
use crate::store::{StoreTx, TaskQuery};
use crate::time::Timestamp;

/// A dependency is met when it is in review or done, or was deleted (nothing left to wait for).
pub fn dep_met(dep: &DepState) -> bool {
    dep.deleted || satisfies_dependency(dep.status)
}

pub fn deps_met(deps: &[DepState]) -> bool {
    deps.iter().all(dep_met)
}

/// Opens every backlog dependent of `changed` whose dependencies are all met; returns them.
pub fn release_dependents(
    tx: &mut dyn StoreTx,
    changed: TaskId,
    actor: &str,
    now: Timestamp,
) -> Result<Vec<TaskId>> {
    let waiting = tx.tasks(&TaskQuery {
        dependents_of: Some(changed),
        statuses: vec![Status::Backlog],
        ..TaskQuery::default()
    })?;
    let mut opened = Vec::new();
    for record in waiting {
        if !deps_met(&record.deps) {
            continue;
        }
        let mut task = record.task;
        task.status = Status::Open;
        task.updated_at = now;
        tx.update_task(&task)?;
        super::event(
            tx,
            now,
            actor,
            actions::TASK_DEPS_MET,
            Some(task.id),
            json!({ "unblocked_by": changed, "status": Status::Open }),
        )?;
        opened.push(task.id);
    }
    Ok(opened)
}
