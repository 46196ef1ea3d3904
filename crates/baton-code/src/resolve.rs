//! Turning an import as written into the project file it names.
//!
//! Resolution depends only on the set of project files and a few config files
//! (`tsconfig.json`, `go.mod`), never on other files' contents, so it runs in
//! parallel with extraction and is re-run cheaply when files come and go.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::languages::Language;
use crate::model::{ImportStyle, RawImport};

const SCRIPT_EXTENSIONS: &[&str] = &[
    ".ts", ".tsx", ".d.ts", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts",
];

pub struct Resolver {
    root: PathBuf,
    files: HashSet<String>,
    dirs: HashSet<String>,
    ts_configs: Mutex<HashMap<String, Option<TsConfig>>>,
    go_mods: Mutex<HashMap<String, Option<GoModule>>>,
}

#[derive(Clone, Debug)]
struct TsConfig {
    /// Project-relative folder that `paths` targets are relative to.
    base: String,
    has_base_url: bool,
    paths: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Debug)]
struct GoModule {
    dir: String,
    path: String,
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

fn join(dir: &str, rest: &str) -> String {
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
        let files: HashSet<String> = files.into_iter().collect();
        let mut dirs = HashSet::new();
        for f in &files {
            let mut d = parent(f);
            while dirs.insert(d.to_string()) && !d.is_empty() {
                d = parent(d);
            }
        }
        Resolver {
            root: root.to_path_buf(),
            files,
            dirs,
            ts_configs: Mutex::new(HashMap::new()),
            go_mods: Mutex::new(HashMap::new()),
        }
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

    // ---- TypeScript / JavaScript ----

    fn script(&self, from: &str, spec: &str) -> Option<String> {
        if spec.starts_with('.') {
            let base = normalize(&join(parent(from), spec))?;
            return self.probe_script(&base);
        }
        if spec.starts_with('/') {
            return None;
        }
        let config = self.ts_config(parent(from))?;
        for (pattern, targets) in &config.paths {
            let captured = match pattern.split_once('*') {
                Some((pre, post)) => spec
                    .strip_prefix(pre)
                    .and_then(|rest| rest.strip_suffix(post)),
                None => (pattern == spec).then_some(""),
            };
            let Some(captured) = captured else { continue };
            for target in targets {
                let t = target.replacen('*', captured, 1);
                if let Some(base) = normalize(&join(&config.base, &t)) {
                    if let Some(found) = self.probe_script(&base) {
                        return Some(found);
                    }
                }
            }
        }
        if config.has_base_url {
            let base = normalize(&join(&config.base, spec))?;
            return self.probe_script(&base);
        }
        None
    }

    fn probe_script(&self, base: &str) -> Option<String> {
        if self.files.contains(base) {
            return Some(base.to_string());
        }
        // ESM TypeScript imports name the emitted `.js` file.
        for js in [".js", ".jsx", ".mjs", ".cjs"] {
            if let Some(stem) = base.strip_suffix(js) {
                for ts in [".ts", ".tsx", ".mts", ".cts"] {
                    let c = format!("{stem}{ts}");
                    if self.files.contains(&c) {
                        return Some(c);
                    }
                }
            }
        }
        for ext in SCRIPT_EXTENSIONS {
            let c = format!("{base}{ext}");
            if self.files.contains(&c) {
                return Some(c);
            }
        }
        for ext in SCRIPT_EXTENSIONS {
            let c = join(base, &format!("index{ext}"));
            if self.files.contains(&c) {
                return Some(c);
            }
        }
        None
    }

    /// The nearest `tsconfig.json` or `jsconfig.json` at or above `dir`.
    fn ts_config(&self, dir: &str) -> Option<TsConfig> {
        let mut cache = self.ts_configs.lock().unwrap_or_else(|e| e.into_inner());
        let mut chain = Vec::new();
        let mut d = dir.to_string();
        let found = loop {
            if let Some(hit) = cache.get(&d) {
                break hit.clone();
            }
            chain.push(d.clone());
            let here = ["tsconfig.json", "jsconfig.json"]
                .iter()
                .find_map(|name| read_ts_config(&self.root, &d, name));
            if here.is_some() {
                break here;
            }
            if d.is_empty() {
                break None;
            }
            d = parent(&d).to_string();
        };
        for c in chain {
            cache.insert(c, found.clone());
        }
        found
    }

    // ---- Python ----

    fn python(&self, from: &str, source: &str, names: &[String]) -> Option<String> {
        let dots = source.chars().take_while(|c| *c == '.').count();
        let module = &source[dots..];
        let rel: String = module.replace('.', "/");
        if dots > 0 {
            let mut dir = parent(from).to_string();
            for _ in 1..dots {
                if dir.is_empty() {
                    return None;
                }
                dir = parent(&dir).to_string();
            }
            return self.python_in(&dir, &rel, names);
        }
        let mut roots = vec![self.python_root(from)];
        for r in ["", "src", "lib"] {
            if !roots.iter().any(|x| x == r) {
                roots.push(r.to_string());
            }
        }
        roots
            .iter()
            .find_map(|root| self.python_in(root, &rel, names))
    }

    /// Resolve module path `rel` under `root`; a package imported with names
    /// that are its submodules resolves to the first submodule.
    fn python_in(&self, root: &str, rel: &str, names: &[String]) -> Option<String> {
        let base = join(root, rel);
        let module_file = format!("{base}.py");
        if !rel.is_empty() && self.files.contains(&module_file) {
            return Some(module_file);
        }
        let stub = format!("{base}.pyi");
        if !rel.is_empty() && self.files.contains(&stub) {
            return Some(stub);
        }
        if let Some(first) = names.first().filter(|n| n.as_str() != "*") {
            let sub = join(&base, first);
            if let Some(f) = self.first_file([format!("{sub}.py"), join(&sub, "__init__.py")]) {
                return Some(f);
            }
        }
        let init = join(&base, "__init__.py");
        self.files.contains(&init).then_some(init)
    }

    /// The folder above the outermost package that holds `from`.
    fn python_root(&self, from: &str) -> String {
        let mut dir = parent(from).to_string();
        while !dir.is_empty() && self.files.contains(&join(&dir, "__init__.py")) {
            dir = parent(&dir).to_string();
        }
        dir
    }

    // ---- Go ----

    fn go(&self, from: &str, path: &str) -> Option<String> {
        let module = self.go_module(parent(from))?;
        let rest = if path == module.path {
            ""
        } else {
            path.strip_prefix(&module.path)?.strip_prefix('/')?
        };
        let dir = join(&module.dir, rest);
        self.dirs.contains(&dir).then_some(dir)
    }

    fn go_module(&self, dir: &str) -> Option<GoModule> {
        let mut cache = self.go_mods.lock().unwrap_or_else(|e| e.into_inner());
        let mut chain = Vec::new();
        let mut d = dir.to_string();
        let found = loop {
            if let Some(hit) = cache.get(&d) {
                break hit.clone();
            }
            chain.push(d.clone());
            let here = std::fs::read_to_string(self.root.join(&d).join("go.mod"))
                .ok()
                .and_then(|text| {
                    text.lines().find_map(|l| {
                        let l = l.trim();
                        l.strip_prefix("module ").map(|m| GoModule {
                            dir: d.clone(),
                            path: m.trim().trim_matches('"').to_string(),
                        })
                    })
                });
            if here.is_some() {
                break here;
            }
            if d.is_empty() {
                break None;
            }
            d = parent(&d).to_string();
        };
        for c in chain {
            cache.insert(c, found.clone());
        }
        found
    }

    // ---- Rust ----

    /// Folder holding the child modules of the module defined by `file`.
    fn rust_module_dir(file: &str) -> String {
        let name = file.rsplit('/').next().unwrap_or(file);
        if matches!(name, "mod.rs" | "lib.rs" | "main.rs") {
            parent(file).to_string()
        } else {
            file.strip_suffix(".rs").unwrap_or(file).to_string()
        }
    }

    fn rust_mod(&self, from: &str, name: &str) -> Option<String> {
        let dir = Self::rust_module_dir(from);
        self.first_file([
            join(&dir, &format!("{name}.rs")),
            join(&dir, &format!("{name}/mod.rs")),
        ])
    }

    /// The crate's source folder: the nearest folder above `from` holding
    /// `lib.rs` or `main.rs`.
    fn rust_crate_dir(&self, from: &str) -> Option<String> {
        let mut dir = parent(from).to_string();
        loop {
            if self.files.contains(&join(&dir, "lib.rs"))
                || self.files.contains(&join(&dir, "main.rs"))
            {
                return Some(dir);
            }
            if dir.is_empty() {
                return None;
            }
            dir = parent(&dir).to_string();
        }
    }

    fn rust_use(&self, from: &str, source: &str, names: &[String]) -> Option<String> {
        let crate_dir = self.rust_crate_dir(from)?;
        let mut current: Vec<String> = {
            let module_dir = Self::rust_module_dir(from);
            let rel = module_dir
                .strip_prefix(&crate_dir)
                .unwrap_or("")
                .trim_start_matches('/');
            rel.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut segments: Vec<&str> = source.split("::").collect();
        let mut path: Vec<String> = match segments.first().copied() {
            Some("crate") => {
                segments.remove(0);
                Vec::new()
            }
            Some("self") => {
                segments.remove(0);
                current.clone()
            }
            Some("super") => {
                while segments.first() == Some(&"super") {
                    segments.remove(0);
                    current.pop();
                }
                current.clone()
            }
            Some(first) => {
                // A path starting with a child module of this one (2018 edition).
                self.rust_mod(from, first)?;
                current.clone()
            }
            None => return None,
        };
        path.extend(segments.iter().map(|s| s.to_string()));
        if let Some(first) = names
            .first()
            .filter(|n| !matches!(n.as_str(), "*" | "self"))
        {
            path.push(first.clone());
        }
        for k in (0..=path.len()).rev() {
            let rel = path[..k].join("/");
            if k == 0 {
                return self.first_file([join(&crate_dir, "lib.rs"), join(&crate_dir, "main.rs")]);
            }
            let found = self.first_file([
                join(&crate_dir, &format!("{rel}.rs")),
                join(&crate_dir, &format!("{rel}/mod.rs")),
            ]);
            if found.is_some() {
                return found;
            }
        }
        None
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
                if self.dirs.contains(&d) {
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

/// Read the `baseUrl` and `paths` of a tsconfig, which may hold comments and
/// trailing commas.
fn read_ts_config(root: &Path, dir: &str, name: &str) -> Option<TsConfig> {
    let text = std::fs::read_to_string(root.join(dir).join(name)).ok()?;
    let json: serde_json::Value = serde_json::from_str(&strip_jsonc(&text)).ok()?;
    let options = json.get("compilerOptions");
    let base_url = options
        .and_then(|o| o.get("baseUrl"))
        .and_then(|v| v.as_str());
    let base = normalize(&join(dir, base_url.unwrap_or("."))).unwrap_or_default();
    let mut paths = Vec::new();
    if let Some(map) = options
        .and_then(|o| o.get("paths"))
        .and_then(|v| v.as_object())
    {
        for (pattern, targets) in map {
            let targets = targets
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            paths.push((pattern.clone(), targets));
        }
    }
    Some(TsConfig {
        base,
        has_base_url: base_url.is_some(),
        paths,
    })
}

/// Remove `//` and `/* */` comments (outside strings) and trailing commas.
/// Only ASCII is removed, so the result stays valid UTF-8.
fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            out.push(c);
            if c == b'\\' && i + 1 < bytes.len() {
                out.push(bytes[i + 1]);
                i += 1;
            } else if c == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                out.push(c);
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b',' => {
                let next = bytes[i + 1..].iter().find(|b| !b.is_ascii_whitespace());
                if !matches!(next, Some(b'}') | Some(b']')) {
                    out.push(c);
                }
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_refuses_paths_that_leave_the_project() {
        assert_eq!(normalize("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalize("../x"), None);
    }

    #[test]
    fn jsonc_comments_and_trailing_commas_are_removed() {
        let text = "{\n // c\n \"a\": \"//x\", /* y */ \"b\": [1,],\n}";
        let v: serde_json::Value = serde_json::from_str(&strip_jsonc(text)).unwrap();
        assert_eq!(v["a"], "//x");
        assert_eq!(v["b"][0], 1);
    }
}
