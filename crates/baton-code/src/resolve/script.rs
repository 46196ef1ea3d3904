//! TypeScript and JavaScript: relative specifiers with extension and index
//! probing, tsconfig `paths` and `baseUrl`, and the project's own packages by name
//! (npm, yarn and pnpm workspaces): `exports` with subpath patterns, `types`, `module`,
//! `main`, with built output (`dist/`, `lib/`, a tsconfig's `outDir`) mapped back to the
//! source it is built from.

use std::collections::HashMap;
use std::path::Path;

use super::{join, normalize, parent, Resolver, SCRIPT_EXTENSIONS};

#[derive(Clone, Debug, Default)]
pub(super) struct TsConfig {
    /// Project-relative folder of `baseUrl` (the config's own folder without one).
    base: String,
    has_base_url: bool,
    paths: Vec<(String, Vec<String>)>,
    /// Where `paths` targets are relative to without a `baseUrl`: the folder of the
    /// config that sets them.
    paths_base: String,
    /// `outDir` and `rootDir`, project-relative.
    out_dir: Option<String>,
    root_dir: Option<String>,
}

impl Resolver {
    pub(super) fn script(&self, from: &str, spec: &str) -> Option<String> {
        if spec.starts_with('.') {
            let base = normalize(&join(parent(from), spec))?;
            return self.probe_script(&base);
        }
        if spec.starts_with('/') {
            return None;
        }
        // As TypeScript looks: `paths`, then `baseUrl`, then packages (node_modules, where
        // a workspace links its members).
        let config = self.ts_config(parent(from));
        if let Some(found) = config.as_ref().and_then(|c| self.ts_paths(c, spec)) {
            return Some(found);
        }
        if let Some(config) = config.as_ref().filter(|c| c.has_base_url) {
            let found = normalize(&join(&config.base, spec)).and_then(|b| self.probe_script(&b));
            if found.is_some() {
                return found;
            }
        }
        self.workspace_package(spec)
    }

    /// tsconfig `paths`: the first pattern and target that names a project file.
    fn ts_paths(&self, config: &TsConfig, spec: &str) -> Option<String> {
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
                let from = if config.has_base_url {
                    &config.base
                } else {
                    &config.paths_base
                };
                if let Some(base) = normalize(&join(from, &t)) {
                    if let Some(found) = self.probe_script(&base) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    /// `@scope/core` or `@scope/core/lib/common` when a package of the project has that
    /// name: through its `exports` (subpath patterns included), else its entry points or
    /// the subpath, each mapped from built output back to source.
    fn workspace_package(&self, spec: &str) -> Option<String> {
        let segments = if spec.starts_with('@') { 2 } else { 1 };
        let mut parts = spec.splitn(segments + 1, '/');
        let name: Vec<&str> = parts.by_ref().take(segments).collect();
        if name.len() != segments {
            return None;
        }
        let name = name.join("/");
        let subpath = parts.next().unwrap_or("");
        let pkg = self.packages().get(&name)?;
        let key = if subpath.is_empty() {
            ".".to_string()
        } else {
            format!("./{subpath}")
        };
        for (pattern, targets) in &pkg.exports {
            let captured = match pattern.split_once('*') {
                Some((pre, post)) => key
                    .strip_prefix(pre)
                    .and_then(|rest| rest.strip_suffix(post)),
                None => (*pattern == key).then_some(""),
            };
            let Some(captured) = captured else { continue };
            for target in targets {
                let path = join(&pkg.dir, &target.replace('*', captured));
                if let Some(found) = self.package_file(pkg, &path) {
                    return Some(found);
                }
            }
        }
        if subpath.is_empty() {
            pkg.entries
                .iter()
                .map(|e| join(&pkg.dir, e))
                .chain([join(&pkg.dir, "src/index"), join(&pkg.dir, "index")])
                .find_map(|path| self.package_file(pkg, &path))
        } else {
            self.package_file(pkg, &join(&pkg.dir, subpath))
        }
    }

    /// A file of a package, or the source a built file comes from: the tsconfig's
    /// `outDir` read as its `rootDir`, else `dist/`, `lib/`, `build/`, `out/` (and their
    /// `esm`/`cjs` folders) read as `src/` or the package's root.
    fn package_file(&self, pkg: &Package, path: &str) -> Option<String> {
        let path = normalize(path)?;
        let stem = path.strip_suffix(".d.ts").unwrap_or(&path);
        if let Some(found) = self.probe_script(stem) {
            return Some(found);
        }
        let inner = if pkg.dir.is_empty() {
            stem
        } else {
            stem.strip_prefix(&pkg.dir)?.strip_prefix('/')?
        };
        let mut sources: Vec<String> = Vec::new();
        if let Some((out, src)) = &pkg.out_to_src {
            if let Some(rest) = inner
                .strip_prefix(out.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                sources.push(join(src, rest));
            }
        }
        for out in [
            "dist/esm", "dist/cjs", "dist/src", "lib/esm", "lib/cjs", "dist", "lib", "build",
            "out", "esm", "cjs",
        ] {
            if let Some(rest) = inner.strip_prefix(out).and_then(|r| r.strip_prefix('/')) {
                sources.push(join("src", rest));
                sources.push(rest.to_string());
            }
        }
        sources
            .into_iter()
            .filter_map(|s| normalize(&join(&pkg.dir, &s)))
            .find_map(|base| self.probe_script(&base))
    }

    /// The project's packages by name, read once from every `package.json` in a folder
    /// that holds project files (so workspace members however they are declared).
    fn packages(&self) -> &HashMap<String, Package> {
        self.packages.get_or_init(|| {
            let mut dirs = self.dirs_with(&["package.json"]);
            // Declared workspaces (package.json `workspaces`, pnpm-workspace.yaml, lerna.json)
            // say which are members; a fixture elsewhere named `react` is not `react`.
            let globs = workspace_globs(&self.root);
            if !globs.is_empty() {
                dirs.retain(|d| is_member(&globs, d));
            }
            // Shallow first: the first package to claim a name keeps it.
            dirs.sort_by(|a, b| {
                a.matches('/')
                    .count()
                    .cmp(&b.matches('/').count())
                    .then(a.cmp(b))
            });
            let mut found = HashMap::new();
            for dir in &dirs {
                if let Some((name, pkg)) = read_package(&self.root, dir) {
                    found.entry(name).or_insert(pkg);
                }
            }
            found
        })
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
}

/// The member globs a workspace declares at the project's root, `!` exclusions kept as
/// written; empty when it declares none.
fn workspace_globs(root: &Path) -> Vec<String> {
    let mut globs: Vec<String> = Vec::new();
    let json = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(root.join(name)).ok()?).ok()
    };
    let strings = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(pkg) = json("package.json") {
        let ws = pkg.get("workspaces");
        globs.extend(strings(ws));
        globs.extend(strings(ws.and_then(|w| w.get("packages"))));
    }
    if let Some(lerna) = json("lerna.json") {
        globs.extend(strings(lerna.get("packages")));
    }
    if let Ok(yaml) = std::fs::read_to_string(root.join("pnpm-workspace.yaml")) {
        // The `packages:` list: `  - 'apps/*'` lines under it.
        let mut inside = false;
        for line in yaml.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            if !line.starts_with([' ', '\t', '-']) {
                inside = trimmed.starts_with("packages:");
                continue;
            }
            if let Some(item) = trimmed.strip_prefix('-').filter(|_| inside) {
                let item = item.trim().trim_matches(|c| c == '\'' || c == '"');
                if !item.is_empty() {
                    globs.push(item.to_string());
                }
            }
        }
    }
    globs
}

/// Is the folder `dir` a member by these globs (`packages/*`, `apps/**`, `!**/test/**`)?
fn is_member(globs: &[String], dir: &str) -> bool {
    let clean = |g: &str| g.trim_start_matches("./").trim_end_matches('/').to_string();
    let matches = |g: &str| glob_match(&clean(g), dir);
    globs.iter().any(|g| !g.starts_with('!') && matches(g))
        && !globs
            .iter()
            .filter_map(|g| g.strip_prefix('!'))
            .any(matches)
}

/// `*` and `?` within a path segment, `**` across any number of them.
fn glob_match(pattern: &str, path: &str) -> bool {
    fn segments(p: &[&str], s: &[&str]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((&"**", rest)) => (0..=s.len()).any(|i| segments(rest, &s[i..])),
            Some((first, rest)) => {
                !s.is_empty()
                    && segment(first.as_bytes(), s[0].as_bytes())
                    && segments(rest, &s[1..])
            }
        }
    }
    fn segment(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| segment(rest, &s[i..])),
            Some((b'?', rest)) => !s.is_empty() && segment(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && segment(rest, &s[1..]),
        }
    }
    let p: Vec<&str> = pattern.split('/').filter(|x| !x.is_empty()).collect();
    let s: Vec<&str> = path.split('/').filter(|x| !x.is_empty()).collect();
    p.len() <= 64 && segments(&p, &s)
}

/// A package of the project (`package.json` with a `name`).
#[derive(Clone, Debug, Default)]
pub(super) struct Package {
    /// Its folder, project-relative.
    dir: String,
    /// `exports`: subpath (`.`, `./lib/*`) and the targets to try, in the order of
    /// preference (`types`, `source`, `import`, `module`, `default`, `require`, ...).
    exports: Vec<(String, Vec<String>)>,
    /// `types`, `typings`, `module`, `main`, `source`, in that order.
    entries: Vec<String>,
    /// The tsconfig's (`outDir`, `rootDir`), package-relative, when it names an outDir.
    out_to_src: Option<(String, String)>,
}

fn read_package(root: &Path, dir: &str) -> Option<(String, Package)> {
    let text = std::fs::read_to_string(root.join(dir).join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let name = json.get("name")?.as_str()?.trim().to_string();
    if name.is_empty() {
        return None;
    }
    let entries = ["source", "types", "typings", "module", "main"]
        .iter()
        .filter_map(|k| json.get(*k).and_then(|v| v.as_str()))
        .map(str::to_string)
        .collect();
    let exports = match json.get("exports") {
        Some(serde_json::Value::Object(map)) if map.keys().any(|k| k.starts_with('.')) => map
            .iter()
            .filter(|(k, _)| k.starts_with('.'))
            .map(|(k, v)| (k.clone(), export_targets(v)))
            .collect(),
        Some(v) => vec![(".".to_string(), export_targets(v))],
        None => Vec::new(),
    };
    // The package's (outDir, rootDir), relative to the package.
    let inside = |p: String| -> Option<String> {
        if dir.is_empty() {
            Some(p)
        } else {
            p.strip_prefix(dir)?.strip_prefix('/').map(str::to_string)
        }
    };
    let out_to_src = read_ts_config(root, dir, "tsconfig.json").and_then(|c| {
        let out = inside(c.out_dir?)?;
        let src = c.root_dir.and_then(inside).unwrap_or_else(|| "src".into());
        Some((out, src))
    });
    Some((
        name,
        Package {
            dir: dir.to_string(),
            exports,
            entries,
            out_to_src,
        },
    ))
}

/// The files an `exports` value may name, the most source-like conditions first.
fn export_targets(value: &serde_json::Value) -> Vec<String> {
    const PREFERRED: [&str; 8] = [
        "source",
        "types",
        "typescript",
        "import",
        "module",
        "default",
        "require",
        "node",
    ];
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(export_targets).collect(),
        serde_json::Value::Object(map) => {
            let mut out: Vec<String> = PREFERRED
                .iter()
                .filter_map(|k| map.get(*k))
                .flat_map(export_targets)
                .collect();
            for (k, v) in map {
                if !PREFERRED.contains(&k.as_str()) {
                    out.extend(export_targets(v));
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Read the `baseUrl` and `paths` of a tsconfig, which may hold comments and
/// trailing commas.
fn read_ts_config(root: &Path, dir: &str, name: &str) -> Option<TsConfig> {
    read_ts_config_file(root, &join(dir, name), &mut Vec::new())
}

impl TsConfig {
    /// What `over` sets replaces what this sets; the rest stays.
    fn overlay(&mut self, over: TsConfig) {
        if over.has_base_url {
            self.base = over.base;
            self.has_base_url = true;
        }
        if !over.paths.is_empty() {
            self.paths = over.paths;
            self.paths_base = over.paths_base;
        }
        if over.out_dir.is_some() {
            self.out_dir = over.out_dir;
        }
        if over.root_dir.is_some() {
            self.root_dir = over.root_dir;
        }
    }
}

/// A tsconfig and what it `extends` (relative paths, a string or a list; later ones win,
/// and the file's own options win over all): `baseUrl`, `paths` and `outDir` stay
/// relative to the file that sets them, as TypeScript reads them.
fn read_ts_config_file(root: &Path, file: &str, seen: &mut Vec<String>) -> Option<TsConfig> {
    // Each file once per lookup, however the extends lists loop or fan out.
    if seen.len() >= 32 || seen.iter().any(|s| s == file) {
        return None;
    }
    seen.push(file.to_string());
    let text = std::fs::read_to_string(root.join(file)).ok()?;
    let json: serde_json::Value = serde_json::from_str(&strip_jsonc(&text)).ok()?;
    let dir = parent(file);
    let mut config = TsConfig {
        base: dir.to_string(),
        paths_base: dir.to_string(),
        ..TsConfig::default()
    };
    let extends: Vec<&str> = match json.get("extends") {
        Some(serde_json::Value::String(s)) => vec![s.as_str()],
        Some(serde_json::Value::Array(list)) => list.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    for parent_ref in extends.into_iter().filter(|e| e.starts_with('.')) {
        let Some(path) = normalize(&join(dir, parent_ref)) else {
            continue;
        };
        let with_json = format!("{path}.json");
        let found = if root.join(&path).is_file() {
            read_ts_config_file(root, &path, seen)
        } else {
            read_ts_config_file(root, &with_json, seen)
        };
        if let Some(inherited) = found {
            config.overlay(inherited);
        }
    }
    let options = json.get("compilerOptions");
    if let Some(base_url) = options
        .and_then(|o| o.get("baseUrl"))
        .and_then(|v| v.as_str())
    {
        config.base = normalize(&join(dir, base_url)).unwrap_or_default();
        config.has_base_url = true;
    }
    let folder = |key: &str| {
        options
            .and_then(|o| o.get(key))
            .and_then(|v| v.as_str())
            .and_then(|v| normalize(&join(dir, v.trim_start_matches("./"))))
    };
    if let Some(out) = folder("outDir") {
        config.out_dir = Some(out);
    }
    if let Some(src) = folder("rootDir") {
        config.root_dir = Some(src);
    }
    if let Some(map) = options
        .and_then(|o| o.get("paths"))
        .and_then(|v| v.as_object())
    {
        config.paths_base = dir.to_string();
        config.paths = map
            .iter()
            .map(|(pattern, targets)| {
                let targets = targets
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|t| t.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                (pattern.clone(), targets)
            })
            .collect();
    }
    Some(config)
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
    fn workspace_globs_match_members() {
        assert!(glob_match("packages/*", "packages/core"));
        assert!(!glob_match("packages/*", "packages/core/sub"));
        assert!(glob_match("apps/**", "apps/web/admin"));
        assert!(glob_match("libs/*-ui", "libs/react-ui"));
        let globs = vec!["packages/**".to_string(), "!**/test/**".to_string()];
        assert!(is_member(&globs, "packages/a"));
        assert!(!is_member(&globs, "packages/a/test/fixture"));
        assert!(!is_member(&globs, "tools/x"));
    }

    #[test]
    fn jsonc_comments_and_trailing_commas_are_removed() {
        let text = "{\n // c\n \"a\": \"//x\", /* y */ \"b\": [1,],\n}";
        let v: serde_json::Value = serde_json::from_str(&strip_jsonc(text)).unwrap();
        assert_eq!(v["a"], "//x");
        assert_eq!(v["b"][0], 1);
    }
}
