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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanned_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
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

/// Names in the name lists containing `needle`, ASCII case-insensitively
/// (as SQL LIKE does); may repeat a name.
fn names_containing<'a>(lists: &'a [String], needle: &str) -> Vec<&'a str> {
    let needle = needle.to_ascii_lowercase();
    let mut found = Vec::new();
    for list in lists {
        let lower = list.to_ascii_lowercase();
        let mut from = 0;
        while let Some(pos) = lower[from..].find(&needle) {
            let at = from + pos;
            let start = list[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = list[at..].find('\n').map_or(list.len(), |i| at + i);
            found.push(&list[start..end]);
            // One hit per line is enough; go on with the next line.
            from = end;
        }
    }
    found
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
            None => Err(CodeError::FileNotIndexed { path: rel }),
        }
    }

    pub fn symbols(&self, q: &SymbolQuery) -> Result<Vec<Symbol>> {
        // Within one name: exported, then top-level definitions, then by place.
        const BY_NAME: &str = "s.name, s.exported DESC, (s.container IS NULL) DESC, f.path, s.line";
        match q.name.as_deref() {
            Some(n) if n.starts_with('=') && n.len() > 1 => self.run_symbols(
                q,
                " AND s.name = ?",
                vec![n[1..].to_string()],
                BY_NAME,
                q.limit,
            ),
            Some(n) if !n.is_empty() => self.symbols_containing(q, n),
            _ => self.run_symbols(q, "", Vec::new(), BY_NAME, q.limit),
        }
    }

    /// Substring search. Names come from the name list, best first (exact,
    /// then prefix, then shorter); symbols are fetched a chunk of names at a
    /// time until the limit is reached, so a common substring stays cheap.
    fn symbols_containing(&self, q: &SymbolQuery, needle: &str) -> Result<Vec<Symbol>> {
        // Exact and prefix matches first: they are what the agent meant.
        let order = "(s.name = ?) DESC, (s.name LIKE ? ESCAPE '\\') DESC, length(s.name), s.name, s.exported DESC, (s.container IS NULL) DESC, f.path, s.line";
        let order_args = [needle.to_string(), format!("{}%", like_escape(needle))];
        let lists = self.name_lists()?;
        if lists.is_empty() || needle.contains('\n') {
            let mut args = vec![format!("%{}%", like_escape(needle))];
            args.extend(order_args);
            return self.run_symbols(q, " AND s.name LIKE ? ESCAPE '\\'", args, order, q.limit);
        }
        let mut names = names_containing(&lists, needle);
        let prefix = needle.as_bytes();
        names.sort_by_cached_key(|name| {
            let b = name.as_bytes();
            (
                *name != needle,
                !(b.len() >= prefix.len() && b[..prefix.len()].eq_ignore_ascii_case(prefix)),
                name.chars().count(),
                *name,
            )
        });
        names.dedup();
        // Common short names can have thousands of symbols each: start with
        // a few names and widen, so a query with a limit sorts few rows.
        let mut chunk = if q.limit == 0 { 2000 } else { 16 };
        let mut out = Vec::new();
        let mut rest: &[&str] = &names;
        while !rest.is_empty() {
            let (names, tail) = rest.split_at(chunk.min(rest.len()));
            rest = tail;
            chunk = (chunk * 2).min(2000);
            let remaining = if q.limit == 0 { 0 } else { q.limit - out.len() };
            let mut args = vec![serde_json::to_string(names).unwrap_or_default()];
            args.extend(order_args.iter().cloned());
            out.extend(self.run_symbols(
                q,
                " AND s.name IN (SELECT value FROM json_each(?))",
                args,
                order,
                remaining,
            )?);
            if q.limit > 0 && out.len() >= q.limit {
                break;
            }
        }
        Ok(out)
    }

    /// One symbol query: `name_sql` and `order` use positional `?` filled
    /// from `name_args` in order, then the kind/file/exported filters.
    fn run_symbols(
        &self,
        q: &SymbolQuery,
        name_sql: &str,
        name_args: Vec<String>,
        order: &str,
        limit: usize,
    ) -> Result<Vec<Symbol>> {
        // Arguments are numbered in the order they appear in the text.
        let mut sql = format!(
            "SELECT {SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id WHERE 1=1{name_sql}"
        );
        let (name_only, order_only): (Vec<String>, Vec<String>) = {
            let n = name_sql.matches('?').count();
            let mut a = name_args;
            let rest = a.split_off(n.min(a.len()));
            (a, rest)
        };
        let mut args = name_only;
        if let Some(kind) = q.kind {
            sql.push_str(" AND s.kind = ?");
            args.push(kind.as_str().to_string());
        }
        if let Some(prefix) = q.file_prefix.as_deref().filter(|p| !p.is_empty()) {
            let prefix = self.normalize_path(prefix);
            sql.push_str(" AND (f.path = ? OR f.path LIKE ? ESCAPE '\\' OR ? = '')");
            args.push(prefix.clone());
            args.push(format!("{}/%", like_escape(&prefix)));
            args.push(prefix);
        }
        if q.exported_only {
            sql.push_str(" AND s.exported = 1");
        }
        sql.push_str(" ORDER BY ");
        sql.push_str(order);
        args.extend(order_only);
        if limit > 0 {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), symbol_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The name list rows (see `store`); empty for an index without one.
    fn name_lists(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT names FROM symbol_names")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every symbol of one file, in source order.
    pub fn outline(&self, file: &str) -> Result<Vec<Symbol>> {
        let (id, _) = self.file_id(file)?;
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {SYMBOL_COLUMNS} FROM symbols s JOIN files f ON f.id = s.file_id
             WHERE s.file_id = ?1 ORDER BY s.line, s.id"
        ))?;
        let rows = stmt.query_map([id], symbol_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn imports(&self, file: &str) -> Result<Vec<Import>> {
        let (id, rel) = self.file_id(file)?;
        let mut stmt = self.conn.prepare(
            "SELECT line, source, names, resolved FROM imports WHERE file_id = ?1 ORDER BY line, id",
        )?;
        let rows = stmt.query_map([id], |r| {
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
            let mut stmt = self.conn.prepare(
                "SELECT f.lang, count(DISTINCT f.id), count(s.id)
                 FROM files f LEFT JOIN symbols s ON s.file_id = f.id
                 GROUP BY f.lang ORDER BY 2 DESC, 1",
            )?;
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
            skipped_large: meta("skipped_large")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            skipped_binary: meta("skipped_binary")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            scanned_at: meta("scanned_at")?.and_then(|v| v.parse().ok()),
            git_head: meta("git_head")?.filter(|h| !h.is_empty()),
        })
    }
}
