//! `baton migrate --to postgres://...`: the project's SQLite board copied into PostgreSQL,
//! every row as it is (task numbers, fences, times, the whole event log, docs with their
//! versions, messages, reservations), for a team moving to shared servers.

use clap::Args;

use super::Context;
use crate::error::CliResult;

#[derive(Args, Debug)]
#[command(after_help = "\
The target must be a new, empty database (the schema is created in it); a database that
already holds a Baton project is refused and left as it was. The copy is one transaction:
it lands whole or not at all. The SQLite file is only read. Afterwards serve the board with
`baton serve --database URL` (or BATON_DATABASE_URL).

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
    let rows: serde_json::Map<String, serde_json::Value> = written
        .iter()
        .map(|(table, n)| (table.clone(), (*n).into()))
        .collect();
    let to = baton_postgres::redact(url);
    ctx.out.emit(
        &serde_json::json!({ "from": from, "project": key, "to": to, "rows": rows }),
        |w| {
            writeln!(w, "Copied {} into {to}:", from.display())?;
            for (table, n) in &written {
                writeln!(w, "  {table:<13} {n}")?;
            }
            writeln!(w, "Serve it with: baton serve --database {to}")
        },
    )
}
