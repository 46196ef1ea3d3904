//! `baton watch`: records file changes under the project as events, attributed to the
//! editing agent (or to the holder of a reservation on the path), and flags edits to paths
//! someone else reserved.

use std::collections::BTreeMap;
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
pub struct WatchArgs {
    /// Quiet time that closes a burst of changes (changes in a burst are recorded once).
    #[arg(long, default_value = "200ms")]
    pub debounce: String,
    /// Stop after this long (for scripts); default: until interrupted.
    #[arg(long = "for")]
    pub run_for: Option<String>,
}

/// Paths the watcher never reports: Baton's own files, git's, and gitignored ones.
struct Filter {
    root: PathBuf,
    gitignore: Gitignore,
}

impl Filter {
    fn new(root: &Path) -> Filter {
        let mut b = GitignoreBuilder::new(root);
        b.add(root.join(".gitignore"));
        let gitignore = b.build().unwrap_or_else(|_| Gitignore::empty());
        Filter {
            root: root.to_path_buf(),
            gitignore,
        }
    }

    fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.root).ok()?;
        let first = rel
            .components()
            .next()?
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        if first == ".git" || first == ".baton" {
            return None;
        }
        if self
            .gitignore
            .matched_path_or_any_parents(rel, path.is_dir())
            .is_ignore()
        {
            return None;
        }
        Some(rel.to_string_lossy().replace('\\', "/"))
    }
}

fn kind(k: &EventKind) -> Option<&'static str> {
    match k {
        EventKind::Create(_) => Some("created"),
        EventKind::Modify(notify::event::ModifyKind::Name(_)) => Some("renamed"),
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
    let filter = Filter::new(&project.root);
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
        let mut burst: BTreeMap<String, &'static str> = BTreeMap::new();
        let mut add = |ev: notify::Result<notify::Event>| {
            if let Ok(ev) = ev {
                if let Some(k) = kind(&ev.kind) {
                    for p in &ev.paths {
                        if let Some(rel) = filter.relative(p) {
                            burst.insert(rel, k);
                        }
                    }
                }
            }
        };
        add(first);
        while let Ok(ev) = rx.recv_timeout(debounce) {
            add(ev);
        }
        if burst.is_empty() {
            continue;
        }
        let changes: Vec<FileChange> = burst
            .into_iter()
            .map(|(path, kind)| FileChange {
                path,
                kind: kind.to_string(),
            })
            .collect();
        let reports = api.record_changes(ctx.agent.as_deref(), &changes)?;
        let mut w = stdout.lock();
        for r in &reports {
            match ctx.out.mode {
                Mode::Json => {
                    serde_json::to_writer(&mut w, r).map_err(std::io::Error::from)?;
                    writeln!(w)?;
                }
                Mode::Human => writeln!(w, "{}  {}  by {}", r.kind, r.path, r.actor)?,
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
