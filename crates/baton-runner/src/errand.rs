//! Errands: one agent on a branch of its own (`baton/errand-<n>`, off the errand's base
//! branch), no task board around it. What a person asks of an errand (start, chat, merge)
//! is a request on the board, done by `baton errand` in the foreground or by a runner
//! ([`serve`]); the board keeps the errand's record (status, agent, session, merge).
//!
//! The same rules as the runner's: the agent's leftover work is committed on the branch
//! when its run ends; the worktree is removed only when nothing is left uncommitted; a merge
//! is checked with `git merge-tree` first and a conflict changes nothing.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use baton_core::api::{ErrandFinish, ErrandUpdate, MergeOutcome};
use baton_core::model::{Errand, ErrandAsk, ErrandStatus, MergeStrategy};
use baton_core::Api;

use crate::adapters::adapter_for;
use crate::merge::{merge_branches, MergeSpec};
use crate::process::AgentProcess;
use crate::provider::{Provider, RunSpec};
use crate::record::{Outcome, RunRecord};
use crate::runner::RunnerError;
use crate::supervise::{supervise, Recorder, Watch};
use crate::worktree::{Repo, Worktree};

/// How to run an errand's agent.
pub struct ErrandAgent<'a> {
    pub provider: &'a Provider,
    /// The agent's name on the board (`errand-1`).
    pub agent: String,
    /// Environment on top of the provider's (where the board is, the account's variables).
    pub env: Vec<(String, String)>,
    pub watch: Watch,
    /// Where the run's raw output goes.
    pub log: PathBuf,
    pub stop: Arc<AtomicBool>,
}

/// What one run of an errand's agent did.
pub struct ErrandRun {
    pub errand: Errand,
    pub record: RunRecord,
    /// The commit the agent's leftover work was saved as, if any.
    pub saved: Option<String>,
    pub worktree: Worktree,
}

fn worktree(repo: &Repo, errand: &Errand) -> Result<Worktree, RunnerError> {
    repo.fetch()?;
    let base = repo.start_point(&errand.base_branch)?;
    Ok(repo.worktree_named(
        &format!("errand-{}", errand.id.number()),
        &errand.branch,
        &base,
    )?)
}

/// The first run's prompt: the errand itself and the rules of the worktree.
pub fn prompt(errand: &Errand) -> String {
    format!(
        "You are on an errand ({id}), alone, in this git worktree on branch {branch} (from \
         {base}):\n\n{title}\n\nKeep the change small and to the point. Commit your work on \
         this branch with a clear message; anything left uncommitted is committed for you \
         when you stop. Reply with a short summary of what you changed.",
        id = errand.id,
        branch = errand.branch,
        base = errand.base_branch,
        title = errand.title.trim()
    )
}

/// The prompt for a person's message to the errand's agent: the errand itself when no
/// session is resumed, the conflict to resolve when there is one, then the message.
pub fn chat_prompt(errand: &Errand, from: &str, message: &str, resumed: bool) -> String {
    let mut prompt = String::new();
    if !resumed {
        prompt.push_str(&self::prompt(errand));
        prompt.push_str("\n\n");
    }
    if errand.status == ErrandStatus::Conflict {
        prompt.push_str(&format!(
            "Merging your branch into {base} conflicts in: {files}. {base} is merged into your \
             worktree with the conflicts left in the files: resolve them keeping both sides' \
             intent, and commit the merge.\n\n",
            base = errand.base_branch,
            files = errand.conflicts.join(", "),
        ));
    }
    prompt.push_str(&format!("{from} writes: {}", message.trim()));
    prompt
}

/// What doing an errand's request came to.
pub enum Served {
    Ran(Box<ErrandRun>),
    Merged(Box<(Errand, MergeOutcome)>),
}

impl Served {
    pub fn errand(&self) -> &Errand {
        match self {
            Served::Ran(r) => &r.errand,
            Served::Merged(m) => &m.0,
        }
    }
}

/// Does the request `errand` holds (claimed by `runner`): its first run, a chat message
/// (the agent's session resumed) or a merge, and reports it done with the agent's reply or
/// the merge's outcome. A failure is reported too, so the request is not retried forever;
/// only a runner that dies leaves it claimed, to be taken again when its lease lapses.
///
/// `agent` runs the errand's agent; a merge needs none, a run without one is refused.
pub fn serve(
    api: &dyn Api,
    repo: &Repo,
    errand: &Errand,
    agent: Option<&ErrandAgent<'_>>,
    runner: &str,
) -> Result<Served, RunnerError> {
    let from = errand.requested_by.as_deref().unwrap_or("someone");
    let actor = format!("errand-{}", errand.id.number());
    let no_agent = || {
        RunnerError::Io(std::io::Error::other(format!(
            "no agent CLI was given to run errand {}",
            errand.id
        )))
    };
    let result = match (errand.request, agent) {
        (Some(ErrandAsk::Merge), _) => {
            let strategy = errand
                .request_text
                .as_deref()
                .and_then(MergeStrategy::parse)
                .unwrap_or(MergeStrategy::Merge);
            merge(api, from, repo, errand, strategy).map(|m| Served::Merged(Box::new(m)))
        }
        (Some(ErrandAsk::Chat), Some(agent)) => {
            let session = errand
                .session
                .as_deref()
                .filter(|_| agent.provider.can_resume());
            let text = errand.request_text.as_deref().unwrap_or_default();
            let prompt = chat_prompt(errand, from, text, session.is_some());
            run(api, repo, errand, agent, &prompt, session).map(|r| Served::Ran(Box::new(r)))
        }
        (Some(ErrandAsk::Start) | None, Some(agent)) => {
            run(api, repo, errand, agent, &prompt(errand), None).map(|r| Served::Ran(Box::new(r)))
        }
        (_, None) => Err(no_agent()),
    };
    let reply = match &result {
        Ok(Served::Ran(r)) => r
            .record
            .final_text
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| {
                Some(format!(
                    "(no reply: the run ended {})",
                    r.record.outcome.name()
                ))
            }),
        Ok(Served::Merged(m)) => Some(match &m.1 {
            MergeOutcome::Merged { result, .. } => {
                format!("merged into {} ({})", errand.base_branch, short(result))
            }
            MergeOutcome::Conflict { files, .. } => format!(
                "merging into {} would conflict in {}; nothing was changed",
                errand.base_branch,
                files.join(", ")
            ),
            MergeOutcome::Skipped { reason } | MergeOutcome::Failed { error: reason, .. } => {
                format!("not merged: {reason}")
            }
        }),
        Err(e) => Some(format!("could not do it: {e}")),
    };
    if let Err(e) = &result {
        let _ = api.errands().update_errand(
            &actor,
            errand.id,
            ErrandUpdate {
                reason: Some(e.to_string()),
                ..ErrandUpdate::default()
            },
        );
    }
    api.errands().finish_errand(
        &actor,
        errand.id,
        ErrandFinish {
            runner: runner.to_string(),
            reply,
        },
    )?;
    result
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// Runs the errand's agent once in its worktree (resuming `session` when given), saves
/// what it left, pushes the branch when there is a remote, and records the outcome on the
/// board: `pending_review` when the run succeeded, else `active` with the reason.
pub fn run(
    api: &dyn Api,
    repo: &Repo,
    errand: &Errand,
    agent: &ErrandAgent<'_>,
    prompt: &str,
    session: Option<&str>,
) -> Result<ErrandRun, RunnerError> {
    let wt = worktree(repo, errand)?;
    if errand.status == ErrandStatus::Conflict {
        // The agent resolves the conflict in place: the base branch merged in, conflicts
        // left in the files.
        repo.premerge(&wt, &repo.start_point(&errand.base_branch)?)?;
    }
    let name = format!("baton-{}", errand.id);
    let session = session.filter(|_| agent.provider.can_resume());
    let invocation = agent.provider.invocation(&RunSpec {
        prompt,
        session,
        workdir: &wt.path,
        max_turns: None,
        name: &name,
    });
    let mut env = vec![("BATON_AGENT".to_string(), agent.agent.clone())];
    env.extend(agent.env.iter().cloned());
    // What the agent exports over OpenTelemetry is its own, and names the errand.
    let given = crate::runner::given_resource(&env);
    env.push((
        crate::runner::RESOURCE_ATTRIBUTES.to_string(),
        crate::runner::baton_resource(
            given.as_deref(),
            &[
                ("baton.agent", &agent.agent),
                ("baton.errand", &errand.id.to_string()),
            ],
        ),
    ));
    let mut adapter = adapter_for(&agent.provider.format).ok_or_else(|| {
        std::io::Error::other(format!("no adapter for {}", agent.provider.format))
    })?;
    if let Some(parent) = agent.log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&agent.log)?;
    // The run is the agent's session: what it writes meanwhile carries it.
    let ops = api.operations();
    let opened = ops.start_session(
        &agent.agent,
        baton_core::api::NewSession {
            purpose: Some(format!("{}: {}", errand.id, cut(&errand.title, 900))),
            kind: Some(baton_core::model::ActorKind::Ai),
            tool: Some(agent.provider.name.clone()),
        },
    );
    if let Err(e) = &opened {
        crate::runs::warn(&format!("{}: no session for this run: {e}", errand.id));
    }
    let supervised = match AgentProcess::spawn(&invocation, &wt.path, &env) {
        Ok(started) => {
            let mut control = Recorder {
                flag: agent.stop.clone(),
                events: Vec::new(),
            };
            supervise(
                started,
                adapter.as_mut(),
                &mut log,
                &agent.watch,
                &mut control,
            )
        }
        Err(e) => Ok(adapter.finish_with_reason(format!(
            "cannot start {}: {e} (is it installed and on PATH?)",
            invocation.program
        ))),
    };
    if let Ok(open) = &opened {
        let stop = baton_core::api::StopSession {
            session: Some(open.id),
        };
        if let Err(e) = ops.stop_session(&agent.agent, stop) {
            crate::runs::warn(&format!(
                "{}: could not end session {}: {e}",
                errand.id, open.id
            ));
        }
    }
    let mut record = supervised?;
    if record.session_id.is_none() && agent.provider.names_sessions() {
        record.session_id = Some(name);
    }
    let saved = repo.save_work(
        &wt,
        &format!("baton: work left by {} on {}", agent.agent, errand.id),
    )?;
    if let Err(e) = repo.publish(&format!("refs/heads/{}", wt.branch), &wt.branch, None) {
        crate::runs::warn(&format!("{}: could not push {}: {e}", errand.id, wt.branch));
    }
    let succeeded = record.outcome == Outcome::Succeeded;
    let status = match (succeeded, errand.status) {
        (true, ErrandStatus::Active | ErrandStatus::Conflict) => Some(ErrandStatus::PendingReview),
        _ => None,
    };
    let update = ErrandUpdate {
        status,
        agent: Some(agent.agent.clone()),
        session: record.session_id.clone().or(session.map(str::to_string)),
        reason: Some(if succeeded {
            String::new()
        } else {
            format!("the agent's run ended {}", record.outcome.name())
        }),
        ..ErrandUpdate::default()
    };
    let errand = api
        .errands()
        .update_errand(&agent.agent, errand.id, update)?;
    let _ = repo.remove(&wt, false)?;
    Ok(ErrandRun {
        errand,
        record,
        saved,
        worktree: wt,
    })
}

/// Merges the errand's branch into its base branch; a conflict changes nothing and leaves
/// the errand in `conflict` with the files (`errand chat` can ask its agent to resolve it).
pub fn merge(
    api: &dyn Api,
    actor: &str,
    repo: &Repo,
    errand: &Errand,
    strategy: MergeStrategy,
) -> Result<(Errand, MergeOutcome), RunnerError> {
    let outcome = merge_branches(
        repo,
        &MergeSpec {
            source: &errand.branch,
            target: &errand.base_branch,
            strategy,
            label: errand.id.to_string(),
        },
    );
    let update = match &outcome {
        MergeOutcome::Merged { base, result, .. } => ErrandUpdate {
            status: Some(ErrandStatus::Merged),
            base: Some(base.clone()),
            result: Some(result.clone()),
            conflicts: Some(Vec::new()),
            reason: Some(String::new()),
            ..ErrandUpdate::default()
        },
        MergeOutcome::Conflict { files, .. } => ErrandUpdate {
            status: Some(ErrandStatus::Conflict),
            conflicts: Some(files.clone()),
            reason: Some(format!(
                "merging into {} would conflict in {} file(s)",
                errand.base_branch,
                files.len()
            )),
            ..ErrandUpdate::default()
        },
        MergeOutcome::Skipped { reason } | MergeOutcome::Failed { error: reason, .. } => {
            ErrandUpdate {
                reason: Some(reason.clone()),
                ..ErrandUpdate::default()
            }
        }
    };
    let errand = api.errands().update_errand(actor, errand.id, update)?;
    Ok((errand, outcome))
}
