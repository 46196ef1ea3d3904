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
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if let Ok(text) = serde_json::to_string(map) {
        // Best effort: the fence is also in the pickup output; losing this file only
        // means later calls carry no fence.
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, path);
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
