//! `baton guard`: refuse a commit that touches paths another agent has reserved.

use std::path::Path;
use std::process::Command;

use baton_core::model::{Reservation, ReservationMode};
use baton_core::ErrorClass;
use clap::Args;
use serde_json::json;

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
    if paths.is_empty() {
        return ctx.out.emit(&json!({"ok": true, "checked": 0}), |w| {
            writeln!(w, "Nothing staged.")
        });
    }
    let me = ctx.agent.clone();
    let checks = ctx.api()?.check_paths(&paths)?;
    let others = |r: &Reservation| me.as_deref() != Some(r.agent.as_str());
    let mut blocked = Vec::new();
    let mut shared = Vec::new();
    for c in &checks {
        for r in c.reservations.iter().filter(|r| others(r)) {
            let entry = json!({
                "path": c.path, "glob": r.glob, "holder": r.agent,
                "mode": r.mode, "task": r.task, "expires_at": r.expires_at,
            });
            match r.mode {
                ReservationMode::Exclusive => blocked.push((c.path.clone(), r.clone(), entry)),
                ReservationMode::Shared => shared.push(entry),
            }
        }
    }
    if !shared.is_empty() {
        eprintln!(
            "baton guard: {} staged path(s) are shared-reserved by other agents",
            shared.len()
        );
    }
    if !blocked.is_empty() {
        let listed: Vec<String> = blocked
            .iter()
            .map(|(path, r, _)| {
                format!(
                    "{path} (reserved by {} via {}, until {})",
                    r.agent, r.glob, r.expires_at
                )
            })
            .collect();
        return Err(CliError::new(
            ErrorClass::Conflict,
            "reservation_conflict",
            format!("this commit touches files reserved by another agent: {}", listed.join("; ")),
        )
        .with_hint("ask the holder (baton check PATH shows who), unstage those files, or bypass with git commit --no-verify"));
    }
    let report = json!({ "ok": true, "checked": paths.len(), "shared": shared });
    ctx.out.emit(&report, |w| {
        writeln!(
            w,
            "OK: {} path(s) checked; none reserved by another agent.",
            paths.len()
        )
    })
}
