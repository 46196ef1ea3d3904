//! Each run works in a git worktree of its own, on its task's branch. All git work goes
//! through the `git` CLI, under one lock per repository (git's own locks do not cover a
//! sequence such as "add a worktree, then commit in it").
//!
//! Nothing is lost: [`Repo::save_work`] commits whatever the agent left uncommitted before
//! any stop, retry or cleanup, and [`Repo::remove`] refuses a worktree with uncommitted
//! work or a live lease.

use baton_core::model::BranchStart;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use baton_core::TaskId;

/// A git failure, with what git said.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git {args} failed in {}: {stderr}", dir.display())]
    Failed {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
    #[error("cannot run git: {0} (is git installed and on PATH?)")]
    Spawn(std::io::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type GitResult<T> = Result<T, GitError>;

/// The author of the commits the runner makes itself (saving an agent's leftover work).
pub(crate) const RUNNER_NAME: &str = "Baton runner";
pub(crate) const RUNNER_EMAIL: &str = "runner@baton.invalid";

/// One repository that runs work in.
pub struct Repo {
    root: PathBuf,
    common_dir: PathBuf,
    /// The remote that holds the project's branches when this is a runner's own clone
    /// (`baton.remote` in its config): fetched before work starts, pushed to after.
    remote: Option<String>,
}

/// A task's worktree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
    /// The commit the branch started from (for the task's diff).
    pub base: String,
}

/// Why a worktree was kept rather than removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    KeptUncommitted,
    KeptLeased,
}

impl Removal {
    pub fn name(self) -> &'static str {
        match self {
            Removal::Removed => "removed",
            Removal::KeptUncommitted => "kept_uncommitted",
            Removal::KeptLeased => "kept_leased",
        }
    }
}

impl Repo {
    /// The repository containing `dir`.
    pub fn open(dir: &Path) -> GitResult<Repo> {
        let root = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
        let common = PathBuf::from(git(&root, &["rev-parse", "--git-common-dir"])?);
        let common_dir = if common.is_absolute() {
            common
        } else {
            root.join(common)
        };
        let remote = run(&root, &["config", "--get", "baton.remote"])
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|r| !r.is_empty());
        Ok(Repo {
            root,
            common_dir,
            remote,
        })
    }

    /// A runner's own clone of the project's repository at `url`, made in `dir` the first
    /// time (its checkout detached, so every branch can move), then reused.
    pub fn clone_of(url: &str, dir: &Path) -> GitResult<Repo> {
        if !dir.join(".git").exists() {
            let parent = dir.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent).map_err(|source| GitError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
            let target = dir.display().to_string();
            git(parent, &["clone", "--quiet", url, &target])?;
            git(dir, &["checkout", "--quiet", "--detach"])?;
            git(dir, &["config", "baton.remote", "origin"])?;
        } else {
            git(dir, &["remote", "set-url", "origin", url])?;
        }
        Repo::open(dir)
    }

    /// The project's repository as the `repository` setting names it (a URL, or a path,
    /// relative to `root`): this machine's clone of it in `clones/<name>` (made when
    /// missing; a `.gitignore` keeps a clones folder inside a checkout out of its status).
    pub fn repository_for(url: &str, root: &Path, clones: &Path) -> GitResult<Repo> {
        // A relative path names a repository beside the project.
        let url = if Path::new(url).is_relative() && !url.contains(':') {
            root.join(url).display().to_string()
        } else {
            url.to_string()
        };
        let name: String = url
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .rsplit(['/', ':'])
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let ignore = clones.join(".gitignore");
        if !ignore.exists() {
            std::fs::create_dir_all(clones)
                .and_then(|_| std::fs::write(&ignore, "*\n"))
                .map_err(|source| GitError::Io {
                    path: clones.to_path_buf(),
                    source,
                })?;
        }
        let dir = clones.join(if name.is_empty() { "repository" } else { &name });
        Repo::clone_of(&url, &dir)
    }

    /// The remote this clone works against, if it is a runner's clone.
    pub fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    /// Brings the remote's branches in (`refs/remotes/<remote>/*`); nothing to do for a
    /// repository without a remote.
    pub fn fetch(&self) -> GitResult<()> {
        let _lock = self.lock()?;
        self.fetch_locked()
    }

    pub(crate) fn fetch_locked(&self) -> GitResult<()> {
        if let Some(remote) = &self.remote {
            git(&self.root, &["fetch", "--quiet", "--prune", remote])?;
        }
        Ok(())
    }

    pub(crate) fn remote_ref(&self, branch: &str) -> GitResult<Option<String>> {
        let Some(remote) = &self.remote else {
            return Ok(None);
        };
        let refname = format!("refs/remotes/{remote}/{branch}");
        let found = run(&self.root, &["show-ref", "--verify", "--quiet", &refname])?
            .status
            .success();
        Ok(found.then_some(refname))
    }

    /// The commit `branch` is at: the remote's when this is a clone (the remote is the
    /// truth), else the local branch's.
    pub fn resolve(&self, branch: &str) -> GitResult<Option<String>> {
        let mut refs = Vec::new();
        if let Some(r) = self.remote_ref(branch)? {
            refs.push(r);
        }
        refs.push(format!("refs/heads/{branch}"));
        for r in refs {
            let spec = format!("{r}^{{commit}}");
            let out = run(&self.root, &["rev-parse", "--verify", "--quiet", &spec])?;
            if out.status.success() {
                return Ok(Some(
                    String::from_utf8_lossy(&out.stdout).trim().to_string(),
                ));
            }
        }
        Ok(None)
    }

    /// What a new branch starting at `branch` starts from: the remote's copy when there is
    /// one (other runners may have moved it), else the local branch or commit.
    pub fn start_point(&self, branch: &str) -> GitResult<String> {
        Ok(self
            .remote_ref(branch)?
            .unwrap_or_else(|| branch.to_string()))
    }

    /// Pushes `commit` to `branch` on the remote (a no-op without one). `expect`: the commit
    /// the remote branch must still be at (refused otherwise: another runner moved it).
    pub fn publish(&self, commit: &str, branch: &str, expect: Option<&str>) -> GitResult<()> {
        let Some(remote) = &self.remote else {
            return Ok(());
        };
        let spec = format!("{commit}:refs/heads/{branch}");
        let lease = expect.map(|e| format!("--force-with-lease=refs/heads/{branch}:{e}"));
        let mut args = vec!["push", "--quiet"];
        if let Some(l) = &lease {
            args.push(l);
        }
        args.extend([remote.as_str(), spec.as_str()]);
        git(&self.root, &args).map(|_| ())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where task worktrees live: `.baton/worktrees/` (ignored by git through its own
    /// `.gitignore`, so the main checkout's status stays clean).
    pub fn worktrees_dir(&self) -> PathBuf {
        self.root.join(".baton").join("worktrees")
    }

    /// The branch a task's work goes to.
    pub fn task_branch(task: TaskId) -> String {
        format!("baton/{task}")
    }

    /// Holds this repository's lock until dropped (an exclusive `flock` on a file in the
    /// git directory, shared by every runner process on the machine).
    pub fn lock(&self) -> GitResult<RepoLock> {
        let path = self.common_dir.join("baton-runner.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| GitError::Io {
                path: path.clone(),
                source,
            })?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive).map_err(|e| {
            GitError::Io {
                path,
                source: e.into(),
            }
        })?;
        Ok(RepoLock { _file: file })
    }

    /// The worktree of `task`, created from `base` (a branch or commit) on the task's
    /// branch; an existing one (a retry, a resume) is reused as it is.
    pub fn worktree(&self, task: TaskId, base: &str) -> GitResult<Worktree> {
        self.worktree_named(&task.to_string(), &Repo::task_branch(task), base)
    }

    /// The worktree `.baton/worktrees/<name>` on `branch`, created from `base` (a branch or
    /// commit) when the branch is new; an existing one is reused as it is.
    pub fn worktree_named(&self, name: &str, branch: &str, base: &str) -> GitResult<Worktree> {
        let _lock = self.lock()?;
        let dir = self.worktrees_dir();
        std::fs::create_dir_all(&dir).map_err(|source| GitError::Io {
            path: dir.clone(),
            source,
        })?;
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "*\n").map_err(|source| GitError::Io {
                path: ignore.clone(),
                source,
            })?;
        }
        let path = dir.join(name);
        let branch = branch.to_string();
        let path_text = path.display().to_string();
        if !path.join(".git").exists() {
            // A folder left without its worktree (a crash mid-create) is cleared first.
            let _ = git(&self.root, &["worktree", "prune"]);
            if self.branch_exists(&branch)? {
                git(&self.root, &["worktree", "add", &path_text, &branch])?;
            } else if let Some(theirs) = self.remote_ref(&branch)? {
                // Begun on another machine: carry on from what it pushed.
                git(
                    &self.root,
                    &["worktree", "add", "-b", &branch, &path_text, &theirs],
                )?;
            } else {
                git(
                    &self.root,
                    &["worktree", "add", "-b", &branch, &path_text, base],
                )?;
            }
        }
        let base = git(&path, &["merge-base", "HEAD", base])
            .or_else(|_| git(&path, &["rev-parse", "HEAD"]))?;
        Ok(Worktree { path, branch, base })
    }

    /// Creates `branch` from `from` unless it exists (the lock held by the caller).
    pub(crate) fn ensure_branch_locked(&self, branch: &str, from: &str) -> GitResult<bool> {
        if self.branch_exists(branch)? {
            return Ok(false);
        }
        let from = match self.remote_ref(branch)? {
            // Another runner made it: start from theirs.
            Some(theirs) => theirs,
            None => self.start_point(from)?,
        };
        let start = format!("{from}^{{commit}}");
        let commit =
            git(&self.root, &["rev-parse", "--verify", "--quiet", &start]).map_err(|_| {
                GitError::Failed {
                    args: format!("branch {branch} {from}"),
                    dir: self.root.clone(),
                    stderr: format!(
                        "cannot start branch {branch}: '{from}' is not a branch or commit here \
                     (is the project's default_branch setting right? `baton config set \
                     default_branch NAME`)"
                    ),
                }
            })?;
        git(&self.root, &["branch", "--no-track", branch, &commit])?;
        Ok(true)
    }

    /// Merges `with` into the branch just made, when it exists and merges cleanly (a
    /// conflict is left for the phase merges to meet, and reported). Returns whether it
    /// merged.
    fn fold_in_locked(&self, branch: &str, with: &str) -> GitResult<bool> {
        let theirs = self.start_point(with)?;
        if !self.branch_exists(with)? && self.remote_ref(with)?.is_none() {
            return Ok(false);
        }
        let local = format!("refs/heads/{branch}");
        let ours = git(&self.root, &["rev-parse", &local])?;
        let theirs = git(&self.root, &["rev-parse", &format!("{theirs}^{{commit}}")])?;
        let held = run(&self.root, &["merge-base", "--is-ancestor", &theirs, &ours])?;
        if held.status.success() {
            return Ok(false);
        }
        match crate::merge::merge_tree(self, &ours, &theirs, None)? {
            crate::merge::Tree::Clean(tree) => {
                let commit = crate::merge::commit_tree(
                    self,
                    &tree,
                    &[&ours, &theirs],
                    &format!("baton: start {branch} with {with} (its work is not merged yet)"),
                    None,
                )?;
                git(&self.root, &["update-ref", &local, &commit, &ours])?;
                Ok(true)
            }
            crate::merge::Tree::Conflict(files) => {
                crate::runs::warn(&format!(
                    "{branch} starts without {with}: merging it would conflict in {}",
                    files.join(", ")
                ));
                Ok(false)
            }
        }
    }

    /// Creates each branch that is missing, in order, from its start (with the branches
    /// it is to start with merged in).
    pub fn ensure_branches(&self, starts: &[BranchStart]) -> GitResult<Vec<String>> {
        let _lock = self.lock()?;
        let mut created = Vec::new();
        for BranchStart { branch, from, with } in starts {
            if self.ensure_branch_locked(branch, from)? {
                for w in with {
                    self.fold_in_locked(branch, w)?;
                }
                // Other runners' clones find it on the remote (a push of a branch that is
                // already there refuses, and theirs is kept).
                if self.remote.is_some() {
                    let local = format!("refs/heads/{branch}");
                    if self.publish(&local, branch, None).is_err() {
                        self.fetch_locked()?;
                        if let Some(theirs) = self.remote_ref(branch)? {
                            git(&self.root, &["update-ref", &local, &theirs])?;
                        }
                    }
                }
                created.push(branch.clone());
            }
        }
        Ok(created)
    }

    /// For a worktree that resolves a conflict: merges `target` into it without committing,
    /// leaving the conflicts in the files for the agent. Done once: a worktree already
    /// merging, or whose branch already holds `target`, is left alone. Returns whether a
    /// merge was started.
    pub fn premerge(&self, wt: &Worktree, target: &str) -> GitResult<bool> {
        let _lock = self.lock()?;
        let merging = run(
            &wt.path,
            &["rev-parse", "--verify", "--quiet", "MERGE_HEAD"],
        )?;
        if merging.status.success() {
            return Ok(false);
        }
        let holds = run(&wt.path, &["merge-base", "--is-ancestor", target, "HEAD"])?;
        if holds.status.success() {
            return Ok(false);
        }
        let name = format!("user.name={RUNNER_NAME}");
        let email = format!("user.email={RUNNER_EMAIL}");
        // Exit 1 is the expected conflict; anything else is git's error.
        let out = run(
            &wt.path,
            &[
                "-c",
                &name,
                "-c",
                &email,
                "merge",
                "--no-ff",
                "--no-commit",
                target,
            ],
        )?;
        let code = out.status.code();
        if code != Some(0) && code != Some(1) {
            return Err(GitError::Failed {
                args: format!("merge --no-ff --no-commit {target}"),
                dir: wt.path.clone(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(true)
    }

    pub(crate) fn branch_exists(&self, branch: &str) -> GitResult<bool> {
        let refname = format!("refs/heads/{branch}");
        Ok(
            run(&self.root, &["show-ref", "--verify", "--quiet", &refname])?
                .status
                .success(),
        )
    }

    /// The path of the worktree that has `branch` checked out, if any.
    pub(crate) fn checked_out(&self, branch: &str) -> GitResult<Option<PathBuf>> {
        let want = format!("branch refs/heads/{branch}");
        let list = git(&self.root, &["worktree", "list", "--porcelain"])?;
        let mut path = None;
        for line in list.lines() {
            if let Some(p) = line.strip_prefix("worktree ") {
                path = Some(PathBuf::from(p));
            } else if line == want {
                return Ok(path);
            }
        }
        Ok(None)
    }

    /// Whether the worktree holds changes not yet committed (untracked files included).
    pub fn has_uncommitted(&self, wt: &Worktree) -> GitResult<bool> {
        Ok(!git(
            &wt.path,
            &["status", "--porcelain", "--untracked-files=all"],
        )?
        .is_empty())
    }

    /// Commits whatever the agent left uncommitted, on the task's branch; returns the new
    /// commit, or `None` when there was nothing to save.
    pub fn save_work(&self, wt: &Worktree, message: &str) -> GitResult<Option<String>> {
        let _lock = self.lock()?;
        if !self.has_uncommitted(wt)? {
            return Ok(None);
        }
        git(&wt.path, &["add", "--all"])?;
        let name = format!("user.name={RUNNER_NAME}");
        let email = format!("user.email={RUNNER_EMAIL}");
        git(
            &wt.path,
            &[
                "-c",
                &name,
                "-c",
                &email,
                "commit",
                "--no-verify",
                "--quiet",
                "-m",
                message,
            ],
        )?;
        git(&wt.path, &["rev-parse", "HEAD"]).map(Some)
    }

    /// The commits on the task's branch since its base, newest first.
    pub fn commits(&self, wt: &Worktree) -> GitResult<Vec<String>> {
        let range = format!("{}..HEAD", wt.base);
        let out = git(&wt.path, &["rev-list", &range])?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// The task's diff in one line (`3 files changed, 20 insertions(+), 2 deletions(-)`),
    /// from its base to the branch's head; `None` for no change.
    pub fn diff_stat(&self, wt: &Worktree) -> GitResult<Option<String>> {
        let out = git(&wt.path, &["diff", "--shortstat", &wt.base, "HEAD"])?;
        let out = out.trim();
        Ok((!out.is_empty()).then(|| out.to_string()))
    }

    /// Removes a finished worktree (its branch stays). A worktree with uncommitted work, or
    /// whose task is still leased to someone, is kept.
    pub fn remove(&self, wt: &Worktree, lease_live: bool) -> GitResult<Removal> {
        let _lock = self.lock()?;
        if lease_live {
            return Ok(Removal::KeptLeased);
        }
        if self.has_uncommitted(wt)? {
            return Ok(Removal::KeptUncommitted);
        }
        let path = wt.path.display().to_string();
        git(&self.root, &["worktree", "remove", &path])?;
        Ok(Removal::Removed)
    }
}

impl Repo {
    /// Removes the worktree `.baton/worktrees/<name>` (only when it holds nothing
    /// uncommitted) and, when given, deletes `branch` here and on the remote. Whether the
    /// branch was deleted.
    pub fn forget(&self, name: &str, branch: Option<&str>) -> GitResult<bool> {
        let _lock = self.lock()?;
        let path = self.worktrees_dir().join(name);
        if path.join(".git").exists() {
            let dirty =
                !git(&path, &["status", "--porcelain", "--untracked-files=all"])?.is_empty();
            if dirty {
                return Err(GitError::Failed {
                    args: "worktree remove".into(),
                    dir: path,
                    stderr: "the worktree holds uncommitted work; commit or remove it first".into(),
                });
            }
            git(
                &self.root,
                &["worktree", "remove", &path.display().to_string()],
            )?;
        }
        let Some(branch) = branch else {
            return Ok(false);
        };
        if self.branch_exists(branch)? {
            git(&self.root, &["branch", "-D", branch])?;
        }
        if let Some(remote) = &self.remote {
            let spec = format!(":refs/heads/{branch}");
            let _ = git(&self.root, &["push", "--quiet", remote, &spec]);
        }
        Ok(true)
    }
}

/// The repository's lock, released on drop.
pub struct RepoLock {
    _file: File,
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> GitResult<std::process::Output> {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        // Never wait on a prompt: the runner has no terminal.
        .env("GIT_TERMINAL_PROMPT", "0");
    if std::env::var_os("GIT_SSH_COMMAND").is_none() && std::env::var_os("GIT_SSH").is_none() {
        // Nor on ssh's (a passphrase, an unknown host): fail and say so instead.
        cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    }
    cmd.output().map_err(GitError::Spawn)
}

/// Runs git in `dir`; its trimmed stdout, or the failure with git's own words.
pub(crate) fn git(dir: &Path, args: &[&str]) -> GitResult<String> {
    let out = run(dir, args)?;
    if !out.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            dir: dir.to_path_buf(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}
