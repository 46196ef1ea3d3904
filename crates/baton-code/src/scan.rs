//! Full and incremental scans: one thread per core parses, and the scan's own thread
//! stores what they parsed between files of its own.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use rusqlite::{params, Connection};
use serde::Serialize;

use crate::error::Result;
use crate::languages::{self, Language, Parsers};
use crate::model::ImportStyle;
use crate::resolve::{PathSet, Resolver};
use crate::store::{self, FileRecord};
use crate::walk::{self, looks_binary, PathFilter, Stat, MAX_FILE_BYTES};

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
    /// Folders not entered (build or dependency output, hidden, virtualenvs, unreadable;
    /// `baton scan --explain` lists them). What git tracks in them is indexed all the same.
    pub skipped_folders: u64,
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

/// What each file of a batch is processed with.
struct Batch<'a> {
    root: &'a Path,
    resolver: &'a Resolver,
    /// When the scan started (see `Stat::stamp`).
    now: i64,
    /// Files may be in the index already (an incremental scan).
    replace: bool,
}

thread_local! {
    static PARSERS: RefCell<Parsers> = RefCell::new(Parsers::new());
}

/// Read, hash, parse and resolve one file. `known_hash` skips the parse when
/// the content did not change. Also returns the file's stamp (0 if it
/// cannot be read).
fn process(
    batch: &Batch<'_>,
    rel: &str,
    lang: Language,
    known_hash: Option<&[u8]>,
) -> (Outcome, i64) {
    let now = batch.now;
    let abs = batch.root.join(rel);
    let (bytes, stamp) = match read_source(&abs, now) {
        Ok(read) => read,
        Err(outcome) => return outcome,
    };
    if looks_binary(&bytes) {
        return (Outcome::Binary, stamp);
    }
    let lang = if rel.ends_with(".h") {
        lang.refine(&bytes)
    } else {
        lang
    };
    let hash: [u8; 32] = *blake3::hash(&bytes).as_bytes();
    if known_hash == Some(&hash[..]) {
        return (Outcome::Unchanged, stamp);
    }
    let facts = PARSERS.with(|p| languages::extract(&mut p.borrow_mut(), lang, &bytes));
    let imports = facts
        .imports
        .into_iter()
        .map(|imp| {
            let resolved = batch.resolver.resolve(rel, lang, &imp);
            (imp, resolved)
        })
        .collect();
    let lines = memchr::memchr_iter(b'\n', &bytes).count() as u32
        + u32::from(!bytes.is_empty() && !bytes.ends_with(b"\n"));
    let record = FileRecord {
        path: rel.to_string(),
        lang: lang.as_str(),
        hash,
        bytes: bytes.len() as u64,
        lines,
        stamp,
        symbols: facts.symbols,
        imports,
    };
    (Outcome::Parsed(Box::new(record)), stamp)
}

/// The content of the file at `abs` and its stamp, read with one lookup of its path
/// (open, then the open file's metadata), or why it is not indexed.
fn read_source(abs: &Path, now: i64) -> std::result::Result<(Vec<u8>, i64), (Outcome, i64)> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO put where the walk saw a file must not wait for a writer; a regular
        // file ignores the flag.
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    // What metadata tells before reading: too large (with its stamp), not a file, or the
    // length and stamp of a file to read.
    let classify = |meta: std::io::Result<std::fs::Metadata>| match meta {
        Ok(m) if m.len() > MAX_FILE_BYTES => Err((Outcome::Large, Stat::of(&m).stamp(now))),
        Ok(m) if m.is_file() => Ok((m.len(), Stat::of(&m).stamp(now))),
        _ => Err((Outcome::Unreadable, 0)),
    };
    let Ok(mut file) = options.open(abs) else {
        // A file that cannot be opened may still be too large to index anyway.
        return Err(classify(std::fs::metadata(abs))
            .err()
            .unwrap_or((Outcome::Unreadable, 0)));
    };
    let (len, stamp) = classify(file.metadata())?;
    // Room for the whole file and one byte more, so that two reads take it all and find
    // its end (`read_to_end` without a size hint reads 8 KiB at first). A file that grew
    // since is read on, up to the limit.
    let mut bytes = vec![0; len as usize + 1];
    let mut filled = 0;
    loop {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err((Outcome::Unreadable, 0)),
        }
        if filled == bytes.len() {
            if filled as u64 > MAX_FILE_BYTES {
                return Err((Outcome::Large, 0));
            }
            bytes.resize((filled * 2).min(MAX_FILE_BYTES as usize + 1), 0);
        }
    }
    bytes.truncate(filled);
    Ok((bytes, stamp))
}

/// Parse `work` in parallel and store each result from this thread.
/// Returns the paths that could not be indexed (too large, binary,
/// unreadable); they are remembered as skipped, with their stamps.
///
/// This thread parses too, between writes: one thread per core in all, each taking
/// the next file. A separate writer thread made three busy threads on two cores, and
/// the parsers woke it for every file (about 16,000 wake-ups on `combined`).
fn run_batch(
    conn: &Connection,
    batch: &Batch<'_>,
    work: Vec<(String, Language, Option<Vec<u8>>)>,
    report: &mut ScanReport,
    delta: &mut store::Delta,
) -> Result<Vec<String>> {
    let mut rejected = Vec::new();
    let mut new_names: Vec<String> = Vec::new();
    let mut writer = store::FileWriter::new(conn)?;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let take = || {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        work.get(i).map(|item| (i, item))
    };
    let run = |(i, (rel, lang, known)): (usize, &(String, Language, Option<Vec<u8>>))| {
        let (outcome, stamp) = process(batch, rel, *lang, known.as_deref());
        (i, outcome, stamp)
    };
    // Stores one result; gives back a parsed file's record, to be freed by the thread
    // that made it.
    let mut store_one =
        |(i, outcome, stamp): (usize, Outcome, i64)| -> Result<Option<Box<FileRecord>>> {
            let rel = &work[i].0;
            let (counter, reason) = match outcome {
                Outcome::Parsed(rec) => {
                    writer.put_file(&rec, batch.replace, delta)?;
                    report.indexed += 1;
                    if batch.replace {
                        store::remove_skipped(conn, &rec.path)?;
                        new_names.extend(rec.symbols.iter().map(|s| s.name.clone()));
                    }
                    return Ok(Some(rec));
                }
                Outcome::Unchanged => {
                    store::set_stamp(conn, rel, stamp)?;
                    report.unchanged += 1;
                    return Ok(None);
                }
                Outcome::Large => (&mut report.skipped_large, "too_large"),
                Outcome::Binary => (&mut report.skipped_binary, "binary"),
                Outcome::Unreadable => (&mut report.skipped_unreadable, "unreadable"),
            };
            *counter += 1;
            store::put_skipped(conn, rel, stamp, reason)?;
            rejected.push(rel.clone());
            Ok(None)
        };
    let helpers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .min(work.len());
    std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::channel();
        // Each helper's records go back to it once stored. Freed on this thread, every
        // string of them would take the helper's allocator lock (glibc frees into the
        // arena a block came from), while the helper takes it for its own allocations:
        // about a million contended frees on `combined`.
        let mut give_back = Vec::with_capacity(helpers);
        for helper in 0..helpers {
            let tx = tx.clone();
            let (back, stored) = mpsc::channel::<Box<FileRecord>>();
            give_back.push(back);
            s.spawn(move || {
                while let Some(item) = take() {
                    stored.try_iter().for_each(drop);
                    // The receiver only goes away on a write error, reported below.
                    if tx.send((Some(helper), run(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Store what `helper` (or this thread, `None`) parsed.
        let mut store_from = |(helper, done): (Option<usize>, _)| -> Result<()> {
            let rec = store_one(done)?;
            if let (Some(rec), Some(helper)) = (rec, helper) {
                // A helper that has finished takes none: they are freed here.
                let _ = give_back[helper].send(rec);
            }
            Ok(())
        };
        let stored = (|| {
            // Write what the helpers parsed, then parse one more file here. The helpers
            // never wait for this thread, nor wake it: it only blocks once every file
            // is taken, for the last ones.
            while let Some(item) = take() {
                while let Ok(done) = rx.try_recv() {
                    store_from(done)?;
                }
                store_from((None, run(item)))?;
            }
            rx.iter().try_for_each(&mut store_from)
        })();
        if stored.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        stored
    })?;
    store::append_names(conn, new_names)?;
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
    if let Some(mut fresh) = store::FreshIndex::create(root)? {
        let report = full_into(root, fresh.conn(), started)?;
        if fresh.put_in_place()? {
            return Ok(report);
        }
        // Another scan made an index meanwhile: this one replaces its content.
    }
    let mut conn = store::open_write(root)?;
    store::cache_for_full_scan(&conn)?;
    full_into(root, &mut conn, started)
}

fn full_into(root: &Path, conn: &mut Connection, started: Instant) -> Result<ScanReport> {
    let now = walk::now_ns();
    let head = git_head_in_background(root);
    let git = git_files_in_background(root);
    let mut walked = walk::walk(root);
    let (tracked, index_stamp) = git.join().unwrap_or_default();
    if let Some(tracked) = &tracked {
        walk::add_tracked(root, &mut walked, tracked, &PathFilter::new(root));
    }
    let resolver = Resolver::new(root, walked.files.iter().map(|c| c.rel.clone()))
        .with_markers(walked.markers.clone());
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
    store::put_skipped_dirs(&tx, &walked.skipped_dirs)?;
    store::put_markers(
        &tx,
        &marker_stamps(&walk::Root::open(root), walked.markers.clone(), now),
    )?;
    report.skipped_folders = walked.skipped_dirs.len() as u64;
    let mut delta = store::Delta::default();
    let batch = Batch {
        root,
        resolver: &resolver,
        now,
        replace: false,
    };
    run_batch(&tx, &batch, work, &mut report, &mut delta)?;
    store::finish_full(&tx)?;
    store::set_totals(&tx, delta)?;
    record_git_head(&tx, head)?;
    store::set_meta(&tx, GIT_INDEX_STAMP, &index_stamp.to_string())?;
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

/// The meta key of the stamp of git's index file when the scan asked what git tracks.
const GIT_INDEX_STAMP: &str = "git_index_stamp";

/// The stamp of git's index file now (0 without one).
fn git_index_stamp(root: &Path) -> i64 {
    crate::git::index_file(root)
        .and_then(|p| std::fs::metadata(p).ok())
        // Git replaces the file on each change (a new inode): no need to wait for it to
        // settle, as files do.
        .map_or(0, |m| Stat::of(&m).stamp(i64::MAX))
}

/// What git tracks, and the stamp of its index file, while the walk works.
fn git_files_in_background(root: &Path) -> std::thread::JoinHandle<(Option<Vec<String>>, i64)> {
    let root = root.to_path_buf();
    std::thread::spawn(move || {
        let stamp = git_index_stamp(&root);
        (crate::git::tracked(&root), stamp)
    })
}

/// Ask git for HEAD while the scan works (it is shown by `code summary`;
/// a scan does not need it).
fn git_head_in_background(root: &Path) -> std::thread::JoinHandle<Option<String>> {
    let root = root.to_path_buf();
    std::thread::spawn(move || crate::git::head(&root))
}

fn record_git_head(conn: &Connection, head: std::thread::JoinHandle<Option<String>>) -> Result<()> {
    match head.join().ok().flatten() {
        Some(head) => store::set_meta(conn, "git_head", &head),
        None => {
            conn.execute("DELETE FROM meta WHERE key = 'git_head'", [])?;
            Ok(())
        }
    }
}

/// Rescan what changed since the last scan, told by stat data: files whose
/// stamp changed (edited, replaced, reverted, checked out), files that are
/// gone, and new files in folders whose mtime changed. Git is not asked:
/// staged, unstaged, untracked and committed changes all show in the working
/// tree. Unchanged content is skipped by hash. Without a previous scan, does
/// a full scan.
pub fn incremental(root: &Path) -> Result<ScanReport> {
    let started = Instant::now();
    let now = walk::now_ns();
    if !store::db_path(root).exists() {
        return full(root);
    }
    let mut conn = store::open_write(root)?;
    if store::get_meta(&conn, "scanned_at")?.is_none() {
        drop(conn);
        return full(root);
    }
    let head = git_head_in_background(root);
    let index_stamp = {
        let root = root.to_path_buf();
        std::thread::spawn(move || git_index_stamp(&root))
    };
    let tree = walk::Root::open(root);
    // Folders are stat'ed on another thread while this one reads the files the index
    // knows; then both threads stat those.
    let dirs = store::all_dirs(&conn)?;
    let (known, changes, dir_stats) = std::thread::scope(|s| -> Result<_> {
        let dir_stats = s.spawn(|| -> Vec<Option<walk::Stat>> {
            dirs.iter().map(|(dir, _)| tree.stat(dir)).collect()
        });
        let known = store::all_known(&conn)?;
        let changes = changed_files(&tree, &known, now);
        let dir_stats = dir_stats
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Ok((known, changes, dir_stats))
    })?;
    let mut folders = changed_folders(root, &known, &dirs, dir_stats)?;

    let filter = PathFilter::new(root);
    // Git's index changed: files it now tracks in folders the walk skips are new too, and
    // those it no longer tracks there are gone.
    let index_stamp = index_stamp.join().unwrap_or(0);
    let last_stamp = store::get_meta(&conn, GIT_INDEX_STAMP)?.and_then(|v| v.parse().ok());
    let mut untracked: Vec<String> = Vec::new();
    if index_stamp != 0 && last_stamp != Some(index_stamp) {
        let listed: HashSet<&str> = known
            .iter()
            .map(|k| k.path.as_str())
            .chain(folders.new_files.iter().map(String::as_str))
            .collect();
        let tracked = filter.tracked_files();
        let fresh: Vec<String> = tracked
            .iter()
            .filter(|rel| !listed.contains(rel.as_str()))
            .filter(|rel| filter.accepts(rel).is_some() && root.join(rel).is_file())
            .cloned()
            .collect();
        folders.new_files.extend(fresh);
        untracked = known
            .iter()
            .filter(|k| walk::in_builtin_skip(&k.path) && !tracked.contains(&k.path))
            .map(|k| k.path.clone())
            .collect();
    }
    let mut report = ScanReport {
        mode: "incremental",
        ..ScanReport::default()
    };
    let mut work = Vec::new();
    let mut gone = Vec::new();
    let candidates = changes
        .iter()
        .map(|&(i, exists)| (known[i].path.clone(), exists))
        .chain(folders.new_files.iter().map(|p| (p.clone(), true)));
    for (rel, exists) in candidates {
        match filter.accepts(&rel) {
            Some(lang) if exists => {
                let hash = store::file_hash(&conn, &rel)?;
                work.push((rel, lang, hash));
            }
            _ => gone.push(rel),
        }
    }
    for rel in untracked {
        if !gone.contains(&rel) {
            work.retain(|(w, _, _)| *w != rel);
            gone.push(rel);
        }
    }
    // The marker files as they will be: those of folders listed again are replaced.
    let relisted: HashSet<&str> = folders
        .listed
        .iter()
        .chain(folders.gone.iter())
        .map(String::as_str)
        .collect();
    let stored_markers = store::all_markers(&conn)?;
    let mut markers: Vec<String> = stored_markers
        .iter()
        .map(|(m, _)| m)
        .filter(|m| {
            let dir = m.rsplit_once('/').map_or("", |(d, _)| d);
            !relisted.contains(dir)
                && !folders
                    .gone
                    .iter()
                    .any(|g| !g.is_empty() && m.starts_with(&format!("{g}/")))
        })
        .cloned()
        .collect();
    markers.extend(folders.markers.iter().cloned());
    markers.sort();
    markers.dedup();
    let markers = marker_stamps(&tree, markers, now);
    // A package.json, go.mod or tsconfig.json that came, went or changed (an edit in place
    // changes no folder) changes what imports resolve to; so may one that changed too
    // recently to tell (stamp 0).
    let markers_changed = markers != stored_markers || markers.iter().any(|(_, stamp)| *stamp == 0);
    // The project's files as they will be, for import resolution.
    let mut paths = PathSet::default();
    if !work.is_empty() || !gone.is_empty() || markers_changed {
        paths.reserve(known.len() + work.len());
        paths.extend(known.into_iter().filter(|k| !k.skipped).map(|k| k.path));
    }
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
    let paths_changed = before != paths.len();
    let resolver = Resolver::of_set(root, paths)
        .with_markers(markers.iter().map(|(m, _)| m.clone()).collect());

    let tx = conn.transaction()?;
    let mut delta = store::Delta::default();
    for g in &gone {
        store::remove_skipped(&tx, g)?;
        if store::remove_file(&tx, g, &mut delta)? {
            report.removed += 1;
        }
    }
    let batch = Batch {
        root,
        resolver: &resolver,
        now,
        replace: true,
    };
    let rejected = run_batch(&tx, &batch, work, &mut report, &mut delta)?;
    for r in &rejected {
        if store::remove_file(&tx, r, &mut delta)? {
            report.removed += 1;
        }
    }
    let totals = store::add_totals(&tx, delta)?;
    if added_any || report.removed > 0 || paths_changed || markers_changed {
        reresolve(&tx, &resolver)?;
    }
    store::put_dirs(&tx, &folders.updated)?;
    for dir in &folders.gone {
        store::remove_dir(&tx, dir)?;
    }
    for dir in &folders.listed {
        store::clear_listing_of(&tx, dir)?;
    }
    store::put_skipped_dirs(&tx, &folders.skipped)?;
    store::put_markers(&tx, &markers)?;
    report.skipped_folders = store::count_skipped_dirs(&tx)?;
    record_git_head(&tx, head)?;
    store::set_meta(&tx, GIT_INDEX_STAMP, &index_stamp.to_string())?;
    store::set_meta(&tx, "scanned_at", &now_unix().to_string())?;
    tx.commit()?;
    set_report_totals(&mut report, totals);
    report.millis = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The known files whose stat data changed (`true`) or that are gone (`false`), by
/// index into `known`. Stat'ing each file is the only per-file cost of an unchanged
/// tree: folder by folder, so that each file is looked up by its name alone.
fn changed_files(tree: &walk::Root, known: &[store::Known], now: i64) -> Vec<(usize, bool)> {
    // Group the files by folder. The index lists them mostly folder by folder (in the
    // walk's order), so the map is asked only where the folder changes from one file to
    // the next; sorting 16,000 paths cost more than all of this.
    let mut groups: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut current: Option<(&str, usize)> = None;
    for (i, k) in known.iter().enumerate() {
        let (dir, name) = k.path.rsplit_once('/').unwrap_or(("", &k.path));
        let g = match current {
            Some((d, g)) if d == dir => g,
            _ => {
                let g = *group_of.entry(dir).or_insert_with(|| {
                    groups.push((dir, Vec::new()));
                    groups.len() - 1
                });
                current = Some((dir, g));
                g
            }
        };
        groups[g].1.push((name, i));
    }
    groups
        .par_iter()
        .flat_map_iter(|(dir, group)| {
            let names: Vec<&str> = group.iter().map(|g| g.0).collect();
            let stats = tree.stat_in(dir, &names);
            group
                .iter()
                .zip(stats)
                .filter_map(|(&(_, i), st)| {
                    let k = &known[i];
                    match st {
                        Some(st) if st.is_file => {
                            (k.stamp == 0 || st.stamp(now) != k.stamp).then_some((i, true))
                        }
                        _ => Some((i, false)),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
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
    /// Folders listed again, whose skipped sub-folders and markers are replaced by
    /// `skipped` and `markers`.
    listed: Vec<String>,
    skipped: Vec<(String, &'static str)>,
    markers: Vec<String>,
}

/// A file added to a folder changes the folder's mtime: list only those
/// folders (and walk new sub-folders whole) to find new files, that is files
/// not `known` (indexed or skipped).
fn changed_folders(
    root: &Path,
    known: &[store::Known],
    dirs: &[(String, i64)],
    stats: Vec<Option<walk::Stat>>,
) -> Result<Folders> {
    let mut out = Folders::default();
    let mut known_dirs: Option<HashSet<&str>> = None;
    let mut known_files: Option<HashSet<&str>> = None;
    for ((dir, mtime), stat) in dirs.iter().zip(stats) {
        match stat {
            Some(st) if st.is_dir && st.mtime_ns == *mtime => continue,
            Some(st) if st.is_dir => {}
            _ => {
                out.gone.push(dir.clone());
                continue;
            }
        }
        // Built only when some folder changed.
        let known_dirs =
            known_dirs.get_or_insert_with(|| dirs.iter().map(|(p, _)| p.as_str()).collect());
        let known_files =
            known_files.get_or_insert_with(|| known.iter().map(|k| k.path.as_str()).collect());
        let mut add_new = |files: Vec<walk::Candidate>| {
            out.new_files.extend(
                files
                    .into_iter()
                    .map(|c| c.rel)
                    .filter(|r| !known_files.contains(r.as_str())),
            );
        };
        let listing = walk::walk_at(root, dir, Some(1));
        add_new(listing.files);
        out.listed.push(dir.clone());
        out.skipped.extend(listing.skipped_dirs);
        out.markers.extend(listing.markers);
        for (sub, sub_mtime) in listing.dirs {
            if sub == *dir {
                out.updated.push((sub, sub_mtime));
            } else if !known_dirs.contains(sub.as_str()) {
                let deep = walk::walk_at(root, &sub, None);
                add_new(deep.files);
                out.updated.extend(deep.dirs);
                out.skipped.extend(deep.skipped_dirs);
                out.markers.extend(deep.markers);
            }
        }
    }
    Ok(out)
}

/// Marker files with their stamps now; 0 for one that cannot be read or changed too
/// recently to tell (looked at again by the next scan).
fn marker_stamps(tree: &walk::Root, markers: Vec<String>, now: i64) -> Vec<(String, i64)> {
    markers
        .into_iter()
        .map(|m| {
            let stamp = tree.stat(&m).map_or(0, |s| s.stamp(now));
            (m, stamp)
        })
        .collect()
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

/// The same files as a full scan (the walk, plus what git tracks), read and parsed in
/// parallel, with no extraction and no store: what a scan cannot go below.
pub fn parse_floor(root: &Path) -> (u64, u64) {
    let git = git_files_in_background(root);
    let mut walked = walk::walk(root);
    if let Some(tracked) = git.join().unwrap_or_default().0 {
        walk::add_tracked(root, &mut walked, &tracked, &PathFilter::new(root));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_source` makes of `abs`: its bytes, or why not (with its stamp).
    fn read(abs: &Path) -> std::result::Result<Vec<u8>, (&'static str, i64)> {
        // A `now` long after the file was written: every file has settled.
        match read_source(abs, i64::MAX) {
            Ok((bytes, stamp)) => {
                assert_ne!(stamp, 0, "a settled file has a stamp");
                Ok(bytes)
            }
            Err((Outcome::Large, stamp)) => Err(("large", stamp)),
            Err((Outcome::Unreadable, stamp)) => Err(("unreadable", stamp)),
            Err(_) => Err(("other", 0)),
        }
    }

    #[test]
    fn files_are_read_whole_at_any_size_up_to_the_limit_and_refused_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let limit = MAX_FILE_BYTES as usize;
        for len in [0, 1, 8191, 8192, 8193, 100_000, limit] {
            let path = dir.path().join(format!("f{len}.ts"));
            let content: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            std::fs::write(&path, &content).unwrap();
            assert!(read(&path) == Ok(content), "{len} bytes read back whole");
        }
        let big = dir.path().join("big.ts");
        std::fs::write(&big, vec![b'x'; limit + 1]).unwrap();
        // Too large, with its stamp: an incremental scan does not read it again unchanged.
        let (why, stamp) = read(&big).unwrap_err();
        assert_eq!(why, "large");
        assert_ne!(stamp, 0);
        assert_eq!(read(&dir.path().join("gone.ts")), Err(("unreadable", 0)));
        assert_eq!(read(dir.path()), Err(("unreadable", 0)), "a folder");
    }

    /// A FIFO put where the walk saw a file is not waited on (opening one for reading
    /// blocks until a writer comes, unless it is opened non-blocking).
    #[cfg(unix)]
    #[test]
    fn a_fifo_where_a_file_was_is_unreadable_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.ts");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", fifo.display());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(read(&fifo)));
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO must not wait for a writer");
        assert_eq!(got, Err(("unreadable", 0)));
    }
}
