//! Rust: `mod name;` files and `crate::`/`self::`/`super::` paths.

use super::{join, parent, Resolver};

impl Resolver {
    /// Folder holding the child modules of the module defined by `file`.
    fn rust_module_dir(file: &str) -> String {
        let name = file.rsplit('/').next().unwrap_or(file);
        if matches!(name, "mod.rs" | "lib.rs" | "main.rs") {
            parent(file).to_string()
        } else {
            file.strip_suffix(".rs").unwrap_or(file).to_string()
        }
    }

    pub(super) fn rust_mod(&self, from: &str, name: &str) -> Option<String> {
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

    pub(super) fn rust_use(&self, from: &str, source: &str, names: &[String]) -> Option<String> {
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
}
