//! File-surface globs with gitignore semantics, and whether two of them can match the same
//! path (the rule behind reservation conflicts).
//!
//! - `*` matches within one path segment, `?` one character, `[...]` a class (`[!...]`
//!   negates), `**` as a whole segment any number of directories, `\` escapes.
//! - A pattern with no `/` except a trailing one matches at any depth (`*.rs`); otherwise it
//!   is anchored at the repository root (a leading `/` is allowed).
//! - A pattern whose last segment is literal is a directory prefix: it also covers
//!   everything below (`src/auth` holds `src/auth/x.rs`); a trailing `/` means "the
//!   directory's contents". A wildcard last segment names entries only (`*.py` does not
//!   reach into a directory called `x.py`), so `*.rs` and `*.py` never collide.
//!
//! Each glob compiles to a small automaton over path characters; two globs conflict when the
//! product automaton reaches a state where both accept. The search also yields a witness
//! path, which tests check with an independent matcher.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob '{glob}': {reason}")]
pub struct GlobError {
    pub glob: String,
    pub reason: String,
}

/// What one transition consumes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    Slash,
    Char(char),
    /// Any character except `/`.
    NonSlash,
    /// A character class (never containing `/`).
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
}

/// Whether `c` can be part of a path segment. Paths are matched in their normal form
/// ([`normalize_path`]), where `\` separates like `/`: neither is ever inside a segment.
fn in_segment(c: char) -> bool {
    c != '/' && c != '\\'
}

impl Label {
    fn matches(&self, c: char) -> bool {
        match self {
            Label::Slash => c == '/',
            Label::Char(x) => *x == c && in_segment(c),
            Label::NonSlash => in_segment(c),
            Label::Class { ranges, negated } => {
                in_segment(c)
                    && (ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated)
            }
        }
    }

    /// A character both labels accept, if any.
    fn common(&self, other: &Label) -> Option<char> {
        use Label::*;
        match (self, other) {
            (Slash, Slash) => Some('/'),
            (Slash, _) | (_, Slash) => None,
            (Char(c), l) | (l, Char(c)) => l.matches(*c).then_some(*c),
            (NonSlash, NonSlash) => Some('a'),
            (NonSlash, class @ Class { .. }) | (class @ Class { .. }, NonSlash) => {
                class.some_char(|_| true)
            }
            // Each class offers only some of its characters: ask both.
            (a @ Class { .. }, b @ Class { .. }) => a
                .some_char(|c| b.matches(c))
                .or_else(|| b.some_char(|c| a.matches(c))),
        }
    }

    /// Some character of this class (not `/`) that also passes `also`.
    fn some_char(&self, also: impl Fn(char) -> bool) -> Option<char> {
        let Label::Class { ranges, negated } = self else {
            return None;
        };
        let candidates: Vec<char> = if *negated {
            // Outside the excluded ranges: try the neighbours of each range, then a few
            // ordinary characters.
            let mut v: Vec<char> = "abcxyz019_-.ABZ".chars().collect();
            for (lo, hi) in ranges {
                v.extend(
                    char::from_u32(*lo as u32 - 1)
                        .into_iter()
                        .filter(|_| *lo as u32 > 0),
                );
                v.extend(char::from_u32(*hi as u32 + 1));
            }
            v.push('\u{10FFFF}');
            v
        } else {
            ranges
                .iter()
                .flat_map(|(lo, hi)| {
                    // Both ends and, for the intersection with another range, every boundary.
                    let span = (*hi as u32).saturating_sub(*lo as u32);
                    if span <= 256 {
                        (*lo as u32..=*hi as u32)
                            .filter_map(char::from_u32)
                            .collect::<Vec<_>>()
                    } else {
                        vec![*lo, *hi]
                    }
                })
                .collect()
        };
        // `.` last: a segment of just `.` is no path (see [`Normal`]).
        let fits = |c: &char| self.matches(*c) && also(*c);
        candidates
            .iter()
            .copied()
            .find(|c| *c != '.' && fits(c))
            .or_else(|| candidates.into_iter().find(fits))
    }
}

/// Where a path being built stands against the normal form globs are matched in
/// ([`normalize_path`]): no empty segment and no `.` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Normal {
    SegmentStart,
    /// The segment so far is `.`.
    Dot,
    InName,
}

impl Normal {
    const COUNT: usize = 3;

    fn after(self, c: char) -> Option<Normal> {
        match (self, c) {
            (Normal::SegmentStart | Normal::Dot, '/') => None,
            (_, '/') => Some(Normal::SegmentStart),
            (Normal::SegmentStart, '.') => Some(Normal::Dot),
            _ => Some(Normal::InName),
        }
    }
}

#[derive(Clone, Debug, Default)]
struct State {
    edges: Vec<(Label, usize)>,
    epsilon: Vec<usize>,
    accept: bool,
}

/// A compiled glob.
#[derive(Clone, Debug)]
pub struct Glob {
    text: String,
    states: Vec<State>,
    /// Each state with every state its epsilon edges reach, itself first.
    closures: Vec<Vec<usize>>,
    /// Literal leading directories every match starts with (`src/auth/` for `src/auth/**`).
    prefix: String,
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One piece of a path segment.
#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Lit(char),
    Any,  // ?
    Star, // *
    Class(Vec<(char, char)>, bool),
}

struct Builder {
    states: Vec<State>,
}

impl Builder {
    fn state(&mut self) -> usize {
        self.states.push(State::default());
        self.states.len() - 1
    }
    fn edge(&mut self, from: usize, label: Label, to: usize) {
        self.states[from].edges.push((label, to));
    }
    fn eps(&mut self, from: usize, to: usize) {
        self.states[from].epsilon.push(to);
    }
    /// One or more whole segments, each `nonempty (/ nonempty)*`; returns the end state.
    fn segments(&mut self, start: usize) -> usize {
        let inside = self.state();
        self.edge(start, Label::NonSlash, inside);
        self.edge(inside, Label::NonSlash, inside);
        self.edge(inside, Label::Slash, start);
        inside
    }
    /// Zero or more `segment/` (the `**/` of gitignore); returns the end state.
    fn dirs(&mut self, start: usize) -> usize {
        let end = self.state();
        self.eps(start, end);
        let inside = self.state();
        self.edge(start, Label::NonSlash, inside);
        self.edge(inside, Label::NonSlash, inside);
        self.edge(inside, Label::Slash, start);
        end
    }
    fn segment(&mut self, mut at: usize, pieces: &[Piece]) -> usize {
        // A segment made only of stars must still be non-empty.
        let only_stars = pieces.iter().all(|p| *p == Piece::Star);
        for (i, piece) in pieces.iter().enumerate() {
            match piece {
                Piece::Lit(c) => {
                    let next = self.state();
                    self.edge(at, Label::Char(*c), next);
                    at = next;
                }
                Piece::Any => {
                    let next = self.state();
                    self.edge(at, Label::NonSlash, next);
                    at = next;
                }
                Piece::Class(ranges, negated) => {
                    let next = self.state();
                    let label = Label::Class {
                        ranges: ranges.clone(),
                        negated: *negated,
                    };
                    self.edge(at, label, next);
                    at = next;
                }
                Piece::Star => {
                    if only_stars && i == 0 {
                        let next = self.state();
                        self.edge(at, Label::NonSlash, next);
                        at = next;
                    }
                    let next = self.state();
                    self.eps(at, next);
                    self.edge(next, Label::NonSlash, next);
                    at = next;
                }
            }
        }
        at
    }
}

/// The longest glob, in characters. Whether two globs overlap is found by walking pairs of
/// their states, so the work grows with the product of their lengths: two hostile
/// 1000-character globs (`*aaaa...`) held the writer for over half a second each time they
/// were compared. File surfaces are far shorter.
pub const MAX_GLOB_CHARS: usize = 256;

fn invalid(glob: &str, reason: &str) -> GlobError {
    GlobError {
        glob: glob.to_string(),
        reason: reason.to_string(),
    }
}

fn parse_segment(glob: &str, seg: &str) -> Result<Vec<Piece>, GlobError> {
    let mut pieces = Vec::new();
    let mut chars = seg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => {
                    return Err(invalid(
                        glob,
                        "a backslash is never part of a path (paths are matched with / between segments)",
                    ))
                }
                Some(e) => pieces.push(Piece::Lit(e)),
                None => return Err(invalid(glob, "a trailing backslash escapes nothing")),
            },
            '?' => pieces.push(Piece::Any),
            '*' => {
                if pieces.last() != Some(&Piece::Star) {
                    pieces.push(Piece::Star);
                }
            }
            '[' => {
                let negated = matches!(chars.peek(), Some('!') | Some('^'));
                if negated {
                    chars.next();
                }
                let mut ranges = Vec::new();
                let mut first = true;
                let mut closed = false;
                while let Some(c) = chars.next() {
                    if c == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                    let lo = if c == '\\' {
                        chars.next().ok_or_else(|| invalid(glob, "unclosed '['"))?
                    } else {
                        c
                    };
                    if chars.peek() == Some(&'-') {
                        let mut look = chars.clone();
                        look.next();
                        match look.peek() {
                            Some(&']') | None => ranges.push((lo, lo)),
                            Some(&hi) => {
                                chars.next();
                                chars.next();
                                if hi < lo {
                                    return Err(invalid(glob, "a class range runs backwards"));
                                }
                                ranges.push((lo, hi));
                            }
                        }
                    } else {
                        ranges.push((lo, lo));
                    }
                }
                if !closed {
                    return Err(invalid(glob, "unclosed '['"));
                }
                pieces.push(Piece::Class(ranges, negated));
            }
            c => pieces.push(Piece::Lit(c)),
        }
    }
    Ok(pieces)
}

impl Glob {
    pub fn new(text: &str) -> Result<Glob, GlobError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(invalid(text, "it is empty"));
        }
        if trimmed.starts_with('!') {
            return Err(invalid(text, "negated patterns are not supported here"));
        }
        if trimmed.contains('\0') {
            return Err(invalid(text, "it is not a usable pattern"));
        }
        if trimmed.chars().count() > MAX_GLOB_CHARS {
            return Err(invalid(
                text,
                &format!("it is longer than {MAX_GLOB_CHARS} characters"),
            ));
        }
        let mut body = trimmed.strip_prefix("./").unwrap_or(trimmed);
        let dir_only = body.ends_with('/') && !body.ends_with("\\/");
        body = body.trim_end_matches('/');
        let anchored = body.starts_with('/') || body.contains('/');
        body = body.trim_start_matches('/');
        if body.is_empty() {
            return Err(invalid(text, "it names no path"));
        }
        let segments: Vec<&str> = body.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(invalid(text, "it has an empty path segment ('//')"));
        }
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return Err(invalid(text, "'.' and '..' segments are not allowed"));
        }

        let last_is_literal = !segments[segments.len() - 1].contains(['*', '?', '[', '\\']);
        let mut b = Builder { states: Vec::new() };
        let start = b.state();
        let mut at = if anchored { start } else { b.dirs(start) };
        let last = segments.len() - 1;
        for (i, seg) in segments.iter().enumerate() {
            if *seg == "**" {
                if i == last {
                    // `a/**`: everything inside (one or more segments); `**` alone: anything.
                    at = b.segments(at);
                } else {
                    at = b.dirs(at);
                    continue; // the next segment follows directly, without a slash
                }
            } else {
                let pieces = parse_segment(text, seg)?;
                at = b.segment(at, &pieces);
            }
            if i < last {
                let next = b.state();
                b.edge(at, Label::Slash, next);
                at = next;
            }
        }
        if dir_only {
            // The directory's contents, not a file of that name.
            let slash = b.state();
            b.edge(at, Label::Slash, slash);
            at = b.segments(slash);
            b.states[at].accept = true;
        } else {
            b.states[at].accept = true;
            if last_is_literal {
                // A directory prefix: everything below is covered too.
                let slash = b.state();
                b.edge(at, Label::Slash, slash);
                let below = b.segments(slash);
                b.states[below].accept = true;
            }
        }

        let prefix = if anchored {
            let literal = |s: &str| !s.contains(['*', '?', '[', '\\']);
            let mut p = String::new();
            for (i, seg) in segments.iter().enumerate() {
                // The last segment may name a file: only complete directories count.
                if !literal(seg) || (i == last && !dir_only) {
                    break;
                }
                p.push_str(seg);
                p.push('/');
            }
            p
        } else {
            String::new()
        };
        let closures = (0..b.states.len())
            .map(|s| {
                let mut set = vec![s];
                closure(&b.states, &mut set);
                set
            })
            .collect();
        Ok(Glob {
            text: trimmed.to_string(),
            states: b.states,
            closures,
            prefix,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The literal directories (`src/auth/`) every matching path starts with; empty when
    /// the glob can match anywhere. Two globs can only overlap when one's prefix starts
    /// with the other's, which lets a store preselect candidates by index.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn closure(&self, set: &mut Vec<usize>) {
        closure(&self.states, set)
    }

    /// Whether `path` (relative to the repository root, `/`-separated) is covered.
    pub fn matches(&self, path: &str) -> bool {
        let path = normalize_path(path);
        if path.is_empty() {
            return false;
        }
        let mut current = vec![0];
        self.closure(&mut current);
        for c in path.chars() {
            let mut next: Vec<usize> = Vec::new();
            for &s in &current {
                for (label, to) in &self.states[s].edges {
                    if label.matches(c) && !next.contains(to) {
                        next.push(*to);
                    }
                }
            }
            if next.is_empty() {
                return false;
            }
            self.closure(&mut next);
            current = next;
        }
        current.iter().any(|&s| self.states[s].accept)
    }

    /// A path both globs cover, or `None` when they cannot collide.
    pub fn overlap(&self, other: &Glob) -> Option<String> {
        let (a, b) = (&self.prefix, &other.prefix);
        if !a.starts_with(b.as_str()) && !b.starts_with(a.as_str()) {
            return None;
        }
        // Breadth first over (state of self, state of other, normal form), so the witness is
        // a shortest path both match as it is (no `.` or empty segment to normalize away).
        type Node = (usize, usize, Normal);
        let mut parent: HashMap<Node, (Node, char)> = HashMap::new();
        let width = other.states.len();
        let mut seen = vec![false; self.states.len() * width * Normal::COUNT];
        let mut visit = |(x, y, n): Node| {
            !std::mem::replace(
                &mut seen[(x * width + y) * Normal::COUNT + n as usize],
                true,
            )
        };
        let mut queue = VecDeque::new();
        for &x in &self.closures[0] {
            for &y in &other.closures[0] {
                if visit((x, y, Normal::SegmentStart)) {
                    queue.push_back((x, y, Normal::SegmentStart));
                }
            }
        }
        while let Some((x, y, normal)) = queue.pop_front() {
            if self.states[x].accept && other.states[y].accept && normal == Normal::InName {
                let mut path = Vec::new();
                let mut cur = (x, y, normal);
                while let Some(&(prev, c)) = parent.get(&cur) {
                    path.push(c);
                    cur = prev;
                }
                path.reverse();
                let witness: String = path.into_iter().collect();
                return Some(witness);
            }
            for (la, ta) in &self.states[x].edges {
                for (lb, tb) in &other.states[y].edges {
                    let Some(c) = la.common(lb) else { continue };
                    let Some(next) = normal.after(c) else {
                        continue;
                    };
                    for &nx in &self.closures[*ta] {
                        for &ny in &other.closures[*tb] {
                            if visit((nx, ny, next)) {
                                parent.insert((nx, ny, next), ((x, y, normal), c));
                                queue.push_back((nx, ny, next));
                            }
                        }
                    }
                }
            }
        }
        None
    }
}

/// Adds to `set` every state its epsilon edges reach.
fn closure(states: &[State], set: &mut Vec<usize>) {
    let mut seen: HashSet<usize> = set.iter().copied().collect();
    let mut i = 0;
    while i < set.len() {
        for &n in &states[set[i]].epsilon {
            if seen.insert(n) {
                set.push(n);
            }
        }
        i += 1;
    }
}

/// `./a//b/` -> `a/b`: the form globs are matched against. Spaces stay: a file name may
/// begin or end with one, and a glob can name it (`[ ]x`).
pub fn normalize_path(path: &str) -> String {
    path.split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(s: &str) -> Glob {
        Glob::new(s).unwrap()
    }

    #[test]
    fn matching_follows_gitignore() {
        let cases: &[(&str, &str, bool)] = &[
            ("src/auth/**", "src/auth/session.rs", true),
            ("src/auth/**", "src/auth/a/b.rs", true),
            ("src/auth/**", "src/auth", false),
            ("src/auth/**", "src/authz/x", false),
            ("src/auth", "src/auth", true),
            ("src/auth", "src/auth/x.rs", true),
            ("src/auth/", "src/auth/x.rs", true),
            ("src/auth/", "src/auth", false),
            ("*.rs", "main.rs", true),
            ("*.rs", "src/deep/main.rs", true),
            ("*.rs", "main.rsx", false),
            ("/*.rs", "main.rs", true),
            ("/*.rs", "src/main.rs", false),
            ("src/*.rs", "src/a.rs", true),
            ("src/*.rs", "src/a/b.rs", false),
            ("src/**/mod.rs", "src/mod.rs", true),
            ("src/**/mod.rs", "src/a/b/mod.rs", true),
            ("**/test_*.py", "test_x.py", true),
            ("**/test_*.py", "a/b/test_x.py", true),
            ("doc?.md", "doc1.md", true),
            ("doc?.md", "doc.md", false),
            ("[abc].txt", "b.txt", true),
            ("[!abc].txt", "b.txt", false),
            ("[!abc].txt", "d.txt", true),
            ("[a-c]x", "cx", true),
            ("src/*", "src/a", true),
            ("src/*", "src/a/b.rs", false),
            ("*.py", "x.py/y.rs", false),
            ("src/*", "src", false),
            ("**", "anything/at/all", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
        ];
        for (glob, path, expected) in cases {
            assert_eq!(g(glob).matches(path), *expected, "{glob} vs {path}");
        }
    }

    #[test]
    fn bad_globs_are_refused_with_a_reason() {
        for bad in [
            "", "  ", "[abc", "a//b", "!src", "../x", "a/./b", "x\\", "/", "[z-a]",
        ] {
            assert!(Glob::new(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn overlap_examples() {
        let yes = [
            ("src/auth/**", "src/**"),
            ("src/auth/**", "src/auth/session.rs"),
            ("*.rs", "src/auth/**"),
            ("src/auth", "src/auth/x.rs"),
            ("src/*.rs", "src/main.*"),
            ("[ab]*", "b*"),
            ("**", "x"),
        ];
        let no = [
            ("src/auth/**", "src/billing/**"),
            ("*.rs", "*.py"),
            ("src/*.rs", "src/a/*.rs"),
            ("[ab].txt", "[cd].txt"),
            ("/docs/**", "src/**"),
            ("src/auth/", "src/auth"), // contents vs the directory itself: `src/auth` covers
        ];
        for (a, b) in yes {
            let w = g(a)
                .overlap(&g(b))
                .unwrap_or_else(|| panic!("{a} and {b} overlap"));
            assert!(g(a).matches(&w) && g(b).matches(&w), "{a} {b} witness {w}");
        }
        for (a, b) in no.iter().take(5) {
            assert_eq!(g(a).overlap(&g(b)), None, "{a} and {b} do not overlap");
        }
        assert_eq!(
            g("src/*").overlap(&g("src/a/b.rs")),
            None,
            "src/* names entries only"
        );
        // `src/auth` also covers what is inside it, so it does overlap `src/auth/`.
        assert!(g("src/auth/").overlap(&g("src/auth")).is_some());
    }

    /// Found by fuzzing: paths are matched with `\\` read as a separator, so a witness with a
    /// backslash inside a segment was matched by neither glob.
    #[test]
    fn no_segment_holds_a_backslash() {
        assert!(
            Glob::new("\\\\[]]").is_err(),
            "an escaped backslash is refused"
        );
        assert_eq!(g("{").overlap(&g("[\\\\]]")), None);
        for (a, b) in [("{", "[Z-a]]"), ("*", "[!a-z]"), ("*", "?")] {
            let w = g(a).overlap(&g(b)).unwrap();
            assert!(
                !w.contains('\\') && g(a).matches(&w) && g(b).matches(&w),
                "{a} {b} {w:?}"
            );
        }
    }

    /// Found by fuzzing: two 1000-character globs took over half a second to compare.
    /// Found by fuzzing: the path was trimmed before matching, so the witness `{/ ` for
    /// `{` and `[ [-]` was matched by neither.
    #[test]
    fn spaces_at_either_end_of_a_path_are_part_of_its_names() {
        let w = g("{").overlap(&g("[ [-]")).unwrap();
        assert!(g("{").matches(&w) && g("[ [-]").matches(&w), "{w:?}");
        assert!(g("* ").matches("notes ") && !g("*.md").matches("a.md "));
    }

    /// Found by fuzzing: `*.` matched the segment `.`, which normalizing drops, so the
    /// witness `./]` for `*./` and `[]]` was matched by neither.
    #[test]
    fn witnesses_hold_no_dot_segment() {
        for (a, b) in [("*./", "[]]"), ("[.x]", "?"), ("\\.", "*")] {
            match g(a).overlap(&g(b)) {
                Some(w) => assert!(g(a).matches(&w) && g(b).matches(&w), "{a} {b} {w:?}"),
                None => assert_eq!(a, "\\.", "only `.` itself is no path"),
            }
        }
    }

    /// Found by the long fuzzing run: a class offers only the ends of a wide range, so
    /// `[!]]` found nothing in common with `[€-日]` while the reverse did.
    #[test]
    fn classes_overlap_whichever_comes_first() {
        for (a, b) in [
            ("[!]]", "[€-日]"),
            ("[a-日]", "[€-龍]"),
            ("[!€日]", "[€-日]"),
        ] {
            for (x, y) in [(a, b), (b, a)] {
                let w = g(x)
                    .overlap(&g(y))
                    .unwrap_or_else(|| panic!("{x} and {y} overlap"));
                assert!(g(x).matches(&w) && g(y).matches(&w), "{x} {y} {w:?}");
            }
        }
    }

    #[test]
    fn globs_are_bounded_in_length() {
        assert!(Glob::new(&format!("*{}", "a".repeat(MAX_GLOB_CHARS - 1))).is_ok());
        let e = Glob::new(&format!("*{}", "a".repeat(MAX_GLOB_CHARS))).unwrap_err();
        assert!(e.reason.contains("longer than 256"), "{e}");
    }

    #[test]
    fn prefixes_are_literal_directories() {
        assert_eq!(g("src/auth/**").prefix(), "src/auth/");
        assert_eq!(g("src/auth/x.rs").prefix(), "src/auth/");
        assert_eq!(g("src/au*/x").prefix(), "src/");
        assert_eq!(g("*.rs").prefix(), "");
        assert_eq!(g("src/auth/").prefix(), "src/auth/");
    }

    // Property tests against an oracle that shares nothing with the automaton: a recursive
    // wildmatch over segments, and brute force over every short path.

    fn oracle_segment(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|k| oracle_segment(&p[1..], &s[k..])),
            Some('?') => !s.is_empty() && oracle_segment(&p[1..], &s[1..]),
            Some('[') => {
                let close = p
                    .iter()
                    .skip(2)
                    .position(|c| *c == ']')
                    .map(|i| i + 2)
                    .unwrap();
                let body = &p[1..close];
                let (neg, body) = match body.first() {
                    Some('!') | Some('^') => (true, &body[1..]),
                    _ => (false, body),
                };
                let Some(c) = s.first() else { return false };
                let mut hit = false;
                let mut i = 0;
                while i < body.len() {
                    if i + 2 < body.len() && body[i + 1] == '-' {
                        hit |= body[i] <= *c && *c <= body[i + 2];
                        i += 3;
                    } else {
                        hit |= body[i] == *c;
                        i += 1;
                    }
                }
                hit != neg && oracle_segment(&p[close + 1..], &s[1..])
            }
            Some(c) => s.first() == Some(c) && oracle_segment(&p[1..], &s[1..]),
        }
    }

    /// How many leading path segments the pattern segments can consume, all ways.
    fn oracle_consume(pat: &[&str], segs: &[&str], out: &mut Vec<usize>, used: usize) {
        match pat.first() {
            None => out.push(used),
            Some(&"**") if pat.len() == 1 => {
                for k in 1..=segs.len() {
                    out.push(used + k);
                }
            }
            Some(&"**") => {
                for k in 0..=segs.len() {
                    oracle_consume(&pat[1..], &segs[k..], out, used + k);
                }
            }
            Some(p) => {
                if let Some(first) = segs.first() {
                    let (pc, sc): (Vec<char>, Vec<char>) =
                        (p.chars().collect(), first.chars().collect());
                    if oracle_segment(&pc, &sc) {
                        oracle_consume(&pat[1..], &segs[1..], out, used + 1);
                    }
                }
            }
        }
    }

    fn oracle(glob: &str, path: &str) -> bool {
        let t = glob.trim();
        let dir_only = t.ends_with('/');
        let body = t.trim_end_matches('/');
        let anchored = body.contains('/');
        let body = body.trim_start_matches('/');
        let pat: Vec<&str> = body.split('/').collect();
        let last = pat[pat.len() - 1];
        let below = dir_only || !last.contains(['*', '?', '[']);
        let segs: Vec<&str> = path.split('/').collect();
        let starts = if anchored { 1 } else { segs.len() };
        (0..starts).any(|start| {
            let rest = &segs[start..];
            let mut consumed = Vec::new();
            oracle_consume(&pat, rest, &mut consumed, 0);
            consumed.iter().any(|&n| {
                if dir_only {
                    n < rest.len()
                } else {
                    n == rest.len() || (below && n < rest.len())
                }
            })
        })
    }

    fn arb_segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("ab".to_string()),
            Just("*".to_string()),
            Just("a*".to_string()),
            Just("*b".to_string()),
            Just("?".to_string()),
            Just("[ab]".to_string()),
            Just("[!a]".to_string()),
            Just("**".to_string()),
        ]
    }

    fn arb_glob() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(arb_segment(), 1..4),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(segs, lead, trail)| {
                let mut s = segs.join("/");
                if lead {
                    s.insert(0, '/');
                }
                if trail {
                    s.push('/');
                }
                s
            })
    }

    /// Every path of up to 4 segments over {a, b, c} with segments of 1-2 characters.
    fn universe() -> Vec<String> {
        let segs: Vec<String> = ["a", "b", "c", "aa", "ab", "ba", "bb", "ca"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut paths: Vec<String> = segs.clone();
        let mut frontier = segs.clone();
        for _ in 1..4 {
            let mut next = Vec::new();
            for p in &frontier {
                for s in &segs {
                    next.push(format!("{p}/{s}"));
                }
            }
            paths.extend(next.iter().cloned());
            frontier = next;
        }
        paths
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// No false negatives: whenever some short path matches both, overlap finds one;
        /// no false positives: every overlap comes with a path that both really match.
        #[test]
        fn matching_agrees_with_the_oracle(a in arb_glob()) {
            let ga = g(&a);
            for p in universe() {
                prop_assert_eq!(ga.matches(&p), oracle(&a, &p), "{} vs {}", a, p);
            }
        }

        #[test]
        fn overlap_agrees_with_brute_force(a in arb_glob(), b in arb_glob()) {
            let (ga, gb) = (g(&a), g(&b));
            let brute = universe().into_iter().find(|p| oracle(&a, p) && oracle(&b, p));
            match ga.overlap(&gb) {
                Some(w) => {
                    prop_assert!(oracle(&a, &w) && oracle(&b, &w), "{} {} witness {:?}", a, b, w);
                    prop_assert!(!w.is_empty() && !w.starts_with('/') && !w.ends_with('/') && !w.contains("//"), "bad witness {:?}", w);
                }
                None => prop_assert!(brute.is_none(), "{} and {} both match {:?}", a, b, brute),
            }
        }

        /// Overlap is symmetric.
        #[test]
        fn overlap_is_symmetric(a in arb_glob(), b in arb_glob()) {
            prop_assert_eq!(g(&a).overlap(&g(&b)).is_some(), g(&b).overlap(&g(&a)).is_some());
        }
    }
}
