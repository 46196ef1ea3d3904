//! Rendering: compact JSON for agents (stdout is not a terminal), tables for people.

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::CliResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Json,
    Human,
}

impl Mode {
    pub fn detect(json: bool, human: bool) -> Mode {
        match (json, human) {
            (true, _) => Mode::Json,
            (_, true) => Mode::Human,
            _ if std::io::stdout().is_terminal() => Mode::Human,
            _ => Mode::Json,
        }
    }
}

pub struct Out {
    pub mode: Mode,
}

impl Out {
    /// Prints `value` as JSON, or calls `human` to print it for people.
    pub fn emit<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> CliResult {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        match self.mode {
            Mode::Json => {
                serde_json::to_writer(&mut lock, value).map_err(std::io::Error::from)?;
                writeln!(lock)?;
            }
            Mode::Human => human(&mut lock)?,
        }
        lock.flush()?;
        Ok(())
    }
}

/// A plain text table: columns padded to their widest cell, cells cut to `max`.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Self {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn write(&self, w: &mut dyn Write) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |w: &mut dyn Write, cells: Vec<String>| -> std::io::Result<()> {
            let last = cells.len().saturating_sub(1);
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                text.push_str(cell);
                if i < last {
                    let pad = widths[i] - cell.chars().count() + 2;
                    text.push_str(&" ".repeat(pad));
                }
            }
            writeln!(w, "{}", text.trim_end())
        };
        line(w, self.headers.iter().map(|h| h.to_string()).collect())?;
        for row in &self.rows {
            line(w, row.clone())?;
        }
        Ok(())
    }
}

/// Cuts text to `max` characters, marking the cut.
pub fn cut(text: &str, max: usize) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let kept: String = one_line.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

pub fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_string()
}

/// `T-1, T-4`, or `-` for none.
pub fn id_list(ids: &[baton_core::TaskId]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
