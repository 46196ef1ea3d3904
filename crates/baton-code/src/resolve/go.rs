//! Go: an import path under the module path of any module in the project (every
//! `go.mod`, so nested modules and `go.work` members alike, the longest module path
//! first) resolves to that package's folder.

use super::{join, Resolver};

#[derive(Clone, Debug)]
pub(super) struct GoModule {
    dir: String,
    path: String,
}

impl Resolver {
    pub(super) fn go(&self, from: &str, path: &str) -> Option<String> {
        let mut best: Option<(&GoModule, String)> = None;
        for module in self.go_modules() {
            // Modules come longest path first: a shorter one cannot beat a match.
            if best
                .as_ref()
                .is_some_and(|(b, _)| b.path.len() > module.path.len())
            {
                break;
            }
            let rest = if path == module.path {
                ""
            } else if module.path == "std" {
                // The standard library's own tree: `fmt`, `net/http` (no dot in the first
                // element) are folders of the `std` module.
                let first = path.split('/').next().unwrap_or(path);
                if first.contains('.') {
                    continue;
                }
                path
            } else {
                match path
                    .strip_prefix(&module.path)
                    .and_then(|r| r.strip_prefix('/'))
                {
                    Some(rest) => rest,
                    None => continue,
                }
            };
            let dir = join(&module.dir, rest);
            if !self.has_dir(&dir) {
                continue;
            }
            // Several modules with one path (testdata, examples): the importer's own wins.
            let contains = |d: &str| d.is_empty() || from.starts_with(&format!("{d}/"));
            match &best {
                Some((b, _)) if contains(&b.dir) || !contains(&module.dir) => {}
                _ => best = Some((module, dir)),
            }
        }
        best.map(|(_, dir)| dir)
    }

    fn go_modules(&self) -> &[GoModule] {
        self.go_modules.get_or_init(|| {
            let mut modules: Vec<GoModule> = self
                .dirs_with(&["go.mod"])
                .into_iter()
                .filter_map(|d| {
                    let text = std::fs::read_to_string(self.root.join(&d).join("go.mod")).ok()?;
                    text.lines().find_map(|l| {
                        l.trim().strip_prefix("module ").map(|m| GoModule {
                            dir: d.clone(),
                            path: m.trim().trim_matches('"').to_string(),
                        })
                    })
                })
                .collect();
            // The most specific module first: `example.com/repo/tools` before `example.com/repo`.
            modules.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.dir.cmp(&b.dir)));
            modules
        })
    }
}
