//! `baton scan`: build or refresh the code index, or manage its pre-commit hook.

use clap::Args;

use super::Context;
use crate::error::CliResult;
use crate::hook;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Rescan only what changed since the last scan: files whose stat data
    /// changed (edited, checked out, committed, reverted), deleted or renamed
    /// files, and new files (tracked or not); unchanged content is skipped. Imports
    /// are resolved again when a file resolution reads (package.json, go.mod, go.work,
    /// tsconfig.json, pnpm-workspace.yaml, pyproject.toml...) came, went or changed.
    #[arg(long, conflicts_with_all = ["install_hook", "remove_hook"])]
    pub incremental: bool,
    /// Add a block to .git/hooks/pre-commit that runs `baton scan --incremental`
    /// (keeps the existing hook; never blocks a commit). Does not scan.
    #[arg(long, conflicts_with = "remove_hook")]
    pub install_hook: bool,
    /// Remove that block, keeping the rest of the hook.
    #[arg(long)]
    pub remove_hook: bool,
    /// Also list what the index leaves out, and why: files too large, binary or
    /// unreadable, and folders not entered (build or dependency output, hidden folders,
    /// virtualenvs, unreadable ones). Files git tracks are indexed wherever they are;
    /// ignored files are not listed (`baton code why FILE` explains one).
    #[arg(long, conflicts_with_all = ["install_hook", "remove_hook"])]
    pub explain: bool,
}

/// A scan, with what it left out when asked.
#[derive(serde::Serialize)]
struct Explained {
    #[serde(flatten)]
    report: baton_code::ScanReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<Vec<baton_code::Skipped>>,
}

const HOOK_MARKER: &str = "baton code index";

pub fn run(ctx: &Context, args: ScanArgs) -> CliResult {
    let project = ctx.project()?;
    let root = project.root.as_path();
    if args.install_hook || args.remove_hook {
        let report = if args.install_hook {
            // The hook runs this very binary, so it works without `baton` on PATH.
            let exe = std::env::current_exe()
                .ok()
                .map(|p| hook::quote(&p.to_string_lossy()))
                .unwrap_or_else(|| "baton".into());
            let body = hook::never_blocking(root, &format!("{exe} scan --incremental"));
            hook::install(
                root,
                HOOK_MARKER,
                &format!("# Refreshes .baton/code.db.\n{body}"),
            )?
        } else {
            hook::remove(root, HOOK_MARKER)?
        };
        return ctx.out.emit(&report, |w| {
            writeln!(
                w,
                "Code index hook: {} {}",
                report.change,
                report.hook.display()
            )
        });
    }
    let report = if args.incremental {
        baton_code::scan_incremental(root)?
    } else {
        baton_code::scan_full(root)?
    };
    let skipped = if args.explain {
        Some(baton_code::CodeIndex::open(root)?.skipped()?)
    } else {
        None
    };
    let out = Explained { report, skipped };
    let report = &out.report;
    ctx.out.emit(&out, |w| {
        writeln!(
            w,
            "{} scan: {} files indexed, {} unchanged, {} removed in {} ms",
            report.mode, report.indexed, report.unchanged, report.removed, report.millis
        )?;
        writeln!(
            w,
            "index: {} files, {} symbols, {} imports",
            report.files, report.symbols, report.imports
        )?;
        let skipped = report.skipped_large + report.skipped_binary + report.skipped_unreadable;
        if skipped + report.skipped_folders > 0 {
            write!(
                w,
                "skipped: {} over 1 MB, {} binary, {} unreadable; {} folders not entered",
                report.skipped_large,
                report.skipped_binary,
                report.skipped_unreadable,
                report.skipped_folders
            )?;
            writeln!(
                w,
                "{}",
                if out.skipped.is_none() {
                    " (--explain lists them)"
                } else {
                    ""
                }
            )?;
        }
        if let Some(list) = &out.skipped {
            if !list.is_empty() {
                let mut t = crate::output::Table::new(&["PATH", "WHY"]);
                for s in list {
                    let path = if s.folder {
                        format!("{}/", s.path)
                    } else {
                        s.path.clone()
                    };
                    t.row(vec![path, s.reason.replace('_', " ")]);
                }
                t.write(w)?;
            }
            writeln!(
                w,
                "Files git tracks are indexed wherever they are; `baton code why FILE` explains one file."
            )?;
        }
        Ok(())
    })
}
