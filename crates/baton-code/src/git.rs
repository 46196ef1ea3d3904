//! The few facts the index takes from git: the commit it was scanned at (shown by `baton
//! code summary`), what git tracks (always indexed) and what it ignores. What changed is
//! told by stat data.

use std::path::Path;
use std::process::{Command, Output};

/// `git -C root ARGS`, when git ran and succeeded.
fn git(root: &Path, args: &[&str]) -> Option<Output> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status.success().then_some(out)
}

/// What git printed, trimmed, when it printed something (one line for the questions
/// asked here).
fn line(root: &Path, args: &[&str]) -> Option<String> {
    let out = git(root, args)?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// HEAD's commit id, or `None` outside a repository or before the first
/// commit (or without git).
pub fn head(root: &Path) -> Option<String> {
    line(root, &["rev-parse", "--verify", "--quiet", "HEAD"])
}

/// The files git tracks under `root` (relative to it, forward slashes), or `None`
/// outside a repository or without git. Paths that are not UTF-8 are left out.
pub fn tracked(root: &Path) -> Option<Vec<String>> {
    // Run in `root`, ls-files lists only what is under it, relative to it.
    let out = git(root, &["ls-files", "-z", "--cached"])?;
    let mut paths: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    // During a merge conflict a path is listed once per stage.
    paths.sort_unstable();
    paths.dedup();
    Some(paths)
}

/// The path of the repository's index file (it changes whenever what git tracks does).
pub fn index_file(root: &Path) -> Option<std::path::PathBuf> {
    // Relative to `root` unless absolute (older git has no --path-format).
    line(root, &["rev-parse", "--git-path", "index"]).map(|p| root.join(p))
}

/// Does `.gitignore` (or git's exclude files) exclude this path?
pub fn ignores(root: &Path, rel: &str) -> bool {
    git(root, &["check-ignore", "-q", "--", rel]).is_some()
}
