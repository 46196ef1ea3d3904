//! Distinct identities for agent sessions without hand-editing config. `BATON_AGENT` may
//! be a pattern, `claude-*`: the long-lived process a client starts per session (`baton
//! mcp`) claims the lowest free `claude-N`, holding a lock file in `.baton/identities/` for
//! as long as it runs, so sessions running at once never share a name and a later session
//! reuses a freed one. Commands run by the same session (its shell tool, its hooks) find
//! that identity by process ancestry: the lock names the client process that started the
//! claimer, and a command whose ancestors include it is that session.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use baton_core::ErrorClass;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

const DIR: &str = "identities";
const MAX_NUMBER: u32 = 999;

/// The lock this process holds for its claimed identity, kept until it exits.
static HELD: OnceLock<File> = OnceLock::new();

#[derive(Serialize, Deserialize)]
struct Claim {
    name: String,
    /// The claiming process (`baton mcp`).
    pid: u32,
    /// The client that started it (the agent's session).
    client: u32,
}

/// Whether `name` asks for a numbered identity (`claude-*`).
pub fn is_pattern(name: &str) -> bool {
    name.contains('*')
}

fn prefix(pattern: &str) -> CliResult<&str> {
    match pattern.strip_suffix('*') {
        Some(prefix) if !prefix.contains('*') && !prefix.is_empty() => Ok(prefix),
        _ => Err(
            CliError::invalid(format!("'{pattern}' is not an identity pattern"))
                .with_hint("a pattern ends in one *, after a name: BATON_AGENT='claude-*'"),
        ),
    }
}

/// Claims the lowest free name of `pattern` for this process's lifetime.
pub fn claim(baton_dir: &Path, pattern: &str) -> CliResult<String> {
    let prefix = prefix(pattern)?;
    let dir = baton_dir.join(DIR);
    std::fs::create_dir_all(&dir)?;
    for n in 1..=MAX_NUMBER {
        let name = format!("{prefix}{n}");
        baton_core::board::validate_agent_name(&name)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path(&dir, &name))?;
        if file.try_lock().is_err() {
            continue;
        }
        let claim = Claim {
            name: name.clone(),
            pid: std::process::id(),
            client: std::os::unix::process::parent_id(),
        };
        file.set_len(0)?;
        file.rewind()?;
        let text = serde_json::to_vec(&claim).map_err(|e| CliError::invalid(e.to_string()))?;
        file.write_all(&text)?;
        file.flush()?;
        let _ = HELD.set(file);
        return Ok(name);
    }
    Err(CliError::new(
        ErrorClass::Conflict,
        "no_identity_free",
        format!("all {MAX_NUMBER} names of {pattern} are taken by running sessions"),
    )
    .with_hint("stop sessions you no longer use, or set BATON_AGENT to a name of its own"))
}

fn lock_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.lock"))
}

/// The identity a session's process claimed, when this command runs inside that session
/// (the session's client is one of its ancestors). Claims whose process is gone are
/// skipped.
pub fn inherited(baton_dir: &Path, pattern: Option<&str>) -> Option<String> {
    let prefix = pattern.map(prefix).transpose().ok()?;
    let ancestors = ancestors();
    let entries = std::fs::read_dir(baton_dir.join(DIR)).ok()?;
    let mut best: Option<(usize, String)> = None;
    for entry in entries.flatten() {
        let Ok(mut file) = File::open(entry.path()) else {
            continue;
        };
        let mut text = String::new();
        if file.read_to_string(&mut text).is_err() {
            continue;
        }
        let Ok(claim) = serde_json::from_str::<Claim>(&text) else {
            continue;
        };
        if prefix.is_some_and(|p| !claim.name.starts_with(p)) {
            continue;
        }
        // Nearest ancestor wins (a session started inside another session's shell).
        let Some(depth) = ancestors.iter().position(|&a| a == claim.client) else {
            continue;
        };
        if !held(&file) {
            continue;
        }
        if best.as_ref().is_none_or(|(d, _)| depth < *d) {
            best = Some((depth, claim.name));
        }
    }
    best.map(|(_, name)| name)
}

/// Whether some process still holds the lock on `file` (its claimer is alive).
fn held(file: &File) -> bool {
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// This process's ancestors, parent first (Linux `/proc`; elsewhere only the parent).
fn ancestors() -> Vec<u32> {
    let mut chain = Vec::new();
    let mut pid = std::os::unix::process::parent_id();
    while pid > 1 && chain.len() < 64 {
        chain.push(pid);
        match parent_of(pid) {
            Some(parent) => pid = parent,
            None => break,
        }
    }
    chain
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_need_a_name_before_one_star() {
        assert!(is_pattern("claude-*"));
        assert!(!is_pattern("claude-1"));
        assert_eq!(prefix("claude-*").unwrap(), "claude-");
        assert!(prefix("*").is_err());
        assert!(prefix("a*b*").is_err());
        assert!(prefix("*-claude").is_err());
    }

    #[test]
    fn this_process_has_ancestors() {
        let chain = ancestors();
        assert_eq!(chain.first(), Some(&std::os::unix::process::parent_id()));
    }
}
