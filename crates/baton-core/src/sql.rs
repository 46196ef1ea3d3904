//! Plain queries written once for both stores.
//!
//! Both stores keep every column as an integer or text ([`RawValue`]), so a plain query
//! (an insert, an update, a filtered select) reads the same in SQLite and PostgreSQL once
//! its placeholders agree. Queries here are written with SQLite's numbered placeholders
//! (`?1`, `?2`, ...); the PostgreSQL store turns them into `$1`, `$2`. Each store
//! implements [`Sql`] on its open transaction, so these queries run inside the same
//! transaction as the rest of a use-case.
//!
//! Hand-written per-backend SQL stays where a backend's strength is the point (pickup,
//! full-text search, notifications); new tables that need nothing of the kind use this.

use crate::error::{Error, Result};
use crate::store::RawValue;
use crate::time::Timestamp;

/// A store's open transaction, seen as a place to run plain queries.
pub trait Sql {
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[RawValue]) -> Result<u64>;
    /// Runs a query; returns its rows, each column an integer, text or null.
    fn query(&mut self, sql: &str, params: &[RawValue]) -> Result<Vec<Vec<RawValue>>>;
}

/// Rewrites `?N` placeholders as `$N` (PostgreSQL's), leaving quoted text alone.
pub fn dollar_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                out.push('$');
            }
            None => out.push(c),
        }
    }
    out
}

impl From<i64> for RawValue {
    fn from(n: i64) -> Self {
        RawValue::Integer(n)
    }
}

impl From<u64> for RawValue {
    fn from(n: u64) -> Self {
        RawValue::Integer(n.min(i64::MAX as u64) as i64)
    }
}

impl From<u32> for RawValue {
    fn from(n: u32) -> Self {
        RawValue::Integer(n as i64)
    }
}

impl From<bool> for RawValue {
    fn from(b: bool) -> Self {
        RawValue::Integer(b as i64)
    }
}

impl From<&str> for RawValue {
    fn from(s: &str) -> Self {
        RawValue::Text(s.to_string())
    }
}

impl From<String> for RawValue {
    fn from(s: String) -> Self {
        RawValue::Text(s)
    }
}

impl From<&String> for RawValue {
    fn from(s: &String) -> Self {
        RawValue::Text(s.clone())
    }
}

impl From<Timestamp> for RawValue {
    fn from(t: Timestamp) -> Self {
        RawValue::Text(t.to_string())
    }
}

impl<T: Into<RawValue>> From<Option<T>> for RawValue {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(RawValue::Null)
    }
}

/// One row of a [`Sql::query`], read by column index with the column's type checked.
pub struct Row<'a> {
    values: &'a [RawValue],
    /// Names the query in errors.
    what: &'static str,
}

impl<'a> Row<'a> {
    pub fn new(values: &'a [RawValue], what: &'static str) -> Self {
        Row { values, what }
    }

    fn bad(&self, i: usize, wanted: &str) -> Error {
        Error::Internal(format!(
            "{}: column {i} is {:?}, not {wanted}",
            self.what,
            self.values.get(i)
        ))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.values.get(i) {
            Some(RawValue::Integer(n)) => Ok(Some(*n)),
            Some(RawValue::Null) => Ok(None),
            _ => Err(self.bad(i, "an integer")),
        }
    }

    pub fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?.ok_or_else(|| self.bad(i, "an integer"))
    }

    pub fn uint(&self, i: usize) -> Result<u64> {
        Ok(self.int(i)?.max(0) as u64)
    }

    pub fn opt_uint(&self, i: usize) -> Result<Option<u64>> {
        Ok(self.opt_int(i)?.map(|n| n.max(0) as u64))
    }

    pub fn flag(&self, i: usize) -> Result<bool> {
        Ok(self.int(i)? != 0)
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.values.get(i) {
            Some(RawValue::Text(s)) => Ok(Some(s.clone())),
            Some(RawValue::Null) => Ok(None),
            _ => Err(self.bad(i, "text")),
        }
    }

    pub fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?.ok_or_else(|| self.bad(i, "text"))
    }

    /// A list of strings stored as a JSON array ([`list_value`]); NULL is empty.
    pub fn list(&self, i: usize) -> Result<Vec<String>> {
        match self.opt_text(i)? {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Error::Internal(format!("column {i} is not a JSON list: {e}"))),
            None => Ok(Vec::new()),
        }
    }

    pub fn opt_ts(&self, i: usize) -> Result<Option<Timestamp>> {
        match self.opt_text(i)? {
            None => Ok(None),
            Some(s) => Timestamp::parse(&s)
                .map(Some)
                .ok_or_else(|| self.bad(i, "a timestamp")),
        }
    }

    pub fn ts(&self, i: usize) -> Result<Timestamp> {
        self.opt_ts(i)?.ok_or_else(|| self.bad(i, "a timestamp"))
    }
}

/// A list of strings as stored: a JSON array, or NULL when empty ([`Row::list`]).
pub fn list_value(items: &[String]) -> RawValue {
    if items.is_empty() {
        return RawValue::Null;
    }
    serde_json::to_string(items)
        .map(RawValue::Text)
        .unwrap_or(RawValue::Null)
}

/// Runs `sql` and maps each row with `f`.
pub fn query_map<T>(
    db: &mut dyn Sql,
    what: &'static str,
    sql: &str,
    params: &[RawValue],
    f: impl Fn(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    db.query(sql, params)?
        .iter()
        .map(|values| f(&Row::new(values, what)))
        .collect()
}

/// The one row of `table` whose `id` is `id`, mapped with `f`; when there is none, a
/// not-found error naming `what` with `hint` (how to list what exists).
pub fn load_by_id<T>(
    db: &mut dyn Sql,
    what: &'static str,
    select: &str,
    id: u64,
    hint: &str,
    f: impl Fn(&Row<'_>) -> Result<T>,
    shown: impl std::fmt::Display,
) -> Result<T> {
    query_map(db, what, select, &[id.into()], f)?
        .pop()
        .ok_or_else(|| Error::NotFound {
            what,
            name: shown.to_string(),
            hint: Some(hint.to_string()),
        })
}

/// Builds a `WHERE` clause from optional filters, numbering placeholders as it goes.
#[derive(Default)]
pub struct Filter {
    clauses: Vec<String>,
    pub params: Vec<RawValue>,
}

impl Filter {
    /// Adds `condition`, in which `?` stands for `value`'s placeholder.
    pub fn and(&mut self, condition: &str, value: impl Into<RawValue>) -> &mut Self {
        self.params.push(value.into());
        let n = self.params.len();
        self.clauses
            .push(condition.replacen('?', &format!("?{n}"), 1));
        self
    }

    /// Adds a condition that takes no value (its text must not come from a caller).
    pub fn and_fixed(&mut self, condition: String) -> &mut Self {
        self.clauses.push(condition);
        self
    }

    /// The next placeholder for a value pushed after the filters (a limit).
    pub fn push(&mut self, value: impl Into<RawValue>) -> String {
        self.params.push(value.into());
        format!("?{}", self.params.len())
    }

    pub fn where_clause(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            dollar_placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12"
        );
        assert_eq!(dollar_placeholders("SELECT '?' || ?1"), "SELECT '?' || $1");
        assert_eq!(dollar_placeholders("a ? b"), "a ? b");
    }

    #[test]
    fn filters_number_their_placeholders() {
        let mut f = Filter::default();
        f.and("status = ?", "running").and("task = ?", 7i64);
        let limit = f.push(10i64);
        assert_eq!(f.where_clause(), " WHERE status = ?1 AND task = ?2");
        assert_eq!(limit, "?3");
        assert_eq!(f.params.len(), 3);
    }

    #[test]
    fn rows_check_their_types() {
        let values = vec![
            RawValue::Integer(3),
            RawValue::Null,
            RawValue::Text("2026-01-02T03:04:05.000Z".into()),
        ];
        let row = Row::new(&values, "test");
        assert_eq!(row.int(0).unwrap(), 3);
        assert_eq!(row.opt_text(1).unwrap(), None);
        assert!(row.text(0).is_err());
        assert_eq!(row.ts(2).unwrap().to_string(), "2026-01-02T03:04:05.000Z");
        assert!(row.int(5).is_err());
    }
}
