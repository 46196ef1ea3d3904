//! The throw-away project: a git repository of the web shop, `.baton/` with the plan on
//! its board, and a runner provider whose agent is the demo's script.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use baton_core::{Api, Board};
use baton_sqlite::SqliteStore;

use super::shop;
use crate::error::{CliError, CliResult};
use crate::project::{self, Project};

/// The provider the demo's runner uses (its agents are `demo-1`, `demo-2`, ...).
pub const PROVIDER: &str = "demo";
const AGENT_SCRIPT: &str = include_str!("agent.sh");

/// A new empty directory under the system's temp dir, never inside `cwd`.
pub fn make_dir(cwd: &Path) -> CliResult<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("baton-demo-{}-{stamp}", std::process::id()));
    if dir.starts_with(cwd) {
        return Err(CliError::invalid(format!(
            "the demo would go in {}, inside the current directory",
            dir.display()
        ))
        .with_hint("set TMPDIR to a directory outside it, or run the demo from elsewhere"));
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// The shop's repository with one commit on `main`, and its Baton project.
pub fn create_project(root: &Path) -> CliResult<Project> {
    for (path, text) in shop::FILES {
        write(&root.join(path), text)?;
    }
    git(root, &["init", "-q", "-b", "main"])?;
    // Merges of approved work are committed by the runner as this identity.
    git(root, &["config", "user.name", "Baton demo"])?;
    git(root, &["config", "user.email", "demo@baton.invalid"])?;
    git(root, &["add", "."])?;
    git(root, &["commit", "-qm", "A shop with a catalogue"])?;
    let (project, _) = project::create(root, Some("web-shop"))?;
    SqliteStore::create(&project.database(), &project.config.name)?;
    Ok(project)
}

/// The plan on the board, as a person would add it (`baton task add --batch`).
pub fn add_plan(project: &Project) -> CliResult<Vec<baton_core::Task>> {
    let api = Board::new(SqliteStore::open(&project.database())?);
    Ok(api.add_tasks(baton_core::api::HUMAN, shop::tasks())?)
}

/// The agent script, the files each task's agent writes, and the provider that runs it.
pub fn write_agents(project: &Project, step: Duration, wait: Duration) -> CliResult<()> {
    let dir = project.dir().join("demo");
    let work = dir.join("work");
    for (n, step) in shop::PLAN.iter().enumerate() {
        let task = format!("T-{}", n + 1);
        for (path, text) in step.work {
            write(&work.join(&task).join(path), text)?;
        }
        if let Some(reply) = step.reply {
            write(&work.join(format!("{task}.reply")), reply)?;
        }
    }
    let script = dir.join("agent.sh");
    write(&script, AGENT_SCRIPT)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;

    let mut env = toml::Table::new();
    env.insert("BATON_DEMO_STEP".into(), seconds(step).into());
    env.insert(
        "BATON_DEMO_WAIT".into(),
        format!("{}s", wait.as_secs().max(1)).into(),
    );
    env.insert("BATON_DEMO_WORK".into(), work.display().to_string().into());
    let mut provider = toml::Table::new();
    provider.insert("name".into(), PROVIDER.into());
    provider.insert(
        "description".into(),
        "The scripted agent of `baton demo`".into(),
    );
    provider.insert("command".into(), script.display().to_string().into());
    provider.insert("args".into(), toml::Value::Array(Vec::new()));
    provider.insert("prompt".into(), "stdin".into());
    provider.insert("format".into(), "plain".into());
    provider.insert("env".into(), toml::Value::Table(env));
    let text = toml::to_string(&provider).map_err(|e| CliError::invalid(e.to_string()))?;
    write(
        &project
            .dir()
            .join("providers")
            .join(format!("{PROVIDER}.toml")),
        &text,
    )
}

/// `sleep`'s argument: seconds, with a fraction.
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn write(path: &Path, text: &str) -> CliResult<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> CliResult<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| {
            CliError::invalid(format!("cannot run git: {e}"))
                .with_hint("the demo needs git on PATH, as the runner does")
        })?;
    if out.status.success() {
        return Ok(());
    }
    Err(CliError::invalid(format!(
        "git {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}
