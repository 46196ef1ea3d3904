//! The CLI's error contract: one JSON object on stderr, `{"error": {code, message, hint}}`,
//! and an exit code per class (2 invalid, 3 not found, 4 conflict, 5 store unavailable,
//! 1 anything else).

use baton_core::ErrorClass;
use serde_json::json;

#[derive(Debug)]
pub struct CliError {
    pub class: ErrorClass,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    pub fn new(class: ErrorClass, code: &str, message: impl Into<String>) -> Self {
        CliError {
            class,
            code: code.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        CliError::new(ErrorClass::Invalid, "invalid_input", message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn exit_code(&self) -> i32 {
        self.class.exit_code()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(h) = &self.hint {
            error["hint"] = json!(h);
        }
        json!({ "error": error })
    }
}

impl From<baton_core::Error> for CliError {
    fn from(e: baton_core::Error) -> Self {
        CliError {
            class: e.class(),
            code: e.code().to_string(),
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::new(ErrorClass::Internal, "io_error", e.to_string())
    }
}
