//! `baton errand start|list|show|diff|chat|merge|abandon|delete`: a small isolated change,
//! one agent on a branch of its own off the default branch, no task board around it.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use baton_core::api::{ErrandClaim, ErrandRequest, ErrandUpdate, MergeOutcome, NewErrand};
use baton_core::model::{Errand, ErrandStatus, MergeStrategy};
use baton_core::{ErrandId, ErrorClass};
use baton_runner::errand::{self, ErrandAgent};
use baton_runner::supervise::Watch;
use clap::{Args, Subcommand};
use serde_json::json;

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, or_dash, Table};

#[derive(Subcommand, Debug)]
pub enum ErrandCommand {
    /// Start an errand: a branch `baton/errand-<n>` off the default branch and one agent on
    /// it, in the foreground; it ends in pending_review (or active, with the reason).
    Start(StartArgs),
    /// Errands, newest first (active, pending_review, conflict, merged, abandoned).
    List {
        /// Only errands in this status.
        #[arg(long)]
        status: Option<ErrandStatus>,
    },
    /// One errand: its branch, status, agent, session, conflicts.
    Show {
        /// The errand (E-1).
        id: ErrandId,
    },
    /// What the errand changed against its base branch.
    Diff {
        /// The errand (E-1).
        id: ErrandId,
        /// Only the files, with lines added and removed.
        #[arg(long)]
        stat: bool,
    },
    /// Talk to the errand's agent: its session is resumed with your message (on a
    /// conflicted errand, in a worktree where the base branch is merged in, conflicts left
    /// to resolve); its reply is printed.
    Chat(ChatArgs),
    /// Merge the errand's branch into its base branch (checked with git merge-tree first;
    /// a conflict changes nothing and marks the errand `conflict` with its files).
    Merge {
        /// The errand (E-1), pending review.
        id: ErrandId,
        /// merge (a merge commit) or rebase (its commits replayed onto the base); default:
        /// the project's merge_strategy.
        #[arg(long)]
        strategy: Option<MergeStrategy>,
        /// Only record the request: a runner does the merge.
        #[arg(long)]
        detach: bool,
    },
    /// Give an errand up: its branch is kept (reopen with `errand chat`).
    Abandon {
        /// The errand (E-1).
        id: ErrandId,
    },
    /// Delete a merged or abandoned errand's record and worktree; the branch of a merged one
    /// too (an abandoned one's stays unless --delete-branch).
    Delete {
        /// The errand (E-1), merged or abandoned.
        id: ErrandId,
        /// Also delete an abandoned errand's branch.
        #[arg(long)]
        delete_branch: bool,
    },
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// What to do ("fix typo in README"): the agent's whole instruction.
    pub title: String,
    /// The agent CLI (a provider name; see `baton runner --list-providers`).
    #[arg(long, default_value = "claude")]
    pub provider: String,
    /// Stop the agent after this long without output (30s, 15m).
    #[arg(long, default_value = "15m", value_parser = super::runner::duration)]
    pub idle_timeout: Duration,
    /// Only record the errand: a runner for the provider starts its agent.
    #[arg(long)]
    pub detach: bool,
}

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The errand (E-1).
    pub id: ErrandId,
    /// What to tell its agent.
    pub message: String,
    /// Only record the message: a runner for the errand's provider resumes its agent (the
    /// reply shows in `baton errand show`).
    #[arg(long)]
    pub detach: bool,
    /// Stop the agent after this long without output.
    #[arg(long, default_value = "15m", value_parser = super::runner::duration)]
    pub idle_timeout: Duration,
}

fn one_line(e: &Errand) -> String {
    format!(
        "{} {} on {} ({}){}",
        e.id,
        e.status,
        e.branch,
        cut(&e.title, 60),
        e.reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    )
}

/// A request left for a runner.
fn detached(ctx: &Context, e: &Errand) -> CliResult {
    ctx.out.emit(e, |w| {
        writeln!(w, "{}", one_line(e))?;
        writeln!(
            w,
            "its {} waits for a runner (`baton runner --provider {}`); follow it with `baton errand show {}`",
            e.request.map(|a| a.as_str()).unwrap_or("request"),
            e.provider.as_deref().unwrap_or("claude"),
            e.id
        )
    })
}

/// Takes the errand's request (just made) and does it here, in the foreground: a run of
/// its agent with `provider_name`, or a merge. Prints the errand and the reply.
fn serve_here(
    ctx: &Context,
    errand: &Errand,
    provider_name: Option<&str>,
    idle_timeout: Duration,
) -> CliResult {
    let (open, mut env) = super::runner::board(ctx, &ctx.project()?)?;
    let api = open()?;
    let repo = super::merge::work_repo(ctx, api.as_ref(), None)?;
    let project = ctx.project()?;
    let providers = super::runner::providers(&project)?;
    let provider = match provider_name {
        Some(name) => {
            let (provider, accounts) =
                super::runner::provider_setup(&project, &providers, name, None)?;
            let account = match accounts.pick(baton_core::time::Timestamp::now()) {
                baton_runner::accounts::Pick::Use(a) => a,
                baton_runner::accounts::Pick::WaitUntil(until) => {
                    return Err(CliError::new(
                        ErrorClass::Conflict,
                        "accounts_cooling",
                        format!("every {} account is cooling until {until}", provider.name),
                    )
                    .with_hint("try again then, or add an account to .baton/accounts.toml"))
                }
                baton_runner::accounts::Pick::Nothing(why) => {
                    return Err(CliError::new(ErrorClass::Conflict, "no_account", why))
                }
            };
            env.extend(account.env.iter().map(|(k, v)| (k.clone(), v.clone())));
            Some(provider)
        }
        None => None,
    };
    let runner = baton_runner::runs::RunnerId::this_process().id;
    let claimed = api
        .errands()
        .claim_errand(
            &ctx.actor(),
            ErrandClaim {
                runner: runner.clone(),
                errand: Some(errand.id),
                provider: None,
                lease_secs: None,
            },
        )?
        .ok_or_else(|| {
            CliError::new(
                ErrorClass::Conflict,
                "errand_busy",
                format!("errand {} has no request waiting", errand.id),
            )
        })?;
    let stop = Arc::new(AtomicBool::new(false));
    super::runner::stop_on_signals(stop.clone());
    let agent = provider.as_ref().map(|provider| ErrandAgent {
        provider,
        agent: format!("errand-{}", errand.id.number()),
        env,
        watch: Watch {
            idle_timeout,
            ..Watch::default()
        },
        log: project
            .dir()
            .join("runs")
            .join(format!("{}.log", errand.id)),
        stop,
    });
    let served = errand::serve(api.as_ref(), &repo, &claimed, agent.as_ref(), &runner)
        .map_err(|e| CliError::new(ErrorClass::Internal, "errand_failed", e.to_string()))?;
    let after = api.errands().get_errand(errand.id)?;
    let reply = after.reply.clone().unwrap_or_default();
    match served {
        errand::Served::Ran(done) => {
            let value = json!({
                "errand": after,
                "outcome": done.record.outcome.name(),
                "reply": reply,
                "saved": done.saved,
                "log": agent.as_ref().map(|a| a.log.clone()),
            });
            ctx.out.emit(&value, |w| {
                writeln!(w, "{}", one_line(&after))?;
                if !reply.trim().is_empty() {
                    writeln!(w, "\n{}", reply.trim())?;
                }
                writeln!(
                    w,
                    "\nnext: baton errand diff {id} · baton errand chat {id} \"...\" · baton errand merge {id}",
                    id = after.id
                )
            })
        }
        errand::Served::Merged(m) => {
            let outcome = m.1;
            let id = after.id;
            let value = json!({ "errand": after, "merge": outcome });
            match outcome {
                MergeOutcome::Merged { .. } | MergeOutcome::Conflict { .. } => ctx
                    .out
                    .emit(&value, |w| writeln!(w, "{}", one_line(&after))),
                MergeOutcome::Skipped { reason } | MergeOutcome::Failed { error: reason, .. } => {
                    Err(
                        CliError::new(ErrorClass::Conflict, "merge_failed", reason).with_hint(
                            format!(
                                "nothing was changed; try again with `baton errand merge {id}`"
                            ),
                        ),
                    )
                }
            }
        }
    }
}

pub fn errand(ctx: &Context, command: ErrandCommand) -> CliResult {
    let api = ctx.api()?;
    let errands = api.errands();
    match command {
        ErrandCommand::Start(args) => {
            // An agent CLI that is not set up is refused before anything is recorded.
            let project = ctx.project()?;
            let providers = super::runner::providers(&project)?;
            super::runner::provider_setup(&project, &providers, &args.provider, None)?;
            let e = errands.create_errand(
                &ctx.actor(),
                NewErrand {
                    title: args.title,
                    provider: Some(args.provider.clone()),
                },
            )?;
            if args.detach {
                return detached(ctx, &e);
            }
            serve_here(ctx, &e, Some(&args.provider), args.idle_timeout)
        }
        ErrandCommand::List { status } => {
            let all = errands.list_errands(status)?;
            ctx.out.emit(&all, |w| {
                if all.is_empty() {
                    return writeln!(w, "no errands (baton errand start \"...\")");
                }
                let mut t = Table::new(&["ERRAND", "STATUS", "BRANCH", "AGENT", "TITLE"]);
                for e in &all {
                    t.row(vec![
                        e.id.to_string(),
                        e.status.to_string(),
                        e.branch.clone(),
                        or_dash(e.agent.as_deref()),
                        cut(&e.title, 50),
                    ]);
                }
                t.write(w)
            })
        }
        ErrandCommand::Show { id } => {
            let e = errands.get_errand(id)?;
            ctx.out.emit(&e, |w| {
                writeln!(w, "{}", one_line(&e))?;
                writeln!(w, "base      {}", e.base_branch)?;
                writeln!(w, "agent     {}", or_dash(e.agent.as_deref()))?;
                writeln!(w, "session   {}", or_dash(e.session.as_deref()))?;
                if let Some(r) = &e.result {
                    writeln!(w, "merged at {r}")?;
                }
                for f in &e.conflicts {
                    writeln!(w, "conflict  {f}")?;
                }
                if let Some(ask) = e.request {
                    writeln!(
                        w,
                        "waiting   {ask} from {}{}",
                        or_dash(e.requested_by.as_deref()),
                        match &e.claimed_by {
                            Some(r) => format!(" (runner {r} is on it)"),
                            None => " (for a runner)".into(),
                        }
                    )?;
                }
                if let Some(reply) = &e.reply {
                    writeln!(w, "reply     {}", reply.trim())?;
                }
                writeln!(w, "\n{}", e.title)
            })
        }
        ErrandCommand::Diff { id, stat } => super::merge::diff(
            ctx,
            super::merge::DiffArgs {
                id: id.to_string(),
                stat,
            },
        ),
        ErrandCommand::Chat(args) => {
            let e = errands.request_errand(
                &ctx.actor(),
                args.id,
                ErrandRequest::Chat {
                    message: args.message,
                },
            )?;
            if args.detach {
                return detached(ctx, &e);
            }
            let provider = e.provider.clone().unwrap_or_else(|| "claude".into());
            serve_here(ctx, &e, Some(&provider), args.idle_timeout)
        }
        ErrandCommand::Merge {
            id,
            strategy,
            detach,
        } => {
            let e = errands.request_errand(&ctx.actor(), id, ErrandRequest::Merge { strategy })?;
            if detach {
                return detached(ctx, &e);
            }
            serve_here(ctx, &e, None, Duration::from_secs(60))
        }
        ErrandCommand::Abandon { id } => {
            let e = errands.update_errand(
                &ctx.actor(),
                id,
                ErrandUpdate {
                    status: Some(ErrandStatus::Abandoned),
                    ..ErrandUpdate::default()
                },
            )?;
            ctx.out.emit(&e, |w| {
                writeln!(w, "{} (its branch {} is kept)", one_line(&e), e.branch)
            })
        }
        ErrandCommand::Delete { id, delete_branch } => {
            let e = errands.get_errand(id)?;
            let repo = super::merge::work_repo(ctx, api.as_ref(), None)?;
            let e = errands.delete_errand(&ctx.actor(), e.id)?;
            let drop_branch = e.status == ErrandStatus::Merged || delete_branch;
            let removed = repo
                .forget(
                    &format!("errand-{}", e.id.number()),
                    drop_branch.then_some(e.branch.as_str()),
                )
                .map_err(|err| {
                    CliError::new(ErrorClass::Internal, "git_failed", err.to_string())
                })?;
            let value = json!({ "errand": e, "branch_deleted": removed });
            ctx.out.emit(&value, |w| {
                writeln!(
                    w,
                    "{} deleted{}",
                    e.id,
                    if removed {
                        format!("; branch {} deleted", e.branch)
                    } else {
                        format!("; branch {} kept", e.branch)
                    }
                )
            })
        }
    }
}
