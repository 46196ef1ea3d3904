//! `baton init`: create the project in the repository root, or say it exists.

use baton_sqlite::SqliteStore;
use clap::Args;
use serde_json::json;

use super::Context;
use crate::error::CliResult;
use crate::project;

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Project name (default: the repository's directory name).
    #[arg(long)]
    pub name: Option<String>,
}

pub fn run(ctx: &Context, args: InitArgs) -> CliResult {
    // Inside an existing project, keep it rather than nesting a second one.
    let root = match project::Project::find(&ctx.cwd) {
        Ok(existing) => existing.root,
        Err(_) => project::init_root(&ctx.cwd),
    };
    let (project, wrote_config) = project::create(&root, args.name.as_deref())?;
    let (_, created_db) = SqliteStore::create(&project.database(), &project.config.name)?;
    let created = wrote_config || created_db;
    let report = json!({
        "project": project.config.name,
        "root": project.root,
        "database": project.database(),
        "created": created,
    });
    ctx.out.emit(&report, |w| {
        if created {
            writeln!(
                w,
                "Initialized Baton project '{}' in {}",
                project.config.name,
                project.dir().display()
            )?;
            writeln!(
                w,
                "Next: baton task add --title \"...\"   then   BATON_AGENT=me baton task pickup"
            )
        } else {
            writeln!(
                w,
                "Baton project '{}' already exists in {}; kept it as it is.",
                project.config.name,
                project.dir().display()
            )
        }
    })
}
