//! `baton merge list|show|run|retry` (approved work carried up the branch chain) and
//! `baton diff T-12|P-3|I-1` (what a task, phase or initiative changed, against its base).

use std::io::Write;

use baton_core::api::MergeFilter;
use baton_core::model::{Merge, MergeKind, MergeState};
use baton_core::{InitiativeId, MergeId, PhaseId, TaskId};
use baton_runner::worktree::Repo;
use clap::{Args, Subcommand};

use super::Context;
use baton_core::ErrorClass;

use crate::error::{CliError, CliResult};
use crate::output::{cut, or_dash, Table};

#[derive(Subcommand, Debug)]
pub enum MergeCommand {
    /// Merges, newest first: what goes into which branch, and where it stands.
    List(ListArgs),
    /// One merge: its branches, commits, conflicting files and merge task.
    Show {
        /// The merge (MR-2).
        id: MergeId,
    },
    /// Carry out the merges that are ready, here, in this repository (a runner does this
    /// by itself between tasks).
    Run(RunArgs),
    /// Put a failed, skipped or conflicted merge back in the queue.
    Retry {
        /// The merge (MR-2): failed, skipped or conflicted.
        id: MergeId,
    },
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only merges in this state (pending, running, merged, conflict, failed, skipped).
    #[arg(long)]
    pub state: Option<MergeState>,
    /// Only merges of this kind (task, phase, initiative).
    #[arg(long)]
    pub kind: Option<MergeKind>,
    /// Only the merge of this task's branch (T-3).
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Only the merge of this phase's work (P-2).
    #[arg(long)]
    pub phase: Option<PhaseId>,
    /// Only merges of this initiative (I-1).
    #[arg(long)]
    pub initiative: Option<InitiativeId>,
    /// At most this many (1 to 1,000).
    #[arg(long, short, default_value_t = 50)]
    pub limit: u64,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Where this process keeps its clone of the project's `repository` setting (default
    /// `.baton/clones/<name>`); unused when the project works in its own checkout.
    #[arg(long)]
    pub clone_dir: Option<std::path::PathBuf>,
    /// At most this many merges in this pass.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// How long each claim holds before another runner may retry a merge this process
    /// was carrying out when it died (30s, 10m).
    #[arg(long, default_value = "10m", value_parser = super::runner::duration)]
    pub lease: std::time::Duration,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// A task (T-12), phase (P-3) or initiative (I-1).
    pub id: String,
    /// Only the files changed, with lines added and removed.
    #[arg(long)]
    pub stat: bool,
}

/// The repository merges and runs work in: the runner's own clone of the project's
/// `repository` setting when there is one (made in `clone_dir`, by default
/// `.baton/clones/<name>`, and fetched before each piece of work), else the project's own
/// checkout.
pub(crate) fn work_repo(
    ctx: &Context,
    api: &dyn baton_core::Api,
    clone_dir: Option<&std::path::Path>,
) -> CliResult<Repo> {
    let project = ctx.project().ok();
    let root = project
        .as_ref()
        .map(|p| p.root.clone())
        .unwrap_or_else(|| ctx.cwd.clone());
    let url = api
        .settings()?
        .into_iter()
        .find(|s| s.key == baton_core::board::leases::REPOSITORY)
        .map(|s| s.value)
        .unwrap_or_default();
    let not_a_repo = |e: baton_runner::worktree::GitError| {
        CliError::new(ErrorClass::Invalid, "not_a_repository", e.to_string())
            .with_hint("merges, diffs and runs work in the project's git repository: run this there, or set `baton config set repository URL`")
    };
    if url.is_empty() {
        return Repo::open(&root).map_err(not_a_repo);
    }
    match clone_dir {
        Some(dir) => {
            let url = if std::path::Path::new(&url).is_relative() && !url.contains(':') {
                root.join(&url).display().to_string()
            } else {
                url
            };
            Repo::clone_of(&url, dir).map_err(not_a_repo)
        }
        None => {
            let clones = project
                .as_ref()
                .map(|p| p.dir())
                .unwrap_or_else(|| root.join(".baton"))
                .join("clones");
            Repo::repository_for(&url, &root, &clones).map_err(not_a_repo)
        }
    }
}

pub fn merge(ctx: &Context, command: MergeCommand) -> CliResult {
    let api = ctx.api()?;
    match command {
        MergeCommand::List(args) => {
            let merges = api.merges().list_merges(&MergeFilter {
                state: args.state,
                kind: args.kind,
                task: args.task,
                phase: args.phase,
                initiative: args.initiative,
                limit: Some(args.limit.clamp(1, 1000)),
            })?;
            ctx.out.emit(&merges, |w| table(w, &merges))
        }
        MergeCommand::Show { id } => {
            let m = api.merges().get_merge(id)?;
            ctx.out.emit(&m, |w| show(w, &m))
        }
        MergeCommand::Retry { id } => {
            let m = api.merges().retry_merge(&ctx.actor(), id)?;
            ctx.out.emit(&m, |w| {
                writeln!(
                    w,
                    "{} is pending again: `baton merge run` (or a runner) carries it out",
                    m.id
                )
            })
        }
        MergeCommand::Run(args) => {
            let repo = work_repo(ctx, api.as_ref(), args.clone_dir.as_deref())?;
            let runner = baton_runner::runs::RunnerId::this_process();
            let done = baton_runner::merge::drain(
                api.as_ref(),
                &ctx.actor(),
                &runner.id,
                &repo,
                args.limit.max(1),
                Some(args.lease.as_secs().max(1)),
            )?;
            ctx.out.emit(&done, |w| {
                if done.is_empty() {
                    return writeln!(w, "no merge is ready");
                }
                for m in &done {
                    writeln!(w, "{}", one_line(m))?;
                }
                Ok(())
            })
        }
    }
}

/// A merge in one line, as people read it after a run.
fn one_line(m: &Merge) -> String {
    let what = format!("{} {} -> {}", m.id, m.source, m.target);
    match m.state {
        MergeState::Merged => format!(
            "{what}: merged at {}",
            m.result.as_deref().map(short).unwrap_or("-")
        ),
        MergeState::Conflict => format!(
            "{what}: conflict in {} file(s) ({}); {} resolves it",
            m.conflicts.len(),
            cut(&m.conflicts.join(", "), 80),
            m.merge_task.map(|t| t.to_string()).unwrap_or_default()
        ),
        s => format!(
            "{what}: {s}{}",
            m.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ),
    }
}

fn short(commit: &str) -> &str {
    commit.get(..10).unwrap_or(commit)
}

fn subject(m: &Merge) -> String {
    m.task
        .map(|t| t.to_string())
        .or(m.phase.map(|p| p.to_string()))
        .or(m.initiative.map(|i| i.to_string()))
        .unwrap_or_else(|| "-".into())
}

fn table(w: &mut dyn Write, merges: &[Merge]) -> std::io::Result<()> {
    if merges.is_empty() {
        return writeln!(
            w,
            "no merges yet (approving a task a runner worked on queues one)"
        );
    }
    let mut t = Table::new(&[
        "MERGE", "KIND", "OF", "SOURCE", "TARGET", "STATE", "RESULT", "NOTE",
    ]);
    for m in merges {
        let note = match m.state {
            MergeState::Conflict => format!(
                "{} file(s); {}",
                m.conflicts.len(),
                m.merge_task.map(|t| t.to_string()).unwrap_or_default()
            ),
            _ => m.error.clone().unwrap_or_default(),
        };
        t.row(vec![
            m.id.to_string(),
            m.kind.to_string(),
            subject(m),
            cut(&m.source, 32),
            cut(&m.target, 32),
            m.state.to_string(),
            or_dash(m.result.as_deref().map(short)),
            cut(&note, 40),
        ]);
    }
    t.write(w)
}

fn show(w: &mut dyn Write, m: &Merge) -> std::io::Result<()> {
    writeln!(w, "{} ({} merge of {})", m.id, m.kind, subject(m))?;
    writeln!(w, "source    {}", m.source)?;
    writeln!(w, "target    {}", m.target)?;
    writeln!(
        w,
        "state     {} (strategy {}, {} attempt(s))",
        m.state, m.strategy, m.attempts
    )?;
    for (label, v) in [
        ("base", &m.base),
        ("source at", &m.source_head),
        ("target at", &m.target_head),
        ("result", &m.result),
        ("runner", &m.runner),
        ("error", &m.error),
    ] {
        if let Some(v) = v {
            writeln!(w, "{label:<9} {v}")?;
        }
    }
    if let Some(t) = m.merge_task {
        writeln!(w, "resolved by task {t}")?;
    }
    if let Some(r) = m.resolves {
        writeln!(w, "resolves  {r}")?;
    }
    if let Some(r) = m.resolved_by {
        writeln!(w, "merged by {r}")?;
    }
    if !m.conflicts.is_empty() {
        writeln!(w, "conflicts:")?;
        for f in &m.conflicts {
            writeln!(w, "  {f}")?;
        }
    }
    Ok(())
}

pub fn diff(ctx: &Context, args: DiffArgs) -> CliResult {
    let api = ctx.api()?;
    let repo = work_repo(ctx, api.as_ref(), None)?;
    repo.fetch()
        .map_err(|e| CliError::new(ErrorClass::Unavailable, "fetch_failed", e.to_string()))?;
    let range = baton_runner::diff::range(api.as_ref(), &repo, &args.id)?;
    let mut d = baton_runner::diff::diff(repo.root(), &range)?;
    if args.stat {
        for f in &mut d.files {
            f.hunks.clear();
        }
    }
    ctx.out.emit(&d, |w| {
        let count = |f: &baton_core::model::DiffFile, n: u64| {
            if f.binary {
                "bin".to_string()
            } else {
                n.to_string()
            }
        };
        if args.stat {
            writeln!(
                w,
                "{} {}..{} ({}, {} files)",
                d.of,
                short(&d.from),
                short(&d.to),
                d.basis,
                d.files.len()
            )?;
            let mut t = Table::new(&["FILE", "STATUS", "+", "-"]);
            for f in &d.files {
                t.row(vec![
                    f.path.clone(),
                    f.status.clone(),
                    count(f, f.added),
                    count(f, f.removed),
                ]);
            }
            return t.write(w);
        }
        if d.files.is_empty() {
            return writeln!(
                w,
                "{}: no changes ({}..{})",
                d.of,
                short(&d.from),
                short(&d.to)
            );
        }
        for f in &d.files {
            match &f.old_path {
                Some(old) => writeln!(w, "=== {old} -> {} ({})", f.path, f.status)?,
                None => writeln!(w, "=== {} ({})", f.path, f.status)?,
            }
            if f.binary {
                writeln!(w, "binary file")?;
            }
            if f.truncated {
                writeln!(
                    w,
                    "(left out: the diff is too large; see git diff {}..{})",
                    d.from, d.to
                )?;
            }
            for h in &f.hunks {
                writeln!(w, "{}", h.header)?;
                for l in &h.lines {
                    writeln!(w, "{}{}", l.kind, l.text)?;
                }
            }
        }
        Ok(())
    })
}
