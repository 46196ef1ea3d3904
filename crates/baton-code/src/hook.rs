//! The pre-commit hook that keeps the index fresh: a marked block that never
//! blocks a commit and leaves the rest of an existing hook alone.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{CodeError, Result};

const BEGIN: &str = "# >>> baton code index >>>";
const END: &str = "# <<< baton code index <<<";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookChange {
    Installed,
    Updated,
    Removed,
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookReport {
    pub hook: PathBuf,
    pub change: HookChange,
}

fn hook_path(root: &Path) -> Result<PathBuf> {
    Ok(crate::git::hooks_dir(root)?.join("pre-commit"))
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The block: runs `scan_command` (e.g. `/usr/local/bin/baton scan --incremental`)
/// in the project, silenced, and ignores its status.
fn block(root: &Path, scan_command: &str) -> String {
    format!(
        "{BEGIN}\n# Refreshes .baton/code.db; never blocks the commit.\n(cd {} && {scan_command}) >/dev/null 2>&1 || true\n{END}\n",
        quote(&root.to_string_lossy())
    )
}

/// Text without our block, and whether it had one.
fn strip_block(text: &str) -> (String, bool) {
    let Some(start) = text.find(BEGIN) else {
        return (text.to_string(), false);
    };
    let Some(end_rel) = text[start..].find(END) else {
        return (text.to_string(), false);
    };
    let mut end = start + end_rel + END.len();
    if text[end..].starts_with('\n') {
        end += 1;
    }
    (format!("{}{}", &text[..start], &text[end..]), true)
}

/// Add (or refresh) the block in `.git/hooks/pre-commit`. It goes right after
/// the shebang so that an existing hook's `exit` cannot skip it.
pub fn install(root: &Path, scan_command: &str) -> Result<HookReport> {
    let path = hook_path(root)?;
    let existing = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(CodeError::io(&path, e)),
    };
    let block = block(root, scan_command);
    let (text, change) = match existing {
        None => (format!("#!/bin/sh\n{block}"), HookChange::Installed),
        Some(old) => {
            let (rest, had) = strip_block(&old);
            let change = if had {
                HookChange::Updated
            } else {
                HookChange::Installed
            };
            let text = match rest.strip_prefix("#!") {
                Some(_) => {
                    let (shebang, body) = rest.split_once('\n').unwrap_or((&rest, ""));
                    format!("{shebang}\n{block}{body}")
                }
                None => format!("#!/bin/sh\n{block}{rest}"),
            };
            (text, change)
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CodeError::io(dir, e))?;
    }
    std::fs::write(&path, text).map_err(|e| CodeError::io(&path, e))?;
    make_executable(&path)?;
    Ok(HookReport { hook: path, change })
}

/// Take the block out; a hook that held nothing else is deleted.
pub fn remove(root: &Path) -> Result<HookReport> {
    let path = hook_path(root)?;
    let old = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(HookReport {
                hook: path,
                change: HookChange::Absent,
            })
        }
        Err(e) => return Err(CodeError::io(&path, e)),
    };
    let (rest, had) = strip_block(&old);
    if !had {
        return Ok(HookReport {
            hook: path,
            change: HookChange::Absent,
        });
    }
    let only_shebang = rest
        .lines()
        .all(|l| l.trim().is_empty() || (l.starts_with("#!") && rest.starts_with(l)));
    if only_shebang {
        std::fs::remove_file(&path).map_err(|e| CodeError::io(&path, e))?;
    } else {
        std::fs::write(&path, rest).map_err(|e| CodeError::io(&path, e))?;
    }
    Ok(HookReport {
        hook: path,
        change: HookChange::Removed,
    })
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)
        .map_err(|e| CodeError::io(path, e))?
        .permissions();
    perms.set_mode(perms.mode() | 0o755);
    std::fs::set_permissions(path, perms).map_err(|e| CodeError::io(path, e))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}
