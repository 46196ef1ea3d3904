//! `baton task ...`: the board's tasks.

use std::io::{Read, Write};
use std::path::PathBuf;

use baton_core::api::{
    BlockRequest, DeleteRequest, DoneRequest, NewTask, NoteRequest, PickupRequest, RejectRequest,
    TaskFilter, TaskPatch,
};
use baton_core::model::{Category, Pickup, Priority, Status, Task};
use baton_core::{InitiativeId, PhaseId, TaskId};
use clap::{Args, Subcommand};

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, id_list, or_dash, Table};

/// Batch files larger than this are refused before parsing.
const MAX_BATCH_FILE_BYTES: u64 = 64 * 1024 * 1024;
const DEFAULT_LIST_LIMIT: u64 = 100;

#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Add a task, or a batch of tasks from a JSON file (all or nothing).
    #[command(after_help = BATCH_HELP)]
    Add(AddArgs),
    /// List tasks (newest last). `--limit 0` lists all.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Show one task with its notes.
    Show {
        /// The task (T-3).
        id: TaskId,
    },
    /// Change a task's fields or status (moves follow the lifecycle).
    Update(UpdateArgs),
    /// Claim the best ready task (or --id): it moves to in-progress with a lease.
    Pickup(PickupArgs),
    /// Hand in a task you hold: in-progress -> review. Dependents may start.
    Done(DoneArgs),
    /// Accept reviewed work: review -> done.
    Approve {
        /// The task in review (T-3).
        id: TaskId,
        /// A note for the record: what was checked, what to watch.
        #[arg(long)]
        notes: Option<String>,
    },
    /// Send reviewed work back with feedback: to its holder (default) or to the queue.
    Reject(RejectArgs),
    /// Park a task with a reason; its holder releases it.
    Block(BlockArgs),
    /// Return a blocked task to open (or backlog while dependencies are unmet).
    Unblock {
        /// The task (T-3), blocked.
        id: TaskId,
    },
    /// Tasks you hold or handed in for review.
    Mine,
    /// Append a note (author and time are recorded).
    Note(NoteArgs),
    /// Delete a task (soft: it stays in the record and in `--deleted` listings).
    #[command(alias = "rm")]
    Delete(DeleteArgs),
}

const BATCH_HELP: &str = "\
Batch file: a JSON array of tasks (or {\"tasks\": [...]}). Each task takes the fields
title, description, priority (P0-P2), status (open|backlog), epic, capabilities,
depends_on, verify, acceptance_criteria, context_refs, files, and an optional key.
depends_on lists existing ids (\"T-3\") or keys of tasks in the same file:
  [{\"key\": \"api\", \"title\": \"Auth API\", \"priority\": \"P0\"},
   {\"title\": \"Login UI\", \"depends_on\": [\"api\"]}]";

/// Comma-separated lists may also be given by repeating the flag.
pub fn list_arg(values: Vec<String>) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The title (or use --title).
    #[arg(conflicts_with = "title")]
    pub title_arg: Option<String>,
    /// The title: what is to be done, in a line.
    #[arg(long, short)]
    pub title: Option<String>,
    /// The details an agent needs: context, constraints, where to look.
    #[arg(long, short)]
    pub description: Option<String>,
    /// P0 (most urgent), P1 (default) or P2.
    #[arg(long, short)]
    pub priority: Option<Priority>,
    /// Start parked in backlog instead of open.
    #[arg(long, value_parser = ["open", "backlog"])]
    pub status: Option<String>,
    /// A free-form group name (auth, billing) to filter and sort by.
    #[arg(long, short)]
    pub epic: Option<String>,
    /// Capabilities (tags) an agent needs, comma-separated.
    #[arg(long = "capabilities", alias = "capability", value_name = "CAP,...")]
    pub capabilities: Vec<String>,
    /// Task ids this one waits for, comma-separated.
    #[arg(long = "depends-on", value_name = "T-n,...")]
    pub depends_on: Vec<String>,
    /// A shell command that checks the work.
    #[arg(long)]
    pub verify: Option<String>,
    /// An acceptance criterion (repeat for several).
    #[arg(long = "acceptance", value_name = "TEXT")]
    pub acceptance: Vec<String>,
    /// Ids of knowledge-base docs to read first, comma-separated.
    #[arg(long = "context-refs", value_name = "DOC,...")]
    pub context_refs: Vec<String>,
    /// The file surface (gitignore-style globs), comma-separated.
    #[arg(long, value_name = "GLOB,...")]
    pub files: Vec<String>,
    /// Add every task in this JSON file instead ("-" reads stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["title_arg", "title"])]
    pub batch: Option<PathBuf>,
    /// Check the task or batch (fields, keys, dependencies, cycles, phases, docs) and show
    /// what would be added, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The phase it belongs to (P-2): handed out only when the phase's gate is open.
    #[arg(long)]
    pub phase: Option<PhaseId>,
    /// The initiative it belongs to, for a task outside any phase (I-1).
    #[arg(long)]
    pub initiative: Option<InitiativeId>,
    /// The task it was split from (T-4).
    #[arg(long)]
    pub parent: Option<TaskId>,
    /// execute (default), research, discuss, plan, detail, refine, verify, merge, review.
    #[arg(long)]
    pub category: Option<Category>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only these statuses (comma-separated).
    #[arg(long, short, value_delimiter = ',')]
    pub status: Vec<Status>,
    /// Only tasks this agent holds.
    #[arg(long, short)]
    pub assignee: Option<String>,
    /// Only tasks of this epic.
    #[arg(long, short)]
    pub epic: Option<String>,
    /// Only tasks of this priority (P0, P1, P2).
    #[arg(long, short)]
    pub priority: Option<Priority>,
    /// Case-insensitive text in title or description.
    #[arg(long, short)]
    pub text: Option<String>,
    /// At most this many tasks; 0 = all.
    #[arg(long, short, default_value_t = DEFAULT_LIST_LIMIT)]
    pub limit: u64,
    /// Include deleted tasks.
    #[arg(long)]
    pub deleted: bool,
    /// Only tasks of this phase.
    #[arg(long)]
    pub phase: Option<PhaseId>,
    /// Only tasks of this initiative.
    #[arg(long)]
    pub initiative: Option<InitiativeId>,
    /// Only tasks split from this one.
    #[arg(long)]
    pub parent: Option<TaskId>,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// The task (T-3).
    pub id: TaskId,
    /// A new title.
    #[arg(long, short)]
    pub title: Option<String>,
    /// A new description ("" clears it).
    #[arg(long, short)]
    pub description: Option<String>,
    /// P0 (most urgent), P1 or P2.
    #[arg(long, short)]
    pub priority: Option<Priority>,
    /// Move to this status (backlog, open, review, done; claims go through pickup).
    #[arg(long, short)]
    pub status: Option<Status>,
    /// Epic ("" clears it).
    #[arg(long, short)]
    pub epic: Option<String>,
    /// Replace capabilities ("" clears them).
    #[arg(long = "capabilities", alias = "capability")]
    pub capabilities: Option<Vec<String>>,
    /// Replace dependencies ("" clears them).
    #[arg(long = "depends-on")]
    pub depends_on: Option<Vec<String>>,
    /// Verify command ("" clears it).
    #[arg(long)]
    pub verify: Option<String>,
    /// Replace acceptance criteria (repeat the flag; "" clears them).
    #[arg(long = "acceptance")]
    pub acceptance: Option<Vec<String>>,
    /// Replace the docs to read first (D-1,D-4; "" clears them).
    #[arg(long = "context-refs")]
    pub context_refs: Option<Vec<String>>,
    /// Replace the file surface ("" clears it).
    #[arg(long)]
    pub files: Option<Vec<String>>,
    /// execute, research, discuss, plan, detail, refine, verify, merge or review.
    #[arg(long)]
    pub category: Option<Category>,
    /// Replace the result summary ("" clears it).
    #[arg(long)]
    pub summary: Option<String>,
}

#[derive(Args, Debug)]
pub struct PickupArgs {
    /// Claim this task instead of the best ready one.
    #[arg(long)]
    pub id: Option<TaskId>,
    /// Only tasks that list this capability.
    #[arg(long)]
    pub capability: Option<String>,
    /// Also list better-ranked tasks that were passed over (their files are reserved).
    #[arg(long)]
    pub explain: bool,
    /// Only tasks of this category (research, plan, execute, ...).
    #[arg(long)]
    pub category: Option<Category>,
    /// Only tasks of this initiative.
    #[arg(long)]
    pub initiative: Option<InitiativeId>,
}

#[derive(Args, Debug)]
pub struct DoneArgs {
    /// The task you hold (T-3).
    pub id: TaskId,
    /// What was done, for the reviewer and for dependents.
    #[arg(long, short)]
    pub notes: Option<String>,
    /// What you did, for the agents of the tasks that depend on this one (they get it with
    /// their pickup).
    #[arg(long, short)]
    pub summary: Option<String>,
    /// The fence of your claim (from pickup); a stale one is refused.
    #[arg(long)]
    pub fence: Option<u64>,
}

#[derive(Args, Debug)]
pub struct RejectArgs {
    /// The task in review (T-3).
    pub id: TaskId,
    /// What must change.
    #[arg(long, short)]
    pub feedback: String,
    /// Where the task goes: in-progress (back to its holder) or open (back to the queue).
    #[arg(long, value_parser = ["open", "in-progress"])]
    pub to: Option<String>,
}

#[derive(Args, Debug)]
pub struct BlockArgs {
    /// The task (T-3).
    pub id: TaskId,
    /// What it waits for, for whoever can unblock it.
    #[arg(long, short)]
    pub reason: String,
    /// The fence of your claim (from pickup); a stale one is refused.
    #[arg(long)]
    pub fence: Option<u64>,
}

#[derive(Args, Debug)]
pub struct NoteArgs {
    /// The task (T-3).
    pub id: TaskId,
    /// The note: progress, a finding, a decision.
    pub text: String,
    /// The fence of your claim (from pickup); a stale one is refused.
    #[arg(long)]
    pub fence: Option<u64>,
}

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// The task (T-3).
    pub id: TaskId,
    /// Why, for the record (and the agent that held it).
    #[arg(long, short)]
    pub reason: Option<String>,
    /// Delete even while an agent holds it.
    #[arg(long)]
    pub force: bool,
}

pub fn run(ctx: &Context, command: TaskCommand) -> CliResult {
    let api = ctx.api()?;
    match command {
        TaskCommand::Add(args) => {
            let batch = args.batch.is_some();
            if args.dry_run {
                let tasks = api.check_tasks(&ctx.actor(), new_tasks(args)?)?;
                let answer = serde_json::json!({"valid": true, "written": false, "tasks": tasks});
                return ctx.out.emit(&answer, |w| {
                    writeln!(
                        w,
                        "The batch is valid: {} task(s) would be added. Nothing was written.",
                        tasks.len()
                    )?;
                    task_table(w, &tasks)
                });
            }
            let tasks = api.add_tasks(&ctx.actor(), new_tasks(args)?)?;
            if batch {
                ctx.out.emit(&tasks, |w| {
                    writeln!(w, "Added {} tasks.", tasks.len())?;
                    task_table(w, &tasks)
                })
            } else {
                show(ctx, &tasks[0], "Added")
            }
        }
        TaskCommand::List(args) => {
            let filter = TaskFilter {
                initiative: args.initiative,
                parent: args.parent,
                phase: args.phase,
                status: args.status,
                assignee: args.assignee,
                epic: args.epic,
                priority: args.priority,
                text: args.text,
                include_deleted: args.deleted,
                limit: Some(args.limit),
            };
            let tasks = api.list_tasks(&filter)?;
            ctx.out.emit(&tasks, |w| {
                task_table(w, &tasks)?;
                if args.limit > 0 && tasks.len() as u64 == args.limit {
                    writeln!(w, "(first {} shown; --limit 0 lists all)", args.limit)?;
                }
                Ok(())
            })
        }
        TaskCommand::Show { id } => {
            let task = api.get_task(id)?;
            let docs = api.list_docs(&baton_core::api::DocFilter {
                task: Some(id),
                ..Default::default()
            })?;
            let view = TaskView {
                task: &task,
                docs: &docs,
            };
            ctx.out.emit(&view, |w| {
                task_detail(w, &task)?;
                if !docs.is_empty() {
                    writeln!(w, "\n  Docs:")?;
                    for d in &docs {
                        writeln!(w, "  {}  {} ({})", d.id, d.title, d.kind)?;
                    }
                }
                Ok(())
            })
        }
        TaskCommand::Update(args) => {
            let id = args.id;
            let task = api.update_task(&ctx.actor(), id, patch(args)?)?;
            show(ctx, &task, "Updated")
        }
        TaskCommand::Pickup(args) => {
            let agent = ctx.agent()?;
            let pickup = api.pickup(
                &agent,
                &PickupRequest {
                    category: args.category,
                    initiative: args.initiative,
                    id: args.id,
                    capability: args.capability,
                    explain: args.explain,
                },
            )?;
            ctx.remember_fence(&agent, pickup.task.id, pickup.claim.fence);
            show_pickup(ctx, &pickup)
        }
        TaskCommand::Done(args) => {
            let agent = ctx.agent()?;
            let request = DoneRequest {
                summary: args.summary,
                notes: args.notes,
                fence: ctx.fence(&agent, args.id, args.fence),
            };
            let task = api.done(&agent, args.id, request)?;
            ctx.forget_fence(&agent, args.id);
            show(ctx, &task, "Handed in for review:")
        }
        TaskCommand::Approve { id, notes } => {
            show(ctx, &api.approve(&ctx.actor(), id, notes)?, "Approved")
        }
        TaskCommand::Reject(args) => {
            let request = RejectRequest {
                feedback: args.feedback,
                to: args
                    .to
                    .map(|t| t.parse().map_err(CliError::invalid))
                    .transpose()?,
            };
            show(
                ctx,
                &api.reject(&ctx.actor(), args.id, request)?,
                "Rejected",
            )
        }
        TaskCommand::Block(args) => {
            let actor = ctx.actor();
            let request = BlockRequest {
                reason: args.reason,
                fence: ctx.fence(&actor, args.id, args.fence),
            };
            let task = api.block(&actor, args.id, request)?;
            ctx.forget_fence(&actor, args.id);
            show(ctx, &task, "Blocked")
        }
        TaskCommand::Unblock { id } => show(ctx, &api.unblock(&ctx.actor(), id)?, "Unblocked"),
        TaskCommand::Mine => {
            let agent = ctx.agent()?;
            let tasks = api.mine(&agent)?;
            let lost = api.lost_tasks(&agent)?;
            let answer = serde_json::json!({"tasks": tasks, "lost": lost});
            ctx.out.emit(&answer, |w| {
                lost_lines(w, &lost)?;
                if tasks.is_empty() {
                    return writeln!(w, "You hold no tasks. Claim one with `baton task pickup`.");
                }
                task_table(w, &tasks)
            })
        }
        TaskCommand::Note(args) => {
            let actor = ctx.actor();
            let request = NoteRequest {
                text: args.text,
                fence: ctx.fence(&actor, args.id, args.fence),
            };
            show(ctx, &api.note(&actor, args.id, request)?, "Noted on")
        }
        TaskCommand::Delete(args) => {
            let request = DeleteRequest {
                reason: args.reason,
                force: args.force,
            };
            show(ctx, &api.delete(&ctx.actor(), args.id, request)?, "Deleted")
        }
    }
}

fn new_tasks(args: AddArgs) -> CliResult<Vec<NewTask>> {
    if let Some(path) = &args.batch {
        return read_batch(path);
    }
    let title = args.title.or(args.title_arg).ok_or_else(|| {
        CliError::invalid("a task needs a title")
            .with_hint("baton task add --title \"...\" (or --batch FILE.json)")
    })?;
    let status = args
        .status
        .map(|s| s.parse::<Status>().map_err(CliError::invalid))
        .transpose()?;
    Ok(vec![NewTask {
        phase: args.phase,
        initiative: args.initiative,
        parent: args.parent.map(|p| p.to_string()),
        category: args.category,
        key: None,
        title,
        description: args.description,
        priority: args.priority,
        status,
        epic: args.epic,
        capabilities: list_arg(args.capabilities),
        depends_on: list_arg(args.depends_on),
        verify: args.verify,
        acceptance_criteria: args.acceptance,
        context_refs: list_arg(args.context_refs),
        files: list_arg(args.files),
    }])
}

fn read_batch(path: &PathBuf) -> CliResult<Vec<NewTask>> {
    let mut text = String::new();
    let too_big = || {
        CliError::invalid(format!(
            "the batch file is larger than {} MB",
            MAX_BATCH_FILE_BYTES / 1024 / 1024
        ))
        .with_hint("split it into several files of at most 10,000 tasks")
    };
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_BATCH_FILE_BYTES + 1)
            .read_to_string(&mut text)?;
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| CliError::invalid(format!("cannot read {}: {e}", path.display())))?;
        file.take(MAX_BATCH_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| CliError::invalid(format!("cannot read {}: {e}", path.display())))?;
    }
    if text.len() as u64 > MAX_BATCH_FILE_BYTES {
        return Err(too_big());
    }
    baton_core::api::parse_batch(&text).map_err(|e| {
        let mut error = CliError::from(e);
        let source = match path.as_os_str() == "-" {
            true => "the batch on stdin".to_string(),
            false => path.display().to_string(),
        };
        error.message = format!("{source}: {}", error.message);
        error
    })
}

fn patch(args: UpdateArgs) -> CliResult<TaskPatch> {
    let depends_on = args
        .depends_on
        .map(|values| {
            list_arg(values)
                .iter()
                .map(|v| {
                    v.parse::<TaskId>()
                        .map_err(|e| CliError::invalid(e.to_string()))
                })
                .collect::<CliResult<Vec<TaskId>>>()
        })
        .transpose()?;
    let acceptance = args
        .acceptance
        .map(|v| v.into_iter().filter(|s| !s.trim().is_empty()).collect());
    Ok(TaskPatch {
        category: args.category,
        summary: args.summary,
        title: args.title,
        description: args.description,
        priority: args.priority,
        status: args.status,
        epic: args.epic,
        capabilities: args.capabilities.map(list_arg),
        depends_on,
        verify: args.verify,
        acceptance_criteria: acceptance,
        context_refs: args.context_refs.map(list_arg),
        files: args.files.map(list_arg),
    })
}

/// Tasks taken from the caller since it last asked: what happened and what to do next.
pub fn lost_lines(w: &mut dyn Write, lost: &[baton_core::LostTask]) -> std::io::Result<()> {
    if lost.is_empty() {
        return Ok(());
    }
    // A rejection may hand the task back with feedback: not every change took it away.
    if lost.iter().all(|l| l.reason == "returned") {
        writeln!(w, "Sent back to you since your last call:")?;
    } else {
        writeln!(w, "Your tasks changed hands or state since your last call:")?;
    }
    for l in lost {
        writeln!(w, "  {}", l.message)?;
        writeln!(w, "    next: {}", l.hint)?;
    }
    writeln!(w)
}

pub fn task_table(w: &mut dyn Write, tasks: &[Task]) -> std::io::Result<()> {
    if tasks.is_empty() {
        return writeln!(w, "No tasks.");
    }
    let mut table = Table::new(&["ID", "STATUS", "PRI", "ASSIGNEE", "EPIC", "DEPS", "TITLE"]);
    for t in tasks {
        let status = if t.deleted_at.is_some() {
            format!("{} (deleted)", t.status)
        } else {
            t.status.to_string()
        };
        table.row(vec![
            t.id.to_string(),
            status,
            t.priority.to_string(),
            or_dash(t.assignee.as_deref()),
            cut(t.epic.as_deref().unwrap_or("-"), 16),
            cut(&id_list(&t.depends_on), 20),
            cut(&t.title, 60),
        ]);
    }
    table.write(w)
}

/// A task with the docs linked to it (or named in its context_refs).
#[derive(serde::Serialize)]
struct TaskView<'a> {
    #[serde(flatten)]
    task: &'a Task,
    docs: &'a [baton_core::model::DocSummary],
}

fn show(ctx: &Context, task: &Task, verb: &str) -> CliResult {
    ctx.out.emit(task, |w| {
        if !verb.is_empty() {
            writeln!(w, "{verb} {}", task.id)?;
        }
        task_detail(w, task)
    })
}

fn show_pickup(ctx: &Context, pickup: &Pickup) -> CliResult {
    ctx.out.emit(pickup, |w| {
        writeln!(
            w,
            "Picked up {} (fence {}, lease until {})",
            pickup.task.id, pickup.claim.fence, pickup.claim.lease_expires_at
        )?;
        task_detail(w, &pickup.task)?;
        if !pickup.context.is_empty() {
            writeln!(w, "\n  From the tasks it depends on:")?;
            for c in &pickup.context {
                writeln!(
                    w,
                    "  {}  {}: {}{}",
                    c.id,
                    c.title,
                    c.summary,
                    if c.truncated {
                        " [cut; see baton task show]"
                    } else {
                        ""
                    }
                )?;
            }
        }
        if !pickup.skipped.is_empty() {
            writeln!(w, "\n  Passed over:")?;
            for s in &pickup.skipped {
                writeln!(w, "  {}  {}", s.id, s.reason)?;
            }
        }
        Ok(())
    })
}

pub fn task_detail(w: &mut dyn Write, t: &Task) -> std::io::Result<()> {
    writeln!(w, "{}  {}", t.id, t.title)?;
    let mut status = format!("{} · {}", t.status, t.priority);
    if let Some(a) = &t.assignee {
        status.push_str(&format!(" · held by {a}"));
    }
    if let Some(exp) = t.lease_expires_at {
        status.push_str(&format!(" · lease until {exp}"));
    }
    if t.deleted_at.is_some() {
        status.push_str(" · DELETED");
    }
    writeln!(w, "  {status}")?;
    let field = |w: &mut dyn Write, name: &str, value: String| -> std::io::Result<()> {
        writeln!(w, "  {name:<12} {value}")
    };
    if let Some(r) = &t.blocked_reason {
        field(w, "blocked", r.clone())?;
    }
    if let Some(e) = &t.epic {
        field(w, "epic", e.clone())?;
    }
    if let Some(p) = t.phase {
        let gate = if t.gated { " (gate closed)" } else { "" };
        field(w, "phase", format!("{p}{gate}"))?;
    }
    if let Some(i) = t.initiative {
        field(w, "initiative", i.to_string())?;
    }
    if let Some(p) = t.parent {
        field(w, "parent", p.to_string())?;
    }
    if t.category != Category::Execute {
        field(w, "category", t.category.to_string())?;
    }
    if !t.depends_on.is_empty() {
        let met = if t.deps_met { "met" } else { "waiting" };
        field(
            w,
            "depends on",
            format!("{} ({met})", id_list(&t.depends_on)),
        )?;
    }
    if !t.capabilities.is_empty() {
        field(w, "capabilities", t.capabilities.join(", "))?;
    }
    if !t.files.is_empty() {
        field(w, "files", t.files.join(", "))?;
    }
    if let Some(v) = &t.verify {
        field(w, "verify", v.clone())?;
    }
    if !t.context_refs.is_empty() {
        field(w, "context", t.context_refs.join(", "))?;
    }
    if t.retry_count > 0 {
        field(w, "retries", t.retry_count.to_string())?;
    }
    field(w, "created", t.created_at.to_string())?;
    if !t.description.is_empty() {
        writeln!(w)?;
        for line in t.description.lines() {
            writeln!(w, "  {line}")?;
        }
    }
    if !t.acceptance_criteria.is_empty() {
        writeln!(w, "\n  Acceptance:")?;
        for c in &t.acceptance_criteria {
            writeln!(w, "  - {c}")?;
        }
    }
    if let Some(summary) = &t.summary {
        writeln!(w, "\n  Summary:")?;
        for line in summary.lines() {
            writeln!(w, "  {line}")?;
        }
    }
    if !t.notes.is_empty() {
        writeln!(w, "\n  Notes:")?;
        for n in &t.notes {
            writeln!(w, "  [{}] {}: {}", n.at, n.author, n.text)?;
        }
    }
    Ok(())
}
