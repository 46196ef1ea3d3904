//! Read-side queries over an open index.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use rusqlite::{params_from_iter, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::error::{CodeError, Result};
use crate::model::{Import, Symbol, SymbolKind};
use crate::store;

/// Filters for `symbols`. `name` matches a substring, case-insensitively;
/// `=Name` matches exactly. `limit` 0 means all.
#[derive(Debug, Clone, Default)]
pub struct SymbolQuery {
    pub name: Option<String>,
    pub kind: Option<SymbolKind>,
    pub file_prefix: Option<String>,
    pub exported_only: bool,
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependent {
    pub file: String,
    pub depth: u32,
    /// The file it imports that puts it here.
    pub via: String,
    pub names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImpactedSymbol {
    pub name: String,
    pub kind: SymbolKind,
    pub file: String,
    pub line: u32,
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impact {
    pub changed: Vec<String>,
    pub files: Vec<Dependent>,
    pub symbols: Vec<ImpactedSymbol>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageCount {
    pub language: String,
    pub files: u64,
    pub symbols: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: u64,
    pub symbols: u64,
    pub imports: u64,
    pub resolved_imports: u64,
    pub languages: Vec<LanguageCount>,
    pub kinds: BTreeMap<String, u64>,
    /// Project files imported by the most other files.
    pub most_imported: Vec<Count>,
    /// External modules imported by the most files.
    pub external: Vec<Count>,
    pub skipped_large: u64,
    pub skipped_binary: u64,
    /// Files that could not be read (unreadable folders count among `skipped_folders`).
    pub skipped_unreadable: u64,
    /// Folders not entered (`baton scan --explain` lists them).
    pub skipped_folders: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
}

/// Which names a symbol query asks for.
enum Names<'a> {
    Any,
    Exact(&'a str),
    /// These names, in this order.
    InOrder(&'a [String]),
}

/// Whether a path is indexed and, if not, why (`reason`: indexed, too_large, binary,
/// unreadable, missing, folder, outside, unsupported, ignored, build_or_dependency,
/// hidden, virtualenv, not_scanned).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explanation {
    pub path: String,
    pub indexed: bool,
    pub reason: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// A file or folder the index left out, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    pub folder: bool,
}

/// An open, read-only code index.
pub struct CodeIndex {
    root: PathBuf,
    conn: Connection,
}

const SYMBOL_COLUMNS: &str =
    "s.name, s.kind, f.path, s.line, s.end_line, s.container, s.signature, s.exported, s.doc";

fn symbol_row(r: &Row<'_>) -> rusqlite::Result<Symbol> {
    let kind: String = r.get(1)?;
    Ok(Symbol {
        name: r.get(0)?,
        kind: SymbolKind::parse(&kind).unwrap_or(SymbolKind::Variable),
        file: r.get(2)?,
        line: r.get(3)?,
        end_line: r.get(4)?,
        container: r.get(5)?,
        signature: r.get(6)?,
        exported: r.get(7)?,
        doc: r.get(8)?,
    })
}

fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Names containing a needle ASCII case-insensitively (as SQL LIKE does),
/// best first: the exact name, then names that start with the needle, then
/// the others; each group by length and name, the order of a run of the
/// name list (see `store`).
struct NameMatches {
    needle: String,
    lower: Vec<u8>,
    /// Finds the needle anywhere.
    finder: memchr::memmem::Finder<'static>,
    /// Finds it at the start of a line.
    line_finder: memchr::memmem::Finder<'static>,
    /// Keep at most this many names of each group from each run.
    cap: usize,
    /// Each group's names, one sorted run after another.
    groups: [Vec<String>; 3],
    /// Which groups lost names to `cap`.
    truncated: [bool; 3],
    /// Names of each group kept from the current run.
    in_run: [usize; 3],
    runs: usize,
    folded: Vec<u8>,
}

impl NameMatches {
    fn new(needle: &str, cap: usize) -> Self {
        let lower = needle.to_ascii_lowercase().into_bytes();
        let mut at_line_start = vec![b'\n'];
        at_line_start.extend_from_slice(&lower);
        NameMatches {
            needle: needle.to_string(),
            finder: memchr::memmem::Finder::new(&lower).into_owned(),
            line_finder: memchr::memmem::Finder::new(&at_line_start).into_owned(),
            lower,
            cap,
            groups: Default::default(),
            truncated: [false; 3],
            in_run: [0; 3],
            runs: 0,
            folded: Vec::new(),
        }
    }

    fn start_run(&mut self) {
        self.in_run = [0; 3];
        self.runs += 1;
    }

    /// Match one row of the current run (names separated by line breaks).
    fn add_row(&mut self, row: &str) {
        let mut folded = std::mem::take(&mut self.folded);
        folded.clear();
        folded.extend(row.bytes().map(|b| b.to_ascii_lowercase()));
        let mut from = 0;
        while let Some(at) = self.next_hit(&folded, from) {
            let start = memchr::memrchr(b'\n', &folded[..at]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &folded[at..]).map_or(row.len(), |i| at + i);
            // ASCII folding keeps byte offsets: the line is the same in both.
            let name = &row[start..end];
            let group = if name == self.needle {
                0
            } else if at == start {
                1
            } else {
                2
            };
            if self.in_run[group] < self.cap {
                self.groups[group].push(name.to_string());
                self.in_run[group] += 1;
            } else {
                self.truncated[group] = true;
            }
            // One hit per line is enough; go on with the next line.
            from = end;
        }
        self.folded = folded;
    }

    /// The next hit in `folded` from `from` (a row start or a line break).
    fn next_hit(&mut self, folded: &[u8], from: usize) -> Option<usize> {
        if self.in_run[2] < self.cap {
            return self.finder.find(&folded[from..]).map(|p| from + p);
        }
        // The last group is full: only names that start with the needle
        // can still be kept, and they are much faster to find. (The last
        // group counts as truncated even if no other name would follow.)
        self.truncated[2] = true;
        if from == 0 && folded.starts_with(&self.lower) {
            return Some(0);
        }
        self.line_finder.find(&folded[from..]).map(|p| from + p + 1)
    }

    /// The names in order, up to and including the first group that lost
    /// names to the cap (later groups come after the lost names); and
    /// whether that is every match.
    fn into_names(self) -> (Vec<String>, bool) {
        let mut out = Vec::new();
        for (mut group, mut truncated) in self.groups.into_iter().zip(self.truncated) {
            if self.runs > 1 {
                // Sorted runs: the stable sort merges them.
                group.sort_by(|a, b| store::name_order(a, b));
                group.dedup();
                if group.len() > self.cap {
                    group.truncate(self.cap);
                    truncated = true;
                }
            }
            out.extend(group);
            if truncated {
                return (out, false);
            }
        }
        (out, true)
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

impl CodeIndex {
    /// Open the index of the project at `root` for queries.
    pub fn open(root: &Path) -> Result<Self> {
        Ok(CodeIndex {
            root: root.to_path_buf(),
            conn: store::open_read(root)?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path as the index stores it: relative to the root, `/`-separated.
    pub fn normalize_path(&self, file: &str) -> String {
        let p = Path::new(file);
        if p.is_absolute() {
            if let Some(rel) = crate::walk::relative(&self.root, p) {
                return rel;
            }
            if let (Ok(root), Ok(abs)) = (self.root.canonicalize(), p.canonicalize()) {
                if let Some(rel) = crate::walk::relative(&root, &abs) {
                    return rel;
                }
            }
        }
        let f = file.replace('\\', "/");
        let f = f.trim_start_matches("./").trim_end_matches('/');
        crate::resolve::normalize(f).unwrap_or_else(|| f.to_string())
    }

    fn file_id(&self, file: &str) -> Result<(i64, String)> {
        let rel = self.normalize_path(file);
        let id: Option<i64> = self
            .conn
            .query_row("SELECT id FROM files WHERE path = ?1", [&rel], |r| r.get(0))
            .optional()?;
        match id {
            Some(id) => Ok((id, rel)),
            None => {
                let e = self.explain(&rel)?;
                Err(CodeError::FileNotIndexed {
                    path: rel,
                    why: e.detail,
                    fix: e.fix.unwrap_or_default(),
                })
            }
        }
    }

    /// Whether a path is indexed, and if not, why not and what to do.
    pub fn explain(&self, file: &str) -> Result<Explanation> {
        let rel = self.normalize_path(file);
        let out = |reason: &'static str, detail: String, fix: Option<&str>| Explanation {
            path: rel.clone(),
            indexed: reason == "indexed",
            reason,
            detail,
            fix: fix.map(str::to_string),
        };
        let indexed: Option<i64> = self
            .conn
            .query_row("SELECT id FROM files WHERE path = ?1", [&rel], |r| r.get(0))
            .optional()?;
        if indexed.is_some() {
            return Ok(out("indexed", "it is indexed".into(), None));
        }
        let abs = self.root.join(&rel);
        if let Some(reason) = store::skip_reason(&self.conn, &rel)? {
            let size = std::fs::metadata(&abs).map(|m| m.len()).unwrap_or(0);
            return Ok(match reason.as_str() {
                "too_large" => out(
                    "too_large",
                    format!(
                        "it is {} KB, over the 1 MB limit (large files are mostly generated)",
                        size / 1024
                    ),
                    Some("read the file directly"),
                ),
                "binary" => out(
                    "binary",
                    "it looks binary (a NUL byte near the start)".into(),
                    Some("only text source files are indexed"),
                ),
                _ => out(
                    "unreadable",
                    "the scan could not read it".into(),
                    Some("check its permissions, then run `baton scan --incremental`"),
                ),
            });
        }
        if rel.is_empty() || rel.starts_with("../") {
            return Ok(out(
                "outside",
                format!("it is not inside the project at {}", self.root.display()),
                Some("give a path inside the project, relative to its root"),
            ));
        }
        match std::fs::metadata(&abs) {
            Err(_) => {
                return Ok(out(
                    "missing",
                    "there is no such file in the project".into(),
                    Some("give the path relative to the project root or the current folder"),
                ))
            }
            Ok(m) if m.is_dir() => {
                return Ok(out(
                    "folder",
                    "it is a folder".into(),
                    Some(
                        "give a file; `baton code symbols --file DIR` lists what a folder defines",
                    ),
                ))
            }
            Ok(_) => {}
        }
        if crate::Language::from_path(&rel).is_none() {
            return Ok(out(
                "unsupported",
                "its language is not one the index reads".into(),
                Some("the index reads Rust, Python, TypeScript, JavaScript, Go, Java, C, C++, C# and Ruby"),
            ));
        }
        let filter = crate::walk::PathFilter::new(&self.root);
        if filter.baton_ignores(&rel) {
            return Ok(out(
                "ignored",
                "`.batonignore` excludes it".into(),
                Some("change .batonignore, then run `baton scan --incremental`"),
            ));
        }
        let folder = self.skipped_folder_of(&rel)?;
        if (folder.is_some() || crate::walk::in_builtin_skip(&rel)) && !filter.is_tracked(&rel) {
            let (reason, what) = match folder.as_ref().map(|(_, r)| r.as_str()) {
                Some("hidden") => ("hidden", "a hidden folder"),
                Some("virtualenv") => ("virtualenv", "a Python virtualenv"),
                Some("unreadable") => ("unreadable", "a folder the scan could not read"),
                _ => ("build_or_dependency", "a build or dependency folder"),
            };
            let name = folder.map_or_else(String::new, |(p, _)| format!(" {p}/"));
            return Ok(out(
                reason,
                format!("it is in{name}, {what}, and git does not track it"),
                Some("track it with `git add` (tracked files are always indexed), then run `baton scan --incremental`"),
            ));
        }
        if crate::git::ignores(&self.root, &rel) {
            return Ok(out(
                "ignored",
                ".gitignore excludes it and git does not track it".into(),
                Some("track it with `git add -f`, then run `baton scan --incremental`"),
            ));
        }
        Ok(out(
            "not_scanned",
            "it appeared after the last scan".into(),
            Some("run `baton scan --incremental`"),
        ))
    }

    /// The skipped folder a path is under, with why it was skipped.
    fn skipped_folder_of(&self, rel: &str) -> Result<Option<(String, String)>> {
        let mut at = 0;
        while let Some(i) = rel[at..].find('/') {
            let dir = &rel[..at + i];
            let reason: Option<String> = self
                .conn
                .query_row(
                    "SELECT reason FROM skipped_dirs WHERE path = ?1",
                    [dir],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(reason) = reason {
                return Ok(Some((dir.to_string(), reason)));
            }
            at += i + 1;
        }
        Ok(None)
    }

    /// What the index left out: files by reason, then folders not entered.
    pub fn skipped(&self) -> Result<Vec<Skipped>> {
        Ok(store::all_skipped(&self.conn)?
            .into_iter()
            .map(|(path, reason, folder)| Skipped {
                path,
                reason,
                folder,
            })
            .collect())
    }

    pub fn symbols(&self, q: &SymbolQuery) -> Result<Vec<Symbol>> {
        match q.name.as_deref() {
            Some(n) if n.starts_with('=') && n.len() > 1 => {
                self.run_symbols(q, Names::Exact(&n[1..]), q.limit)
            }
            Some(n) if !n.is_empty() => self.symbols_containing(q, n),
            _ => self.run_symbols(q, Names::Any, q.limit),
        }
    }

    /// Substring search. Names come from the name list, best first (exact,
    /// then prefix, then shorter); symbols are fetched a chunk of names at a
    /// time until the limit is reached, so a common substring stays cheap.
    fn symbols_containing(&self, q: &SymbolQuery, needle: &str) -> Result<Vec<Symbol>> {
        if needle.contains('\n') {
            // The name list is lines; no name holds a line break.
            return Ok(Vec::new());
        }
        // With a limit, the first names are usually enough: keep a few of
        // each group, and look again for all of them only if they run out.
        let first_cap = if q.limit == 0 { usize::MAX } else { 256 };
        let (mut names, mut complete) = self.names_containing(needle, first_cap)?;
        let mut chunk = if q.limit == 0 { 2000 } else { 16 };
        let mut used = 0;
        let mut out = Vec::new();
        loop {
            if used == names.len() {
                if complete {
                    break;
                }
                (names, complete) = self.names_containing(needle, usize::MAX)?;
                continue;
            }
            let next = &names[used..(used + chunk).min(names.len())];
            used += next.len();
            chunk = (chunk * 2).min(2000);
            let remaining = if q.limit == 0 { 0 } else { q.limit - out.len() };
            out.extend(self.run_symbols(q, Names::InOrder(next), remaining)?);
            if q.limit > 0 && out.len() >= q.limit {
                break;
            }
        }
        Ok(out)
    }

    /// Names containing `needle`, best first, at most `cap` of each group
    /// (exact, prefix, other); true if that is all of them.
    fn names_containing(&self, needle: &str, cap: usize) -> Result<(Vec<String>, bool)> {
        let mut matches = NameMatches::new(needle, cap);
        let mut stmt = self
            .conn
            .prepare("SELECT run, names FROM symbol_names ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut current = None;
        while let Some(row) = rows.next()? {
            let run: i64 = row.get(0)?;
            if current != Some(run) {
                matches.start_run();
                current = Some(run);
            }
            // Borrowed from the mapped page: no copy of the row.
            let names = row.get_ref(1)?.as_str().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, e.into())
            })?;
            matches.add_row(names);
        }
        Ok(matches.into_names())
    }

    /// One symbol query: the names asked for, then the kind, file and
    /// exported filters. Within one name: exported first, then top-level
    /// definitions, then by place.
    fn run_symbols(&self, q: &SymbolQuery, names: Names<'_>, limit: usize) -> Result<Vec<Symbol>> {
        // Arguments are numbered in the order they appear in the text.
        let mut args: Vec<String> = Vec::new();
        let (from, by_name) = match names {
            Names::Any => (
                "symbols s JOIN files f ON f.id = s.file_id WHERE 1",
                "s.name",
            ),
            Names::Exact(name) => {
                args.push(name.to_string());
                (
                    "symbols s JOIN files f ON f.id = s.file_id WHERE s.name = ?",
                    "s.name",
                )
            }
            Names::InOrder(names) => {
                args.push(serde_json::to_string(names).unwrap_or_default());
                // `key` is the position in the list: the list's order.
                (
                    "json_each(?) j CROSS JOIN symbols s JOIN files f ON f.id = s.file_id
                     WHERE s.name = j.value",
                    "j.key",
                )
            }
        };
        let mut sql = format!("SELECT {SYMBOL_COLUMNS} FROM {from}");
        let mut and = |clause: &str| {
            sql.push_str(" AND ");
            sql.push_str(clause);
        };
        if let Some(kind) = q.kind {
            and("s.kind = ?");
            args.push(kind.as_str().to_string());
        }
        if let Some(prefix) = q.file_prefix.as_deref().filter(|p| !p.is_empty()) {
            let prefix = self.normalize_path(prefix);
            and("(f.path = ? OR f.path LIKE ? ESCAPE '\\' OR ? = '')");
            args.push(prefix.clone());
            args.push(format!("{}/%", like_escape(&prefix)));
            args.push(prefix);
        }
        if q.exported_only {
            and("s.exported = 1");
        }
        sql.push_str(&format!(
            " ORDER BY {by_name}, s.exported DESC, (s.container IS NULL) DESC, f.path, s.line"
        ));
        if limit > 0 {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), symbol_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every symbol of one file, in source order.
    pub fn outline(&self, file: &str) -> Result<Vec<Symbol>> {
        let (id, _) = self.file_id(file)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id
             WHERE s.id >= ?1 AND s.id < ?2 ORDER BY s.line, s.id"
        ))?;
        let (first, end) = store::rows_of(id);
        let rows = stmt.query_map([first, end], symbol_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn imports(&self, file: &str) -> Result<Vec<Import>> {
        let (id, rel) = self.file_id(file)?;
        let mut stmt = self.conn.prepare(
            "SELECT line, source, names, resolved FROM imports WHERE id >= ?1 AND id < ?2
             ORDER BY line, id",
        )?;
        let (first, end) = store::rows_of(id);
        let rows = stmt.query_map([first, end], |r| {
            let names: String = r.get(2)?;
            Ok(Import {
                file: rel.clone(),
                line: r.get(0)?,
                source: r.get(1)?,
                names: names
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                resolved: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Files importing `file` (a Go import names the file's package folder).
    fn direct_dependents(&self, file: &str) -> Result<Vec<(String, Vec<String>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT f.path, i.names FROM imports i JOIN files f ON f.id = i.file_id
             WHERE i.resolved = ?1 OR (i.resolved = ?2 AND i.style IN ('go', 'java'))
             ORDER BY f.path",
        )?;
        let rows = stmt.query_map([file, parent(file)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for row in rows {
            let (path, names) = row?;
            if path == file {
                continue;
            }
            let names = names
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            match out.last_mut() {
                Some((p, n)) if *p == path => n.extend(names),
                _ => out.push((path, names.collect())),
            }
        }
        Ok(out)
    }

    fn walk_dependents(&self, start: &[String], depth: u32) -> Result<Vec<Dependent>> {
        let mut seen: HashSet<String> = start.iter().cloned().collect();
        let mut queue: VecDeque<(String, u32)> = start.iter().map(|f| (f.clone(), 0)).collect();
        let mut out = Vec::new();
        while let Some((file, d)) = queue.pop_front() {
            if depth > 0 && d >= depth {
                continue;
            }
            for (dep, names) in self.direct_dependents(&file)? {
                if seen.insert(dep.clone()) {
                    queue.push_back((dep.clone(), d + 1));
                    out.push(Dependent {
                        file: dep,
                        depth: d + 1,
                        via: file.clone(),
                        names,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Files that import `file`, transitively up to `depth` (0 = no limit).
    pub fn dependents(&self, file: &str, depth: u32) -> Result<Vec<Dependent>> {
        let (_, rel) = self.file_id(file)?;
        self.walk_dependents(&[rel], depth)
    }

    /// Files that depend on a change set, and the changed files' symbols
    /// that their direct importers name.
    pub fn impact(&self, files: &[String]) -> Result<Impact> {
        if files.is_empty() {
            return Err(CodeError::InvalidInput(
                "impact needs at least one file".into(),
            ));
        }
        let mut changed = Vec::new();
        for f in files {
            // A deleted file is a change too: keep its path even if unindexed.
            let rel = self.normalize_path(f);
            if !changed.contains(&rel) {
                changed.push(rel);
            }
        }
        let dependents = self.walk_dependents(&changed, 0)?;
        let mut used: HashMap<(String, String), Vec<String>> = HashMap::new();
        for d in dependents.iter().filter(|d| d.depth == 1) {
            for n in &d.names {
                let users = used.entry((d.via.clone(), n.clone())).or_default();
                if !users.contains(&d.file) {
                    users.push(d.file.clone());
                }
            }
        }
        let mut symbols = Vec::new();
        for file in &changed {
            let Ok(outline) = self.outline(file) else {
                continue;
            };
            for s in outline {
                if let Some(users) = used.get(&(file.clone(), s.name.clone())) {
                    symbols.push(ImpactedSymbol {
                        name: s.name,
                        kind: s.kind,
                        file: s.file,
                        line: s.line,
                        used_by: users.clone(),
                    });
                }
            }
        }
        Ok(Impact {
            changed,
            files: dependents,
            symbols,
        })
    }

    pub fn summary(&self) -> Result<Summary> {
        let count = |sql: &str| -> Result<u64> {
            Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        let mut languages = Vec::new();
        {
            // Each file's symbols are one range of ids (`store::rows_of`).
            let mut stmt = self.conn.prepare(&format!(
                "SELECT f.lang, count(DISTINCT f.id), count(s.id)
                 FROM files f LEFT JOIN symbols s
                   ON s.id >= f.id << {bits} AND s.id < (f.id + 1) << {bits}
                 GROUP BY f.lang ORDER BY 2 DESC, 1",
                bits = store::ROWS_PER_FILE_BITS
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok(LanguageCount {
                    language: r.get(0)?,
                    files: r.get::<_, i64>(1)? as u64,
                    symbols: r.get::<_, i64>(2)? as u64,
                })
            })?;
            for row in rows {
                languages.push(row?);
            }
        }
        let mut kinds = BTreeMap::new();
        {
            let mut stmt = self
                .conn
                .prepare("SELECT kind, count(*) FROM symbols GROUP BY kind")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (k, n) = row?;
                kinds.insert(k, n as u64);
            }
        }
        let top = |sql: &str| -> Result<Vec<Count>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok(Count {
                    name: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let meta = |key: &str| store::get_meta(&self.conn, key);
        Ok(Summary {
            files: count("SELECT count(*) FROM files")?,
            symbols: count("SELECT count(*) FROM symbols")?,
            imports: count("SELECT count(*) FROM imports")?,
            resolved_imports: count("SELECT count(*) FROM imports WHERE resolved IS NOT NULL")?,
            languages,
            kinds,
            most_imported: top(
                "SELECT resolved, count(DISTINCT file_id) FROM imports WHERE resolved IS NOT NULL
                 GROUP BY resolved ORDER BY 2 DESC, 1 LIMIT 10",
            )?,
            external: top("SELECT source, count(DISTINCT file_id) FROM imports
                 WHERE resolved IS NULL AND source NOT LIKE '.%'
                 GROUP BY source ORDER BY 2 DESC, 1 LIMIT 10")?,
            skipped_large: count("SELECT count(*) FROM skipped WHERE reason = 'too_large'")?,
            skipped_binary: count("SELECT count(*) FROM skipped WHERE reason = 'binary'")?,
            skipped_unreadable: count("SELECT count(*) FROM skipped WHERE reason = 'unreadable'")?,
            skipped_folders: count("SELECT count(*) FROM skipped_dirs")?,
            scanned_at: meta("scanned_at")?.and_then(|v| v.parse().ok()),
            git_head: meta("git_head")?.filter(|h| !h.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::NameMatches;

    fn matches(runs: &[&[&str]], needle: &str, cap: usize) -> (Vec<String>, bool) {
        let mut m = NameMatches::new(needle, cap);
        for rows in runs {
            m.start_run();
            for row in *rows {
                m.add_row(row);
            }
        }
        m.into_names()
    }

    #[test]
    fn names_come_exact_then_prefix_then_others_and_the_cap_cuts_after_a_full_group() {
        // One run, by length then name, in two rows.
        let run: &[&str] = &["ab\nxab\nABC\nzabz", "abcd\nqqab\nabcdef"];
        let all = ["ab", "ABC", "abcd", "abcdef", "xab", "zabz", "qqab"];
        assert_eq!(
            matches(&[run], "ab", 10),
            (all.map(String::from).to_vec(), true)
        );
        // Prefixes lost to the cap: nothing after them is usable.
        assert_eq!(
            matches(&[run], "ab", 2),
            (vec!["ab".into(), "ABC".into(), "abcd".into()], false)
        );
        // A full last group still lets later prefixes in.
        let (names, complete) = matches(&[run], "ab", 3);
        assert_eq!(names, all.map(String::from).to_vec());
        assert!(!complete);
        // Exact means the same case; `ab` is then a prefix match like `ABC`.
        assert_eq!(
            matches(&[run], "AB", 10).0[..3],
            ["ab", "ABC", "abcd"].map(String::from)
        );
    }

    #[test]
    fn runs_merge_in_order_without_repeats() {
        let first: &[&str] = &["ab\nzab\nabcd"];
        let second: &[&str] = &["Ab\nabc\nabcd\nxxab"];
        assert_eq!(
            matches(&[first, second], "ab", 10),
            (
                ["ab", "Ab", "abc", "abcd", "zab", "xxab"]
                    .map(String::from)
                    .to_vec(),
                true
            )
        );
    }
}
