//! Generators and budgets shared by the fuzz suites (`crates/*/tests/fuzz_*.rs`): text that
//! parsers meet from outside (multi-byte, control characters, huge, near-valid), and the
//! case count each suite runs.
//!
//! Suites run a small number of cases in CI; `BATON_FUZZ_CASES=N` runs `N` per property
//! instead (see `bench/fuzz.sh` for the long run).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Number, Value};

/// Cases per property: `BATON_FUZZ_CASES` when set, else `ci_default`.
pub fn cases(ci_default: u32) -> u32 {
    std::env::var("BATON_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(ci_default)
}

/// A proptest configuration running [`cases`] cases, with shrinking bounded so that a
/// failure found in a long run is still reported in reasonable time.
pub fn config(ci_default: u32) -> Config {
    Config {
        cases: cases(ci_default),
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// A runner for suites that set up something costly (a store) once and run every case on
/// it; failures are saved beside `source_file` (pass `file!()`) like `proptest!` does.
pub fn runner(ci_default: u32, source_file: &'static str) -> TestRunner {
    TestRunner::new(Config {
        source_file: Some(source_file),
        ..config(ci_default)
    })
}

/// Pieces that break parsers written with ASCII in mind, or that are one step from valid.
pub const TRICKY: &[&str] = &[
    "",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\0",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{200b}",
    "\u{200f}",
    "\u{202e}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "€",
    "日本",
    "🦀",
    "e\u{301}",
    "ß",
    "İ",
    "ǅ",
    "a",
    "Z",
    "_",
    "-",
    "--",
    ".",
    "..",
    "/",
    "//",
    "\\",
    "*",
    "**",
    "?",
    "[",
    "]",
    "[!",
    "[^",
    "{",
    "}",
    ",",
    "!",
    "^",
    "$",
    "%",
    "'",
    "\"",
    "`",
    "(",
    ")",
    ":",
    ";",
    "+",
    "@",
    "#",
    "=",
    "|",
    "~",
    "0",
    "00",
    "1",
    "007",
    "-1",
    "1e3",
    "0x1F",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999",
    "T",
    "T-",
    "t-",
    "D-",
    "M-",
    "T-1",
    "T-0",
    "t-00",
    "T-€",
    "human",
    "any",
    "HUMAN",
    "Any",
    "system",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "or",
    "and",
    "NEAR(",
    "col:",
    "^x",
    "x*",
    "\"\"",
    "src",
    "auth",
    "x.rs",
    "null",
    "true",
    "{}",
    "[]",
    "%00",
    "&amp;",
    "<b>",
    "'; DROP TABLE tasks; --",
];

/// One tricky piece, an arbitrary character, or an ASCII word.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(TRICKY).prop_map(str::to_string),
        2 => any::<char>().prop_map(String::from),
        1 => "[a-z0-9]{1,8}",
    ]
}

/// Text from outside: tricky pieces glued together, arbitrary Unicode, or (rarely) huge.
pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::collection::vec(piece(), 0..12).prop_map(|v| v.concat()),
        3 => any::<String>(),
        1 => (piece(), 500usize..20_000).prop_map(|(p, n)| p.repeat(n)),
    ]
}

/// Short hostile text (names, keys, small fields), without the huge case.
pub fn short_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(piece(), 0..6).prop_map(|v| v.concat()),
        1 => any::<String>(),
    ]
}

/// Ids as people and programs mistype them: `T-`, `t-00`, `T-99999999999999999999`, `T-€`.
pub fn id_text(prefix: &'static str) -> impl Strategy<Value = String> {
    let letters = proptest::sample::select(vec![
        prefix.to_string(),
        prefix.to_lowercase(),
        String::new(),
        "X".to_string(),
        "€".to_string(),
        format!("{prefix}{prefix}"),
    ]);
    let dashes = proptest::sample::select(vec!["-", "", "--", " - ", "\u{2010}", "_"]);
    let numbers = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..1000).prop_map(|n| n.to_string()),
        (0u64..100, 1usize..25).prop_map(|(n, zeros)| format!("{}{n}", "0".repeat(zeros))),
        short_text(),
    ];
    prop_oneof![
        4 => (letters, dashes, numbers, proptest::sample::select(vec!["", " ", "\n", "x", "€"]))
            .prop_map(|(l, d, n, tail)| format!("{l}{d}{n}{tail}")),
        1 => hostile_text(),
    ]
}

/// Globs near the valid ones: segments mixing `*`, `**`, `[`, `{`, `!`, `\`, `?`, `/`,
/// ranges (some backwards), multi-byte characters and plain names.
pub fn glob_text() -> impl Strategy<Value = String> {
    let atom = proptest::sample::select(vec![
        "*",
        "**",
        "?",
        "[",
        "]",
        "[!",
        "[^",
        "[a-z]",
        "[z-a]",
        "[]]",
        "[!]]",
        "[-]",
        "[a-]",
        "[\\]]",
        "[€-日]",
        "[\u{0}-\u{10ffff}]",
        "{",
        "}",
        "{a,b}",
        "!",
        "\\",
        "\\*",
        "\\[",
        "/",
        "//",
        "./",
        "../",
        ".",
        "..",
        "€",
        "日本",
        "🦀",
        "e\u{301}",
        " ",
        "\t",
        "\0",
        "a",
        "b",
        "ab",
        "src",
        "x.rs",
        "-",
        ",",
        "^",
    ]);
    prop_oneof![
        8 => proptest::collection::vec(atom, 1..10).prop_map(|v| v.concat()),
        1 => short_text(),
        1 => ("[a-z*?]{1,3}", 1usize..400).prop_map(|(seg, n)| vec![seg; n].join("/")),
    ]
}

/// Doc search queries: full-text syntax of both stores (FTS5 operators, quotes, prefixes,
/// columns, NEAR groups; `or` for websearch) among hostile text, and many words at once.
pub fn search_text() -> impl Strategy<Value = String> {
    let syntax = proptest::sample::select(vec![
        "\"",
        "\"\"",
        "*",
        "^",
        ":",
        "title:",
        "body:",
        "-",
        "+",
        "(",
        ")",
        "NEAR(a b, 2)",
        "AND",
        "OR",
        "NOT",
        "and",
        "or",
        "<->",
        "!",
        "&",
        "|",
        " ",
        "a",
        "token",
        "refresh",
        "€",
        "日本語",
        "x_y",
        "\0",
        "{",
        "}",
        "'",
        "''",
        "%",
        "\\",
    ]);
    prop_oneof![
        3 => proptest::collection::vec(syntax, 0..16).prop_map(|v| v.join(" ")),
        2 => hostile_text(),
        1 => proptest::collection::vec("[a-z]{1,6}", 15..40).prop_map(|v| v.join(" ")),
    ]
}

/// Any JSON value, nested a few levels, with the edges of numbers and hostile text.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        proptest::sample::select(vec![
            u64::MAX as f64,
            -1.0,
            0.5,
            1e300,
            -0.0,
            9_223_372_036_854_775_808.0,
        ])
        .prop_map(Value::from),
        short_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((short_text(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}
