//! `baton initiative`, `baton phase` and `baton review`: the plan above tasks, its review
//! gates and review comments. The rules are core's; these parse, call and render.

use std::io::Write;

use baton_core::api::{
    CommentFilter, InitiativeFilter, InitiativeMove, InitiativePatch, NewComment, NewInitiative,
    NewPhase, PhaseAction, PhaseMoveRequest, PhasePatch, TaskFilter,
};
use baton_core::model::{Initiative, InitiativeStatus, LineSide, Phase, ReviewComment};
use baton_core::{CommentId, InitiativeId, PhaseId, TaskId};
use clap::{Args, Subcommand};

use super::Context;
use crate::error::CliResult;
use crate::output::{cut, Table};

#[derive(Subcommand, Debug)]
pub enum InitiativeCommand {
    /// Create an initiative (a feature). Its branch is derived from the name
    /// (`baton/user-auth`). Phases wait for approval and get reviewed unless --no-approval.
    Add(InitiativeAddArgs),
    /// Initiatives with their status and phase progress.
    List {
        /// Only initiatives in this status (active, pending_review, completed, archived).
        #[arg(long)]
        status: Option<InitiativeStatus>,
    },
    /// One initiative and its phases, in order, with their gates.
    Show {
        /// The initiative (I-1).
        id: InitiativeId,
    },
    /// Change an initiative's name, description, approval rule or repositories.
    Update(InitiativeUpdateArgs),
    /// Accept an initiative whose phases are all completed (pending_review -> completed).
    Approve {
        /// The initiative (I-1), pending review.
        id: InitiativeId,
    },
    /// Shelve an initiative: its tasks are no longer handed out.
    Archive {
        /// The initiative (I-1).
        id: InitiativeId,
    },
    /// Bring an archived or completed initiative back to active.
    Reopen {
        /// The initiative (I-1), archived or completed.
        id: InitiativeId,
    },
}

#[derive(Args, Debug)]
pub struct InitiativeAddArgs {
    /// Its name ("User authentication").
    pub name: String,
    /// What it is for and what done means (markdown).
    #[arg(long, short)]
    pub description: Option<String>,
    /// Phases start and complete on their own, with no approval or review.
    #[arg(long)]
    pub no_approval: bool,
    /// The integration branch (default: `baton/` and the name as a slug).
    #[arg(long)]
    pub branch: Option<String>,
    /// Repositories it touches (paths or URLs), comma-separated or repeated.
    #[arg(long = "repo", value_delimiter = ',')]
    pub repositories: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InitiativeUpdateArgs {
    /// The initiative (I-1).
    pub id: InitiativeId,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// A new description ("" clears it).
    #[arg(long, short)]
    pub description: Option<String>,
    /// Whether phases need approval and review: on or off.
    #[arg(long, value_parser = on_off)]
    pub approval: Option<bool>,
    /// Replace the repositories, comma-separated or repeated.
    #[arg(long = "repo", value_delimiter = ',')]
    pub repositories: Option<Vec<String>>,
}

fn on_off(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("'{s}' is not on or off")),
    }
}

#[derive(Subcommand, Debug)]
pub enum PhaseCommand {
    /// Add a phase to an initiative. Its tasks are handed out once it is approved (unless
    /// the initiative needs no approval) and every phase it depends on is completed.
    Add(PhaseAddArgs),
    /// Phases (of one initiative, in order) with their gates and progress.
    List {
        /// Only this initiative's phases (I-1); all initiatives when left out.
        #[arg(long, short)]
        initiative: Option<InitiativeId>,
    },
    /// One phase: its content, gate, tasks and open review comments.
    Show {
        /// The phase (P-2).
        id: PhaseId,
    },
    /// Change a phase's name, content or dependencies (a cycle is refused, named).
    Update(PhaseUpdateArgs),
    /// Approve a phase's plan (pending -> approved) or its finished work (pending_review ->
    /// completed; its tasks in review are approved with it, and the phases after it open).
    Approve {
        /// The phase (P-2), pending or pending review.
        id: PhaseId,
    },
    /// Send a phase's finished work back: a revision task holding the reason and every open
    /// review comment is added to it.
    RequestChanges(RequestChangesArgs),
    /// Stop a phase's tasks from being handed out, with a reason.
    Block {
        /// The phase (P-2).
        id: PhaseId,
        /// Why, for whoever unblocks it (`baton phase show` prints it).
        #[arg(long, short)]
        reason: String,
    },
    /// Let a blocked phase go on (approved again if it was approved before).
    Unblock {
        /// The phase (P-2), blocked.
        id: PhaseId,
    },
}

#[derive(Args, Debug)]
pub struct PhaseAddArgs {
    /// The initiative (I-1).
    #[arg(long, short)]
    pub initiative: InitiativeId,
    /// Its name ("Schema and migrations").
    pub name: String,
    /// Markdown content: what the phase does.
    #[arg(long, short)]
    pub content: Option<String>,
    /// Read the content from a file (`-` for standard input).
    #[arg(long, conflicts_with = "content")]
    pub content_file: Option<std::path::PathBuf>,
    /// Phases that must be completed first, comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub depends_on: Vec<PhaseId>,
}

#[derive(Args, Debug)]
pub struct PhaseUpdateArgs {
    /// The phase (P-2).
    pub id: PhaseId,
    /// A new name.
    #[arg(long)]
    pub name: Option<String>,
    /// New markdown content ("" clears it).
    #[arg(long, short)]
    pub content: Option<String>,
    /// Read the new content from a file (`-` for standard input).
    #[arg(long, conflicts_with = "content")]
    pub content_file: Option<std::path::PathBuf>,
    /// Replace the dependencies ("" for none), comma-separated or repeated.
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    pub depends_on: Option<Vec<String>>,
}

#[derive(Args, Debug)]
pub struct RequestChangesArgs {
    /// The phase (P-2), pending review.
    pub id: PhaseId,
    /// What to change, overall.
    #[arg(long, short)]
    pub reason: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ReviewCommand {
    /// Comment on a phase or a task, optionally on a line of a file, or answer a comment.
    Comment(CommentArgs),
    /// Review comments of a phase or a task, threads with their replies.
    List {
        /// The phase's comments (P-2), its tasks' included.
        #[arg(long, short)]
        phase: Option<PhaseId>,
        /// The task's comments (T-3).
        #[arg(long, short)]
        task: Option<TaskId>,
        /// Only unresolved threads.
        #[arg(long)]
        open: bool,
    },
    /// Mark a thread resolved.
    Resolve {
        /// The thread's first comment (C-3).
        id: CommentId,
    },
    /// Mark a resolved thread open again.
    Reopen {
        /// The thread's first comment (C-3).
        id: CommentId,
    },
}

#[derive(Args, Debug)]
pub struct CommentArgs {
    /// The comment's text.
    pub body: String,
    /// Comment on this phase (P-2).
    #[arg(long, short)]
    pub phase: Option<PhaseId>,
    /// Comment on this task (T-3).
    #[arg(long, short)]
    pub task: Option<TaskId>,
    /// Answer this comment (C-3); its phase and task are taken from it.
    #[arg(long)]
    pub reply_to: Option<CommentId>,
    /// The file the comment is about, relative to the repository root.
    #[arg(long, short)]
    pub file: Option<String>,
    /// The line of --file (from 1).
    #[arg(long, short)]
    pub line: Option<u64>,
    /// Which side of the diff the line is on: added, removed or context.
    #[arg(long)]
    pub side: Option<LineSide>,
}

fn read_content(
    text: Option<String>,
    file: Option<std::path::PathBuf>,
) -> CliResult<Option<String>> {
    match file {
        None => Ok(text),
        Some(path) => Ok(Some(super::docs::read_body_file(&path)?)),
    }
}

fn initiative_line(w: &mut dyn Write, i: &Initiative) -> std::io::Result<()> {
    writeln!(
        w,
        "{} {} [{}] branch {} — phases {}/{} completed{}",
        i.id,
        i.name,
        i.status,
        i.branch,
        i.progress.completed,
        i.progress.total,
        if i.merge_requires_approval {
            ""
        } else {
            ", no approval"
        }
    )
}

fn phase_table(w: &mut dyn Write, phases: &[Phase]) -> std::io::Result<()> {
    let mut table = Table::new(&[
        "PHASE", "INIT", "NAME", "STATUS", "GATE", "DEPENDS", "TASKS", "COMMENTS",
    ]);
    for p in phases {
        let deps: Vec<String> = p.depends_on.iter().map(|d| d.to_string()).collect();
        table.row(vec![
            p.id.to_string(),
            p.initiative.to_string(),
            cut(&p.name, 32),
            p.status.to_string(),
            if p.open { "open" } else { "closed" }.into(),
            if deps.is_empty() {
                "-".into()
            } else {
                deps.join(",")
            },
            format!("{}/{}", p.tasks.finished, p.tasks.total),
            p.open_comments.to_string(),
        ]);
    }
    table.write(w)
}

pub fn initiative(ctx: &Context, command: InitiativeCommand) -> CliResult {
    let api = ctx.api()?;
    let plan = api.plan();
    match command {
        InitiativeCommand::Add(a) => {
            let created = plan.create_initiative(
                &ctx.actor(),
                NewInitiative {
                    name: a.name,
                    description: a.description,
                    merge_requires_approval: Some(!a.no_approval),
                    branch: a.branch,
                    repositories: a.repositories,
                },
            )?;
            ctx.out.emit(&created, |w| initiative_line(w, &created))
        }
        InitiativeCommand::List { status } => {
            let list = plan.list_initiatives(&InitiativeFilter { status })?;
            ctx.out.emit(&list, |w| {
                if list.is_empty() {
                    return writeln!(
                        w,
                        "no initiatives yet; add one with `baton initiative add NAME`"
                    );
                }
                let mut table = Table::new(&["ID", "NAME", "STATUS", "PHASES", "BRANCH"]);
                for i in &list {
                    table.row(vec![
                        i.id.to_string(),
                        cut(&i.name, 40),
                        i.status.to_string(),
                        format!("{}/{}", i.progress.completed, i.progress.total),
                        i.branch.clone(),
                    ]);
                }
                table.write(w)
            })
        }
        InitiativeCommand::Show { id } => {
            let initiative = plan.get_initiative(id)?;
            let phases = plan.list_phases(Some(id))?;
            let value = serde_json::json!({ "initiative": initiative, "phases": phases });
            ctx.out.emit(&value, |w| {
                initiative_line(w, &initiative)?;
                if !initiative.description.is_empty() {
                    writeln!(w, "\n{}\n", initiative.description)?;
                }
                if !initiative.repositories.is_empty() {
                    writeln!(w, "repositories: {}", initiative.repositories.join(", "))?;
                }
                if phases.is_empty() {
                    return writeln!(
                        w,
                        "no phases yet; add one with `baton phase add -i {id} NAME`"
                    );
                }
                phase_table(w, &phases)
            })
        }
        InitiativeCommand::Update(a) => {
            let updated = plan.update_initiative(
                &ctx.actor(),
                a.id,
                InitiativePatch {
                    name: a.name,
                    description: a.description,
                    merge_requires_approval: a.approval,
                    repositories: a.repositories,
                },
            )?;
            ctx.out.emit(&updated, |w| initiative_line(w, &updated))
        }
        InitiativeCommand::Approve { id } => moved(ctx, plan, id, InitiativeMove::Approve),
        InitiativeCommand::Archive { id } => moved(ctx, plan, id, InitiativeMove::Archive),
        InitiativeCommand::Reopen { id } => moved(ctx, plan, id, InitiativeMove::Reopen),
    }
}

fn moved(
    ctx: &Context,
    plan: &dyn baton_core::api::Plan,
    id: InitiativeId,
    to: InitiativeMove,
) -> CliResult {
    let i = plan.move_initiative(&ctx.actor(), id, to)?;
    ctx.out.emit(&i, |w| initiative_line(w, &i))
}

fn phase_move(
    ctx: &Context,
    plan: &dyn baton_core::api::Plan,
    id: PhaseId,
    action: PhaseAction,
    reason: Option<String>,
) -> CliResult {
    let out = plan.move_phase(
        &ctx.actor(),
        id,
        PhaseMoveRequest {
            action,
            reason,
            comments: Vec::new(),
        },
    )?;
    ctx.out.emit(&out, |w| {
        writeln!(
            w,
            "{} {} is {} (gate {})",
            out.phase.id,
            out.phase.name,
            out.phase.status,
            if out.phase.open { "open" } else { "closed" }
        )?;
        if !out.approved.is_empty() {
            writeln!(
                w,
                "approved with it: {}",
                crate::output::id_list(&out.approved)
            )?;
        }
        if let Some(t) = &out.revision {
            writeln!(w, "revision task {}: {}", t.id, t.title)?;
        }
        for p in &out.opened {
            writeln!(w, "{p} is open: its tasks are handed out now")?;
        }
        Ok(())
    })
}

pub fn phase(ctx: &Context, command: PhaseCommand) -> CliResult {
    let api = ctx.api()?;
    let plan = api.plan();
    match command {
        PhaseCommand::Add(a) => {
            let content = read_content(a.content, a.content_file)?;
            let created = plan.create_phase(
                &ctx.actor(),
                NewPhase {
                    initiative: a.initiative,
                    name: a.name,
                    content,
                    depends_on: a.depends_on,
                },
            )?;
            ctx.out
                .emit(&created, |w| phase_table(w, std::slice::from_ref(&created)))
        }
        PhaseCommand::List { initiative } => {
            let phases = plan.list_phases(initiative)?;
            ctx.out.emit(&phases, |w| {
                if phases.is_empty() {
                    return writeln!(w, "no phases");
                }
                phase_table(w, &phases)
            })
        }
        PhaseCommand::Show { id } => {
            let phase = plan.get_phase(id)?;
            let tasks = api.list_tasks(&TaskFilter {
                phase: Some(id),
                ..TaskFilter::default()
            })?;
            let comments = plan.list_comments(&CommentFilter {
                phase: Some(id),
                open: true,
                ..CommentFilter::default()
            })?;
            let value =
                serde_json::json!({ "phase": phase, "tasks": tasks, "open_comments": comments });
            ctx.out.emit(&value, |w| {
                phase_table(w, std::slice::from_ref(&phase))?;
                if let Some(r) = &phase.blocked_reason {
                    writeln!(w, "blocked: {r}")?;
                }
                if !phase.content.is_empty() {
                    writeln!(w, "\n{}\n", phase.content)?;
                }
                let mut table = Table::new(&["TASK", "STATUS", "CATEGORY", "TITLE", "SUMMARY"]);
                for t in &tasks {
                    table.row(vec![
                        t.id.to_string(),
                        t.status.to_string(),
                        t.category.to_string(),
                        cut(&t.title, 40),
                        cut(t.summary.as_deref().unwrap_or("-"), 50),
                    ]);
                }
                table.write(w)?;
                comment_lines(w, &comments)
            })
        }
        PhaseCommand::Update(a) => {
            let content = read_content(a.content, a.content_file)?;
            let depends_on = a
                .depends_on
                .map(|list| {
                    list.iter()
                        .map(|s| s.trim())
                        .filter(|s| !s.is_empty())
                        .map(|s| s.parse::<PhaseId>())
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
                .map_err(|e| baton_core::Error::invalid(e.to_string()))?;
            let updated = plan.update_phase(
                &ctx.actor(),
                a.id,
                PhasePatch {
                    name: a.name,
                    content,
                    depends_on,
                },
            )?;
            ctx.out
                .emit(&updated, |w| phase_table(w, std::slice::from_ref(&updated)))
        }
        PhaseCommand::Approve { id } => phase_move(ctx, plan, id, PhaseAction::Approve, None),
        PhaseCommand::RequestChanges(a) => {
            phase_move(ctx, plan, a.id, PhaseAction::RequestChanges, a.reason)
        }
        PhaseCommand::Block { id, reason } => {
            phase_move(ctx, plan, id, PhaseAction::Block, Some(reason))
        }
        PhaseCommand::Unblock { id } => phase_move(ctx, plan, id, PhaseAction::Unblock, None),
    }
}

fn comment_lines(w: &mut dyn Write, comments: &[ReviewComment]) -> std::io::Result<()> {
    for c in comments {
        let place = match (&c.file, c.line) {
            (Some(f), Some(l)) => format!(
                " {f}:{l}{}",
                c.side.map(|s| format!(" ({s})")).unwrap_or_default()
            ),
            (Some(f), None) => format!(" {f}"),
            _ => String::new(),
        };
        let indent = if c.reply_to.is_some() { "    " } else { "" };
        let state = if c.reply_to.is_none() && c.resolved {
            " [resolved]"
        } else {
            ""
        };
        writeln!(w, "{indent}{}{place} {}{state}: {}", c.id, c.author, c.body)?;
    }
    Ok(())
}

pub fn review(ctx: &Context, command: ReviewCommand) -> CliResult {
    let api = ctx.api()?;
    let plan = api.plan();
    match command {
        ReviewCommand::Comment(a) => {
            let c = plan.add_comment(
                &ctx.actor(),
                NewComment {
                    phase: a.phase,
                    task: a.task,
                    reply_to: a.reply_to,
                    file: a.file,
                    line: a.line,
                    side: a.side,
                    body: a.body,
                },
            )?;
            ctx.out
                .emit(&c, |w| comment_lines(w, std::slice::from_ref(&c)))
        }
        ReviewCommand::List { phase, task, open } => {
            let list = plan.list_comments(&CommentFilter { phase, task, open })?;
            ctx.out.emit(&list, |w| {
                if list.is_empty() {
                    return writeln!(w, "no review comments");
                }
                comment_lines(w, &list)
            })
        }
        ReviewCommand::Resolve { id } => {
            let c = plan.resolve_comment(&ctx.actor(), id, true)?;
            ctx.out
                .emit(&c, |w| comment_lines(w, std::slice::from_ref(&c)))
        }
        ReviewCommand::Reopen { id } => {
            let c = plan.resolve_comment(&ctx.actor(), id, false)?;
            ctx.out
                .emit(&c, |w| comment_lines(w, std::slice::from_ref(&c)))
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum PageCommand {
    /// Add a page to an initiative (the first is its root; others go below the root unless
    /// --parent). A page is a doc: read it with `baton docs read`, change it with
    /// `baton docs update`, find it with `baton docs search`.
    Add(PageAddArgs),
    /// An initiative's pages as a tree.
    List {
        /// The initiative (I-1).
        #[arg(long, short)]
        initiative: InitiativeId,
    },
}

#[derive(Args, Debug)]
pub struct PageAddArgs {
    /// The initiative the page belongs to (I-1).
    #[arg(long, short)]
    pub initiative: InitiativeId,
    /// The page's title.
    pub title: String,
    /// The page above it (D-3).
    #[arg(long)]
    pub parent: Option<baton_core::DocId>,
    /// Markdown text.
    #[arg(long, short)]
    pub body: Option<String>,
    /// Read the text from a file (`-` for standard input).
    #[arg(long, conflicts_with = "body")]
    pub body_file: Option<std::path::PathBuf>,
}

pub fn page(ctx: &Context, command: PageCommand) -> CliResult {
    let api = ctx.api()?;
    let plan = api.plan();
    match command {
        PageCommand::Add(a) => {
            let body = read_content(a.body, a.body_file)?;
            let page = plan.add_page(
                &ctx.actor(),
                baton_core::api::NewPage {
                    initiative: a.initiative,
                    parent: a.parent,
                    title: a.title,
                    body,
                },
            )?;
            ctx.out.emit(&page, |w| {
                writeln!(
                    w,
                    "{} {} (page of {})",
                    page.doc, page.title, page.initiative
                )
            })
        }
        PageCommand::List { initiative } => {
            let pages = plan.list_pages(initiative)?;
            ctx.out.emit(&pages, |w| {
                if pages.is_empty() {
                    return writeln!(
                        w,
                        "no pages; add one with `baton page add -i {initiative} TITLE`"
                    );
                }
                let mut depth: std::collections::HashMap<baton_core::DocId, usize> =
                    std::collections::HashMap::new();
                for p in &pages {
                    let d = p
                        .parent
                        .and_then(|q| depth.get(&q).copied())
                        .map_or(0, |d| d + 1);
                    depth.insert(p.doc, d);
                    writeln!(
                        w,
                        "{}{}  {} (v{})",
                        "  ".repeat(d),
                        p.doc,
                        p.title,
                        p.version
                    )?;
                }
                Ok(())
            })
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ProposalCommand {
    /// Propose a change to the plan, for a person to accept or dismiss. --content takes JSON
    /// by target: page {"title","body","parent"?}; phase {"name","content"?,"depends_on"?};
    /// task {"phase"?,"tasks":[...]} (or a task patch with --target-id T-n); plan
    /// {"phases":[{"key","name","content"?,"depends_on"?:[key|P-n],"tasks"?:[...]}]}.
    Add(ProposalAddArgs),
    /// Proposals, oldest first.
    List {
        /// Only this initiative's proposals (I-1).
        #[arg(long, short)]
        initiative: Option<InitiativeId>,
        /// pending, accepted or dismissed.
        #[arg(long, short)]
        status: Option<baton_core::model::ProposalStatus>,
    },
    /// One proposal with its content.
    Show {
        /// The proposal (PR-4).
        id: baton_core::ProposalId,
    },
    /// Accept a proposal: applied all or nothing, every created row an event.
    Accept {
        /// The proposal (PR-4), pending.
        id: baton_core::ProposalId,
        /// A note, kept with the decision.
        #[arg(long, short)]
        reason: Option<String>,
    },
    /// Dismiss a proposal; nothing changes.
    Dismiss {
        /// The proposal (PR-4), pending.
        id: baton_core::ProposalId,
        /// Why, kept with the decision.
        #[arg(long, short)]
        reason: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct ProposalAddArgs {
    /// The initiative it changes (I-1).
    #[arg(long, short)]
    pub initiative: InitiativeId,
    /// page, phase, task or plan.
    #[arg(long)]
    pub target: baton_core::model::ProposalTarget,
    /// The page (D-n), phase (P-n) or task (T-n) it changes; none to create.
    #[arg(long)]
    pub target_id: Option<String>,
    /// A one-line title for the person deciding.
    pub title: String,
    /// Why, in a few sentences (shown with the proposal).
    #[arg(long, short)]
    pub summary: Option<String>,
    /// The change as JSON (see `baton proposal add --help` for its shape by target).
    #[arg(long, short)]
    pub content: Option<String>,
    /// Read the JSON from a file (`-` for standard input).
    #[arg(long, conflicts_with = "content")]
    pub content_file: Option<std::path::PathBuf>,
    /// The plan, detail or refine task it comes from.
    #[arg(long)]
    pub task: Option<TaskId>,
}

fn proposal_line(w: &mut dyn Write, p: &baton_core::model::Proposal) -> std::io::Result<()> {
    writeln!(
        w,
        "{} [{}] {} {}: {} (by {})",
        p.id,
        p.status,
        p.target,
        p.target_id.as_deref().unwrap_or("(new)"),
        p.title,
        p.author
    )?;
    if !p.applied.is_empty() {
        writeln!(w, "  applied: {}", p.applied.join(", "))?;
    }
    Ok(())
}

pub fn proposal(ctx: &Context, command: ProposalCommand) -> CliResult {
    let api = ctx.api()?;
    let plan = api.plan();
    let decide = |id, accept, reason| -> CliResult {
        let p = plan.decide_proposal(
            &ctx.actor(),
            id,
            baton_core::api::ProposalDecision { accept, reason },
        )?;
        ctx.out.emit(&p, |w| proposal_line(w, &p))
    };
    match command {
        ProposalCommand::Add(a) => {
            let text = read_content(a.content, a.content_file)?.ok_or_else(|| {
                crate::error::CliError::invalid("a proposal needs its change")
                    .with_hint("pass --content JSON or --content-file FILE")
            })?;
            let content: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                crate::error::CliError::invalid(format!("--content is not JSON: {e}"))
                    .with_hint("see `baton proposal add --help` for the shape by target")
            })?;
            let p = plan.propose(
                &ctx.actor(),
                baton_core::api::NewProposal {
                    initiative: a.initiative,
                    target: a.target,
                    target_id: a.target_id,
                    title: a.title,
                    summary: a.summary,
                    content,
                    task: a.task,
                },
            )?;
            ctx.out.emit(&p, |w| proposal_line(w, &p))
        }
        ProposalCommand::List { initiative, status } => {
            let list =
                plan.list_proposals(&baton_core::api::ProposalFilter { initiative, status })?;
            ctx.out.emit(&list, |w| {
                if list.is_empty() {
                    return writeln!(w, "no proposals");
                }
                list.iter().try_for_each(|p| proposal_line(w, p))
            })
        }
        ProposalCommand::Show { id } => {
            let p = plan.get_proposal(id)?;
            ctx.out.emit(&p, |w| {
                proposal_line(w, &p)?;
                if !p.summary.is_empty() {
                    writeln!(w, "\n{}\n", p.summary)?;
                }
                writeln!(
                    w,
                    "{}",
                    serde_json::to_string_pretty(&p.content).unwrap_or_default()
                )
            })
        }
        ProposalCommand::Accept { id, reason } => decide(id, true, reason),
        ProposalCommand::Dismiss { id, reason } => decide(id, false, reason),
    }
}
