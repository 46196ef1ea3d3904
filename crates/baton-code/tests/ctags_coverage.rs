//! Against universal-ctags on this machine's Python standard library: the
//! index finds at least 98% of the classes, functions and methods ctags
//! reports, matched by file, name and line.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use baton_code::{scan_full, CodeIndex, SymbolKind, SymbolQuery};
use common::{require_tool, Project};

/// The stdlib to compare on: `BATON_PYTHON_STDLIB`, Debian's, or the running
/// python3's.
fn python_stdlib() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("BATON_PYTHON_STDLIB") {
        return Some(PathBuf::from(dir));
    }
    for v in ["3.13", "3.12", "3.11"] {
        let p = PathBuf::from(format!("/usr/lib/python{v}"));
        if p.join("os.py").is_file() {
            return Some(p);
        }
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    p.join("os.py").is_file().then_some(p)
}

/// Copy the `.py` files (not installed packages, caches or the test suite).
fn copy_python_files(from: &Path, to: &Path, depth: usize) -> usize {
    let mut copied = 0;
    let Ok(entries) = std::fs::read_dir(from) else {
        return 0;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let skip = matches!(
                name.as_str(),
                "site-packages" | "dist-packages" | "__pycache__"
            ) || (depth == 0 && name == "test");
            if !skip {
                copied += copy_python_files(&path, &to.join(&name), depth + 1);
            }
        } else if kind.is_file() && name.ends_with(".py") {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&path, to.join(&name)).unwrap();
            copied += 1;
        }
    }
    copied
}

#[test]
fn finds_at_least_98_percent_of_ctags_python_definitions_in_the_stdlib() {
    if !require_tool("ctags", &["--version"]) {
        return;
    }
    let Some(stdlib) = python_stdlib() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("no Python standard library found (install python3)");
        }
        eprintln!("skipping: no Python standard library found");
        return;
    };
    let p = Project::new();
    let copied = copy_python_files(&stdlib, &p.root, 0);
    assert!(
        copied > 100,
        "only {copied} files copied from {}",
        stdlib.display()
    );

    let out = Command::new("ctags")
        .current_dir(&p.root)
        .args([
            "-R",
            "--languages=Python",
            "--kinds-Python=cfm",
            "--excmd=number",
            "--fields=+K",
            "-f",
            "-",
            ".",
        ])
        .output()
        .expect("ctags runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: HashSet<(String, String, u32)> = HashSet::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut cols = line.split('\t');
        let (Some(name), Some(file), Some(addr)) = (cols.next(), cols.next(), cols.next()) else {
            continue;
        };
        let Ok(line_no) = addr.trim_end_matches(";\"").parse::<u32>() else {
            continue;
        };
        let file = file.trim_start_matches("./").to_string();
        expected.insert((file, name.to_string(), line_no));
    }
    assert!(
        expected.len() > 1000,
        "ctags found only {} definitions",
        expected.len()
    );

    let report = scan_full(&p.root).unwrap();
    assert!(
        report.files as usize >= copied - 5,
        "{report:?}, copied {copied}"
    );
    let index = CodeIndex::open(&p.root).unwrap();
    let ours: HashSet<(String, String, u32)> = index
        .symbols(&SymbolQuery::default())
        .unwrap()
        .into_iter()
        .filter(|s| {
            matches!(
                s.kind,
                SymbolKind::Class | SymbolKind::Function | SymbolKind::Method
            )
        })
        .map(|s| (s.file, s.name, s.line))
        .collect();
    let missing: Vec<&(String, String, u32)> = expected.difference(&ours).collect();
    let found = expected.len() - missing.len();
    let ratio = found as f64 / expected.len() as f64;
    eprintln!(
        "ctags reported {}, baton found {found} ({:.2}%) in {copied} files of {}",
        expected.len(),
        ratio * 100.0,
        stdlib.display()
    );
    for m in missing.iter().take(15) {
        eprintln!("  missing: {}:{} {}", m.0, m.2, m.1);
    }
    assert!(ratio >= 0.98, "coverage {:.2}% is below 98%", ratio * 100.0);
}
