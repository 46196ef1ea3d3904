//! What the extractor finds in a small fixture per language. Snapshots live in
//! `tests/snapshots/`; review changes with `cargo insta review`.

use std::fmt::Write as _;
use std::path::Path;

use baton_code::{extract_source, Language};

fn render(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract")
        .join(file);
    let src = std::fs::read(&path).expect("fixture exists");
    let lang = Language::from_path(file).expect("fixture has a supported extension");
    let facts = extract_source(lang, &src);
    let mut out = String::new();
    for s in &facts.symbols {
        let name = match &s.container {
            Some(c) => format!("{c}.{}", s.name),
            None => s.name.clone(),
        };
        let vis = if s.exported { "pub" } else { "priv" };
        let _ = writeln!(
            out,
            "{}-{} {} {} {} | {}",
            s.line, s.end_line, s.kind, name, vis, s.signature
        );
        if let Some(doc) = &s.doc {
            let _ = writeln!(out, "    doc: {doc}");
        }
    }
    for i in &facts.imports {
        let _ = writeln!(
            out,
            "import L{} {:?} {} [{}]",
            i.line,
            i.source,
            i.style.as_str(),
            i.names.join(", ")
        );
    }
    out
}

macro_rules! snapshot {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(render($file));
        }
    };
}

snapshot!(typescript_symbols_and_imports, "sample.ts");
snapshot!(tsx_symbols_and_imports, "component.tsx");
snapshot!(javascript_symbols_and_imports, "sample.js");
snapshot!(python_symbols_and_imports, "sample.py");
snapshot!(go_symbols_and_imports, "sample.go");
snapshot!(rust_symbols_and_imports, "sample.rs");
snapshot!(java_symbols_and_imports, "Sample.java");
snapshot!(c_symbols_and_includes, "sample.c");
snapshot!(cpp_symbols_and_includes, "sample.cpp");
snapshot!(ruby_symbols_and_requires, "sample.rb");
snapshot!(csharp_symbols_and_usings, "Sample.cs");

#[test]
fn every_grammar_loads_with_this_tree_sitter_abi() {
    for lang in Language::ALL {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&lang.grammar())
            .unwrap_or_else(|e| panic!("{} grammar does not load: {e}", lang.as_str()));
        assert!(
            parser.parse("x", None).is_some(),
            "{} parses",
            lang.as_str()
        );
    }
}

#[test]
fn broken_and_non_utf8_source_does_not_panic() {
    let inputs: [&[u8]; 4] = [
        b"def f(:\n  class (((",
        b"\xff\xfe\x00garbage\xc3(",
        b"",
        b"}}}}{{{{ fn struct class",
    ];
    for lang in Language::ALL {
        for src in inputs {
            let _ = extract_source(lang, src);
        }
    }
}

/// Callbacks nested far deeper than any real code (generated or hostile input) are searched
/// to a bounded depth: extraction finishes on a small thread stack, and what is near the top
/// is still found.
#[test]
fn deeply_nested_callbacks_do_not_exhaust_the_stack() {
    let depth = 20_000;
    let mut src = String::from("function top() {}\n");
    for _ in 0..depth {
        src.push_str("f(() => { function g() {}\n");
    }
    for _ in 0..depth {
        src.push_str("});\n");
    }
    let facts = on_a_small_stack(src);
    let names: Vec<&str> = facts.symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names[0], "top");
    assert!(names.len() > 10 && names.len() < depth, "{}", names.len());
}

/// An arrow function whose body is another arrow function, far deeper than real code: the
/// search stays bounded. Type literals in an expression body are found once, not twice.
#[test]
fn arrow_chains_are_bounded_and_type_literals_found_once() {
    let depth = 20_000;
    let src = format!("describe(\"x\", {}0);\n", "a => ".repeat(depth));
    let facts = on_a_small_stack(src);
    assert!(facts.symbols.is_empty());
    let src = "export const make = () => new Map<string, { due: number }>();\n\
               describe(\"x\", () => useState<{ open: boolean }>());\n";
    let facts = extract_source(Language::TypeScript, src.as_bytes());
    let names: Vec<&str> = facts.symbols.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["make", "due", "open"]);
}

/// Extracts TypeScript on a thread with a 2 MB stack (as a scan's worker threads have):
/// deep input must not overflow it.
fn on_a_small_stack(src: String) -> baton_code::FileFacts {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || extract_source(Language::TypeScript, src.as_bytes()))
        .unwrap()
        .join()
        .expect("extraction finished")
}
