//! `baton watch`: records file changes under the project as events, attributed to the
//! editing agent (or to the holder of a reservation on the path), and flags edits to paths
//! someone else reserved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use baton_core::api::FileChange;
use baton_core::time::parse_duration;
use baton_core::ErrorClass;
use clap::Args;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::{EventKind, RecursiveMode, Watcher};

use super::Context;
use crate::error::{CliError, CliResult};
use crate::output::Mode;

#[derive(Args, Debug)]
#[command(after_help = "\
Records every change under the project as a `file.changed` event (created, modified,
removed, renamed), and warns (and tells the holder) when the path is reserved by someone
else. A change in a task's worktree (.baton/worktrees/) is its run's agent's, at the same
path in the repository; one in the checkout is --agent's when typed here, else the holder
of a reservation on the path (BATON_AGENT, whoever runs the watcher, is not the editor).
A burst of changes closes after --debounce of quiet and is recorded once per path.

Never reported: .git, .baton and what .gitignore ignores. Hidden files and directories
(names starting with a dot) only with --hidden. --include and --exclude take gitignore
globs (*.rs, src/, docs/**/*.md), relative to the project root; repeat them for more.

Renames and moves within the project are reported once, as `renamed` with where the file
came from. With --report-duplicates each file's content is hashed (SHA-256; files up to
64 MiB, the tree once at start): a change names the other paths with the same content,
and a delete and a create of the same content in one burst is reported as a move.

  baton watch --agent codex
  baton watch --include 'src/**/*.rs' --exclude 'src/generated/'
  baton watch --report-duplicates --json")]
pub struct WatchArgs {
    /// Quiet time that closes a burst of changes (changes in a burst are recorded once).
    #[arg(long, default_value = "200ms")]
    pub debounce: String,
    /// Stop after this long (for scripts); default: until interrupted.
    #[arg(long = "for")]
    pub run_for: Option<String>,
    /// Only paths matching this glob (gitignore syntax); repeat for more.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Never paths matching this glob (gitignore syntax); repeat for more.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Also report hidden files and directories (.env, .github/); .git and .baton never.
    #[arg(long)]
    pub hidden: bool,
    /// Hash contents: report other paths with the same content, and moves by content.
    #[arg(long)]
    pub report_duplicates: bool,
}

/// Which paths the watcher reports: never Baton's own files or git's, nor gitignored or
/// excluded ones, nor hidden ones unless asked; when includes are given, only those.
struct Filter {
    root: PathBuf,
    gitignore: Gitignore,
    hidden: bool,
    exclude: Gitignore,
    include: Option<Gitignore>,
}

fn globs(root: &Path, flag: &str, patterns: &[String]) -> CliResult<Gitignore> {
    let mut b = GitignoreBuilder::new(root);
    b.allow_unclosed_class(false);
    for p in patterns {
        if p.trim().is_empty() || p.trim_start().starts_with('!') {
            return Err(CliError::invalid(format!("--{flag} '{p}' is not a glob"))
                .with_hint("give a gitignore pattern such as *.rs, src/ or docs/**/*.md"));
        }
        b.add_line(None, p).map_err(|e| {
            CliError::invalid(format!("--{flag} '{p}' is not a valid glob: {e}"))
                .with_hint("gitignore syntax: *.rs, src/, docs/**/*.md, [ab].txt")
        })?;
    }
    b.build().map_err(|e| {
        CliError::invalid(format!("--{flag}: {e}"))
            .with_hint("gitignore syntax: *.rs, src/, docs/**/*.md")
    })
}

impl Filter {
    fn new(root: &Path, args: &WatchArgs) -> CliResult<Filter> {
        let mut b = GitignoreBuilder::new(root);
        b.add(root.join(".gitignore"));
        let gitignore = b.build().unwrap_or_else(|_| Gitignore::empty());
        Ok(Filter {
            root: root.to_path_buf(),
            gitignore,
            hidden: args.hidden,
            exclude: globs(root, "exclude", &args.exclude)?,
            include: if args.include.is_empty() {
                None
            } else {
                Some(globs(root, "include", &args.include)?)
            },
        })
    }

    /// Whether a path (relative) is never reported, nor anything under it. Under
    /// `.baton/` only the runner's task worktrees are watched, each by the same rules.
    fn skipped(&self, rel: &Path, is_dir: bool) -> bool {
        match in_worktree(rel) {
            Some(Some((_, inner))) => self.skipped_in_tree(inner, is_dir),
            Some(None) => !is_dir,
            None => self.skipped_in_tree(rel, is_dir),
        }
    }

    fn skipped_in_tree(&self, rel: &Path, is_dir: bool) -> bool {
        let mut parts = rel.components().map(|c| c.as_os_str().to_string_lossy());
        let Some(first) = parts.next() else {
            return true;
        };
        if first == ".git" || first == ".baton" {
            return true;
        }
        if !self.hidden
            && rel
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        {
            return true;
        }
        self.gitignore
            .matched_path_or_any_parents(rel, is_dir)
            .is_ignore()
            || self
                .exclude
                .matched_path_or_any_parents(rel, is_dir)
                .is_ignore()
    }

    /// The project-relative path (with `/`) when `path` is reported.
    fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let is_dir = path.is_dir();
        if self.skipped(rel, is_dir) {
            return None;
        }
        // In a worktree, the path inside it is what the globs are about.
        let inner = match in_worktree(rel) {
            Some(Some((_, inner))) => inner,
            Some(None) => return None,
            None => rel,
        };
        if let Some(include) = &self.include {
            if !include
                .matched_path_or_any_parents(inner, is_dir)
                .is_ignore()
            {
                return None;
            }
        }
        Some(rel.to_string_lossy().replace('\\', "/"))
    }
}

/// `.baton/worktrees/NAME/REST`: `Some(Some((NAME, REST)))`; `.baton`, `.baton/worktrees`
/// and a worktree's own folder: `Some(None)`; anything else under `.baton/`, or outside
/// it: `None` (the ordinary rules apply, which skip `.baton/`).
pub(crate) fn in_worktree(rel: &Path) -> Option<Option<(&str, &Path)>> {
    let mut parts = rel.components();
    if parts.next()?.as_os_str() != ".baton" {
        return None;
    }
    match parts.next() {
        None => return Some(None),
        Some(c) if c.as_os_str() != "worktrees" => return None,
        Some(_) => {}
    }
    let Some(name) = parts.next() else {
        return Some(None);
    };
    let inner = parts.as_path();
    if inner.as_os_str().is_empty() {
        return Some(None);
    }
    Some(Some((name.as_os_str().to_str()?, inner)))
}

/// Who made a change, and where in the repository: a change in a task's worktree is its
/// run's agent's, at the same path in the repository; one in the checkout is `editor`'s
/// (`--editor`), or else the reservation holder's, as core decides.
fn attribute(
    path: &str,
    editor: Option<&str>,
    owners: &HashMap<String, String>,
) -> (Option<String>, String) {
    match in_worktree(Path::new(path)) {
        Some(Some((name, inner))) => (
            owners.get(name).cloned(),
            inner.to_string_lossy().replace('\\', "/"),
        ),
        _ => (editor.map(str::to_string), path.to_string()),
    }
}

/// Files larger than this are not hashed.
const MAX_HASHED: u64 = 64 << 20;

/// The content hash of every reported file (`--report-duplicates`).
#[derive(Default)]
struct Hashes {
    by_path: HashMap<String, String>,
    by_hash: HashMap<String, BTreeSet<String>>,
}

impl Hashes {
    /// A regular, non-empty file's SHA-256 (empty files are all alike: never duplicates).
    fn of(path: &Path) -> Option<String> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() || meta.len() == 0 || meta.len() > MAX_HASHED {
            return None;
        }
        baton_core::auth::sha256_hex(std::fs::File::open(path).ok()?).ok()
    }

    /// Every reported file under the root, hashed.
    fn scan(filter: &Filter) -> Hashes {
        let mut hashes = Hashes::default();
        let walk = ignore::WalkBuilder::new(&filter.root)
            .standard_filters(false)
            .filter_entry({
                let root = filter.root.clone();
                let filter = Filter {
                    root: filter.root.clone(),
                    gitignore: filter.gitignore.clone(),
                    hidden: filter.hidden,
                    exclude: filter.exclude.clone(),
                    include: None,
                };
                move |e| {
                    let rel = e.path().strip_prefix(&root).unwrap_or(e.path());
                    rel.as_os_str().is_empty()
                        || !filter.skipped(rel, e.file_type().is_some_and(|t| t.is_dir()))
                }
            })
            .build();
        for entry in walk.flatten() {
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if let (Some(rel), Some(hash)) =
                (filter.relative(entry.path()), Hashes::of(entry.path()))
            {
                hashes.set(&rel, Some(hash));
            }
        }
        hashes
    }

    fn remove(&mut self, rel: &str) -> Option<String> {
        let hash = self.by_path.remove(rel)?;
        if let Some(paths) = self.by_hash.get_mut(&hash) {
            paths.remove(rel);
            if paths.is_empty() {
                self.by_hash.remove(&hash);
            }
        }
        Some(hash)
    }

    fn set(&mut self, rel: &str, hash: Option<String>) {
        self.remove(rel);
        if let Some(hash) = hash {
            self.by_hash
                .entry(hash.clone())
                .or_default()
                .insert(rel.to_string());
            self.by_path.insert(rel.to_string(), hash);
        }
    }

    /// Everything under a renamed directory moves with it.
    fn move_tree(&mut self, from: &str, to: &str) {
        for old in self.under(from) {
            let hash = self.remove(&old);
            self.set(&format!("{to}/{}", &old[from.len() + 1..]), hash);
        }
    }

    /// The known paths inside a directory.
    fn under(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.by_path
            .keys()
            .filter(|p| p.starts_with(&prefix))
            .cloned()
            .collect()
    }

    /// A removed directory takes everything under it.
    fn remove_tree(&mut self, dir: &str) {
        for p in self.under(dir) {
            self.remove(&p);
        }
    }

    /// The other paths with this content (at most 100).
    fn others(&self, rel: &str, hash: &str) -> Vec<String> {
        self.by_hash
            .get(hash)
            .map(|paths| {
                paths
                    .iter()
                    .filter(|p| *p != rel)
                    .take(100)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What a burst did to one path.
#[derive(Clone, Debug, PartialEq)]
struct Change {
    kind: &'static str,
    from: Option<String>,
}

/// The changes of one burst, by path, folded so each path is recorded once with what
/// happened to it overall: created then written is created, created then removed is
/// nothing, removed then created is modified, moved then written is still a move.
#[derive(Default)]
struct Burst(BTreeMap<String, Change>);

impl Burst {
    fn add(&mut self, path: String, kind: &'static str, from: Option<String>) {
        let before = self.0.get(&path).map(|c| c.kind);
        match (before, kind) {
            (Some("created" | "renamed"), "modified") => {}
            (Some("created"), "removed") => {
                self.0.remove(&path);
            }
            (Some("removed"), "created") => {
                self.0.insert(
                    path,
                    Change {
                        kind: "modified",
                        from: None,
                    },
                );
            }
            _ => {
                self.0.insert(path, Change { kind, from });
            }
        }
    }

    /// `from` moved to `to` (either may be unreported: then it is a removal or a write).
    fn rename(&mut self, from: Option<String>, to: Option<String>) {
        match (from, to) {
            (Some(from), Some(to)) => match self.0.remove(&from) {
                // Made in this burst, then moved: made where it landed.
                Some(Change {
                    kind: "created", ..
                }) => self.add(to, "created", None),
                Some(Change {
                    kind: "renamed",
                    from: Some(first),
                }) => self.add(to, "renamed", Some(first)),
                _ => self.add(to, "renamed", Some(from)),
            },
            (Some(from), None) => self.add(from, "removed", None),
            // A temporary file saved into place (editors' atomic save).
            (None, Some(to)) => self.add(to, "modified", None),
            (None, None) => {}
        }
    }
}

/// Folds a burst of raw notifications into one change per reported path.
fn fold(events: Vec<notify::Event>, filter: &Filter) -> Burst {
    use notify::event::{ModifyKind, RenameMode};
    // Paths of moves seen whole, so their halves are not also a removal and a creation.
    let mut paired = std::collections::HashSet::new();
    for ev in &events {
        if let EventKind::Modify(ModifyKind::Name(RenameMode::Both)) = ev.kind {
            paired.extend(ev.paths.iter().cloned());
        }
    }
    let mut burst = Burst::default();
    for ev in events {
        match ev.kind {
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if ev.paths.len() == 2 => {
                burst.rename(filter.relative(&ev.paths[0]), filter.relative(&ev.paths[1]));
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                for p in ev.paths.iter().filter(|p| !paired.contains(*p)) {
                    if let Some(rel) = filter.relative(p) {
                        burst.add(rel, "removed", None);
                    }
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                for p in ev.paths.iter().filter(|p| !paired.contains(*p)) {
                    if let Some(rel) = filter.relative(p) {
                        burst.add(rel, "created", None);
                    }
                }
            }
            EventKind::Modify(ModifyKind::Name(_)) => {
                for p in &ev.paths {
                    if let Some(rel) = filter.relative(p) {
                        let kind = if p.exists() { "modified" } else { "removed" };
                        burst.add(rel, kind, None);
                    }
                }
            }
            ref k => {
                let Some(kind) = kind(k) else { continue };
                for p in &ev.paths {
                    if let Some(rel) = filter.relative(p) {
                        burst.add(rel, kind, None);
                    }
                }
            }
        }
    }
    burst
}

/// With hashes: a removal and a creation of the same content become a move; each change
/// gets its content hash and the other paths with that content; the index follows.
fn hash_burst(burst: Burst, hashes: &mut Hashes, root: &Path) -> Vec<FileChange> {
    let mut changes: Vec<(String, Change, Option<String>)> = burst
        .0
        .into_iter()
        .map(|(path, change)| {
            let hash = match change.kind {
                "removed" => None,
                _ => Hashes::of(&root.join(&path)),
            };
            (path, change, hash)
        })
        .collect();
    // Moves by content: a removed path whose last known hash a created path now has.
    let removed: Vec<(usize, String)> = changes
        .iter()
        .enumerate()
        .filter(|(_, (_, c, _))| c.kind == "removed")
        .filter_map(|(i, (p, _, _))| hashes.by_path.get(p).map(|h| (i, h.clone())))
        .collect();
    let mut gone = Vec::new();
    for (i, old_hash) in removed {
        let landed = changes
            .iter()
            .position(|(_, c, h)| c.kind == "created" && h.as_deref() == Some(&old_hash));
        if let Some(j) = landed {
            let from = changes[i].0.clone();
            changes[j].1 = Change {
                kind: "renamed",
                from: Some(from),
            };
            gone.push(i);
        }
    }
    let mut out = Vec::new();
    for (i, (path, change, hash)) in changes.into_iter().enumerate() {
        if gone.contains(&i) {
            hashes.remove(&path);
            continue;
        }
        if let Some(from) = &change.from {
            hashes.remove(from);
            hashes.move_tree(from, &path);
        }
        match change.kind {
            "removed" => {
                hashes.remove(&path);
                hashes.remove_tree(&path);
            }
            _ => hashes.set(&path, hash.clone()),
        }
        let duplicates = hash
            .as_deref()
            .map(|h| hashes.others(&path, h))
            .unwrap_or_default();
        out.push(FileChange {
            path,
            kind: change.kind.to_string(),
            from: change.from,
            sha256: hash,
            duplicates,
        });
    }
    out
}

/// Which agent works in which task worktree: the runs in progress, by the worktree's name.
fn worktree_owners(api: &dyn baton_core::Api) -> CliResult<HashMap<String, String>> {
    let runs = api.list_runs(&baton_core::api::RunFilter {
        status: vec![baton_core::RunStatus::Running],
        ..Default::default()
    })?;
    Ok(runs
        .into_iter()
        .filter_map(|r| {
            let name = Path::new(r.worktree.as_deref()?)
                .file_name()?
                .to_str()?
                .to_string();
            Some((name, r.agent))
        })
        .collect())
}

fn kind(k: &EventKind) -> Option<&'static str> {
    match k {
        EventKind::Create(_) => Some("created"),
        EventKind::Modify(notify::event::ModifyKind::Metadata(_)) => None,
        EventKind::Modify(_) => Some("modified"),
        EventKind::Remove(_) => Some("removed"),
        _ => None,
    }
}

fn duration(flag: &str, text: &str) -> CliResult<Duration> {
    parse_duration(text).ok_or_else(|| {
        CliError::invalid(format!("--{flag} '{text}' is not a duration"))
            .with_hint("for example 200ms, 30s, 10m")
    })
}

pub fn run(ctx: &Context, args: WatchArgs) -> CliResult {
    let debounce = duration("debounce", &args.debounce)?;
    let deadline = args
        .run_for
        .as_deref()
        .map(|t| duration("for", t))
        .transpose()?
        .map(|d| Instant::now() + d);
    let project = ctx.project()?;
    let api = ctx.api()?;
    let filter = Filter::new(&project.root, &args)?;
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).map_err(|e| {
        CliError::new(
            ErrorClass::Unavailable,
            "watch_unavailable",
            format!("cannot watch files: {e}"),
        )
    })?;
    watcher
        .watch(&project.root, RecursiveMode::Recursive)
        .map_err(|e| {
            CliError::new(
                ErrorClass::Unavailable,
                "watch_unavailable",
                format!("cannot watch {}: {e}", project.root.display()),
            )
            .with_hint("on Linux, raise fs.inotify.max_user_watches for large trees")
        })?;
    // Hash the tree after the watch starts, so nothing changed meanwhile is missed.
    let mut hashes = args.report_duplicates.then(|| Hashes::scan(&filter));
    if ctx.out.mode == Mode::Human {
        eprintln!("Watching {} (Ctrl-C to stop)", project.root.display());
    }
    let stdout = std::io::stdout();
    loop {
        let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if remaining == Some(Duration::ZERO) {
            return Ok(());
        }
        // Wait for the first change of a burst, then gather until it goes quiet.
        let first = match remaining {
            Some(r) => match rx.recv_timeout(r) {
                Ok(ev) => ev,
                Err(mpsc::RecvTimeoutError::Timeout) => return Ok(()),
                Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            },
            None => match rx.recv() {
                Ok(ev) => ev,
                Err(_) => return Ok(()),
            },
        };
        let mut raw: Vec<notify::Event> = first.into_iter().collect();
        while let Ok(ev) = rx.recv_timeout(debounce) {
            raw.extend(ev);
        }
        let burst = fold(raw, &filter);
        if burst.0.is_empty() {
            continue;
        }
        let changes: Vec<FileChange> = match hashes.as_mut() {
            Some(hashes) => hash_burst(burst, hashes, &project.root),
            None => burst
                .0
                .into_iter()
                .map(|(path, c)| FileChange {
                    path,
                    kind: c.kind.to_string(),
                    from: c.from,
                    ..FileChange::default()
                })
                .collect(),
        };
        if changes.is_empty() {
            continue;
        }
        // Only an --agent typed for this command names the editor: the identity of
        // whoever runs the watcher (BATON_AGENT) says nothing about who edits.
        let editor = ctx.agent.as_deref().filter(|_| ctx.agent_on_command_line);
        let owners = if changes.iter().any(|c| c.path.starts_with(".baton/")) {
            worktree_owners(api.as_ref())?
        } else {
            HashMap::new()
        };
        let mut groups: BTreeMap<Option<String>, Vec<FileChange>> = BTreeMap::new();
        for mut change in changes {
            let (who, path) = attribute(&change.path, editor, &owners);
            change.path = path;
            change.from = change.from.map(|f| attribute(&f, editor, &owners).1);
            groups.entry(who).or_default().push(change);
        }
        let mut reports = Vec::new();
        for (who, changes) in groups {
            reports.extend(api.record_changes(who.as_deref(), &changes)?);
        }
        let mut w = stdout.lock();
        for r in &reports {
            match ctx.out.mode {
                Mode::Json => {
                    serde_json::to_writer(&mut w, r).map_err(std::io::Error::from)?;
                    writeln!(w)?;
                }
                Mode::Human => {
                    let from = r
                        .from
                        .as_ref()
                        .map(|f| format!(" (from {f})"))
                        .unwrap_or_default();
                    writeln!(w, "{}  {}{from}  by {}", r.kind, r.path, r.actor)?;
                    if !r.duplicates.is_empty() {
                        writeln!(w, "  same content as {}", r.duplicates.join(", "))?;
                    }
                }
            }
            for v in &r.violated {
                eprintln!(
                    "warning: {} edited {}, which {} reserved ({}, until {})",
                    r.actor, r.path, v.agent, v.glob, v.expires_at
                );
            }
        }
        w.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(b: &Burst) -> Vec<(String, &'static str, Option<String>)> {
        b.0.iter()
            .map(|(p, c)| (p.clone(), c.kind, c.from.clone()))
            .collect()
    }

    #[test]
    fn a_burst_folds_each_path_into_what_happened_overall() {
        let mut b = Burst::default();
        b.add("new.rs".into(), "created", None);
        b.add("new.rs".into(), "modified", None);
        b.add("tmp.rs".into(), "created", None);
        b.add("tmp.rs".into(), "removed", None);
        b.add("old.rs".into(), "removed", None);
        b.add("old.rs".into(), "created", None);
        b.rename(Some("a.rs".into()), Some("b.rs".into()));
        b.add("b.rs".into(), "modified", None);
        b.rename(Some("b.rs".into()), Some("c.rs".into()));
        b.add("made.rs".into(), "created", None);
        b.rename(Some("made.rs".into()), Some("placed.rs".into()));
        b.rename(None, Some("saved.rs".into()));
        b.rename(Some("left.rs".into()), None);
        assert_eq!(
            kinds(&b),
            [
                ("c.rs".into(), "renamed", Some("a.rs".into())),
                ("left.rs".into(), "removed", None),
                ("new.rs".into(), "created", None),
                ("old.rs".into(), "modified", None),
                ("placed.rs".into(), "created", None),
                ("saved.rs".into(), "modified", None),
            ]
        );
    }

    #[test]
    fn hashes_follow_moves_and_name_the_other_copies() {
        let mut h = Hashes::default();
        h.set("a/x", Some("1".into()));
        h.set("a/y", Some("1".into()));
        h.set("b", Some("2".into()));
        assert_eq!(h.others("a/x", "1"), ["a/y"]);
        h.move_tree("a", "c");
        assert_eq!(h.others("z", "1"), ["c/x", "c/y"]);
        h.remove_tree("c");
        assert!(h.others("z", "1").is_empty());
        assert!(!h.by_hash.contains_key("1"), "no empty sets left");
        assert_eq!(h.others("z", "2"), ["b"]);
    }
}
