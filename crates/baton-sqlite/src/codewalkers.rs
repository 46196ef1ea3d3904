//! Reads a Codewalkers database (SQLite, written by Drizzle: nanoid text ids, epoch-second
//! integer times, 0/1 booleans) into an [`ImportedPlan`]: initiatives, phases with their
//! dependencies, tasks with dependencies and parents, pages (Tiptap JSON turned into
//! markdown), agents' conversations and review comments. What cannot be mapped is listed in
//! the plan's warnings. The file is opened read-only and never changed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use baton_core::api::{
    ImportedComment, ImportedConversation, ImportedInitiative, ImportedPage, ImportedPhase,
    ImportedPlan, ImportedPlanTask,
};
use baton_core::model::{Category, InitiativeStatus, LineSide, PhaseStatus, Priority, Status};
use baton_core::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

fn invalid(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::invalid_with_hint(
        format!("{}: {message}", path.display()),
        "pass a Codewalkers database (its SQLite file, with initiatives, phases and tasks)",
    )
}

fn tables(conn: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    names.collect()
}

fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info(`{table}`)"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    names.collect()
}

/// Rows of `table` as maps of the wanted columns (a column the table lacks reads as null).
fn rows(
    conn: &Connection,
    table: &str,
    wanted: &[&str],
    order: &str,
) -> rusqlite::Result<Vec<HashMap<String, Value>>> {
    let have = columns(conn, table)?;
    let list: Vec<String> = wanted
        .iter()
        .map(|w| {
            if have.iter().any(|h| h == w) {
                format!("`{w}`")
            } else {
                format!("NULL AS `{w}`")
            }
        })
        .collect();
    let sql = format!("SELECT {} FROM `{table}` ORDER BY {order}", list.join(", "));
    let mut stmt = conn.prepare(&sql)?;
    let out = stmt.query_map([], |r| {
        let mut map = HashMap::new();
        for (i, w) in wanted.iter().enumerate() {
            let v = match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(n) => Value::from(n),
                rusqlite::types::ValueRef::Real(f) => Value::from(f),
                rusqlite::types::ValueRef::Text(t) => {
                    Value::String(String::from_utf8_lossy(t).into_owned())
                }
                rusqlite::types::ValueRef::Blob(_) => Value::Null,
            };
            map.insert(w.to_string(), v);
        }
        Ok(map)
    })?;
    out.collect()
}

fn s(row: &HashMap<String, Value>, key: &str) -> Option<String> {
    row.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|t| !t.trim().is_empty())
}

fn n(row: &HashMap<String, Value>, key: &str) -> Option<i64> {
    row.get(key).and_then(Value::as_i64)
}

/// Tiptap (ProseMirror) JSON as markdown: headings, paragraphs, bullet and ordered lists,
/// code blocks, quotes, rules, hard breaks; bold, italic, code, strike and link marks.
/// Text that is not Tiptap JSON is kept as it is.
pub fn tiptap_to_markdown(content: &str) -> String {
    match serde_json::from_str::<Value>(content) {
        Ok(doc) if doc.get("type").and_then(Value::as_str) == Some("doc") => {
            let mut out = String::new();
            blocks(&doc, &mut out, "");
            out.trim_end().to_string() + "\n"
        }
        _ => content.to_string(),
    }
}

fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn inline(node: &Value) -> String {
    let mut out = String::new();
    for child in children(node) {
        match child.get("type").and_then(Value::as_str) {
            Some("text") => {
                let mut text = child
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let marks = child
                    .get("marks")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for mark in &marks {
                    text = match mark.get("type").and_then(Value::as_str) {
                        Some("bold") | Some("strong") => format!("**{text}**"),
                        Some("italic") | Some("em") => format!("*{text}*"),
                        Some("code") => format!("`{text}`"),
                        Some("strike") => format!("~~{text}~~"),
                        Some("link") => {
                            let href = mark
                                .pointer("/attrs/href")
                                .and_then(Value::as_str)
                                .unwrap_or_default();
                            format!("[{text}]({href})")
                        }
                        _ => text,
                    };
                }
                out.push_str(&text);
            }
            Some("hardBreak") => out.push_str("  \n"),
            _ => out.push_str(&inline(child)),
        }
    }
    out
}

fn blocks(node: &Value, out: &mut String, indent: &str) {
    for child in children(node) {
        match child.get("type").and_then(Value::as_str) {
            Some("heading") => {
                let level = child
                    .pointer("/attrs/level")
                    .and_then(Value::as_u64)
                    .unwrap_or(1)
                    .clamp(1, 6) as usize;
                out.push_str(&format!(
                    "{indent}{} {}\n\n",
                    "#".repeat(level),
                    inline(child)
                ));
            }
            Some("paragraph") => out.push_str(&format!("{indent}{}\n\n", inline(child))),
            Some("bulletList") | Some("orderedList") => {
                let ordered = child.get("type").and_then(Value::as_str) == Some("orderedList");
                for (i, item) in children(child).iter().enumerate() {
                    let marker = if ordered {
                        format!("{}. ", i + 1)
                    } else {
                        "- ".to_string()
                    };
                    let mut inner = String::new();
                    blocks(item, &mut inner, "");
                    let nested = format!("{indent}{}", " ".repeat(marker.len()));
                    for (j, line) in inner.trim_end().lines().enumerate() {
                        if j == 0 {
                            out.push_str(&format!("{indent}{marker}{line}\n"));
                        } else if line.is_empty() {
                            continue;
                        } else {
                            out.push_str(&format!("{nested}{line}\n"));
                        }
                    }
                }
                out.push('\n');
            }
            Some("codeBlock") => {
                let lang = child
                    .pointer("/attrs/language")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let code: String = children(child)
                    .iter()
                    .filter_map(|t| t.get("text").and_then(Value::as_str))
                    .collect();
                out.push_str(&format!("{indent}```{lang}\n{code}\n{indent}```\n\n"));
            }
            Some("blockquote") => {
                let mut inner = String::new();
                blocks(child, &mut inner, "");
                for line in inner.trim_end().lines() {
                    out.push_str(&format!("{indent}> {line}\n"));
                }
                out.push('\n');
            }
            Some("horizontalRule") => out.push_str(&format!("{indent}---\n\n")),
            _ => blocks(child, out, indent),
        }
    }
}

fn initiative_status(text: &str) -> Option<InitiativeStatus> {
    InitiativeStatus::parse(text)
}

fn task_status(text: &str) -> Status {
    match text {
        "completed" => Status::Done,
        "blocked" => Status::Blocked,
        _ => Status::Open,
    }
}

fn priority(text: &str) -> Priority {
    match text {
        "high" => Priority::P0,
        "low" => Priority::P2,
        _ => Priority::P1,
    }
}

fn side(text: &str) -> Option<LineSide> {
    LineSide::parse(text)
}

pub fn read(path: &Path) -> Result<ImportedPlan> {
    if !path.is_file() {
        return Err(invalid(path, "no such file"));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| invalid(path, e))?;
    let have = tables(&conn).map_err(|e| invalid(path, format!("not a SQLite database: {e}")))?;
    for needed in ["initiatives", "phases", "tasks"] {
        if !have.contains(needed) {
            return Err(invalid(
                path,
                format!("it has no `{needed}` table, so it is not a Codewalkers database"),
            ));
        }
    }
    let q = |table: &str, wanted: &[&str], order: &str| {
        if have.contains(table) {
            rows(&conn, table, wanted, order).map_err(|e| invalid(path, e))
        } else {
            Ok(Vec::new())
        }
    };
    let mut plan = ImportedPlan {
        source: format!("codewalkers:{}", path.display()),
        ..ImportedPlan::default()
    };

    // Projects an initiative touches are its repositories (their URLs).
    let projects: HashMap<String, String> = q("projects", &["id", "url"], "created_at, id")?
        .into_iter()
        .filter_map(|r| Some((s(&r, "id")?, s(&r, "url")?)))
        .collect();
    let mut repos: HashMap<String, Vec<String>> = HashMap::new();
    for r in q(
        "initiative_projects",
        &["initiative_id", "project_id"],
        "rowid",
    )? {
        if let (Some(i), Some(url)) = (
            s(&r, "initiative_id"),
            s(&r, "project_id").and_then(|p| projects.get(&p).cloned()),
        ) {
            repos.entry(i).or_default().push(url);
        }
    }
    for r in q(
        "initiatives",
        &["id", "name", "status", "merge_requires_approval", "branch"],
        "created_at, id",
    )? {
        let (Some(key), Some(name)) = (s(&r, "id"), s(&r, "name")) else {
            plan.warnings
                .push("an initiative without id or name; skipped".into());
            continue;
        };
        let raw_status = s(&r, "status").unwrap_or_else(|| "active".into());
        let status = initiative_status(&raw_status);
        if status.is_none() {
            plan.warnings.push(format!(
                "initiative '{name}': unknown status '{raw_status}'; imported as active"
            ));
        }
        plan.initiatives.push(ImportedInitiative {
            repositories: repos.remove(&key).unwrap_or_default(),
            key,
            name,
            status,
            merge_requires_approval: n(&r, "merge_requires_approval").unwrap_or(1) != 0,
            branch: s(&r, "branch"),
        });
    }
    let mut phase_deps: HashMap<String, Vec<String>> = HashMap::new();
    for r in q(
        "phase_dependencies",
        &["phase_id", "depends_on_phase_id"],
        "rowid",
    )? {
        if let (Some(p), Some(d)) = (s(&r, "phase_id"), s(&r, "depends_on_phase_id")) {
            phase_deps.entry(p).or_default().push(d);
        }
    }
    let phase_rows = q(
        "phases",
        &["id", "initiative_id", "name", "content", "status"],
        "created_at, id",
    )?;
    let phase_keys: HashSet<String> = phase_rows.iter().filter_map(|r| s(r, "id")).collect();
    for r in phase_rows {
        let (Some(key), Some(initiative), Some(name)) =
            (s(&r, "id"), s(&r, "initiative_id"), s(&r, "name"))
        else {
            plan.warnings
                .push("a phase without id, initiative or name; skipped".into());
            continue;
        };
        let raw = s(&r, "status").unwrap_or_else(|| "pending".into());
        let status = PhaseStatus::parse(&raw).unwrap_or_else(|| {
            plan.warnings.push(format!(
                "phase '{name}': unknown status '{raw}'; imported as pending"
            ));
            PhaseStatus::Pending
        });
        let mut depends_on = Vec::new();
        for d in phase_deps.remove(&key).unwrap_or_default() {
            if phase_keys.contains(&d) {
                depends_on.push(d);
            } else {
                plan.warnings.push(format!(
                    "phase '{name}': depends on phase {d}, which is not in the database; dropped"
                ));
            }
        }
        plan.phases.push(ImportedPhase {
            content: s(&r, "content")
                .map(|c| tiptap_to_markdown(&c))
                .unwrap_or_default(),
            key,
            initiative,
            name,
            status,
            depends_on,
        });
    }

    let task_rows = q(
        "tasks",
        &[
            "id",
            "phase_id",
            "initiative_id",
            "parent_task_id",
            "name",
            "description",
            "category",
            "priority",
            "status",
            "summary",
            "order",
        ],
        "created_at, `order`, id",
    )?;
    let task_keys: HashSet<String> = task_rows.iter().filter_map(|r| s(r, "id")).collect();
    let mut task_deps: HashMap<String, Vec<String>> = HashMap::new();
    for r in q(
        "task_dependencies",
        &["task_id", "depends_on_task_id"],
        "rowid",
    )? {
        if let (Some(t), Some(d)) = (s(&r, "task_id"), s(&r, "depends_on_task_id")) {
            task_deps.entry(t).or_default().push(d);
        }
    }
    for r in task_rows {
        let (Some(key), Some(title)) = (s(&r, "id"), s(&r, "name")) else {
            plan.warnings
                .push("a task without id or name; skipped".into());
            continue;
        };
        let mut depends_on = Vec::new();
        for d in task_deps.remove(&key).unwrap_or_default() {
            if task_keys.contains(&d) {
                depends_on.push(d);
            } else {
                plan.warnings.push(format!(
                    "task '{title}': depends on task {d}, which is not in the database; dropped"
                ));
            }
        }
        let raw_category = s(&r, "category").unwrap_or_else(|| "execute".into());
        let category = Category::parse(&raw_category).unwrap_or_else(|| {
            plan.warnings.push(format!(
                "task '{title}': unknown category '{raw_category}'; imported as execute"
            ));
            Category::Execute
        });
        let raw_status = s(&r, "status").unwrap_or_else(|| "pending".into());
        if raw_status == "in_progress" {
            plan.warnings.push(format!(
                "task '{title}' was in progress; it is open here (no agent holds it)"
            ));
        }
        plan.tasks.push(ImportedPlanTask {
            key,
            phase: s(&r, "phase_id"),
            initiative: s(&r, "initiative_id"),
            parent: s(&r, "parent_task_id").filter(|p| task_keys.contains(p)),
            title: title.chars().take(500).collect(),
            description: s(&r, "description").unwrap_or_default(),
            category,
            priority: priority(&s(&r, "priority").unwrap_or_default()),
            status: task_status(&raw_status),
            summary: s(&r, "summary"),
            depends_on,
        });
    }

    for r in q(
        "pages",
        &["id", "initiative_id", "parent_page_id", "title", "content"],
        "sort_order, created_at, id",
    )? {
        let (Some(key), Some(initiative), Some(title)) =
            (s(&r, "id"), s(&r, "initiative_id"), s(&r, "title"))
        else {
            plan.warnings
                .push("a page without id, initiative or title; skipped".into());
            continue;
        };
        let body = s(&r, "content")
            .map(|c| tiptap_to_markdown(&c))
            .unwrap_or_else(|| format!("# {title}\n"));
        plan.pages.push(ImportedPage {
            key,
            initiative,
            parent: s(&r, "parent_page_id"),
            title,
            body,
        });
    }

    for r in q(
        "review_comments",
        &[
            "id",
            "phase_id",
            "file_path",
            "line_number",
            "line_type",
            "body",
            "author",
            "resolved",
        ],
        "created_at, id",
    )? {
        let (Some(key), Some(phase), Some(body)) = (s(&r, "id"), s(&r, "phase_id"), s(&r, "body"))
        else {
            continue;
        };
        plan.comments.push(ImportedComment {
            key,
            phase,
            file: s(&r, "file_path"),
            line: n(&r, "line_number").filter(|l| *l > 0).map(|l| l as u64),
            side: s(&r, "line_type").and_then(|t| side(&t)),
            body,
            author: s(&r, "author").unwrap_or_else(|| "you".into()),
            resolved: n(&r, "resolved").unwrap_or(0) != 0,
        });
    }

    // Conversations name agents by id; Baton names them by their alias.
    let agents: HashMap<String, String> = q("agents", &["id", "name"], "created_at, id")?
        .into_iter()
        .filter_map(|r| Some((s(&r, "id")?, s(&r, "name")?)))
        .collect();
    for r in q(
        "conversations",
        &["id", "from_agent_id", "to_agent_id", "question", "answer"],
        "created_at, id",
    )? {
        let Some(key) = s(&r, "id") else { continue };
        let from = s(&r, "from_agent_id").and_then(|a| agents.get(&a).cloned());
        let to = s(&r, "to_agent_id").and_then(|a| agents.get(&a).cloned());
        match (from, to, s(&r, "question")) {
            (Some(from), Some(to), Some(question)) => {
                plan.conversations.push(ImportedConversation {
                    key,
                    from,
                    to,
                    question,
                    answer: s(&r, "answer"),
                })
            }
            _ => plan.warnings.push(format!(
                "conversation {key}: an agent it names is not in the database; not imported"
            )),
        }
    }

    // What Baton does not take over, said once each.
    let count = |table: &str| -> i64 {
        if !have.contains(table) {
            return 0;
        }
        conn.query_row(&format!("SELECT count(*) FROM `{table}`"), [], |r| r.get(0))
            .unwrap_or(0)
    };
    for (table, why) in [
        (
            "proposals",
            "their content is prose, not a change Baton can apply; re-propose what is still wanted",
        ),
        (
            "messages",
            "user notifications; the agents' conversations were imported",
        ),
        ("chat_sessions", "chat sessions are not part of Baton"),
        ("errands", "errands are not part of Baton"),
        ("agent_log_chunks", "raw agent output is not imported"),
        (
            "accounts",
            "provider accounts and their credentials stay with their runner",
        ),
    ] {
        let rows = count(table);
        if rows > 0 {
            plan.warnings
                .push(format!("{rows} {table} not imported: {why}"));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiptap_becomes_markdown() {
        let doc = r#"{"type":"doc","content":[
            {"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Goal"}]},
            {"type":"paragraph","content":[{"type":"text","text":"Use "},
              {"type":"text","text":"argon2","marks":[{"type":"code"}]},
              {"type":"text","text":" — see "},
              {"type":"text","text":"docs","marks":[{"type":"link","attrs":{"href":"https://x.test/a"}}]}]},
            {"type":"bulletList","content":[
              {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one","marks":[{"type":"bold"}]}]}]},
              {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"two"}]}]}]},
            {"type":"codeBlock","attrs":{"language":"sql"},"content":[{"type":"text","text":"SELECT 1;"}]}]}"#;
        let md = tiptap_to_markdown(doc);
        assert_eq!(
            md,
            "## Goal\n\nUse `argon2` — see [docs](https://x.test/a)\n\n- **one**\n- two\n\n```sql\nSELECT 1;\n```\n"
        );
        assert_eq!(tiptap_to_markdown("plain text"), "plain text");
    }
}
