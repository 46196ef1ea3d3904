//! One module per command group. Each parses its arguments, calls the `Api`, and renders.

pub mod backup;
pub mod board;
pub mod code;
pub mod coord;
pub mod demo;
pub mod docs;
pub mod errand;
pub mod events;
pub mod export;
pub mod generate;
pub mod guard;
pub mod import;
pub mod init;
pub mod mcp;
pub mod merge;
pub mod messages;
pub mod migrate;
pub mod ops;
pub mod plan;
pub mod runner;
pub mod runs;
pub mod scan;
pub mod serve;
pub mod task;
pub mod team;
pub mod watch;
pub mod webhook;

use std::path::PathBuf;

use baton_core::{Api, Board};
use baton_sqlite::SqliteStore;

use baton_core::instance::{ProjectInfo, DEFAULT_PROJECT};

use crate::error::{CliError, CliResult};
use crate::output::Out;
use crate::project::Project;

fn exists(key: &str) -> CliError {
    CliError::new(
        baton_core::ErrorClass::Conflict,
        "project_exists",
        format!("project {key} already exists"),
    )
    .with_hint("pick another key; `baton project list` shows the taken ones")
}

/// A PostgreSQL board to use directly (`BATON_DATABASE_URL`), as a server would.
fn database_url() -> Option<String> {
    std::env::var("BATON_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// A PostgreSQL URL as given, or a clear error for anything else.
pub fn postgres_url(url: &str) -> CliResult<&str> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url);
    }
    Err(CliError::invalid(format!(
        "expected a PostgreSQL URL, not '{}'",
        baton_postgres::redact(url)
    ))
    .with_hint("for example postgres://baton:secret@db.internal:5432/baton"))
}

/// What every command gets: where it runs, who it is, how to print.
pub struct Context {
    pub cwd: PathBuf,
    /// Whether `--agent` was typed (not taken from BATON_AGENT): listing commands use it
    /// as a filter.
    pub agent_on_command_line: bool,
    pub agent: Option<String>,
    pub out: Out,
    pub project: std::cell::OnceCell<Project>,
    /// The project on a server (or on this machine's store) commands are for:
    /// `--project` / `BATON_PROJECT`; `None`: the default project.
    pub project_key: Option<String>,
}

impl Context {
    /// The project around `cwd` (found once per command).
    pub fn project(&self) -> CliResult<Project> {
        if let Some(p) = self.project.get() {
            return Ok(p.clone());
        }
        let found = Project::find(&self.cwd)?;
        Ok(self.project.get_or_init(|| found).clone())
    }

    /// The board: a server's when `BATON_URL` (or `url` in `.baton/config.toml`) names
    /// one, else the PostgreSQL database `BATON_DATABASE_URL` names, else the current
    /// project's database file, opened directly.
    pub fn api(&self) -> CliResult<Box<dyn Api>> {
        let key = self.project_key();
        if key == DEFAULT_PROJECT {
            return self.instance_api();
        }
        if let Some(url) = self.direct_database_url() {
            self.require_registered(key)?;
            let url = baton_postgres::project_url(&url, key);
            return Ok(Box::new(Board::new(baton_postgres::PostgresStore::open(
                &url,
            )?)));
        }
        if let Some(client) = self.client()? {
            return Ok(Box::new(client));
        }
        self.require_registered(key)?;
        let path = baton_server::backend::project_file(&self.project()?.database(), key);
        Ok(Box::new(Board::new(SqliteStore::open(&path)?)))
    }

    /// The key of the project commands are for (`--project`, `BATON_PROJECT`).
    pub fn project_key(&self) -> &str {
        self.project_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .unwrap_or(DEFAULT_PROJECT)
    }

    /// Refuses a project the instance does not know, with the way out.
    pub fn require_registered(&self, key: &str) -> CliResult<()> {
        self.instance_api()?.instance().get_project(key)?;
        Ok(())
    }

    /// Creates a project: on a server through it; on this machine, its storage (a file,
    /// or a schema of the PostgreSQL database) and then its record.
    pub fn create_project(&self, key: &str, name: &str) -> CliResult<ProjectInfo> {
        baton_core::board::instance::validate_project_key(key)?;
        if let Some(url) = self.direct_database_url() {
            let api = self.instance_api()?;
            if api.instance().get_project(key).is_ok() {
                return Err(exists(key));
            }
            baton_postgres::create_project_schema(&url, key)?;
            baton_postgres::PostgresStore::create(&baton_postgres::project_url(&url, key), name)?;
            return Ok(api.instance().register_project(&self.actor(), key, name)?);
        }
        if let Some(client) = self.client()? {
            return Ok(client.create_project(key, Some(name))?);
        }
        let api = self.instance_api()?;
        if api.instance().get_project(key).is_ok() {
            return Err(exists(key));
        }
        let path = baton_server::backend::project_file(&self.project()?.database(), key);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        SqliteStore::create(&path, name)?;
        Ok(api.instance().register_project(&self.actor(), key, name)?)
    }

    /// The default project's board, which also holds the instance (users, tokens,
    /// projects): on a server, the server's.
    pub fn instance_api(&self) -> CliResult<Box<dyn Api>> {
        if let Some(url) = self.direct_database_url() {
            // Like `serve --database`: a new database gets its project on first use.
            let name = self
                .project()
                .map_or("baton".to_string(), |p| p.config.name);
            let (store, _) = baton_postgres::PostgresStore::create(&url, &name)?;
            return Ok(Box::new(Board::new(store)));
        }
        if let Some(client) = self.client()? {
            return Ok(Box::new(client));
        }
        let project = self.project()?;
        let store = SqliteStore::open(&project.database())?;
        Ok(Box::new(Board::new(store)))
    }

    /// The PostgreSQL database to use directly: `BATON_DATABASE_URL`, unless `BATON_URL`
    /// names a server (which wins).
    pub fn direct_database_url(&self) -> Option<String> {
        let server_given = std::env::var("BATON_URL").is_ok_and(|u| !u.trim().is_empty());
        if server_given {
            return None;
        }
        // Else where `baton migrate` moved the project's board, if it did.
        database_url().or_else(|| self.project().ok()?.moved_to())
    }

    /// A client of the server, when the board lives on one (`BATON_TOKEN` authenticates).
    pub fn client(&self) -> CliResult<Option<baton_client::Client>> {
        let Some(url) = self.server_url()? else {
            return Ok(None);
        };
        let token = std::env::var("BATON_TOKEN")
            .ok()
            .filter(|t| !t.is_empty())
            .or_else(|| team::stored_token(&url));
        Ok(Some(
            baton_client::Client::new(&url, token)?.for_project(self.project_key.as_deref()),
        ))
    }

    /// The server to talk to, if any: `BATON_URL` wins over the project's `url`. With
    /// `BATON_URL` set no local project is needed.
    pub fn server_url(&self) -> CliResult<Option<String>> {
        if let Ok(url) = std::env::var("BATON_URL") {
            if !url.trim().is_empty() {
                return Ok(Some(url));
            }
        }
        Ok(self.project()?.config.url.filter(|u| !u.trim().is_empty()))
    }

    /// The acting identity; anonymous people act as `human`.
    pub fn actor(&self) -> String {
        self.agent
            .clone()
            .unwrap_or_else(|| baton_core::api::HUMAN.to_string())
    }

    /// The fence to send: the one given, else the one this agent got at pickup.
    pub fn fence(&self, agent: &str, task: baton_core::TaskId, given: Option<u64>) -> Option<u64> {
        given.or_else(|| {
            let project = self.project().ok()?;
            crate::fences::recall(&project.dir(), agent, task)
        })
    }

    pub fn remember_fence(&self, agent: &str, task: baton_core::TaskId, fence: u64) {
        if let Ok(project) = self.project() {
            crate::fences::remember(&project.dir(), agent, task, fence);
        }
    }

    pub fn forget_fence(&self, agent: &str, task: baton_core::TaskId) {
        if let Ok(project) = self.project() {
            crate::fences::forget(&project.dir(), agent, task);
        }
    }

    /// The agent to filter a listing by: `--by NAME`, or `--agent NAME` typed on the line.
    pub fn agent_filter(&self, by: Option<String>) -> Option<String> {
        by.or_else(|| {
            self.agent_on_command_line
                .then(|| self.agent.clone())
                .flatten()
        })
    }

    /// The agent identity, required by commands that claim or hold work.
    pub fn agent(&self) -> CliResult<String> {
        match self.agent.as_deref().map(str::trim) {
            Some(a) if !a.is_empty() => Ok(a.to_string()),
            // A token bound to an agent names it: the server says which.
            _ if std::env::var("BATON_TOKEN").is_ok_and(|t| !t.is_empty()) => {
                let bound = self
                    .client()?
                    .and_then(|c| c.whoami().ok())
                    .and_then(|me| me["agent"].as_str().map(String::from));
                bound.ok_or_else(|| {
                    CliError::invalid("this command needs an agent identity").with_hint(
                        "pass --agent NAME or set BATON_AGENT (for example BATON_AGENT=claude)",
                    )
                })
            }
            _ => Err(
                CliError::invalid("this command needs an agent identity").with_hint(
                    "pass --agent NAME or set BATON_AGENT (for example BATON_AGENT=claude)",
                ),
            ),
        }
    }
}
