//! `baton code ...`: answers from the code index (`.baton/code.db`) without a
//! server. Opening the index is cheap (a version check), so every query is
//! one short process.

use std::io::Write;
use std::path::Path;

use baton_code::{CodeError, CodeIndex, Symbol, SymbolKind, SymbolQuery};
use baton_core::ErrorClass;
use clap::{Args, Subcommand};

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::{cut, Table};

#[derive(Subcommand, Debug)]
pub enum CodeCommand {
    /// Find symbols by name (substring, case-insensitive; `=Name` for exact), kind, file, export.
    Symbols(SymbolsArgs),
    /// Every symbol of one file, in source order.
    Outline {
        #[command(flatten)]
        file: FileArg,
    },
    /// The imports of one file, with the project file each resolves to.
    Imports {
        #[command(flatten)]
        file: FileArg,
    },
    /// Files that import a file, transitively.
    Dependents {
        #[command(flatten)]
        file: FileArg,
        /// How many import hops to follow; 0 follows all.
        #[arg(long, default_value_t = 0)]
        depth: u32,
    },
    /// Files, symbols and imports by language and kind; most imported files.
    Summary,
    /// Whether a file is indexed, and if not, why (too large, binary, unreadable, ignored,
    /// in an untracked build or hidden folder, unsupported, not scanned yet) and what to do.
    Why {
        #[command(flatten)]
        file: FileArg,
    },
    /// Files and symbols that depend on a change set.
    Impact {
        /// The changed files.
        #[arg(long, num_args = 1.., required = true)]
        files: Vec<String>,
    },
}

/// One file, as an argument (`code outline src/a.ts`) or with `--file`: every command
/// that takes one file takes both.
#[derive(Args, Debug)]
pub struct FileArg {
    /// File path (relative to the current directory or the project root).
    #[arg(
        value_name = "FILE",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    path: Option<String>,
    /// The same, as an option.
    #[arg(long = "file", value_name = "FILE")]
    file: Option<String>,
}

impl FileArg {
    /// The file's path in the index.
    fn in_index(self, ctx: &Context, root: &Path) -> String {
        // clap requires one of the two.
        index_path(ctx, root, &self.path.or(self.file).unwrap_or_default())
    }
}

#[derive(Args, Debug)]
pub struct SymbolsArgs {
    /// Substring of the name (case-insensitive); `=Name` matches exactly.
    #[arg(long)]
    pub name: Option<String>,
    /// function, method, class, struct, interface, trait, enum, type, constant, variable, module, macro,
    /// field (a property of an interface or type literal).
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<SymbolKind>,
    /// Only files under this path (a folder or a file).
    #[arg(long)]
    pub file: Option<String>,
    /// Only exported / public symbols.
    #[arg(long)]
    pub exported: bool,
    /// At most this many results; 0 returns all.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

fn parse_kind(s: &str) -> Result<SymbolKind, String> {
    SymbolKind::parse(s).ok_or_else(|| {
        let kinds: Vec<&str> = SymbolKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind '{s}'; use one of {}", kinds.join(", "))
    })
}

impl From<CodeError> for CliError {
    fn from(e: CodeError) -> Self {
        let class = match e.class() {
            baton_code::ErrorClass::InvalidInput => ErrorClass::Invalid,
            baton_code::ErrorClass::NotFound => ErrorClass::NotFound,
            baton_code::ErrorClass::Unavailable => ErrorClass::Unavailable,
            baton_code::ErrorClass::Other => ErrorClass::Internal,
        };
        CliError::new(class, e.code(), e.to_string()).with_hint(e.hint())
    }
}

/// A path given on the command line, as the index knows it: paths that exist
/// relative to the current directory are taken from there, others from the
/// project root.
fn index_path(ctx: &Context, root: &Path, file: &str) -> String {
    let p = Path::new(file);
    if p.is_absolute() || ctx.cwd == root {
        return file.to_string();
    }
    let here = ctx.cwd.join(p);
    if here.exists() {
        return here.to_string_lossy().into_owned();
    }
    file.to_string()
}

fn symbol_table(w: &mut dyn Write, symbols: &[Symbol], with_file: bool) -> std::io::Result<()> {
    if symbols.is_empty() {
        return writeln!(w, "No symbols found.");
    }
    let mut t = if with_file {
        Table::new(&["KIND", "NAME", "LOCATION", "SIGNATURE"])
    } else {
        Table::new(&["KIND", "NAME", "LINES", "SIGNATURE"])
    };
    for s in symbols {
        let name = match &s.container {
            Some(c) => format!("{c}.{}", s.name),
            None => s.name.clone(),
        };
        let place = if with_file {
            format!("{}:{}", s.file, s.line)
        } else {
            format!("{}-{}", s.line, s.end_line)
        };
        t.row(vec![s.kind.to_string(), name, place, cut(&s.signature, 70)]);
    }
    t.write(w)
}

pub fn run(ctx: &Context, command: CodeCommand) -> CliResult {
    let project = ctx.project()?;
    let root = project.root.as_path();
    let index = CodeIndex::open(root)?;
    match command {
        CodeCommand::Symbols(args) => {
            let query = SymbolQuery {
                name: args.name,
                kind: args.kind,
                file_prefix: args.file.map(|f| index_path(ctx, root, &f)),
                exported_only: args.exported,
                limit: args.limit,
            };
            let limit = query.limit;
            let symbols = index.symbols(&query)?;
            ctx.out.emit(&symbols, |w| {
                symbol_table(w, &symbols, true)?;
                if limit > 0 && symbols.len() == limit {
                    writeln!(w, "(first {limit}; --limit 0 shows all)")?;
                }
                Ok(())
            })
        }
        CodeCommand::Why { file } => {
            let e = index.explain(&file.in_index(ctx, root))?;
            ctx.out.emit(&e, |w| {
                writeln!(w, "{}: {}", e.path, e.detail)?;
                if let Some(fix) = &e.fix {
                    writeln!(w, "  {fix}")?;
                }
                Ok(())
            })
        }
        CodeCommand::Outline { file } => {
            let symbols = index.outline(&file.in_index(ctx, root))?;
            ctx.out.emit(&symbols, |w| symbol_table(w, &symbols, false))
        }
        CodeCommand::Imports { file } => {
            let imports = index.imports(&file.in_index(ctx, root))?;
            ctx.out.emit(&imports, |w| {
                if imports.is_empty() {
                    return writeln!(w, "No imports.");
                }
                let mut t = Table::new(&["LINE", "SOURCE", "NAMES", "RESOLVED"]);
                for i in &imports {
                    t.row(vec![
                        i.line.to_string(),
                        i.source.clone(),
                        cut(&i.names.join(", "), 40),
                        i.resolved.clone().unwrap_or_else(|| "(external)".into()),
                    ]);
                }
                t.write(w)
            })
        }
        CodeCommand::Dependents { file, depth } => {
            let deps = index.dependents(&file.in_index(ctx, root), depth)?;
            ctx.out.emit(&deps, |w| {
                if deps.is_empty() {
                    return writeln!(w, "No file imports it.");
                }
                let mut t = Table::new(&["DEPTH", "FILE", "VIA", "NAMES"]);
                for d in &deps {
                    t.row(vec![
                        d.depth.to_string(),
                        d.file.clone(),
                        d.via.clone(),
                        cut(&d.names.join(", "), 40),
                    ]);
                }
                t.write(w)
            })
        }
        CodeCommand::Summary => {
            let s = index.summary()?;
            ctx.out.emit(&s, |w| {
                writeln!(
                    w,
                    "{} files, {} symbols, {} imports ({} resolved to project files)",
                    s.files, s.symbols, s.imports, s.resolved_imports
                )?;
                if s.skipped_large + s.skipped_binary + s.skipped_unreadable + s.skipped_folders > 0
                {
                    writeln!(
                        w,
                        "skipped: {} over 1 MB, {} binary, {} unreadable; {} folders not \
                         entered (`baton scan --explain` lists them)",
                        s.skipped_large, s.skipped_binary, s.skipped_unreadable, s.skipped_folders
                    )?;
                }
                let mut t = Table::new(&["LANGUAGE", "FILES", "SYMBOLS"]);
                for l in &s.languages {
                    t.row(vec![
                        l.language.clone(),
                        l.files.to_string(),
                        l.symbols.to_string(),
                    ]);
                }
                t.write(w)?;
                let kinds: Vec<String> = s.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
                writeln!(w, "kinds: {}", kinds.join(", "))?;
                if !s.most_imported.is_empty() {
                    let top: Vec<String> = s
                        .most_imported
                        .iter()
                        .map(|c| format!("{} ({})", c.name, c.count))
                        .collect();
                    writeln!(w, "most imported: {}", top.join(", "))?;
                }
                Ok(())
            })
        }
        CodeCommand::Impact { files } => {
            let files: Vec<String> = files.iter().map(|f| index_path(ctx, root, f)).collect();
            let impact = index.impact(&files)?;
            ctx.out.emit(&impact, |w| {
                if impact.files.is_empty() {
                    return writeln!(w, "Nothing in the project imports these files.");
                }
                let mut t = Table::new(&["DEPTH", "FILE", "VIA"]);
                for d in &impact.files {
                    t.row(vec![d.depth.to_string(), d.file.clone(), d.via.clone()]);
                }
                t.write(w)?;
                if !impact.symbols.is_empty() {
                    writeln!(w)?;
                    let mut t = Table::new(&["SYMBOL", "LOCATION", "USED BY"]);
                    for s in &impact.symbols {
                        t.row(vec![
                            format!("{} {}", s.kind, s.name),
                            format!("{}:{}", s.file, s.line),
                            cut(&s.used_by.join(", "), 60),
                        ]);
                    }
                    t.write(w)?;
                }
                Ok(())
            })
        }
    }
}
