//! Carrying out merges the board queued: a task's branch into its phase's, a phase's into
//! its initiative's, an initiative's into the default branch.
//!
//! Each merge is computed in git's object store first (`git merge-tree --write-tree`), so
//! a conflict changes nothing: no checkout, no half-merged files, no branch moved. A clean
//! merge becomes a commit (`git commit-tree`) and the target moves to it in one atomic,
//! compare-and-swap ref update; a target checked out in some worktree is moved there with
//! `git merge --ff-only` instead, which brings that checkout's files along (and refuses,
//! changing nothing, where it holds uncommitted edits to the same files).
//!
//! Dying anywhere in between leaves the repository consistent (unreferenced objects at
//! most; the lock is an `flock`, released with the process) and the board's claim lapses,
//! so another pass retries: a source already contained in its target is reported merged.

use std::path::Path;

use baton_core::api::{MergeClaim, MergeOutcome, MergeReport};
use baton_core::model::{Merge, MergeStrategy};
use baton_core::Api;

use crate::worktree::{git, run, GitError, GitResult, Repo, RUNNER_EMAIL, RUNNER_NAME};

/// A test hook: the process aborts at this point of a merge (`commit`: after the merge
/// commit is written, before the branch moves; `update`: after the branch moved, before the
/// board hears of it), as a runner killed there would.
pub const ABORT_ENV: &str = "BATON_TEST_MERGE_ABORT";

fn abort_at(point: &str) {
    if std::env::var(ABORT_ENV).is_ok_and(|v| v == point) {
        std::process::abort();
    }
}

fn is_ancestor(repo: &Repo, a: &str, b: &str) -> GitResult<bool> {
    let out = run(repo.root(), &["merge-base", "--is-ancestor", a, b])?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(failed(repo.root(), "merge-base --is-ancestor", &out)),
    }
}

fn failed(dir: &Path, args: &str, out: &std::process::Output) -> GitError {
    GitError::Failed {
        args: args.to_string(),
        dir: dir.to_path_buf(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    }
}

/// The tree of merging `theirs` into `ours` (with `base` as the merge base when given), or
/// the conflicting files.
pub(crate) enum Tree {
    Clean(String),
    Conflict(Vec<String>),
}

pub(crate) fn merge_tree(
    repo: &Repo,
    ours: &str,
    theirs: &str,
    base: Option<&str>,
) -> GitResult<Tree> {
    let base_arg = base.map(|b| format!("--merge-base={b}"));
    let mut args = vec![
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        "-z",
    ];
    if let Some(b) = &base_arg {
        args.push(b);
    }
    args.extend([ours, theirs]);
    let out = run(repo.root(), &args)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split('\0').filter(|f| !f.is_empty());
    let tree = fields.next().unwrap_or_default().trim().to_string();
    match out.status.code() {
        Some(0) => Ok(Tree::Clean(tree)),
        Some(1) => {
            let mut files: Vec<String> = fields.map(|f| f.trim().to_string()).collect();
            files.sort();
            files.dedup();
            Ok(Tree::Conflict(files))
        }
        _ => Err(failed(repo.root(), &args.join(" "), &out)),
    }
}

pub(crate) fn commit_tree(
    repo: &Repo,
    tree: &str,
    parents: &[&str],
    message: &str,
    author: Option<&Author>,
) -> GitResult<String> {
    let mut cmd = std::process::Command::new("git");
    cmd.arg("-C").arg(repo.root()).arg("commit-tree").arg(tree);
    for p in parents {
        cmd.arg("-p").arg(p);
    }
    cmd.arg("-m")
        .arg(message)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_COMMITTER_NAME", RUNNER_NAME)
        .env("GIT_COMMITTER_EMAIL", RUNNER_EMAIL);
    match author {
        Some(a) => cmd
            .env("GIT_AUTHOR_NAME", &a.name)
            .env("GIT_AUTHOR_EMAIL", &a.email)
            .env("GIT_AUTHOR_DATE", &a.date),
        None => cmd
            .env("GIT_AUTHOR_NAME", RUNNER_NAME)
            .env("GIT_AUTHOR_EMAIL", RUNNER_EMAIL),
    };
    let out = cmd.output().map_err(GitError::Spawn)?;
    if !out.status.success() {
        return Err(failed(repo.root(), "commit-tree", &out));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub(crate) struct Author {
    name: String,
    email: String,
    date: String,
}

/// Replays `base..source` onto `onto`, one commit at a time, keeping authors and messages;
/// the new head, or the files of the first commit that conflicts. `None` when the range
/// holds merge commits (they are merged instead).
fn replay(repo: &Repo, base: &str, source: &str, onto: &str) -> GitResult<Option<Tree>> {
    let range = format!("{base}..{source}");
    let list = git(
        repo.root(),
        &["rev-list", "--reverse", "--topo-order", "--parents", &range],
    )?;
    let mut head = onto.to_string();
    for line in list.lines() {
        let ids: Vec<&str> = line.split_whitespace().collect();
        let (commit, parents) = (ids[0], &ids[1..]);
        if parents.len() != 1 {
            return Ok(None);
        }
        let tree = match merge_tree(repo, &head, commit, Some(parents[0]))? {
            Tree::Clean(t) => t,
            conflict => return Ok(Some(conflict)),
        };
        let info = git(
            repo.root(),
            &["log", "-1", "--format=%an%x00%ae%x00%aI%x00%B", commit],
        )?;
        let mut parts = info.splitn(4, '\0');
        let author = Author {
            name: parts.next().unwrap_or_default().to_string(),
            email: parts.next().unwrap_or_default().to_string(),
            date: parts.next().unwrap_or_default().to_string(),
        };
        let message = parts.next().unwrap_or_default().to_string();
        head = commit_tree(repo, &tree, &[&head], &message, Some(&author))?;
    }
    Ok(Some(Tree::Clean(head)))
}

/// Moves `branch` from `old` to `new` (a descendant): in the worktree that has it checked
/// out, by a fast-forward that carries the files along; elsewhere by an atomic ref update
/// that fails if the branch moved meanwhile.
fn advance(repo: &Repo, branch: &str, old: &str, new: &str, why: &str) -> Result<(), String> {
    match repo.checked_out(branch).map_err(|e| e.to_string())? {
        Some(dir) => {
            let out =
                run(&dir, &["merge", "--ff-only", "--quiet", new]).map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!(
                    "{branch} is checked out in {} and could not move forward there: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Ok(())
        }
        None => {
            let refname = format!("refs/heads/{branch}");
            git(repo.root(), &["update-ref", "-m", why, &refname, new, old])
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
}

/// What to merge: a queued merge of the board, or an errand's branch.
pub struct MergeSpec<'a> {
    pub source: &'a str,
    pub target: &'a str,
    pub strategy: MergeStrategy,
    /// What the merge commit's message names (`T-12 (MR-3)`, `E-2`).
    pub label: String,
}

impl<'a> MergeSpec<'a> {
    pub fn of(merge: &'a Merge) -> MergeSpec<'a> {
        let subject = merge
            .task
            .map(|t| t.to_string())
            .or(merge.phase.map(|p| p.to_string()))
            .or(merge.initiative.map(|i| i.to_string()));
        MergeSpec {
            source: &merge.source,
            target: &merge.target,
            strategy: merge.strategy,
            label: match subject {
                Some(s) => format!("{s} ({})", merge.id),
                None => format!("({})", merge.id),
            },
        }
    }
}

/// Does one merge in `repo` (taking its lock) and says what became of it.
pub fn carry_out(repo: &Repo, merge: &Merge) -> MergeOutcome {
    merge_branches(repo, &MergeSpec::of(merge))
}

/// Merges `spec.source` into `spec.target` (taking the repository's lock).
pub fn merge_branches(repo: &Repo, spec: &MergeSpec<'_>) -> MergeOutcome {
    match carry_out_locked(repo, spec) {
        Ok(outcome) => outcome,
        Err(e) => MergeOutcome::Failed {
            error: e.to_string(),
            retry: true,
        },
    }
}

fn carry_out_locked(repo: &Repo, merge: &MergeSpec<'_>) -> GitResult<MergeOutcome> {
    let _lock = repo.lock()?;
    repo.fetch_locked()?;
    let Some(source) = repo.resolve(merge.source)? else {
        return Ok(MergeOutcome::Skipped {
            reason: format!(
                "branch {} does not exist here: no run left work on it",
                merge.source
            ),
        });
    };
    let Some(target) = repo.resolve(merge.target)? else {
        return Ok(MergeOutcome::Failed {
            error: format!(
                "the target branch {} does not exist in {} (for the default branch, set it \
                 with `baton config set default_branch NAME`)",
                merge.target,
                repo.root().display()
            ),
            retry: false,
        });
    };
    let base = git(repo.root(), &["merge-base", &target, &source])?;
    if is_ancestor(repo, &source, &target)? {
        // Nothing new, or a retry of a merge that moved the branch before its runner died.
        return Ok(MergeOutcome::Merged {
            base,
            source_head: source,
            target_head: target.clone(),
            result: target,
        });
    }
    let markers = leftover_markers(repo, &base, &source)?;
    if !markers.is_empty() {
        return Ok(MergeOutcome::Failed {
            error: markers_error(merge.source, &markers),
            retry: false,
        });
    }
    let moved = base != target;
    let message = format!(
        "Merge {} into {}\n\n{} merged by Baton.\n",
        merge.source, merge.target, merge.label
    );
    let conflict = |files| MergeOutcome::Conflict {
        base: base.clone(),
        source_head: source.clone(),
        target_head: target.clone(),
        files,
    };
    let rebase =
        merge.strategy == MergeStrategy::Rebase && repo.checked_out(merge.source)?.is_none();
    let result = if rebase && !moved {
        // The target has not moved: it simply moves forward to the source.
        source.clone()
    } else if rebase {
        match replay(repo, &base, &source, &target)? {
            Some(Tree::Clean(head)) => {
                // The source branch becomes its replayed self, so a retry after a crash
                // finds it contained in the target and does not replay it twice.
                let refname = format!("refs/heads/{}", merge.source);
                if repo.remote().is_some() {
                    let expect = repo.remote_ref(merge.source)?.map(|_| source.clone());
                    repo.publish(&head, merge.source, expect.as_deref())?;
                    git(
                        repo.root(),
                        &["update-ref", "-m", &message, &refname, &head],
                    )?;
                } else {
                    git(
                        repo.root(),
                        &["update-ref", "-m", &message, &refname, &head, &source],
                    )?;
                }
                head
            }
            Some(Tree::Conflict(files)) => return Ok(conflict(files)),
            None => match merge_commit(repo, &target, &source, &message)? {
                Ok(commit) => commit,
                Err(files) => return Ok(conflict(files)),
            },
        }
    } else {
        match merge_commit(repo, &target, &source, &message)? {
            Ok(commit) => commit,
            Err(files) => return Ok(conflict(files)),
        }
    };
    abort_at("commit");
    if repo.remote().is_some() {
        // The remote is the truth: it moves first, only from where this merge began (another
        // runner's push in between refuses this one, and the merge is tried again).
        let expect = repo.remote_ref(merge.target)?.map(|_| target.clone());
        if let Err(e) = repo.publish(&result, merge.target, expect.as_deref()) {
            return Ok(MergeOutcome::Failed {
                error: format!("pushing {} failed: {e}", merge.target),
                retry: true,
            });
        }
        // The clone's own branch follows (its checkout is detached, so nothing else moves).
        let local = format!("refs/heads/{}", merge.target);
        git(
            repo.root(),
            &["update-ref", "-m", &message, &local, &result],
        )?;
        abort_at("update");
        return Ok(MergeOutcome::Merged {
            base,
            source_head: source,
            target_head: target,
            result,
        });
    }
    if let Err(error) = advance(repo, merge.target, &target, &result, &message) {
        return Ok(MergeOutcome::Failed {
            error,
            retry: false,
        });
    }
    abort_at("update");
    Ok(MergeOutcome::Merged {
        base,
        source_head: source,
        target_head: target,
        result,
    })
}

/// Where `source` adds, since `base`, a line that is a conflict marker git left
/// (`<<<<<<<`, `=======`, `>>>>>>>` or `|||||||` opening the line): `path:line` each, found
/// by `git diff --check` as git finds them before a commit, so a path's
/// `conflict-marker-size` attribute counts. A conflict resolved by committing the file as
/// git left it would otherwise merge cleanly, markers and both sides included.
fn leftover_markers(repo: &Repo, base: &str, source: &str) -> GitResult<Vec<String>> {
    let args = [
        "-c",
        "core.quotePath=false",
        "diff",
        "--check",
        "--no-color",
        "--no-ext-diff",
        base,
        source,
    ];
    let out = run(repo.root(), &args)?;
    // 0: nothing to report; 2: markers or whitespace errors, listed; anything else failed.
    if !matches!(out.status.code(), Some(0 | 2)) {
        return Err(failed(repo.root(), "diff --check", &out));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": leftover conflict marker"))
        .map(str::to_string)
        .collect())
}

/// Why a branch with leftover conflict markers is not merged, naming at most ten places.
fn markers_error(source: &str, markers: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut places = markers[..markers.len().min(SHOWN)].join(", ");
    if markers.len() > SHOWN {
        places.push_str(&format!(" and {} more", markers.len() - SHOWN));
    }
    format!(
        "{source} adds conflict markers left from a merge ({places}): not merged. Resolve \
         those lines on {source}, commit, and retry the merge (a file meant to hold such \
         lines can say so in .gitattributes: `PATH conflict-marker-size=32`)"
    )
}

/// A merge commit of `source` into `target`, or the conflicting files.
fn merge_commit(
    repo: &Repo,
    target: &str,
    source: &str,
    message: &str,
) -> GitResult<Result<String, Vec<String>>> {
    match merge_tree(repo, target, source, None)? {
        Tree::Clean(tree) => Ok(Ok(commit_tree(
            repo,
            &tree,
            &[target, source],
            message,
            None,
        )?)),
        Tree::Conflict(files) => Ok(Err(files)),
    }
}

/// Claims and carries out merges until none is ready; each finished one is returned with
/// the board's record of it.
pub fn drain(
    api: &dyn Api,
    actor: &str,
    runner: &str,
    repo: &Repo,
    limit: usize,
    lease_secs: Option<u64>,
) -> baton_core::Result<Vec<baton_core::model::Merge>> {
    let mut done = Vec::new();
    while done.len() < limit {
        let claim = MergeClaim {
            runner: runner.to_string(),
            lease_secs,
        };
        let Some(merge) = api.merges().claim_merge(actor, claim)? else {
            break;
        };
        let outcome = carry_out(repo, &merge);
        let report = MergeReport {
            runner: runner.to_string(),
            outcome,
        };
        done.push(api.merges().finish_merge(actor, merge.id, report)?);
    }
    Ok(done)
}
