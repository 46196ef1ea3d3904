//! Task ids: `T-1`, `T-2`, ... per project. Input accepts `T-001`, `t-1` and `1`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a task id (expected T-<number>, for example T-12)")]
pub struct BadTaskId(pub String);

impl TaskId {
    pub fn number(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T-{}", self.0)
    }
}

impl FromStr for TaskId {
    type Err = BadTaskId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let digits = trimmed
            .strip_prefix("T-")
            .or_else(|| trimmed.strip_prefix("t-"))
            .unwrap_or(trimmed);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadTaskId(s.to_string()));
        }
        match digits.parse::<u64>() {
            Ok(n) if n > 0 && n <= i64::MAX as u64 => Ok(TaskId(n)),
            _ => Err(BadTaskId(s.to_string())),
        }
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskId {
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

/// In the OpenAPI document: a string like `T-12`.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for TaskId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A task id (`T-12`); input also takes `t-12`, `12` or the number 12.",
            ))
            .examples(["T-12"])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for TaskId {}

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
    fn serializes_as_text_and_reads_numbers_too() {
        assert_eq!(serde_json::to_string(&TaskId(7)).unwrap(), "\"T-7\"");
        let ids: Vec<TaskId> = serde_json::from_str(r#"["T-1", 2, "t-03"]"#).unwrap();
        assert_eq!(ids, vec![TaskId(1), TaskId(2), TaskId(3)]);
    }
}
