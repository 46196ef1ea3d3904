//! A tool call's arguments: typed reads that name the argument and the tool in their
//! errors. (Unknown arguments are refused before any is read.)

use serde_json::{Map, Value};

use crate::ToolError;

pub struct Args {
    tool: &'static str,
    map: Map<String, Value>,
}

impl Args {
    pub fn new(tool: &'static str, map: Map<String, Value>) -> Self {
        Args { tool, map }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        match self.map.remove(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn wrong(&self, key: &str, expected: &str) -> ToolError {
        ToolError::invalid(
            format!("`{key}` must be {expected}"),
            format!("see the `{}` tool's input schema", self.tool),
        )
    }

    pub fn opt_str(&mut self, key: &str) -> Result<Option<String>, ToolError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    pub fn str(&mut self, key: &str) -> Result<String, ToolError> {
        match self.opt_str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ToolError::invalid(
                format!("`{key}` is required"),
                format!("call `{}` with `{key}`", self.tool),
            )),
        }
    }

    pub fn bool(&mut self, key: &str) -> Result<bool, ToolError> {
        match self.take(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(_) => Err(self.wrong(key, "true or false")),
        }
    }

    pub fn opt_u64(&mut self, key: &str) -> Result<Option<u64>, ToolError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(Value::String(s)) if s.trim().parse::<u64>().is_ok() => Ok(s.trim().parse().ok()),
            Some(_) => Err(self.wrong(key, "a whole number")),
        }
    }

    /// A list: a JSON array of strings, or one string with commas (`"a.rs, b.rs"`).
    pub fn opt_list(&mut self, key: &str) -> Result<Option<Vec<String>>, ToolError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            )),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(self.wrong(key, "a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.wrong(key, "a list of strings")),
        }
    }

    /// A list whose items parse with `FromStr` (ids, statuses); `hint` names valid items.
    pub fn opt_parse_list<T>(&mut self, key: &str, hint: &str) -> Result<Option<Vec<T>>, ToolError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let Some(items) = self.opt_list(key)? else {
            return Ok(None);
        };
        items
            .iter()
            .map(|s| s.parse::<T>())
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
            .map_err(|e| ToolError::invalid(format!("`{key}`: {e}"), hint))
    }

    pub fn list(&mut self, key: &str) -> Result<Vec<String>, ToolError> {
        Ok(self.opt_list(key)?.unwrap_or_default())
    }

    /// Parses a string argument with `FromStr` (ids, priorities, statuses).
    pub fn opt_parse<T>(&mut self, key: &str) -> Result<Option<T>, ToolError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => s.trim().parse::<T>().map(Some).map_err(|e| {
                ToolError::invalid(
                    format!("`{key}`: {e}"),
                    format!("see the `{}` tool's input schema", self.tool),
                )
            }),
        }
    }

    pub fn parse<T>(&mut self, key: &str) -> Result<T, ToolError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.opt_parse(key)? {
            Some(v) => Ok(v),
            None => Err(ToolError::invalid(
                format!("`{key}` is required"),
                format!("call `{}` with `{key}`", self.tool),
            )),
        }
    }
}
