//! Versioned schema migrations, tracked in `PRAGMA user_version`. An older database is
//! upgraded on open; a newer one is refused rather than misread.

use baton_core::{Error, Result};
use rusqlite::Connection;

use crate::map_err;

pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_board", include_str!("../migrations/0001_board.sql")),
    (
        "0002_agents_settings",
        include_str!("../migrations/0002_agents_settings.sql"),
    ),
    (
        "0003_leases_reservations",
        include_str!("../migrations/0003_leases_reservations.sql"),
    ),
    (
        "0004_docs_messages_imports",
        include_str!("../migrations/0004_docs_messages_imports.sql"),
    ),
    (
        "0005_task_counts",
        include_str!("../migrations/0005_task_counts.sql"),
    ),
    ("0006_runs", include_str!("../migrations/0006_runs.sql")),
    ("0007_teams", include_str!("../migrations/0007_teams.sql")),
    ("0008_plan", include_str!("../migrations/0008_plan.sql")),
    ("0009_merges", include_str!("../migrations/0009_merges.sql")),
    (
        "0010_sessions",
        include_str!("../migrations/0010_sessions.sql"),
    ),
    (
        "0011_retention",
        include_str!("../migrations/0011_retention.sql"),
    ),
    (
        "0012_task_losses",
        include_str!("../migrations/0012_task_losses.sql"),
    ),
    (
        "0013_webhooks",
        include_str!("../migrations/0013_webhooks.sql"),
    ),
    (
        "0014_login_failures",
        include_str!("../migrations/0014_login_failures.sql"),
    ),
];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub fn version(conn: &Connection) -> Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(map_err)
}

/// Brings the schema up to `target` (normally [`LATEST`]). Safe when several processes open
/// the same file at once: the version is read again under the write lock.
pub fn migrate_to(conn: &Connection, target: i64) -> Result<()> {
    let current = version(conn)?;
    if current > LATEST {
        return Err(Error::SchemaTooNew {
            found: current,
            supported: LATEST,
        });
    }
    if current >= target {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
    let result = (|| {
        let current = version(conn)?;
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate() {
            let number = index as i64 + 1;
            if number <= current || number > target {
                continue;
            }
            conn.execute_batch(sql)
                .map_err(|e| Error::Internal(format!("migration {name} failed: {e}")))?;
            conn.pragma_update(None, "user_version", number)
                .map_err(map_err)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT").map_err(map_err),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
