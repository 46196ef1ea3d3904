//! Invariants of extraction over arbitrary input: it never panics, and what
//! it reports is well-formed.

use baton_code::{extract_source, Language};
use proptest::prelude::*;

/// Source-like text: identifiers, keywords and punctuation of all the
/// languages mixed, so the parsers reach deep states, plus raw bytes.
fn source() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just("def ".to_string()),
        Just("class ".to_string()),
        Just("fn ".to_string()),
        Just("func ".to_string()),
        Just("function ".to_string()),
        Just("export ".to_string()),
        Just("import ".to_string()),
        Just("struct ".to_string()),
        Just("namespace ".to_string()),
        Just("#include ".to_string()),
        Just("module.exports = ".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just(":\n    ".to_string()),
        Just(";\n".to_string()),
        Just("\"".to_string()),
        Just("/** doc */\n".to_string()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,8}",
        "[ \t\n]{1,3}",
    ];
    prop_oneof![
        prop::collection::vec(token, 0..80).prop_map(|t| t.concat().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..400),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn extraction_never_panics_and_reports_well_formed_symbols(src in source()) {
        let lines = src.iter().filter(|b| **b == b'\n').count() as u32 + 1;
        for lang in Language::ALL {
            let facts = extract_source(lang, &src);
            for s in &facts.symbols {
                prop_assert!(!s.name.is_empty());
                prop_assert!(s.line >= 1 && s.line <= s.end_line && s.end_line <= lines);
                prop_assert!(!s.signature.contains('\n'));
                prop_assert!(s.signature.chars().count() <= 161);
            }
            for i in &facts.imports {
                prop_assert!(!i.source.is_empty());
                prop_assert!(i.line >= 1 && i.line <= lines);
            }
        }
    }
}
