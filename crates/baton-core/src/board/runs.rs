//! Runs and provider accounts: what runners record about the agent CLIs they start.
//!
//! Every query here is written once for both stores ([`crate::sql`]). The rules: a run is
//! recorded before its process starts; only a running run changes or ends, and it ends once;
//! a stop is a request its runner acts on; a retry puts an ended run's task back to be run
//! again; a run's stored output is bounded (lines cut, only the newest kept).

use serde_json::json;

use super::{claims, event, load_live, touch, validate};
use crate::api::{AccountUpdate, NewRun, RunEnd, RunFilter, RunUpdate};
use crate::error::{Error, Result};
use crate::id::{RunId, TaskId};
use crate::model::{
    actions, AccountState, AccountStatus, Run, RunLogLine, RunStatus, RunUsage, Status, Task,
};
use crate::sql::{query_map, Filter, Row, Sql};
use crate::store::{RawValue, StoreTx};
use crate::time::Timestamp;

/// The longest stored output line, in bytes (cut at a character boundary, marked).
pub const MAX_LOG_LINE: usize = 4000;
/// Lines kept per run; older ones are dropped as new ones come.
pub const LOG_LINES_KEPT: u64 = 5000;
/// Lines one append may carry.
pub const MAX_LOG_BATCH: usize = 1000;
/// The longest final text or reason kept with a run.
const MAX_TEXT: usize = 8000;
/// The most runs one listing returns.
pub const MAX_LIST: u64 = 1000;

const RUN_COLUMNS: &str = "id, task, agent, provider, account, attempt, runner, host, status, \
    pid, pgid, process_start, worktree, branch, session, spool, started_at, updated_at, \
    ended_at, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, \
    reasoning_tokens, cost_micros, turns, final_text, reason, stop_requested, log_lines";

fn run_from_row(r: &Row<'_>) -> Result<Run> {
    let status = r.text(8)?;
    Ok(Run {
        id: RunId(r.uint(0)?),
        task: TaskId(r.uint(1)?),
        agent: r.text(2)?,
        provider: r.text(3)?,
        account: r.opt_text(4)?,
        attempt: r.uint(5)? as u32,
        runner: r.text(6)?,
        host: r.text(7)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("a run has the unknown status {status}")))?,
        pid: r.opt_uint(9)?.map(|n| n as u32),
        pgid: r.opt_uint(10)?.map(|n| n as u32),
        process_start: r.opt_uint(11)?,
        worktree: r.opt_text(12)?,
        branch: r.opt_text(13)?,
        session: r.opt_text(14)?,
        spool: r.opt_text(15)?,
        started_at: r.ts(16)?,
        updated_at: r.ts(17)?,
        ended_at: r.opt_ts(18)?,
        usage: RunUsage {
            input_tokens: r.uint(19)?,
            output_tokens: r.uint(20)?,
            cache_read_tokens: r.uint(21)?,
            cache_write_tokens: r.uint(22)?,
            reasoning_tokens: r.uint(23)?,
            cost_usd: r.opt_int(24)?.map(|m| m as f64 / 1e6),
            turns: r.opt_uint(25)?,
        },
        final_text: r.opt_text(26)?,
        reason: r.opt_text(27)?,
        stop_requested: r.flag(28)?,
        log_lines: r.uint(29)?,
    })
}

fn cost_micros(usage: &RunUsage) -> Option<i64> {
    usage
        .cost_usd
        .filter(|c| c.is_finite() && *c >= 0.0)
        .map(|c| (c * 1e6).round().min(i64::MAX as f64) as i64)
}

/// `text` cut to at most `max` bytes at a character boundary, marked when cut.
pub fn cut_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

pub fn load_run(db: &mut dyn Sql, id: RunId) -> Result<Run> {
    query_map(
        db,
        "run",
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
        &[id.number().into()],
        run_from_row,
    )?
    .pop()
    .ok_or(Error::RunNotFound(id))
}

fn load_running(db: &mut dyn Sql, id: RunId) -> Result<Run> {
    let run = load_run(db, id)?;
    if run.status.is_final() {
        return Err(Error::Conflict {
            code: "run_ended",
            message: format!("run {id} already ended ({})", run.status),
            hint: Some(format!(
                "see it with `baton run show {id}`; `baton run retry {id}` runs its task again"
            )),
        });
    }
    Ok(run)
}

fn required(field: &str, text: &str, max: usize) -> Result<()> {
    validate::required_text(field, text)?;
    if text.len() > max {
        return Err(Error::invalid(format!(
            "{field} is {} bytes; at most {max}",
            text.len()
        )));
    }
    Ok(())
}

fn optional(field: &str, text: &Option<String>, max: usize) -> Result<()> {
    match text {
        Some(t) if t.len() > max => Err(Error::invalid(format!(
            "{field} is {} bytes; at most {max}",
            t.len()
        ))),
        _ => Ok(()),
    }
}

pub fn start(tx: &mut dyn StoreTx, agent: &str, new: NewRun, now: Timestamp) -> Result<Run> {
    validate::validate_agent_name(agent)?;
    required("provider", &new.provider, 100)?;
    required("runner", &new.runner, 300)?;
    required("host", &new.host, 300)?;
    optional("account", &new.account, 200)?;
    for (field, value) in [
        ("worktree", &new.worktree),
        ("branch", &new.branch),
        ("session", &new.session),
        ("spool", &new.spool),
    ] {
        optional(field, value, 4096)?;
    }
    let task_title = load_live(tx, new.task)?.task.title;
    touch(tx, agent, now)?;
    let rows = tx.sql().query(
        "INSERT INTO runs (task, agent, provider, account, attempt, runner, host, status, \
         worktree, branch, session, spool, started_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?9, ?10, ?11, ?12, ?12) RETURNING id",
        &[
            new.task.number().into(),
            agent.into(),
            new.provider.as_str().into(),
            new.account.clone().into(),
            new.attempt.max(1).into(),
            new.runner.as_str().into(),
            new.host.as_str().into(),
            new.worktree.clone().into(),
            new.branch.clone().into(),
            new.session.clone().into(),
            new.spool.clone().into(),
            now.into(),
        ],
    )?;
    let id = match rows.first().and_then(|r| r.first()) {
        Some(RawValue::Integer(n)) => RunId(*n as u64),
        other => {
            return Err(Error::Internal(format!(
                "a new run's id came back as {other:?}"
            )))
        }
    };
    // The run is its agent's session: what the agent writes meanwhile carries it.
    super::sessions::start(
        tx,
        agent,
        crate::api::NewSession {
            purpose: Some(cut_text(
                &format!("{id} on {}: {task_title}", new.task),
                1000,
            )),
            kind: Some(crate::model::ActorKind::Ai),
            tool: Some(new.provider.clone()),
        },
        Some(id),
        now,
    )?;
    event(
        tx,
        now,
        agent,
        actions::RUN_STARTED,
        Some(new.task),
        json!({
            "run": id, "provider": new.provider, "account": new.account,
            "attempt": new.attempt.max(1), "host": new.host, "resumes": new.session.is_some(),
        }),
    )?;
    load_run(tx.sql(), id)
}

fn write_usage(tx: &mut dyn StoreTx, id: RunId, usage: &RunUsage) -> Result<()> {
    tx.sql().execute(
        "UPDATE runs SET input_tokens = ?2, output_tokens = ?3, cache_read_tokens = ?4, \
         cache_write_tokens = ?5, reasoning_tokens = ?6, cost_micros = ?7, turns = ?8 \
         WHERE id = ?1",
        &[
            id.number().into(),
            usage.input_tokens.into(),
            usage.output_tokens.into(),
            usage.cache_read_tokens.into(),
            usage.cache_write_tokens.into(),
            usage.reasoning_tokens.into(),
            cost_micros(usage).into(),
            usage.turns.into(),
        ],
    )?;
    Ok(())
}

pub fn update(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: RunId,
    update: RunUpdate,
    now: Timestamp,
) -> Result<Run> {
    optional("session", &update.session, 4096)?;
    optional("runner", &update.runner, 300)?;
    let run = load_running(tx.sql(), id)?;
    tx.sql().execute(
        "UPDATE runs SET pid = coalesce(?2, pid), pgid = coalesce(?3, pgid), \
         process_start = coalesce(?4, process_start), session = coalesce(?5, session), \
         runner = coalesce(?6, runner), updated_at = ?7 WHERE id = ?1",
        &[
            id.number().into(),
            update.pid.into(),
            update.pgid.into(),
            update.process_start.into(),
            update.session.clone().into(),
            update.runner.clone().into(),
            now.into(),
        ],
    )?;
    if let Some(usage) = &update.usage {
        write_usage(tx, id, usage)?;
    }
    if let Some(runner) = update.runner.filter(|r| *r != run.runner) {
        event(
            tx,
            now,
            actor,
            actions::RUN_ADOPTED,
            Some(run.task),
            json!({ "run": id, "runner": runner, "was": run.runner }),
        )?;
    }
    load_run(tx.sql(), id)
}

pub fn finish(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: RunId,
    end: RunEnd,
    now: Timestamp,
) -> Result<Run> {
    if end.status == RunStatus::Running {
        return Err(Error::invalid_with_hint(
            "a run cannot end as running",
            "give the status it ended with (succeeded, crashed, stopped, ...)",
        ));
    }
    optional("session", &end.session, 4096)?;
    let run = load_running(tx.sql(), id)?;
    let final_text = end.final_text.as_deref().map(|t| cut_text(t, MAX_TEXT));
    let reason = end.reason.as_deref().map(|t| cut_text(t, MAX_TEXT));
    tx.sql().execute(
        "UPDATE runs SET status = ?2, reason = ?3, final_text = ?4, session = coalesce(?5, session), \
         ended_at = ?6, updated_at = ?6 WHERE id = ?1",
        &[
            id.number().into(),
            end.status.as_str().into(),
            reason.clone().into(),
            final_text.into(),
            end.session.clone().into(),
            now.into(),
        ],
    )?;
    if let Some(usage) = &end.usage {
        write_usage(tx, id, usage)?;
    }
    let done = load_run(tx.sql(), id)?;
    event(
        tx,
        now,
        actor,
        actions::RUN_FINISHED,
        Some(run.task),
        json!({
            "run": id, "status": end.status, "reason": reason, "provider": run.provider,
            "account": run.account, "tokens": done.usage.total_tokens(),
            "cost_usd": done.usage.cost_usd,
        }),
    )?;
    super::sessions::end_run(tx, id, end.status.as_str(), now)?;
    Ok(done)
}

pub fn list(db: &mut dyn Sql, filter: &RunFilter) -> Result<Vec<Run>> {
    let mut f = Filter::default();
    if !filter.status.is_empty() {
        let list = filter
            .status
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        // The names come from the enum, never from the caller's text.
        f.and_fixed(format!("status IN ({list})"));
    }
    if let Some(task) = filter.task {
        f.and("task = ?", task.number());
    }
    if let Some(host) = &filter.host {
        f.and("host = ?", host.as_str());
    }
    let limit = f.push(filter.limit.unwrap_or(100).clamp(1, MAX_LIST));
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM runs{} ORDER BY id DESC LIMIT {limit}",
        f.where_clause()
    );
    query_map(db, "runs", &sql, &f.params, run_from_row)
}

pub fn stop(tx: &mut dyn StoreTx, actor: &str, id: RunId, now: Timestamp) -> Result<Run> {
    let run = load_running(tx.sql(), id)?;
    if !run.stop_requested {
        tx.sql().execute(
            "UPDATE runs SET stop_requested = 1, updated_at = ?2 WHERE id = ?1",
            &[id.number().into(), now.into()],
        )?;
        event(
            tx,
            now,
            actor,
            actions::RUN_STOP_REQUESTED,
            Some(run.task),
            json!({ "run": id, "agent": run.agent }),
        )?;
    }
    load_run(tx.sql(), id)
}

pub fn retry(tx: &mut dyn StoreTx, actor: &str, id: RunId, now: Timestamp) -> Result<Task> {
    let run = load_run(tx.sql(), id)?;
    if !run.status.is_final() {
        return Err(Error::Conflict {
            code: "run_running",
            message: format!("run {id} is still running"),
            hint: Some(format!("stop it first with `baton run stop {id}`")),
        });
    }
    let task = load_live(tx, run.task)?.task;
    let task = match task.status {
        Status::Blocked => claims::unblock(tx, actor, run.task, now)?,
        Status::Open | Status::Backlog => super::finish(load_live(tx, run.task)?),
        other => {
            return Err(Error::Conflict {
                code: "task_not_retryable",
                message: format!(
                    "task {} is {other}; only a blocked or open task is run again",
                    run.task
                ),
                hint: Some(match other {
                    Status::InProgress => "an agent holds it now; stop that run first".into(),
                    _ => "reject it back to the queue (`baton task reject`) to run it again".into(),
                }),
            })
        }
    };
    event(
        tx,
        now,
        actor,
        actions::RUN_RETRY_REQUESTED,
        Some(run.task),
        json!({ "run": id, "status": run.status, "session": run.session.is_some() }),
    )?;
    Ok(task)
}

/// Appends `lines`, cut; keeps the newest [`LOG_LINES_KEPT`]. Returns the run's count.
pub fn append_log(
    tx: &mut dyn StoreTx,
    id: RunId,
    lines: Vec<String>,
    now: Timestamp,
) -> Result<u64> {
    if lines.len() > MAX_LOG_BATCH {
        return Err(Error::invalid_with_hint(
            format!(
                "{} lines in one append; at most {MAX_LOG_BATCH}",
                lines.len()
            ),
            "send them in smaller batches",
        ));
    }
    let run = load_run(tx.sql(), id)?;
    let mut seq = run.log_lines;
    for line in &lines {
        seq += 1;
        tx.sql().execute(
            "INSERT INTO run_logs (run, seq, at, line) VALUES (?1, ?2, ?3, ?4)",
            &[
                id.number().into(),
                seq.into(),
                now.into(),
                cut_text(line, MAX_LOG_LINE).into(),
            ],
        )?;
    }
    if seq != run.log_lines {
        tx.sql().execute(
            "UPDATE runs SET log_lines = ?2 WHERE id = ?1",
            &[id.number().into(), seq.into()],
        )?;
        if seq > LOG_LINES_KEPT {
            tx.sql().execute(
                "DELETE FROM run_logs WHERE run = ?1 AND seq <= ?2",
                &[id.number().into(), (seq - LOG_LINES_KEPT).into()],
            )?;
        }
    }
    Ok(seq)
}

pub fn log(db: &mut dyn Sql, id: RunId, after: u64, limit: u64) -> Result<Vec<RunLogLine>> {
    load_run(db, id)?;
    query_map(
        db,
        "run log",
        "SELECT seq, at, line FROM run_logs WHERE run = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        &[
            id.number().into(),
            after.into(),
            limit.clamp(1, LOG_LINES_KEPT).into(),
        ],
        |r| {
            Ok(RunLogLine {
                seq: r.uint(0)?,
                at: r.ts(1)?,
                line: r.text(2)?,
            })
        },
    )
}

const ACCOUNT_COLUMNS: &str = "provider, name, status, until, reason, last_used_at, updated_at";

fn account_from_row(r: &Row<'_>) -> Result<AccountState> {
    let status = r.text(2)?;
    Ok(AccountState {
        provider: r.text(0)?,
        name: r.text(1)?,
        status: AccountStatus::parse(&status).ok_or_else(|| {
            Error::Internal(format!("an account has the unknown status {status}"))
        })?,
        until: r.opt_ts(3)?,
        reason: r.opt_text(4)?,
        last_used_at: r.opt_ts(5)?,
        updated_at: r.ts(6)?,
    })
}

pub fn set_account(
    tx: &mut dyn StoreTx,
    actor: &str,
    update: AccountUpdate,
    now: Timestamp,
) -> Result<AccountState> {
    required("provider", &update.provider, 100)?;
    required("account name", &update.name, 200)?;
    optional("reason", &update.reason, MAX_TEXT)?;
    if update.status == AccountStatus::Cooling && update.until.is_none() {
        return Err(Error::invalid_with_hint(
            "a cooling account needs the time it comes back",
            "give `until`",
        ));
    }
    let until = match update.status {
        AccountStatus::Cooling => update.until,
        _ => None,
    };
    let used: RawValue = if update.used {
        now.into()
    } else {
        RawValue::Null
    };
    let before = account(tx.sql(), &update.provider, &update.name)?;
    tx.sql().execute(
        "INSERT INTO runner_accounts (provider, name, status, until, reason, last_used_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (provider, name) DO UPDATE SET status = excluded.status, \
         until = excluded.until, reason = excluded.reason, \
         last_used_at = coalesce(excluded.last_used_at, runner_accounts.last_used_at), \
         updated_at = excluded.updated_at",
        &[
            update.provider.as_str().into(),
            update.name.as_str().into(),
            update.status.as_str().into(),
            until.into(),
            update.reason.clone().into(),
            used,
            now.into(),
        ],
    )?;
    // A change of state is an event; handing the account to a run is not.
    if before.as_ref().map(|b| b.status) != Some(update.status) {
        event(
            tx,
            now,
            actor,
            actions::ACCOUNT_UPDATED,
            None,
            json!({
                "provider": update.provider, "account": update.name,
                "status": update.status, "until": until, "reason": update.reason,
            }),
        )?;
    }
    account(tx.sql(), &update.provider, &update.name)?
        .ok_or_else(|| Error::Internal("an account just written is missing".into()))
}

fn account(db: &mut dyn Sql, provider: &str, name: &str) -> Result<Option<AccountState>> {
    Ok(query_map(
        db,
        "account",
        &format!("SELECT {ACCOUNT_COLUMNS} FROM runner_accounts WHERE provider = ?1 AND name = ?2"),
        &[provider.into(), name.into()],
        account_from_row,
    )?
    .pop())
}

pub fn accounts(db: &mut dyn Sql, provider: Option<&str>) -> Result<Vec<AccountState>> {
    let mut f = Filter::default();
    if let Some(p) = provider {
        f.and("provider = ?", p);
    }
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM runner_accounts{} ORDER BY provider, name",
        f.where_clause()
    );
    query_map(db, "accounts", &sql, &f.params, account_from_row)
}
