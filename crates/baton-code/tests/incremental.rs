//! Incremental scans follow the working tree by stat data: edits,
//! additions, deletions, renames and commits since the last scan, with or
//! without git; unchanged content is not re-parsed.

mod common;

use baton_code::{scan_full, scan_incremental, CodeIndex, SymbolQuery};
use common::{git_available, Project};

fn names(p: &Project) -> Vec<String> {
    let index = CodeIndex::open(&p.root).unwrap();
    let mut all: Vec<String> = index
        .symbols(&SymbolQuery::default())
        .unwrap()
        .into_iter()
        .map(|s| format!("{}:{}", s.file, s.name))
        .collect();
    all.sort();
    all
}

/// Names of the symbols a substring search finds, in order.
fn search(p: &Project, needle: &str) -> Vec<String> {
    CodeIndex::open(&p.root)
        .unwrap()
        .symbols(&SymbolQuery {
            name: Some(needle.into()),
            ..SymbolQuery::default()
        })
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect()
}

fn repo() -> Project {
    let p = Project::new();
    p.git_init();
    p.write("a.py", "def alpha():\n    pass\n")
        .write("b.py", "from a import alpha\n\ndef beta():\n    pass\n")
        .write("lib/c.ts", "export function gamma() {}\n");
    p.commit_all("initial");
    p
}

#[test]
fn incremental_scan_without_a_previous_scan_does_a_full_scan() {
    if !git_available() {
        return;
    }
    let p = repo();
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.mode, "full");
    assert_eq!(report.files, 3);
}

#[test]
fn unstaged_edit_is_reparsed_and_nothing_else() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.write(
        "a.py",
        "def alpha():\n    pass\n\ndef alpha2():\n    pass\n",
    );
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.mode, "incremental");
    assert_eq!(report.indexed, 1);
    assert_eq!(report.removed, 0);
    assert!(names(&p).contains(&"a.py:alpha2".to_string()));
    // Totals are kept up to date without counting every row.
    assert_eq!((report.files, report.symbols, report.imports), (3, 4, 1));
    p.remove("b.py");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.files, report.symbols, report.imports), (2, 3, 0));
}

#[test]
fn untracked_and_staged_files_are_added() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.write("new_untracked.py", "def fresh():\n    pass\n");
    p.write("staged.go", "package x\n\nfunc Staged() {}\n");
    p.git(&["add", "staged.go"]);
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 2);
    let n = names(&p);
    assert!(n.contains(&"new_untracked.py:fresh".to_string()), "{n:?}");
    assert!(n.contains(&"staged.go:Staged".to_string()), "{n:?}");
}

#[test]
fn deleted_file_leaves_the_index_and_its_importers_no_longer_resolve_to_it() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.remove("a.py");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.removed, 1);
    assert!(!names(&p).iter().any(|n| n.starts_with("a.py:")));
    let index = CodeIndex::open(&p.root).unwrap();
    assert_eq!(index.imports("b.py").unwrap()[0].resolved, None);
    let err = index.outline("a.py").unwrap_err();
    assert_eq!(err.code(), "file_not_indexed");
}

/// Each file's symbols and imports are one range of row ids derived from the file's id,
/// and SQLite gives a new file the id of the last one when that one has left: the new
/// file must see only its own rows, and the totals must add up.
#[test]
fn files_replacing_removed_ones_keep_only_their_own_symbols_and_imports() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    for f in ["a.py", "b.py", "lib/c.ts"] {
        p.remove(f);
    }
    p.write("d.py", "import os\n\ndef delta():\n    pass\n")
        .write(
            "e.py",
            "from d import delta\nimport sys\n\nclass Echo:\n    def run(self):\n        pass\n",
        );
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.removed, report.indexed), (3, 2));
    let index = CodeIndex::open(&p.root).unwrap();
    let outline = |f: &str| -> Vec<String> {
        index
            .outline(f)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(outline("d.py"), ["delta"]);
    assert_eq!(outline("e.py"), ["Echo", "run"]);
    let sources = |f: &str| -> Vec<String> {
        index
            .imports(f)
            .unwrap()
            .into_iter()
            .map(|i| i.source)
            .collect()
    };
    assert_eq!(sources("d.py"), ["os"]);
    assert_eq!(sources("e.py"), ["d", "sys"]);
    let summary = index.summary().unwrap();
    assert_eq!((summary.files, summary.symbols, summary.imports), (2, 3, 3));
    let python = summary
        .languages
        .iter()
        .find(|l| l.language == "python")
        .unwrap();
    assert_eq!((python.files, python.symbols), (2, 3));
    assert_eq!(names(&p), ["d.py:delta", "e.py:Echo", "e.py:run"]);
    // And once more, the other way round: the newest file leaves, an older one is edited.
    p.remove("e.py");
    p.write(
        "d.py",
        "def delta():\n    pass\n\ndef delta2():\n    pass\n",
    );
    scan_incremental(&p.root).unwrap();
    assert_eq!(names(&p), ["d.py:delta", "d.py:delta2"]);
    let index = CodeIndex::open(&p.root).unwrap();
    assert!(index.imports("d.py").unwrap().is_empty());
}

#[test]
fn renamed_file_moves_in_the_index_and_imports_follow_new_files() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.git(&["mv", "a.py", "renamed.py"]);
    // b.py still imports `a`; a new a.py appears later and must be resolved.
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.removed, 1);
    assert_eq!(report.indexed, 1);
    let n = names(&p);
    assert!(n.contains(&"renamed.py:alpha".to_string()), "{n:?}");
    assert!(!n.iter().any(|x| x.starts_with("a.py:")), "{n:?}");
    p.write("a.py", "def alpha():\n    pass\n");
    scan_incremental(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    assert_eq!(
        index.imports("b.py").unwrap()[0].resolved.as_deref(),
        Some("a.py")
    );
}

#[test]
fn commits_made_since_the_last_scan_are_picked_up() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.write(
        "lib/c.ts",
        "export function gamma() {}\nexport function delta() {}\n",
    );
    p.write("d.rs", "pub fn epsilon() {}\n");
    p.commit_all("second");
    p.remove("b.py");
    p.commit_all("third");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.mode, "incremental");
    assert_eq!(report.indexed, 2);
    assert_eq!(report.removed, 1);
    let n = names(&p);
    assert!(n.contains(&"lib/c.ts:delta".to_string()), "{n:?}");
    assert!(n.contains(&"d.rs:epsilon".to_string()), "{n:?}");
    assert!(!n.iter().any(|x| x.starts_with("b.py:")), "{n:?}");
}

/// Set files' and folders' mtimes in the past, as if they were written long
/// before the scan (a scan reads again anything younger than two seconds).
fn settle(p: &Project, paths: &[&str]) {
    touch(p, &["-d", "2020-01-01 00:00:00"], paths);
}

fn touch(p: &Project, options: &[&str], paths: &[&str]) {
    let status = std::process::Command::new("touch")
        .args(options)
        .args(paths.iter().map(|rel| p.path(rel)))
        .status()
        .unwrap();
    assert!(status.success());
}

/// `repo()` written long ago, then scanned.
fn settled_scanned_repo() -> Project {
    let p = repo();
    settle(&p, &[".", "lib", "a.py", "b.py", "lib/c.ts"]);
    scan_full(&p.root).unwrap();
    p
}

#[test]
fn touched_file_with_the_same_content_is_skipped_by_hash() {
    if !git_available() {
        return;
    }
    let p = settled_scanned_repo();
    // Settled files with the stat data they had are not even read.
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.unchanged), (0, 0), "{report:?}");
    touch(&p, &[], &["a.py"]);
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.unchanged), (0, 1), "{report:?}");
}

#[test]
fn a_settled_file_rewritten_in_place_is_found_by_its_stat_data() {
    if !git_available() {
        return;
    }
    let p = settled_scanned_repo();
    // Same length, same folder mtime: only the file's own mtime tells.
    p.write("lib/c.ts", "export function gamme() {}\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.unchanged), (1, 0), "{report:?}");
    assert!(names(&p).contains(&"lib/c.ts:gamme".to_string()));
}

/// Files added by incremental scans go at the end of the index, apart from the other
/// files of their folders; each is still stat'ed and an edit in place is still found.
#[test]
fn edits_in_place_are_found_in_folders_whose_files_were_added_at_different_times() {
    if !git_available() {
        return;
    }
    let p = settled_scanned_repo();
    p.write("d.py", "def delta():\n    pass\n")
        .write("lib/e.ts", "export function epsilon() {}\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 2, "{report:?}");
    settle(
        &p,
        &[".", "lib", "a.py", "b.py", "d.py", "lib/c.ts", "lib/e.ts"],
    );
    // The settled stat data is taken in; nothing is parsed again.
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 0, "{report:?}");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.unchanged), (0, 0), "{report:?}");
    // Same lengths, so that only each file's own stat data tells.
    p.write("a.py", "def alphA():\n    pass\n")
        .write("d.py", "def deltA():\n    pass\n")
        .write("lib/c.ts", "export function gammA() {}\n")
        .write("lib/e.ts", "export function epsiloN() {}\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.unchanged), (4, 0), "{report:?}");
    let n = names(&p);
    for name in [
        "a.py:alphA",
        "d.py:deltA",
        "lib/c.ts:gammA",
        "lib/e.ts:epsiloN",
    ] {
        assert!(n.contains(&name.to_string()), "{name} in {n:?}");
    }
}

#[test]
fn outside_git_an_incremental_scan_still_follows_the_tree() {
    let p = Project::new();
    p.write("a.py", "def alpha():\n    pass\n");
    scan_full(&p.root).unwrap();
    p.write("a.py", "def alpha_two():\n    pass\n")
        .write("b.py", "def beta():\n    pass\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.mode, "incremental");
    assert_eq!(report.indexed, 2, "{report:?}");
    assert_eq!(names(&p), ["a.py:alpha_two", "b.py:beta"]);
    assert_eq!(
        CodeIndex::open(&p.root)
            .unwrap()
            .summary()
            .unwrap()
            .git_head,
        None
    );
}

#[test]
fn a_skipped_large_file_is_indexed_once_it_shrinks() {
    if !git_available() {
        return;
    }
    let p = repo();
    let big = format!("def big():\n    pass\n{}", "# padding\n".repeat(120_000));
    p.write("big.py", &big);
    p.commit_all("big");
    let report = scan_full(&p.root).unwrap();
    assert_eq!(report.skipped_large, 1);
    assert!(!names(&p).contains(&"big.py:big".to_string()));
    assert_eq!(scan_incremental(&p.root).unwrap().indexed, 0);
    p.write("big.py", "def big():\n    pass\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 1, "{report:?}");
    assert!(names(&p).contains(&"big.py:big".to_string()));
    // And leaves the index when it grows again.
    p.write("big.py", &big);
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.removed, report.skipped_large), (1, 1), "{report:?}");
    assert!(!names(&p).contains(&"big.py:big".to_string()));
}

#[test]
fn a_dirty_file_reverted_after_the_scan_is_reindexed() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write("a.py", "def changed():\n    pass\n");
    scan_full(&p.root).unwrap();
    p.git(&["checkout", "--", "a.py"]);
    scan_incremental(&p.root).unwrap();
    let n = names(&p);
    assert!(n.contains(&"a.py:alpha".to_string()), "{n:?}");
    assert!(!n.contains(&"a.py:changed".to_string()), "{n:?}");
}

#[test]
fn project_in_a_subfolder_of_the_repository_sees_only_its_paths() {
    if !git_available() {
        return;
    }
    let p = Project::new();
    p.git_init();
    p.write("outside.py", "def out(): pass\n")
        .write("proj/inside.py", "def inside(): pass\n");
    p.commit_all("init");
    let proj = p.root.join("proj");
    scan_full(&proj).unwrap();
    p.write("proj/inside.py", "def inside2(): pass\n");
    p.write("outside.py", "def out2(): pass\n");
    let report = scan_incremental(&proj).unwrap();
    assert_eq!(report.indexed, 1);
    let index = CodeIndex::open(&proj).unwrap();
    let all = index.symbols(&SymbolQuery::default()).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].file.as_str(), all[0].name.as_str()),
        ("inside.py", "inside2")
    );
}

#[test]
fn ignored_and_batonignored_paths_are_not_added_incrementally() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write(".gitignore", "generated/\n")
        .write(".batonignore", "scratch/\n");
    p.commit_all("ignores");
    scan_full(&p.root).unwrap();
    p.write("generated/g.py", "def g(): pass\n")
        .write("scratch/s.py", "def s(): pass\n")
        .write("node_modules/m/index.js", "function m() {}\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 0, "{report:?}");
}

#[test]
fn substring_search_finds_names_added_and_not_names_removed_incrementally() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.write("a.py", "def brand_new_helper():\n    pass\n");
    scan_incremental(&p.root).unwrap();
    assert_eq!(search(&p, "NEW_HELP"), ["brand_new_helper"]);
    assert!(search(&p, "alpha").is_empty());
}

#[test]
fn files_in_a_new_untracked_folder_tree_are_added() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.write("pkg/deep/er/mod.py", "def deep_one():\n    pass\n")
        .write("pkg/top.py", "def top_one():\n    pass\n")
        .write("lib/sibling.ts", "export function sibling() {}\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 3, "{report:?}");
    let n = names(&p);
    for expected in [
        "pkg/deep/er/mod.py:deep_one",
        "pkg/top.py:top_one",
        "lib/sibling.ts:sibling",
    ] {
        assert!(
            n.contains(&expected.to_string()),
            "{expected} missing from {n:?}"
        );
    }
}

#[test]
fn an_untracked_file_is_followed_across_scans_until_it_is_deleted() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    p.write("notes/scratch.py", "def first():\n    pass\n");
    scan_incremental(&p.root).unwrap();
    // An unrelated commit in between must not make the untracked file forgotten.
    p.write("a.py", "def alpha():\n    return 2\n");
    p.git(&["commit", "-q", "-am", "edit a"]);
    scan_incremental(&p.root).unwrap();
    p.write("notes/scratch.py", "def second():\n    pass\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 1, "{report:?}");
    let n = names(&p);
    assert!(n.contains(&"notes/scratch.py:second".to_string()), "{n:?}");
    assert!(!n.contains(&"notes/scratch.py:first".to_string()), "{n:?}");
    std::fs::remove_dir_all(p.path("notes")).unwrap();
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.removed, 1, "{report:?}");
    assert!(!names(&p).iter().any(|x| x.starts_with("notes/")));
}

#[test]
fn an_unchanged_tree_rescans_nothing() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write("untracked.py", "def u():\n    pass\n");
    scan_full(&p.root).unwrap();
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.removed), (0, 0), "{report:?}");
    assert_eq!(report.files, 4);
}

#[test]
fn a_new_file_in_a_settled_folder_is_found_by_the_folder_mtime() {
    if !git_available() {
        return;
    }
    let p = repo();
    // Folders last changed long ago: the scan remembers their mtimes.
    settle(&p, &[".", "lib"]);
    scan_full(&p.root).unwrap();
    assert_eq!(scan_incremental(&p.root).unwrap().indexed, 0);
    p.write("lib/fresh.ts", "export function fresh() {}\n");
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!(report.indexed, 1, "{report:?}");
    assert!(names(&p).contains(&"lib/fresh.ts:fresh".to_string()));
}

#[test]
fn names_added_incrementally_keep_the_result_order() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write(
        "p.py",
        "def parse_tree():\n    pass\n\ndef reparse():\n    pass\n",
    );
    scan_full(&p.root).unwrap();
    p.write(
        "q.py",
        "def parser():\n    pass\n\ndef parse():\n    pass\n\ndef xparse():\n    pass\n",
    );
    scan_incremental(&p.root).unwrap();
    let found = search(&p, "parse");
    // Exact, then prefixes, then the others, shorter first, across both scans.
    assert_eq!(
        found,
        ["parse", "parser", "parse_tree", "xparse", "reparse"]
    );
}

#[test]
fn names_from_many_incremental_scans_are_all_found_in_order() {
    if !git_available() {
        return;
    }
    let p = repo();
    scan_full(&p.root).unwrap();
    // More scans than the name list keeps separate runs for.
    for i in (0..12).rev() {
        let name = format!("walker{}", "x".repeat(i));
        p.write(&format!("w{i}.py"), &format!("def {name}():\n    pass\n"));
        scan_incremental(&p.root).unwrap();
    }
    p.write(
        "w0.py",
        "def walker():\n    pass\n\ndef sidewalker():\n    pass\n",
    );
    scan_incremental(&p.root).unwrap();
    let found = search(&p, "walker");
    let mut expected = vec!["walker".to_string()];
    expected.extend((1..12).map(|i| format!("walker{}", "x".repeat(i))));
    expected.push("sidewalker".into());
    assert_eq!(found, expected);
}

/// What git tracks is source, wherever it sits: tracked files in build, dependency and
/// hidden folders (and tracked files .gitignore would hide) are indexed by full and
/// incremental scans; untracked files there are not; `.batonignore` still excludes.
#[test]
fn tracked_files_in_skipped_folders_are_indexed_and_untracked_ones_are_not() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write("coverage/report.ts", "export function covered() {}\n")
        .write("dist/env/setup.py", "def setup_env():\n    pass\n")
        .write(".storybook/main.ts", "export function stories() {}\n")
        .write("target/gen.go", "package gen\n\nfunc Generated() {}\n")
        .write("logs/forced.py", "def forced():\n    pass\n")
        .write("vendor/skipme.ts", "export function excluded() {}\n")
        .write(".gitignore", "logs/\n")
        .write(".batonignore", "vendor/skipme.ts\n");
    p.git(&["add", "-A"]);
    p.git(&["add", "-f", "logs/forced.py"]);
    p.git(&["commit", "-q", "-m", "tracked build output"]);
    p.write("dist/untracked.ts", "export function stray() {}\n")
        .write("coverage/lcov.py", "def stray_too():\n    pass\n");
    scan_full(&p.root).unwrap();
    let all = names(&p);
    for expected in [
        "coverage/report.ts:covered",
        "dist/env/setup.py:setup_env",
        ".storybook/main.ts:stories",
        "target/gen.go:Generated",
        "logs/forced.py:forced",
    ] {
        assert!(all.contains(&expected.to_string()), "{expected}: {all:?}");
    }
    for absent in ["stray", "stray_too", "excluded"] {
        assert!(search(&p, absent).is_empty(), "{absent}: {all:?}");
    }

    // Newly tracked files there are found by an incremental scan; an edit to a tracked one
    // is picked up, not taken for a deletion.
    p.write("build/made.ts", "export function made() {}\n");
    p.git(&["add", "build/made.ts"]);
    p.write("coverage/report.ts", "export function coveredAgain() {}\n");
    scan_incremental(&p.root).unwrap();
    assert_eq!(search(&p, "made"), ["made"]);
    assert_eq!(search(&p, "coveredAgain"), ["coveredAgain"]);
    assert!(search(&p, "stray").is_empty());
    // Untracked again (git rm --cached): it leaves the index on the next full scan.
    p.git(&["rm", "-q", "--cached", "target/gen.go"]);
    scan_full(&p.root).unwrap();
    assert!(search(&p, "Generated").is_empty());
}

/// Nothing is left out silently: the index lists skipped files and folders with why, and
/// a question about a file it does not hold says why not and what to do.
#[test]
fn skipped_files_and_folders_are_listed_and_explained() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write("big.ts", &format!("// {}\n", "x".repeat(1_100_000)))
        .write("blob.py", "\0\0binary")
        .write("README.md", "# readme\n")
        .write("dist/out.ts", "export function built() {}\n")
        .write(".cache/tool.ts", "export function cached() {}\n")
        .write("env/pyvenv.cfg", "home = /usr\n")
        .write("env/lib/site.py", "def site():\n    pass\n")
        .write("gen/made.ts", "export function made() {}\n")
        .write("secret.ts", "export function secret() {}\n")
        .write(".gitignore", "gen/\n")
        .write(".batonignore", "secret.ts\n");
    scan_full(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    let skipped: Vec<(String, String, bool)> = index
        .skipped()
        .unwrap()
        .into_iter()
        .map(|s| (s.path, s.reason, s.folder))
        .collect();
    let row = |p: &str, r: &str, f: bool| (p.to_string(), r.to_string(), f);
    assert_eq!(
        skipped,
        vec![
            row("big.ts", "too_large", false),
            row("blob.py", "binary", false),
            row(".cache", "hidden", true),
            row("dist", "build_or_dependency", true),
            row("env", "virtualenv", true),
        ]
    );
    let summary = index.summary().unwrap();
    assert_eq!(
        (
            summary.skipped_large,
            summary.skipped_binary,
            summary.skipped_folders
        ),
        (1, 1, 3)
    );
    p.write("late.ts", "export function late() {}\n");
    for (file, reason) in [
        ("a.py", "indexed"),
        ("big.ts", "too_large"),
        ("blob.py", "binary"),
        ("README.md", "unsupported"),
        ("dist/out.ts", "build_or_dependency"),
        (".cache/tool.ts", "hidden"),
        ("env/lib/site.py", "virtualenv"),
        ("gen/made.ts", "ignored"),
        ("secret.ts", "ignored"),
        ("nope.ts", "missing"),
        ("lib", "folder"),
        ("late.ts", "not_scanned"),
    ] {
        let e = index.explain(file).unwrap();
        assert_eq!(
            (e.reason, e.indexed),
            (reason, reason == "indexed"),
            "{file}: {e:?}"
        );
        assert_eq!(e.fix.is_some(), reason != "indexed", "{file}: {e:?}");
    }
    let err = index.outline("dist/out.ts").unwrap_err();
    assert_eq!(err.code(), "file_not_indexed");
    assert!(
        err.to_string().contains("build or dependency folder"),
        "{err}"
    );
    assert!(err.hint().contains("git add"), "{}", err.hint());

    // An incremental scan keeps the list: a new hidden folder shows up, a removed one goes.
    p.write(".tool/x.ts", "export function x() {}\n");
    std::fs::remove_dir_all(p.path("dist")).unwrap();
    scan_incremental(&p.root).unwrap();
    let folders: Vec<String> = CodeIndex::open(&p.root)
        .unwrap()
        .skipped()
        .unwrap()
        .into_iter()
        .filter(|s| s.folder)
        .map(|s| s.path)
        .collect();
    assert_eq!(folders, [".cache", ".tool", "env"]);
}

/// A package that appears after the last scan (its package.json and sources) is found by
/// an incremental scan, and imports of it by name resolve.
#[test]
fn a_new_workspace_package_is_resolved_by_an_incremental_scan() {
    let p = Project::new();
    p.write(
        "package.json",
        r#"{"private": true, "workspaces": ["packages/*"]}"#,
    )
    .write("apps/web/app.ts", "import { lib } from '@acme/lib';\n");
    scan_full(&p.root).unwrap();
    let resolved = |p: &Project| {
        CodeIndex::open(&p.root)
            .unwrap()
            .imports("apps/web/app.ts")
            .unwrap()[0]
            .resolved
            .clone()
    };
    assert_eq!(resolved(&p), None);
    p.write(
        "packages/lib/package.json",
        r#"{"name": "@acme/lib", "main": "dist/index.js"}"#,
    )
    .write("packages/lib/src/index.ts", "export const lib = 1;\n");
    scan_incremental(&p.root).unwrap();
    assert_eq!(resolved(&p).as_deref(), Some("packages/lib/src/index.ts"));
}

/// Review findings, each once broken: a merge conflict lists a tracked path three times;
/// a file git stops tracking in a build folder leaves on an incremental scan; a
/// package.json added beside existing sources re-resolves imports of it.
#[test]
fn conflicts_untracking_and_new_markers_are_followed() {
    if !git_available() {
        return;
    }
    let p = repo();
    p.write("vendor/x.ts", "export const x = 1;\n");
    p.commit_all("vendored");
    p.git(&["checkout", "-q", "-b", "other"]);
    p.write("vendor/x.ts", "export const x = 2;\n");
    p.commit_all("theirs");
    p.git(&["checkout", "-q", "main"]);
    p.write("vendor/x.ts", "export const x = 3;\n");
    p.commit_all("ours");
    let merged = std::process::Command::new("git")
        .arg("-C")
        .arg(&p.root)
        .args(["merge", "-q", "other"])
        .output()
        .unwrap();
    assert!(!merged.status.success(), "the merge conflicts");
    scan_full(&p.root).expect("a scan during a merge conflict works");
    assert!(names(&p).iter().any(|n| n == "vendor/x.ts:x"));
    p.git(&["merge", "--abort"]);

    p.git(&["rm", "-q", "--cached", "vendor/x.ts"]);
    scan_incremental(&p.root).unwrap();
    assert!(
        !names(&p).iter().any(|n| n.starts_with("vendor/")),
        "{:?}",
        names(&p)
    );

    p.write("app/main.ts", "import { lib } from '@acme/lib';\n")
        .write("lib/src/index.ts", "export const lib = 1;\n");
    scan_incremental(&p.root).unwrap();
    let resolved = |p: &Project| {
        CodeIndex::open(&p.root)
            .unwrap()
            .imports("app/main.ts")
            .unwrap()[0]
            .resolved
            .clone()
    };
    assert_eq!(resolved(&p), None);
    p.write("lib/package.json", r#"{"name": "@acme/lib"}"#);
    scan_incremental(&p.root).unwrap();
    assert_eq!(resolved(&p).as_deref(), Some("lib/src/index.ts"));
}

/// A first scan builds the index beside `code.db` and links it in place: what a build
/// that did not finish left is replaced, nothing is left beside the index, and the index
/// is in WAL mode like one a scan wrote in place.
#[test]
fn a_new_index_replaces_a_build_left_unfinished_and_leaves_nothing_beside_it() {
    let p = Project::new();
    p.write("a.py", "def alpha():\n    pass\n");
    p.write(".baton/code.db.build", "half a database from a killed scan");
    let report = scan_full(&p.root).unwrap();
    assert_eq!(report.files, 1);
    assert!(!p.path(".baton/code.db.build").exists());
    assert_eq!(names(&p), ["a.py:alpha"]);
    let conn = rusqlite::Connection::open(p.path(".baton/code.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(conn);
    // Over an existing index, a full scan writes in place.
    p.write("b.py", "def beta():\n    pass\n");
    scan_full(&p.root).unwrap();
    assert_eq!(names(&p), ["a.py:alpha", "b.py:beta"]);
    assert!(!p.path(".baton/code.db.build").exists());
}

/// A package.json or tsconfig.json edited in place (its folder's mtime does not change)
/// makes an incremental scan resolve imports again: a renamed package no longer takes
/// imports of its old name, a path alias follows its new target.
#[test]
fn a_settled_resolution_file_edited_in_place_re_resolves_imports() {
    let p = Project::new();
    p.write(
        "package.json",
        r#"{"private": true, "workspaces": ["packages/*"]}"#,
    )
    .write("packages/lib/package.json", r#"{"name": "@acme/lib"}"#)
    .write("packages/lib/index.ts", "export const lib = 1;\n")
    .write(
        "apps/web/tsconfig.json",
        r#"{"compilerOptions": {"baseUrl": ".", "paths": {"@ui/*": ["old/*"]}}}"#,
    )
    .write("apps/web/old/button.ts", "export const button = 1;\n")
    .write("apps/web/new/button.ts", "export const button = 2;\n")
    .write(
        "apps/web/app.ts",
        "import { lib } from '@acme/lib';\nimport { button } from '@ui/button';\n",
    );
    settle(
        &p,
        &[
            ".",
            "package.json",
            "packages",
            "packages/lib",
            "packages/lib/package.json",
            "packages/lib/index.ts",
            "apps",
            "apps/web",
            "apps/web/tsconfig.json",
            "apps/web/old",
            "apps/web/old/button.ts",
            "apps/web/new",
            "apps/web/new/button.ts",
            "apps/web/app.ts",
        ],
    );
    scan_full(&p.root).unwrap();
    let resolved = |p: &Project| -> Vec<Option<String>> {
        CodeIndex::open(&p.root)
            .unwrap()
            .imports("apps/web/app.ts")
            .unwrap()
            .into_iter()
            .map(|i| i.resolved)
            .collect()
    };
    assert_eq!(
        resolved(&p),
        [
            Some("packages/lib/index.ts".to_string()),
            Some("apps/web/old/button.ts".to_string())
        ]
    );
    // Nothing changed: nothing is resolved again, and the answers stay.
    let report = scan_incremental(&p.root).unwrap();
    assert_eq!((report.indexed, report.removed), (0, 0), "{report:?}");
    assert_eq!(resolved(&p)[0].as_deref(), Some("packages/lib/index.ts"));

    p.write("packages/lib/package.json", r#"{"name": "@acme/core"}"#)
        .write(
            "apps/web/tsconfig.json",
            r#"{"compilerOptions": {"baseUrl": ".", "paths": {"@ui/*": ["new/*"]}}}"#,
        );
    // In place: the folders' mtimes are as before.
    settle(&p, &["packages/lib", "apps/web"]);
    scan_incremental(&p.root).unwrap();
    assert_eq!(
        resolved(&p),
        [None, Some("apps/web/new/button.ts".to_string())]
    );
}
