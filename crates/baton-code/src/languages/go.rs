use std::sync::OnceLock;

use memchr::memmem;
use tree_sitter::Node;

use crate::extract::{named_children, one_line, unquote, Extractor, Field};
use crate::languages::Language;
use crate::model::{ImportStyle, SymbolKind};

fn is_exported(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    ex.set_marks(type_keywords(ex.src).collect());
    for node in named_children(root) {
        match ex.kind(node) {
            "function_declaration" => {
                // `func _() {...}` (stringer's compile-time checks) names nothing.
                let name = ex
                    .field_text(node, Field::Name)
                    .filter(|n| *n != "_")
                    .unwrap_or("");
                ex.symbol(node, node, name, SymbolKind::Function, is_exported(name));
                if name.is_empty() {
                    local_types(ex, node);
                } else {
                    ex.within(name, |ex| local_types(ex, node));
                }
            }
            "method_declaration" => {
                let name = ex.field_text(node, Field::Name).unwrap_or("").to_string();
                let receiver = ex
                    .field(node, Field::Receiver)
                    .and_then(|r| receiver_type(ex, r))
                    .unwrap_or_default();
                ex.within(&receiver, |ex| {
                    ex.symbol(node, node, &name, SymbolKind::Method, is_exported(&name));
                    ex.within_path(&name, |ex| local_types(ex, node));
                });
            }
            "type_declaration" => type_declaration(ex, node, false),
            "const_declaration" | "var_declaration" => {
                let kind = if ex.kind(node) == "const_declaration" {
                    SymbolKind::Constant
                } else {
                    SymbolKind::Variable
                };
                let mut specs: Vec<Node<'_>> = Vec::new();
                for child in named_children(node) {
                    if ex.kind(child) == "var_spec_list" {
                        specs.extend(named_children(child));
                    } else {
                        specs.push(child);
                    }
                }
                let single = specs_single(node);
                for spec in specs {
                    if !matches!(ex.kind(spec), "const_spec" | "var_spec") {
                        continue;
                    }
                    let names = spec_names(ex, spec);
                    let anchor = if single { node } else { spec };
                    // `_` binds nothing: `var _ io.Reader = (*T)(nil)` only checks a type.
                    for n in names {
                        let name = ex.text(n);
                        if name == "_" {
                            continue;
                        }
                        let sig = one_line(&ex.head(spec.start_byte(), spec.end_byte()), 160);
                        let doc = ex.leading_comment(anchor);
                        ex.push(spec, name, kind, is_exported(name), sig, doc);
                    }
                }
            }
            "import_declaration" => {
                let mut specs = Vec::new();
                for child in named_children(node) {
                    match ex.kind(child) {
                        "import_spec" => specs.push(child),
                        "import_spec_list" => specs
                            .extend(named_children(child).filter(|c| ex.kind(*c) == "import_spec")),
                        _ => {}
                    }
                }
                for spec in specs {
                    let Some(path) = ex.field_text(spec, Field::Path) else {
                        continue;
                    };
                    let path = unquote(path);
                    let bound = ex
                        .field_text(spec, Field::Name)
                        .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
                    ex.import(spec, path, vec![bound.to_string()], ImportStyle::Go);
                }
            }
            _ => {}
        }
    }
}

/// The names a const or var spec binds. Most bind one (`EPERM = Errno(0x1)`): a comma
/// (or a comment) after the first name is the only sign of more, and only then are all
/// children listed.
fn spec_names<'t>(ex: &Extractor<'_>, spec: Node<'t>) -> Vec<Node<'t>> {
    let Some(first) = ex.field(spec, Field::Name) else {
        return Vec::new();
    };
    let after = ex.src[first.end_byte()..].trim_ascii_start();
    if after.starts_with(b",") || after.starts_with(b"/") {
        ex.fields.children(spec, Field::Name)
    } else {
        vec![first]
    }
}

fn specs_single(decl: Node<'_>) -> bool {
    decl.named_child_count() == 1
        && decl
            .named_child(0)
            .is_some_and(|c| c.kind() != "var_spec_list")
}

/// Text of a type spec up to the body of a struct or interface.
fn head(text: &str) -> &str {
    match text.find('{') {
        Some(i) => &text[..i],
        None => text,
    }
}

/// `(s *Server)` gives "Server"; generic receivers drop their parameters.
fn receiver_type(ex: &Extractor<'_>, params: Node<'_>) -> Option<String> {
    let param = named_children(params).find(|p| ex.kind(*p) == "parameter_declaration")?;
    let ty = ex.field_text(param, Field::Type)?;
    let ty = ty.trim_start_matches('*').trim();
    let ty = ty.split('[').next().unwrap_or(ty);
    Some(ty.to_string())
}

/// An interface's method specs (`Read(p []byte) (n int, err error)`); embedded types
/// and type sets define nothing new.
fn interface_methods(ex: &mut Extractor<'_>, body: Node<'_>, interface_exported: bool) {
    for member in named_children(body) {
        if ex.kind(member) != "method_elem" {
            continue;
        }
        let name = ex.field_text(member, Field::Name).unwrap_or("");
        let sig = one_line(&ex.head(member.start_byte(), member.end_byte()), 160);
        let doc = ex.leading_comment(member);
        let exported = interface_exported && is_exported(name);
        ex.push(member, name, SymbolKind::Method, exported, sig, doc);
    }
}

/// `type X struct {...}`, `type ( A int; B interface {...} )`: each spec, and the methods
/// of interfaces.
fn type_declaration(ex: &mut Extractor<'_>, node: Node<'_>, local: bool) {
    for spec in named_children(node) {
        if !matches!(ex.kind(spec), "type_spec" | "type_alias") {
            continue;
        }
        let name = ex
            .field_text(spec, Field::Name)
            .filter(|n| *n != "_")
            .unwrap_or("");
        // A type declared in a function is visible only there.
        let exported = !local && is_exported(name);
        let kind = match ex.field(spec, Field::Type).map(|t| ex.kind(t)) {
            Some("struct_type") => SymbolKind::Struct,
            Some("interface_type") => SymbolKind::Interface,
            _ => SymbolKind::Type,
        };
        let sig = one_line(
            &format!(
                "type {}",
                head(&ex.head(spec.start_byte(), spec.end_byte()))
            ),
            160,
        );
        let anchor = if node.named_child_count() == 1 {
            node
        } else {
            spec
        };
        let doc = ex.leading_comment(anchor);
        ex.push(spec, name, kind, exported, sig, doc);
        if kind == SymbolKind::Interface {
            if let Some(body) = ex.field(spec, Field::Type) {
                ex.within(name, |ex| interface_methods(ex, body, exported));
            }
        }
    }
}

/// Types declared inside a function's body (at any depth, in closures too), under the
/// function. Most bodies declare none: without the keyword in its text, a body is not
/// walked at all.
fn local_types(ex: &mut Extractor<'_>, node: Node<'_>) {
    if ex.may_hold(node) {
        local_types_in(ex, node);
    }
}

/// Where a `type` keyword may start in `text`, the marks of a Go file
/// ([`Extractor::may_hold`]): the whole word, followed by a space or a tab, as a
/// declaration writes it. `types.Info`, `rtype` and a type switch's `x.(type)`
/// are not; in the standard library's `go/types` alone, the bare substring is in most
/// function bodies.
fn type_keywords(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    static TYPE: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    let finder = TYPE.get_or_init(|| memmem::Finder::new(b"type"));
    let in_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii();
    finder.find_iter(text).filter(move |&at| {
        let starts_word = at == 0 || !in_name(text[at - 1]);
        starts_word && matches!(text.get(at + 4), Some(b' ' | b'\t'))
    })
}

/// The id of `type_declaration` nodes in the Go grammar.
fn type_declaration_id() -> u16 {
    static ID: OnceLock<u16> = OnceLock::new();
    *ID.get_or_init(|| {
        Language::Go
            .grammar()
            .id_for_node_kind("type_declaration", true)
    })
}

/// The type declarations under `node`, in source order, none inside another, at most as
/// deep as [`Extractor::depth_left`] named levels: one cursor walks the body, in
/// preorder over named nodes.
///
/// A declaration starts with its `type` keyword, so in a tree without errors the walk
/// skips nodes whose text holds no such keyword ([`type_keywords`]). (A tree with errors
/// may hold a declaration whose keyword tree-sitter assumed, which has no text: it is
/// walked whole.)
fn local_types_in(ex: &mut Extractor<'_>, node: Node<'_>) {
    let left = ex.depth_left();
    let type_decl = type_declaration_id();
    let mut cursor = node.walk();
    if left == 0 || !cursor.goto_first_child() {
        return;
    }
    let whole = node.has_error();
    // How many levels below `node` the cursor is.
    let mut level = 1;
    loop {
        let child = cursor.node();
        if child.is_named() {
            if child.kind_id() == type_decl {
                type_declaration(ex, child, true);
            } else if level < left && (whole || ex.may_hold(child)) && cursor.goto_first_child() {
                level += 1;
                continue;
            }
        }
        while !cursor.goto_next_sibling() {
            if level == 1 || !cursor.goto_parent() {
                return;
            }
            level -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::type_keywords;
    use crate::languages::{extract, Language, Parsers};

    #[test]
    fn every_name_of_a_const_or_var_spec_is_a_symbol() {
        let src = "package p\n\nconst One = 1\nconst A, B = 1, 2\nvar X /* x */, Y int\n\
                   var (\n\tP, _, Q = 1, 2, 3\n\tR = 4\n)\n";
        let facts = extract(&mut Parsers::new(), Language::Go, src.as_bytes());
        let names: Vec<(&str, u32)> = facts
            .symbols
            .iter()
            .map(|s| (s.name.as_str(), s.line))
            .collect();
        assert_eq!(
            names,
            [
                ("One", 3),
                ("A", 4),
                ("B", 4),
                ("X", 5),
                ("Y", 5),
                ("P", 7),
                ("Q", 7),
                ("R", 8)
            ]
        );
    }

    #[test]
    fn type_keywords_are_whole_words_followed_by_a_space_or_tab() {
        let found = |text: &str| type_keywords(text.as_bytes()).collect::<Vec<_>>();
        assert_eq!(found("type T int"), [0]);
        assert_eq!(found("{\n\ttype\tT struct{}\n}"), [3]);
        assert_eq!(found("x := 1; type (A int; B int)"), [8]);
        assert_eq!(found("café type T int"), [6]);
        for none in [
            "switch v := x.(type) {",
            "info := types.Info{}",
            "var rtype *rtype",
            "t.typed = true",
            "subtype T",
            "étype T",
        ] {
            assert!(found(none).is_empty(), "{none}");
        }
    }
}
