//! `baton migrate --to postgres://...`: the project's SQLite board copied into PostgreSQL,
//! every row as it is (task numbers, fences, times, the whole event log, docs with their
//! versions, messages, reservations), for a team moving to shared servers.

use clap::Args;

use std::path::Path;

use super::Context;
use crate::error::{CliError, CliResult};
use crate::project;

#[derive(Args, Debug)]
#[command(after_help = "\
The target must be a new, empty database (the schema is created in it); a database that
already holds a Baton project is refused and left as it was. The copy is one transaction:
it lands whole or not at all. Afterwards the project points at the new board: config.toml
records its URL without the password (this machine keeps the whole URL in
.baton/database.url, readable only by you), commands in the project and `baton serve` use
it, and the SQLite file refuses writes with a `board_moved` error that names the new place
(reads still work). BATON_DATABASE_URL overrides the recorded URL. A running server must be
stopped first. A server on a PostgreSQL board runs in team mode, even on loopback: the page
and the API ask for a login, so create an admin first (`baton user add NAME --admin`).

The default project carries the server's users, API tokens, projects and members with it
(people log in again). Another project (--project KEY) goes into its own schema of the
same database and is registered there; migrate the default project first.")]
pub struct MigrateArgs {
    /// The PostgreSQL database to copy into (postgres://user:password@host:port/name).
    #[arg(long)]
    pub to: String,
}

pub fn run(ctx: &Context, args: MigrateArgs) -> CliResult {
    let url = super::postgres_url(&args.to)?;
    let project = ctx.project()?;
    let key = ctx.project_key().to_string();
    let default = key == baton_core::instance::DEFAULT_PROJECT;
    let from = if default {
        project.database()
    } else {
        ctx.require_registered(&key)?;
        baton_server::backend::project_file(&project.database(), &key)
    };
    let source = baton_sqlite::SqliteStore::open(&from)?;
    if let Some(to) = source.moved_to()? {
        return Err(CliError::new(
            baton_core::ErrorClass::Conflict,
            "board_moved",
            format!("{} was already moved to {to}", from.display()),
        )
        .with_hint("commands in this project use the new board; nothing to migrate"));
    }
    if default {
        if let Ok(server) = super::serve::running(&project) {
            return Err(CliError::new(
                baton_core::ErrorClass::Conflict,
                "server_running",
                format!(
                    "a server (pid {}) serves this board at {}; writes during the copy would be lost",
                    server.pid, server.url
                ),
            )
            .with_hint("stop it first (`baton server stop`), migrate, then serve the new board"));
        }
    }
    let mut tables = source.dump(baton_postgres::PROJECT_TABLES)?;
    let written = if default {
        tables.extend(source.dump(baton_postgres::INSTANCE_TABLES)?);
        baton_postgres::PostgresStore::open(url)?.restore(&tables)?
    } else {
        // Into the project's own schema, then registered in the target's instance.
        let instance = baton_core::Board::new(baton_postgres::PostgresStore::open(url)?);
        let info = ctx.instance_api()?.instance().get_project(&key)?;
        baton_postgres::create_project_schema(url, &key)?;
        let written = baton_postgres::PostgresStore::open(&baton_postgres::project_url(url, &key))?
            .restore(&tables)?;
        use baton_core::Api;
        if instance.instance().get_project(&key).is_err() {
            instance
                .instance()
                .register_project(&info.created_by, &key, &info.name)?;
        }
        written
    };
    // The board lives there now: the project says so, and the old file refuses writes
    // (with where to go) rather than quietly collecting work nobody sees.
    let redacted = baton_postgres::redact(url);
    if default {
        project.record_move(url, &redacted)?;
    }
    // The default project lives in the database's own schema; another in a schema of its
    // own, which its URL names.
    let moved_to = if default {
        redacted.clone()
    } else {
        baton_postgres::project_url(&redacted, &key)
    };
    source.mark_moved(&moved_to)?;
    let rows: serde_json::Map<String, serde_json::Value> = written
        .iter()
        .map(|(table, n)| (table.clone(), (*n).into()))
        .collect();
    let to = baton_postgres::redact(url);
    ctx.out.emit(
        &serde_json::json!({ "from": from, "project": key, "to": to, "rows": rows }),
        |w| {
            writeln!(w, "Copied {} into {to}:", from.display())?;
            let width = written.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
            for (table, n) in &written {
                writeln!(w, "  {table:<width$} {n:>9}")?;
            }
            if default {
                writeln!(
                    w,
                    "The project now uses it: commands here and `baton serve` go there \
                     ({} records where). {} refuses writes from now on.\n\
                     A server on a shared database is in team mode: the dashboard and the API \
                     ask for a login. Create the first admin with `baton user add NAME --admin` \
                     before `baton serve`.",
                    Path::new(project::DIR).join(project::CONFIG).display(),
                    from.display()
                )
            } else {
                writeln!(
                    w,
                    "{} refuses writes from now on; use the project there with --project {key}.",
                    from.display()
                )
            }
        },
    )
}
