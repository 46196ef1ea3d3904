//! Sessions: a span of work by one identity. One is open per identity at a time; every
//! event the identity writes meanwhile carries it (see [`open_for`], used by the one place
//! events are made). A runner's run opens one for its agent and ends it with the run.

use serde_json::json;

use super::{event, validate};
use crate::api::{NewSession, SessionQuery, StopSession};
use crate::error::{Error, Result};
use crate::id::{RunId, SessionId};
use crate::model::{actions, ActorKind, Session, SessionInfo};
use crate::sql::{load_by_id, query_map, Filter, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

const COLUMNS: &str =
    "id, identity, purpose, kind, tool, run, started_at, ended_at, ended_by, end_reason";
const MAX_PURPOSE: usize = 1_000;
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1_000;

fn from_row(r: &Row<'_>) -> Result<Session> {
    let kind = r.text(3)?;
    Ok(Session {
        id: SessionId(r.uint(0)?),
        identity: r.text(1)?,
        purpose: r.opt_text(2)?,
        kind: ActorKind::parse(&kind)
            .ok_or_else(|| Error::Internal(format!("a session has the unknown kind {kind}")))?,
        tool: r.opt_text(4)?,
        run: r.opt_uint(5)?.map(RunId),
        started_at: r.ts(6)?,
        ended_at: r.opt_ts(7)?,
        ended_by: r.opt_text(8)?,
        end_reason: r.opt_text(9)?,
    })
}

pub fn load(db: &mut dyn Sql, id: SessionId) -> Result<Session> {
    load_by_id(
        db,
        "session",
        &format!("SELECT {COLUMNS} FROM sessions WHERE id = ?1"),
        id.number(),
        "list sessions with `baton session list`",
        from_row,
        id,
    )
}

/// The session `identity` has open, if any: what its events are written in.
pub fn open_for(db: &mut dyn Sql, identity: &str) -> Result<Option<SessionId>> {
    let rows = db.query(
        "SELECT id FROM sessions WHERE identity = ?1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
        &[identity.into()],
    )?;
    Ok(rows
        .first()
        .map(|r| Row::new(r, "session").uint(0))
        .transpose()?
        .map(SessionId))
}

/// The error for an identity that has no open session.
pub fn no_open_session(identity: &str) -> Error {
    Error::Conflict {
        code: "no_open_session",
        message: format!("{identity} has no open session"),
        hint: Some(
            "start one with `baton session start`, or name one: `baton session stop S-3`".into(),
        ),
    }
}

fn end(
    tx: &mut dyn StoreTx,
    session: &Session,
    by: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Session> {
    // Written while the session is still open, so that it carries it.
    event(
        tx,
        now,
        &session.identity,
        actions::SESSION_ENDED,
        None,
        json!({ "session": session.id, "reason": reason, "by": by, "run": session.run }),
    )?;
    tx.sql().execute(
        "UPDATE sessions SET ended_at = ?2, ended_by = ?3, end_reason = ?4 \
         WHERE id = ?1 AND ended_at IS NULL",
        &[
            session.id.number().into(),
            now.into(),
            by.into(),
            reason.into(),
        ],
    )?;
    load(tx.sql(), session.id)
}

/// Opens a session for `identity` (ending the one it has open: `replaced`).
pub fn start(
    tx: &mut dyn StoreTx,
    identity: &str,
    new: NewSession,
    run: Option<RunId>,
    now: Timestamp,
) -> Result<Session> {
    let purpose = new
        .purpose
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if purpose.is_some_and(|p| p.len() > MAX_PURPOSE) {
        return Err(Error::invalid_with_hint(
            "a session's purpose takes up to 1,000 bytes",
            "say in a line what the session is for",
        ));
    }
    if let Some(tool) = &new.tool {
        validate::validate_agent_name(tool)?;
    }
    if let Some(open) = open_for(tx.sql(), identity)? {
        let open = load(tx.sql(), open)?;
        end(tx, &open, identity, "replaced", now)?;
    }
    let rows = tx.sql().query(
        "INSERT INTO sessions (identity, purpose, kind, tool, run, started_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        &[
            identity.into(),
            purpose.into(),
            new.kind.unwrap_or(ActorKind::Human).as_str().into(),
            new.tool.clone().into(),
            run.map(|r| r.number()).into(),
            now.into(),
        ],
    )?;
    let id = SessionId(
        rows.first()
            .ok_or_else(|| Error::Internal("a new session's id did not come back".into()))
            .and_then(|r| Row::new(r, "session").uint(0))?,
    );
    event(
        tx,
        now,
        identity,
        actions::SESSION_STARTED,
        None,
        json!({ "session": id, "purpose": purpose, "kind": new.kind.unwrap_or(ActorKind::Human),
                "tool": new.tool, "run": run }),
    )?;
    load(tx.sql(), id)
}

pub fn stop(
    tx: &mut dyn StoreTx,
    actor: &str,
    stop: StopSession,
    now: Timestamp,
) -> Result<Session> {
    let session = match stop.session {
        Some(id) => load(tx.sql(), id)?,
        None => match open_for(tx.sql(), actor)? {
            Some(id) => load(tx.sql(), id)?,
            None => return Err(no_open_session(actor)),
        },
    };
    if session.ended_at.is_some() {
        return Err(Error::Conflict {
            code: "session_ended",
            message: format!(
                "session {} already ended at {}",
                session.id,
                session.ended_at.map(|t| t.to_string()).unwrap_or_default()
            ),
            hint: Some("start another with `baton session start`".into()),
        });
    }
    if let Some(run) = session.run {
        return Err(Error::Conflict {
            code: "run_session",
            message: format!("session {} is run {run}'s and ends with it", session.id),
            hint: Some(format!("stop the run instead: baton runs stop {run}")),
        });
    }
    if session.identity != actor {
        return Err(Error::Forbidden {
            message: format!(
                "session {} is {}'s; only they can stop it",
                session.id, session.identity
            ),
            hint: Some(format!("act as them: --agent {}", session.identity)),
        });
    }
    end(tx, &session, actor, "stopped", now)
}

/// Ends a run's session (when its run ends), with the run's final status as the reason.
pub fn end_run(tx: &mut dyn StoreTx, run: RunId, reason: &str, now: Timestamp) -> Result<()> {
    let open = query_map(
        tx.sql(),
        "session",
        &format!("SELECT {COLUMNS} FROM sessions WHERE run = ?1 AND ended_at IS NULL"),
        &[run.number().into()],
        from_row,
    )?;
    for session in open {
        let by = session.identity.clone();
        end(tx, &session, &by, reason, now)?;
    }
    Ok(())
}

pub fn info(db: &mut dyn Sql, id: SessionId) -> Result<SessionInfo> {
    let session = load(db, id)?;
    let rows = db.query(
        "SELECT count(*), count(*) FILTER (WHERE action LIKE 'log.%'), \
         count(*) FILTER (WHERE action LIKE 'log.%' AND detail LIKE '%\"level\":\"error\"%'), \
         count(DISTINCT task), max(at) FROM events WHERE session = ?1",
        &[id.number().into()],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| Error::Internal("counting a session's events returned no row".into()))?;
    let r = Row::new(row, "session");
    Ok(SessionInfo {
        session,
        events: r.uint(0)?,
        log_entries: r.uint(1)?,
        errors: r.uint(2)?,
        tasks: r.uint(3)?,
        last_event_at: r.opt_ts(4)?,
    })
}

pub fn list(db: &mut dyn Sql, q: &SessionQuery) -> Result<Vec<Session>> {
    let mut filter = Filter::default();
    if let Some(identity) = &q.identity {
        filter.and("identity = ?", identity.as_str());
    }
    if q.open {
        filter.and_fixed("ended_at IS NULL".into());
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let limit = filter.push(limit);
    query_map(
        db,
        "session",
        &format!(
            "SELECT {COLUMNS} FROM sessions{} ORDER BY id DESC LIMIT {limit}",
            filter.where_clause()
        ),
        &filter.params,
        from_row,
    )
}

impl<S: crate::store::Store> crate::api::Operations for super::Board<S> {
    fn log(&self, actor: &str, entry: crate::api::NewLogEntry) -> Result<crate::model::Event> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::operations::log(tx, actor, entry.clone(), now)
        })
    }

    fn log_batch(
        &self,
        actor: &str,
        batch: crate::api::LogBatch,
    ) -> Result<crate::api::LogBatchReport> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::operations::log_batch(tx, actor, &batch, now)
        })
    }

    fn start_session(&self, actor: &str, new: NewSession) -> Result<Session> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| start(tx, actor, new.clone(), None, now))
    }

    fn stop_session(&self, actor: &str, stop_: StopSession) -> Result<Session> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| stop(tx, actor, stop_.clone(), now))
    }

    fn session(&self, id: SessionId) -> Result<SessionInfo> {
        self.read(|tx, _| info(tx.sql(), id))
    }

    fn sessions(&self, query: &SessionQuery) -> Result<Vec<Session>> {
        self.read(|tx, _| list(tx.sql(), query))
    }

    fn stats(&self, log_after: u64) -> Result<crate::api::OperationsStats> {
        self.read(|tx, _| super::operations::stats(tx.sql(), log_after))
    }

    fn record_telemetry(
        &self,
        actor: &str,
        batch: crate::api::TelemetryBatch,
    ) -> Result<crate::api::TelemetryReport> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::telemetry::record_batch(tx, actor, &batch, now)
        })
    }

    fn prune(
        &self,
        actor: &str,
        request: crate::api::PruneRequest,
    ) -> Result<crate::api::PruneReport> {
        validate::actor(actor)?;
        self.prune_as(actor, request)
    }

    fn prune_as_system(
        &self,
        request: crate::api::PruneRequest,
    ) -> Result<crate::api::PruneReport> {
        self.prune_as(super::SYSTEM, request)
    }

    fn telemetry(&self, run: RunId) -> Result<Vec<crate::model::TelemetrySeries>> {
        self.read(|tx, _| super::telemetry::of_run(tx.sql(), run))
    }
}

impl<S: crate::store::Store> super::Board<S> {
    fn prune_as(
        &self,
        actor: &str,
        request: crate::api::PruneRequest,
    ) -> Result<crate::api::PruneReport> {
        if request.dry_run {
            return self.read(|tx, now| super::retention::prune(tx, actor, &request, now));
        }
        self.write(actor, |tx, now| {
            super::retention::prune(tx, actor, &request, now)
        })
    }
}
