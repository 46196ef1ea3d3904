//! Python: absolute imports from the package root (or `src/`, `lib/`),
//! relative imports by their leading dots.

use super::{join, parent, Resolver};

impl Resolver {
    pub(super) fn python(&self, from: &str, source: &str, names: &[String]) -> Option<String> {
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
        let projects = self.python_projects().iter().map(String::as_str);
        for r in ["", "src", "lib"].into_iter().chain(projects) {
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
    ///
    /// Every candidate is `base.py` or `base.pyi` beside `base`, or a file under `base`:
    /// a folder that holds no project file rules them out without building their names
    /// (most imports that reach here name the standard library or a dependency, and are
    /// tried under several roots).
    fn python_in(&self, root: &str, rel: &str, names: &[String]) -> Option<String> {
        let base = join(root, rel);
        if !rel.is_empty() && self.has_dir(parent(&base)) {
            let module_file = format!("{base}.py");
            if self.files.contains(&module_file) {
                return Some(module_file);
            }
            let stub = format!("{base}.pyi");
            if self.files.contains(&stub) {
                return Some(stub);
            }
        }
        if !self.has_dir(&base) {
            return None;
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

    /// Where the project's Python distributions keep their packages: each folder with a
    /// `pyproject.toml`, `setup.py` or `setup.cfg` (a monorepo has several), and its `src/`.
    fn python_projects(&self) -> &[String] {
        self.python_roots.get_or_init(|| {
            let mut roots = Vec::new();
            for d in self.dirs_with(&["pyproject.toml", "setup.py", "setup.cfg"]) {
                if !d.is_empty() {
                    roots.push(join(&d, "src"));
                    roots.push(d);
                }
            }
            roots
        })
    }

    /// The folder above the outermost package that holds `from`.
    fn python_root(&self, from: &str) -> String {
        let mut dir = parent(from).to_string();
        while !dir.is_empty() && self.files.contains(&join(&dir, "__init__.py")) {
            dir = parent(&dir).to_string();
        }
        dir
    }
}
