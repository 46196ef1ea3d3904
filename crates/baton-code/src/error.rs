//! One error type for the code index, with a stable code and a way out.

use std::path::PathBuf;

/// What went wrong in the code index. `code()` is stable and machine-readable;
/// `hint()` tells the caller what to do next.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("no code index at {path}")]
    IndexMissing { path: PathBuf },
    #[error("code index at {path} has schema version {found}, this baton expects {expected}")]
    IndexOutdated {
        path: PathBuf,
        found: i64,
        expected: i64,
    },
    #[error("file {path} is not in the code index: {why}")]
    FileNotIndexed {
        path: String,
        /// Why, in words (see [`crate::Explanation`]).
        why: String,
        /// What to do about it.
        fix: String,
    },
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("code index database error: {0}")]
    Database(#[from] rusqlite::Error),
}

/// The broad class of an error, which a surface maps to an exit code or status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    InvalidInput,
    NotFound,
    Unavailable,
    Other,
}

impl CodeError {
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::IndexMissing { .. } => "code_index_missing",
            CodeError::IndexOutdated { .. } => "code_index_outdated",
            CodeError::FileNotIndexed { .. } => "file_not_indexed",
            CodeError::InvalidInput(_) => "invalid_input",
            CodeError::Io { .. } => "io_error",
            CodeError::Database(_) => "code_index_unavailable",
        }
    }

    pub fn hint(&self) -> String {
        match self {
            CodeError::IndexMissing { .. } => "run `baton scan` to build the code index".into(),
            CodeError::IndexOutdated { .. } => {
                "run `baton scan` to rebuild the code index with this version".into()
            }
            CodeError::FileNotIndexed { fix, .. } => fix.clone(),
            CodeError::InvalidInput(_) => "check the arguments; see `baton code --help`".into(),
            CodeError::Io { .. } => "check that the path exists and is readable".into(),
            CodeError::Database(_) => {
                "delete .baton/code.db and run `baton scan` to rebuild it".into()
            }
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            CodeError::IndexMissing { .. } | CodeError::FileNotIndexed { .. } => {
                ErrorClass::NotFound
            }
            CodeError::InvalidInput(_) => ErrorClass::InvalidInput,
            CodeError::IndexOutdated { .. } | CodeError::Database(_) => ErrorClass::Unavailable,
            CodeError::Io { .. } => ErrorClass::Other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CodeError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, CodeError>;
