//! `baton scan`: build or refresh the code index, or manage its pre-commit hook.

use clap::Args;
use serde_json::json;

use super::Context;
use crate::error::CliResult;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Rescan only what git says changed since the last scan (staged, unstaged,
    /// untracked, deleted, renamed, committed since); unchanged content is skipped.
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

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

pub fn run(ctx: &Context, args: ScanArgs) -> CliResult {
    let project = ctx.project()?;
    let root = project.root.as_path();
    if args.install_hook || args.remove_hook {
        let report = if args.install_hook {
            // The hook runs this very binary, so it works without `baton` on PATH.
            let exe = std::env::current_exe()
                .ok()
                .map(|p| shell_quote(&p.to_string_lossy()))
                .unwrap_or_else(|| "baton".into());
            baton_code::install_hook(root, &format!("{exe} scan --incremental"))?
        } else {
            baton_code::remove_hook(root)?
        };
        let value = json!({ "hook": report.hook, "change": report.change });
        return ctx.out.emit(&value, |w| {
            let what = match report.change {
                baton_code::HookChange::Installed => "installed in",
                baton_code::HookChange::Updated => "updated in",
                baton_code::HookChange::Removed => "removed from",
                baton_code::HookChange::Absent => "was not in",
            };
            writeln!(w, "Code index hook {what} {}", report.hook.display())
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
