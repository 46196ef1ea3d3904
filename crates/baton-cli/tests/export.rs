//! `baton export` / `baton import jsonl`: a project written out as JSON Lines comes back
//! identical, from SQLite into PostgreSQL and into SQLite, and a bad file or a non-empty
//! target is refused with nothing written.

mod support;

use baton_postgres::testing::TestDatabase;
use serde_json::Value;
use support::{busy_project, on_postgres, Sandbox, READS};

/// `baton import jsonl FILE` (or `-` with `stdin`) on a database URL.
fn import_on_postgres(s: &Sandbox, url: &str, file: &str, stdin: Option<&str>) -> support::Run {
    let mut cmd = s.command(&["import", "jsonl", file]);
    cmd.env("BATON_DATABASE_URL", url);
    if let Some(text) = stdin {
        // Through a file handle: stdin is the file itself, read to the end by baton.
        let path = s.write("stdin.jsonl", text);
        cmd.stdin(std::fs::File::open(path).unwrap());
    }
    support::finish(cmd.output().unwrap())
}

#[test]
fn sqlite_to_postgres_and_back_exports_the_same_bytes() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let s = busy_project();
    let exported = s.run(&["export"]).ok().stdout;
    let header: Value = serde_json::from_str(exported.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "baton-export");
    assert_eq!(header["version"], 1);
    assert_eq!(header["baton"], env!("CARGO_PKG_VERSION"));
    assert_eq!(header["counts"]["tasks"], 3, "{header}");
    assert_eq!(header["counts"]["doc_versions"], 2, "{header}");
    assert_eq!(header["counts"]["messages"], 2, "{header}");
    let rows = exported.lines().count() as u64 - 1;
    let promised: u64 = header["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(rows, promised, "one line per row");

    // Into PostgreSQL through standard input, then out again.
    let imported = import_on_postgres(&s, database.url(), "-", Some(&exported))
        .ok()
        .json();
    assert_eq!(imported["rows"]["events"], header["counts"]["events"]);
    let mut again = s.command(&["export"]);
    again.env("BATON_DATABASE_URL", database.url());
    let again = support::finish(again.output().unwrap()).ok().stdout;
    assert_eq!(exported, again, "the round trip changes nothing");
    for args in READS {
        let sqlite: Value = s.as_agent("codex", args).ok().json();
        let postgres: Value = on_postgres(&s, database.url(), "codex", args).ok().json();
        assert_eq!(sqlite, postgres, "baton {}", args.join(" "));
    }
    // The copy goes on numbering where the original stopped.
    let added = on_postgres(&s, database.url(), "lead", &["task", "add", "--title", "n"])
        .ok()
        .json();
    assert_eq!(added["id"], "T-4", "{added}");
    on_postgres(&s, database.url(), "lead", &["task", "note", "T-4", "more"]).ok();
    // A second import into the now busy database is refused.
    let file = s.write("board.jsonl", &exported);
    import_on_postgres(&s, database.url(), file.to_str().unwrap(), None)
        .fails(4, "import_conflict");
}

#[test]
fn sqlite_to_sqlite_through_a_file_is_identical_and_goes_on() {
    let s = busy_project();
    let report = s
        .run(&["export", "-o", "board.jsonl", "--json"])
        .ok()
        .json();
    assert_eq!(report["counts"]["tasks"], 3, "{report}");
    let file = s.path().join("board.jsonl");
    let exported = std::fs::read_to_string(&file).unwrap();
    // It holds the whole board (webhook secrets too): its owner's only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    let target = Sandbox::project();
    let imported = target
        .run(&["import", "jsonl", file.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(imported["rows"]["tasks"], 3, "{imported}");
    assert_eq!(target.run(&["export"]).ok().stdout, exported);
    for args in READS {
        let before: Value = s.as_agent("codex", args).ok().json();
        let after: Value = target.as_agent("codex", args).ok().json();
        assert_eq!(before, after, "baton {}", args.join(" "));
    }
    let added = target.run(&["task", "add", "--title", "next"]).ok().json();
    assert_eq!(added["id"], "T-4");
    let events = target.run(&["events", "--limit", "2"]).ok().json();
    assert_eq!(
        events[1]["id"].as_u64().unwrap(),
        events[0]["id"].as_u64().unwrap() + 1,
        "the log goes on without a gap: {events}"
    );
}

/// The target stays exactly as it was: still a fresh project.
#[track_caller]
fn still_fresh(target: &Sandbox) {
    let tasks = target.run(&["task", "list"]).ok().json();
    assert!(tasks.as_array().unwrap().is_empty(), "{tasks}");
    let events = target.run(&["events", "--limit", "0"]).ok().json();
    assert_eq!(events.as_array().unwrap().len(), 1, "{events}");
    assert_eq!(events[0]["action"], "project.created");
}

#[test]
fn a_bad_file_is_refused_with_its_line_and_nothing_is_written() {
    let s = busy_project();
    let good = s.run(&["export"]).ok().stdout;
    let lines: Vec<&str> = good.lines().collect();
    let target = Sandbox::project();
    let import = |name: &str, text: &str| {
        let path = target.write(name, text);
        target.run(&["import", "jsonl", path.to_str().unwrap()])
    };

    // A malformed line, late in the file: refused before anything is written.
    let mut broken = lines.clone();
    broken[5] = "{\"table\":\"tasks\",\"row\":{\"id\":";
    let r = import("broken.jsonl", &broken.join("\n")).fails(2, "invalid_export");
    let message = r.error()["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("line 6: not valid JSON"), "{message}");
    assert!(r.error()["hint"].as_str().is_some());
    still_fresh(&target);

    // A table Baton does not have.
    let mut unknown = lines.clone();
    unknown[1] = "{\"table\":\"users\",\"row\":{\"id\":1}}";
    let r = import("unknown.jsonl", &unknown.join("\n")).fails(2, "invalid_export");
    let message = r.error()["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("line 2: unknown table 'users'"),
        "{message}"
    );

    // A column the table does not have.
    let extra = good.replacen("\"title\":", "\"owner\":\"x\",\"title\":", 1);
    let r = import("extra.jsonl", &extra).fails(2, "invalid_export");
    assert!(
        r.error()["message"]
            .as_str()
            .unwrap()
            .contains("no column 'owner'"),
        "{}",
        r.stderr
    );

    // A newer format version.
    let newer = good.replacen("\"version\":1", "\"version\":2", 1);
    let r = import("newer.jsonl", &newer).fails(2, "unsupported_version");
    assert!(r.error()["message"].as_str().unwrap().contains("version 2"));

    // Not an export at all, an empty file, a file cut short.
    import("other.jsonl", "{\"hello\":1}\n").fails(2, "invalid_export");
    import("empty.jsonl", "").fails(2, "invalid_input");
    let cut = lines[..lines.len() - 3].join("\n");
    let r = import("cut.jsonl", &cut).fails(2, "invalid_export");
    assert!(
        r.error()["message"].as_str().unwrap().contains("promises"),
        "{}",
        r.stderr
    );
    target
        .run(&["import", "jsonl", "missing.jsonl"])
        .fails(3, "file_not_found");
    still_fresh(&target);

    // Well-formed lines the database refuses (found by fuzzing: they were internal
    // errors): a text id, a dependency on a task that is not there. Named by their line.
    let task_line = lines
        .iter()
        .position(|l| l.contains("\"table\":\"tasks\""))
        .unwrap();
    for (from, to) in [
        (
            "{\"table\":\"tasks\",\"row\":{\"id\":1,",
            "{\"table\":\"tasks\",\"row\":{\"id\":\"open\",",
        ),
        (
            "\"task\":2,\"depends_on\":1",
            "\"task\":2,\"depends_on\":99",
        ),
    ] {
        let bad = good.replacen(from, to, 1);
        assert_ne!(bad, good);
        let r = import("refused.jsonl", &bad).fails(2, "invalid_input");
        let message = r.error()["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with("line ") && message.contains("row was refused"),
            "{message}"
        );
        if from.contains("tasks") {
            assert!(
                message.starts_with(&format!("line {}:", task_line + 1)),
                "{message}"
            );
        }
        still_fresh(&target);
    }

    // A project that holds anything is refused whole (exit 4), and left as it was.
    target.run(&["task", "add", "--title", "mine"]).ok();
    let r = import("good.jsonl", &good).fails(4, "import_conflict");
    assert!(r.error()["hint"].as_str().unwrap().contains("baton init"));
    let tasks = target.run(&["task", "list"]).ok().json();
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(tasks[0]["title"], "mine");
}

#[test]
fn a_rejected_row_rolls_the_whole_postgres_import_back() {
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let s = busy_project();
    let good = s.run(&["export"]).ok().stdout;
    // Well-formed, but a dependency on a task that is not there: the database refuses
    // that row after many others went in; none of them may stay.
    let bad = good.replacen(
        "{\"table\":\"task_deps\",\"row\":{\"task\":2,\"depends_on\":1",
        "{\"table\":\"task_deps\",\"row\":{\"task\":2,\"depends_on\":99",
        1,
    );
    assert_ne!(bad, good);
    let path = s.write("bad.jsonl", &bad);
    let r = import_on_postgres(&s, database.url(), path.to_str().unwrap(), None)
        .fails(2, "invalid_input");
    let message = r.error()["message"].as_str().unwrap().to_string();
    assert!(
        message.starts_with("line ") && message.contains("task_deps row was refused"),
        "{message}"
    );
    let path = s.write("good.jsonl", &good);
    import_on_postgres(&s, database.url(), path.to_str().unwrap(), None).ok();
}

#[test]
fn export_since_holds_only_the_record_since_then_and_is_not_imported() {
    let s = Sandbox::project();
    s.run(&["task", "add", "kept on the board"]).ok();
    // A log entry from 2020 (written straight into the file) and one from now.
    let db = rusqlite::Connection::open(s.path().join(".baton/baton.db")).unwrap();
    db.execute(
        "INSERT INTO events (at, actor, action, detail) VALUES ('2020-01-01T00:00:00.000Z', \
         'ci', 'log.build', '{\"message\":\"ancient\"}')",
        [],
    )
    .unwrap();
    drop(db);
    s.run(&["log", "recent"]).ok();

    let text = s.run(&["export", "--since", "2021-06-01"]).ok().stdout;
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["since"], "2021-06-01T00:00:00.000Z");
    let tables: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l["table"].as_str().unwrap())
        .collect();
    assert!(
        tables.iter().all(|t| ["project", "events"].contains(t)),
        "{tables:?}"
    );
    assert!(!lines[0]["counts"]
        .as_object()
        .unwrap()
        .contains_key("tasks"));
    assert!(text.contains("recent") && text.contains("task.created"));
    assert!(!text.contains("ancient"));
    // The whole export still has it.
    assert!(s.run(&["export"]).ok().stdout.contains("ancient"));

    let file = s.path().join("since.jsonl");
    std::fs::write(&file, &text).unwrap();
    let target = Sandbox::project();
    let refused = target.run(&["import", "jsonl", file.to_str().unwrap()]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("partial_export"),
        "{}",
        refused.stderr
    );
    let bad = s.run(&["export", "--since", "2021-13-01"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("a date (2026-11-21)"), "{}", bad.stderr);
}
