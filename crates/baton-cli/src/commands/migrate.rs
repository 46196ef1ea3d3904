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
`baton serve --database URL` (or BATON_DATABASE_URL).")]
pub struct MigrateArgs {
    /// The PostgreSQL database to copy into (postgres://user:password@host:port/name).
    #[arg(long)]
    pub to: String,
}

pub fn run(ctx: &Context, args: MigrateArgs) -> CliResult {
    let url = super::postgres_url(&args.to)?;
    let project = ctx.project()?;
    let source = baton_sqlite::SqliteStore::open(&project.database())?;
    let tables = source.dump(baton_postgres::PROJECT_TABLES)?;
    let target = baton_postgres::PostgresStore::open(url)?;
    let written = target.restore(&tables)?;
    let rows: serde_json::Map<String, serde_json::Value> = written
        .iter()
        .map(|(table, n)| (table.clone(), (*n).into()))
        .collect();
    let to = baton_postgres::redact(url);
    ctx.out.emit(
        &serde_json::json!({ "from": project.database(), "to": to, "rows": rows }),
        |w| {
            writeln!(w, "Copied {} into {to}:", project.database().display())?;
            for (table, n) in &written {
                writeln!(w, "  {table:<13} {n}")?;
            }
            writeln!(w, "Serve it with: baton serve --database {to}")
        },
    )
}
