//! Finding the project (walk up to `.baton/`) and creating it (`baton init`).

use std::path::{Path, PathBuf};

use baton_core::ErrorClass;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, CliResult};

pub const DIR: &str = ".baton";
pub const CONFIG: &str = "config.toml";
pub const DEFAULT_DATABASE: &str = "baton.db";
/// Names the project's `.baton` folder explicitly (set by the runner for its agents).
pub const DIR_ENV: &str = "BATON_DIR";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub name: String,
    /// The database file, relative to `.baton/`.
    #[serde(default = "default_database")]
    pub database: String,
    /// A `baton serve` to talk to instead of the database (`BATON_URL` overrides it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The PostgreSQL database the board moved to (`baton migrate`), without its password;
    /// commands use it instead of the old file. `BATON_DATABASE_URL` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// This machine's copy of the moved board's whole URL (password included), beside the
/// shared config's redacted one; `.baton/.gitignore` keeps it out of git, and only its
/// owner may read it.
pub const MOVED_URL_FILE: &str = "database.url";

fn default_database() -> String {
    DEFAULT_DATABASE.into()
}

#[derive(Debug, Clone)]
pub struct Project {
    /// The directory that holds `.baton/`.
    pub root: PathBuf,
    pub config: Config,
}

impl Project {
    pub fn dir(&self) -> PathBuf {
        self.root.join(DIR)
    }

    pub fn database(&self) -> PathBuf {
        self.dir().join(&self.config.database)
    }

    /// The PostgreSQL database the board moved to, if `baton migrate` moved it: this
    /// machine's whole URL, else the config's.
    pub fn moved_to(&self) -> Option<String> {
        let local = std::fs::read_to_string(self.dir().join(MOVED_URL_FILE)).ok();
        local
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .or_else(|| {
                self.config
                    .database_url
                    .clone()
                    .filter(|u| !u.trim().is_empty())
            })
    }

    /// Records that the board now lives at `url`: the config (shared, in git) gets it
    /// without its password; this machine keeps the whole URL in a file only its owner
    /// reads. The rest of the config is kept as it was.
    pub fn record_move(&self, url: &str, redacted: &str) -> CliResult<()> {
        let path = self.dir().join(CONFIG);
        let text = std::fs::read_to_string(&path)?;
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
            CliError::invalid(format!("{} is not valid: {}", path.display(), e.message()))
        })?;
        table.insert("database_url".into(), toml::Value::String(redacted.into()));
        let body = format!(
            "# Baton project settings. The database path is relative to this directory;\n\
             # database_url is where `baton migrate` moved the board.\n{}",
            toml::to_string(&table).map_err(|e| CliError::invalid(e.to_string()))?
        );
        let tmp = self.dir().join(format!("{CONFIG}.tmp"));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &path)?;
        if url != redacted {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let local = self.dir().join(MOVED_URL_FILE);
            let _ = std::fs::remove_file(&local);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&local)?;
            writeln!(file, "{url}")?;
        }
        Ok(())
    }

    /// The project `BATON_DIR` names (a `.baton` folder: the runner points its agents at
    /// the main checkout's, from their worktrees), else the nearest directory above `start`
    /// holding `.baton/config.toml`.
    pub fn find(start: &Path) -> CliResult<Project> {
        if let Some(dir) = std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            let config = dir.join(CONFIG);
            if !config.is_file() {
                return Err(CliError::new(
                    ErrorClass::NotFound,
                    "no_project",
                    format!("{DIR_ENV} names {}, which holds no {CONFIG}", dir.display()),
                )
                .with_hint(format!(
                    "point {DIR_ENV} at a project's .baton folder, or unset it"
                )));
            }
            let root = dir.parent().unwrap_or(&dir).to_path_buf();
            return Ok(Project {
                root,
                config: read_config(&config)?,
            });
        }
        for dir in start.ancestors() {
            let config = dir.join(DIR).join(CONFIG);
            let here = if config.is_file() {
                Some(Project {
                    root: dir.to_path_buf(),
                    config: read_config(&config)?,
                })
            } else {
                None
            };
            // A linked git worktree shares its main checkout's board: a committed
            // config.toml comes along into the worktree, but the board does not.
            if let Some(main) = shared_board(dir, here.as_ref())? {
                return Ok(main);
            }
            if let Some(project) = here {
                return Ok(project);
            }
        }
        Err(CliError::new(
            ErrorClass::NotFound,
            "no_project",
            format!(
                "no Baton project here: no {DIR}/ in {} or any parent",
                start.display()
            ),
        )
        .with_hint("run `baton init` at the root of your repository"))
    }
}

/// The main checkout of `dir` when `dir` is the top of a linked git worktree (its `.git` is
/// a file naming a folder under the main repository's `.git/worktrees/`), read from git's
/// files without running git.
pub fn main_checkout(dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(dir.join(".git")).ok()?;
    let gitdir = dir.join(text.trim().strip_prefix("gitdir:")?.trim());
    let common = match std::fs::read_to_string(gitdir.join("commondir")) {
        Ok(rel) => gitdir.join(rel.trim()),
        Err(_) => gitdir,
    };
    let common = common.canonicalize().ok()?;
    // A bare repository has no checkout whose board this could be.
    if common.file_name()? != ".git" {
        return None;
    }
    let main = common.parent()?.to_path_buf();
    (main != dir.canonicalize().ok()?).then_some(main)
}

/// The main checkout's project, when `dir` is a linked worktree of a repository set up
/// with Baton and `here` (the worktree's own `.baton/`, if any) holds no board of its own.
fn shared_board(dir: &Path, here: Option<&Project>) -> CliResult<Option<Project>> {
    if !dir.join(".git").is_file() {
        return Ok(None);
    }
    let own_board = here
        .is_some_and(|p| p.database().exists() || p.moved_to().is_some() || p.config.url.is_some());
    if own_board {
        return Ok(None);
    }
    let Some(main) = main_checkout(dir) else {
        return Ok(None);
    };
    let config = main.join(DIR).join(CONFIG);
    if !config.is_file() {
        return Ok(None);
    }
    Ok(Some(Project {
        root: main,
        config: read_config(&config)?,
    }))
}

fn read_config(path: &Path) -> CliResult<Config> {
    let text = std::fs::read_to_string(path)?;
    toml::from_str(&text).map_err(|e| {
        CliError::new(
            ErrorClass::Invalid,
            "bad_config",
            format!("{} is not valid: {}", path.display(), e.message()),
        )
        .with_hint("fix the file, or move it away and run `baton init` again")
    })
}

/// Where `init` puts `.baton/`: the enclosing git repository's root, else `start`. In a
/// linked worktree of a repository already set up, its main checkout: one board for all.
pub fn init_root(start: &Path) -> PathBuf {
    let root = start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(start)
        .to_path_buf();
    match main_checkout(&root) {
        Some(main) if main.join(DIR).join(CONFIG).is_file() => main,
        _ => root,
    }
}

/// `.baton/.gitignore`: everything in `.baton/` is this machine's (databases, fences,
/// server state, runner locks, clones, worktrees, accounts, logs) except what a team
/// shares.
const GITIGNORE: &str = "\
# Everything in .baton/ is this machine's (databases, fences, server state, runner
# accounts and worktrees, logs), except what a team shares: the settings, the agents'
# instructions and the project's provider definitions.
*
!.gitignore
!config.toml
!AGENTS.md
!CLAUDE.md
!providers/
!providers/*.toml
";

/// What earlier versions wrote; such a file is replaced by [`GITIGNORE`] (one a person
/// edited is left alone).
const OLD_GITIGNORE: &str = "\
# Baton's databases and runtime files stay out of git; config.toml can be shared.
*.db
*.db-wal
*.db-shm
*.db-journal
*.pid
*.log
# The runner's: provider accounts (they may hold keys), run logs, task worktrees.
accounts.toml
runs/
worktrees/
";

/// Writes `.baton/.gitignore` when it is missing or still an earlier version's default.
fn ensure_gitignore(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(".gitignore");
    match std::fs::read_to_string(&path) {
        Ok(text) if text != OLD_GITIGNORE => Ok(()),
        _ => std::fs::write(path, GITIGNORE),
    }
}

/// Creates `.baton/` (config, .gitignore) under `root` unless it exists. Returns the project
/// and whether the config was written now.
pub fn create(root: &Path, name: Option<&str>) -> CliResult<(Project, bool)> {
    let dir = root.join(DIR);
    let config_path = dir.join(CONFIG);
    if config_path.is_file() {
        let config = read_config(&config_path)?;
        ensure_gitignore(&dir)?;
        return Ok((
            Project {
                root: root.to_path_buf(),
                config,
            },
            false,
        ));
    }
    let name = name
        .map(str::to_string)
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "baton".into());
    if name.trim().is_empty() || name.contains(['\n', '"']) {
        return Err(CliError::invalid(format!(
            "'{name}' cannot be a project name"
        )));
    }
    std::fs::create_dir_all(&dir)?;
    let config = Config {
        name,
        database: default_database(),
        url: None,
        database_url: None,
    };
    let body = format!(
        "# Baton project settings. The database path is relative to this directory.\n{}",
        toml::to_string(&config).map_err(|e| CliError::invalid(e.to_string()))?
    );
    // Write then rename, so a crash never leaves a half-written config.
    let tmp = dir.join(format!("{CONFIG}.tmp"));
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, &config_path)?;
    ensure_gitignore(&dir)?;
    Ok((
        Project {
            root: root.to_path_buf(),
            config,
        },
        true,
    ))
}
