//! The one fact the index takes from git: the commit it was scanned at
//! (shown by `baton code summary`). What changed is told by stat data.

use std::path::Path;
use std::process::Command;

/// HEAD's commit id, or `None` outside a repository or before the first
/// commit (or without git).
pub fn head(root: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .output()
        .ok()?;
    let head = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !head.is_empty()).then_some(head)
}

/// The files git tracks under `root` (relative to it, forward slashes), or `None`
/// outside a repository or without git. Paths that are not UTF-8 are left out.
pub fn tracked(root: &Path) -> Option<Vec<String>> {
    // Run in `root`, ls-files lists only what is under it, relative to it.
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z", "--cached"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        out.stdout
            .split(|b| *b == 0)
            .filter_map(|p| std::str::from_utf8(p).ok())
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// The path of the repository's index file (it changes whenever what git tracks does).
pub fn index_file(root: &Path) -> Option<std::path::PathBuf> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--path-format=absolute", "--git-path", "index"])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !path.is_empty()).then(|| path.into())
}

/// Does `.gitignore` (or git's exclude files) exclude this path?
pub fn ignores(root: &Path, rel: &str) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "-q", "--"])
        .arg(rel)
        .output()
        .is_ok_and(|o| o.status.success())
}
