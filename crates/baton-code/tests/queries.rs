//! Queries over a scanned project: symbols, outline, imports, dependents,
//! impact, summary; and what the walk leaves out.

mod common;

use baton_code::{scan_full, CodeIndex, SymbolKind, SymbolQuery};
use common::Project;

fn project() -> Project {
    let p = Project::new();
    p.write("src/core/session.ts", "export class Session {\n  refresh() {}\n}\nexport function openSession() {}\nfunction sessionHelper() {}\n")
        .write("src/core/index.ts", "export { Session } from './session';\nimport { openSession } from './session';\n")
        .write("src/api/handler.ts", "import { Session, openSession } from '../core';\nexport function handle() {}\n")
        .write("src/api/server.ts", "import { handle } from './handler';\nexport const PORT = 8080;\n")
        .write("tools/cli.py", "class SessionTool:\n    def run(self):\n        pass\n");
    scan_full(&p.root).unwrap();
    p
}

fn q() -> SymbolQuery {
    SymbolQuery::default()
}

#[test]
fn name_filter_matches_substrings_case_insensitively_with_exact_matches_first() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let found = index
        .symbols(&SymbolQuery {
            name: Some("session".into()),
            ..q()
        })
        .unwrap();
    let names: Vec<&str> = found.iter().map(|s| s.name.as_str()).collect();
    // Exact, then prefix matches, shorter names first.
    assert_eq!(
        names,
        ["Session", "SessionTool", "sessionHelper", "openSession"]
    );
}

#[test]
fn equals_prefix_asks_for_an_exact_name() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let found = index
        .symbols(&SymbolQuery {
            name: Some("=Session".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    let s = &found[0];
    assert_eq!(
        (s.file.as_str(), s.line, s.end_line, s.kind),
        ("src/core/session.ts", 1, 3, SymbolKind::Class)
    );
    assert!(s.exported);
    assert_eq!(s.signature, "class Session");
}

#[test]
fn kind_file_prefix_exported_and_limit_filters_combine() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let functions_in_src = index
        .symbols(&SymbolQuery {
            kind: Some(SymbolKind::Function),
            file_prefix: Some("src/".into()),
            exported_only: true,
            ..q()
        })
        .unwrap();
    let names: Vec<&str> = functions_in_src.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["handle", "openSession"]);
    let limited = index.symbols(&SymbolQuery { limit: 2, ..q() }).unwrap();
    assert_eq!(limited.len(), 2);
    let prefix_is_a_folder_not_a_string_prefix = index
        .symbols(&SymbolQuery {
            file_prefix: Some("src/ap".into()),
            ..q()
        })
        .unwrap();
    assert!(prefix_is_a_folder_not_a_string_prefix.is_empty());
}

#[test]
fn outline_lists_a_files_symbols_in_source_order_with_containers() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let outline = index.outline("./tools/cli.py").unwrap();
    let rows: Vec<(String, Option<String>, u32)> = outline
        .into_iter()
        .map(|s| (s.name, s.container, s.line))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("SessionTool".to_string(), None, 1),
            ("run".to_string(), Some("SessionTool".to_string()), 2)
        ]
    );
}

#[test]
fn unknown_file_is_a_not_found_error_with_a_hint() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let err = index.outline("nope.ts").unwrap_err();
    assert_eq!(err.code(), "file_not_indexed");
    assert_eq!(err.class(), baton_code::ErrorClass::NotFound);
    assert!(
        err.hint().contains("relative to the project root"),
        "{}",
        err.hint()
    );
    assert!(err.to_string().contains("no such file"), "{err}");
    assert!(index.imports("nope.ts").is_err());
    assert!(index.dependents("nope.ts", 0).is_err());
}

#[test]
fn missing_index_says_to_run_a_scan() {
    let p = Project::new();
    let err = CodeIndex::open(&p.root).err().unwrap();
    assert_eq!(err.code(), "code_index_missing");
}

#[test]
fn absolute_paths_inside_the_project_are_accepted() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let abs = p.path("tools/cli.py");
    assert_eq!(index.outline(abs.to_str().unwrap()).unwrap().len(), 2);
}

#[test]
fn dependents_are_transitive_and_bounded_by_depth() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let all = index.dependents("src/core/session.ts", 0).unwrap();
    let rows: Vec<(&str, u32, &str)> = all
        .iter()
        .map(|d| (d.file.as_str(), d.depth, d.via.as_str()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("src/core/index.ts", 1, "src/core/session.ts"),
            ("src/api/handler.ts", 2, "src/core/index.ts"),
            ("src/api/server.ts", 3, "src/api/handler.ts"),
        ]
    );
    assert_eq!(index.dependents("src/core/session.ts", 1).unwrap().len(), 1);
}

#[test]
fn impact_lists_dependent_files_and_the_changed_symbols_they_use() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let impact = index.impact(&["src/core/session.ts".to_string()]).unwrap();
    let files: Vec<&str> = impact.files.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "src/core/index.ts",
            "src/api/handler.ts",
            "src/api/server.ts"
        ]
    );
    let symbols: Vec<(&str, Vec<String>)> = impact
        .symbols
        .iter()
        .map(|s| (s.name.as_str(), s.used_by.clone()))
        .collect();
    assert_eq!(
        symbols,
        vec![
            ("Session", vec!["src/core/index.ts".to_string()]),
            ("openSession", vec!["src/core/index.ts".to_string()]),
        ]
    );
    assert_eq!(index.impact(&[]).unwrap_err().code(), "invalid_input");
}

#[test]
fn summary_counts_languages_kinds_and_most_imported_files() {
    let p = project();
    let index = CodeIndex::open(&p.root).unwrap();
    let s = index.summary().unwrap();
    assert_eq!(s.files, 5);
    assert_eq!(s.languages[0].language, "typescript");
    assert_eq!(s.languages[0].files, 4);
    assert_eq!(s.kinds.get("class"), Some(&2));
    assert!(s
        .most_imported
        .iter()
        .any(|c| c.name == "src/core/session.ts" && c.count == 1));
    assert!(s.resolved_imports >= 3);
}

#[test]
fn walk_skips_ignored_vendored_large_and_binary_files() {
    let p = Project::new();
    p.write(".gitignore", "gen/\n")
        .write(".batonignore", "*.generated.ts\n")
        .write("keep.ts", "export function keep() {}\n")
        .write("src/bin/tool.rs", "fn main() {}\n")
        .write("gen/skip.ts", "export function gen() {}\n")
        .write("api.generated.ts", "export function generated() {}\n")
        .write("node_modules/pkg/index.js", "function vendored() {}\n")
        .write("vendor/lib.go", "package lib\nfunc Vendored() {}\n")
        .write("target/debug/build.rs", "fn built() {}\n")
        .write("notes.txt", "not code\n");
    let big = format!("x = 1\n{}", "# padding\n".repeat(120_000));
    p.write("big.py", &big);
    std::fs::write(p.path("blob.c"), b"int x;\0\0\x01binary").unwrap();
    let report = scan_full(&p.root).unwrap();
    assert_eq!(report.files, 2, "{report:?}");
    assert_eq!(report.skipped_large, 1);
    assert_eq!(report.skipped_binary, 1);
    let index = CodeIndex::open(&p.root).unwrap();
    let s = index.summary().unwrap();
    assert_eq!((s.skipped_large, s.skipped_binary), (1, 1));
}

#[test]
fn invalid_utf8_and_unparseable_files_are_indexed_without_failing() {
    let p = Project::new();
    p.write("broken.py", "def ok():\n    pass\n\ndef broken(:\n");
    std::fs::write(p.path("latin1.py"), b"# caf\xe9\ndef cafe():\n    pass\n").unwrap();
    let report = scan_full(&p.root).unwrap();
    assert_eq!(report.files, 2);
    let index = CodeIndex::open(&p.root).unwrap();
    let names: Vec<String> = index
        .symbols(&q())
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(names.contains(&"ok".to_string()), "{names:?}");
    assert!(names.contains(&"cafe".to_string()), "{names:?}");
}

#[test]
fn a_second_full_scan_replaces_the_index() {
    let p = project();
    p.remove("tools/cli.py");
    let report = scan_full(&p.root).unwrap();
    assert_eq!(report.files, 4);
    let index = CodeIndex::open(&p.root).unwrap();
    assert!(index.outline("tools/cli.py").is_err());
}

#[test]
fn virtualenvs_are_skipped_by_their_marker_not_by_name() {
    let p = Project::new();
    p.write("env/pyvenv.cfg", "home = /usr/bin\n")
        .write("env/lib/site.py", "def installed(): pass\n")
        .write("venv/__init__.py", "def create(): pass\n");
    let report = scan_full(&p.root).unwrap();
    assert_eq!(report.files, 1, "{report:?}");
    let index = CodeIndex::open(&p.root).unwrap();
    assert_eq!(index.outline("venv/__init__.py").unwrap()[0].name, "create");
}

#[test]
fn name_substrings_are_literal_not_patterns() {
    let p = Project::new();
    p.write(
        "m.py",
        "def _private_thing():\n    pass\n\ndef xprivatex():\n    pass\n",
    );
    scan_full(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    let found = index
        .symbols(&SymbolQuery {
            name: Some("_priv".into()),
            ..q()
        })
        .unwrap();
    let names: Vec<&str> = found.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["_private_thing"]);
    let none = index
        .symbols(&SymbolQuery {
            name: Some("%".into()),
            ..q()
        })
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn substring_results_keep_their_order_and_filters_across_many_names() {
    let p = Project::new();
    let mut src = String::new();
    for i in 0..300 {
        src.push_str(&format!(
            "def handler_{i:03}():\n    pass\n\ndef _handler_{i:03}():\n    pass\n\n"
        ));
    }
    p.write("many.py", &src);
    scan_full(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    let query = |limit| SymbolQuery {
        name: Some("HANDLER".into()),
        exported_only: true,
        limit,
        ..q()
    };
    let all = index.symbols(&query(0)).unwrap();
    assert_eq!(all.len(), 300);
    assert!(all.iter().all(|s| s.exported));
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let some = index.symbols(&query(260)).unwrap();
    assert_eq!(some.len(), 260);
    assert_eq!(some.last().unwrap().name, "handler_259");
}

#[test]
fn a_header_with_cpp_constructs_is_parsed_as_cpp() {
    let p = Project::new();
    p.write(
        "include/shape.h",
        "#pragma once\nnamespace geo {\nclass Shape {\npublic:\n  double area() const;\n};\n}\n",
    )
    .write(
        "include/plain.h",
        "struct point { int x; };\nint add(int a, int b);\n",
    );
    scan_full(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    let names: Vec<String> = index
        .outline("include/shape.h")
        .unwrap()
        .into_iter()
        .map(|s| format!("{} {}", s.kind, s.name))
        .collect();
    assert_eq!(names, ["module geo", "class Shape", "method area"]);
    let summary = index.summary().unwrap();
    let langs: Vec<&str> = summary
        .languages
        .iter()
        .map(|l| l.language.as_str())
        .collect();
    assert!(langs.contains(&"cpp") && langs.contains(&"c"), "{langs:?}");
}

#[test]
fn among_equal_names_exported_top_level_definitions_come_first() {
    let p = Project::new();
    p.write(
        "a_tests.py",
        "def test_x():\n    class Model:\n        pass\n",
    )
    .write(
        "b_private.py",
        "class _Hidden:\n    class Model:\n        pass\n",
    )
    .write("z_models.py", "class Model:\n    pass\n");
    scan_full(&p.root).unwrap();
    let index = CodeIndex::open(&p.root).unwrap();
    let found = index
        .symbols(&SymbolQuery {
            name: Some("=Model".into()),
            ..q()
        })
        .unwrap();
    let files: Vec<&str> = found.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(files, ["z_models.py", "b_private.py", "a_tests.py"]);
}
