//! Fuzzing `baton import jsonl` through the real binary: a real export, damaged the ways
//! files get damaged (cut short, lines lost or doubled, values of the wrong type, huge
//! numbers, duplicate ids, bytes that are not UTF-8, edited headers). The import either
//! brings the whole file in, or is refused with a clear error (never `internal`) that names
//! the line when one line is at fault, and the project is left exactly as it was.

mod support;

use baton_core::fuzzing::{self, hostile_text};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use support::{busy_project, Sandbox};

/// One way to damage the file.
#[derive(Clone, Debug)]
enum Damage {
    /// Cut the file at this byte.
    Truncate(prop::sample::Index),
    DropLine(prop::sample::Index),
    DuplicateLine(prop::sample::Index),
    SwapLines(prop::sample::Index, prop::sample::Index),
    /// Set one field of one row (or of the header) to this value.
    SetField(prop::sample::Index, prop::sample::Index, Value),
    /// Put these bytes at this place.
    Insert(prop::sample::Index, Vec<u8>),
}

fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(serde_json::json!(1e300)),
        Just(serde_json::json!(-0.5)),
        (0i64..5).prop_map(Value::from),
        hostile_text().prop_map(Value::String),
        Just(serde_json::json!([1, "x"])),
        Just(serde_json::json!({"a": 1})),
        prop::sample::select(vec![
            "open",
            "done",
            "T-1",
            "2026-01-01T00:00:00.000Z",
            "[]",
            "{}"
        ])
        .prop_map(|s| Value::String(s.into())),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        1 => index().prop_map(Damage::Truncate),
        1 => index().prop_map(Damage::DropLine),
        2 => index().prop_map(Damage::DuplicateLine),
        1 => (index(), index()).prop_map(|(a, b)| Damage::SwapLines(a, b)),
        4 => (index(), index(), odd_value()).prop_map(|(l, f, v)| Damage::SetField(l, f, v)),
        1 => (index(), prop::collection::vec(
            prop_oneof![Just(0xffu8), Just(0xc3), Just(b'\n'), Just(b'"'), Just(0), any::<u8>()],
            1..4,
        ))
            .prop_map(|(at, bytes)| Damage::Insert(at, bytes)),
    ]
}

fn apply(file: &[u8], damage: &Damage) -> Vec<u8> {
    // By bytes: an earlier damage may have left bytes that are not UTF-8.
    let mut lines: Vec<Vec<u8>> = file
        .strip_suffix(b"\n")
        .unwrap_or(file)
        .split(|b| *b == b'\n')
        .map(<[u8]>::to_vec)
        .collect();
    let join = |lines: Vec<Vec<u8>>| {
        let mut s = lines.join(&b'\n');
        s.push(b'\n');
        s
    };
    match damage {
        Damage::Truncate(at) => file[..at.index(file.len().max(1)).min(file.len())].to_vec(),
        Damage::DropLine(i) => {
            lines.remove(i.index(lines.len()));
            join(lines)
        }
        Damage::DuplicateLine(i) => {
            let i = i.index(lines.len());
            lines.insert(i, lines[i].clone());
            join(lines)
        }
        Damage::SwapLines(a, b) => {
            let (a, b) = (a.index(lines.len()), b.index(lines.len()));
            lines.swap(a, b);
            join(lines)
        }
        Damage::SetField(line, field, value) => {
            let i = line.index(lines.len());
            let Ok(mut v) = serde_json::from_slice::<Value>(&lines[i]) else {
                return file.to_vec();
            };
            let target = if v.get("row").is_some() {
                &mut v["row"]
            } else {
                &mut v
            };
            if let Some(fields) = target.as_object_mut().filter(|f| !f.is_empty()) {
                let keys: Vec<String> = fields.keys().cloned().collect();
                let key = &keys[field.index(keys.len())];
                fields.insert(key.clone(), value.clone());
            }
            lines[i] = v.to_string().into_bytes();
            join(lines)
        }
        Damage::Insert(at, bytes) => {
            let at = at.index(file.len().max(1)).min(file.len());
            let mut out = file[..at].to_vec();
            out.extend_from_slice(bytes);
            out.extend_from_slice(&file[at..]);
            out
        }
    }
}

#[test]
fn a_damaged_export_is_imported_whole_or_refused_with_nothing_written() {
    let source = busy_project();
    let export = source.run(&["export"]).ok().stdout.into_bytes();
    let fresh = || {
        let target = Sandbox::project();
        let before = target.run(&["export"]).ok().stdout;
        (target, before)
    };
    let target = std::cell::RefCell::new(fresh());
    fuzzing::runner(100, file!())
        .run(&prop::collection::vec(damage(), 1..3), |damages| {
            let file = damages.iter().fold(export.clone(), |f, d| apply(&f, d));
            let current = target.borrow();
            let (project, before) = (&current.0, current.1.clone());
            let path = project.path().join("import.jsonl");
            std::fs::write(&path, &file).unwrap();
            let run = project.run(&["import", "jsonl", path.to_str().unwrap()]);
            if run.code == 0 {
                drop(current);
                // It went in whole; the next case needs an empty project again.
                *target.borrow_mut() = fresh();
                return Ok(());
            }
            let error: Value = serde_json::from_str(run.stderr.trim()).map_err(|e| {
                TestCaseError::fail(format!("stderr is not JSON ({e}): {}", run.stderr))
            })?;
            let error = &error["error"];
            prop_assert!(
                run.code != 1 && error["code"] != "internal",
                "exit {}: {}",
                run.code,
                run.stderr
            );
            prop_assert!(
                error["hint"].as_str().is_some_and(|h| !h.is_empty()),
                "{}",
                run.stderr
            );
            if error["code"] == "invalid_export" {
                let message = error["message"].as_str().unwrap_or_default();
                prop_assert!(
                    message.starts_with("line ") || message.starts_with("the header promises"),
                    "{}",
                    message
                );
            }
            let after = project.run(&["export"]).ok().stdout;
            prop_assert_eq!(&after, &before, "a refused import changed the project");
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
