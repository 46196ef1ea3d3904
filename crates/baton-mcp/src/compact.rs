//! Replies cost the model tokens on every call: say each thing once, leave out what is
//! empty, and keep the fields an agent acts on.

use serde_json::{Map, Value};

/// Drops nulls, empty strings, empty lists and empty objects, at every depth.
pub fn prune(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_empty(v))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(prune).collect()),
        other => other,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Keeps only `keys` of an object (in their order of the object), then prunes.
pub fn pick(value: Value, keys: &[&str]) -> Value {
    match value {
        Value::Object(map) => prune(Value::Object(
            map.into_iter()
                .filter(|(k, _)| keys.contains(&k.as_str()))
                .collect::<Map<_, _>>(),
        )),
        other => prune(other),
    }
}

/// Removes `keys` from an object, then prunes.
pub fn without(value: Value, keys: &[&str]) -> Value {
    match value {
        Value::Object(mut map) => {
            for k in keys {
                map.remove(*k);
            }
            prune(Value::Object(map))
        }
        other => prune(other),
    }
}

/// What an agent needs of a task it works on: the timestamps of its history, the
/// derived flags that are true for any task it can hold, and zero counters are left out.
pub fn task(value: Value) -> Value {
    let mut v = without(
        value,
        &[
            "created_at",
            "updated_at",
            "started_at",
            "completed_at",
            "deleted_at",
        ],
    );
    if let Value::Object(map) = &mut v {
        if map.get("deps_met") == Some(&Value::Bool(true)) {
            map.remove("deps_met");
        }
        if map.get("retry_count").and_then(Value::as_u64) == Some(0) {
            map.remove("retry_count");
        }
        if let Some(Value::Array(notes)) = map.get_mut("notes") {
            for note in notes {
                *note = pick(note.take(), &["author", "text"]);
            }
        }
    }
    v
}

/// One line of a task list.
pub fn task_row(value: Value) -> Value {
    pick(
        value,
        &[
            "id",
            "title",
            "status",
            "priority",
            "assignee",
            "epic",
            "depends_on",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prune_removes_empty_values_at_every_depth() {
        let v = json!({"a": null, "b": "", "c": [], "d": {"e": null}, "f": [{"g": [], "h": 1}], "i": false, "j": 0});
        assert_eq!(prune(v), json!({"f": [{"h": 1}], "i": false, "j": 0}));
    }

    #[test]
    fn task_keeps_what_an_agent_acts_on() {
        let v = json!({"id": "T-1", "title": "x", "deps_met": true, "retry_count": 0,
            "created_at": "2026", "notes": [{"author": "a", "at": "2026", "text": "hi"}],
            "files": [], "fence": 3});
        assert_eq!(
            task(v),
            json!({"id": "T-1", "title": "x", "notes": [{"author": "a", "text": "hi"}], "fence": 3})
        );
        let blocked = json!({"id": "T-2", "deps_met": false, "retry_count": 2});
        assert_eq!(task(blocked.clone()), blocked);
    }
}
