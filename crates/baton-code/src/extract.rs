//! Shared helpers for the per-language extractors: node text, signatures,
//! doc comments and the container stack.

use std::cell::RefCell;
use std::num::NonZeroU16;
use std::sync::{Arc, OnceLock};

use tree_sitter::Node;

use crate::languages::Language;
use crate::model::{FileFacts, ImportStyle, RawImport, RawSymbol, SymbolKind};

/// What may end the line above a documented item, or sit before it on its line: comments
/// (`//`, `/* */`, `#`, `--`), attributes and decorators (`#[..]`, `@x`, `[Attr]`).
fn line_may_lead(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.starts_with(b"//")
        || t.starts_with(b"/*")
        || t.starts_with(b"*")
        || t.starts_with(b"#")
        || t.starts_with(b"--")
        || t.starts_with(b"@")
        || t.starts_with(b"[")
        || t.ends_with(b"*/")
        || t.ends_with(b"]")
        || t.ends_with(b")")
}

/// Longest signature kept, in characters; agents want one line, not a body.
const MAX_SIGNATURE: usize = 160;
const MAX_DOC: usize = 160;

/// The grammar fields the extractors read. They are looked up by id: by name, tree-sitter
/// first compares the name with each of the grammar's field names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Alias,
    Argument,
    Arguments,
    Body,
    Declaration,
    Declarator,
    Definition,
    Function,
    Key,
    Left,
    List,
    Method,
    ModuleName,
    Name,
    Path,
    Property,
    Receiver,
    Right,
    Source,
    Trait,
    Type,
    Value,
}

impl Field {
    const ALL: [Field; 22] = [
        Field::Alias,
        Field::Argument,
        Field::Arguments,
        Field::Body,
        Field::Declaration,
        Field::Declarator,
        Field::Definition,
        Field::Function,
        Field::Key,
        Field::Left,
        Field::List,
        Field::Method,
        Field::ModuleName,
        Field::Name,
        Field::Path,
        Field::Property,
        Field::Receiver,
        Field::Right,
        Field::Source,
        Field::Trait,
        Field::Type,
        Field::Value,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Alias => "alias",
            Field::Argument => "argument",
            Field::Arguments => "arguments",
            Field::Body => "body",
            Field::Declaration => "declaration",
            Field::Declarator => "declarator",
            Field::Definition => "definition",
            Field::Function => "function",
            Field::Key => "key",
            Field::Left => "left",
            Field::List => "list",
            Field::Method => "method",
            Field::ModuleName => "module_name",
            Field::Name => "name",
            Field::Path => "path",
            Field::Property => "property",
            Field::Receiver => "receiver",
            Field::Right => "right",
            Field::Source => "source",
            Field::Trait => "trait",
            Field::Type => "type",
            Field::Value => "value",
        }
    }
}

/// One grammar's id of each [`Field`] (`None` where the grammar has no such field).
pub struct FieldIds([Option<NonZeroU16>; Field::ALL.len()]);

impl FieldIds {
    fn of(grammar: &tree_sitter::Language) -> FieldIds {
        FieldIds(Field::ALL.map(|f| grammar.field_id_for_name(f.name())))
    }

    /// The field ids of `lang`'s grammar, found once per process.
    pub fn of_language(lang: Language) -> &'static FieldIds {
        static TABLES: OnceLock<Vec<(Language, FieldIds)>> = OnceLock::new();
        let tables = TABLES.get_or_init(|| {
            Language::ALL
                .iter()
                .map(|&l| (l, FieldIds::of(&l.grammar())))
                .collect()
        });
        tables
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, ids)| ids)
            .expect("every language has a table")
    }

    /// `node`'s child in field `f`, as `node.child_by_field_name(f.name())` finds it.
    #[inline]
    pub fn child<'t>(&self, node: Node<'t>, f: Field) -> Option<Node<'t>> {
        node.child_by_field_id(self.0[f as usize]?.get())
    }

    /// `node`'s named children in field `f`. A field over a list holds its separators
    /// too (Go's `const A, B = 1, 2` has `,` as a name): they are left out.
    pub fn children<'t>(&self, node: Node<'t>, f: Field) -> Vec<Node<'t>> {
        let Some(id) = self.0[f as usize] else {
            return Vec::new();
        };
        let mut cursor = node.walk();
        node.children_by_field_id(id, &mut cursor)
            .filter(|c| c.is_named())
            .collect()
    }
}

/// One grammar's node kind names by kind id.
fn kind_names(lang: Language) -> &'static [&'static str] {
    static TABLES: OnceLock<Vec<(Language, Vec<&'static str>)>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        Language::ALL
            .iter()
            .map(|&l| {
                let grammar = l.grammar();
                let names = (0..grammar.node_kind_count())
                    .map(|id| grammar.node_kind_for_id(id as u16).unwrap_or(""))
                    .collect();
                (l, names)
            })
            .collect()
    });
    tables
        .iter()
        .find(|(l, _)| *l == lang)
        .map(|(_, names)| names.as_slice())
        .expect("every language has a table")
}

pub struct Extractor<'s> {
    pub src: &'s [u8],
    /// The grammar's field ids.
    pub fields: &'static FieldIds,
    /// The grammar's node kind names, by kind id.
    kinds: &'static [&'static str],
    /// Shared by the symbols defined in them: one allocation per container, not per symbol.
    containers: Vec<Arc<str>>,
    facts: FileFacts,
    /// How deep the walk into nested expressions is (see [`Extractor::deeper`]).
    depth: u32,
    /// The children of the parents doc comments were last looked up in (see
    /// [`Extractor::leading_comment`]).
    siblings: RefCell<Vec<Vec<Sibling>>>,
    /// Where in the text something an extractor looks for may start, in order (see
    /// [`Extractor::may_hold`]); `None`: anywhere.
    marks: Option<Vec<usize>>,
    /// The same for a second test (see [`Extractor::may_call`]).
    calls: Option<Vec<usize>>,
}

/// What a doc comment lookup needs of a node that may come before a documented item.
#[derive(Debug, Clone, Copy)]
struct Sibling {
    id: usize,
    start_byte: usize,
    end_byte: usize,
    start_row: usize,
    end_row: usize,
    kind: &'static str,
}

/// How many parents' children [`Extractor::leading_comment`] keeps: the parents a walk
/// is in (the file, a class body, a block).
const SIBLING_LISTS: usize = 8;

/// How deep nested expressions and blocks are searched for definitions: far below any
/// real code, and bounded so that generated or hostile input cannot exhaust the stack.
const MAX_DEPTH: u32 = 200;

impl<'s> Extractor<'s> {
    pub fn new(src: &'s [u8], lang: Language) -> Self {
        Extractor {
            src,
            fields: FieldIds::of_language(lang),
            kinds: kind_names(lang),
            containers: Vec::new(),
            facts: FileFacts::default(),
            depth: 0,
            siblings: RefCell::new(Vec::new()),
            marks: None,
            calls: None,
        }
    }

    /// Set where in the text what the extractor looks for may start: a subtree holding
    /// none of these places need not be walked ([`Extractor::may_hold`]).
    pub fn set_marks(&mut self, marks: Vec<usize>) {
        self.marks = in_order(marks);
    }

    /// Set a second kind of mark, for a second test ([`Extractor::may_call`]).
    pub fn set_calls(&mut self, calls: Vec<usize>) {
        self.calls = in_order(calls);
    }

    /// Whether `node`'s text holds one of the marks (always, without marks).
    #[inline]
    pub fn may_hold(&self, node: Node<'_>) -> bool {
        holds(self.marks.as_deref(), node)
    }

    /// Whether `node`'s text holds one of the second marks (always, without them).
    #[inline]
    pub fn may_call(&self, node: Node<'_>) -> bool {
        holds(self.calls.as_deref(), node)
    }

    pub fn finish(self) -> FileFacts {
        self.facts
    }

    pub fn text(&self, node: Node<'_>) -> &'s str {
        std::str::from_utf8(&self.src[node.byte_range()]).unwrap_or("")
    }

    /// `node.kind()`, found in a table by the kind's id (`Node::kind` measures and checks
    /// the name's bytes on every call).
    #[inline]
    pub fn kind(&self, node: Node<'_>) -> &'static str {
        match self.kinds.get(usize::from(node.kind_id())) {
            Some(name) if !name.is_empty() => name,
            _ => node.kind(),
        }
    }

    /// `node`'s child in field `f`.
    #[inline]
    pub fn field<'t>(&self, node: Node<'t>, f: Field) -> Option<Node<'t>> {
        self.fields.child(node, f)
    }

    pub fn field_text(&self, node: Node<'_>, f: Field) -> Option<&'s str> {
        self.field(node, f).map(|n| self.text(n))
    }

    /// How many more levels [`Extractor::deeper`] may go down.
    pub fn depth_left(&self) -> u32 {
        MAX_DEPTH.saturating_sub(self.depth)
    }

    /// Run `f` one level deeper, unless the walk is already [`MAX_DEPTH`] deep.
    pub fn deeper<F: FnOnce(&mut Self)>(&mut self, f: F) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }

    /// Run `f` with `name` under the current container pushed (`Store.load` inside class
    /// `Store`'s method `load`): where a nested function is defined.
    pub fn within_path<F: FnOnce(&mut Self)>(&mut self, name: &str, f: F) {
        let path = match self.containers.last() {
            Some(outer) => format!("{outer}.{name}"),
            None => name.to_string(),
        };
        self.within(&path, f)
    }

    /// Run `f` with `name` pushed as the current container.
    pub fn within<F: FnOnce(&mut Self)>(&mut self, name: &str, f: F) {
        self.containers.push(Arc::from(name));
        f(self);
        self.containers.pop();
    }

    /// Record a symbol defined by `node`, whose signature ends where its body
    /// starts. The doc comment is looked up on `doc_anchor` (the node that
    /// comments precede, e.g. an export or decorator wrapper).
    pub fn symbol(
        &mut self,
        node: Node<'_>,
        doc_anchor: Node<'_>,
        name: &str,
        kind: SymbolKind,
        exported: bool,
    ) {
        if name.is_empty() {
            return;
        }
        let signature = self.signature(node);
        let doc = self.leading_comment(doc_anchor);
        self.push(node, name, kind, exported, signature, doc);
    }

    pub fn push(
        &mut self,
        node: Node<'_>,
        name: &str,
        kind: SymbolKind,
        exported: bool,
        signature: String,
        doc: Option<String>,
    ) {
        if name.is_empty() {
            return;
        }
        self.facts.symbols.push(RawSymbol {
            name: name.to_string(),
            kind,
            line: node.start_position().row as u32 + 1,
            end_line: node.end_position().row as u32 + 1,
            container: self.containers.last().cloned(),
            signature,
            exported,
            doc,
        });
    }

    /// Mark top-level symbols with these names as exported (CommonJS
    /// `module.exports = { a, b }` names them after their definitions).
    pub fn mark_exported(&mut self, names: &[String]) {
        let classes: Vec<String> = self
            .facts
            .symbols
            .iter()
            .filter(|s| s.container.is_none() && names.contains(&s.name))
            .map(|s| s.name.clone())
            .collect();
        for s in &mut self.facts.symbols {
            let top_level = s.container.is_none() && names.contains(&s.name);
            // Members of an exported class, except `#private` ones.
            let member = s.kind == SymbolKind::Method
                && !s.name.starts_with('#')
                && s.container
                    .as_deref()
                    .is_some_and(|c| classes.iter().any(|k| k == c));
            if top_level || member {
                s.exported = true;
            }
        }
    }

    pub fn import(&mut self, node: Node<'_>, source: &str, names: Vec<String>, style: ImportStyle) {
        if source.is_empty() {
            return;
        }
        self.facts.imports.push(RawImport {
            line: node.start_position().row as u32 + 1,
            source: source.to_string(),
            names,
            style,
        });
    }

    /// The declaration up to its body, on one line, bounded.
    pub fn signature(&self, node: Node<'_>) -> String {
        let end = self
            .field(node, Field::Body)
            .map(|b| b.start_byte())
            .unwrap_or_else(|| node.end_byte());
        one_line(&self.head(node.start_byte(), end), MAX_SIGNATURE)
    }

    /// The source from `start` to `end` as text, at most the first 4 KB of it: enough for
    /// a one-line signature, and a huge declaration is not converted whole.
    pub fn head(&self, start: usize, end: usize) -> std::borrow::Cow<'s, str> {
        let end = end.clamp(start, self.src.len()).min(start + 4096);
        let bytes = &self.src[start.min(end)..end];
        // Checking is faster than the lossy conversion's own walk, for the usual valid text.
        match std::str::from_utf8(bytes) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        }
    }

    /// Could a comment (or an attribute) end right before `node`: on its line before it,
    /// or on the line above?
    ///
    /// The node's line starts `column` bytes before it: a minified file's one line may hold
    /// thousands of definitions, and looking back to the line start for each cost a scan
    /// quadratic in the line's length (a 777 KB line: over 2 billion instructions).
    fn may_follow_comment(&self, node: Node<'_>) -> bool {
        let start = node.start_byte().min(self.src.len());
        let line_start = start.saturating_sub(node.start_position().column);
        let same_line = &self.src[line_start..start];
        if !same_line.trim_ascii().is_empty() {
            return line_may_lead(same_line);
        }
        if line_start == 0 {
            return false;
        }
        let above = &self.src[..line_start - 1];
        let above_start = memchr::memrchr(b'\n', above).map_or(0, |i| i + 1);
        line_may_lead(&above[above_start..])
    }

    /// The first line of the comment block right above `node`, if any.
    pub fn leading_comment(&self, node: Node<'_>) -> Option<String> {
        // Looking back through the tree is costly (tree-sitter finds a previous sibling from
        // the parent, and the parent by going down from the root); the text says first
        // whether a comment or attribute can be there.
        if !self.may_follow_comment(node) {
            return None;
        }
        let mut lists = self.siblings.borrow_mut();
        let (list, at) = match Self::find_sibling(&lists, node) {
            Some(found) => found,
            None => {
                // The first lookup among a parent's children lists them all: items that
                // follow in the same parent are then found by their position.
                let parent = node.parent()?;
                if lists.len() == SIBLING_LISTS {
                    lists.remove(0);
                }
                lists.push(self.children_of(parent));
                Self::find_sibling(&lists, node)?
            }
        };
        let before = &lists[list][..at];
        let mut prev = before.iter().rev().peekable();
        // Attributes and annotations may sit between a doc comment and its item.
        while prev
            .next_if(|p| matches!(p.kind, "attribute_item" | "attribute_list" | "decorator"))
            .is_some()
        {}
        let mut first = None;
        let mut expected_row = node.start_position().row;
        for p in prev {
            if !p.kind.contains("comment") {
                break;
            }
            // Only a block that touches the item counts.
            if p.end_row + 1 < expected_row {
                break;
            }
            first = Some(p);
            expected_row = p.start_row;
        }
        first.and_then(|c| {
            let text = std::str::from_utf8(&self.src[c.start_byte..c.end_byte]).unwrap_or("");
            comment_first_line(text)
        })
    }

    /// Which kept list holds `node`, and where.
    fn find_sibling(lists: &[Vec<Sibling>], node: Node<'_>) -> Option<(usize, usize)> {
        let (id, start) = (node.id(), node.start_byte());
        lists.iter().enumerate().rev().find_map(|(l, list)| {
            // Siblings are in byte order; several may start where `node` does (zero-width
            // nodes), so look at each of them.
            let first = list.partition_point(|s| s.start_byte < start);
            list[first..]
                .iter()
                .take_while(|s| s.start_byte == start)
                .position(|s| s.id == id)
                .map(|i| (l, first + i))
        })
    }

    /// Every child of `parent`, named or not, in order: what `prev_sibling` walks.
    fn children_of(&self, parent: Node<'_>) -> Vec<Sibling> {
        let mut out = Vec::with_capacity(parent.child_count());
        let mut cursor = parent.walk();
        if cursor.goto_first_child() {
            loop {
                let c = cursor.node();
                out.push(Sibling {
                    id: c.id(),
                    start_byte: c.start_byte(),
                    end_byte: c.end_byte(),
                    start_row: c.start_position().row,
                    end_row: c.end_position().row,
                    kind: self.kind(c),
                });
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        out
    }
}

/// Marks sorted for [`holds`]; none (walk everything) while a test compares the walks.
fn in_order(mut marks: Vec<usize>) -> Option<Vec<usize>> {
    #[cfg(test)]
    if !USE_MARKS.with(|on| on.get()) {
        return None;
    }
    marks.sort_unstable();
    Some(marks)
}

/// Whether one of the places in `marks` (in order) is inside `node` (always, without
/// marks).
#[inline]
fn holds(marks: Option<&[usize]>, node: Node<'_>) -> bool {
    match marks {
        Some(at) => {
            let i = at.partition_point(|&k| k < node.start_byte());
            at.get(i).is_some_and(|&k| k < node.end_byte())
        }
        None => true,
    }
}

/// Whitespace as `char::is_whitespace` has it, for an ASCII byte.
#[inline]
fn ascii_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// Collapse whitespace and cut at `max` characters.
pub fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 3));
    let mut count = 0;
    let bytes = s.as_bytes();
    // The non-ASCII character at byte `i`: its length, and whether it is whitespace.
    let wide = |i: usize| -> (usize, bool) {
        let ch = s[i..].chars().next().unwrap_or(' ');
        (ch.len_utf8(), ch.is_whitespace())
    };
    let mut i = 0;
    while i < bytes.len() {
        // Whitespace before a word.
        let b = bytes[i];
        if b < 0x80 {
            if ascii_space(b) {
                i += 1;
                continue;
            }
        } else {
            let (len, space) = wide(i);
            if space {
                i += len;
                continue;
            }
        }
        // A word: its bytes and characters.
        let start = i;
        let mut chars = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if ascii_space(b) {
                    break;
                }
                i += 1;
            } else {
                let (len, space) = wide(i);
                if space {
                    break;
                }
                i += len;
            }
            chars += 1;
        }
        // Words are joined by one space.
        if !out.is_empty() {
            if count >= max {
                out.push('…');
                return out;
            }
            out.push(' ');
            count += 1;
        }
        if count + chars <= max {
            out.push_str(&s[start..i]);
            count += chars;
            continue;
        }
        for ch in s[start..i].chars() {
            if count >= max {
                out.push('…');
                return out;
            }
            out.push(ch);
            count += 1;
        }
    }
    // A signature cut before the body often ends in an opening brace or colon.
    let trimmed = out.trim_end_matches(['{', ' ']).trim_end().len();
    out.truncate(trimmed);
    out
}

/// First meaningful line of a comment, without its markers.
pub fn comment_first_line(comment: &str) -> Option<String> {
    for line in comment.lines() {
        // `trim_start_matches` with a text pattern, without building a searcher each time.
        let mut l = line.trim();
        for marker in ["/**", "/*!", "/*", "///", "//!", "//"] {
            while let Some(rest) = l.strip_prefix(marker) {
                l = rest;
            }
        }
        let mut l = l.trim_start_matches('#').trim_start_matches('*');
        while let Some(rest) = l.strip_suffix("*/") {
            l = rest;
        }
        // C# XML doc comments wrap the text in <summary>.
        let mut l = l.trim();
        while let Some(rest) = l.strip_prefix("<summary>") {
            l = rest;
        }
        while let Some(rest) = l.strip_suffix("</summary>") {
            l = rest;
        }
        let l = l.trim();
        if !l.is_empty() && !is_directive(l) {
            return Some(one_line(l, MAX_DOC));
        }
    }
    None
}

/// Tool directives in comments (`go:noinline`, `nolint:errcheck`,
/// `eslint-disable-next-line`, `@ts-ignore`) are not documentation.
fn is_directive(line: &str) -> bool {
    let word_colon = line.split_once(':').is_some_and(|(head, rest)| {
        !head.is_empty()
            && head.chars().all(|c| c.is_ascii_lowercase() || c == '+')
            && rest.starts_with(|c: char| !c.is_whitespace())
    });
    word_colon
        || line.starts_with("eslint-")
        || line.starts_with("@ts-")
        || line.starts_with("+build")
        || line.starts_with("prettier-ignore")
}

/// The first line of a docstring literal (Python), without quotes.
pub fn docstring_first_line(literal: &str) -> Option<String> {
    let body = literal.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let body = body
        .trim_start_matches("\"\"\"")
        .trim_start_matches("'''")
        .trim_start_matches(['"', '\'']);
    body.lines()
        .map(|l| l.trim().trim_end_matches(['"', '\'']).trim())
        .find(|l| !l.is_empty())
        .map(|l| one_line(l, MAX_DOC))
}

/// Visit the named children of `node`.
pub fn named_children<'t>(node: Node<'t>) -> NamedChildren<'t> {
    let mut cursor = node.walk();
    let more = cursor.goto_first_child();
    NamedChildren { cursor, more }
}

/// The named children of a node, one cursor step at a time (no list of them is built).
pub struct NamedChildren<'t> {
    cursor: tree_sitter::TreeCursor<'t>,
    /// The cursor is on a child not yet looked at.
    more: bool,
}

impl<'t> Iterator for NamedChildren<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        while self.more {
            let node = self.cursor.node();
            self.more = self.cursor.goto_next_sibling();
            if node.is_named() {
                return Some(node);
            }
        }
        None
    }
}

/// Strip quotes of a string literal.
pub fn unquote(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix(['"', '\'', '`', '<']).unwrap_or(s);
    s.strip_suffix(['"', '\'', '`', '>']).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::{one_line, Extractor};
    use crate::languages::{Language, Parsers};

    /// The kind table gives every node of the sample files the name tree-sitter gives it,
    /// anonymous and error nodes included.
    #[test]
    fn kinds_by_id_are_the_kinds_by_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
        let mut parsers = Parsers::new();
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(lang) = Language::from_path(&path.to_string_lossy()) else {
                continue;
            };
            let mut src = std::fs::read(&path).unwrap();
            // A syntax error too.
            src.extend_from_slice(b"\n)) } {{ ]] @@ <<\n");
            let tree = parsers.parse(lang, &src).unwrap();
            let ex = Extractor::new(&src, lang);
            let mut cursor = tree.walk();
            loop {
                let node = cursor.node();
                assert_eq!(ex.kind(node), node.kind(), "{}", path.display());
                seen += 1;
                if cursor.goto_first_child() || cursor.goto_next_sibling() {
                    continue;
                }
                while cursor.goto_parent() && !cursor.goto_next_sibling() {}
                if cursor.depth() == 0 {
                    break;
                }
            }
        }
        assert!(seen > 1000, "{seen} nodes");
    }

    #[test]
    fn one_line_is_at_most_max_characters_and_an_ellipsis() {
        // A word that ends exactly at the limit, then another word.
        let cut = one_line("abcd efgh", 4);
        assert_eq!(cut, "abcd…");
        for text in ["a b c d e f", "ab cd ef gh", "abcdefgh", " a  bc   def "] {
            for max in 1..8 {
                let cut = one_line(text, max);
                assert!(cut.chars().count() <= max + 1, "{text:?} {max}: {cut:?}");
            }
        }
        assert_eq!(one_line("fn  f(a,\n  b) {", 160), "fn f(a, b)");
    }

    /// Words split at whitespace and joined by single spaces, as one_line did before it
    /// went character by character.
    fn one_line_by_words(s: &str, max: usize) -> String {
        let mut out = String::new();
        let mut count = 0;
        for word in s.split_whitespace() {
            if !out.is_empty() {
                if count >= max {
                    out.push('…');
                    return out;
                }
                out.push(' ');
                count += 1;
            }
            for ch in word.chars() {
                if count >= max {
                    out.push('…');
                    return out;
                }
                out.push(ch);
                count += 1;
            }
        }
        let trimmed = out.trim_end_matches(['{', ' ']).trim_end().len();
        out.truncate(trimmed);
        out
    }

    #[test]
    fn one_line_joins_words_as_splitting_at_whitespace_does() {
        let texts = [
            "",
            " ",
            "a",
            "  lead and trail  ",
            "fn  f(a,\n\t b) {",
            "x\u{3000}y\u{a0}z é\u{2028}ü",
            "class A {  {",
            "abcd efgh ijkl",
            "\n\n  def f(self):\n",
        ];
        for text in texts {
            for max in 0..20 {
                assert_eq!(
                    one_line(text, max),
                    one_line_by_words(text, max),
                    "{text:?} {max}"
                );
            }
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Whether extractors skip subtrees by their marks ([`Extractor::set_marks`]).
    static USE_MARKS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// The facts of `src`, found with marks (`may_hold` skipping subtrees) or by the whole
/// walk: a test that skipping loses nothing. `src` must parse without errors.
#[cfg(test)]
pub fn facts_with_marks(lang: Language, src: &str, marks: bool) -> FileFacts {
    use crate::languages::{extract, Parsers};
    let tree_ok = Parsers::new()
        .parse(lang, src.as_bytes())
        .is_some_and(|t| !t.root_node().has_error());
    assert!(tree_ok, "not valid {lang:?}: {src}");
    USE_MARKS.with(|on| on.set(marks));
    let facts = extract(&mut Parsers::new(), lang, src.as_bytes());
    USE_MARKS.with(|on| on.set(true));
    facts
}
