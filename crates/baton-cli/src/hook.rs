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

/// A block body that runs `command` in `dir`, silenced, and never fails the commit.
pub fn never_blocking(dir: &Path, command: &str) -> String {
    format!(
        "# Never blocks the commit.\n(cd {} && {command}) >/dev/null 2>&1 || true\n",
        quote(&dir.to_string_lossy())
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const MARK: &str = "baton code index";

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e")
            .output()
            .expect("git runs (install git)");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        dir
    }

    fn hook_text(root: &Path) -> String {
        std::fs::read_to_string(root.join(".git/hooks/pre-commit")).unwrap()
    }

    fn commit_all(root: &Path, message: &str) {
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", message]);
    }

    #[test]
    fn install_creates_an_executable_hook_and_remove_deletes_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = repo();
        let root = dir.path();
        let r = install(root, MARK, "baton scan --incremental\n").unwrap();
        assert_eq!(r.change, HookChange::Installed);
        let text = hook_text(root);
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.contains("baton scan --incremental"));
        let mode = std::fs::metadata(root.join(".git/hooks/pre-commit"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
        assert_eq!(remove(root, MARK).unwrap().change, HookChange::Removed);
        assert!(!root.join(".git/hooks/pre-commit").exists());
        assert_eq!(remove(root, MARK).unwrap().change, HookChange::Absent);
    }

    #[test]
    fn install_keeps_an_existing_hook_and_runs_before_its_exit() {
        let dir = repo();
        let root = dir.path();
        let original = "#!/bin/bash\necho existing-check\nexit 0\n";
        std::fs::write(root.join(".git/hooks/pre-commit"), original).unwrap();
        install(root, MARK, "true\n").unwrap();
        assert_eq!(
            install(root, MARK, "true\n").unwrap().change,
            HookChange::Updated
        );
        // A second feature's block sits beside the first.
        install(root, "baton guard", "true\n").unwrap();
        let text = hook_text(root);
        assert_eq!(text.matches(">>> baton code index >>>").count(), 1);
        assert!(text.starts_with("#!/bin/bash\n# >>> baton guard >>>"));
        assert!(text.ends_with("echo existing-check\nexit 0\n"));
        remove(root, MARK).unwrap();
        remove(root, "baton guard").unwrap();
        assert_eq!(hook_text(root), original);
    }

    #[test]
    fn a_failing_command_never_blocks_the_commit() {
        let dir = repo();
        let root = dir.path();
        install(
            root,
            MARK,
            &never_blocking(root, "/nonexistent/baton scan; exit 7"),
        )
        .unwrap();
        std::fs::write(root.join("a.py"), "x = 1\n").unwrap();
        commit_all(root, "commit with hook");
        assert!(git(root, &["log", "--oneline"]).contains("commit with hook"));
    }

    #[test]
    fn the_hook_runs_its_command_in_the_project_folder() {
        let dir = repo();
        let root = dir.path();
        std::fs::create_dir(root.join("proj")).unwrap();
        std::fs::write(root.join("proj/a.py"), "x = 1\n").unwrap();
        commit_all(root, "first");
        let proj = root.join("proj");
        install(
            &proj,
            MARK,
            &never_blocking(&proj, "git status --porcelain -- . > ../status.txt"),
        )
        .unwrap();
        std::fs::write(proj.join("b.py"), "y = 2\n").unwrap();
        git(root, &["add", "proj/b.py"]);
        git(root, &["commit", "-q", "-m", "second"]);
        let status = std::fs::read_to_string(root.join("status.txt")).unwrap();
        assert_eq!(
            status.trim(),
            "A  proj/b.py",
            "the hook sees what is being committed"
        );
    }

    #[test]
    fn outside_a_repository_installing_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let e = install(dir.path(), MARK, "true\n").unwrap_err();
        assert!(e.message.contains("not a git repository"), "{}", e.message);
    }
}
