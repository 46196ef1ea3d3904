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
