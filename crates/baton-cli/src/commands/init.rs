//! `baton init`: create the project in the repository root, or say it exists.

use std::path::{Path, PathBuf};

use baton_core::api::{DocFilter, DocPatch, NewDoc};
use baton_core::model::{Doc, DocType};
use baton_core::{Api, Board};
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
    /// Store this product requirements document as a reference doc (tagged prd); run again
    /// with a new file to make a new version of it.
    #[arg(long, value_name = "FILE")]
    pub prd: Option<PathBuf>,
}

const PRD_TAG: &str = "prd";

/// Writes the PRD as a doc, or a new version of the PRD doc already there.
fn store_prd(api: &dyn Api, actor: &str, path: &Path) -> CliResult<Doc> {
    let body = super::docs::read_body_file(path)?;
    let title = body
        .lines()
        .find_map(|l| l.trim().strip_prefix("# ").map(str::trim))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| "PRD".to_string());
    let existing = api.list_docs(&DocFilter {
        kind: Some(DocType::Reference),
        tag: Some(PRD_TAG.into()),
        limit: Some(1),
        ..DocFilter::default()
    })?;
    Ok(match existing.first() {
        Some(prd) => api.update_doc(
            actor,
            prd.id,
            DocPatch {
                title: Some(title),
                body: Some(body),
                ..DocPatch::default()
            },
        )?,
        None => api.write_doc(
            actor,
            NewDoc {
                kind: DocType::Reference,
                title,
                body,
                tags: vec![PRD_TAG.into()],
                tasks: Vec::new(),
                author: None,
            },
        )?,
    })
}

pub fn run(ctx: &Context, args: InitArgs) -> CliResult {
    // Inside an existing project, keep it rather than nesting a second one.
    let root = match project::Project::find(&ctx.cwd) {
        Ok(existing) => existing.root,
        Err(_) => project::init_root(&ctx.cwd),
    };
    let (project, wrote_config) = project::create(&root, args.name.as_deref())?;
    let (store, created_db) = SqliteStore::create(&project.database(), &project.config.name)?;
    let created = wrote_config || created_db;
    let prd = match &args.prd {
        Some(path) => Some(store_prd(&Board::new(store), &ctx.actor(), path)?),
        None => None,
    };
    let mut report = json!({
        "project": project.config.name,
        "root": project.root,
        "database": project.database(),
        "created": created,
    });
    if let Some(d) = &prd {
        report["prd"] = json!({ "id": d.id, "title": d.title, "version": d.version });
    }
    ctx.out.emit(&report, |w| {
        if let Some(d) = &prd {
            writeln!(
                w,
                "Stored the PRD as {} '{}' (version {})",
                d.id, d.title, d.version
            )?;
        }
        if created {
            writeln!(
                w,
                "Initialized Baton project '{}' in {}",
                project.config.name,
                project.dir().display()
            )?;
            writeln!(
                w,
                "Next: baton task add --title \"...\"   then   BATON_AGENT=me baton task pickup\n\
                 \x20     baton generate --hooks   (the agents' instructions and edit-time check)\n\
                 \x20     baton serve              (the board in a browser)"
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
