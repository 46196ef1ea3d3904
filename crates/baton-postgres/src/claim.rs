//! Pickup's common case in one round trip: [`Store::claim_next`] calls the server-side
//! function `baton_claim_next` (migration 0002), which either claims the best ready task
//! exactly as core would or declines with nothing written, so core runs the call.
//!
//! A pickup through core is a dozen dependent statements (lease and renewal checks, the
//! ready queue, the claim, the surface, the agent, the event), each a round trip; under the
//! write lock those round trips are what limits pickups per second. The function does the
//! same checks and writes inside the database.
//!
//! `BATON_PG_ONE_STEP=off` turns it off (every pickup goes through core), to compare.
//!
//! The lease's end is computed here, from the lease TTL core derives from the settings
//! ([`leases::lease_ttl`]); the raw setting it came from is remembered per store and sent
//! along, and the function declines when the stored setting differs (someone changed it),
//! after which it is read again.

use std::time::Duration;

use baton_core::board::leases;
use baton_core::model::{Claim, TaskRecord};
use baton_core::store::NextClaim;
use baton_core::{Result, Store};

use crate::rows::{get, record_from_row, ts_text, TASK_WIDTH};
use crate::{Kind, PostgresStore, EVENTS_CHANNEL};

const CLAIM_NEXT: &str =
    "SELECT * FROM baton_claim_next($1, $2, $3, $4, $5, $6::text[], $7, $8, $9)";

/// The lease TTL and the raw `lease_ttl` setting it was derived from (`None`: unset).
#[derive(Clone)]
pub(crate) struct LeaseTtl {
    setting: Option<String>,
    ttl: Duration,
}

impl PostgresStore {
    fn lease_ttl(&self) -> Result<LeaseTtl> {
        if let Some(known) = self.lease_ttl.lock().ok().and_then(|l| l.clone()) {
            return Ok(known);
        }
        let read = self.read(|tx| {
            Ok(LeaseTtl {
                setting: tx.setting(leases::LEASE_TTL)?,
                ttl: leases::lease_ttl(tx)?,
            })
        })?;
        if let Ok(mut slot) = self.lease_ttl.lock() {
            *slot = Some(read.clone());
        }
        Ok(read)
    }

    pub(crate) fn claim_next_now(&self, c: &NextClaim<'_>) -> Result<Option<(TaskRecord, Claim)>> {
        if !self.one_step {
            return Ok(None);
        }
        let lease = self.lease_ttl()?;
        let until = c.now.plus(lease.ttl);
        let renew_before = c.now.plus(lease.ttl / 2);
        let satisfied: Vec<String> = c.satisfied.iter().map(|s| s.as_str().to_string()).collect();
        let (now_text, until_text, renew_text) =
            (ts_text(c.now), ts_text(until), ts_text(renew_before));
        // No savepoint of its own inside a group (a round trip and a subtransaction): the
        // function only declines or claims; should the statement itself fail (a lost
        // connection), the group is reported failed and its callers retry.
        let row = self.transaction_with(Kind::Write, false, |tx| {
            tx.query_one(
                CLAIM_NEXT,
                &[
                    &c.agent,
                    &now_text,
                    &until_text,
                    &renew_text,
                    &lease.setting,
                    &satisfied,
                    &c.capability,
                    &c.action,
                    &EVENTS_CHANNEL,
                ],
            )
        })?;
        let outcome: String = get(&row, TASK_WIDTH + 2)?;
        match outcome.as_str() {
            "claimed" => {
                self.one_step_claims
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let record = record_from_row(&row)?;
                let claim = Claim {
                    fence: record.task.fence,
                    lease_expires_at: until,
                };
                Ok(Some((record, claim)))
            }
            "lease_ttl_changed" => {
                if let Ok(mut slot) = self.lease_ttl.lock() {
                    *slot = None;
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }
}

/// Whether pickups may use the function (`BATON_PG_ONE_STEP=off` says no).
pub(crate) fn one_step_enabled() -> bool {
    std::env::var("BATON_PG_ONE_STEP").map_or(true, |v| v.trim() != "off")
}
