//! Errands: a small isolated change, one agent on a branch of its own off the default
//! branch, with no task board around it. The board keeps each errand's record and its
//! lifecycle; the CLI's runner does the git work (start, chat, merge) and records it here.
//!
//! `active -> pending_review -> merged`, with `conflict` when merging would conflict (back
//! to `active` while the agent resolves it, or to `pending_review` once resolved), and
//! `abandoned` from anything but `merged` (reopened to `active`).
//!
//! What a person asks of an errand (its first run, a chat message, a merge) is a request on
//! its record, one at a time, taken by a runner under a lease like a merge: the dashboard
//! asks and the runner does the work; `baton errand` asks and takes it at once.

use std::time::Duration;

use serde_json::json;

use super::{event, leases, merges, validate};
use crate::api::{ErrandClaim, ErrandFinish, ErrandRequest, ErrandUpdate, NewErrand};
use crate::error::{Error, Result};
use crate::id::ErrandId;
use crate::model::{actions, Errand, ErrandAsk, ErrandStatus};
use crate::sql::{list_value, load_by_id, query_map, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

const COLUMNS: &str = "id, title, branch, base_branch, status, provider, agent, session, base, \
    result, conflicts, reason, created_by, created_at, updated_at, request, request_text, \
    requested_by, claimed_by, reply";
const MAX_TITLE: usize = 100_000;
/// How long a runner's claim on an errand's request holds unless it asks otherwise: an
/// agent's run is long.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(1800);
const MAX_LEASE_SECS: u64 = 6 * 3600;
const MAX_REPLY: usize = 100_000;

fn from_row(r: &Row<'_>) -> Result<Errand> {
    let status = r.text(4)?;
    let request = match r.opt_text(15)? {
        Some(a) => Some(
            ErrandAsk::parse(&a)
                .ok_or_else(|| Error::Internal(format!("an errand has the unknown request {a}")))?,
        ),
        None => None,
    };
    Ok(Errand {
        id: ErrandId(r.uint(0)?),
        title: r.text(1)?,
        branch: r.text(2)?,
        base_branch: r.text(3)?,
        status: ErrandStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("an errand has the unknown status {status}")))?,
        provider: r.opt_text(5)?,
        agent: r.opt_text(6)?,
        session: r.opt_text(7)?,
        base: r.opt_text(8)?,
        result: r.opt_text(9)?,
        conflicts: r.list(10)?,
        reason: r.opt_text(11)?,
        created_by: r.text(12)?,
        created_at: r.ts(13)?,
        updated_at: r.ts(14)?,
        request,
        request_text: r.opt_text(16)?,
        requested_by: r.opt_text(17)?,
        claimed_by: r.opt_text(18)?,
        reply: r.opt_text(19)?,
    })
}

pub fn load(db: &mut dyn Sql, id: ErrandId) -> Result<Errand> {
    load_by_id(
        db,
        "errand",
        &format!("SELECT {COLUMNS} FROM errands WHERE id = ?1"),
        id.number(),
        "list errands with `baton errand list`",
        from_row,
        id,
    )
}

pub fn list(db: &mut dyn Sql, status: Option<ErrandStatus>) -> Result<Vec<Errand>> {
    match status {
        Some(s) => query_map(
            db,
            "errand",
            &format!("SELECT {COLUMNS} FROM errands WHERE status = ?1 ORDER BY id DESC"),
            &[s.as_str().into()],
            from_row,
        ),
        None => query_map(
            db,
            "errand",
            &format!("SELECT {COLUMNS} FROM errands ORDER BY id DESC"),
            &[],
            from_row,
        ),
    }
}

pub fn create(tx: &mut dyn StoreTx, actor: &str, new: NewErrand, now: Timestamp) -> Result<Errand> {
    let title = new.title.trim().to_string();
    if title.is_empty() || title.len() > MAX_TITLE {
        return Err(Error::invalid_with_hint(
            "an errand needs what to do, in up to 100,000 bytes",
            "for example: baton errand start \"fix the typo in README\"",
        ));
    }
    if let Some(p) = &new.provider {
        validate::validate_agent_name(p)?;
    }
    let base_branch = leases::setting(tx, leases::DEFAULT_BRANCH)?;
    // The branch is named by the id, known once the row is in: a placeholder first.
    let placeholder = format!("baton/errand-new-{}", now.unix_millis());
    let id = query_map(
        tx.sql(),
        "errand",
        "INSERT INTO errands (title, branch, base_branch, status, provider, created_by, \
         created_at, updated_at, request, requested_by) \
         VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6, ?6, 'start', ?5) RETURNING id",
        &[
            title.as_str().into(),
            placeholder.as_str().into(),
            base_branch.as_str().into(),
            new.provider.clone().into(),
            actor.into(),
            now.into(),
        ],
        |r| Ok(ErrandId(r.uint(0)?)),
    )?
    .pop()
    .ok_or_else(|| Error::Internal("inserting an errand returned no id".into()))?;
    let branch = format!("baton/errand-{}", id.number());
    tx.sql().execute(
        "UPDATE errands SET branch = ?2 WHERE id = ?1",
        &[id.number().into(), branch.as_str().into()],
    )?;
    event(
        tx,
        now,
        actor,
        actions::ERRAND_CREATED,
        None,
        json!({ "errand": id, "title": title, "branch": branch, "base_branch": base_branch }),
    )?;
    load(tx.sql(), id)
}

fn allowed(from: ErrandStatus, to: ErrandStatus) -> bool {
    use ErrandStatus::*;
    from == to
        || matches!(
            (from, to),
            (Active, PendingReview | Conflict | Abandoned)
                | (PendingReview, Active | Conflict | Merged | Abandoned)
                | (Conflict, Active | PendingReview | Merged | Abandoned)
                | (Abandoned, Active)
        )
}

pub fn update(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: ErrandId,
    u: ErrandUpdate,
    now: Timestamp,
) -> Result<Errand> {
    let before = load(tx.sql(), id)?;
    let mut after = before.clone();
    if let Some(to) = u.status {
        if !allowed(before.status, to) {
            return Err(Error::Conflict {
                code: "invalid_transition",
                message: format!("errand {id} is {}; it cannot become {to}", before.status),
                hint: Some(match before.status {
                    ErrandStatus::Merged => "a merged errand is finished; delete it".into(),
                    ErrandStatus::Abandoned => "reopen it first (to active)".into(),
                    _ => "see `baton errand --help` for its lifecycle".into(),
                }),
            });
        }
        after.status = to;
    }
    for (value, field) in [
        (&u.agent, &mut after.agent),
        (&u.session, &mut after.session),
        (&u.base, &mut after.base),
        (&u.result, &mut after.result),
    ] {
        if let Some(v) = value {
            if v.len() > 4096 {
                return Err(Error::invalid("an errand field is longer than 4,096 bytes"));
            }
            *field = Some(v.clone());
        }
    }
    if let Some(c) = u.conflicts {
        after.conflicts = c.into_iter().take(1000).collect();
    }
    if let Some(r) = u.reason {
        let r = r.trim();
        after.reason = (!r.is_empty()).then(|| r.chars().take(8000).collect());
    }
    tx.sql().execute(
        "UPDATE errands SET status = ?2, agent = ?3, session = ?4, base = ?5, result = ?6, \
         conflicts = ?7, reason = ?8, updated_at = ?9 WHERE id = ?1",
        &[
            id.number().into(),
            after.status.as_str().into(),
            after.agent.clone().into(),
            after.session.clone().into(),
            after.base.clone().into(),
            after.result.clone().into(),
            list_value(&after.conflicts),
            after.reason.clone().into(),
            now.into(),
        ],
    )?;
    event(
        tx,
        now,
        actor,
        actions::ERRAND_UPDATED,
        None,
        json!({ "errand": id, "from": before.status, "to": after.status,
                "reason": after.reason, "result": after.result }),
    )?;
    load(tx.sql(), id)
}

pub fn delete(tx: &mut dyn StoreTx, actor: &str, id: ErrandId, now: Timestamp) -> Result<Errand> {
    let errand = load(tx.sql(), id)?;
    if !matches!(
        errand.status,
        ErrandStatus::Merged | ErrandStatus::Abandoned
    ) {
        return Err(Error::Conflict {
            code: "invalid_transition",
            message: format!(
                "errand {id} is {}; only a merged or abandoned one is deleted",
                errand.status
            ),
            hint: Some(format!("abandon it first: baton errand abandon {id}")),
        });
    }
    tx.sql()
        .execute("DELETE FROM errands WHERE id = ?1", &[id.number().into()])?;
    event(
        tx,
        now,
        actor,
        actions::ERRAND_DELETED,
        None,
        json!({ "errand": id, "branch": errand.branch, "status": errand.status }),
    )?;
    Ok(errand)
}

fn busy(e: &Errand) -> Error {
    let ask = e.request.map(|a| a.as_str()).unwrap_or("request");
    Error::Conflict {
        code: "errand_busy",
        message: match &e.claimed_by {
            Some(r) => format!("errand {} is busy: runner {r} is doing its {ask}", e.id),
            None => format!("errand {} already has a {ask} waiting for a runner", e.id),
        },
        hint: Some(format!(
            "wait for it (baton errand show {}), then ask again",
            e.id
        )),
    }
}

/// Records what a person asks of the errand's agent, after the lifecycle's checks.
pub fn request(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: ErrandId,
    request: ErrandRequest,
    now: Timestamp,
) -> Result<Errand> {
    let e = load(tx.sql(), id)?;
    if e.request.is_some() {
        return Err(busy(&e));
    }
    let (ask, text) = match request {
        ErrandRequest::Chat { message } => {
            let message = message.trim().to_string();
            if message.is_empty() || message.len() > MAX_TITLE {
                return Err(Error::invalid_with_hint(
                    "a message to an errand's agent needs text, in up to 100,000 bytes",
                    "for example: baton errand chat E-1 \"also fix the second typo\"",
                ));
            }
            match e.status {
                ErrandStatus::Merged => {
                    return Err(Error::Conflict {
                        code: "invalid_transition",
                        message: format!("errand {id} is merged; its agent is done"),
                        hint: Some("start a new errand for more".into()),
                    })
                }
                // Talking to an abandoned errand's agent takes it up again.
                ErrandStatus::Abandoned => {
                    update(
                        tx,
                        actor,
                        id,
                        ErrandUpdate {
                            status: Some(ErrandStatus::Active),
                            ..ErrandUpdate::default()
                        },
                        now,
                    )?;
                }
                _ => {}
            }
            (ErrandAsk::Chat, Some(message))
        }
        ErrandRequest::Merge { strategy } => {
            if !matches!(
                e.status,
                ErrandStatus::PendingReview | ErrandStatus::Conflict
            ) {
                return Err(Error::Conflict {
                    code: "invalid_transition",
                    message: format!(
                        "errand {id} is {}; only one pending review (or in conflict) is merged",
                        e.status
                    ),
                    hint: Some(
                        match e.status {
                            ErrandStatus::Active => {
                                "its agent has not finished: see `baton errand show`"
                            }
                            _ => "nothing to merge",
                        }
                        .into(),
                    ),
                });
            }
            let strategy = match strategy {
                Some(s) => s,
                None => merges::strategy(tx)?,
            };
            (ErrandAsk::Merge, Some(strategy.as_str().to_string()))
        }
    };
    tx.sql().execute(
        "UPDATE errands SET request = ?2, request_text = ?3, requested_by = ?4, \
         claimed_by = NULL, lease_until = NULL, updated_at = ?5 WHERE id = ?1",
        &[
            id.number().into(),
            ask.as_str().into(),
            text.clone().into(),
            actor.into(),
            now.into(),
        ],
    )?;
    event(
        tx,
        now,
        actor,
        actions::ERRAND_REQUESTED,
        None,
        json!({ "errand": id, "ask": ask, "text": text }),
    )?;
    load(tx.sql(), id)
}

/// A runner takes a waiting request, or one whose claim lapsed.
pub fn claim(
    tx: &mut dyn StoreTx,
    actor: &str,
    claim: &ErrandClaim,
    now: Timestamp,
) -> Result<Option<Errand>> {
    let runner = claim.runner.trim();
    if runner.is_empty() || runner.len() > 200 {
        return Err(Error::invalid("an errand claim needs the runner's name"));
    }
    let lease = claim
        .lease_secs
        .map(|s| Duration::from_secs(s.clamp(1, MAX_LEASE_SECS)))
        .unwrap_or(DEFAULT_LEASE);
    let candidates = match claim.errand {
        Some(id) => {
            let e = load(tx.sql(), id)?;
            if e.request.is_none() {
                return Ok(None);
            }
            vec![id]
        }
        None => query_map(
            tx.sql(),
            "errand",
            "SELECT id FROM errands WHERE request IS NOT NULL \
             AND (claimed_by IS NULL OR lease_until < ?1) \
             AND (CAST(?2 AS TEXT) IS NULL OR request = 'merge' OR provider IS NULL OR provider = ?2) \
             ORDER BY updated_at, id LIMIT 8",
            &[now.into(), claim.provider.clone().into()],
            |r| Ok(ErrandId(r.uint(0)?)),
        )?,
    };
    for id in candidates {
        let taken = tx.sql().execute(
            "UPDATE errands SET claimed_by = ?2, lease_until = ?3 WHERE id = ?1 \
             AND request IS NOT NULL AND (claimed_by IS NULL OR lease_until < ?4 \
             OR claimed_by = ?2)",
            &[
                id.number().into(),
                runner.into(),
                now.plus(lease).into(),
                now.into(),
            ],
        )?;
        if taken == 0 {
            if claim.errand.is_some() {
                return Err(busy(&load(tx.sql(), id)?));
            }
            continue;
        }
        let e = load(tx.sql(), id)?;
        event(
            tx,
            now,
            actor,
            actions::ERRAND_CLAIMED,
            None,
            json!({ "errand": id, "ask": e.request, "runner": runner }),
        )?;
        return Ok(Some(e));
    }
    Ok(None)
}

/// The claiming runner reports its request done, with the agent's reply.
pub fn finish(
    tx: &mut dyn StoreTx,
    actor: &str,
    id: ErrandId,
    runner: &str,
    reply: Option<String>,
    now: Timestamp,
) -> Result<Errand> {
    let e = load(tx.sql(), id)?;
    if e.request.is_none() || e.claimed_by.as_deref() != Some(runner.trim()) {
        return Err(Error::Conflict {
            code: "not_claimed",
            message: format!(
                "runner {runner} does not hold errand {id}'s request{}",
                match &e.claimed_by {
                    Some(other) => format!(" (runner {other} does)"),
                    None => String::new(),
                }
            ),
            hint: Some("its claim lapsed and another runner took it over".into()),
        });
    }
    let reply = reply
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .map(|r| super::runs::cut_text(&r, MAX_REPLY));
    tx.sql().execute(
        "UPDATE errands SET request = NULL, request_text = NULL, requested_by = NULL, \
         claimed_by = NULL, lease_until = NULL, reply = COALESCE(?2, reply), updated_at = ?3 \
         WHERE id = ?1",
        &[id.number().into(), reply.clone().into(), now.into()],
    )?;
    event(
        tx,
        now,
        actor,
        actions::ERRAND_REPLIED,
        None,
        json!({ "errand": id, "ask": e.request, "to": e.requested_by, "reply": reply }),
    )?;
    load(tx.sql(), id)
}

impl<S: crate::store::Store> crate::api::Errands for super::Board<S> {
    fn create_errand(&self, actor: &str, new: NewErrand) -> Result<Errand> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| create(tx, actor, new.clone(), now))
    }

    fn list_errands(&self, status: Option<ErrandStatus>) -> Result<Vec<Errand>> {
        self.store.read(|tx| list(tx.sql(), status))
    }

    fn get_errand(&self, id: ErrandId) -> Result<Errand> {
        self.store.read(|tx| load(tx.sql(), id))
    }

    fn update_errand(&self, actor: &str, id: ErrandId, update: ErrandUpdate) -> Result<Errand> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::errands::update(tx, actor, id, update.clone(), now)
        })
    }

    fn delete_errand(&self, actor: &str, id: ErrandId) -> Result<Errand> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| delete(tx, actor, id, now))
    }

    fn request_errand(&self, actor: &str, id: ErrandId, request: ErrandRequest) -> Result<Errand> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            super::errands::request(tx, actor, id, request.clone(), now)
        })
    }

    fn claim_errand(&self, actor: &str, c: ErrandClaim) -> Result<Option<Errand>> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| claim(tx, actor, &c, now))
    }

    fn finish_errand(&self, actor: &str, id: ErrandId, f: ErrandFinish) -> Result<Errand> {
        validate::actor(actor)?;
        self.write(actor, |tx, now| {
            finish(tx, actor, id, &f.runner, f.reply.clone(), now)
        })
    }
}
