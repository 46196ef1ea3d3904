//! Go: import paths under the module path of the nearest `go.mod` resolve
//! to package folders.

use super::{join, parent, Resolver};

#[derive(Clone, Debug)]
pub(super) struct GoModule {
    dir: String,
    path: String,
}

impl Resolver {
    pub(super) fn go(&self, from: &str, path: &str) -> Option<String> {
        let module = self.go_module(parent(from))?;
        let rest = if path == module.path {
            ""
        } else {
            path.strip_prefix(&module.path)?.strip_prefix('/')?
        };
        let dir = join(&module.dir, rest);
        self.has_dir(&dir).then_some(dir)
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
}
