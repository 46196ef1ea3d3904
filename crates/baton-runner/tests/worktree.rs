//! Task worktrees in real git repositories: created on the task's branch, work saved
//! before anything else happens to them, never removed while they hold work or a lease.

use std::path::Path;
use std::process::Command;

use baton_core::TaskId;
use baton_runner::worktree::{Removal, Repo};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.name", "Test"]);
    git(p, &["config", "user.email", "test@example.invalid"]);
    std::fs::write(p.join("README.md"), "hello\n").unwrap();
    git(p, &["add", "."]);
    git(p, &["commit", "-qm", "first"]);
    dir
}

#[test]
fn a_task_gets_a_worktree_on_its_branch_and_the_main_checkout_stays_clean() {
    let dir = repository();
    let repo = Repo::open(dir.path()).unwrap();
    let wt = repo.worktree(TaskId(3), "main").unwrap();
    assert_eq!(wt.branch, "baton/T-3");
    assert!(wt.path.join("README.md").exists());
    assert_eq!(git(&wt.path, &["branch", "--show-current"]), "baton/T-3");
    assert_eq!(wt.base, git(dir.path(), &["rev-parse", "main"]));
    assert_eq!(
        git(dir.path(), &["status", "--porcelain"]),
        "",
        "worktrees show in the main checkout"
    );
    // Asked again (a retry), the same worktree is reused.
    assert_eq!(repo.worktree(TaskId(3), "main").unwrap(), wt);
}

#[test]
fn leftover_work_is_committed_on_the_task_branch() {
    let dir = repository();
    let repo = Repo::open(dir.path()).unwrap();
    let wt = repo.worktree(TaskId(7), "main").unwrap();
    assert_eq!(repo.save_work(&wt, "nothing yet").unwrap(), None);
    std::fs::write(wt.path.join("naïve café.txt"), "ünïcode\n").unwrap();
    std::fs::create_dir_all(wt.path.join("src/deep")).unwrap();
    std::fs::write(wt.path.join("src/deep/new.rs"), "fn main() {}\n").unwrap();
    std::fs::write(wt.path.join("README.md"), "changed\n").unwrap();
    let commit = repo
        .save_work(&wt, "baton: work left by claude-1 on T-7 (run stopped)")
        .unwrap()
        .expect("a commit");
    assert!(!repo.has_uncommitted(&wt).unwrap());
    assert_eq!(repo.commits(&wt).unwrap(), vec![commit.clone()]);
    let files = git(
        dir.path(),
        &["show", "--name-only", "--format=", "baton/T-7"],
    );
    assert!(
        files.contains("src/deep/new.rs") && files.contains("README.md"),
        "{files}"
    );
    assert_eq!(
        git(dir.path(), &["log", "-1", "--format=%an", "baton/T-7"]),
        "Baton runner"
    );
    // The main branch is untouched.
    assert_eq!(git(dir.path(), &["show", "main:README.md"]), "hello");
}

#[test]
fn a_worktree_with_uncommitted_work_or_a_live_lease_is_never_removed() {
    let dir = repository();
    let repo = Repo::open(dir.path()).unwrap();
    let wt = repo.worktree(TaskId(9), "main").unwrap();
    std::fs::write(wt.path.join("work.txt"), "precious\n").unwrap();
    assert_eq!(repo.remove(&wt, false).unwrap(), Removal::KeptUncommitted);
    assert!(wt.path.join("work.txt").exists());
    repo.save_work(&wt, "saved").unwrap();
    assert_eq!(repo.remove(&wt, true).unwrap(), Removal::KeptLeased);
    assert!(wt.path.exists());
    assert_eq!(repo.remove(&wt, false).unwrap(), Removal::Removed);
    assert!(!wt.path.exists());
    // The branch keeps the work, and a later run of the task starts from it.
    let again = repo.worktree(TaskId(9), "main").unwrap();
    assert_eq!(
        std::fs::read_to_string(again.path.join("work.txt")).unwrap(),
        "precious\n"
    );
}

#[test]
fn runners_creating_worktrees_at_once_do_not_trip_over_each_other() {
    let dir = repository();
    let root = dir.path().to_path_buf();
    let workers: Vec<_> = (1..=6)
        .map(|n| {
            let root = root.clone();
            std::thread::spawn(move || {
                let repo = Repo::open(&root).unwrap();
                let wt = repo.worktree(TaskId(n), "main").unwrap();
                std::fs::write(wt.path.join(format!("f{n}.txt")), "x\n").unwrap();
                repo.save_work(&wt, &format!("work {n}")).unwrap().unwrap()
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let branches = git(&root, &["branch", "--list", "baton/*"]);
    assert_eq!(branches.lines().count(), 6, "{branches}");
}
