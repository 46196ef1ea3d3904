//! `baton guard`: refuse a commit that touches paths another agent has reserved.

use std::path::Path;
use std::process::Command;

use baton_core::ErrorClass;
use clap::Args;

use super::Context;
use crate::error::{CliError, CliResult};

#[derive(Args, Debug)]
pub struct GuardArgs {
    /// Check the paths staged for the next commit (what the pre-commit hook runs).
    #[arg(long, conflicts_with = "paths")]
    pub staged: bool,
    /// Check these paths instead.
    pub paths: Vec<String>,
    /// Add `baton guard --staged` to .git/hooks/pre-commit (keeps the hook's other content).
    #[arg(long, conflicts_with_all = ["staged", "paths", "remove_hook"])]
    pub install_hook: bool,
    /// Take the guard out of .git/hooks/pre-commit.
    #[arg(long, conflicts_with_all = ["staged", "paths"])]
    pub remove_hook: bool,
}

fn git(root: &Path, args: &[&str]) -> CliResult<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| {
            CliError::new(
                ErrorClass::Unavailable,
                "git_unavailable",
                format!("cannot run git: {e}"),
            )
        })?;
    if !out.status.success() {
        return Err(CliError::invalid(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .with_hint("run it inside a git repository"));
    }
    Ok(out.stdout)
}

/// Paths in the index that differ from HEAD; a rename counts as both of its paths.
fn staged_paths(root: &Path) -> CliResult<Vec<String>> {
    let raw = git(
        root,
        &["diff", "--cached", "--name-only", "--no-renames", "-z"],
    )?;
    Ok(raw
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

pub const HOOK_MARKER: &str = "baton guard";

pub fn run(ctx: &Context, args: GuardArgs) -> CliResult {
    let project = ctx.project()?;
    if args.install_hook || args.remove_hook {
        let exe = std::env::current_exe()?;
        let report = if args.install_hook {
            // Blocks the commit when the guard refuses; BATON_AGENT identifies the committer.
            let body = format!(
                "# Refuses commits touching files another agent reserved (bypass: git commit --no-verify).\n\
                 {} guard --staged --human || exit 1\n",
                crate::hook::quote(&exe.to_string_lossy())
            );
            crate::hook::install(&project.root, HOOK_MARKER, &body)?
        } else {
            crate::hook::remove(&project.root, HOOK_MARKER)?
        };
        return ctx.out.emit(&report, |w| {
            writeln!(w, "{} {}", report.change, report.hook.display())
        });
    }
    let paths = if args.staged {
        staged_paths(&project.root)?
    } else if args.paths.is_empty() {
        return Err(CliError::invalid("nothing to check").with_hint("pass --staged or paths"));
    } else {
        args.paths
    };
    let report = ctx.api()?.guard(ctx.agent.as_deref(), &paths)?;
    if !report.shared.is_empty() {
        eprintln!(
            "baton guard: {} path(s) are shared-reserved by other agents",
            report.shared.len()
        );
    }
    ctx.out.emit(&report, |w| {
        writeln!(
            w,
            "OK: {} path(s) checked; none reserved by another agent.",
            report.checked
        )
    })
}
