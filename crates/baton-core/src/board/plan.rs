//! The plan above tasks: initiatives, phases, their gates, and review comments.
//!
//! Every query here is written once for both stores ([`crate::sql`]); the rules come from
//! [`crate::gates`]. After any change that can move a phase (a task of it claimed, finished,
//! sent back, added; a phase approved or depended on; an initiative archived) the phase is
//! synced: it moves on if its tasks say so, its gate is computed, its tasks' `gated` flags
//! follow, and a phase that completed or reopened syncs the phases that depend on it.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::event;
use crate::api::{
    CommentBody, CommentFilter, InitiativeFilter, InitiativeMove, InitiativePatch, NewComment,
    NewInitiative, NewPhase, PhaseAction, PhaseMoveRequest, PhaseOutcome, PhasePatch,
};
use crate::error::{Error, Result};
use crate::gates::{self, GateInput, PhaseMove};
use crate::graph::find_cycle;
use crate::id::{CommentId, InitiativeId, PhaseId, TaskId};
use crate::model::{
    actions, DepSummary, Initiative, InitiativeStatus, LineSide, Phase, PhaseCounts, PhaseStatus,
    ReviewComment, Status, Task, TaskCounts,
};
use crate::sql::{load_by_id, query_map, Filter, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// The longest name of an initiative or phase.
pub const MAX_NAME: usize = 200;
/// The most bytes of one dependency's summary a pickup carries.
pub const SUMMARY_CUT: usize = 2000;
/// The most bytes of summaries in all a pickup carries.
pub const SUMMARIES_TOTAL: usize = 8000;

const INITIATIVE_COLUMNS: &str = "i.id, i.name, i.description, i.status, \
    i.merge_requires_approval, i.branch, i.repositories, i.created_by, i.created_at, \
    i.updated_at, (SELECT count(*) FROM phases p WHERE p.initiative = i.id), \
    (SELECT count(*) FROM phases p WHERE p.initiative = i.id AND p.status = 'completed')";

fn initiative_from_row(r: &Row<'_>) -> Result<Initiative> {
    let status = r.text(3)?;
    Ok(Initiative {
        id: InitiativeId(r.uint(0)?),
        name: r.text(1)?,
        description: r.text(2)?,
        status: InitiativeStatus::parse(&status).ok_or_else(|| unknown("initiative", &status))?,
        merge_requires_approval: r.flag(4)?,
        branch: r.text(5)?,
        repositories: serde_json::from_str(&r.text(6)?).unwrap_or_default(),
        created_by: r.text(7)?,
        created_at: r.ts(8)?,
        updated_at: r.ts(9)?,
        progress: PhaseCounts {
            total: r.uint(10)?,
            completed: r.uint(11)?,
        },
    })
}

fn unknown(what: &str, status: &str) -> Error {
    Error::Internal(format!("a stored {what} has the unknown status {status}"))
}

pub fn load_initiative(db: &mut dyn Sql, id: InitiativeId) -> Result<Initiative> {
    load_by_id(
        db,
        "initiative",
        &format!("SELECT {INITIATIVE_COLUMNS} FROM initiatives i WHERE i.id = ?1"),
        id.number(),
        "list initiatives with `baton initiative list`",
        initiative_from_row,
        id,
    )
}

pub fn list_initiatives(db: &mut dyn Sql, filter: &InitiativeFilter) -> Result<Vec<Initiative>> {
    let mut f = Filter::default();
    if let Some(status) = filter.status {
        f.and("i.status = ?", status.as_str());
    }
    query_map(
        db,
        "initiative",
        &format!(
            "SELECT {INITIATIVE_COLUMNS} FROM initiatives i{} ORDER BY i.id",
            f.where_clause()
        ),
        &f.params,
        initiative_from_row,
    )
}

/// `baton/` and the name in lower case, words joined by dashes (`baton/user-auth`).
pub fn branch_for(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(60).collect();
    let slug = slug.trim_end_matches('-');
    format!(
        "baton/{}",
        if slug.is_empty() { "initiative" } else { slug }
    )
}

/// A branch name git accepts (the rules of `git check-ref-format`, kept simple).
pub(crate) fn check_branch(branch: &str) -> Result<()> {
    let bad = branch.is_empty()
        || branch.len() > 200
        || branch.starts_with(['/', '-', '.'])
        || branch.ends_with(['/', '.'])
        || branch.ends_with(".lock")
        || branch.contains("..")
        || branch.contains("//")
        || branch.contains("@{")
        || branch
            .chars()
            .any(|c| c.is_control() || " ~^:?*[\\".contains(c));
    if bad {
        return Err(Error::invalid_with_hint(
            format!("'{branch}' is not a usable branch name"),
            "use letters, digits, '-', '_' and '/' (for example baton/user-auth)",
        ));
    }
    Ok(())
}

fn check_name(what: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(format!("the {what} needs a name")));
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::invalid(format!(
            "the {what} name is longer than {MAX_NAME} characters"
        )));
    }
    Ok(name.to_string())
}

fn check_repositories(repos: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in repos {
        let r = r.trim();
        if r.is_empty() || r.len() > 1000 || r.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "'{r}' is not a repository (a path or URL)"
            )));
        }
        if !out.iter().any(|o| o == r) {
            out.push(r.to_string());
        }
    }
    Ok(out)
}

fn json_text(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// An event about the plan (no task), naming what it is about in its detail.
fn plan_event(
    tx: &mut dyn StoreTx,
    now: Timestamp,
    actor: &str,
    action: &'static str,
    detail: serde_json::Value,
) -> Result<u64> {
    event(tx, now, actor, action, None, detail)
}

pub fn create_initiative(
    tx: &mut dyn StoreTx,
    actor: &str,
    new: NewInitiative,
    now: Timestamp,
) -> Result<Initiative> {
    let name = check_name("initiative", &new.name)?;
    let branch = match new.branch.as_deref().map(str::trim) {
        Some(b) if !b.is_empty() => b.to_string(),
        _ => branch_for(&name),
    };
    check_branch(&branch)?;
    let taken = tx.sql().query(
        "SELECT id FROM initiatives WHERE branch = ?1",
        &[branch.as_str().into()],
    )?;
    if let Some(row) = taken.first() {
        let other = Row::new(row, "initiative").uint(0)?;
        return Err(Error::Conflict {
            code: "branch_taken",
            message: format!("branch {branch} is already initiative I-{other}'s"),
            hint: Some("give this initiative another name or --branch".into()),
        });
    }
    let repositories = check_repositories(&new.repositories)?;
    let approval = new.merge_requires_approval.unwrap_or(true);
    let description = new.description.unwrap_or_default();
    let rows = tx.sql().query(
        "INSERT INTO initiatives (name, description, status, merge_requires_approval, branch, \
         repositories, created_by, created_at, updated_at) \
         VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id",
        &[
            name.as_str().into(),
            description.into(),
            approval.into(),
            branch.as_str().into(),
            json_text(&repositories).into(),
            actor.into(),
            now.into(),
        ],
    )?;
    let id = InitiativeId(Row::new(&rows[0], "initiative").uint(0)?);
    plan_event(
        tx,
        now,
        actor,
        actions::INITIATIVE_CREATED,
        json!({ "initiative": id, "name": name, "branch": branch,
                "merge_requires_approval": approval }),
    )?;
    load_initiative(tx.sql(), id)
}

pub fn update_initiative(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: InitiativeId,
    patch: InitiativePatch,
    now: Timestamp,
) -> Result<Initiative> {
    let before = load_initiative(tx.sql(), id)?;
    let mut changes = serde_json::Map::new();
    let mut after = before.clone();
    if let Some(name) = patch.name {
        after.name = check_name("initiative", &name)?;
    }
    if let Some(d) = patch.description {
        after.description = d;
    }
    if let Some(a) = patch.merge_requires_approval {
        after.merge_requires_approval = a;
    }
    if let Some(r) = patch.repositories {
        after.repositories = check_repositories(&r)?;
    }
    macro_rules! note {
        ($field:ident) => {
            if before.$field != after.$field {
                changes.insert(
                    stringify!($field).into(),
                    json!({ "from": before.$field, "to": after.$field }),
                );
            }
        };
    }
    note!(name);
    note!(description);
    note!(merge_requires_approval);
    note!(repositories);
    if changes.is_empty() {
        return Ok(before);
    }
    tx.sql().execute(
        "UPDATE initiatives SET name = ?2, description = ?3, merge_requires_approval = ?4, \
         repositories = ?5, updated_at = ?6 WHERE id = ?1",
        &[
            id.number().into(),
            after.name.as_str().into(),
            after.description.as_str().into(),
            after.merge_requires_approval.into(),
            json_text(&after.repositories).into(),
            now.into(),
        ],
    )?;
    plan_event(
        tx,
        now,
        actor,
        actions::INITIATIVE_UPDATED,
        json!({ "initiative": id, "changes": changes }),
    )?;
    if before.merge_requires_approval != after.merge_requires_approval {
        sync_initiative(tx, id, actor, now)?;
    }
    load_initiative(tx.sql(), id)
}

fn set_initiative_status(
    tx: &mut dyn StoreTx,
    initiative: &Initiative,
    to: InitiativeStatus,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    tx.sql().execute(
        "UPDATE initiatives SET status = ?2, updated_at = ?3 WHERE id = ?1",
        &[
            initiative.id.number().into(),
            to.as_str().into(),
            now.into(),
        ],
    )?;
    plan_event(
        tx,
        now,
        actor,
        actions::INITIATIVE_STATUS,
        json!({ "initiative": initiative.id, "from": initiative.status, "to": to }),
    )?;
    if to == InitiativeStatus::Completed {
        super::merges::initiative_completed(tx, actor, initiative, now)?;
    }
    Ok(())
}

pub fn move_initiative(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: InitiativeId,
    to: InitiativeMove,
    now: Timestamp,
) -> Result<Initiative> {
    let initiative = load_initiative(tx.sql(), id)?;
    let target = match (to, initiative.status) {
        (InitiativeMove::Approve, InitiativeStatus::PendingReview) => InitiativeStatus::Completed,
        (InitiativeMove::Archive, s) if s != InitiativeStatus::Archived => {
            InitiativeStatus::Archived
        }
        (InitiativeMove::Reopen, InitiativeStatus::Archived | InitiativeStatus::Completed) => {
            InitiativeStatus::Active
        }
        (m, s) => {
            let hint = match s {
                InitiativeStatus::Active => format!(
                    "it is approved once every phase is completed ({} of {} are)",
                    initiative.progress.completed, initiative.progress.total
                ),
                InitiativeStatus::PendingReview => "approve or archive it".into(),
                InitiativeStatus::Completed | InitiativeStatus::Archived => {
                    "reopen it first".into()
                }
            };
            return Err(Error::Conflict {
                code: "invalid_transition",
                message: format!(
                    "initiative {id} is {s}; cannot {}",
                    match m {
                        InitiativeMove::Approve => "approve it",
                        InitiativeMove::Archive => "archive it",
                        InitiativeMove::Reopen => "reopen it",
                    }
                ),
                hint: Some(hint),
            });
        }
    };
    set_initiative_status(tx, &initiative, target, actor, now)?;
    sync_initiative(tx, id, actor, now)?;
    load_initiative(tx.sql(), id)
}

/// Re-syncs every phase of an initiative (its approval or status changed), and the gate
/// of its tasks that belong to no phase.
fn sync_initiative(
    tx: &mut dyn StoreTx,
    id: InitiativeId,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    let initiative = load_initiative(tx.sql(), id)?;
    let live = initiative.status != InitiativeStatus::Archived;
    tx.sql().execute(
        "UPDATE tasks SET gated = ?2 WHERE initiative = ?1 AND phase IS NULL AND gated <> ?2",
        &[id.number().into(), (!live).into()],
    )?;
    let phases: Vec<PhaseId> = query_map(
        tx.sql(),
        "phase",
        "SELECT id FROM phases WHERE initiative = ?1 ORDER BY position, id",
        &[id.number().into()],
        |r| Ok(PhaseId(r.uint(0)?)),
    )?;
    let mut opened = Vec::new();
    for phase in phases {
        sync_phase(tx, phase, actor, now, &mut opened)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Phases

/// A phase's row, before the derived fields are filled in.
struct PhaseRow {
    phase: Phase,
    approved_at: Option<Timestamp>,
}

const PHASE_COLUMNS: &str = "p.id, p.initiative, p.name, p.content, p.status, \
    p.blocked_reason, p.approved_at, p.position, p.created_at, p.updated_at";

fn phase_from_row(r: &Row<'_>) -> Result<PhaseRow> {
    let status = r.text(4)?;
    Ok(PhaseRow {
        phase: Phase {
            id: PhaseId(r.uint(0)?),
            initiative: InitiativeId(r.uint(1)?),
            name: r.text(2)?,
            content: r.text(3)?,
            status: PhaseStatus::parse(&status).ok_or_else(|| unknown("phase", &status))?,
            blocked_reason: r.opt_text(5)?,
            depends_on: Vec::new(),
            open: false,
            tasks: TaskCounts::default(),
            open_comments: 0,
            position: r.uint(7)?,
            created_at: r.ts(8)?,
            updated_at: r.ts(9)?,
        },
        approved_at: r.opt_ts(6)?,
    })
}

fn phase_row(db: &mut dyn Sql, id: PhaseId) -> Result<PhaseRow> {
    load_by_id(
        db,
        "phase",
        &format!("SELECT {PHASE_COLUMNS} FROM phases p WHERE p.id = ?1"),
        id.number(),
        "list phases with `baton phase list`",
        phase_from_row,
        id,
    )
}

fn phase_deps(db: &mut dyn Sql, id: PhaseId) -> Result<Vec<(PhaseId, PhaseStatus)>> {
    query_map(
        db,
        "phase dependency",
        "SELECT d.depends_on, p.status FROM phase_deps d JOIN phases p ON p.id = d.depends_on \
         WHERE d.phase = ?1 ORDER BY d.depends_on",
        &[id.number().into()],
        |r| {
            let status = r.text(1)?;
            Ok((
                PhaseId(r.uint(0)?),
                PhaseStatus::parse(&status).ok_or_else(|| unknown("phase", &status))?,
            ))
        },
    )
}

fn phase_dependents(db: &mut dyn Sql, id: PhaseId) -> Result<Vec<PhaseId>> {
    query_map(
        db,
        "phase dependent",
        "SELECT phase FROM phase_deps WHERE depends_on = ?1 ORDER BY phase",
        &[id.number().into()],
        |r| Ok(PhaseId(r.uint(0)?)),
    )
}

/// A phase's live tasks by status.
fn task_counts(db: &mut dyn Sql, id: PhaseId) -> Result<TaskCounts> {
    let rows = query_map(
        db,
        "phase tasks",
        "SELECT status, count(*) FROM tasks WHERE phase = ?1 AND deleted_at IS NULL \
         GROUP BY status",
        &[id.number().into()],
        |r| Ok((r.text(0)?, r.uint(1)?)),
    )?;
    let mut c = TaskCounts::default();
    for (status, n) in rows {
        c.total += n;
        match status.parse::<Status>() {
            Ok(s) if crate::lifecycle::satisfies_dependency(s) => c.finished += n,
            Ok(Status::InProgress) => c.in_progress += n,
            Ok(Status::Blocked) => c.blocked += n,
            _ => {}
        }
    }
    Ok(c)
}

fn open_comments(db: &mut dyn Sql, id: PhaseId) -> Result<u64> {
    let rows = db.query(
        "SELECT count(*) FROM review_comments WHERE phase = ?1 AND resolved = 0 \
         AND reply_to IS NULL",
        &[id.number().into()],
    )?;
    Row::new(&rows[0], "comments").uint(0)
}

/// What a phase's gate is computed from, as stored now.
struct Gate {
    input: GateInput,
    initiative: Initiative,
    /// The phases it depends on.
    deps: Vec<PhaseId>,
}

fn gate_input(db: &mut dyn Sql, row: &PhaseRow) -> Result<Gate> {
    let initiative = load_initiative(db, row.phase.initiative)?;
    let deps = phase_deps(db, row.phase.id)?;
    Ok(Gate {
        input: GateInput {
            status: row.phase.status,
            approval: initiative.merge_requires_approval,
            deps_completed: deps.iter().all(|(_, s)| *s == PhaseStatus::Completed),
            initiative: initiative.status,
        },
        initiative,
        deps: deps.into_iter().map(|d| d.0).collect(),
    })
}

/// A phase as every surface shows it: its row with dependencies, gate, task counts and
/// open comments filled in.
pub fn load_phase(db: &mut dyn Sql, id: PhaseId) -> Result<Phase> {
    let row = phase_row(db, id)?;
    finish_phase(db, row)
}

fn finish_phase(db: &mut dyn Sql, row: PhaseRow) -> Result<Phase> {
    let gate = gate_input(db, &row)?;
    let mut phase = row.phase;
    phase.depends_on = gate.deps;
    phase.open = gates::gate_open(gate.input);
    phase.tasks = task_counts(db, phase.id)?;
    phase.open_comments = open_comments(db, phase.id)?;
    Ok(phase)
}

pub fn list_phases(db: &mut dyn Sql, initiative: Option<InitiativeId>) -> Result<Vec<Phase>> {
    let mut f = Filter::default();
    if let Some(i) = initiative {
        load_initiative(db, i)?;
        f.and("p.initiative = ?", i.number());
    }
    let rows = query_map(
        db,
        "phase",
        &format!(
            "SELECT {PHASE_COLUMNS} FROM phases p{} ORDER BY p.initiative, p.position, p.id",
            f.where_clause()
        ),
        &f.params,
        phase_from_row,
    )?;
    rows.into_iter().map(|r| finish_phase(db, r)).collect()
}

/// Checks phase dependencies: each exists, is in the same initiative, and adding them to
/// `phase` (when it exists already) closes no cycle.
fn check_phase_deps(
    db: &mut dyn Sql,
    initiative: InitiativeId,
    phase: Option<PhaseId>,
    deps: &[PhaseId],
) -> Result<Vec<PhaseId>> {
    let mut out: Vec<PhaseId> = Vec::new();
    for &d in deps {
        let row = phase_row(db, d).map_err(|_| {
            Error::invalid_with_hint(
                format!("phase {d} does not exist"),
                "list phases with `baton phase list`",
            )
        })?;
        if row.phase.initiative != initiative {
            return Err(Error::invalid(format!(
                "phase {d} belongs to initiative {}, not {initiative}; phases depend only on \
                 phases of their own initiative",
                row.phase.initiative
            )));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    if let Some(p) = phase {
        let cycle = find_cycle(p, &out, |n| {
            Ok::<_, Error>(phase_deps(db, n)?.into_iter().map(|d| d.0).collect())
        })?;
        if let Some(cycle) = cycle {
            let names: Vec<String> = cycle.iter().map(|p| p.to_string()).collect();
            return Err(Error::Conflict {
                code: "dependency_cycle",
                message: format!(
                    "phase dependencies would form a cycle: {}",
                    names.join(" -> ")
                ),
                hint: Some("phases must form a DAG: drop one of these dependencies".into()),
            });
        }
    }
    Ok(out)
}

fn set_phase_deps(db: &mut dyn Sql, id: PhaseId, deps: &[PhaseId]) -> Result<()> {
    db.execute(
        "DELETE FROM phase_deps WHERE phase = ?1",
        &[id.number().into()],
    )?;
    for d in deps {
        db.execute(
            "INSERT INTO phase_deps (phase, depends_on) VALUES (?1, ?2)",
            &[id.number().into(), d.number().into()],
        )?;
    }
    Ok(())
}

pub fn create_phase(
    tx: &mut dyn StoreTx,
    actor: &str,
    new: NewPhase,
    now: Timestamp,
) -> Result<Phase> {
    let name = check_name("phase", &new.name)?;
    let initiative = load_initiative(tx.sql(), new.initiative)?;
    if matches!(
        initiative.status,
        InitiativeStatus::Completed | InitiativeStatus::Archived
    ) {
        return Err(Error::Conflict {
            code: "initiative_closed",
            message: format!(
                "initiative {} is {}; it takes no new phases",
                initiative.id, initiative.status
            ),
            hint: Some(format!(
                "reopen it: `baton initiative reopen {}`",
                initiative.id
            )),
        });
    }
    let deps = check_phase_deps(tx.sql(), initiative.id, None, &new.depends_on)?;
    let position = initiative.progress.total + 1;
    let rows = tx.sql().query(
        "INSERT INTO phases (initiative, name, content, status, position, created_at, \
         updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?5) RETURNING id",
        &[
            initiative.id.number().into(),
            name.as_str().into(),
            new.content.unwrap_or_default().into(),
            position.into(),
            now.into(),
        ],
    )?;
    let id = PhaseId(Row::new(&rows[0], "phase").uint(0)?);
    set_phase_deps(tx.sql(), id, &deps)?;
    plan_event(
        tx,
        now,
        actor,
        actions::PHASE_CREATED,
        json!({ "phase": id, "initiative": initiative.id, "name": name, "depends_on": deps }),
    )?;
    // A new phase is unfinished work: an initiative under review goes back to active.
    let mut opened = Vec::new();
    sync_phase(tx, id, actor, now, &mut opened)?;
    load_phase(tx.sql(), id)
}

pub fn update_phase(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: PhaseId,
    patch: PhasePatch,
    now: Timestamp,
) -> Result<Phase> {
    let row = phase_row(tx.sql(), id)?;
    let before = finish_phase(tx.sql(), row)?;
    let mut after = before.clone();
    let mut changes = serde_json::Map::new();
    if let Some(name) = patch.name {
        after.name = check_name("phase", &name)?;
    }
    if let Some(content) = patch.content {
        after.content = content;
    }
    if let Some(deps) = &patch.depends_on {
        after.depends_on = check_phase_deps(tx.sql(), before.initiative, Some(id), deps)?;
    }
    if before.name != after.name {
        changes.insert(
            "name".into(),
            json!({ "from": before.name, "to": after.name }),
        );
    }
    if before.content != after.content {
        changes.insert("content".into(), json!({ "changed": true }));
    }
    let deps_changed = before.depends_on != after.depends_on;
    if deps_changed {
        changes.insert(
            "depends_on".into(),
            json!({ "from": before.depends_on, "to": after.depends_on }),
        );
    }
    if changes.is_empty() {
        return Ok(before);
    }
    tx.sql().execute(
        "UPDATE phases SET name = ?2, content = ?3, updated_at = ?4 WHERE id = ?1",
        &[
            id.number().into(),
            after.name.as_str().into(),
            after.content.as_str().into(),
            now.into(),
        ],
    )?;
    if deps_changed {
        set_phase_deps(tx.sql(), id, &after.depends_on)?;
    }
    plan_event(
        tx,
        now,
        actor,
        actions::PHASE_UPDATED,
        json!({ "phase": id, "initiative": before.initiative, "changes": changes }),
    )?;
    if deps_changed {
        let mut opened = Vec::new();
        sync_phase(tx, id, actor, now, &mut opened)?;
    }
    load_phase(tx.sql(), id)
}

fn set_phase_status(
    tx: &mut dyn StoreTx,
    phase: &Phase,
    to: PhaseStatus,
    reason: Option<&str>,
    actor: &str,
    now: Timestamp,
) -> Result<()> {
    tx.sql().execute(
        "UPDATE phases SET status = ?2, blocked_reason = ?3, updated_at = ?4, \
         approved_at = CASE WHEN ?2 = 'approved' AND approved_at IS NULL THEN ?4 \
         ELSE approved_at END WHERE id = ?1",
        &[
            phase.id.number().into(),
            to.as_str().into(),
            reason.map(str::to_string).into(),
            now.into(),
        ],
    )?;
    let mut detail = json!({ "phase": phase.id, "initiative": phase.initiative,
                             "from": phase.status, "to": to });
    if let Some(r) = reason {
        detail["reason"] = json!(r);
    }
    plan_event(tx, now, actor, actions::PHASE_STATUS, detail)?;
    if to == PhaseStatus::Completed {
        super::merges::phase_completed(tx, actor, phase, now)?;
    }
    Ok(())
}

/// Brings a phase up to date with its tasks and its gate; a change of completion carries
/// on to the phases that depend on it, then to the initiative. `opened` collects phases
/// whose gate opened.
pub fn sync_phase(
    tx: &mut dyn StoreTx,
    id: PhaseId,
    actor: &str,
    now: Timestamp,
    opened: &mut Vec<PhaseId>,
) -> Result<()> {
    let mut queue = vec![id];
    let mut seen: HashSet<PhaseId> = HashSet::new();
    let mut initiatives: Vec<InitiativeId> = Vec::new();
    while let Some(id) = queue.pop() {
        // A DAG: each phase is synced once per pass, after its dependencies moved.
        if !seen.insert(id) {
            continue;
        }
        let row = phase_row(tx.sql(), id)?;
        let Gate {
            input, initiative, ..
        } = gate_input(tx.sql(), &row)?;
        let counts = task_counts(tx.sql(), id)?;
        let mut status = row.phase.status;
        if let Some(next) = gates::phase_progress(status, input.approval, &counts) {
            set_phase_status(tx, &row.phase, next, None, actor, now)?;
            if (status == PhaseStatus::Completed) != (next == PhaseStatus::Completed) {
                for d in phase_dependents(tx.sql(), id)? {
                    seen.remove(&d);
                    queue.push(d);
                }
            }
            status = next;
        }
        let open = gates::gate_open(GateInput { status, ..input });
        let changed = query_map(
            tx.sql(),
            "gated task",
            "UPDATE tasks SET gated = ?2 WHERE phase = ?1 AND gated <> ?2 RETURNING id",
            &[id.number().into(), (!open).into()],
            |r| Ok(TaskId(r.uint(0)?)),
        )?;
        if !changed.is_empty() {
            let mut ids = changed;
            ids.sort();
            plan_event(
                tx,
                now,
                actor,
                if open {
                    actions::PHASE_OPENED
                } else {
                    actions::PHASE_CLOSED
                },
                json!({ "phase": id, "initiative": initiative.id, "tasks": ids }),
            )?;
            if open {
                opened.push(id);
            }
        }
        if !initiatives.contains(&initiative.id) {
            initiatives.push(initiative.id);
        }
    }
    for i in initiatives {
        let initiative = load_initiative(tx.sql(), i)?;
        if let Some(next) = gates::initiative_progress(
            initiative.status,
            initiative.merge_requires_approval,
            initiative.progress.total,
            initiative.progress.completed,
        ) {
            set_initiative_status(tx, &initiative, next, actor, now)?;
        }
    }
    Ok(())
}

/// After a task of a phase changed (claimed, finished, sent back, added, deleted): the
/// phase moves on if it should. Nothing to do for a task outside any phase.
pub fn task_changed(tx: &mut dyn StoreTx, task: &Task, actor: &str, now: Timestamp) -> Result<()> {
    if let Some(phase) = task.phase {
        let mut opened = Vec::new();
        sync_phase(tx, phase, actor, now, &mut opened)?;
    }
    Ok(())
}

/// After a task of a phase was claimed: a claim only moves a phase that has not started
/// yet, so a phase already in progress is left alone without counting its tasks.
pub fn task_claimed(tx: &mut dyn StoreTx, task: &Task, actor: &str, now: Timestamp) -> Result<()> {
    let Some(phase) = task.phase else {
        return Ok(());
    };
    let rows = tx.sql().query(
        "SELECT status FROM phases WHERE id = ?1",
        &[phase.number().into()],
    )?;
    let started = rows
        .first()
        .map(|r| Row::new(r, "phase").text(0))
        .transpose()?
        .is_some_and(|s| s == PhaseStatus::InProgress.as_str());
    if started {
        return Ok(());
    }
    let mut opened = Vec::new();
    sync_phase(tx, phase, actor, now, &mut opened)
}

/// Whether a new task in `phase` (or in `initiative` outside phases) starts gated, and its
/// initiative; refuses a phase that takes no new work.
pub fn gate_for_new_task(
    db: &mut dyn Sql,
    phase: Option<PhaseId>,
    initiative: Option<InitiativeId>,
) -> Result<(bool, Option<InitiativeId>)> {
    match (phase, initiative) {
        (Some(p), i) => {
            // A reference in the task's body: bad input, not a missing resource.
            let row = phase_row(db, p).map_err(|_| {
                Error::invalid_with_hint(
                    format!("phase {p} does not exist"),
                    "list phases with `baton phase list`",
                )
            })?;
            if let Some(i) = i {
                if i != row.phase.initiative {
                    return Err(Error::invalid(format!(
                        "phase {p} belongs to initiative {}, not {i}",
                        row.phase.initiative
                    )));
                }
            }
            if row.phase.status == PhaseStatus::Completed {
                return Err(Error::Conflict {
                    code: "phase_completed",
                    message: format!("phase {p} is completed; it takes no new tasks"),
                    hint: Some("add the task to a later phase, or to no phase".into()),
                });
            }
            let Gate {
                input, initiative, ..
            } = gate_input(db, &row)?;
            Ok((!gates::gate_open(input), Some(initiative.id)))
        }
        (None, Some(i)) => {
            let initiative = load_initiative(db, i).map_err(|_| {
                Error::invalid_with_hint(
                    format!("initiative {i} does not exist"),
                    "list initiatives with `baton initiative list`",
                )
            })?;
            let live = initiative.status != InitiativeStatus::Archived;
            Ok((!live, Some(i)))
        }
        (None, None) => Ok((false, None)),
    }
}

fn phase_move_of(action: PhaseAction) -> PhaseMove {
    match action {
        PhaseAction::Approve => PhaseMove::Approve,
        PhaseAction::RequestChanges => PhaseMove::RequestChanges,
        PhaseAction::Block => PhaseMove::Block,
        PhaseAction::Unblock => PhaseMove::Unblock,
    }
}

pub fn move_phase(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: PhaseId,
    request: PhaseMoveRequest,
    now: Timestamp,
) -> Result<PhaseOutcome> {
    let row = phase_row(tx.sql(), id)?;
    let input = gate_input(tx.sql(), &row)?.input;
    let m = phase_move_of(request.action);
    let phase = row.phase;
    let Some(to) = gates::phase_move(phase.status, m, input.approval, row.approved_at.is_some())
    else {
        let can: Vec<&str> = gates::phase_moves(phase.status)
            .into_iter()
            .map(PhaseMove::as_str)
            .collect();
        return Err(Error::Conflict {
            code: "invalid_transition",
            message: format!("phase {id} is {}; cannot {} it", phase.status, m.as_str()),
            hint: Some(if can.is_empty() {
                format!("a {} phase takes no moves", phase.status)
            } else {
                format!("from {} you can: {}", phase.status, can.join(", "))
            }),
        });
    };
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if m == PhaseMove::Block && reason.is_none() {
        return Err(Error::invalid("blocking a phase needs a reason"));
    }
    let mut outcome_revision = None;
    let mut approved = Vec::new();
    if m == PhaseMove::RequestChanges {
        if reason.is_none() && request.comments.is_empty() && open_comments(tx.sql(), id)? == 0 {
            return Err(Error::invalid_with_hint(
                format!("a request for changes on {id} needs a reason or comments"),
                "say what to change with --reason, or add review comments first",
            ));
        }
        for c in &request.comments {
            insert_comment(tx, actor, Some(id), None, None, c, now)?;
        }
    }
    if m == PhaseMove::Approve && phase.status == PhaseStatus::PendingReview {
        // The phase's review approves its tasks that wait in review.
        let waiting = tx.tasks(&crate::store::TaskQuery {
            phase: Some(id),
            statuses: vec![Status::Review],
            ..Default::default()
        })?;
        for record in waiting {
            let task = super::claims::approve(
                tx,
                actor,
                record.task.id,
                Some(format!("Approved with phase {id}")),
                now,
            )?;
            approved.push(task.id);
        }
    }
    let block_reason = if m == PhaseMove::Block { reason } else { None };
    set_phase_status(tx, &phase, to, block_reason, actor, now)?;
    if m == PhaseMove::RequestChanges {
        outcome_revision = Some(revision_task(tx, actor, &phase, reason, now)?);
        plan_event(
            tx,
            now,
            actor,
            actions::PHASE_CHANGES_REQUESTED,
            json!({ "phase": id, "initiative": phase.initiative, "reason": reason,
                    "revision": outcome_revision.as_ref().map(|t: &Task| t.id) }),
        )?;
    }
    let mut opened = Vec::new();
    sync_phase(tx, id, actor, now, &mut opened)?;
    if to == PhaseStatus::Completed {
        for d in phase_dependents(tx.sql(), id)? {
            sync_phase(tx, d, actor, now, &mut opened)?;
        }
    }
    opened.sort();
    opened.dedup();
    Ok(PhaseOutcome {
        phase: load_phase(tx.sql(), id)?,
        revision: match outcome_revision {
            Some(t) => Some(super::finish(super::load(tx, t.id)?)),
            None => None,
        },
        approved,
        opened,
    })
}

/// The task a request for changes adds to its phase: the reviewer's reason and every open
/// comment of the phase, in its description.
fn revision_task(
    tx: &mut dyn StoreTx,
    actor: &str,
    phase: &Phase,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<Task> {
    let comments = list_comments(
        tx.sql(),
        &CommentFilter {
            phase: Some(phase.id),
            task: None,
            open: true,
        },
    )?;
    let mut description = format!(
        "Review of phase {} ({}) asked for changes.\n",
        phase.id, phase.name
    );
    if let Some(r) = reason {
        description.push_str(&format!("\n{r}\n"));
    }
    let top: Vec<&ReviewComment> = comments.iter().filter(|c| c.reply_to.is_none()).collect();
    if !top.is_empty() {
        description.push_str("\nReview comments:\n");
        for c in top {
            let place = match (&c.file, c.line) {
                (Some(f), Some(l)) => format!(
                    "{f}:{l}{} ",
                    c.side.map(|s| format!(" ({s})")).unwrap_or_default()
                ),
                (Some(f), None) => format!("{f} "),
                _ => String::new(),
            };
            description.push_str(&format!("- {} {place}[{}]: {}\n", c.id, c.author, c.body));
            for reply in comments.iter().filter(|r| r.reply_to == Some(c.id)) {
                description.push_str(&format!("  - [{}]: {}\n", reply.author, reply.body));
            }
        }
    }
    let mut title = format!("Address review of {}: {}", phase.id, phase.name);
    if title.chars().count() > 500 {
        title = title.chars().take(497).collect::<String>() + "...";
    }
    // Its parent is the phase's task an agent worked on last: a runner resumes that
    // agent's session for the revision, when its provider can.
    let worked = query_map(
        tx.sql(),
        "run",
        "SELECT r.task FROM runs r JOIN tasks t ON t.id = r.task \
         WHERE t.phase = ?1 AND r.session IS NOT NULL ORDER BY r.id DESC LIMIT 1",
        &[phase.id.number().into()],
        |r| r.uint(0),
    )?
    .pop()
    .map(|t| TaskId(t).to_string());
    let created = super::edit::add_tasks(
        tx,
        actor,
        vec![crate::api::NewTask {
            title,
            description: Some(description),
            priority: Some(crate::model::Priority::P0),
            phase: Some(phase.id),
            category: Some(crate::model::Category::Execute),
            parent: worked,
            ..Default::default()
        }],
        now,
    )?;
    Ok(created.into_iter().next().expect("one task added"))
}

// ---------------------------------------------------------------------------------------
// Review comments

const COMMENT_COLUMNS: &str = "id, phase, task, reply_to, file, line, side, body, author, \
    resolved, created_at, updated_at";

fn comment_from_row(r: &Row<'_>) -> Result<ReviewComment> {
    Ok(ReviewComment {
        id: CommentId(r.uint(0)?),
        phase: r.opt_uint(1)?.map(PhaseId),
        task: r.opt_uint(2)?.map(TaskId),
        reply_to: r.opt_uint(3)?.map(CommentId),
        file: r.opt_text(4)?,
        line: r.opt_uint(5)?,
        side: r.opt_text(6)?.and_then(|s| LineSide::parse(&s)),
        body: r.text(7)?,
        author: r.text(8)?,
        resolved: r.flag(9)?,
        created_at: r.ts(10)?,
        updated_at: r.ts(11)?,
    })
}

pub fn load_comment(db: &mut dyn Sql, id: CommentId) -> Result<ReviewComment> {
    load_by_id(
        db,
        "review comment",
        &format!("SELECT {COMMENT_COLUMNS} FROM review_comments WHERE id = ?1"),
        id.number(),
        "list a phase's comments with `baton review list --phase P-n`",
        comment_from_row,
        id,
    )
}

pub fn list_comments(db: &mut dyn Sql, filter: &CommentFilter) -> Result<Vec<ReviewComment>> {
    let mut f = Filter::default();
    if let Some(p) = filter.phase {
        f.and("phase = ?", p.number());
    }
    if let Some(t) = filter.task {
        f.and("task = ?", t.number());
    }
    let mut comments = query_map(
        db,
        "review comment",
        &format!(
            "SELECT {COMMENT_COLUMNS} FROM review_comments{} ORDER BY id",
            f.where_clause()
        ),
        &f.params,
        comment_from_row,
    )?;
    if filter.open {
        let open: HashSet<CommentId> = comments
            .iter()
            .filter(|c| c.reply_to.is_none() && !c.resolved)
            .map(|c| c.id)
            .collect();
        comments.retain(|c| match c.reply_to {
            None => open.contains(&c.id),
            Some(parent) => open.contains(&parent),
        });
    }
    Ok(comments)
}

fn check_comment_body(c: &CommentBody) -> Result<()> {
    if c.body.trim().is_empty() {
        return Err(Error::invalid("a review comment needs a body"));
    }
    if let Some(file) = &c.file {
        if file.trim().is_empty() || file.chars().any(char::is_control) || file.len() > 1000 {
            return Err(Error::invalid(format!("'{file}' is not a file path")));
        }
    }
    if c.line == Some(0) {
        return Err(Error::invalid("line numbers start at 1"));
    }
    if c.line.is_some() && c.file.is_none() {
        return Err(Error::invalid_with_hint(
            "a comment on a line needs its file",
            "give --file with --line",
        ));
    }
    Ok(())
}

fn insert_comment(
    tx: &mut dyn StoreTx,
    actor: &str,
    phase: Option<PhaseId>,
    task: Option<TaskId>,
    reply_to: Option<CommentId>,
    c: &CommentBody,
    now: Timestamp,
) -> Result<ReviewComment> {
    check_comment_body(c)?;
    let rows = tx.sql().query(
        "INSERT INTO review_comments (phase, task, reply_to, file, line, side, body, author, \
         resolved, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?9) RETURNING id",
        &[
            phase.map(|p| p.number()).into(),
            task.map(|t| t.number()).into(),
            reply_to.map(|r| r.number()).into(),
            c.file.as_deref().map(str::trim).into(),
            c.line.into(),
            c.side.map(|s| s.as_str()).into(),
            c.body.as_str().into(),
            actor.into(),
            now.into(),
        ],
    )?;
    let id = CommentId(Row::new(&rows[0], "review comment").uint(0)?);
    let mut detail = json!({ "comment": id, "phase": phase, "task": task });
    if let Some(r) = reply_to {
        detail["reply_to"] = json!(r);
    }
    if let Some(f) = &c.file {
        detail["file"] = json!(f);
    }
    event(tx, now, actor, actions::COMMENT_CREATED, task, detail)?;
    load_comment(tx.sql(), id)
}

/// A review comment brought from another tool: on a phase, by its author there, resolved
/// or not.
pub fn add_imported_comment(
    tx: &mut dyn StoreTx,
    author: &str,
    phase: PhaseId,
    c: &CommentBody,
    resolved: bool,
    now: Timestamp,
) -> Result<CommentId> {
    let made = insert_comment(tx, author, Some(phase), None, None, c, now)?;
    if resolved {
        tx.sql().execute(
            "UPDATE review_comments SET resolved = 1 WHERE id = ?1",
            &[made.id.number().into()],
        )?;
    }
    Ok(made.id)
}

pub fn add_comment(
    tx: &mut dyn StoreTx,
    actor: &str,
    new: NewComment,
    now: Timestamp,
) -> Result<ReviewComment> {
    let body = new.body();
    let (phase, task) = match new.reply_to {
        Some(r) => {
            let parent = load_comment(tx.sql(), r)?;
            if let Some(first) = parent.reply_to {
                return Err(Error::invalid_with_hint(
                    format!("{r} is itself a reply"),
                    format!("answer the comment it replies to ({first})"),
                ));
            }
            (parent.phase, parent.task)
        }
        None => (new.phase, new.task),
    };
    if phase.is_none() && task.is_none() {
        return Err(Error::invalid_with_hint(
            "a review comment is on a phase or a task",
            "give --phase P-n or --task T-n (or --reply-to C-n)",
        ));
    }
    if let Some(p) = phase {
        phase_row(tx.sql(), p)?;
    }
    if let Some(t) = task {
        super::load_live(tx, t)?;
    }
    insert_comment(tx, actor, phase, task, new.reply_to, &body, now)
}

pub fn resolve_comment(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: CommentId,
    resolved: bool,
    now: Timestamp,
) -> Result<ReviewComment> {
    let comment = load_comment(tx.sql(), id)?;
    if let Some(first) = comment.reply_to {
        return Err(Error::invalid_with_hint(
            format!("{id} is a reply; threads are resolved at their first comment"),
            format!("resolve {first}"),
        ));
    }
    if comment.resolved == resolved {
        return Ok(comment);
    }
    tx.sql().execute(
        "UPDATE review_comments SET resolved = ?2, updated_at = ?3 WHERE id = ?1",
        &[id.number().into(), resolved.into(), now.into()],
    )?;
    event(
        tx,
        now,
        actor,
        actions::COMMENT_UPDATED,
        comment.task,
        json!({ "comment": id, "phase": comment.phase, "resolved": resolved }),
    )?;
    load_comment(tx.sql(), id)
}

// ---------------------------------------------------------------------------------------
// Summaries

/// `text` cut to at most `max` bytes at a character boundary.
fn cut(text: &str, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text.to_string(), false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

/// What the dependencies of `task` left for it: their summaries, each cut to
/// [`SUMMARY_CUT`] bytes and all together to [`SUMMARIES_TOTAL`].
pub fn dependency_summaries(tx: &mut dyn StoreTx, task: &Task) -> Result<Vec<DepSummary>> {
    if task.depends_on.is_empty() {
        return Ok(Vec::new());
    }
    let records = tx.tasks(&crate::store::TaskQuery {
        ids: Some(task.depends_on.clone()),
        include_deleted: true,
        ..Default::default()
    })?;
    let by_id: HashMap<TaskId, Task> = records.into_iter().map(|r| (r.task.id, r.task)).collect();
    let mut left = SUMMARIES_TOTAL;
    let mut out = Vec::new();
    for id in &task.depends_on {
        let Some(dep) = by_id.get(id) else { continue };
        let Some(summary) = dep.summary.as_deref().filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        if left == 0 {
            break;
        }
        let (text, truncated) = cut(summary, SUMMARY_CUT.min(left));
        left -= text.len();
        out.push(DepSummary {
            id: dep.id,
            title: dep.title.clone(),
            summary: text,
            truncated,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The board's side of the API

impl<S: crate::store::Store> crate::api::Plan for super::Board<S> {
    fn create_initiative(&self, actor: &str, new: NewInitiative) -> Result<Initiative> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::touch(tx, actor, now)?;
            create_initiative(tx, actor, new, now)
        })
    }

    fn list_initiatives(&self, filter: &InitiativeFilter) -> Result<Vec<Initiative>> {
        self.store.read(|tx| list_initiatives(tx.sql(), filter))
    }

    fn get_initiative(&self, id: InitiativeId) -> Result<Initiative> {
        self.store.read(|tx| load_initiative(tx.sql(), id))
    }

    fn update_initiative(
        &self,
        actor: &str,
        id: InitiativeId,
        patch: InitiativePatch,
    ) -> Result<Initiative> {
        super::validate::actor(actor)?;
        if patch == InitiativePatch::default() {
            return Err(Error::invalid_with_hint(
                "nothing to update",
                "pass at least one field, for example --name or --no-approval",
            ));
        }
        self.write(actor, |tx, now| {
            update_initiative(tx, actor, id, patch, now)
        })
    }

    fn move_initiative(
        &self,
        actor: &str,
        id: InitiativeId,
        to: InitiativeMove,
    ) -> Result<Initiative> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| move_initiative(tx, actor, id, to, now))
    }

    fn create_phase(&self, actor: &str, new: NewPhase) -> Result<Phase> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::touch(tx, actor, now)?;
            create_phase(tx, actor, new, now)
        })
    }

    fn list_phases(&self, initiative: Option<InitiativeId>) -> Result<Vec<Phase>> {
        self.store.read(|tx| list_phases(tx.sql(), initiative))
    }

    fn get_phase(&self, id: PhaseId) -> Result<Phase> {
        self.store.read(|tx| load_phase(tx.sql(), id))
    }

    fn update_phase(&self, actor: &str, id: PhaseId, patch: PhasePatch) -> Result<Phase> {
        super::validate::actor(actor)?;
        if patch == PhasePatch::default() {
            return Err(Error::invalid_with_hint(
                "nothing to update",
                "pass at least one field, for example --name or --depends-on",
            ));
        }
        self.write(actor, |tx, now| update_phase(tx, actor, id, patch, now))
    }

    fn move_phase(
        &self,
        actor: &str,
        id: PhaseId,
        request: PhaseMoveRequest,
    ) -> Result<PhaseOutcome> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| move_phase(tx, actor, id, request, now))
    }

    fn add_comment(&self, actor: &str, new: NewComment) -> Result<ReviewComment> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::touch(tx, actor, now)?;
            add_comment(tx, actor, new, now)
        })
    }

    fn list_comments(&self, filter: &CommentFilter) -> Result<Vec<ReviewComment>> {
        self.store.read(|tx| list_comments(tx.sql(), filter))
    }

    fn resolve_comment(&self, actor: &str, id: CommentId, resolved: bool) -> Result<ReviewComment> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            resolve_comment(tx, actor, id, resolved, now)
        })
    }

    fn add_page(&self, actor: &str, new: crate::api::NewPage) -> Result<crate::model::Page> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::proposals::add_page(tx, actor, new, now)
        })
    }

    fn list_pages(&self, initiative: InitiativeId) -> Result<Vec<crate::model::Page>> {
        self.store
            .read(|tx| super::proposals::list_pages(tx.sql(), initiative))
    }

    fn propose(&self, actor: &str, new: crate::api::NewProposal) -> Result<crate::model::Proposal> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::touch(tx, actor, now)?;
            super::proposals::propose(tx, actor, new, now)
        })
    }

    fn list_proposals(
        &self,
        filter: &crate::api::ProposalFilter,
    ) -> Result<Vec<crate::model::Proposal>> {
        self.store
            .read(|tx| super::proposals::list_proposals(tx.sql(), filter))
    }

    fn get_proposal(&self, id: crate::id::ProposalId) -> Result<crate::model::Proposal> {
        self.store
            .read(|tx| super::proposals::load_proposal(tx.sql(), id))
    }

    fn decide_proposal(
        &self,
        actor: &str,
        id: crate::id::ProposalId,
        decision: crate::api::ProposalDecision,
    ) -> Result<crate::model::Proposal> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::proposals::decide(tx, actor, id, decision, now)
        })
    }

    fn import_plan(
        &self,
        actor: &str,
        plan: crate::api::ImportedPlan,
    ) -> Result<crate::api::PlanImportReport> {
        super::validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::plan_import::import(tx, actor, plan, now)
        })
    }
}
