//! TypeScript and JavaScript: relative specifiers with extension and index
//! probing, tsconfig `paths` and `baseUrl`.

use std::path::Path;

use super::{join, normalize, parent, Resolver, SCRIPT_EXTENSIONS};

#[derive(Clone, Debug)]
pub(super) struct TsConfig {
    /// Project-relative folder that `paths` targets are relative to.
    base: String,
    has_base_url: bool,
    paths: Vec<(String, Vec<String>)>,
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
    fn jsonc_comments_and_trailing_commas_are_removed() {
        let text = "{\n // c\n \"a\": \"//x\", /* y */ \"b\": [1,],\n}";
        let v: serde_json::Value = serde_json::from_str(&strip_jsonc(text)).unwrap();
        assert_eq!(v["a"], "//x");
        assert_eq!(v["b"][0], 1);
    }
}
