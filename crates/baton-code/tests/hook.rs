//! The pre-commit hook: a marked block that keeps other content and never
//! blocks a commit.

mod common;

use std::os::unix::fs::PermissionsExt;

use baton_code::{install_hook, remove_hook, HookChange};
use common::{git_available, Project};

fn hook_text(p: &Project) -> String {
    std::fs::read_to_string(p.path(".git/hooks/pre-commit")).unwrap()
}

#[test]
fn install_creates_an_executable_hook_and_remove_deletes_it() {
    if !git_available() {
        return;
    }
    let p = Project::new();
    p.git_init();
    let r = install_hook(&p.root, "baton scan --incremental").unwrap();
    assert_eq!(r.change, HookChange::Installed);
    let text = hook_text(&p);
    assert!(text.starts_with("#!/bin/sh\n"));
    assert!(text.contains("baton scan --incremental"));
    let mode = std::fs::metadata(p.path(".git/hooks/pre-commit"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111);
    assert_eq!(remove_hook(&p.root).unwrap().change, HookChange::Removed);
    assert!(!p.path(".git/hooks/pre-commit").exists());
    assert_eq!(remove_hook(&p.root).unwrap().change, HookChange::Absent);
}

#[test]
fn install_keeps_an_existing_hook_and_runs_before_its_exit() {
    if !git_available() {
        return;
    }
    let p = Project::new();
    p.git_init();
    let original = "#!/bin/bash\necho existing-check\nexit 0\n";
    p.write(".git/hooks/pre-commit", original);
    install_hook(&p.root, "baton scan --incremental").unwrap();
    let again = install_hook(&p.root, "baton scan --incremental").unwrap();
    assert_eq!(again.change, HookChange::Updated);
    let text = hook_text(&p);
    assert_eq!(text.matches(">>> baton code index >>>").count(), 1);
    assert!(text.starts_with("#!/bin/bash\n# >>> baton code index >>>"));
    assert!(text.ends_with("echo existing-check\nexit 0\n"));
    remove_hook(&p.root).unwrap();
    assert_eq!(hook_text(&p), original);
}

#[test]
fn a_failing_scan_never_blocks_the_commit() {
    if !git_available() {
        return;
    }
    let p = Project::new();
    p.git_init();
    install_hook(&p.root, "/nonexistent/baton scan --incremental; exit 7").unwrap();
    p.write("a.py", "x = 1\n");
    p.commit_all("commit with hook");
    assert!(p.git(&["log", "--oneline"]).contains("commit with hook"));
}

#[test]
fn the_hook_refreshes_the_index_on_commit() {
    if !git_available() {
        return;
    }
    // Uses a shell loop as the "scan" so the test does not need the CLI:
    // the hook runs the command in the project folder.
    let p = Project::new();
    p.git_init();
    install_hook(&p.root, "touch hook-ran").unwrap();
    p.write("a.py", "x = 1\n");
    p.commit_all("first");
    assert!(p.path("hook-ran").exists());
}

#[test]
fn the_hook_sees_the_index_being_committed_from_a_project_subfolder() {
    if !git_available() {
        return;
    }
    let p = Project::new();
    p.git_init();
    p.write("proj/a.py", "x = 1\n");
    p.commit_all("first");
    let proj = p.path("proj");
    install_hook(&proj, "git status --porcelain -- . > ../status.txt").unwrap();
    p.write("proj/b.py", "y = 2\n");
    p.git(&["add", "proj/b.py"]);
    p.git(&["commit", "-q", "-m", "second"]);
    let status = std::fs::read_to_string(p.path("status.txt")).unwrap();
    assert_eq!(status.trim(), "A  proj/b.py");
}
