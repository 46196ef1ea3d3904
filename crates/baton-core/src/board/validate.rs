//! Input limits and shapes, checked before any transaction starts.

use crate::api::{NewTask, TaskPatch, HUMAN};
use crate::error::{Error, Result};
use crate::id::TaskId;
use crate::model::Status;

pub const MAX_BATCH: usize = 10_000;
pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_TEXT_BYTES: usize = 100_000;
pub const MAX_LIST_ITEMS: usize = 200;
pub const MAX_ITEM_CHARS: usize = 1_000;
pub const MAX_NAME_CHARS: usize = 64;

/// The characters and length of an agent name, as the OpenAPI document states them (the
/// reserved names `human` and `baton` match it but are refused).
pub const AGENT_NAME_PATTERN: &str = "^[A-Za-z0-9._@:+-]{1,64}$";

pub fn validate_agent_name(name: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "._-@:+".contains(c);
    if name.is_empty() {
        return Err(Error::invalid_with_hint(
            "no agent identity given",
            "pass --agent NAME or set BATON_AGENT (for example BATON_AGENT=claude)",
        ));
    }
    if name == HUMAN || name == super::leases::SYSTEM {
        return Err(Error::invalid_with_hint(
            format!("'{name}' is reserved and cannot be an agent name"),
            "pick the agent's own name, for example claude or codex-2",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS || !name.chars().all(ok_char) {
        return Err(Error::invalid_with_hint(
            format!("'{name}' is not a valid agent name"),
            format!(
                "use up to {MAX_NAME_CHARS} letters, digits and . _ - @ : + (for example claude-1)"
            ),
        ));
    }
    Ok(())
}

/// The anonymous human is allowed wherever an agent identity is optional.
pub fn actor(name: &str) -> Result<()> {
    if name == HUMAN {
        return Ok(());
    }
    validate_agent_name(name)
}

pub fn required_text(field: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid(format!("{field} must not be empty")));
    }
    bounded_text(field, text)
}

pub fn note_text(text: &str) -> Result<()> {
    required_text("note", text)
}

fn bounded_text(field: &str, text: &str) -> Result<()> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid_with_hint(
            format!(
                "{field} is {} bytes; the limit is {MAX_TEXT_BYTES}",
                text.len()
            ),
            "store long material in a file in the repository and reference it",
        ));
    }
    Ok(())
}

fn title(text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::invalid_with_hint(
            "a task needs a title",
            "pass --title \"...\"",
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Err(Error::invalid_with_hint(
            format!("title is {chars} characters; the limit is {MAX_TITLE_CHARS}"),
            "put the details in --description",
        ));
    }
    if text.contains(['\n', '\r']) {
        return Err(Error::invalid("a title is one line"));
    }
    Ok(())
}

fn short(field: &str, text: &str) -> Result<()> {
    let chars = text.chars().count();
    if chars > MAX_ITEM_CHARS {
        return Err(Error::invalid(format!(
            "{field} is {chars} characters; the limit is {MAX_ITEM_CHARS}"
        )));
    }
    Ok(())
}

pub(crate) fn list(field: &str, items: &[String]) -> Result<()> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(Error::invalid(format!(
            "{field} has {} items; the limit is {MAX_LIST_ITEMS}",
            items.len()
        )));
    }
    for item in items {
        if item.trim().is_empty() {
            return Err(Error::invalid(format!("{field} has an empty item")));
        }
        short(field, item)?;
    }
    Ok(())
}

fn trimmed(items: Vec<String>) -> Vec<String> {
    items.into_iter().map(|s| s.trim().to_string()).collect()
}

/// Validates and normalizes a batch (1 to 10,000 tasks).
pub fn new_tasks(tasks: Vec<NewTask>) -> Result<Vec<NewTask>> {
    if tasks.is_empty() {
        return Err(Error::invalid("no tasks given"));
    }
    if tasks.len() > MAX_BATCH {
        return Err(Error::invalid_with_hint(
            format!(
                "a batch holds at most {MAX_BATCH} tasks; this one has {}",
                tasks.len()
            ),
            "split the file into several batches",
        ));
    }
    let mut keys = std::collections::HashSet::new();
    let count = tasks.len();
    tasks
        .into_iter()
        .enumerate()
        .map(|(index, t)| {
            let label =
                crate::api::batch::task_label(index, count, Some(&t.title), t.key.as_deref());
            new_task(t, &mut keys).map_err(|e| crate::api::batch::within(&label, e))
        })
        .collect()
}

fn new_task(mut t: NewTask, keys: &mut std::collections::HashSet<String>) -> Result<NewTask> {
    t.title = t.title.trim().to_string();
    title(&t.title)?;
    if let Some(key) = &t.key {
        if key.trim().is_empty() || key.parse::<TaskId>().is_ok() {
            return Err(Error::invalid_with_hint(
                format!("'{key}' cannot be a key"),
                "a key is a name such as \"auth-api\"; it must not look like a task id",
            ));
        }
        short("key", key)?;
        if !keys.insert(key.clone()) {
            return Err(Error::invalid(format!(
                "key '{key}' is used twice in the batch"
            )));
        }
    }
    if let Some(d) = &t.description {
        bounded_text("description", d)?;
    }
    if let Some(v) = &t.verify {
        bounded_text("verify", v)?;
    }
    if let Some(e) = &t.epic {
        short("epic", e)?;
    }
    if let Some(p) = &t.parent {
        short("parent", p)?;
    }
    match t.status {
        None | Some(Status::Open) | Some(Status::Backlog) => {}
        Some(other) => {
            return Err(Error::invalid_with_hint(
                format!("a new task cannot start as {other}"),
                "new tasks start as open (or backlog); they move on through pickup, done, approve",
            ))
        }
    }
    t.capabilities = trimmed(t.capabilities);
    t.depends_on = trimmed(t.depends_on);
    t.acceptance_criteria = trimmed(t.acceptance_criteria);
    t.context_refs = trimmed(t.context_refs);
    t.files = trimmed(t.files);
    list("capabilities", &t.capabilities)?;
    list("depends_on", &t.depends_on)?;
    list("acceptance_criteria", &t.acceptance_criteria)?;
    list("context_refs", &t.context_refs)?;
    list("files", &t.files)?;
    globs(&t.files)?;
    t.context_refs = super::docs::normalize_refs(t.context_refs)?;
    Ok(t)
}

/// A task's file surface must be valid globs: pickup reserves them.
fn globs(files: &[String]) -> Result<()> {
    for f in files {
        super::reservations::compile(f)?;
    }
    Ok(())
}

pub fn patch(mut p: TaskPatch) -> Result<TaskPatch> {
    if p.is_empty() {
        return Err(Error::invalid_with_hint(
            "nothing to update",
            "pass at least one field, for example --title or --status",
        ));
    }
    if let Some(t) = &p.title {
        title(t.trim())?;
    }
    if let Some(d) = &p.description {
        bounded_text("description", d)?;
    }
    if let Some(v) = &p.verify {
        bounded_text("verify", v)?;
    }
    if let Some(e) = &p.epic {
        short("epic", e)?;
    }
    for (field, items) in [
        ("capabilities", &p.capabilities),
        ("acceptance_criteria", &p.acceptance_criteria),
        ("context_refs", &p.context_refs),
        ("files", &p.files),
    ] {
        if let Some(items) = items {
            list(field, items)?;
        }
    }
    if let Some(files) = &p.files {
        globs(files)?;
    }
    if let Some(deps) = &p.depends_on {
        if deps.len() > MAX_LIST_ITEMS {
            return Err(Error::invalid(format!(
                "depends_on has {} items; the limit is {MAX_LIST_ITEMS}",
                deps.len()
            )));
        }
    }
    if let Some(refs) = p.context_refs.take() {
        p.context_refs = Some(super::docs::normalize_refs(trimmed(refs))?);
    }
    if let Some(summary) = &p.summary {
        bounded_text("summary", summary)?;
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_names_are_checked() {
        assert!(validate_agent_name("claude-1").is_ok());
        assert!(validate_agent_name("codex@laptop").is_ok());
        assert_eq!(validate_agent_name("").unwrap_err().code(), "invalid_input");
        assert!(validate_agent_name("has space").is_err());
        assert!(validate_agent_name(&"a".repeat(65)).is_err());
        assert!(validate_agent_name("human").is_err());
        assert!(validate_agent_name("baton").is_err());
        assert!(actor("human").is_ok());
    }

    #[test]
    fn the_documented_pattern_names_the_characters_agent_names_take() {
        let class = AGENT_NAME_PATTERN
            .strip_prefix("^[")
            .and_then(|p| p.strip_suffix(&format!("]{{1,{MAX_NAME_CHARS}}}$")))
            .expect("^[...]{1,64}$");
        let class = class.replace("A-Za-z0-9", "");
        for c in (0u8..128).map(char::from) {
            let in_pattern = c.is_ascii_alphanumeric() || class.contains(c);
            assert_eq!(
                validate_agent_name(&format!("a{c}")).is_ok(),
                in_pattern,
                "{c:?}"
            );
        }
    }

    #[test]
    fn batch_errors_name_the_task() {
        let tasks = vec![
            NewTask {
                title: "ok".into(),
                ..NewTask::default()
            },
            NewTask {
                title: "  ".into(),
                ..NewTask::default()
            },
        ];
        let err = new_tasks(tasks).unwrap_err();
        assert!(err.to_string().starts_with("task 2 of 2: "), "{err}");
    }

    #[test]
    fn keys_must_be_unique_and_not_ids() {
        let t = |k: &str| NewTask {
            key: Some(k.into()),
            title: "x".into(),
            ..NewTask::default()
        };
        assert!(new_tasks(vec![t("a"), t("a")]).is_err());
        assert!(new_tasks(vec![t("T-3")]).is_err());
        assert!(new_tasks(vec![t("a"), t("b")]).is_ok());
    }

    #[test]
    fn batch_limit() {
        let many = vec![
            NewTask {
                title: "x".into(),
                ..NewTask::default()
            };
            MAX_BATCH + 1
        ];
        assert!(new_tasks(many).unwrap_err().to_string().contains("at most"));
    }
}
