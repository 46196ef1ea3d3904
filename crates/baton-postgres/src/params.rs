//! Statement parameters for queries built from optional filters: each value pushed gets
//! the next `$n`.

use postgres::types::ToSql;

#[derive(Default)]
pub struct Params {
    values: Vec<Box<dyn ToSql + Sync>>,
}

impl Params {
    /// Adds a value and returns its placeholder.
    pub fn push(&mut self, value: impl ToSql + Sync + 'static) -> String {
        self.values.push(Box::new(value));
        format!("${}", self.values.len())
    }

    pub fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.values.iter().map(|v| v.as_ref() as _).collect()
    }
}
