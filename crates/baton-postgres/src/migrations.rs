//! Versioned schema migrations, recorded in `baton_schema`. An older database is upgraded
//! on open (under an advisory lock, so replicas starting together migrate once); a newer
//! one is refused rather than misread.

use baton_core::{Error, Result};
use postgres::Client;

use crate::{map_err, MIGRATE_LOCK};

pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_board", include_str!("../migrations/0001_board.sql")),
    (
        "0002_claim_next",
        include_str!("../migrations/0002_claim_next.sql"),
    ),
    (
        "0003_holder_probe",
        include_str!("../migrations/0003_holder_probe.sql"),
    ),
    (
        "0004_task_counts",
        include_str!("../migrations/0004_task_counts.sql"),
    ),
    ("0005_runs", include_str!("../migrations/0005_runs.sql")),
    ("0006_teams", include_str!("../migrations/0006_teams.sql")),
    ("0007_plan", include_str!("../migrations/0007_plan.sql")),
    ("0008_merges", include_str!("../migrations/0008_merges.sql")),
    (
        "0009_sessions",
        include_str!("../migrations/0009_sessions.sql"),
    ),
    (
        "0010_retention",
        include_str!("../migrations/0010_retention.sql"),
    ),
    (
        "0011_task_losses",
        include_str!("../migrations/0011_task_losses.sql"),
    ),
    (
        "0012_webhooks",
        include_str!("../migrations/0012_webhooks.sql"),
    ),
    (
        "0013_login_failures",
        include_str!("../migrations/0013_login_failures.sql"),
    ),
];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS baton_schema ( \
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

pub fn version(client: &mut Client) -> Result<i64> {
    let exists: bool = client
        .query_one("SELECT to_regclass('baton_schema') IS NOT NULL", &[])
        .map_err(map_err)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM baton_schema", &[])
        .map_err(map_err)?;
    Ok(row.get(0))
}

/// Brings the schema up to [`LATEST`], all steps in one transaction.
pub fn migrate(client: &mut Client) -> Result<()> {
    let current = version(client)?;
    if current > LATEST {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: LATEST,
        });
    }
    if current == LATEST {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(map_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATE_LOCK])
        .map_err(map_err)?;
    tx.batch_execute(SCHEMA_TABLE).map_err(map_err)?;
    // Read again under the lock: another process may have migrated meanwhile.
    let current: i64 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM baton_schema", &[])
        .map_err(map_err)?
        .get(0);
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate() {
        let number = index as i64 + 1;
        if number <= current {
            continue;
        }
        tx.batch_execute(sql)
            .map_err(|e| Error::Internal(format!("migration {name} failed: {e}")))?;
        tx.execute(
            "INSERT INTO baton_schema (version, name) VALUES ($1, $2)",
            &[&number, name],
        )
        .map_err(map_err)?;
    }
    tx.commit().map_err(map_err)
}
