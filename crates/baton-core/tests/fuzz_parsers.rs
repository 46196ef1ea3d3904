//! Fuzzing the pure parsers of untrusted text: globs (parse, match, overlap), ids, times and
//! durations. Whatever the text, they answer (a value or an error that says why) and never
//! panic; what they accept behaves consistently. The oracle-checked glob properties on a
//! small alphabet live beside the automaton in `src/glob.rs`; these reach the rest of
//! Unicode and the malformed inputs.

use baton_core::fuzzing::{self, glob_text, hostile_text, id_text, short_text};
use baton_core::glob::{normalize_path, Glob};
use baton_core::time::{format_duration, parse_duration, Timestamp};
use baton_core::{DocId, MessageId, TaskId};
use proptest::prelude::*;

/// Paths that often land inside a glob: its own text, pieces of it, or plain names.
fn path_for(glob: &str) -> impl Strategy<Value = String> {
    let own = glob.replace(['*', '?', '[', ']', '\\'], "x");
    prop_oneof![
        Just(own),
        Just(glob.to_string()),
        short_text(),
        "[a-z]{1,3}(/[a-z€]{1,3}){0,3}",
    ]
}

proptest! {
    #![proptest_config(fuzzing::config(1024))]

    #[test]
    fn any_text_either_compiles_to_a_glob_or_says_why(text in glob_text()) {
        match Glob::new(&text) {
            Ok(g) => {
                // What was kept compiles again to the same glob.
                let again = Glob::new(g.as_str());
                prop_assert!(again.is_ok(), "{:?} kept as {:?}: {:?}", text, g.as_str(), again);
                let again = again.unwrap();
                prop_assert_eq!(again.prefix(), g.prefix());
            }
            Err(e) => {
                prop_assert!(!e.reason.is_empty());
                prop_assert!(e.to_string().contains("invalid glob"), "{}", e);
            }
        }
    }

    #[test]
    fn a_matched_path_starts_with_the_globs_literal_prefix(
        (text, path) in glob_text().prop_flat_map(|g| (Just(g.clone()), path_for(&g)))
    ) {
        let Ok(g) = Glob::new(&text) else { return Ok(()) };
        if g.matches(&path) {
            prop_assert!(g.overlap(&g).is_some(), "{:?} matches {:?} yet not itself", text, path);
            let normal = normalize_path(&path);
            prop_assert!(normal.starts_with(g.prefix()),
                "{:?} matches {:?} outside its prefix {:?}", text, path, g.prefix());
        }
    }

    #[test]
    fn overlap_witnesses_are_matched_by_both_and_overlap_is_symmetric(
        a in glob_text(), b in glob_text()
    ) {
        let (Ok(ga), Ok(gb)) = (Glob::new(&a), Glob::new(&b)) else { return Ok(()) };
        let ab = ga.overlap(&gb);
        let ba = gb.overlap(&ga);
        prop_assert_eq!(ab.is_some(), ba.is_some(), "{:?} vs {:?}", a, b);
        for w in ab.iter().chain(ba.iter()) {
            prop_assert!(ga.matches(w) && gb.matches(w), "{:?} and {:?}: witness {:?}", a, b, w);
        }
        if let Some(w) = ga.overlap(&ga) {
            prop_assert!(ga.matches(&w), "{:?} with itself: witness {:?}", a, w);
        }
    }

    #[test]
    fn any_text_either_is_an_id_or_is_refused(
        task in id_text("T"), doc in id_text("D"), message in id_text("M")
    ) {
        if let Ok(id) = task.parse::<TaskId>() {
            prop_assert!(id.number() >= 1 && id.number() <= i64::MAX as u64);
            prop_assert_eq!(id.to_string().parse::<TaskId>().ok(), Some(id));
        } else {
            let e = task.parse::<TaskId>().unwrap_err().to_string();
            prop_assert!(e.contains("T-<number>"), "{}", e);
        }
        if let Ok(id) = doc.parse::<DocId>() {
            prop_assert_eq!(id.to_string().parse::<DocId>().ok(), Some(id));
        }
        if let Ok(id) = message.parse::<MessageId>() {
            prop_assert_eq!(id.to_string().parse::<MessageId>().ok(), Some(id));
        }
        // The JSON forms take the same texts, and numbers of any size.
        let as_json = serde_json::to_string(&task).unwrap();
        prop_assert_eq!(
            serde_json::from_str::<TaskId>(&as_json).ok(),
            task.parse::<TaskId>().ok()
        );
    }

    #[test]
    fn ids_from_json_numbers_are_in_range_or_refused(n in any::<i128>()) {
        let parsed = serde_json::from_str::<TaskId>(&n.to_string()).ok();
        let expected = (1..=i64::MAX as i128).contains(&n).then_some(TaskId(n as u64));
        prop_assert_eq!(parsed, expected);
    }

    #[test]
    fn times_and_durations_parse_or_are_refused(text in hostile_text()) {
        if let Some(t) = Timestamp::parse(&text) {
            prop_assert_eq!(Timestamp::parse(&t.to_string()), Some(t));
        }
        if let Some(d) = parse_duration(&text) {
            prop_assert_eq!(parse_duration(&format_duration(d)), Some(d));
        }
    }

    #[test]
    fn near_valid_times_parse_or_are_refused(
        y in 0i64..100_000, mo in 0u32..14, d in 0u32..33, h in 0u32..26, mi in 0u32..61,
        s in 0u32..62, frac in "[0-9]{0,12}", zone in prop::sample::select(vec![
            "Z", "z", "+00:00", "-23:59", "+24:00", "+99:99", "", " ", "€",
        ])
    ) {
        let dot = if frac.is_empty() { "" } else { "." };
        let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{dot}{frac}{zone}");
        if let Some(t) = Timestamp::parse(&text) {
            prop_assert_eq!(Timestamp::parse(&t.to_string()), Some(t), "{}", text);
        }
    }
}
