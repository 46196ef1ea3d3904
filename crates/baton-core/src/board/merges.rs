//! Merges: approved work carried up the branch chain. A task's branch (`baton/T-12`) goes
//! into its phase's (`baton/user-auth--P-3`), a completed phase's into its initiative's
//! (`baton/user-auth`), an approved initiative's into the default branch (or it is left for
//! a pull request, as the `land` setting says).
//!
//! Core keeps the queue and its rules; runners do the git work and report what happened.
//! A merge waits while any earlier merge into its source is unfinished, so a phase merges
//! only once all of its tasks did (conflicts resolved). A conflict changes nothing in git
//! and becomes a `merge` task; once that task is approved its branch is merged in the
//! conflicted merge's place. A runner that dies mid-merge loses its claim when the claim's
//! lease lapses, and the merge is retried (git's side is made idempotent by the runner).
//!
//! Queries are written once for both stores ([`crate::sql`]).

use std::time::Duration;

use serde_json::json;

use super::{event, leases, plan};
use crate::api::{MergeClaim, MergeFilter, MergeOutcome, MergeReport, NewTask};
use crate::error::{Error, Result};
use crate::id::{InitiativeId, MergeId, PhaseId, TaskId};
use crate::model::{
    actions, BranchPlan, BranchStart, Category, Initiative, InitiativeStatus, Merge, MergeKind,
    MergeState, MergeStrategy, Phase, PhaseStatus, Task,
};
use crate::sql::{list_value, load_by_id, query_map, Filter, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// How long a runner's claim on a merge holds unless it asks otherwise.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(600);
const MAX_LEASE_SECS: u64 = 3600;
/// Transient failures (a push raced, a lock held) before a merge stays failed.
pub const MAX_ATTEMPTS: u32 = 5;
const MAX_TEXT: usize = 8000;
const MAX_CONFLICT_FILES: usize = 1000;

/// A task's own branch.
pub fn task_branch(task: TaskId) -> String {
    format!("baton/{task}")
}

/// A phase's branch, beside its initiative's (`baton/user-auth--P-3`). Git cannot hold both
/// `baton/user-auth` and `baton/user-auth/P-3`: a branch name cannot also be a folder.
pub fn phase_branch(initiative_branch: &str, phase: PhaseId) -> String {
    format!("{initiative_branch}--{phase}")
}

const MERGE_COLUMNS: &str = "id, kind, task, phase, initiative, source, target, state, \
    strategy, resolves, resolved_by, merge_task, base, source_head, target_head, result, \
    conflicts, error, attempts, runner, lease_until, created_at, updated_at";

fn bad(what: &str, value: &str) -> Error {
    Error::Internal(format!("a merge has the unknown {what} '{value}'"))
}

fn merge_from_row(r: &Row<'_>) -> Result<Merge> {
    let kind = r.text(1)?;
    let state = r.text(7)?;
    let strategy = r.text(8)?;
    let conflicts = r.list(16)?;
    Ok(Merge {
        id: MergeId(r.uint(0)?),
        kind: MergeKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?,
        task: r.opt_uint(2)?.map(TaskId),
        phase: r.opt_uint(3)?.map(PhaseId),
        initiative: r.opt_uint(4)?.map(InitiativeId),
        source: r.text(5)?,
        target: r.text(6)?,
        state: MergeState::parse(&state).ok_or_else(|| bad("state", &state))?,
        strategy: MergeStrategy::parse(&strategy).ok_or_else(|| bad("strategy", &strategy))?,
        resolves: r.opt_uint(9)?.map(MergeId),
        resolved_by: r.opt_uint(10)?.map(MergeId),
        merge_task: r.opt_uint(11)?.map(TaskId),
        base: r.opt_text(12)?,
        source_head: r.opt_text(13)?,
        target_head: r.opt_text(14)?,
        result: r.opt_text(15)?,
        conflicts,
        error: r.opt_text(17)?,
        attempts: r.uint(18)? as u32,
        runner: r.opt_text(19)?,
        lease_until: r.opt_ts(20)?,
        created_at: r.ts(21)?,
        updated_at: r.ts(22)?,
    })
}

pub fn load_merge(db: &mut dyn Sql, id: MergeId) -> Result<Merge> {
    load_by_id(
        db,
        "merge",
        &format!("SELECT {MERGE_COLUMNS} FROM merges WHERE id = ?1"),
        id.number(),
        "list merges with `baton merge list`",
        merge_from_row,
        id,
    )
}

pub fn list_merges(db: &mut dyn Sql, filter: &MergeFilter) -> Result<Vec<Merge>> {
    let mut f = Filter::default();
    if let Some(s) = filter.state {
        f.and("state = ?", s.as_str());
    }
    if let Some(k) = filter.kind {
        f.and("kind = ?", k.as_str());
    }
    if let Some(t) = filter.task {
        f.and("task = ?", t.number());
    }
    if let Some(p) = filter.phase {
        f.and("phase = ?", p.number());
    }
    if let Some(i) = filter.initiative {
        f.and("initiative = ?", i.number());
    }
    let limit = f.push(filter.limit.unwrap_or(200).clamp(1, 1000));
    query_map(
        db,
        "merge",
        &format!(
            "SELECT {MERGE_COLUMNS} FROM merges{} ORDER BY id DESC LIMIT {limit}",
            f.where_clause()
        ),
        &f.params,
        merge_from_row,
    )
}

fn default_branch(tx: &mut dyn StoreTx) -> Result<String> {
    leases::setting(tx, leases::DEFAULT_BRANCH)
}

pub(super) fn strategy(tx: &mut dyn StoreTx) -> Result<MergeStrategy> {
    let raw = leases::setting(tx, leases::MERGE_STRATEGY)?;
    MergeStrategy::parse(&raw)
        .ok_or_else(|| Error::Internal(format!("bad merge_strategy setting '{raw}'")))
}

/// Where `task`'s work is merged, and the branches to create (in order) before its own.
fn target_of(tx: &mut dyn StoreTx, task: &Task) -> Result<(String, Vec<BranchStart>)> {
    let default = default_branch(tx)?;
    let initiative = match task.initiative {
        Some(i) => Some(plan::load_initiative(tx.sql(), i)?),
        None => None,
    };
    Ok(match (initiative, task.phase) {
        (Some(i), Some(p)) => {
            let phase = phase_branch(&i.branch, p);
            // A phase started before the phases it depends on reached the initiative's
            // branch (their merges still queued) starts with their work merged in.
            let mut with = Vec::new();
            for dep in plan::load_phase(tx.sql(), p)?.depends_on {
                let merged = !tx
                    .sql()
                    .query(
                        "SELECT 1 FROM merges WHERE kind = 'phase' AND phase = ?1 \
                         AND state = 'merged' LIMIT 1",
                        &[dep.number().into()],
                    )?
                    .is_empty();
                if !merged {
                    with.push(phase_branch(&i.branch, dep));
                }
            }
            let create = vec![
                BranchStart {
                    branch: i.branch.clone(),
                    from: default,
                    with: Vec::new(),
                },
                BranchStart {
                    branch: phase.clone(),
                    from: i.branch,
                    with,
                },
            ];
            (phase, create)
        }
        (Some(i), None) => {
            let create = vec![BranchStart {
                branch: i.branch.clone(),
                from: default,
                with: Vec::new(),
            }];
            (i.branch, create)
        }
        (None, _) => (default, Vec::new()),
    })
}

/// The conflicted merge a `merge` task was made to resolve.
fn conflict_of(db: &mut dyn Sql, task: TaskId) -> Result<Option<Merge>> {
    Ok(query_map(
        db,
        "merge",
        &format!("SELECT {MERGE_COLUMNS} FROM merges WHERE merge_task = ?1 ORDER BY id DESC"),
        &[task.number().into()],
        merge_from_row,
    )?
    .into_iter()
    .next())
}

pub fn branch_plan(tx: &mut dyn StoreTx, id: TaskId) -> Result<BranchPlan> {
    let task = super::load(tx, id)?.task;
    let default_branch = default_branch(tx)?;
    let branch = task_branch(id);
    if task.category == Category::Merge {
        if let Some(m) = conflict_of(tx.sql(), id)? {
            // The resolution starts from the conflicting branch with the target merged in.
            return Ok(BranchPlan {
                task: id,
                branch,
                base: m.source.clone(),
                target: m.target.clone(),
                create: Vec::new(),
                premerge: Some(m.target),
                default_branch,
            });
        }
    }
    let (target, create) = target_of(tx, &task)?;
    Ok(BranchPlan {
        task: id,
        branch,
        base: target.clone(),
        target,
        create,
        premerge: None,
        default_branch,
    })
}

/// Whether a runner worked on the task (so it has a branch to merge).
fn has_branch(db: &mut dyn Sql, task: TaskId) -> Result<bool> {
    Ok(!db
        .query(
            "SELECT 1 FROM runs WHERE task = ?1 AND branch IS NOT NULL LIMIT 1",
            &[task.number().into()],
        )?
        .is_empty())
}

struct Queued<'a> {
    kind: MergeKind,
    task: Option<TaskId>,
    phase: Option<PhaseId>,
    initiative: Option<InitiativeId>,
    source: &'a str,
    target: &'a str,
    resolves: Option<MergeId>,
}

fn enqueue(tx: &mut dyn StoreTx, actor: &str, q: Queued<'_>, now: Timestamp) -> Result<MergeId> {
    let strategy = strategy(tx)?;
    let id = query_map(
        tx.sql(),
        "merge",
        "INSERT INTO merges (kind, task, phase, initiative, source, target, state, strategy, \
         resolves, attempts, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, 0, ?9, ?9) RETURNING id",
        &[
            q.kind.as_str().into(),
            q.task.map(|t| t.number()).into(),
            q.phase.map(|p| p.number()).into(),
            q.initiative.map(|i| i.number()).into(),
            q.source.into(),
            q.target.into(),
            strategy.as_str().into(),
            q.resolves.map(|m| m.number()).into(),
            now.into(),
        ],
        |r| Ok(MergeId(r.uint(0)?)),
    )?
    .pop()
    .ok_or_else(|| Error::Internal("inserting a merge returned no id".into()))?;
    event(
        tx,
        now,
        actor,
        actions::MERGE_QUEUED,
        q.task,
        json!({ "merge": id, "kind": q.kind, "phase": q.phase, "initiative": q.initiative,
                "source": q.source, "target": q.target, "resolves": q.resolves }),
    )?;
    // Work that reaches a branch whose phase (or initiative) is already completed (tasks
    // approved after their phase completed on its own, a resolved conflict) goes on up.
    match (q.kind, q.phase, q.initiative) {
        (MergeKind::Task, Some(p), _) => {
            let phase = plan::load_phase(tx.sql(), p)?;
            if phase.status == PhaseStatus::Completed {
                phase_completed(tx, actor, &phase, now)?;
            }
        }
        (MergeKind::Phase, _, Some(i)) => {
            let initiative = plan::load_initiative(tx.sql(), i)?;
            if initiative.status == InitiativeStatus::Completed {
                initiative_completed(tx, actor, &initiative, now)?;
            }
        }
        _ => {}
    }
    Ok(id)
}

/// Whether a merge of this kind and subject is waiting or running already (it will carry
/// whatever reaches its source before it runs).
fn queued(db: &mut dyn Sql, kind: MergeKind, column: &str, id: u64) -> Result<bool> {
    Ok(!db
        .query(
            &format!(
                "SELECT 1 FROM merges WHERE kind = ?1 AND {column} = ?2 \
                 AND state IN ('pending', 'running') LIMIT 1"
            ),
            &[kind.as_str().into(), id.into()],
        )?
        .is_empty())
}

/// A task was approved: its branch is queued to merge into its phase's (or initiative's,
/// or the default branch). A `merge` task's branch goes where the conflicted merge was
/// going, in its place. Tasks no runner worked on have no branch and queue nothing.
pub fn task_approved(tx: &mut dyn StoreTx, actor: &str, task: &Task, now: Timestamp) -> Result<()> {
    let worked = has_branch(tx.sql(), task.id)?;
    let open = tx.sql().query(
        "SELECT 1 FROM merges WHERE task = ?1 AND state IN ('pending', 'running')",
        &[task.id.number().into()],
    )?;
    if !open.is_empty() {
        return Ok(());
    }
    if task.category == Category::Merge {
        if let Some(m) = conflict_of(tx.sql(), task.id)? {
            if m.state == MergeState::Conflict {
                // Without a run of its own, someone resolved it on the conflicting branch.
                let source = if worked {
                    task_branch(task.id)
                } else {
                    m.source.clone()
                };
                enqueue(
                    tx,
                    actor,
                    Queued {
                        kind: MergeKind::Task,
                        task: Some(task.id),
                        phase: m.phase,
                        initiative: m.initiative,
                        source: &source,
                        target: &m.target,
                        resolves: Some(m.id),
                    },
                    now,
                )?;
            }
            return Ok(());
        }
    }
    if !worked {
        return Ok(());
    }
    let (target, _) = target_of(tx, task)?;
    enqueue(
        tx,
        actor,
        Queued {
            kind: MergeKind::Task,
            task: Some(task.id),
            phase: task.phase,
            initiative: task.initiative,
            source: &task_branch(task.id),
            target: &target,
            resolves: None,
        },
        now,
    )?;
    Ok(())
}

fn anything_merged_into(db: &mut dyn Sql, branch: &str) -> Result<bool> {
    Ok(!db
        .query(
            "SELECT 1 FROM merges WHERE target = ?1 AND state <> 'skipped' LIMIT 1",
            &[branch.into()],
        )?
        .is_empty())
}

/// A phase completed: its branch is queued to merge into its initiative's, once every
/// merge into it is done. A phase no task branch went into queues nothing.
pub fn phase_completed(
    tx: &mut dyn StoreTx,
    actor: &str,
    phase: &Phase,
    now: Timestamp,
) -> Result<()> {
    let initiative = plan::load_initiative(tx.sql(), phase.initiative)?;
    let source = phase_branch(&initiative.branch, phase.id);
    if queued(tx.sql(), MergeKind::Phase, "phase", phase.id.number())?
        || !anything_merged_into(tx.sql(), &source)?
    {
        return Ok(());
    }
    enqueue(
        tx,
        actor,
        Queued {
            kind: MergeKind::Phase,
            task: None,
            phase: Some(phase.id),
            initiative: Some(initiative.id),
            source: &source,
            target: &initiative.branch,
            resolves: None,
        },
        now,
    )?;
    Ok(())
}

/// An initiative was approved: its branch merges into the default branch, or is left for a
/// pull request (`land` setting).
pub fn initiative_completed(
    tx: &mut dyn StoreTx,
    actor: &str,
    initiative: &Initiative,
    now: Timestamp,
) -> Result<()> {
    if queued(
        tx.sql(),
        MergeKind::Initiative,
        "initiative",
        initiative.id.number(),
    )? || !anything_merged_into(tx.sql(), &initiative.branch)?
    {
        return Ok(());
    }
    let target = default_branch(tx)?;
    if leases::setting(tx, leases::LAND)? == "pull_request" {
        event(
            tx,
            now,
            actor,
            actions::MERGE_LEFT_FOR_PULL_REQUEST,
            None,
            json!({ "initiative": initiative.id, "source": initiative.branch,
                    "target": target }),
        )?;
        return Ok(());
    }
    enqueue(
        tx,
        actor,
        Queued {
            kind: MergeKind::Initiative,
            task: None,
            phase: None,
            initiative: Some(initiative.id),
            source: &initiative.branch,
            target: &target,
            resolves: None,
        },
        now,
    )?;
    Ok(())
}

/// The next merge a runner may carry out: pending, or running under a lapsed claim; never
/// one while an earlier merge into its source is unfinished, nor one into a target another
/// live claim is merging into.
pub fn claim(
    tx: &mut dyn StoreTx,
    actor: &str,
    claim: &MergeClaim,
    now: Timestamp,
) -> Result<Option<Merge>> {
    let runner = claim.runner.trim();
    if runner.is_empty() {
        return Err(Error::invalid("a merge claim needs the runner's name"));
    }
    let lease = claim
        .lease_secs
        .map(|s| Duration::from_secs(s.clamp(1, MAX_LEASE_SECS)))
        .unwrap_or(DEFAULT_LEASE);
    let candidates = query_map(
        tx.sql(),
        "merge",
        "SELECT m.id FROM merges m \
         WHERE (m.state = 'pending' OR (m.state = 'running' AND m.lease_until < ?1)) \
         AND NOT EXISTS (SELECT 1 FROM merges e WHERE e.target = m.source AND e.id <> m.id \
             AND e.state NOT IN ('merged', 'skipped')) \
         AND NOT EXISTS (SELECT 1 FROM merges b WHERE b.target = m.target AND b.id <> m.id \
             AND b.state = 'running' AND b.lease_until >= ?1) \
         ORDER BY m.id LIMIT 8",
        &[now.into()],
        |r| Ok(MergeId(r.uint(0)?)),
    )?;
    for id in candidates {
        let until = now.plus(lease);
        let taken = tx.sql().execute(
            "UPDATE merges SET state = 'running', runner = ?2, lease_until = ?3, \
             attempts = attempts + 1, updated_at = ?4 \
             WHERE id = ?1 AND (state = 'pending' OR (state = 'running' AND lease_until < ?4))",
            &[id.number().into(), runner.into(), until.into(), now.into()],
        )?;
        if taken == 0 {
            continue;
        }
        let merge = load_merge(tx.sql(), id)?;
        event(
            tx,
            now,
            actor,
            actions::MERGE_STARTED,
            merge.task,
            json!({ "merge": id, "runner": runner, "attempt": merge.attempts,
                    "source": merge.source, "target": merge.target }),
        )?;
        return Ok(Some(merge));
    }
    Ok(None)
}

fn cut(text: &str) -> String {
    super::runs::cut_text(text, MAX_TEXT)
}

fn check_commit(what: &str, value: &str) -> Result<()> {
    let ok = (4..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what} '{value}' is not a commit id"
        )))
    }
}

/// How a claimed merge ended, as its row records it.
struct Ended<'a> {
    state: MergeState,
    /// The merge base, the source's and the target's commits.
    heads: Option<(&'a str, &'a str, &'a str)>,
    result: Option<&'a str>,
    conflicts: &'a [String],
    error: Option<String>,
    merge_task: Option<TaskId>,
}

impl Default for Ended<'_> {
    fn default() -> Self {
        Ended {
            state: MergeState::Failed,
            heads: None,
            result: None,
            conflicts: &[],
            error: None,
            merge_task: None,
        }
    }
}

fn end(tx: &mut dyn StoreTx, id: MergeId, e: Ended<'_>, now: Timestamp) -> Result<()> {
    let (base, source_head, target_head) = match e.heads {
        Some((b, s, t)) => (Some(b), Some(s), Some(t)),
        None => (None, None, None),
    };
    tx.sql().execute(
        "UPDATE merges SET state = ?2, base = ?3, source_head = ?4, target_head = ?5, \
         result = ?6, conflicts = ?7, error = ?8, merge_task = ?9, runner = NULL, \
         lease_until = NULL, updated_at = ?10 WHERE id = ?1",
        &[
            id.number().into(),
            e.state.as_str().into(),
            base.into(),
            source_head.into(),
            target_head.into(),
            e.result.into(),
            list_value(e.conflicts),
            e.error.into(),
            e.merge_task.map(|t| t.number()).into(),
            now.into(),
        ],
    )?;
    Ok(())
}

pub fn finish(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: MergeId,
    report: MergeReport,
    now: Timestamp,
) -> Result<Merge> {
    let merge = load_merge(tx.sql(), id)?;
    if merge.state != MergeState::Running || merge.runner.as_deref() != Some(report.runner.trim()) {
        return Err(Error::Conflict {
            code: "not_claimed",
            message: format!(
                "merge {id} is {}{}; only the runner carrying it out reports its outcome",
                merge.state,
                merge
                    .runner
                    .as_deref()
                    .map(|r| format!(" (claimed by {r})"))
                    .unwrap_or_default()
            ),
            hint: Some("claim it first (`baton merge run`), or retry it".into()),
        });
    }
    match report.outcome {
        MergeOutcome::Merged {
            base,
            source_head,
            target_head,
            result,
        } => {
            for (what, v) in [
                ("base", &base),
                ("source head", &source_head),
                ("target head", &target_head),
                ("result", &result),
            ] {
                check_commit(what, v)?;
            }
            end(
                tx,
                id,
                Ended {
                    state: MergeState::Merged,
                    heads: Some((&base, &source_head, &target_head)),
                    result: Some(&result),
                    merge_task: merge.merge_task,
                    ..Ended::default()
                },
                now,
            )?;
            event(
                tx,
                now,
                actor,
                actions::MERGE_MERGED,
                merge.task,
                json!({ "merge": id, "kind": merge.kind, "source": merge.source,
                        "target": merge.target, "base": base, "result": result }),
            )?;
            if let Some(original) = merge.resolves {
                tx.sql().execute(
                    "UPDATE merges SET state = 'merged', result = ?2, resolved_by = ?3, \
                     updated_at = ?4 WHERE id = ?1",
                    &[
                        original.number().into(),
                        result.as_str().into(),
                        id.number().into(),
                        now.into(),
                    ],
                )?;
                let o = load_merge(tx.sql(), original)?;
                event(
                    tx,
                    now,
                    actor,
                    actions::MERGE_RESOLVED,
                    o.task,
                    json!({ "merge": original, "by": id, "merge_task": merge.task,
                            "target": o.target, "result": result }),
                )?;
            }
        }
        MergeOutcome::Conflict {
            base,
            source_head,
            target_head,
            files,
        } => {
            for (what, v) in [
                ("base", &base),
                ("source head", &source_head),
                ("target head", &target_head),
            ] {
                check_commit(what, v)?;
            }
            let mut files: Vec<String> = files.into_iter().take(MAX_CONFLICT_FILES).collect();
            files.sort();
            files.dedup();
            let task = merge_task(tx, actor, &merge, &files, &source_head, &target_head, now)?;
            end(
                tx,
                id,
                Ended {
                    state: MergeState::Conflict,
                    heads: Some((&base, &source_head, &target_head)),
                    conflicts: &files,
                    merge_task: Some(task),
                    ..Ended::default()
                },
                now,
            )?;
            event(
                tx,
                now,
                actor,
                actions::MERGE_CONFLICT,
                merge.task,
                json!({ "merge": id, "source": merge.source, "target": merge.target,
                        "files": files, "merge_task": task }),
            )?;
        }
        MergeOutcome::Skipped { reason } => {
            end(
                tx,
                id,
                Ended {
                    state: MergeState::Skipped,
                    error: Some(cut(&reason)),
                    merge_task: merge.merge_task,
                    ..Ended::default()
                },
                now,
            )?;
            event(
                tx,
                now,
                actor,
                actions::MERGE_SKIPPED,
                merge.task,
                json!({ "merge": id, "source": merge.source, "target": merge.target,
                        "reason": cut(&reason) }),
            )?;
        }
        MergeOutcome::Failed { error, retry } => {
            let again = retry && merge.attempts < MAX_ATTEMPTS;
            tx.sql().execute(
                "UPDATE merges SET state = ?2, error = ?3, runner = NULL, lease_until = NULL, \
                 updated_at = ?4 WHERE id = ?1",
                &[
                    id.number().into(),
                    if again { "pending" } else { "failed" }.into(),
                    cut(&error).into(),
                    now.into(),
                ],
            )?;
            event(
                tx,
                now,
                actor,
                actions::MERGE_FAILED,
                merge.task,
                json!({ "merge": id, "source": merge.source, "target": merge.target,
                        "error": cut(&error), "retried": again, "attempts": merge.attempts }),
            )?;
        }
    }
    load_merge(tx.sql(), id)
}

/// The task an agent gets for a conflict: the files, both sides, and what to do.
fn merge_task(
    tx: &mut dyn StoreTx,
    actor: &str,
    merge: &Merge,
    files: &[String],
    source_head: &str,
    target_head: &str,
    now: Timestamp,
) -> Result<TaskId> {
    let subject = match (merge.task, merge.phase) {
        (Some(t), _) => t.to_string(),
        (None, Some(p)) => p.to_string(),
        _ => merge.source.clone(),
    };
    let mut description = format!(
        "Merging `{source}` ({sh}) into `{target}` ({th}) conflicts ({m}). Nothing was \
         changed.\n\nYour worktree starts on `{source}` with `{target}` merged in and the \
         conflicts left in the files. Resolve each one keeping the intent of both sides \
         (no `<<<<<<<`, `=======` or `>>>>>>>` line may stay: a branch that keeps one is \
         not merged), run the tests, and commit the merge. Once this task is approved its branch is \
         merged into `{target}` in place of {subject}'s.\n\nConflicting files:\n",
        source = merge.source,
        target = merge.target,
        sh = short(source_head),
        th = short(target_head),
        m = merge.id,
    );
    for f in files.iter().take(200) {
        description.push_str(&format!("- {f}\n"));
    }
    if files.len() > 200 {
        description.push_str(&format!("- ... and {} more\n", files.len() - 200));
    }
    let priority = match merge.task {
        Some(t) => super::load(tx, t)?.task.priority,
        None => crate::model::Priority::P0,
    };
    let created = super::edit::add_tasks(
        tx,
        actor,
        vec![NewTask {
            title: format!("Resolve merge conflict: {subject} into {}", merge.target),
            description: Some(description),
            priority: Some(priority),
            initiative: merge.initiative,
            parent: merge.task.map(|t| t.to_string()),
            category: Some(Category::Merge),
            files: files.iter().take(200).cloned().collect(),
            ..Default::default()
        }],
        now,
    )?;
    Ok(created
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal("adding a merge task returned none".into()))?
        .id)
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

pub fn retry(tx: &mut dyn StoreTx, actor: &str, id: MergeId, now: Timestamp) -> Result<Merge> {
    let merge = load_merge(tx.sql(), id)?;
    match merge.state {
        MergeState::Failed | MergeState::Skipped | MergeState::Conflict => {}
        s => {
            return Err(Error::Conflict {
                code: "invalid_transition",
                message: format!("merge {id} is {s}; only a failed, skipped or conflicted merge is retried"),
                hint: Some(match s {
                    MergeState::Running => "a runner is carrying it out; if it died, its claim lapses and another runner retries it".into(),
                    _ => "nothing to retry".into(),
                }),
            })
        }
    }
    tx.sql().execute(
        "UPDATE merges SET state = 'pending', attempts = 0, runner = NULL, lease_until = NULL, \
         updated_at = ?2 WHERE id = ?1",
        &[id.number().into(), now.into()],
    )?;
    event(
        tx,
        now,
        actor,
        actions::MERGE_RETRIED,
        merge.task,
        json!({ "merge": id, "from": merge.state }),
    )?;
    load_merge(tx.sql(), id)
}

impl<S: crate::store::Store> crate::api::Merges for super::Board<S> {
    fn list_merges(&self, filter: &MergeFilter) -> Result<Vec<Merge>> {
        self.store.read(|tx| list_merges(tx.sql(), filter))
    }

    fn get_merge(&self, id: MergeId) -> Result<Merge> {
        self.store.read(|tx| load_merge(tx.sql(), id))
    }

    fn branch_plan(&self, task: TaskId) -> Result<BranchPlan> {
        self.store.read(|tx| branch_plan(tx, task))
    }

    fn claim_merge(&self, actor: &str, request: MergeClaim) -> Result<Option<Merge>> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| claim(tx, actor, &request, now))
    }

    fn finish_merge(&self, actor: &str, id: MergeId, report: MergeReport) -> Result<Merge> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| finish(tx, actor, id, report.clone(), now))
    }

    fn retry_merge(&self, actor: &str, id: MergeId) -> Result<Merge> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| retry(tx, actor, id, now))
    }
}
