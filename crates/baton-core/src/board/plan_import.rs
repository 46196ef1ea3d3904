//! Bringing a plan from another tool over (`baton import codewalkers`), in one write
//! transaction: initiatives, phases with their dependencies and statuses, tasks with their
//! dependencies, parents and summaries, pages, review comments and conversations. The
//! source's keys are recorded, so a second import of the same source adds only what is new.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::{event, plan, proposals};
use crate::api::{
    CommentBody, ImportedPlan, NewInitiative, NewPage, NewPhase, NewTask, PlanImportReport,
};
use crate::error::{Error, Result};
use crate::id::{InitiativeId, PhaseId, TaskId};
use crate::model::{actions, InitiativeStatus, PhaseStatus, Status};
use crate::store::StoreTx;
use crate::time::Timestamp;

const INITIATIVE: &str = "initiative";
const PHASE: &str = "phase";
const TASK: &str = "task";
const PAGE: &str = "page";
const COMMENT: &str = "comment";
const CONVERSATION: &str = "conversation";

fn known(tx: &mut dyn StoreTx, source: &str, kind: &str) -> Result<HashMap<String, u64>> {
    Ok(tx.import_keys(source, kind)?.into_iter().collect())
}

/// A branch for an imported initiative: its own if free, else one derived from its name,
/// numbered when that is taken too.
fn free_branch(tx: &mut dyn StoreTx, wanted: Option<&str>, name: &str) -> Result<String> {
    let taken = |tx: &mut dyn StoreTx, b: &str| -> Result<bool> {
        Ok(!tx
            .sql()
            .query("SELECT id FROM initiatives WHERE branch = ?1", &[b.into()])?
            .is_empty())
    };
    if let Some(b) = wanted.filter(|b| !b.trim().is_empty()) {
        if !taken(tx, b)? {
            return Ok(b.to_string());
        }
    }
    let base = plan::branch_for(name);
    let mut candidate = base.clone();
    let mut n = 2;
    while taken(tx, &candidate)? {
        candidate = format!("{base}-{n}");
        n += 1;
    }
    Ok(candidate)
}

pub fn import(
    tx: &mut dyn StoreTx,
    actor: &str,
    plan_in: ImportedPlan,
    now: Timestamp,
) -> Result<PlanImportReport> {
    let source = plan_in.source.clone();
    let mut report = PlanImportReport {
        source: source.clone(),
        warnings: plan_in.warnings.clone(),
        ..PlanImportReport::default()
    };

    // Initiatives.
    let mut initiatives: HashMap<String, InitiativeId> = known(tx, &source, INITIATIVE)?
        .into_iter()
        .map(|(k, v)| (k, InitiativeId(v)))
        .collect();
    let mut final_status: Vec<(InitiativeId, InitiativeStatus)> = Vec::new();
    for i in &plan_in.initiatives {
        if initiatives.contains_key(&i.key) {
            report.skipped += 1;
            continue;
        }
        let branch = free_branch(tx, i.branch.as_deref(), &i.name)?;
        if i.branch.as_deref().is_some_and(|b| b != branch) {
            report.warnings.push(format!(
                "initiative '{}': branch {} is taken here; it is {branch}",
                i.name,
                i.branch.as_deref().unwrap_or_default()
            ));
        }
        let created = plan::create_initiative(
            tx,
            actor,
            NewInitiative {
                name: i.name.clone(),
                description: None,
                merge_requires_approval: Some(i.merge_requires_approval),
                branch: Some(branch),
                repositories: i.repositories.clone(),
            },
            now,
        )?;
        tx.record_import_key(&source, INITIATIVE, &i.key, created.id.number())?;
        initiatives.insert(i.key.clone(), created.id);
        if let Some(s) = i.status.filter(|s| *s != InitiativeStatus::Active) {
            final_status.push((created.id, s));
        }
        report.initiatives += 1;
    }

    // Phases, each after the phases it depends on.
    let mut phases: HashMap<String, PhaseId> = known(tx, &source, PHASE)?
        .into_iter()
        .map(|(k, v)| (k, PhaseId(v)))
        .collect();
    let in_source: HashSet<&str> = plan_in.phases.iter().map(|p| p.key.as_str()).collect();
    let mut pending: Vec<&crate::api::ImportedPhase> = Vec::new();
    for p in &plan_in.phases {
        if phases.contains_key(&p.key) {
            report.skipped += 1;
        } else {
            pending.push(p);
        }
    }
    let mut statuses: Vec<(PhaseId, PhaseStatus)> = Vec::new();
    while !pending.is_empty() {
        let at = pending.iter().position(|p| {
            p.depends_on
                .iter()
                .all(|d| phases.contains_key(d) || !in_source.contains(d.as_str()))
        });
        let Some(at) = at else {
            let keys: Vec<&str> = pending.iter().map(|p| p.key.as_str()).collect();
            return Err(Error::invalid(format!(
                "the source's phase dependencies form a cycle among {}",
                keys.join(", ")
            )));
        };
        let p = pending.remove(at);
        let Some(&initiative) = initiatives.get(&p.initiative) else {
            report.warnings.push(format!(
                "phase '{}': its initiative is not in the source; not imported",
                p.name
            ));
            continue;
        };
        let mut deps = Vec::new();
        for d in &p.depends_on {
            match phases.get(d) {
                Some(id) => deps.push(*id),
                None => report.warnings.push(format!(
                    "phase '{}': it depends on a phase the source does not hold; dropped",
                    p.name
                )),
            }
        }
        let created = plan::create_phase(
            tx,
            actor,
            NewPhase {
                initiative,
                name: p.name.clone(),
                content: Some(p.content.clone()),
                depends_on: deps,
            },
            now,
        )?;
        tx.record_import_key(&source, PHASE, &p.key, created.id.number())?;
        phases.insert(p.key.clone(), created.id);
        statuses.push((created.id, p.status));
        report.phases += 1;
    }
    // The source's phase statuses, as they were (approvals given there stand here).
    for (id, status) in &statuses {
        if *status != PhaseStatus::Pending {
            tx.sql().execute(
                "UPDATE phases SET status = ?2, approved_at = CASE WHEN ?2 = 'pending' \
                 THEN NULL ELSE ?3 END WHERE id = ?1",
                &[id.number().into(), status.as_str().into(), now.into()],
            )?;
        }
    }

    // Tasks: one batch, so dependencies and parents are keys of the batch.
    let done_tasks: HashMap<String, u64> = known(tx, &source, TASK)?;
    let task_keys: HashSet<&str> = plan_in.tasks.iter().map(|t| t.key.as_str()).collect();
    let mut batch = Vec::new();
    let mut fresh = Vec::new();
    for t in &plan_in.tasks {
        if done_tasks.contains_key(&t.key) {
            report.skipped += 1;
            continue;
        }
        let reference = |key: &str| -> Option<String> {
            match done_tasks.get(key) {
                Some(n) => Some(TaskId(*n).to_string()),
                None if task_keys.contains(key) => Some(key.to_string()),
                None => None,
            }
        };
        let mut depends_on = Vec::new();
        for d in &t.depends_on {
            match reference(d) {
                Some(r) => depends_on.push(r),
                None => report.warnings.push(format!(
                    "task '{}': it depends on {d}, which the source does not hold; dropped",
                    t.title
                )),
            }
        }
        let phase = match &t.phase {
            Some(k) => match phases.get(k) {
                Some(p) => Some(*p),
                None => {
                    report.warnings.push(format!(
                        "task '{}': its phase is not in the source; imported without one",
                        t.title
                    ));
                    None
                }
            },
            None => None,
        };
        let initiative = if phase.is_some() {
            None
        } else {
            t.initiative
                .as_ref()
                .and_then(|k| initiatives.get(k).copied())
        };
        batch.push(NewTask {
            key: Some(t.key.clone()),
            title: t.title.clone(),
            description: Some(t.description.clone()).filter(|d| !d.is_empty()),
            priority: Some(t.priority),
            depends_on,
            phase,
            initiative,
            parent: t.parent.as_deref().and_then(reference),
            category: Some(t.category),
            ..NewTask::default()
        });
        fresh.push(t);
    }
    // A completed phase takes no new tasks: open it for the batch, then restore it.
    let completed: Vec<PhaseId> = statuses
        .iter()
        .filter(|(_, s)| *s == PhaseStatus::Completed)
        .map(|(id, _)| *id)
        .collect();
    for id in &completed {
        tx.sql().execute(
            "UPDATE phases SET status = 'in_progress' WHERE id = ?1",
            &[id.number().into()],
        )?;
    }
    let created = if batch.is_empty() {
        Vec::new()
    } else {
        let batch = super::validate::new_tasks(batch)?;
        super::edit::add_tasks(tx, actor, batch, now)?
    };
    let mut finished = Vec::new();
    for (task, source_task) in created.into_iter().zip(fresh) {
        tx.record_import_key(&source, TASK, &source_task.key, task.id.number())?;
        let mut record = super::load(tx, task.id)?;
        let t = &mut record.task;
        t.summary = source_task.summary.clone();
        match source_task.status {
            Status::Done | Status::Review => {
                t.status = source_task.status;
                t.completed_at = Some(now);
                finished.push(t.id);
            }
            Status::Blocked => {
                t.status = Status::Blocked;
                t.blocked_reason = Some("blocked in the imported plan".into());
            }
            _ => {}
        }
        t.updated_at = now;
        let t = t.clone();
        tx.update_task(&t)?;
        report.tasks += 1;
    }
    // Tasks waiting on work that was finished in the source are ready now.
    for id in finished {
        super::resolve::release_dependents(tx, id, actor, now)?;
    }
    for id in &completed {
        tx.sql().execute(
            "UPDATE phases SET status = 'completed' WHERE id = ?1",
            &[id.number().into()],
        )?;
    }

    // Pages, parents first.
    let mut pages: HashMap<String, u64> = known(tx, &source, PAGE)?;
    let mut pending_pages: Vec<&crate::api::ImportedPage> = Vec::new();
    for p in &plan_in.pages {
        if pages.contains_key(&p.key) {
            report.skipped += 1;
        } else {
            pending_pages.push(p);
        }
    }
    let page_keys: HashSet<&str> = plan_in.pages.iter().map(|p| p.key.as_str()).collect();
    while !pending_pages.is_empty() {
        let at = pending_pages
            .iter()
            .position(|p| {
                p.parent
                    .as_deref()
                    .is_none_or(|k| pages.contains_key(k) || !page_keys.contains(k))
            })
            .ok_or_else(|| Error::invalid("the source's pages form a cycle"))?;
        let p = pending_pages.remove(at);
        let Some(&initiative) = initiatives.get(&p.initiative) else {
            report.warnings.push(format!(
                "page '{}': its initiative is not in the source; not imported",
                p.title
            ));
            continue;
        };
        let page = proposals::add_page(
            tx,
            actor,
            NewPage {
                initiative,
                parent: p
                    .parent
                    .as_deref()
                    .and_then(|k| pages.get(k))
                    .map(|n| crate::id::DocId(*n)),
                title: p.title.clone(),
                body: Some(p.body.clone()),
            },
            now,
        )?;
        tx.record_import_key(&source, PAGE, &p.key, page.doc.number())?;
        pages.insert(p.key.clone(), page.doc.number());
        report.pages += 1;
    }

    // Review comments (their authors as the source names them).
    let seen_comments = known(tx, &source, COMMENT)?;
    for c in &plan_in.comments {
        if seen_comments.contains_key(&c.key) {
            report.skipped += 1;
            continue;
        }
        let Some(&phase) = phases.get(&c.phase) else {
            report.warnings.push(format!(
                "review comment on {}: its phase is not in the source; not imported",
                c.file.as_deref().unwrap_or("a phase")
            ));
            continue;
        };
        let author = super::validate::actor(&c.author)
            .map(|_| c.author.clone())
            .unwrap_or_else(|_| "imported".into());
        let made = plan::add_imported_comment(
            tx,
            &author,
            phase,
            &CommentBody {
                file: c.file.clone(),
                line: c.line.filter(|l| *l > 0),
                side: c.side,
                body: c.body.clone(),
            },
            c.resolved,
            now,
        )?;
        tx.record_import_key(&source, COMMENT, &c.key, made.number())?;
        report.comments += 1;
    }

    // Conversations between agents: a question, and its answer when it got one.
    let seen_conversations = known(tx, &source, CONVERSATION)?;
    for c in &plan_in.conversations {
        if seen_conversations.contains_key(&c.key) {
            report.skipped += 1;
            continue;
        }
        if c.from == c.to || c.question.trim().is_empty() {
            report.warnings.push(format!(
                "conversation {}: no one else to ask, or no question; not imported",
                c.key
            ));
            continue;
        }
        let asked = super::messages::ask(
            tx,
            &c.from,
            crate::api::AskRequest {
                task: None,
                to: c.to.clone(),
                body: c.question.clone(),
            },
            now,
        )?;
        report.messages += 1;
        if let Some(answer) = c.answer.as_deref().filter(|a| !a.trim().is_empty()) {
            super::messages::answer(
                tx,
                &c.to,
                asked.id,
                crate::api::AnswerRequest {
                    body: answer.to_string(),
                },
                now,
            )?;
            report.messages += 1;
        }
        tx.record_import_key(&source, CONVERSATION, &c.key, asked.id.number())?;
    }

    // Statuses the source gave initiatives, then every phase's gate from what is here.
    for (id, status) in final_status {
        tx.sql().execute(
            "UPDATE initiatives SET status = ?2 WHERE id = ?1",
            &[id.number().into(), status.as_str().into()],
        )?;
    }
    let ids: Vec<PhaseId> = statuses.iter().map(|(id, _)| *id).collect();
    for id in ids {
        let mut opened = Vec::new();
        plan::sync_phase(tx, id, actor, now, &mut opened)?;
    }
    event(
        tx,
        now,
        actor,
        actions::PLAN_IMPORTED,
        None,
        json!({ "source": source, "initiatives": report.initiatives, "phases": report.phases,
                "tasks": report.tasks, "pages": report.pages, "comments": report.comments,
                "messages": report.messages, "skipped": report.skipped,
                "warnings": report.warnings.len() }),
    )?;
    Ok(report)
}
