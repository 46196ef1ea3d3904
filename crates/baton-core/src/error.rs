//! One error type for the board. Each variant says what went wrong and how to get out.

use crate::id::{DocId, MessageId, RunId, TaskId};
use crate::model::Status;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The class of an error decides the CLI exit code and the HTTP status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Exit 2, HTTP 422: the request is malformed or invalid.
    Invalid,
    /// Exit 3, HTTP 404: something named does not exist (or nothing is ready).
    NotFound,
    /// Exit 4, HTTP 409: the request conflicts with the current state.
    Conflict,
    /// Exit 5, HTTP 503: the store cannot be used right now.
    Unavailable,
    /// Exit 1, HTTP 500: a bug or an unexpected failure.
    Internal,
    /// Exit 6, HTTP 401: no credential, or one that is not valid (any more).
    Unauthenticated,
    /// Exit 7, HTTP 403: the credential is valid, the action is not allowed to it.
    Forbidden,
    /// Exit 8, HTTP 429: too many attempts; wait and try again.
    RateLimited,
}

impl ErrorClass {
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorClass::Invalid => 2,
            ErrorClass::NotFound => 3,
            ErrorClass::Conflict => 4,
            ErrorClass::Unavailable => 5,
            ErrorClass::Internal => 1,
            ErrorClass::Unauthenticated => 6,
            ErrorClass::Forbidden => 7,
            ErrorClass::RateLimited => 8,
        }
    }

    /// The HTTP status a server answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorClass::Invalid => 422,
            ErrorClass::NotFound => 404,
            ErrorClass::Conflict => 409,
            ErrorClass::Unavailable => 503,
            ErrorClass::Internal => 500,
            ErrorClass::Unauthenticated => 401,
            ErrorClass::Forbidden => 403,
            ErrorClass::RateLimited => 429,
        }
    }

    /// The class of an HTTP error status, as a client reads it back.
    pub fn from_http_status(status: u16) -> ErrorClass {
        match status {
            401 => ErrorClass::Unauthenticated,
            403 => ErrorClass::Forbidden,
            429 => ErrorClass::RateLimited,
            404 => ErrorClass::NotFound,
            409 => ErrorClass::Conflict,
            502..=504 => ErrorClass::Unavailable,
            400..=499 => ErrorClass::Invalid,
            _ => ErrorClass::Internal,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidInput {
        message: String,
        hint: Option<String>,
    },

    #[error("task {0} does not exist")]
    TaskNotFound(TaskId),

    #[error("doc {0} does not exist")]
    DocNotFound(DocId),

    #[error("message {0} does not exist")]
    MessageNotFound(MessageId),

    #[error("run {0} does not exist")]
    RunNotFound(RunId),

    #[error("no task is ready to pick up")]
    NoTaskReady { hint: String },

    #[error("dependency cycle: {}", format_cycle(.cycle))]
    DependencyCycle { cycle: Vec<TaskId> },

    #[error("task {task} is {from}; {action} needs it to be {}", format_statuses(.allowed))]
    InvalidTransition {
        task: TaskId,
        from: Status,
        action: &'static str,
        allowed: Vec<Status>,
        hint: Option<String>,
    },

    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        hint: Option<String>,
    },

    #[error("the database was written by a newer Baton (schema version {found}; this build knows up to {supported})")]
    SchemaTooNew { found: i64, supported: i64 },

    #[error("the store is unavailable: {message}")]
    Unavailable {
        message: String,
        hint: Option<String>,
    },

    #[error("internal error: {0}")]
    Internal(String),

    /// No credential, or one that is unknown, expired or revoked.
    #[error("{message}")]
    Unauthenticated {
        message: String,
        hint: Option<String>,
    },

    /// The caller is known; the action is not allowed to them.
    #[error("{message}")]
    Forbidden {
        message: String,
        hint: Option<String>,
    },

    /// Too many attempts (failed logins); `retry_after_secs` says when to try again.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },

    #[error("{what} {name:?} does not exist")]
    NotFound {
        what: &'static str,
        name: String,
        hint: Option<String>,
    },

    /// An error a Baton server reported, carried over as it was sent.
    #[error("{message}")]
    Remote {
        class: ErrorClass,
        code: String,
        message: String,
        hint: Option<String>,
    },
}

impl Error {
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
            hint: None,
        }
    }

    pub fn invalid_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            Error::InvalidInput { .. } => ErrorClass::Invalid,
            Error::TaskNotFound(_)
            | Error::DocNotFound(_)
            | Error::MessageNotFound(_)
            | Error::RunNotFound(_)
            | Error::NoTaskReady { .. } => ErrorClass::NotFound,
            Error::DependencyCycle { .. }
            | Error::InvalidTransition { .. }
            | Error::Conflict { .. } => ErrorClass::Conflict,
            Error::SchemaTooNew { .. } | Error::Unavailable { .. } => ErrorClass::Unavailable,
            Error::Internal(_) => ErrorClass::Internal,
            Error::Unauthenticated { .. } => ErrorClass::Unauthenticated,
            Error::Forbidden { .. } => ErrorClass::Forbidden,
            Error::RateLimited { .. } => ErrorClass::RateLimited,
            Error::NotFound { .. } => ErrorClass::NotFound,
            Error::Remote { class, .. } => *class,
        }
    }

    /// A stable, machine-readable name for the error.
    pub fn code(&self) -> &str {
        match self {
            Error::InvalidInput { .. } => "invalid_input",
            Error::TaskNotFound(_) => "task_not_found",
            Error::DocNotFound(_) => "doc_not_found",
            Error::MessageNotFound(_) => "message_not_found",
            Error::RunNotFound(_) => "run_not_found",
            Error::NoTaskReady { .. } => "no_task_ready",
            Error::DependencyCycle { .. } => "dependency_cycle",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::Conflict { code, .. } => code,
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::Unavailable { .. } => "store_unavailable",
            Error::Internal(_) => "internal",
            Error::Unauthenticated { .. } => "unauthenticated",
            Error::Forbidden { .. } => "forbidden",
            Error::RateLimited { .. } => "rate_limited",
            Error::NotFound { what, .. } => match *what {
                "user" => "user_not_found",
                "project" => "project_not_found",
                "token" => "token_not_found",
                "initiative" => "initiative_not_found",
                "phase" => "phase_not_found",
                "review comment" => "comment_not_found",
                "agent" => "no_agent",
                "proposal" => "proposal_not_found",
                "session" => "session_not_found",
                "webhook" => "webhook_not_found",
                _ => "not_found",
            },
            Error::Remote { code, .. } => code,
        }
    }

    /// What the caller can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::InvalidInput { hint, .. }
            | Error::InvalidTransition { hint, .. }
            | Error::Conflict { hint, .. }
            | Error::Unavailable { hint, .. }
            | Error::Unauthenticated { hint, .. }
            | Error::Forbidden { hint, .. }
            | Error::NotFound { hint, .. }
            | Error::Remote { hint, .. } => hint.clone(),
            Error::RateLimited {
                retry_after_secs, ..
            } => Some(format!("wait {retry_after_secs} s before trying again")),
            Error::TaskNotFound(_) => Some("list tasks with `baton task list`".into()),
            Error::DocNotFound(_) => Some("list docs with `baton docs list`".into()),
            Error::MessageNotFound(_) => Some("see your messages with `baton inbox --all`".into()),
            Error::RunNotFound(_) => Some("list runs with `baton runs`".into()),
            Error::NoTaskReady { hint } => Some(hint.clone()),
            Error::DependencyCycle { .. } => {
                Some("remove one of the dependencies in the cycle".into())
            }
            Error::SchemaTooNew { .. } => {
                Some("upgrade baton to the version that wrote this database".into())
            }
            Error::Internal(_) => Some("this is a bug in Baton; the change was not applied".into()),
        }
    }
}

fn format_cycle(cycle: &[TaskId]) -> String {
    cycle
        .iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn format_statuses(statuses: &[Status]) -> String {
    statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_message_names_the_cycle() {
        let e = Error::DependencyCycle {
            cycle: vec![TaskId(1), TaskId(3), TaskId(1)],
        };
        assert_eq!(e.to_string(), "dependency cycle: T-1 -> T-3 -> T-1");
        assert_eq!(e.class().exit_code(), 4);
        assert_eq!(e.code(), "dependency_cycle");
    }

    #[test]
    fn every_class_has_its_own_exit_code() {
        let codes = [
            ErrorClass::Invalid,
            ErrorClass::NotFound,
            ErrorClass::Conflict,
            ErrorClass::Unavailable,
            ErrorClass::Internal,
        ]
        .map(ErrorClass::exit_code);
        let mut sorted = codes.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len());
        assert!(!codes.contains(&0));
    }
}
