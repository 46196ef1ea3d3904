//! Full and incremental scans: many parser threads, one writer.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::Result;
use crate::languages::{self, Language, Parsers};
use crate::model::ImportStyle;
use crate::resolve::Resolver;
use crate::store::{self, FileRecord};
use crate::walk::{self, looks_binary, PathFilter, MAX_FILE_BYTES};

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ScanReport {
    pub mode: &'static str,
    /// Files parsed and written.
    pub indexed: u64,
    /// Files looked at whose content hash had not changed.
    pub unchanged: u64,
    /// Files that left the index (deleted, renamed away, now ignored).
    pub removed: u64,
    pub skipped_large: u64,
    pub skipped_binary: u64,
    pub skipped_unreadable: u64,
    /// Files in the index after the scan.
    pub files: u64,
    pub symbols: u64,
    pub imports: u64,
    pub millis: u64,
}

enum Outcome {
    Parsed(Box<FileRecord>),
    Unchanged,
    Large,
    Binary,
    Unreadable,
}

thread_local! {
    static PARSERS: RefCell<Parsers> = RefCell::new(Parsers::new());
}

/// Read, hash, parse and resolve one file. `known_hash` skips the parse when
/// the content did not change.
fn process(
    root: &Path,
    rel: &str,
    lang: Language,
    resolver: &Resolver,
    known_hash: Option<&[u8]>,
) -> Outcome {
    let abs = root.join(rel);
    match std::fs::metadata(&abs) {
        Ok(m) if m.len() > MAX_FILE_BYTES => return Outcome::Large,
        Ok(m) if m.is_file() => {}
        _ => return Outcome::Unreadable,
    }
    let Ok(bytes) = std::fs::read(&abs) else {
        return Outcome::Unreadable;
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Outcome::Large;
    }
    if looks_binary(&bytes) {
        return Outcome::Binary;
    }
    let lang = if rel.ends_with(".h") {
        lang.refine(&bytes)
    } else {
        lang
    };
    let hash: [u8; 32] = *blake3::hash(&bytes).as_bytes();
    if known_hash == Some(&hash[..]) {
        return Outcome::Unchanged;
    }
    let facts = PARSERS.with(|p| languages::extract(&mut p.borrow_mut(), lang, &bytes));
    let imports = facts
        .imports
        .into_iter()
        .map(|imp| {
            let resolved = resolver.resolve(rel, lang, &imp);
            (imp, resolved)
        })
        .collect();
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u32
        + u32::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    Outcome::Parsed(Box::new(FileRecord {
        path: rel.to_string(),
        lang: lang.as_str(),
        hash,
        bytes: bytes.len() as u64,
        lines,
        symbols: facts.symbols,
        imports,
    }))
}

/// Parse `work` in parallel and store each result from this thread.
/// Returns the paths that could not be indexed (too large, binary, unreadable).
fn run_batch(
    conn: &Connection,
    root: &Path,
    work: Vec<(String, Language, Option<Vec<u8>>)>,
    resolver: &Resolver,
    replace: bool,
    report: &mut ScanReport,
    delta: &mut store::Delta,
) -> Result<Vec<String>> {
    let (tx, rx) = mpsc::sync_channel::<(String, Outcome)>(256);
    let mut rejected = Vec::new();
    let mut new_names: Vec<String> = Vec::new();
    std::thread::scope(|s| -> Result<()> {
        s.spawn(move || {
            work.into_par_iter()
                .for_each_with(tx, |tx, (rel, lang, known)| {
                    let outcome = process(root, &rel, lang, resolver, known.as_deref());
                    // The receiver only stops early on a write error, reported below.
                    let _ = tx.send((rel, outcome));
                });
        });
        for (rel, outcome) in rx {
            match outcome {
                Outcome::Parsed(rec) => {
                    store::put_file(conn, &rec, replace, delta)?;
                    report.indexed += 1;
                    if replace {
                        new_names.extend(rec.symbols.iter().map(|s| s.name.clone()));
                    }
                }
                Outcome::Unchanged => report.unchanged += 1,
                Outcome::Large => {
                    report.skipped_large += 1;
                    rejected.push(rel);
                }
                Outcome::Binary => {
                    report.skipped_binary += 1;
                    rejected.push(rel);
                }
                Outcome::Unreadable => {
                    report.skipped_unreadable += 1;
                    rejected.push(rel);
                }
            }
        }
        Ok(())
    })?;
    new_names.sort_unstable();
    new_names.dedup();
    store::append_names(conn, &new_names)?;
    Ok(rejected)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Scan every file under `root` and replace the index.
pub fn full(root: &Path) -> Result<ScanReport> {
    let started = Instant::now();
    let mut conn = store::open_write(root)?;
    let walked = walk::walk(root);
    let resolver = Resolver::new(root, walked.files.iter().map(|c| c.rel.clone()));
    let work = walked
        .files
        .into_iter()
        .map(|c| (c.rel, c.lang, None))
        .collect();
    let mut report = ScanReport {
        mode: "full",
        ..ScanReport::default()
    };
    let tx = conn.transaction()?;
    store::begin_full(&tx)?;
    store::put_dirs(&tx, &walked.dirs)?;
    let mut delta = store::Delta::default();
    run_batch(&tx, root, work, &resolver, false, &mut report, &mut delta)?;
    store::finish_full(&tx)?;
    store::set_totals(&tx, delta)?;
    record_git_state(&tx, root)?;
    store::set_meta(&tx, "skipped_large", &report.skipped_large.to_string())?;
    store::set_meta(&tx, "skipped_binary", &report.skipped_binary.to_string())?;
    store::set_meta(&tx, "scanned_at", &now_unix().to_string())?;
    tx.commit()?;
    set_report_totals(&mut report, delta);
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

fn set_report_totals(report: &mut ScanReport, totals: store::Delta) {
    report.files = totals.files.max(0) as u64;
    report.symbols = totals.symbols.max(0) as u64;
    report.imports = totals.imports.max(0) as u64;
}

/// Remember HEAD and the paths that differ from it, so the next incremental
/// scan also revisits files that were dirty and have since been reverted.
fn record_git_state(conn: &Connection, root: &Path) -> Result<()> {
    let Some((prefix, head)) = crate::git::prefix_and_head(root) else {
        conn.execute(
            "DELETE FROM meta WHERE key IN ('git_head', 'git_dirty')",
            [],
        )?;
        return Ok(());
    };
    let dirty: Vec<String> = crate::git::dirty(root, true)?
        .into_iter()
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
        .collect();
    store::set_meta(conn, "git_head", &head)?;
    store::set_meta(conn, "git_dirty", &dirty.join("\n"))?;
    Ok(())
}

/// Rescan what git says changed since the last scan; falls back to a full
/// scan when there is no previous scan or no git history to compare with.
pub fn incremental(root: &Path) -> Result<ScanReport> {
    let started = Instant::now();
    let mut conn = store::open_write(root)?;
    let previous_head = store::get_meta(&conn, "git_head")?;
    let (Some(previous_head), Some((prefix, head))) =
        (previous_head, crate::git::prefix_and_head(root))
    else {
        drop(conn);
        return full(root);
    };
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    if head != previous_head {
        let changed = if previous_head.is_empty() {
            // The last scan ran before the first commit: every committed path.
            crate::git::changed_between(root, "4b825dc642cb6eb9a060e54bf8d69288fbee4904", &head)
        } else {
            crate::git::changed_between(root, &previous_head, &head)
        };
        match changed {
            Ok(paths) => candidates.extend(paths),
            // History was rewritten past the last scan.
            Err(_) => {
                drop(conn);
                return full(root);
            }
        }
    }
    // Tracked changes from git; new untracked files from the folders whose
    // mtime changed (`git status` would walk every folder for them).
    let committed: BTreeSet<String> = candidates
        .iter()
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
        .collect();
    let tracked: Vec<String> = crate::git::dirty(root, false)?
        .into_iter()
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
        .collect();
    let previous_dirty: Vec<String> = store::get_meta(&conn, "git_dirty")?
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let indexed: HashSet<String> = store::all_paths(&conn)?.into_iter().collect();
    let folders = changed_folders(root, &conn, &indexed)?;
    let candidates: Vec<String> = committed
        .iter()
        .chain(&tracked)
        .chain(&previous_dirty)
        .chain(&folders.new_files)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Paths to revisit next time: dirty now, or untracked (git -uno does not
    // report those again); committed ones are tracked and clean now.
    let next_dirty: BTreeSet<String> = tracked
        .iter()
        .chain(&folders.new_files)
        .chain(previous_dirty.iter().filter(|p| !committed.contains(*p)))
        .filter(|p| root.join(p).exists())
        .cloned()
        .collect();

    let filter = PathFilter::new(root);
    let mut report = ScanReport {
        mode: "incremental",
        ..ScanReport::default()
    };
    let mut work = Vec::new();
    let mut gone = Vec::new();
    for rel in candidates {
        match filter.accepts(&rel) {
            Some(lang) if root.join(&rel).is_file() => {
                let known = store::file_hash(&conn, &rel)?;
                work.push((rel, lang, known));
            }
            _ => gone.push(rel),
        }
    }
    let mut paths: BTreeSet<String> = indexed.into_iter().collect();
    let before = paths.len();
    for g in &gone {
        paths.remove(g);
    }
    let added_any = work
        .iter()
        .any(|(rel, _, known)| known.is_none() && !paths.contains(rel));
    for (rel, _, _) in &work {
        paths.insert(rel.clone());
    }
    let resolver = Resolver::new(root, paths.iter().cloned());

    let tx = conn.transaction()?;
    let mut delta = store::Delta::default();
    for g in &gone {
        if store::remove_file(&tx, g, &mut delta)? {
            report.removed += 1;
        }
    }
    let rejected = run_batch(&tx, root, work, &resolver, true, &mut report, &mut delta)?;
    for r in &rejected {
        if store::remove_file(&tx, r, &mut delta)? {
            report.removed += 1;
        }
    }
    let totals = store::add_totals(&tx, delta)?;
    if added_any || report.removed > 0 || before != paths.len() {
        reresolve(&tx, &resolver)?;
    }
    store::put_dirs(&tx, &folders.updated)?;
    for dir in &folders.gone {
        store::remove_dir(&tx, dir)?;
    }
    let next_dirty: Vec<String> = next_dirty.into_iter().collect();
    store::set_meta(&tx, "git_head", &head)?;
    store::set_meta(&tx, "git_dirty", &next_dirty.join("\n"))?;
    store::set_meta(&tx, "scanned_at", &now_unix().to_string())?;
    tx.commit()?;
    set_report_totals(&mut report, totals);
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// What changed among the folders the index knows.
#[derive(Default)]
struct Folders {
    /// Files not in the index, in folders whose mtime changed or that are new.
    new_files: Vec<String>,
    /// Folders to store with their current mtime.
    updated: Vec<(String, i64)>,
    /// Folders that no longer exist.
    gone: Vec<String>,
}

/// A file added to a folder changes the folder's mtime: list only those
/// folders (and walk new sub-folders whole) to find new untracked files.
fn changed_folders(root: &Path, conn: &Connection, indexed: &HashSet<String>) -> Result<Folders> {
    let known = store::all_dirs(conn)?;
    let known_set: HashSet<&str> = known.iter().map(|(p, _)| p.as_str()).collect();
    let mut out = Folders::default();
    for (dir, mtime) in &known {
        let meta = match std::fs::metadata(root.join(dir)) {
            Ok(m) if m.is_dir() => m,
            _ => {
                out.gone.push(dir.clone());
                continue;
            }
        };
        if walk::mtime_ns(&meta) == *mtime {
            continue;
        }
        let listing = walk::walk_at(root, dir, Some(1));
        out.new_files.extend(
            listing
                .files
                .into_iter()
                .map(|c| c.rel)
                .filter(|r| !indexed.contains(r)),
        );
        for (sub, sub_mtime) in listing.dirs {
            if sub == *dir {
                out.updated.push((sub, sub_mtime));
            } else if !known_set.contains(sub.as_str()) {
                let deep = walk::walk_at(root, &sub, None);
                out.new_files.extend(
                    deep.files
                        .into_iter()
                        .map(|c| c.rel)
                        .filter(|r| !indexed.contains(r)),
                );
                out.updated.extend(deep.dirs);
            }
        }
    }
    Ok(out)
}

/// Files came or went: imports that did not resolve may now, and imports of
/// removed files must not point at them any more.
fn reresolve(conn: &Connection, resolver: &Resolver) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT i.id, f.path, i.style, i.source, i.names, i.resolved
         FROM imports i JOIN files f ON f.id = i.file_id
         WHERE i.style != 'csharp'",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut updates = Vec::new();
    for row in rows {
        let (id, path, style, source, names, resolved) = row?;
        let Some(style) = ImportStyle::parse(&style) else {
            continue;
        };
        let Some(lang) = Language::from_path(&path) else {
            continue;
        };
        let names: Vec<String> = names
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let fresh = resolver.resolve_source(&path, lang, style, &source, &names);
        if fresh != resolved {
            updates.push((id, fresh));
        }
    }
    drop(stmt);
    let mut upd = conn.prepare("UPDATE imports SET resolved = ?2 WHERE id = ?1")?;
    for (id, resolved) in updates {
        upd.execute(params![id, resolved])?;
    }
    Ok(())
}

pub fn parse_floor(root: &Path) -> (u64, u64) {
    let walked = walk::walk(root);
    walked
        .files
        .par_iter()
        .map(|c| {
            let abs = root.join(&c.rel);
            let Ok(bytes) = std::fs::read(&abs) else {
                return (0, 0);
            };
            if bytes.len() as u64 > MAX_FILE_BYTES || looks_binary(&bytes) {
                return (0, 0);
            }
            let parsed = PARSERS.with(|p| p.borrow_mut().parse(c.lang, &bytes).is_some());
            (u64::from(parsed), bytes.len() as u64)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}
