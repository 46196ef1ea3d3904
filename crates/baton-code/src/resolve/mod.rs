//! Turning an import as written into the project file it names.
//!
//! Resolution depends only on the set of project files and a few config files
//! (`tsconfig.json`, `go.mod`), never on other files' contents, so it runs in
//! parallel with extraction and is re-run cheaply when files come and go.

mod go;
mod python;
mod rust;
mod script;

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use go::GoModule;
use script::TsConfig;

use crate::languages::Language;
use crate::model::{ImportStyle, RawImport};

const SCRIPT_EXTENSIONS: &[&str] = &[
    ".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts",
];

/// Hashes project paths for the resolver's sets, which it asks about several candidate
/// paths per import: a multiply-and-rotate over 8 bytes at a time. SipHash's defence
/// against chosen keys buys nothing for a project's own file names, and costs more.
#[derive(Default, Clone, Copy)]
pub struct PathHasher(u64);

const PATH_HASH_K: u64 = 0x9E37_79B9_7F4A_7C15;

impl PathHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(PATH_HASH_K);
    }
}

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        // The table picks buckets by the low bits: fold the well-mixed high bits down.
        let h = self.0.wrapping_mul(PATH_HASH_K);
        h ^ (h >> 29)
    }
}

/// A set of project paths.
pub type PathSet = HashSet<String, BuildHasherDefault<PathHasher>>;

pub struct Resolver {
    root: PathBuf,
    files: PathSet,
    /// Folders holding project files; built on first use (Go and Java
    /// imports name folders), which most scans never need.
    dirs: OnceLock<PathSet>,
    ts_configs: Mutex<HashMap<String, Option<TsConfig>>>,
    /// The project's own npm packages by name (workspace members and any other
    /// `package.json` with a name), found on the first bare import that needs them.
    packages: OnceLock<HashMap<String, script::Package>>,
    /// Every Go module in the project (`go.mod` files, `go.work` members), longest
    /// module path first.
    go_modules: OnceLock<Vec<GoModule>>,
    /// Folders Python packages sit in besides the root, `src/` and `lib/`.
    python_roots: OnceLock<Vec<String>>,
    /// Where `go.mod`, `package.json` and Python project files are, as the walk found
    /// them; without them, every folder is looked in.
    markers: Option<Vec<String>>,
}

pub(super) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

pub(super) fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() {
        rest.to_string()
    } else if rest.is_empty() {
        dir.to_string()
    } else {
        format!("{dir}/{rest}")
    }
}

/// Resolve `.` and `..`; `None` when the path leaves the project.
pub fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            p => out.push(p),
        }
    }
    Some(out.join("/"))
}

impl Resolver {
    pub fn new(root: &Path, files: impl IntoIterator<Item = String>) -> Self {
        Self::of_set(root, files.into_iter().collect())
    }

    /// [`Resolver::new`] for a set already built (not hashed again).
    pub fn of_set(root: &Path, files: PathSet) -> Self {
        Resolver {
            root: root.to_path_buf(),
            files,
            dirs: OnceLock::new(),
            ts_configs: Mutex::new(HashMap::new()),
            packages: OnceLock::new(),
            go_modules: OnceLock::new(),
            python_roots: OnceLock::new(),
            markers: None,
        }
    }

    /// The marker files the walk found (see `walk::is_marker`), so that finding modules
    /// and packages reads only those instead of looking in every folder.
    pub fn with_markers(mut self, markers: Vec<String>) -> Self {
        self.markers = Some(markers);
        self
    }

    /// The folders that hold a file of one of these names, sorted.
    fn dirs_with(&self, names: &[&str]) -> Vec<String> {
        let mut dirs: Vec<String> = match &self.markers {
            Some(markers) => markers
                .iter()
                .filter(|m| names.contains(&m.rsplit('/').next().unwrap_or(m)))
                .map(|m| parent(m).to_string())
                .collect(),
            None => self
                .all_dirs()
                .iter()
                .filter(|d| names.iter().any(|n| self.root.join(d).join(n).is_file()))
                .cloned()
                .collect(),
        };
        dirs.sort();
        dirs.dedup();
        dirs
    }

    fn has_dir(&self, dir: &str) -> bool {
        self.all_dirs().contains(dir)
    }

    /// Every folder that holds project files, the root (`""`) included.
    fn all_dirs(&self) -> &PathSet {
        self.dirs.get_or_init(|| {
            let mut dirs = PathSet::default();
            for f in &self.files {
                // Most files share their folder with another: look before allocating.
                let mut d = parent(f);
                while !dirs.contains(d) {
                    dirs.insert(d.to_string());
                    if d.is_empty() {
                        break;
                    }
                    d = parent(d);
                }
            }
            dirs
        })
    }

    pub fn resolve(&self, from: &str, lang: Language, imp: &RawImport) -> Option<String> {
        self.resolve_source(from, lang, imp.style, &imp.source, &imp.names)
    }

    pub fn resolve_source(
        &self,
        from: &str,
        _lang: Language,
        style: ImportStyle,
        source: &str,
        names: &[String],
    ) -> Option<String> {
        match style {
            ImportStyle::Script => self.script(from, source),
            ImportStyle::Python => self.python(from, source, names),
            ImportStyle::Go => self.go(from, source),
            ImportStyle::RustMod => self.rust_mod(from, source),
            ImportStyle::RustUse => self.rust_use(from, source, names),
            ImportStyle::Java => self.java(from, source),
            ImportStyle::IncludeLocal => self.include(from, source, true),
            ImportStyle::IncludeSystem => self.include(from, source, false),
            ImportStyle::RubyRelative => {
                let base = normalize(&join(parent(from), source))?;
                self.first_file([base.clone(), format!("{base}.rb")])
            }
            ImportStyle::Ruby => {
                self.first_file([format!("lib/{source}.rb"), format!("{source}.rb")])
            }
            ImportStyle::CSharp => None,
        }
    }

    fn first_file<I: IntoIterator<Item = String>>(&self, candidates: I) -> Option<String> {
        candidates.into_iter().find(|c| self.files.contains(c))
    }
    // ---- Java ----

    fn java(&self, from: &str, source: &str) -> Option<String> {
        let (path, wildcard) = match source.strip_suffix(".*") {
            Some(p) => (p, true),
            None => (source, false),
        };
        let rel = path.replace('.', "/");
        let mut dir = parent(from).to_string();
        loop {
            if wildcard {
                let d = join(&dir, &rel);
                if self.has_dir(&d) {
                    return Some(d);
                }
            } else {
                let f = join(&dir, &format!("{rel}.java"));
                if self.files.contains(&f) {
                    return Some(f);
                }
                // `import static a.b.C.member;`
                if let Some((outer, _)) = rel.rsplit_once('/') {
                    let f = join(&dir, &format!("{outer}.java"));
                    if self.files.contains(&f) {
                        return Some(f);
                    }
                }
            }
            if dir.is_empty() {
                return None;
            }
            dir = parent(&dir).to_string();
        }
    }

    // ---- C / C++ ----

    fn include(&self, from: &str, path: &str, local: bool) -> Option<String> {
        let mut candidates = Vec::new();
        if local {
            candidates.push(normalize(&join(parent(from), path)));
        }
        candidates.push(normalize(path));
        candidates.push(normalize(&join("include", path)));
        if local {
            candidates.push(normalize(&join("src", path)));
        }
        self.first_file(candidates.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_paths_that_leave_the_project() {
        assert_eq!(normalize("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("../x"), None);
    }
}
