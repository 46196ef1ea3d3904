//! `baton scan`: build or refresh the code index, or manage its pre-commit hook.

use clap::Args;

use super::Context;
use crate::error::CliResult;
use crate::hook;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Rescan only what changed since the last scan: files whose stat data
    /// changed (edited, checked out, committed, reverted), deleted or renamed
    /// files, and new files (tracked or not); unchanged content is skipped.
    #[arg(long, conflicts_with_all = ["install_hook", "remove_hook"])]
    pub incremental: bool,
    /// Add a block to .git/hooks/pre-commit that runs `baton scan --incremental`
    /// (keeps the existing hook; never blocks a commit). Does not scan.
    #[arg(long, conflicts_with = "remove_hook")]
    pub install_hook: bool,
    /// Remove that block, keeping the rest of the hook.
    #[arg(long)]
    pub remove_hook: bool,
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
    ctx.out.emit(&report, |w| {
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
        if skipped > 0 {
            writeln!(
                w,
                "skipped: {} over 1 MB, {} binary, {} unreadable",
                report.skipped_large, report.skipped_binary, report.skipped_unreadable
            )?;
        }
        Ok(())
    })
}
