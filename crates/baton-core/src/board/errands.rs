//! Errands: a small isolated change, one agent on a branch of its own off the default
//! branch, with no task board around it. The board keeps each errand's record and its
//! lifecycle; the CLI's runner does the git work (start, chat, merge) and records it here.
//!
//! `active -> pending_review -> merged`, with `conflict` when merging would conflict (back
//! to `active` while the agent resolves it, or to `pending_review` once resolved), and
//! `abandoned` from anything but `merged` (reopened to `active`).

use serde_json::json;

use super::{event, leases, validate};
use crate::api::{ErrandUpdate, NewErrand};
use crate::error::{Error, Result};
use crate::id::ErrandId;
use crate::model::{actions, Errand, ErrandStatus};
use crate::sql::{load_by_id, query_map, Row, Sql};
use crate::store::StoreTx;
use crate::time::Timestamp;

const COLUMNS: &str = "id, title, branch, base_branch, status, provider, agent, session, base, \
    result, conflicts, reason, created_by, created_at, updated_at";
const MAX_TITLE: usize = 100_000;

fn from_row(r: &Row<'_>) -> Result<Errand> {
    let status = r.text(4)?;
    let conflicts = match r.opt_text(10)? {
        Some(t) => serde_json::from_str(&t)
            .map_err(|e| Error::Internal(format!("an errand's conflicts are not JSON: {e}")))?,
        None => Vec::new(),
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
        conflicts,
        reason: r.opt_text(11)?,
        created_by: r.text(12)?,
        created_at: r.ts(13)?,
        updated_at: r.ts(14)?,
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
         created_at, updated_at) VALUES (?1, ?2, ?3, 'active', ?4, ?5, ?6, ?6) RETURNING id",
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
            (!after.conflicts.is_empty())
                .then(|| serde_json::to_string(&after.conflicts).unwrap_or_default())
                .into(),
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
}
