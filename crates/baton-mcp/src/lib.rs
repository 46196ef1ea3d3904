//! Baton over the Model Context Protocol: a small set of composite tools with terse
//! descriptions and small schemas (the whole `tools/list` stays under 2,000 tokens), and
//! compact JSON replies (no nulls, no empty lists, nothing said twice).
//!
//! The tools work on any [`Host`]: the CLI's `baton mcp` runs them on the local project
//! (or a server, with `BATON_URL`) over stdio; `baton serve` runs them on its own workers
//! behind `/mcp` (streamable HTTP). The protocol library is kept in [`protocol`], the only
//! module that names it.

mod args;
pub mod compact;
mod hints;
pub mod protocol;
pub mod tools;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use baton_core::api::Api;
use serde::Serialize;
use serde_json::Value;

pub use tools::{catalog, Tools};

/// Work for the board: runs with the host's [`Api`] and answers a JSON value.
pub type Job = Box<dyn FnOnce(&dyn Api) -> baton_core::Result<Value> + Send>;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Where the tools run: a local store, a remote server, or a server's own workers.
pub trait Host: Send + Sync + 'static {
    /// Runs `job` (on the writer when `write`, else on a reader).
    fn run(&self, write: bool, job: Job) -> BoxFuture<baton_core::Result<Value>>;
    /// The working tree whose code index (`.baton/code.db`) the code tool reads.
    fn code_root(&self) -> Option<PathBuf>;
    /// Who calls when a tool gets no `agent` argument (BATON_AGENT for stdio).
    fn default_agent(&self) -> Option<String> {
        None
    }
}

/// A tool call that did not work: reported to the model as a tool error (`isError`),
/// with a stable code and a hint, never as a protocol failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolError {
    pub error: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ToolError {
    pub fn new(code: &str, message: impl Into<String>, hint: Option<String>) -> Self {
        ToolError {
            error: code.to_string(),
            message: message.into(),
            hint,
        }
    }

    pub fn invalid(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ToolError::new("invalid_input", message, Some(hint.into()))
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl From<baton_core::Error> for ToolError {
    fn from(e: baton_core::Error) -> Self {
        use baton_core::ErrorClass;
        // Every error says what to do next; core's own hint when it has one.
        let hint = e.hint().unwrap_or_else(|| {
            match e.class() {
                ErrorClass::Invalid => "check the arguments against the tool's schema",
                ErrorClass::NotFound => "list what exists with `task`, `docs` or `inbox`",
                ErrorClass::Conflict => "read the current state with `task {id}` and decide again",
                ErrorClass::Unavailable => "retry in a moment",
                ErrorClass::Internal => "retry; if it persists, tell a human",
                ErrorClass::Unauthenticated => "the server needs a valid token (BATON_TOKEN)",
                ErrorClass::Forbidden => "this needs a role you do not have; ask a human",
                ErrorClass::RateLimited => "wait a while before trying again",
            }
            .to_string()
        });
        ToolError::new(e.code(), e.to_string(), Some(hints::for_tools(&hint)))
    }
}

impl From<baton_code::CodeError> for ToolError {
    fn from(e: baton_code::CodeError) -> Self {
        ToolError::new(e.code(), e.to_string(), Some(e.hint()))
    }
}
