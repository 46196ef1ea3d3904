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

/// Every file of a supported language under `root`, honouring ignore files.
/// Non-UTF-8 paths are skipped.
pub fn walk(root: &Path) -> Vec<Candidate> {
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .add_custom_ignore_filename(".batonignore")
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name().to_str().unwrap_or("");
            let hidden = name.starts_with('.') && name != ".github";
            // A Python virtualenv, whatever it is called (`venv` is also a stdlib package).
            let virtualenv = || entry.path().join("pyvenv.cfg").is_file();
            !is_skipped_dir(name) && !hidden && !virtualenv()
        });
    let mut out = Vec::new();
    for entry in builder.build().flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(rel) = relative(root, entry.path()) else {
            continue;
        };
        if let Some(lang) = Language::from_path(&rel) {
            out.push(Candidate { rel, lang });
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
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
