//! `baton docs ...`: the knowledge base: write, read, list, update, history, delete, search.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use baton_core::api::{DocFilter, DocPatch, DocSearch, NewDoc};
use baton_core::board::docs::MAX_BODY_BYTES;
use baton_core::model::{Doc, DocHit, DocSummary, DocType, DocVersion};
use baton_core::{DocId, TaskId};
use clap::{Args, Subcommand};

use super::task::list_arg;
use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, id_list, Table};

const DEFAULT_LIST_LIMIT: u64 = 100;

#[derive(Subcommand, Debug)]
pub enum DocsCommand {
    /// Write a doc (markdown body from --body, --body-file, or stdin).
    Write(WriteArgs),
    /// Print a doc (`--version N` for an older one).
    Read {
        /// The doc (D-3).
        id: DocId,
        /// An older version (see `baton docs history`); the latest when left out.
        #[arg(long)]
        version: Option<u32>,
    },
    /// List docs, newest change first.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Change a doc; the previous version is kept (`docs history`).
    Update(UpdateArgs),
    /// Every version of a doc: who wrote it and when.
    History {
        /// The doc (D-3).
        id: DocId,
    },
    /// Delete a doc (soft: it stays readable and in its history, out of lists and search).
    #[command(alias = "rm")]
    Delete {
        /// The doc (D-3).
        id: DocId,
    },
    /// Full-text search, best match first, with a short excerpt per hit.
    Search(SearchArgs),
}

#[derive(Args, Debug)]
pub struct WriteArgs {
    /// operational, decision, reference, learning or review.
    #[arg(long = "type", short = 'T')]
    pub kind: DocType,
    /// The doc's title.
    #[arg(long, short)]
    pub title: String,
    #[command(flatten)]
    pub body: BodyArgs,
    /// Tags, comma-separated.
    #[arg(long, value_name = "TAG,...")]
    pub tags: Vec<String>,
    /// Tasks the doc is about (repeat, or comma-separated).
    #[arg(long = "task", value_name = "T-n,...")]
    pub tasks: Vec<String>,
    /// Who wrote it (default: your agent identity).
    #[arg(long)]
    pub author: Option<String>,
}

#[derive(Args, Debug)]
pub struct BodyArgs {
    /// The markdown body.
    #[arg(long, short, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the body from a file ("-" reads stdin).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only this type: operational, decision, reference, learning or review.
    #[arg(long = "type", short = 'T')]
    pub kind: Option<DocType>,
    /// Only docs with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Docs linked to this task or named in its context_refs.
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Include deleted docs.
    #[arg(long)]
    pub deleted: bool,
    /// At most this many; 0 = all.
    #[arg(long, short, default_value_t = DEFAULT_LIST_LIMIT)]
    pub limit: u64,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// The doc (D-3).
    pub id: DocId,
    /// A new type: operational, decision, reference, learning or review.
    #[arg(long = "type", short = 'T')]
    pub kind: Option<DocType>,
    /// A new title.
    #[arg(long, short)]
    pub title: Option<String>,
    #[command(flatten)]
    pub body: BodyArgs,
    /// Replace the tags ("" clears them).
    #[arg(long)]
    pub tags: Option<Vec<String>>,
    /// Replace the linked tasks ("" clears them).
    #[arg(long = "task")]
    pub tasks: Option<Vec<String>>,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Words to look for.
    pub query: String,
    /// Only this type: operational, decision, reference, learning or review.
    #[arg(long = "type", short = 'T')]
    pub kind: Option<DocType>,
    /// At most this many hits (1 to 100).
    #[arg(long, short, default_value_t = 10)]
    pub limit: u64,
}

fn too_big(what: &str) -> CliError {
    CliError::invalid(format!(
        "{what} is larger than {MAX_BODY_BYTES} bytes (1 MiB), the most a doc holds"
    ))
    .with_hint("split it into several docs, or keep the file in the repository and write a doc that points to it")
}

/// Reads at most one byte past the limit, so an oversized file is refused without loading it.
pub fn read_body_file(path: &Path) -> CliResult<String> {
    let mut bytes = Vec::new();
    let label = path.display().to_string();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_BODY_BYTES as u64 + 1).read_to_end(&mut bytes))
            .map_err(|e| CliError::invalid(format!("cannot read {label}: {e}")))?;
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(too_big(if path.as_os_str() == "-" {
            "stdin"
        } else {
            &label
        }));
    }
    String::from_utf8(bytes).map_err(|_| CliError::invalid(format!("{label} is not UTF-8 text")))
}

impl BodyArgs {
    /// The body given, if any: --body, --body-file, or piped stdin when `stdin_default`.
    fn read(self, stdin_default: bool) -> CliResult<Option<String>> {
        if let Some(b) = self.body {
            return Ok(Some(b));
        }
        if let Some(path) = self.body_file {
            return read_body_file(&path).map(Some);
        }
        if stdin_default && !std::io::stdin().is_terminal() {
            return read_body_file(Path::new("-")).map(Some);
        }
        Ok(None)
    }
}

fn task_ids(values: Vec<String>) -> CliResult<Vec<TaskId>> {
    list_arg(values)
        .iter()
        .map(|v| {
            v.parse()
                .map_err(|e: baton_core::id::BadTaskId| CliError::invalid(e.to_string()))
        })
        .collect()
}

pub fn run(ctx: &Context, command: DocsCommand) -> CliResult {
    let api = ctx.api()?;
    match command {
        DocsCommand::Write(args) => {
            let body = args.body.read(true)?.unwrap_or_default();
            let doc = api.write_doc(
                &ctx.actor(),
                NewDoc {
                    kind: args.kind,
                    title: args.title,
                    body,
                    tags: list_arg(args.tags),
                    tasks: task_ids(args.tasks)?,
                    author: args.author,
                },
            )?;
            show(ctx, &doc, "Wrote")
        }
        DocsCommand::Read { id, version } => match version {
            None => show(ctx, &api.get_doc(id)?, ""),
            Some(n) => {
                let v = api
                    .doc_history(id)?
                    .into_iter()
                    .find(|v| v.version == n)
                    .ok_or_else(|| {
                        CliError::new(
                            baton_core::ErrorClass::NotFound,
                            "version_not_found",
                            format!("doc {id} has no version {n}"),
                        )
                        .with_hint(format!("see its versions with `baton docs history {id}`"))
                    })?;
                ctx.out.emit(&v, |w| {
                    writeln!(
                        w,
                        "{}  {} (version {}, by {} at {})",
                        v.doc, v.title, v.version, v.author, v.at
                    )?;
                    writeln!(w)?;
                    writeln!(w, "{}", v.body)
                })
            }
        },
        DocsCommand::List(args) => {
            let docs = api.list_docs(&DocFilter {
                kind: args.kind,
                tag: args.tag,
                task: args.task,
                include_deleted: args.deleted,
                limit: Some(args.limit),
            })?;
            ctx.out.emit(&docs, |w| doc_table(w, &docs))
        }
        DocsCommand::Update(args) => {
            let patch = DocPatch {
                kind: args.kind,
                title: args.title,
                body: args.body.read(false)?,
                tags: args.tags.map(list_arg),
                tasks: args.tasks.map(task_ids).transpose()?,
            };
            show(
                ctx,
                &api.update_doc(&ctx.actor(), args.id, patch)?,
                "Updated",
            )
        }
        DocsCommand::History { id } => {
            let versions = api.doc_history(id)?;
            ctx.out.emit(&versions, |w| history_table(w, &versions))
        }
        DocsCommand::Delete { id } => show(ctx, &api.delete_doc(&ctx.actor(), id)?, "Deleted"),
        DocsCommand::Search(args) => {
            let hits = api.search_docs(&DocSearch {
                query: args.query,
                kind: args.kind,
                limit: Some(args.limit),
            })?;
            ctx.out.emit(&hits, |w| hit_lines(w, &hits))
        }
    }
}

fn show(ctx: &Context, doc: &Doc, verb: &str) -> CliResult {
    ctx.out.emit(doc, |w| {
        if !verb.is_empty() {
            writeln!(w, "{verb} {} (version {})", doc.id, doc.version)?;
        }
        writeln!(w, "{}  {}", doc.id, doc.title)?;
        let mut line = format!(
            "  {} · by {} · version {} · {}",
            doc.kind, doc.author, doc.version, doc.updated_at
        );
        if doc.deleted_at.is_some() {
            line.push_str(" · DELETED");
        }
        writeln!(w, "{line}")?;
        if !doc.tags.is_empty() {
            writeln!(w, "  tags  {}", doc.tags.join(", "))?;
        }
        if !doc.tasks.is_empty() {
            writeln!(w, "  tasks {}", id_list(&doc.tasks))?;
        }
        if verb.is_empty() {
            writeln!(w)?;
            writeln!(w, "{}", doc.body)?;
        }
        Ok(())
    })
}

pub fn doc_table(w: &mut dyn Write, docs: &[DocSummary]) -> std::io::Result<()> {
    if docs.is_empty() {
        return writeln!(w, "No docs.");
    }
    let mut table = Table::new(&["ID", "TYPE", "VER", "AUTHOR", "UPDATED", "TAGS", "TITLE"]);
    for d in docs {
        let title = if d.deleted_at.is_some() {
            format!("{} (deleted)", d.title)
        } else {
            d.title.clone()
        };
        table.row(vec![
            d.id.to_string(),
            d.kind.to_string(),
            d.version.to_string(),
            cut(&d.author, 16),
            d.updated_at.to_string(),
            cut(&d.tags.join(","), 20),
            cut(&title, 60),
        ]);
    }
    table.write(w)
}

fn history_table(w: &mut dyn Write, versions: &[DocVersion]) -> std::io::Result<()> {
    let mut table = Table::new(&["VER", "AT", "AUTHOR", "TYPE", "BYTES", "TITLE"]);
    for v in versions {
        table.row(vec![
            v.version.to_string(),
            v.at.to_string(),
            cut(&v.author, 16),
            v.kind.to_string(),
            v.body.len().to_string(),
            cut(&v.title, 60),
        ]);
    }
    table.write(w)
}

fn hit_lines(w: &mut dyn Write, hits: &[DocHit]) -> std::io::Result<()> {
    if hits.is_empty() {
        return writeln!(w, "No doc matches.");
    }
    for h in hits {
        writeln!(
            w,
            "{}  {}  ({}, score {:.2})",
            h.doc.id, h.doc.title, h.doc.kind, h.score
        )?;
        writeln!(w, "    {}", cut(&h.snippet, 200))?;
    }
    Ok(())
}
