//! The git state an incremental scan starts from. Runs the `git` binary: it
//! is the one tool that knows the index, renames and ignore rules exactly.

use std::path::Path;
use std::process::Command;

use crate::error::{CodeError, Result};

fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| CodeError::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(CodeError::Git(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out.stdout)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// Where `root` sits in its repository (`""` at the top, `"sub/"` below),
/// or `None` outside a repository.
pub fn prefix(root: &Path) -> Option<String> {
    git(root, &["rev-parse", "--show-prefix"]).ok().map(text)
}

/// `prefix` and `head` in one call (one process less on every incremental
/// scan); `None` outside a repository.
pub fn prefix_and_head(root: &Path) -> Option<(String, String)> {
    match git(root, &["rev-parse", "--show-prefix", "HEAD"]) {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out).into_owned();
            let mut lines = text.lines();
            let prefix = lines.next().unwrap_or("").trim().to_string();
            let head = lines.next().unwrap_or("").trim().to_string();
            Some((prefix, head))
        }
        // No commit yet, or not a repository.
        Err(_) => prefix(root).map(|p| (p, String::new())),
    }
}

fn split_z(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    bytes
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::str::from_utf8(p).ok().map(str::to_string))
}

/// Paths touched by commits between `since` and HEAD (renames as delete + add).
pub fn changed_between(root: &Path, since: &str, head: &str) -> Result<Vec<String>> {
    let out = git(
        root,
        &[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            since,
            head,
            "--",
            ".",
        ],
    )?;
    Ok(split_z(&out).collect())
}

/// Staged, unstaged and deleted paths, relative to the repository; with
/// `untracked`, untracked files too (the slow part of `git status` in a
/// large tree).
pub fn dirty(root: &Path, untracked: bool) -> Result<Vec<String>> {
    let mode = if untracked {
        "--untracked-files=all"
    } else {
        "--untracked-files=no"
    };
    let out = git(
        root,
        &[
            "status",
            "--porcelain=v1",
            "-z",
            mode,
            "--no-renames",
            "--",
            ".",
        ],
    )?;
    Ok(split_z(&out)
        .filter_map(|entry| entry.get(3..).map(str::to_string))
        .collect())
}
