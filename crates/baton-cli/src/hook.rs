//! Marked blocks in `.git/hooks/pre-commit`: each Baton feature adds its own block right
//! after the shebang (so an existing hook's `exit` cannot skip it), replaces it when
//! installed again, and removes only its own lines.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::error::{CliError, CliResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookChange {
    Installed,
    Updated,
    Removed,
    Absent,
}

impl fmt::Display for HookChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HookChange::Installed => "Installed in",
            HookChange::Updated => "Updated in",
            HookChange::Removed => "Removed from",
            HookChange::Absent => "Nothing to remove in",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookReport {
    pub hook: PathBuf,
    pub change: HookChange,
}

/// Single-quotes a value for /bin/sh.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The pre-commit hook's path, honouring `core.hooksPath` and worktrees.
fn hook_path(root: &Path) -> CliResult<PathBuf> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--git-path", "hooks"])
        .output()
        .map_err(|e| CliError::invalid(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(
            CliError::invalid(format!("{} is not a git repository", root.display()))
                .with_hint("hooks live in a git repository; run `git init` first"),
        );
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let dir = if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    };
    Ok(dir.join("pre-commit"))
}

fn markers(marker: &str) -> (String, String) {
    (format!("# >>> {marker} >>>"), format!("# <<< {marker} <<<"))
}

/// Text without the marked block, and whether it had one.
fn strip(text: &str, marker: &str) -> (String, bool) {
    let (begin, end) = markers(marker);
    let Some(start) = text.find(&begin) else {
        return (text.to_string(), false);
    };
    let Some(rel) = text[start..].find(&end) else {
        return (text.to_string(), false);
    };
    let mut stop = start + rel + end.len();
    if text[stop..].starts_with('\n') {
        stop += 1;
    }
    (format!("{}{}", &text[..start], &text[stop..]), true)
}

pub fn install(root: &Path, marker: &str, body: &str) -> CliResult<HookReport> {
    let path = hook_path(root)?;
    let (begin, end) = markers(marker);
    let block = format!("{begin}\n{body}{end}\n");
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let (text, change) = match existing {
        None => (format!("#!/bin/sh\n{block}"), HookChange::Installed),
        Some(old) => {
            let (rest, had) = strip(&old, marker);
            let change = if had {
                HookChange::Updated
            } else {
                HookChange::Installed
            };
            let text = if rest.starts_with("#!") {
                let (shebang, tail) = rest.split_once('\n').unwrap_or((&rest, ""));
                format!("{shebang}\n{block}{tail}")
            } else {
                format!("#!/bin/sh\n{block}{rest}")
            };
            (text, change)
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text)?;
    make_executable(&path)?;
    Ok(HookReport { hook: path, change })
}

pub fn remove(root: &Path, marker: &str) -> CliResult<HookReport> {
    let path = hook_path(root)?;
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(HookReport {
                hook: path,
                change: HookChange::Absent,
            })
        }
        Err(e) => return Err(e.into()),
    };
    let (rest, had) = strip(&old, marker);
    if !had {
        return Ok(HookReport {
            hook: path,
            change: HookChange::Absent,
        });
    }
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || l.starts_with("#!"));
    if only_shebang {
        std::fs::remove_file(&path)?;
    } else {
        std::fs::write(&path, rest)?;
    }
    Ok(HookReport {
        hook: path,
        change: HookChange::Removed,
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> CliResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(perms.mode() | 0o755);
    std::fs::set_permissions(path, perms)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> CliResult<()> {
    Ok(())
}
