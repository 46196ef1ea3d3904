//! Pages of an initiative (docs placed in a tree) and proposals: changes to the plan an
//! agent proposes and a person accepts (applied all or nothing, every created row an event)
//! or dismisses. Queries are written once for both stores ([`crate::sql`]).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;

use super::{event, plan};
use crate::api::{
    NewDoc, NewPage, NewPhase, NewProposal, NewTask, PhasePatch, ProposalDecision, ProposalFilter,
    TaskPatch,
};
use crate::error::{Error, Result};
use crate::id::{DocId, InitiativeId, PhaseId, ProposalId, TaskId};
use crate::model::{
    actions, DocType, InitiativeStatus, Page, Proposal, ProposalStatus, ProposalTarget,
};
use crate::sql::{query_map, Filter, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

/// The largest proposal content, as JSON text.
pub const MAX_CONTENT: usize = 1 << 20;

// ---------------------------------------------------------------------------------------
// Pages

const PAGE_COLUMNS: &str = "p.doc, p.initiative, p.parent, d.title, d.version, p.position, \
    d.updated_at";

fn page_from_row(r: &Row<'_>) -> Result<Page> {
    Ok(Page {
        doc: DocId(r.uint(0)?),
        initiative: InitiativeId(r.uint(1)?),
        parent: r.opt_uint(2)?.map(DocId),
        title: r.text(3)?,
        version: r.uint(4)?,
        position: r.uint(5)?,
        updated_at: r.ts(6)?,
    })
}

fn page_rows(db: &mut dyn Sql, initiative: InitiativeId) -> Result<Vec<Page>> {
    query_map(
        db,
        "page",
        &format!(
            "SELECT {PAGE_COLUMNS} FROM initiative_pages p JOIN docs d ON d.id = p.doc \
             WHERE p.initiative = ?1 AND d.deleted_at IS NULL ORDER BY p.position, p.doc"
        ),
        &[initiative.number().into()],
        page_from_row,
    )
}

/// An initiative's pages, root first, each followed by its children (depth first).
pub fn list_pages(db: &mut dyn Sql, initiative: InitiativeId) -> Result<Vec<Page>> {
    plan::load_initiative(db, initiative)?;
    let rows = page_rows(db, initiative)?;
    let mut children: HashMap<Option<DocId>, Vec<Page>> = HashMap::new();
    for p in rows {
        children.entry(p.parent).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut stack: Vec<Page> = children.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(page) = stack.pop() {
        if let Some(mut kids) = children.remove(&Some(page.doc)) {
            kids.reverse();
            stack.extend(kids);
        }
        out.push(page);
    }
    Ok(out)
}

pub fn add_page(tx: &mut dyn StoreTx, actor: &str, new: NewPage, now: Timestamp) -> Result<Page> {
    plan::load_initiative(tx.sql(), new.initiative)?;
    let existing = page_rows(tx.sql(), new.initiative)?;
    let root = existing.iter().find(|p| p.parent.is_none()).map(|p| p.doc);
    let parent = match (new.parent, root) {
        (Some(p), _) => {
            if !existing.iter().any(|e| e.doc == p) {
                return Err(Error::invalid_with_hint(
                    format!("{p} is not a page of initiative {}", new.initiative),
                    format!(
                        "list its pages with `baton page list -i {}`",
                        new.initiative
                    ),
                ));
            }
            Some(p)
        }
        (None, root) => root,
    };
    let body = new
        .body
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| format!("# {}\n", new.title.trim()));
    let doc = super::docs::check_new(NewDoc {
        kind: DocType::Reference,
        title: new.title,
        body,
        tags: vec!["page".into(), new.initiative.to_string()],
        tasks: Vec::new(),
        author: None,
    })?;
    let doc = super::docs::write(tx, actor, doc, now)?;
    tx.sql().execute(
        "INSERT INTO initiative_pages (doc, initiative, parent, position) VALUES (?1, ?2, ?3, ?4)",
        &[
            doc.id.number().into(),
            new.initiative.number().into(),
            parent.map(|p| p.number()).into(),
            (existing.len() as u64 + 1).into(),
        ],
    )?;
    event(
        tx,
        now,
        actor,
        actions::PAGE_CREATED,
        None,
        json!({ "initiative": new.initiative, "doc": doc.id, "parent": parent,
                "title": doc.title }),
    )?;
    Ok(Page {
        doc: doc.id,
        initiative: new.initiative,
        parent,
        title: doc.title,
        version: u64::from(doc.version),
        position: existing.len() as u64 + 1,
        updated_at: doc.updated_at,
    })
}

// ---------------------------------------------------------------------------------------
// Proposals: what their content holds

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageContent {
    title: Option<String>,
    body: Option<String>,
    #[serde(default)]
    parent: Option<DocId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhaseContent {
    name: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    depends_on: Option<Vec<PhaseId>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TasksContent {
    #[serde(default)]
    phase: Option<PhaseId>,
    tasks: Vec<NewTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanContent {
    phases: Vec<PlannedPhase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlannedPhase {
    key: String,
    name: String,
    #[serde(default)]
    content: Option<String>,
    /// Keys of phases of the same plan, or ids of existing phases.
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    tasks: Vec<NewTask>,
}

/// What a proposal asks for, read from its content and target.
enum Change {
    NewPage(PageContent),
    EditPage(DocId, PageContent),
    NewPhase(PhaseContent),
    EditPhase(PhaseId, PhaseContent),
    NewTasks(TasksContent),
    EditTask(TaskId, TaskPatch),
    Plan(PlanContent),
}

fn bad_content(target: ProposalTarget, e: impl std::fmt::Display) -> Error {
    let shape = match target {
        ProposalTarget::Page => r#"{"title": "...", "body": "markdown", "parent": "D-3"}"#,
        ProposalTarget::Phase => r#"{"name": "...", "content": "markdown", "depends_on": ["P-1"]}"#,
        ProposalTarget::Task => {
            r#"{"phase": "P-2", "tasks": [{"title": "..."}]} or a task patch with target_id"#
        }
        ProposalTarget::Plan => {
            r#"{"phases": [{"key": "api", "name": "...", "depends_on": ["schema"], "tasks": [{"title": "..."}]}]}"#
        }
    };
    Error::invalid_with_hint(
        format!("the proposal's content does not fit a {target} proposal: {e}"),
        format!("a {target} proposal's content looks like {shape}"),
    )
}

fn read_change(
    target: ProposalTarget,
    target_id: Option<&str>,
    content: &serde_json::Value,
) -> Result<Change> {
    fn parse<T: for<'de> Deserialize<'de>>(
        target: ProposalTarget,
        v: &serde_json::Value,
    ) -> Result<T> {
        T::deserialize(v).map_err(|e| bad_content(target, e))
    }
    let id_error = |what: &str, e: String| {
        Error::invalid_with_hint(
            format!("target_id: {e}"),
            format!("a {target} proposal changes a {what} named by its id"),
        )
    };
    Ok(match (target, target_id) {
        (ProposalTarget::Page, None) => {
            let c: PageContent = parse(target, content)?;
            if c.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
                return Err(bad_content(target, "a new page needs a title"));
            }
            Change::NewPage(c)
        }
        (ProposalTarget::Page, Some(id)) => Change::EditPage(
            id.parse()
                .map_err(|e: crate::id::BadDocId| id_error("page", e.to_string()))?,
            parse(target, content)?,
        ),
        (ProposalTarget::Phase, None) => {
            let c: PhaseContent = parse(target, content)?;
            if c.name.as_deref().is_none_or(|t| t.trim().is_empty()) {
                return Err(bad_content(target, "a new phase needs a name"));
            }
            Change::NewPhase(c)
        }
        (ProposalTarget::Phase, Some(id)) => Change::EditPhase(
            id.parse()
                .map_err(|e: crate::id::BadPhaseId| id_error("phase", e.to_string()))?,
            parse(target, content)?,
        ),
        (ProposalTarget::Task, None) => {
            let c: TasksContent = parse(target, content)?;
            if c.tasks.is_empty() {
                return Err(bad_content(target, "it lists no tasks"));
            }
            Change::NewTasks(c)
        }
        (ProposalTarget::Task, Some(id)) => Change::EditTask(
            id.parse()
                .map_err(|e: crate::id::BadTaskId| id_error("task", e.to_string()))?,
            parse(target, content)?,
        ),
        (ProposalTarget::Plan, None) => {
            let c: PlanContent = parse(target, content)?;
            if c.phases.is_empty() {
                return Err(bad_content(target, "it lists no phases"));
            }
            Change::Plan(c)
        }
        (ProposalTarget::Plan, Some(_)) => {
            return Err(Error::invalid(
                "a plan proposal creates phases; it takes no target_id",
            ))
        }
    })
}

// ---------------------------------------------------------------------------------------
// Proposals: stored

const PROPOSAL_COLUMNS: &str = "id, initiative, target, target_id, title, summary, content, \
    status, author, task, decided_by, decided_at, applied, created_at";

fn proposal_from_row(r: &Row<'_>) -> Result<Proposal> {
    let target = r.text(2)?;
    let status = r.text(7)?;
    Ok(Proposal {
        id: ProposalId(r.uint(0)?),
        initiative: InitiativeId(r.uint(1)?),
        target: ProposalTarget::parse(&target)
            .ok_or_else(|| Error::Internal(format!("a proposal has the target {target}")))?,
        target_id: r.opt_text(3)?,
        title: r.text(4)?,
        summary: r.text(5)?,
        content: serde_json::from_str(&r.text(6)?).unwrap_or(serde_json::Value::Null),
        status: ProposalStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("a proposal has the status {status}")))?,
        author: r.text(8)?,
        task: r.opt_uint(9)?.map(TaskId),
        decided_by: r.opt_text(10)?,
        decided_at: r.opt_ts(11)?,
        applied: serde_json::from_str(&r.text(12)?).unwrap_or_default(),
        created_at: r.ts(13)?,
    })
}

pub fn load_proposal(db: &mut dyn Sql, id: ProposalId) -> Result<Proposal> {
    crate::sql::load_by_id(
        db,
        "proposal",
        &format!("SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE id = ?1"),
        id.number(),
        "list proposals with `baton proposal list`",
        proposal_from_row,
        id,
    )
}

pub fn list_proposals(db: &mut dyn Sql, filter: &ProposalFilter) -> Result<Vec<Proposal>> {
    let mut f = Filter::default();
    if let Some(i) = filter.initiative {
        f.and("initiative = ?", i.number());
    }
    if let Some(s) = filter.status {
        f.and("status = ?", s.as_str());
    }
    query_map(
        db,
        "proposal",
        &format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals{} ORDER BY id",
            f.where_clause()
        ),
        &f.params,
        proposal_from_row,
    )
}

pub fn propose(
    tx: &mut dyn StoreTx,
    actor: &str,
    new: NewProposal,
    now: Timestamp,
) -> Result<Proposal> {
    let initiative = plan::load_initiative(tx.sql(), new.initiative)?;
    if initiative.status == InitiativeStatus::Archived {
        return Err(Error::Conflict {
            code: "initiative_closed",
            message: format!("initiative {} is archived", initiative.id),
            hint: Some(format!(
                "reopen it: `baton initiative reopen {}`",
                initiative.id
            )),
        });
    }
    let title = new.title.trim().to_string();
    if title.is_empty() || title.chars().count() > 500 {
        return Err(Error::invalid(
            "a proposal needs a title of at most 500 characters",
        ));
    }
    let content = serde_json::to_string(&new.content).unwrap_or_default();
    if content.len() > MAX_CONTENT {
        return Err(Error::invalid(format!(
            "the proposal's content is larger than {} KiB",
            MAX_CONTENT / 1024
        )));
    }
    let target_id = new
        .target_id
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    // Refused now rather than when someone accepts it.
    read_change(new.target, target_id.as_deref(), &new.content)?;
    if let Some(t) = new.task {
        super::load_live(tx, t)?;
    }
    let rows = tx.sql().query(
        "INSERT INTO proposals (initiative, target, target_id, title, summary, content, status, \
         author, task, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8, ?9) \
         RETURNING id",
        &[
            new.initiative.number().into(),
            new.target.as_str().into(),
            target_id.clone().into(),
            title.as_str().into(),
            new.summary.unwrap_or_default().into(),
            content.into(),
            actor.into(),
            new.task.map(|t| t.number()).into(),
            now.into(),
        ],
    )?;
    let id = ProposalId(Row::new(&rows[0], "proposal").uint(0)?);
    event(
        tx,
        now,
        actor,
        actions::PROPOSAL_CREATED,
        new.task,
        json!({ "proposal": id, "initiative": new.initiative, "target": new.target,
                "target_id": target_id, "title": title }),
    )?;
    load_proposal(tx.sql(), id)
}

pub fn decide(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: ProposalId,
    decision: ProposalDecision,
    now: Timestamp,
) -> Result<Proposal> {
    let proposal = load_proposal(tx.sql(), id)?;
    if proposal.status != ProposalStatus::Pending {
        return Err(Error::Conflict {
            code: "proposal_decided",
            message: format!(
                "proposal {id} was already {} by {}",
                proposal.status,
                proposal.decided_by.as_deref().unwrap_or("someone")
            ),
            hint: Some("an agent can propose the change again".into()),
        });
    }
    let (status, applied, action) = if decision.accept {
        let change = read_change(
            proposal.target,
            proposal.target_id.as_deref(),
            &proposal.content,
        )?;
        let applied = apply(tx, actor, proposal.initiative, change, now)?;
        (
            ProposalStatus::Accepted,
            applied,
            actions::PROPOSAL_ACCEPTED,
        )
    } else {
        (
            ProposalStatus::Dismissed,
            Vec::new(),
            actions::PROPOSAL_DISMISSED,
        )
    };
    tx.sql().execute(
        "UPDATE proposals SET status = ?2, decided_by = ?3, decided_at = ?4, applied = ?5 \
         WHERE id = ?1",
        &[
            id.number().into(),
            status.as_str().into(),
            actor.into(),
            now.into(),
            serde_json::to_string(&applied).unwrap_or_default().into(),
        ],
    )?;
    let mut detail = json!({ "proposal": id, "initiative": proposal.initiative,
                             "applied": applied });
    if let Some(r) = decision.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        detail["reason"] = json!(r);
    }
    event(tx, now, actor, action, proposal.task, detail)?;
    load_proposal(tx.sql(), id)
}

/// Applies an accepted change; returns the ids it created or changed.
fn apply(
    tx: &mut dyn StoreTx,
    actor: &str,
    initiative: InitiativeId,
    change: Change,
    now: Timestamp,
) -> Result<Vec<String>> {
    match change {
        Change::NewPage(c) => {
            let page = add_page(
                tx,
                actor,
                NewPage {
                    initiative,
                    parent: c.parent,
                    title: c.title.unwrap_or_default(),
                    body: c.body,
                },
                now,
            )?;
            Ok(vec![page.doc.to_string()])
        }
        Change::EditPage(doc, c) => {
            if !page_rows(tx.sql(), initiative)?
                .iter()
                .any(|p| p.doc == doc)
            {
                return Err(Error::invalid(format!(
                    "{doc} is not a page of initiative {initiative}"
                )));
            }
            let patch = super::docs::check_patch(crate::api::DocPatch {
                title: c.title,
                body: c.body,
                ..Default::default()
            })?;
            let doc = super::docs::update(tx, actor, doc, patch, now)?;
            Ok(vec![doc.id.to_string()])
        }
        Change::NewPhase(c) => {
            let phase = plan::create_phase(
                tx,
                actor,
                NewPhase {
                    initiative,
                    name: c.name.unwrap_or_default(),
                    content: c.content,
                    depends_on: c.depends_on.unwrap_or_default(),
                },
                now,
            )?;
            Ok(vec![phase.id.to_string()])
        }
        Change::EditPhase(id, c) => {
            let phase = plan::load_phase(tx.sql(), id)?;
            if phase.initiative != initiative {
                return Err(Error::invalid(format!(
                    "{id} is not a phase of initiative {initiative}"
                )));
            }
            let phase = plan::update_phase(
                tx,
                actor,
                id,
                PhasePatch {
                    name: c.name,
                    content: c.content,
                    depends_on: c.depends_on,
                },
                now,
            )?;
            Ok(vec![phase.id.to_string()])
        }
        Change::NewTasks(c) => {
            let tasks = c
                .tasks
                .into_iter()
                .map(|mut t| {
                    if t.phase.is_none() {
                        t.phase = c.phase;
                    }
                    if t.phase.is_none() {
                        t.initiative = Some(initiative);
                    }
                    t
                })
                .collect();
            add_tasks(tx, actor, tasks, now)
        }
        Change::EditTask(id, patch) => {
            let patch = super::validate::patch(patch)?;
            let task = super::edit::update_task(tx, actor, id, patch, now)?;
            plan::task_changed(tx, &task, actor, now)?;
            Ok(vec![task.id.to_string()])
        }
        Change::Plan(c) => apply_plan(tx, actor, initiative, c, now),
    }
}

fn add_tasks(
    tx: &mut dyn StoreTx,
    actor: &str,
    tasks: Vec<NewTask>,
    now: Timestamp,
) -> Result<Vec<String>> {
    let tasks = super::validate::new_tasks(tasks)?;
    let created = super::edit::add_tasks(tx, actor, tasks, now)?;
    Ok(created.iter().map(|t| t.id.to_string()).collect())
}

/// Creates a plan's phases (dependencies by key or id) and their tasks (one batch, so
/// tasks may depend on tasks of other phases of the plan by key).
fn apply_plan(
    tx: &mut dyn StoreTx,
    actor: &str,
    initiative: InitiativeId,
    c: PlanContent,
    now: Timestamp,
) -> Result<Vec<String>> {
    let mut keys: HashMap<String, PhaseId> = HashMap::new();
    let mut created = Vec::new();
    let mut tasks = Vec::new();
    // Phases in an order where each comes after those it depends on.
    let mut pending: Vec<PlannedPhase> = c.phases;
    let mut seen_keys = std::collections::HashSet::new();
    for p in &pending {
        if p.key.trim().is_empty() || !seen_keys.insert(p.key.clone()) {
            return Err(bad_content(
                ProposalTarget::Plan,
                format!("phase keys must be unique and non-empty ('{}')", p.key),
            ));
        }
    }
    while !pending.is_empty() {
        let ready = pending.iter().position(|p| {
            p.depends_on
                .iter()
                .all(|d| keys.contains_key(d) || !seen_keys.contains(d))
        });
        let Some(at) = ready else {
            let names: Vec<&str> = pending.iter().map(|p| p.key.as_str()).collect();
            return Err(Error::Conflict {
                code: "dependency_cycle",
                message: format!(
                    "the plan's phases depend on each other in a cycle: {}",
                    names.join(", ")
                ),
                hint: Some("phases must form a DAG".into()),
            });
        };
        let p = pending.remove(at);
        let mut deps = Vec::new();
        for d in &p.depends_on {
            match keys.get(d) {
                Some(id) => deps.push(*id),
                None => deps.push(d.parse::<PhaseId>().map_err(|_| {
                    bad_content(
                        ProposalTarget::Plan,
                        format!("'{d}' is neither a key of the plan nor a phase id"),
                    )
                })?),
            }
        }
        let phase = plan::create_phase(
            tx,
            actor,
            NewPhase {
                initiative,
                name: p.name,
                content: p.content,
                depends_on: deps,
            },
            now,
        )?;
        keys.insert(p.key, phase.id);
        created.push(phase.id.to_string());
        for mut t in p.tasks {
            t.phase = Some(phase.id);
            tasks.push(t);
        }
    }
    if !tasks.is_empty() {
        created.extend(add_tasks(tx, actor, tasks, now)?);
    }
    Ok(created)
}
