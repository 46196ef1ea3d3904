//! The CLI remembers each agent's latest fence per task (`.baton/fences/<agent>.json`), so
//! `done`, `block`, `note` and `heartbeat` carry it without the agent passing `--fence`:
//! a zombie process from an older claim is refused instead of finishing someone's task.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use baton_core::TaskId;

fn file(project_dir: &Path, agent: &str) -> PathBuf {
    // Agent names are validated to [A-Za-z0-9._-@:+]; none of these can escape the folder.
    project_dir.join("fences").join(format!("{agent}.json"))
}

fn read(path: &Path) -> BTreeMap<String, u64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The fence this agent last got for `task`, if it remembers one.
pub fn recall(project_dir: &Path, agent: &str, task: TaskId) -> Option<u64> {
    read(&file(project_dir, agent))
        .get(&task.to_string())
        .copied()
}

fn write(path: &Path, map: &BTreeMap<String, u64>) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = path.with_extension(format!("{TMP}{}", std::process::id()));
    if let Ok(text) = serde_json::to_string(map) {
        // Best effort: the fence is also in the pickup output; losing this file only
        // means later calls carry no fence.
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
    let _ = std::fs::remove_file(&tmp);
    sweep(dir);
}

/// The extension of a file being written (`claude.tmp4242`), renamed into place when done.
const TMP: &str = "tmp";

/// How old another process's half-written file must be before it counts as abandoned: a
/// live process renames its file within milliseconds.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes files that processes killed between writing and renaming left behind.
fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let abandoned = path
            .extension()
            .and_then(|e| e.to_str())
            .and_then(|e| e.strip_prefix(TMP))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age > ABANDONED_AFTER);
        if abandoned {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub fn remember(project_dir: &Path, agent: &str, task: TaskId, fence: u64) {
    let path = file(project_dir, agent);
    let mut map = read(&path);
    map.insert(task.to_string(), fence);
    write(&path, &map);
}

pub fn forget(project_dir: &Path, agent: &str, task: TaskId) {
    let path = file(project_dir, agent);
    let mut map = read(&path);
    if map.remove(&task.to_string()).is_some() {
        write(&path, &map);
    }
}
