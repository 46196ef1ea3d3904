//! Ids: tasks `T-1`, docs `D-1`, messages `M-1`, numbered per project. Input accepts
//! `T-001`, `t-1` and `1`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a numbered id shown with a letter prefix (`T-12`), its parse error, and its
/// serde form (text out; text or a bare number in).
macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $error:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u64);

        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("'{}' is not a {what} id (expected {prefix}-<number>, for example {prefix}-12)", .0, what = $what, prefix = $prefix)]
        pub struct $error(pub String);

        impl $name {
            pub fn number(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}-{}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = $error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_number(s, $prefix).map($name).ok_or_else(|| $error(s.to_string()))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(untagged)]
                enum Raw {
                    Number(u64),
                    Text(String),
                }
                match Raw::deserialize(d)? {
                    Raw::Number(n) => n.to_string().parse().map_err(serde::de::Error::custom),
                    Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
                }
            }
        }

        /// In the OpenAPI document: `T-12` as answers write it; what input accepts besides
        /// (lower case, leading zeros, a bare number; surrounding spaces are trimmed too).
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Integer]))
                    .description(Some(concat!(
                        "A ", $what, " id (`", $prefix, "-12`); input also takes `",
                        $prefix, "-012`, `12` and the number 12."
                    )))
                    .pattern(Some(id_pattern($prefix)))
                    .minimum(Some(1))
                    .maximum(Some(MAX_ID))
                    .examples([concat!($prefix, "-12")])
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// The largest id number (ids are stored as signed 64-bit integers).
#[cfg_attr(not(feature = "openapi"), allow(dead_code))]
const MAX_ID: u64 = i64::MAX as u64;

/// The id texts input accepts, as a pattern: the prefix in either case or none, then a
/// number from 1 (at most 18 digits after leading zeros, which every such number fits;
/// 19-digit ids up to `MAX_ID` are accepted too, but no board gets there).
#[cfg(feature = "openapi")]
fn id_pattern(prefix: &str) -> String {
    let upper = prefix.to_ascii_uppercase();
    let lower = prefix.to_ascii_lowercase();
    format!("^([{upper}{lower}]-)?0*[1-9][0-9]{{0,17}}$")
}

/// `P-12`, `p-012` or `12` (for prefix `P`): the number, when it is one.
fn parse_number(s: &str, prefix: &str) -> Option<u64> {
    let trimmed = s.trim();
    let digits = match trimmed.split_once('-') {
        Some((p, rest)) if p.eq_ignore_ascii_case(prefix) => rest,
        _ => trimmed,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match digits.parse::<u64>() {
        Ok(n) if n > 0 && n <= i64::MAX as u64 => Some(n),
        _ => None,
    }
}

prefixed_id!(TaskId, BadTaskId, "T", "task");
prefixed_id!(
    /// A knowledge-base document: `D-1`, `D-2`, ...
    DocId,
    BadDocId,
    "D",
    "doc"
);
prefixed_id!(
    /// A message between agents (or people): `M-1`, `M-2`, ...
    MessageId,
    BadMessageId,
    "M",
    "message"
);

prefixed_id!(
    /// One run of an agent CLI by a runner: `R-1`, `R-2`, ...
    RunId,
    BadRunId,
    "R",
    "run"
);

prefixed_id!(
    /// An initiative (a feature, the plan above tasks): `I-1`, `I-2`, ...
    InitiativeId,
    BadInitiativeId,
    "I",
    "initiative"
);

prefixed_id!(
    /// A phase of an initiative: `P-1`, `P-2`, ...
    PhaseId,
    BadPhaseId,
    "P",
    "phase"
);

prefixed_id!(
    /// A review comment on a phase or a task: `C-1`, `C-2`, ...
    CommentId,
    BadCommentId,
    "C",
    "review comment"
);

prefixed_id!(
    /// An agent's proposal to change the plan: `PR-1`, `PR-2`, ...
    ProposalId,
    BadProposalId,
    "PR",
    "proposal"
);

prefixed_id!(
    /// A merge of one branch into another (a task's, a phase's, an initiative's): `MR-1`,
    /// ... (`M-` is a message's).
    MergeId,
    BadMergeId,
    "MR",
    "merge"
);

prefixed_id!(
    /// An errand: one agent on a branch of its own, no task board around it: `E-1`, ...
    ErrandId,
    BadErrandId,
    "E",
    "errand"
);

prefixed_id!(
    /// A session: a span of work by one identity (a person's, or an agent's run): `S-1`, ...
    SessionId,
    BadSessionId,
    "S",
    "session"
);

prefixed_id!(
    /// A webhook: a URL the server POSTs chosen events to: `WH-1`, ...
    WebhookId,
    BadWebhookId,
    "WH",
    "webhook"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_spellings_people_type() {
        for s in ["T-1", "t-1", "T-001", "1", "001", " T-1 "] {
            assert_eq!(s.parse::<TaskId>().unwrap(), TaskId(1), "{s}");
        }
        assert_eq!("T-4200".parse::<TaskId>().unwrap().to_string(), "T-4200");
    }

    #[test]
    fn refuses_what_is_not_an_id() {
        for s in [
            "",
            "T-",
            "T-0",
            "0",
            "-1",
            "T--1",
            "T-1a",
            "x",
            "T-99999999999999999999",
        ] {
            assert!(s.parse::<TaskId>().is_err(), "{s} should be refused");
        }
    }

    #[test]
    fn doc_and_message_ids_follow_the_same_rules() {
        assert_eq!("d-7".parse::<DocId>().unwrap().to_string(), "D-7");
        assert_eq!("M-003".parse::<MessageId>().unwrap(), MessageId(3));
        assert!("T-1".parse::<DocId>().is_err(), "a task id is not a doc id");
        let e = "x".parse::<DocId>().unwrap_err().to_string();
        assert!(e.contains("D-<number>"), "{e}");
    }

    #[test]
    fn serializes_as_text_and_reads_numbers_too() {
        assert_eq!(serde_json::to_string(&TaskId(7)).unwrap(), "\"T-7\"");
        let ids: Vec<TaskId> = serde_json::from_str(r#"["T-1", 2, "t-03"]"#).unwrap();
        assert_eq!(ids, vec![TaskId(1), TaskId(2), TaskId(3)]);
    }
}
