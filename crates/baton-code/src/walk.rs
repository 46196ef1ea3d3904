//! Which files the index covers: `.gitignore`, `.batonignore`, vendored and
//! build folders, size and binary limits.

use std::path::{Path, PathBuf};

use crate::languages::Language;

/// Files larger than this are generated or vendored more often than not.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Folders that hold dependencies or build output in the languages we index.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".baton",
    ".hg",
    ".svn",
    "node_modules",
    "bower_components",
    "vendor",
    "third_party",
    "target",
    "build",
    "dist",
    "out",
    "obj",
    "__pycache__",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".next",
    ".nuxt",
    ".gradle",
    ".idea",
    "coverage",
    "site-packages",
];

pub fn is_skipped_dir(name: &str) -> bool {
    SKIPPED_DIRS.contains(&name)
}

/// True when any folder on a project-relative path is a skipped folder.
pub fn in_skipped_dir(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.into_iter().any(is_skipped_dir)
}

/// A file the walk found, with its language.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub rel: String,
    pub lang: Language,
}

/// Project-relative path with forward slashes, or `None` outside the root.
pub fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let mut out = String::new();
    for part in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(part.as_os_str().to_str()?);
    }
    Some(out)
}

/// What a walk found: indexable files, and every folder it entered with its
/// modification time (nanoseconds), which later tells an incremental scan
/// where new files may have appeared.
#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<Candidate>,
    pub dirs: Vec<(String, i64)>,
    /// Folders not entered, and why (see [`skip_reason`]); Baton's and git's own are not
    /// listed.
    pub skipped_dirs: Vec<(String, &'static str)>,
    /// Files that tell import resolution where packages and modules are (see
    /// [`is_marker`]).
    pub markers: Vec<String>,
}

/// The files import resolution reads: `go.mod`, `package.json`, `pyproject.toml`,
/// `setup.py`, `setup.cfg` (where a Go module, an npm package or a Python distribution
/// starts), and `go.work`, `tsconfig.json`, `jsconfig.json`, `pnpm-workspace.yaml` and
/// `lerna.json` (workspaces, path aliases).
pub fn is_marker(name: &str) -> bool {
    matches!(
        name,
        "go.mod"
            | "package.json"
            | "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "go.work"
            | "tsconfig.json"
            | "jsconfig.json"
            | "pnpm-workspace.yaml"
            | "lerna.json"
    )
}

/// Why the walk does not enter this folder, or `None` when it does: dependency or build
/// folders (`build_or_dependency`), hidden folders (`hidden`), Python virtualenvs
/// (`virtualenv`).
pub fn skip_reason(path: &Path, name: &str) -> Option<&'static str> {
    if is_skipped_dir(name) {
        Some("build_or_dependency")
    } else if name.starts_with('.') && name != ".github" {
        Some("hidden")
    } else if path.join("pyvenv.cfg").is_file() {
        // A Python virtualenv, whatever it is called (`venv` is also a stdlib package).
        Some("virtualenv")
    } else {
        None
    }
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.mtime() * 1_000_000_000 + meta.mtime_nsec()
    }
    #[cfg(not(unix))]
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Changed less than two seconds before `now`: a change in the same clock
/// tick (on a coarse-grained file system) would leave the mtime as it is.
fn unsettled(mtime: i64, now: i64) -> bool {
    now - mtime < 2_000_000_000
}

/// The mtime to remember for a folder: 0 (always look again) while it is
/// unsettled, so a file created in the same clock tick as the scan is not
/// missed.
fn settled_mtime(meta: &std::fs::Metadata) -> i64 {
    let mtime = mtime_ns(meta);
    if unsettled(mtime, now_ns()) {
        0
    } else {
        mtime
    }
}

/// The stat data the index keeps of a path.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub is_file: bool,
    pub is_dir: bool,
    pub mtime_ns: i64,
    ctime_ns: i64,
    size: u64,
    ino: u64,
}

impl Stat {
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        #[cfg(unix)]
        let (ctime_ns, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.ctime() * 1_000_000_000 + meta.ctime_nsec(), meta.ino())
        };
        #[cfg(not(unix))]
        let (ctime_ns, ino) = (0, 0);
        Stat {
            is_file: meta.is_file(),
            is_dir: meta.is_dir(),
            mtime_ns: mtime_ns(meta),
            ctime_ns,
            size: meta.len(),
            ino,
        }
    }

    /// A fingerprint of the stat data (mtime, ctime, size, inode) that
    /// tells a changed file without reading it: any one of them changing
    /// changes the stamp (each mixing step is a bijection). 0, never a real
    /// stamp, means "read it again next time": the file changed less than
    /// two seconds before `now`, the time the scan started, and a second
    /// write in the same clock tick as the read would not change its mtime.
    pub fn stamp(&self, now: i64) -> i64 {
        if unsettled(self.mtime_ns, now) {
            return 0;
        }
        let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
        let fields = [
            self.mtime_ns as u64,
            self.ctime_ns as u64,
            self.size,
            self.ino,
        ];
        match fields.into_iter().fold(0x243F_6A88_85A3_08D3, mix) as i64 {
            0 => 1,
            h => h,
        }
    }
}

/// The project root, opened once so that each stat looks up only the
/// project-relative part of a path.
pub struct Root {
    path: PathBuf,
    #[cfg(unix)]
    dir: Option<rustix::fd::OwnedFd>,
}

impl Root {
    pub fn open(path: &Path) -> Root {
        #[cfg(unix)]
        let dir = {
            use rustix::fs::{Mode, OFlags};
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            rustix::fs::open(path, flags, Mode::empty()).ok()
        };
        Root {
            path: path.to_path_buf(),
            #[cfg(unix)]
            dir,
        }
    }

    /// Stat many files of one folder (`dir` project-relative, `names` in it): the folder
    /// is looked up once, and each file by its name alone, instead of every file walking
    /// its whole path. `None` for a file that cannot be stat'ed.
    pub fn stat_in(&self, dir: &str, names: &[&str]) -> Vec<Option<Stat>> {
        #[cfg(unix)]
        if let Some(root) = &self.dir {
            use rustix::fs::{AtFlags, Mode, OFlags};
            let opened;
            let at = if dir.is_empty() {
                root
            } else {
                let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
                match rustix::fs::openat(root, dir, flags, Mode::empty()) {
                    Ok(fd) => {
                        opened = fd;
                        &opened
                    }
                    Err(_) => return vec![None; names.len()],
                }
            };
            return names
                .iter()
                .map(|n| {
                    rustix::fs::statat(at, *n, AtFlags::empty())
                        .ok()
                        .map(|st| stat_of_raw(&st))
                })
                .collect();
        }
        names
            .iter()
            .map(|n| {
                let rel = if dir.is_empty() {
                    n.to_string()
                } else {
                    format!("{dir}/{n}")
                };
                self.stat(&rel)
            })
            .collect()
    }

    /// Stat a project-relative path (`""` is the root), following links.
    pub fn stat(&self, rel: &str) -> Option<Stat> {
        #[cfg(unix)]
        if let Some(dir) = &self.dir {
            let rel = if rel.is_empty() { "." } else { rel };
            let st = rustix::fs::statat(dir, rel, rustix::fs::AtFlags::empty()).ok()?;
            return Some(stat_of_raw(&st));
        }
        std::fs::metadata(self.path.join(rel))
            .ok()
            .map(|m| Stat::of(&m))
    }
}

// The field types of `stat` differ between targets.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)]
fn stat_of_raw(st: &rustix::fs::Stat) -> Stat {
    use rustix::fs::FileType;
    let kind = FileType::from_raw_mode(st.st_mode as rustix::fs::RawMode);
    Stat {
        is_file: kind == FileType::RegularFile,
        is_dir: kind == FileType::Directory,
        mtime_ns: st.st_mtime as i64 * 1_000_000_000 + st.st_mtime_nsec as i64,
        ctime_ns: st.st_ctime as i64 * 1_000_000_000 + st.st_ctime_nsec as i64,
        size: st.st_size as u64,
        ino: st.st_ino as u64,
    }
}

/// Every file of a supported language under `root`, honouring ignore files.
/// Non-UTF-8 paths are skipped.
pub fn walk(root: &Path) -> Walk {
    walk_at(root, "", None)
}

/// Walk the folder `start` (project-relative) down to `max_depth`.
pub fn walk_at(root: &Path, start: &str, max_depth: Option<usize>) -> Walk {
    let mut builder = ignore::WalkBuilder::new(root.join(start));
    builder
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .max_depth(max_depth)
        .add_custom_ignore_filename(".batonignore");
    let not_entered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = not_entered.clone();
    let owned_root = root.to_path_buf();
    builder.filter_entry(move |entry| {
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if !is_dir || entry.depth() == 0 {
            return true;
        }
        let name = entry.file_name().to_str().unwrap_or("");
        let Some(reason) = skip_reason(entry.path(), name) else {
            return true;
        };
        if let Some(rel) = relative(&owned_root, entry.path()) {
            if !never_indexed(&format!("{rel}/")) {
                if let Ok(mut list) = record.lock() {
                    list.push((rel, reason));
                }
            }
        }
        false
    });
    let mut out = Walk::default();
    for entry in builder.build() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                // A folder or file that cannot be read is reported, not silently lost.
                if e.io_error().is_some() {
                    if let Some(rel) = error_path(&e).and_then(|p| relative(root, p)) {
                        out.skipped_dirs.push((rel, "unreadable"));
                    }
                }
                continue;
            }
        };
        let Some(kind) = entry.file_type() else {
            continue;
        };
        let Some(rel) = relative(root, entry.path()) else {
            continue;
        };
        if kind.is_dir() {
            if let Ok(meta) = entry.metadata() {
                out.dirs.push((rel, settled_mtime(&meta)));
            }
        } else if kind.is_file() {
            if is_marker(entry.file_name().to_str().unwrap_or("")) {
                out.markers.push(rel.clone());
            }
            if let Some(lang) = Language::from_path(&rel) {
                out.files.push(Candidate { rel, lang });
            }
        }
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    if let Ok(mut list) = not_entered.lock() {
        out.skipped_dirs.append(&mut list);
    }
    out.skipped_dirs.sort();
    out.skipped_dirs.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The path an error of the walk is about, if it names one.
fn error_path(e: &ignore::Error) -> Option<&Path> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// Is this path one the walk would index? Used by the incremental scan for
/// paths git reports: ignore files are consulted for `.batonignore` at the
/// root, and git already hides what `.gitignore` excludes.
pub struct PathFilter {
    root: PathBuf,
    batonignore: ignore::gitignore::Gitignore,
    /// What git tracks, asked once and only when a path is in a folder the walk skips.
    tracked: std::sync::OnceLock<std::collections::HashSet<String>>,
}

impl PathFilter {
    pub fn new(root: &Path) -> Self {
        let (batonignore, _err) = ignore::gitignore::Gitignore::new(root.join(".batonignore"));
        PathFilter {
            root: root.to_path_buf(),
            batonignore,
            tracked: std::sync::OnceLock::new(),
        }
    }

    /// Excluded by `.batonignore`, the user's own word.
    pub fn baton_ignores(&self, rel: &str) -> bool {
        self.batonignore
            .matched_path_or_any_parents(rel, false)
            .is_ignore()
    }

    /// What git tracks under the root (asked once).
    pub fn tracked_files(&self) -> &std::collections::HashSet<String> {
        self.tracked.get_or_init(|| {
            crate::git::tracked(&self.root)
                .unwrap_or_default()
                .into_iter()
                .collect()
        })
    }

    /// Does git track this path?
    pub fn is_tracked(&self, rel: &str) -> bool {
        self.tracked_files().contains(rel)
    }

    pub fn accepts(&self, rel: &str) -> Option<Language> {
        let lang = Language::from_path(rel)?;
        if self.baton_ignores(rel) {
            return None;
        }
        // Build and dependency folders and hidden ones hold only what git does not track:
        // what it tracks is source.
        if in_builtin_skip(rel) && (never_indexed(rel) || !self.is_tracked(rel)) {
            return None;
        }
        Some(lang)
    }
}

/// Baton's own folder and git's, tracked or not.
fn never_indexed(rel: &str) -> bool {
    rel.starts_with(".baton/") || rel.starts_with(".git/")
}

/// Under a folder the walk does not enter by itself (build or dependency output, hidden).
pub fn in_builtin_skip(rel: &str) -> bool {
    in_skipped_dir(rel)
        || rel
            .split('/')
            .rev()
            .skip(1)
            .any(|p| p.starts_with('.') && p != ".github")
}

/// Adds the files git tracks that the walk did not find (in build, dependency or hidden
/// folders, or ignored yet tracked) and that are of a supported language, not excluded by
/// `.batonignore`, and present. Returns how many were added.
pub fn add_tracked(
    root: &Path,
    walked: &mut Walk,
    tracked: &[String],
    filter: &PathFilter,
) -> usize {
    let found: std::collections::HashSet<&str> =
        walked.files.iter().map(|c| c.rel.as_str()).collect();
    let extra: Vec<Candidate> = tracked
        .iter()
        .filter(|rel| !found.contains(rel.as_str()) && !never_indexed(rel))
        .filter_map(|rel| {
            let lang = Language::from_path(rel)?;
            (!filter.baton_ignores(rel) && root.join(rel).is_file()).then(|| Candidate {
                rel: rel.clone(),
                lang,
            })
        })
        .collect();
    let added = extra.len();
    if added > 0 {
        walked.files.extend(extra);
        walked.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    }
    // Tracked go.mod and package.json files there start modules and packages too.
    let known: std::collections::HashSet<&str> =
        walked.markers.iter().map(String::as_str).collect();
    let markers: Vec<String> = tracked
        .iter()
        .filter(|rel| is_marker(rel.rsplit('/').next().unwrap_or(rel)))
        .filter(|rel| !known.contains(rel.as_str()) && !never_indexed(rel))
        .filter(|rel| !filter.baton_ignores(rel) && root.join(rel).is_file())
        .cloned()
        .collect();
    walked.markers.extend(markers);
    added
}

/// Binary files have NUL bytes early on.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0)
}
