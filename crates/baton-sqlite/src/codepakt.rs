//! Reads a codepakt board (`.codepakt/data.db`, schema versions 2 and 3) into an
//! [`ImportedBoard`]. Columns are read by name, so a column one version lacks is simply
//! empty; the file is opened read-only and never changed.

use std::collections::HashMap;
use std::path::Path;

use baton_core::api::{ImportedAgent, ImportedBoard, ImportedDoc, ImportedEvent, ImportedTask};
use baton_core::model::{actions, DocType, Note, Priority, Status};
use baton_core::time::Timestamp;
use baton_core::{Error, Result, TaskId};
use rusqlite::{Connection, OpenFlags, Row};
use serde_json::Value;

pub const SUPPORTED_VERSIONS: [i64; 2] = [2, 3];

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::invalid_with_hint(
        format!("{}: {message}", path.display()),
        "pass the board's database, usually PROJECT/.codepakt/data.db",
    )
}

/// The table's columns, to select the ones this version has.
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    names.collect()
}

/// `SELECT` list for `wanted`, with `NULL` for the columns this table lacks.
fn select_list(have: &[String], wanted: &[&str]) -> String {
    wanted
        .iter()
        .map(|w| {
            if have.iter().any(|h| h == w) {
                format!("\"{w}\"")
            } else {
                format!("NULL AS \"{w}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// codepakt writes SQLite's `datetime('now')` (`2026-03-21 18:11:36`, UTC) or RFC 3339.
fn time(text: &str) -> Option<Timestamp> {
    Timestamp::parse(text).or_else(|| {
        let t = text.trim().replace(' ', "T");
        Timestamp::parse(&format!("{t}Z"))
    })
}

fn text(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(row
        .get::<_, Option<String>>(i)?
        .filter(|s| !s.trim().is_empty()))
}

fn json_strings(raw: Option<String>) -> Vec<String> {
    match raw.and_then(|r| serde_json::from_str::<Value>(&r).ok()) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) if !s.trim().is_empty() => Some(s),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Notes are plain strings in version 2; objects (`text`, `author`, `at`) are read too.
fn notes(raw: Option<String>, author: &str, at: Timestamp) -> Vec<Note> {
    let Some(Value::Array(items)) = raw.and_then(|r| serde_json::from_str(&r).ok()) else {
        return Vec::new();
    };
    let field = |o: &serde_json::Map<String, Value>, names: &[&str]| {
        names
            .iter()
            .find_map(|n| o.get(*n).and_then(Value::as_str).map(str::to_string))
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::String(text) if !text.trim().is_empty() => Some(Note {
                author: author.to_string(),
                at,
                text,
            }),
            Value::Object(o) => Some(Note {
                text: field(&o, &["text", "content", "note", "body"])?,
                author: field(&o, &["author", "agent", "by"]).unwrap_or_else(|| author.into()),
                at: field(&o, &["at", "created_at", "timestamp"])
                    .and_then(|t| time(&t))
                    .unwrap_or(at),
            }),
            _ => None,
        })
        .collect()
}

pub fn read(path: &Path) -> Result<ImportedBoard> {
    if !path.is_file() {
        return Err(invalid(path, "no such file"));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| invalid(path, format!("cannot open: {e}")))?;
    let version: i64 = conn
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .map_err(|_| {
            invalid(
                path,
                "not a codepakt board (it has no schema_version table)",
            )
        })?;
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(Error::invalid_with_hint(
            format!(
                "{}: codepakt schema version {version} is not supported (versions 2 and 3 are)",
                path.display()
            ),
            "open the board with a codepakt release that writes version 3, then import again",
        ));
    }
    read_tables(&conn).map_err(|e| match e {
        ReadError::Sql(e) => invalid(path, format!("cannot read the board: {e}")),
        ReadError::Bad(message) => invalid(path, message),
    })
}

enum ReadError {
    Sql(rusqlite::Error),
    Bad(String),
}

impl From<rusqlite::Error> for ReadError {
    fn from(e: rusqlite::Error) -> Self {
        ReadError::Sql(e)
    }
}

fn read_tables(conn: &Connection) -> Result<ImportedBoard, ReadError> {
    let project: Option<String> = conn
        .query_row(
            "SELECT project_id FROM tasks UNION SELECT project_id FROM docs LIMIT 1",
            [],
            |r| r.get(0),
        )
        .ok();
    let source = format!("codepakt:{}", project.unwrap_or_else(|| "board".into()));

    // Task numbers by codepakt's row id, for events and dependencies.
    let mut numbers: HashMap<String, TaskId> = HashMap::new();
    let have = columns(conn, "tasks")?;
    let wanted = [
        "id",
        "task_number",
        "title",
        "description",
        "status",
        "assignee",
        "priority",
        "epic",
        "capabilities",
        "depends_on",
        "acceptance_criteria",
        "context_refs",
        "verify",
        "notes",
        "blocker_reason",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
    ];
    let sql = format!("SELECT {} FROM tasks", select_list(&have, &wanted));
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut raw_tasks = Vec::new();
    while let Some(r) = rows.next()? {
        let key: String = r.get(0)?;
        let number: String = r.get(1)?;
        let id: TaskId = number
            .parse()
            .map_err(|_| ReadError::Bad(format!("task number '{number}' is not T-<n>")))?;
        numbers.insert(key.clone(), id);
        let status_text: String = text(r, 4)?.unwrap_or_else(|| "open".into());
        let status: Status = status_text
            .parse()
            .map_err(|e: String| ReadError::Bad(format!("{id}: {e}")))?;
        let priority: Priority = match text(r, 6)? {
            Some(p) => p
                .parse()
                .map_err(|e: String| ReadError::Bad(format!("{id}: {e}")))?,
            None => Priority::default(),
        };
        let when = |i: usize, what: &str| -> Result<Option<Timestamp>, ReadError> {
            match text(r, i)? {
                None => Ok(None),
                Some(t) => time(&t)
                    .map(Some)
                    .ok_or_else(|| ReadError::Bad(format!("{id}: {what} '{t}' is not a time"))),
            }
        };
        let created_at = when(15, "created_at")?.unwrap_or_else(Timestamp::now);
        let updated_at = when(16, "updated_at")?.unwrap_or(created_at);
        let completed_at = when(18, "completed_at")?;
        let assignee = text(r, 5)?;
        let note_author = assignee.clone().unwrap_or_else(|| "human".into());
        raw_tasks.push((
            ImportedTask {
                key,
                id,
                title: r.get(2)?,
                description: text(r, 3)?.unwrap_or_default(),
                status,
                blocked_reason: text(r, 14)?,
                priority,
                assignee,
                epic: text(r, 7)?,
                capabilities: json_strings(text(r, 8)?),
                depends_on: Vec::new(),
                verify: text(r, 12)?,
                acceptance_criteria: json_strings(text(r, 10)?),
                context_refs: json_strings(text(r, 11)?),
                notes: notes(
                    text(r, 13)?,
                    &note_author,
                    completed_at.unwrap_or(updated_at),
                ),
                created_at,
                updated_at,
                started_at: when(17, "started_at")?,
                completed_at,
            },
            json_strings(text(r, 9)?),
        ));
    }
    drop(rows);
    drop(stmt);
    let mut tasks: Vec<ImportedTask> = raw_tasks
        .into_iter()
        .map(|(mut t, deps)| {
            // Dependencies are task numbers (`T-001`); codepakt row ids are read too.
            t.depends_on = deps
                .iter()
                .filter_map(|d| d.parse::<TaskId>().ok().or_else(|| numbers.get(d).copied()))
                .collect();
            t
        })
        .collect();
    tasks.sort_by_key(|t| t.id);

    let docs = read_docs(conn)?;
    let (events, first_seen) = read_events(conn, &numbers)?;

    let have = columns(conn, "agents")?;
    let sql = format!(
        "SELECT {} FROM agents ORDER BY name",
        select_list(&have, &["name", "last_seen"])
    );
    let mut stmt = conn.prepare(&sql)?;
    let agents = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, text(r, 1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|(name, seen)| {
            let last_seen = seen.and_then(|s| time(&s)).unwrap_or_else(Timestamp::now);
            ImportedAgent {
                first_seen: first_seen
                    .get(&name)
                    .copied()
                    .unwrap_or(last_seen)
                    .min(last_seen),
                name,
                last_seen,
            }
        })
        .collect();

    Ok(ImportedBoard {
        source,
        tasks,
        agents,
        docs,
        events,
    })
}

fn read_docs(conn: &Connection) -> Result<Vec<ImportedDoc>, ReadError> {
    let have = columns(conn, "docs")?;
    let wanted = [
        "id",
        "type",
        "title",
        "body",
        "section",
        "tags",
        "author",
        "created_at",
        "updated_at",
    ];
    let sql = format!(
        "SELECT {} FROM docs ORDER BY created_at, id",
        select_list(&have, &wanted)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut docs = Vec::new();
    while let Some(r) = rows.next()? {
        let created_at = text(r, 7)?
            .and_then(|t| time(&t))
            .unwrap_or_else(Timestamp::now);
        let mut tags = json_strings(text(r, 5)?);
        if let Some(section) = text(r, 4)? {
            tags.push(format!("section:{section}"));
        }
        docs.push(ImportedDoc {
            key: r.get(0)?,
            // A type Baton does not know is kept as reference material.
            kind: text(r, 1)?
                .and_then(|t| t.parse().ok())
                .unwrap_or(DocType::Reference),
            title: r.get(2)?,
            body: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            tags,
            author: text(r, 6)?.unwrap_or_else(|| "human".into()),
            created_at,
            updated_at: text(r, 8)?.and_then(|t| time(&t)).unwrap_or(created_at),
        });
    }
    Ok(docs)
}

/// Baton's name for a codepakt action. A `task_done` nobody is named on is the human
/// moving a reviewed task to done (the dashboard's approval).
fn action(name: &str, agent: Option<&str>) -> String {
    let mapped = match name {
        "task_created" => actions::TASK_CREATED,
        "task_pickup" | "task_picked_up" => actions::TASK_PICKED_UP,
        "task_done" | "task_complete" | "task_completed" if agent.is_none() => {
            actions::TASK_APPROVED
        }
        "task_done" | "task_complete" | "task_completed" => actions::TASK_DONE,
        "task_approved" => actions::TASK_APPROVED,
        "task_updated" => actions::TASK_UPDATED,
        "task_blocked" => actions::TASK_BLOCKED,
        "task_unblocked" => actions::TASK_UNBLOCKED,
        "task_deleted" => actions::TASK_DELETED,
        "task_rejected" => actions::TASK_REJECTED,
        "deps_met" => actions::TASK_DEPS_MET,
        "doc_created" | "doc_written" => actions::DOC_CREATED,
        "doc_updated" => actions::DOC_UPDATED,
        other => return other.to_string(),
    };
    mapped.to_string()
}

type FirstSeen = HashMap<String, Timestamp>;

fn read_events(
    conn: &Connection,
    numbers: &HashMap<String, TaskId>,
) -> Result<(Vec<ImportedEvent>, FirstSeen), ReadError> {
    let have = columns(conn, "events")?;
    let wanted = ["id", "task_id", "agent", "action", "detail", "created_at"];
    let sql = format!(
        "SELECT {} FROM events ORDER BY created_at, rowid",
        select_list(&have, &wanted)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut events = Vec::new();
    let mut first_seen = FirstSeen::new();
    while let Some(r) = rows.next()? {
        let key: String = r.get(0)?;
        let agent = text(r, 2)?;
        let name: String = r.get(3)?;
        let at = text(r, 5)?
            .and_then(|t| time(&t))
            .ok_or_else(|| ReadError::Bad(format!("event {key} has no readable time")))?;
        let mut detail = match text(r, 4)? {
            None => serde_json::json!({}),
            Some(raw) => match serde_json::from_str::<Value>(&raw) {
                Ok(Value::Object(m)) => Value::Object(m),
                Ok(other) => serde_json::json!({ "value": other }),
                Err(_) => serde_json::json!({ "text": raw }),
            },
        };
        detail["codepakt_action"] = Value::String(name.clone());
        let actor = match (&agent, name.as_str()) {
            (Some(a), _) => a.clone(),
            (None, "deps_met") => baton_core::board::SYSTEM.to_string(),
            (None, _) => baton_core::api::HUMAN.to_string(),
        };
        if let Some(a) = &agent {
            let seen = first_seen.entry(a.clone()).or_insert(at);
            *seen = (*seen).min(at);
        }
        events.push(ImportedEvent {
            key,
            at,
            action: action(&name, agent.as_deref()),
            actor,
            task: text(r, 1)?.and_then(|t| numbers.get(&t).copied()),
            detail,
        });
    }
    Ok((events, first_seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_and_approval_events_map_to_batons_own_actions() {
        assert_eq!(action("task_complete", Some("claude")), actions::TASK_DONE);
        assert_eq!(action("task_completed", Some("codex")), actions::TASK_DONE);
        assert_eq!(action("task_complete", None), actions::TASK_APPROVED);
        assert_eq!(
            action("task_approved", Some("human")),
            actions::TASK_APPROVED
        );
        assert_eq!(action("task_approved", None), actions::TASK_APPROVED);
        // Unknown names pass through, for core to keep as `event.imported`.
        assert_eq!(action("sprint_started", None), "sprint_started");
    }
}
