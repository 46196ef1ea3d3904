//! Reading a batch of tasks from JSON so that a mistake names its task, its field, what was
//! expected and the values accepted: agents write these files, and "did not match any
//! variant" tells them nothing.

use serde_json::Value;

use super::NewTask;
use crate::error::{Error, Result};

/// The fields a new task takes, for "did you mean" and the hint on an unknown field.
const FIELDS: &[&str] = &[
    "key",
    "title",
    "description",
    "priority",
    "status",
    "epic",
    "capabilities",
    "depends_on",
    "verify",
    "acceptance_criteria",
    "context_refs",
    "files",
    "phase",
    "initiative",
    "parent",
    "category",
];

/// Reads a batch: a JSON array of tasks, or an object `{"tasks": [...]}`. The first
/// mistake is reported as `task 3 of 7 ("Login UI"), field "priority": ...` with a hint.
pub fn parse_batch(text: &str) -> Result<Vec<NewTask>> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::invalid_with_hint(
            format!("the batch is not valid JSON: {e}"),
            "a batch is a JSON array of tasks: [{\"title\": \"...\"}, ...]",
        )
    })?;
    batch_from_value(value)
}

/// [`parse_batch`] for JSON already read (a request body).
pub fn batch_from_value(value: Value) -> Result<Vec<NewTask>> {
    let items = match value {
        Value::Array(items) => items,
        Value::Object(mut map) if map.contains_key("tasks") => match map.remove("tasks") {
            Some(Value::Array(items)) => items,
            _ => {
                return Err(Error::invalid_with_hint(
                    "\"tasks\" must be a list of tasks",
                    "write {\"tasks\": [{\"title\": \"...\"}, ...]}",
                ))
            }
        },
        Value::Object(_) => {
            return Err(Error::invalid_with_hint(
                "the batch is one object, not a list of tasks",
                "wrap it in a list: [{\"title\": \"...\"}], or write {\"tasks\": [...]}",
            ))
        }
        other => {
            return Err(Error::invalid_with_hint(
                format!("the batch is {}, not a list of tasks", kind(&other)),
                "a batch is a JSON array of tasks: [{\"title\": \"...\"}, ...]",
            ))
        }
    };
    let total = items.len();
    let mut tasks = Vec::with_capacity(total);
    let mut mistakes: Vec<Error> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match one_task(index, total, item) {
            Ok(task) => tasks.push(task),
            Err(e) => mistakes.push(e),
        }
    }
    match mistakes.len() {
        0 => Ok(tasks),
        1 => Err(mistakes.remove(0)),
        // Every task's first mistake at once: a plan is mended in one pass, not one run
        // per mistake.
        n => {
            let hint = mistakes[0].hint();
            let mut lines: Vec<String> = mistakes
                .iter()
                .take(MAX_LISTED)
                .map(|e| format!("- {e}"))
                .collect();
            if n > MAX_LISTED {
                lines.push(format!("- and {} more", n - MAX_LISTED));
            }
            Err(Error::InvalidInput {
                message: format!("{n} tasks of {total} have mistakes:\n{}", lines.join("\n")),
                hint,
            })
        }
    }
}

/// The most mistakes one error lists.
const MAX_LISTED: usize = 20;

fn one_task(index: usize, total: usize, item: Value) -> Result<NewTask> {
    let label = label(index, total, &item);
    if !item.is_object() {
        return Err(Error::invalid_with_hint(
            format!("{label} is {}, not a task", kind(&item)),
            "each task is an object: {\"title\": \"...\", \"priority\": \"P1\"}",
        ));
    }
    serde_path_to_error::deserialize::<_, NewTask>(item).map_err(|e| {
        let path = e.path().to_string();
        let (message, hint) = describe(&path, &e.into_inner().to_string());
        Error::InvalidInput {
            message: format!("{label}, {message}"),
            hint: Some(hint),
        }
    })
}

/// `task 3 of 7 ("Login UI")`, or with the key when there is no title.
fn label(index: usize, total: usize, item: &Value) -> String {
    let name = |field: &str| item.get(field).and_then(Value::as_str);
    task_label(index, total, name("title"), name("key"))
}

/// How a batch's errors name a task: its place, and its title (cut at 60 characters) or
/// else its key.
pub(crate) fn task_label(
    index: usize,
    total: usize,
    title: Option<&str>,
    key: Option<&str>,
) -> String {
    let place = format!("task {} of {total}", index + 1);
    match (title.map(str::trim), key.map(str::trim)) {
        (Some(title), _) if !title.is_empty() => {
            let mut cut: String = title.chars().take(60).collect();
            if cut.len() < title.len() {
                cut.push('…');
            }
            format!("{place} (\"{cut}\")")
        }
        (_, Some(key)) if !key.is_empty() => format!("{place} (key \"{key}\")"),
        _ => place,
    }
}

/// An invalid-input error about one task of a batch, with the task's label in front.
pub(crate) fn within(label: &str, error: Error) -> Error {
    match error {
        Error::InvalidInput { message, hint } => Error::InvalidInput {
            message: format!("{label}: {message}"),
            hint,
        },
        other => other,
    }
}

/// The message and hint for one serde error at `path` ("." is the task itself).
fn describe(path: &str, error: &str) -> (String, String) {
    let error = strip_position(error);
    if let Some(rest) = error.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or_default();
        let guess = closest(field, FIELDS)
            .map(|g| format!("did you mean \"{g}\"? "))
            .unwrap_or_default();
        return (
            format!("unknown field \"{field}\""),
            format!("{guess}a task takes: {}", FIELDS.join(", ")),
        );
    }
    if let Some(rest) = error.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return (
            format!("field \"{field}\" is missing"),
            format!("every task needs a \"{field}\": {{\"{field}\": \"...\"}}"),
        );
    }
    let field = path.split(['.', '[']).next().unwrap_or(path);
    let message = format!("field \"{path}\": {}", error.replace('`', "\""));
    (message, expected(field))
}

/// What a field takes, with its accepted values.
fn expected(field: &str) -> String {
    match field {
        "priority" => "priority is one of P0 (most urgent), P1 (default), P2".into(),
        "status" => "a new task's status is \"open\" (default) or \"backlog\"".into(),
        "category" => "category is one of execute (default), research, discuss, plan, \
                       detail, refine, verify, merge, review"
            .into(),
        "capabilities"
        | "depends_on"
        | "acceptance_criteria"
        | "acceptance"
        | "context_refs"
        | "files" => {
            format!("\"{field}\" is a list of strings: \"{field}\": [\"...\", \"...\"]")
        }
        "phase" => "phase is a phase id such as \"P-2\"".into(),
        "initiative" => "initiative is an initiative id such as \"I-1\"".into(),
        _ => format!("\"{field}\" is a string"),
    }
}

/// serde_json appends " at line 1 column 40" to errors from a parsed value; the place is
/// the task's, which the label already gives.
fn strip_position(error: &str) -> &str {
    match error.rfind(" at line ") {
        Some(at) if error[at..].contains(" column ") => &error[..at],
        _ => error,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The candidate nearest to `word` by edit distance, when it is close enough to be a typo.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (distance(&word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> (String, String) {
        match parse_batch(text).unwrap_err() {
            Error::InvalidInput { message, hint } => (message, hint.unwrap_or_default()),
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn every_task_with_a_mistake_is_listed_at_once() {
        let (m, h) = error(
            r#"[{"title": "A", "priority": "high"}, {"title": "B"}, {"titel": "C"},
                {"title": "D", "acceptance_criteria": "works"}]"#,
        );
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(lines[0], "3 tasks of 4 have mistakes:", "{m}");
        assert!(
            lines[1].starts_with("- task 1 of 4 (\"A\"), field \"priority\""),
            "{m}"
        );
        assert!(
            lines[2].starts_with("- task 3 of 4, ") && lines[2].contains("titel"),
            "{m}"
        );
        assert!(
            lines[3].starts_with("- task 4 of 4 (\"D\"), field \"acceptance_criteria\""),
            "{m}"
        );
        assert!(h.contains("P0"), "the first mistake's hint: {h}");
        let many: Vec<String> = (0..25)
            .map(|i| format!("{{\"title\": \"t{i}\", \"priority\": 9}}"))
            .collect();
        let (m, _) = error(&format!("[{}]", many.join(",")));
        assert!(m.starts_with("25 tasks of 25 have mistakes:"), "{m}");
        assert_eq!(m.lines().count(), 1 + 20 + 1, "{m}");
        assert!(m.ends_with("- and 5 more"), "{m}");
    }

    #[test]
    fn each_mistake_names_its_task_field_and_accepted_values() {
        let (m, h) = error(r#"[{"title": "A"}, {"title": "Login UI", "priority": "high"}]"#);
        assert_eq!(
            m,
            "task 2 of 2 (\"Login UI\"), field \"priority\": 'high' is not a priority (P0, P1 or P2)"
        );
        assert!(h.contains("P0 (most urgent)"), "{h}");

        let (m, h) = error(r#"[{"title": "Auth", "dependson": ["T-1"]}]"#);
        assert_eq!(m, "task 1 of 1 (\"Auth\"), unknown field \"dependson\"");
        assert!(h.starts_with("did you mean \"depends_on\"?"), "{h}");

        let (m, h) = error(r#"{"tasks": [{"key": "api", "priority": "P0"}]}"#);
        assert_eq!(m, "task 1 of 1 (key \"api\"), field \"title\" is missing");
        assert!(h.contains("\"title\""), "{h}");

        let (m, h) = error(r#"[{"title": "Auth", "acceptance_criteria": "tests pass"}]"#);
        assert!(
            m.starts_with("task 1 of 1 (\"Auth\"), field \"acceptance_criteria\": invalid type: string \"tests pass\""),
            "{m}"
        );
        assert!(h.contains("[\"...\", \"...\"]"), "{h}");
    }

    #[test]
    fn the_shape_of_the_batch_is_explained() {
        assert!(error(r#"{"title": "one"}"#).1.contains("wrap it in a list"));
        assert!(error("[1]")
            .0
            .contains("task 1 of 1 is a number, not a task"));
        assert!(error("[{").0.starts_with("the batch is not valid JSON"));
        assert!(error(r#""x""#).0.contains("a string, not a list"));
        let titled = "é".repeat(80);
        let (m, _) = error(&format!(
            r#"[{{"title": "{titled}", "priority": "urgent"}}]"#
        ));
        assert!(m.contains(&format!("\"{}…\"", "é".repeat(60))), "{m}");
    }

    #[test]
    fn valid_batches_read_as_before() {
        let tasks = parse_batch(r#"{"tasks": [{"title": "A", "acceptance": ["x"]}]}"#).unwrap();
        assert_eq!(tasks[0].acceptance_criteria, vec!["x".to_string()]);
        assert_eq!(parse_batch("[]").unwrap(), vec![]);
    }

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("titel", "title"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(closest("prority", FIELDS), Some("priority"));
        assert_eq!(closest("zzzzzz", FIELDS), None);
    }
}
