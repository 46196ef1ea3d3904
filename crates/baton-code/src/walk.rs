//! Which files the index covers: `.gitignore`, `.batonignore`, vendored and
//! build folders, size and binary limits.

use std::path::Path;

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
}

/// Should the walk enter this folder? Not dependency or build folders,
/// hidden folders or Python virtualenvs.
pub fn enters_dir(path: &Path, name: &str) -> bool {
    let hidden = name.starts_with('.') && name != ".github";
    // A Python virtualenv, whatever it is called (`venv` is also a stdlib package).
    !is_skipped_dir(name) && !hidden && !path.join("pyvenv.cfg").is_file()
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The mtime to remember for a folder: 0 (always look again) while it is
/// younger than two seconds, so a file created in the same clock tick as
/// the scan on a coarse-grained file system is not missed.
fn settled_mtime(meta: &std::fs::Metadata) -> i64 {
    let mtime = mtime_ns(meta);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64);
    if now - mtime < 2_000_000_000 {
        0
    } else {
        mtime
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
        .add_custom_ignore_filename(".batonignore")
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || entry.depth() == 0 {
                return true;
            }
            enters_dir(entry.path(), entry.file_name().to_str().unwrap_or(""))
        });
    let mut out = Walk::default();
    for entry in builder.build().flatten() {
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
            if let Some(lang) = Language::from_path(&rel) {
                out.files.push(Candidate { rel, lang });
            }
        }
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// Is this path one the walk would index? Used by the incremental scan for
/// paths git reports: ignore files are consulted for `.batonignore` at the
/// root, and git already hides what `.gitignore` excludes.
pub struct PathFilter {
    batonignore: ignore::gitignore::Gitignore,
}

impl PathFilter {
    pub fn new(root: &Path) -> Self {
        let (batonignore, _err) = ignore::gitignore::Gitignore::new(root.join(".batonignore"));
        PathFilter { batonignore }
    }

    pub fn accepts(&self, rel: &str) -> Option<Language> {
        let lang = Language::from_path(rel)?;
        if in_skipped_dir(rel)
            || rel
                .split('/')
                .rev()
                .skip(1)
                .any(|p| p.starts_with('.') && p != ".github")
        {
            return None;
        }
        if self
            .batonignore
            .matched_path_or_any_parents(rel, false)
            .is_ignore()
        {
            return None;
        }
        Some(lang)
    }
}

/// Binary files have NUL bytes early on.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8000)].contains(&0)
}
