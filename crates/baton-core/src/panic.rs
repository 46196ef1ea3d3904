//! A panic inside a store call must never leave the store unusable: the stores run each
//! call's closure through [`contain`], roll the transaction back when it panics, and hand
//! the caller an `internal` error for that call alone.
//!
//! [`fault_point`] lets tests inject such a panic (only with the `fault-injection` feature,
//! which no release build enables).

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

/// Runs `f`, turning a panic into [`Error::Internal`] that names the panic's message. The
/// caller undoes whatever `f` had written before it answers.
pub fn contain<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    // AssertUnwindSafe: a panicking call's writes are rolled back by the caller, and nothing
    // else it touched outlives the call.
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(Error::Internal(format!(
            "a store call panicked ({}); it was rolled back",
            panic_message(payload.as_ref())
        )))
    })
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    }
}

/// The text that makes [`fault_point`] panic: a task title, doc title or message body
/// equal to it (only in builds with the `fault-injection` feature).
pub const FAULT_TEXT: &str = "baton-test-fault: panic here";

/// Panics when `text` is [`FAULT_TEXT`] and the `fault-injection` feature is on; a no-op in
/// every other build.
#[inline]
pub fn fault_point(text: &str) {
    if cfg!(feature = "fault-injection") && text == FAULT_TEXT {
        panic!("fault injected for a test");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contain_turns_a_panic_into_an_internal_error_naming_it() {
        let e = contain::<()>(|| panic!("boom {}", 7)).unwrap_err();
        assert_eq!(e.code(), "internal");
        assert!(e.to_string().contains("boom 7"), "{e}");
        assert_eq!(contain(|| Ok(3)).unwrap(), 3);
    }

    #[test]
    fn fault_point_panics_only_with_the_feature_and_the_text() {
        fault_point("an ordinary title");
        let fired = catch_unwind(|| fault_point(FAULT_TEXT)).is_err();
        assert_eq!(fired, cfg!(feature = "fault-injection"));
    }
}
