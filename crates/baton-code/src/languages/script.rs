//! TypeScript, TSX and JavaScript.

use tree_sitter::Node;

use crate::extract::{named_children, one_line, unquote, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Module,
    Function,
}

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    // In a tree without errors, what the expression walks record or search has braces of
    // its own (see `marks`). (Error recovery may assume a missing token, which has no
    // text: such a tree is walked whole.)
    if !root.has_error() {
        ex.set_marks(marks(ex.src));
        ex.set_calls(calls(ex.src));
    }
    block(ex, root, Scope::Module);
    let mut exported = Vec::new();
    for stmt in named_children(root) {
        if ex.kind(stmt) != "expression_statement" {
            continue;
        }
        for child in named_children(stmt) {
            if ex.kind(child) == "assignment_expression" {
                commonjs_export(ex, stmt, child, &mut exported);
            }
        }
    }
    ex.mark_exported(&exported);
}

/// `module.exports = { a, b }`, `exports.f = function () {}`,
/// `module.exports.C = class {}`.
fn commonjs_export(
    ex: &mut Extractor<'_>,
    stmt: Node<'_>,
    assign: Node<'_>,
    exported: &mut Vec<String>,
) {
    let (Some(left), Some(right)) = (
        ex.field(assign, Field::Left),
        ex.field(assign, Field::Right),
    ) else {
        return;
    };
    let target = ex.text(left);
    if target == "module.exports" {
        match ex.kind(right) {
            "object" => {
                for prop in named_children(right) {
                    match ex.kind(prop) {
                        "shorthand_property_identifier" => exported.push(ex.text(prop).to_string()),
                        "pair" => {
                            if let Some(v) = ex.field(prop, Field::Value) {
                                if ex.kind(v) == "identifier" {
                                    exported.push(ex.text(v).to_string());
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            "identifier" => exported.push(ex.text(right).to_string()),
            _ => {}
        }
        return;
    }
    let Some(name) = target
        .strip_prefix("module.exports.")
        .or_else(|| target.strip_prefix("exports."))
    else {
        return;
    };
    let kind = match ex.kind(right) {
        "function_expression" | "function" | "arrow_function" | "generator_function" => {
            SymbolKind::Function
        }
        "class" => SymbolKind::Class,
        "identifier" => {
            exported.push(ex.text(right).to_string());
            return;
        }
        _ => return,
    };
    let end = ex
        .field(right, Field::Body)
        .map_or(right.end_byte(), |b| b.start_byte());
    let head = ex.head(stmt.start_byte(), end).into_owned();
    let sig = one_line(head.trim_end().trim_end_matches("=>"), 160);
    let doc = ex.leading_comment(stmt);
    ex.push(stmt, name, kind, true, sig, doc);
}

fn block(ex: &mut Extractor<'_>, node: Node<'_>, scope: Scope) {
    ex.deeper(|ex| {
        for child in named_children(node) {
            statement(ex, child, child, scope, false);
        }
    });
}

fn statement(
    ex: &mut Extractor<'_>,
    node: Node<'_>,
    anchor: Node<'_>,
    scope: Scope,
    exported: bool,
) {
    let kind = ex.kind(node);
    // In a function, an expression or a return only has callbacks searched, and what
    // `callbacks` records or searches has both marks; a declaration may also bind a
    // `require(..)` or an arrow function (`const f = x => x`): one mark or the other.
    if scope == Scope::Function {
        let skip = match kind {
            "expression_statement" | "return_statement" => !ex.may_hold(node) || !ex.may_call(node),
            "lexical_declaration" | "variable_declaration" => {
                !ex.may_hold(node) && !ex.may_call(node)
            }
            _ => false,
        };
        if skip {
            return;
        }
    }
    match kind {
        "export_statement" => {
            if let Some(source) = ex.field(node, Field::Source) {
                let names = export_clause_names(ex, node);
                ex.import(node, unquote(ex.text(source)), names, ImportStyle::Script);
            }
            if let Some(decl) = ex.field(node, Field::Declaration) {
                statement(ex, decl, node, scope, true);
            } else if let Some(value) = ex.field(node, Field::Value) {
                // `export default function () {}` / `export default class {}`
                if matches!(
                    ex.kind(value),
                    "function_expression" | "class" | "arrow_function"
                ) {
                    let kind = if ex.kind(value) == "class" {
                        SymbolKind::Class
                    } else {
                        SymbolKind::Function
                    };
                    // `export default function f` is `f`; an anonymous one is `default`.
                    let name = ex.field_text(value, Field::Name).unwrap_or("default");
                    ex.symbol(value, node, name, kind, true);
                    nested(ex, value, name, exported);
                } else {
                    callbacks(ex, value);
                }
            }
        }
        "function_declaration" | "generator_function_declaration" | "function_signature" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Function, exported);
            ex.within_path(name, |ex| type_literals(ex, node, exported));
            if let Some(body) = ex.field(node, Field::Body) {
                ex.within_path(name, |ex| block(ex, body, Scope::Function));
            }
        }
        "class_declaration" | "abstract_class_declaration" | "class" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Class, exported);
            if let Some(body) = ex.field(node, Field::Body) {
                ex.within(name, |ex| class_body(ex, body, exported));
            }
        }
        "interface_declaration" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Interface, exported);
            if let Some(body) = ex.field(node, Field::Body) {
                ex.within(name, |ex| type_members(ex, body, exported));
            }
        }
        "type_alias_declaration" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            let sig = one_line(&ex.head(node.start_byte(), node.end_byte()), 160);
            let doc = ex.leading_comment(anchor);
            ex.push(node, name, SymbolKind::Type, exported, sig, doc);
            // `type Api = { get(): T }`: the type literal's method signatures.
            if let Some(value) = ex.field(node, Field::Value) {
                if ex.kind(value) == "object_type" {
                    ex.within(name, |ex| type_members(ex, value, exported));
                } else {
                    // `type Result = { ok: true } | { ok: false; error: E }`
                    ex.within(name, |ex| type_literals(ex, node, exported));
                }
            }
        }
        "enum_declaration" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Enum, exported);
        }
        "internal_module" | "module" => {
            let name = unquote(ex.field_text(node, Field::Name).unwrap_or(""));
            ex.symbol(node, anchor, name, SymbolKind::Module, exported);
            if let Some(body) = ex.field(node, Field::Body) {
                let name = name.to_string();
                ex.within(&name, |ex| {
                    for child in named_children(body) {
                        statement(ex, child, child, Scope::Module, exported);
                    }
                });
            }
        }
        "ambient_declaration" => {
            for child in named_children(node) {
                statement(ex, child, anchor, scope, exported);
            }
        }
        "expression_statement" => {
            // `namespace X {}` parses as an expression statement in some versions.
            for child in named_children(node) {
                match ex.kind(child) {
                    "internal_module" if scope == Scope::Module => {
                        statement(ex, child, anchor, scope, exported)
                    }
                    "call_expression" if scope == Scope::Module => {
                        require_call(ex, child, Vec::new())
                    }
                    _ => {}
                }
                // `describe("x", () => { function helper() {} })`: what callbacks define.
                callbacks(ex, child);
            }
        }
        "return_statement" => {
            for child in named_children(node) {
                callbacks(ex, child);
            }
        }
        "lexical_declaration" | "variable_declaration" => {
            // The bytes, not the text: a declaration may span a whole bundle.
            let is_const = ex.src[node.start_byte()..].starts_with(b"const");
            for decl in named_children(node) {
                if ex.kind(decl) == "variable_declarator" {
                    declarator(ex, node, anchor, decl, scope, exported, is_const);
                }
            }
        }
        "import_statement" => import_statement(ex, node),
        "statement_block" | "if_statement" | "else_clause" | "try_statement" | "catch_clause"
        | "finally_clause" | "for_statement" | "for_in_statement" | "while_statement"
        | "do_statement" | "switch_statement" | "switch_body" | "switch_case"
        | "switch_default" | "labeled_statement" => {
            ex.deeper(|ex| {
                for child in named_children(node) {
                    statement(ex, child, child, scope, false);
                }
            });
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn declarator(
    ex: &mut Extractor<'_>,
    decl_stmt: Node<'_>,
    anchor: Node<'_>,
    decl: Node<'_>,
    scope: Scope,
    exported: bool,
    is_const: bool,
) {
    let Some(name_node) = ex.field(decl, Field::Name) else {
        return;
    };
    let value = ex.field(decl, Field::Value);
    if let Some(v) = value {
        if ex.kind(v) == "call_expression" || ex.kind(v) == "await_expression" {
            let names = binding_names(ex, name_node);
            require_call(ex, v, names);
        }
    }
    if ex.kind(name_node) != "identifier" {
        return;
    }
    let name = ex.text(name_node);
    // `declare const api: { get(): T }`, `const seen: { id: string }[] = []`
    if let Some(annotation) = ex.field(decl, Field::Type) {
        ex.within_path(name, |ex| type_literals(ex, annotation, exported));
    }
    let is_function = value.is_some_and(|v| {
        matches!(
            ex.kind(v),
            "arrow_function" | "function_expression" | "function" | "generator_function"
        )
    });
    let is_class = value.is_some_and(|v| ex.kind(v) == "class");
    if scope != Scope::Module && !is_function && !is_class {
        // A value inside a function: only what callbacks in it define.
        if let Some(v) = value {
            callbacks(ex, v);
        }
        return;
    }
    let kind = if is_function {
        SymbolKind::Function
    } else if is_class {
        SymbolKind::Class
    } else if is_const {
        SymbolKind::Constant
    } else {
        SymbolKind::Variable
    };
    let sig = match value {
        Some(v) if is_function || is_class => {
            let end = ex
                .field(v, Field::Body)
                .map(|b| b.start_byte())
                .unwrap_or(v.end_byte());
            let head = ex.head(decl_stmt.start_byte(), end).into_owned();
            one_line(head.trim_end().trim_end_matches("=>"), 160)
        }
        _ => one_line(&ex.head(decl_stmt.start_byte(), decl_stmt.end_byte()), 160),
    };
    let doc = ex.leading_comment(anchor);
    ex.push(decl_stmt, name, kind, exported, sig, doc);
    match value {
        Some(v) if is_function || is_class => nested(ex, v, name, exported),
        // `const api = { get() {}, post: () => {} }`: the object's methods.
        Some(v) if ex.kind(v) == "object" && is_const => {
            ex.within(name, |ex| object_methods(ex, v, exported))
        }
        Some(v) => callbacks(ex, v),
        None => {}
    }
}

/// What a function or class expression defines inside it, under `name`.
fn nested(ex: &mut Extractor<'_>, value: Node<'_>, name: &str, exported: bool) {
    if ex.kind(value) != "class" {
        ex.within_path(name, |ex| type_literals(ex, value, exported));
    }
    let Some(body) = ex.field(value, Field::Body) else {
        return;
    };
    match (ex.kind(value), ex.kind(body)) {
        ("class", _) => ex.within(name, |ex| class_body(ex, body, exported)),
        (_, "statement_block") => ex.within_path(name, |ex| block(ex, body, Scope::Function)),
        // `() => expr`: functions passed along in the expression.
        _ => ex.within_path(name, |ex| ex.deeper(|ex| callbacks(ex, body))),
    }
}

/// Functions passed as arguments (`describe("x", () => {...})`, `app.get("/", (q, r) =>
/// {...})`, `p.then(function () {...})`, IIFEs): their bodies are searched for
/// definitions; the callbacks themselves have no name to index.
fn callbacks(ex: &mut Extractor<'_>, node: Node<'_>) {
    // Most expressions (`a.b(c)`, `x + 1`, arrays of strings) define nothing: their text
    // holds no braces (see `marks`). Data (`[{ id: 1 }]`, `{ one: "s", other: "t" }`)
    // holds braces but no parameter list, arrow or type arguments (see `calls`).
    if !ex.may_hold(node) || !ex.may_call(node) {
        return;
    }
    match ex.kind(node) {
        "arrow_function" | "function_expression" | "function" | "generator_function" => {
            // `(record: { buffer: T[] }) => ...`: type literals of its parameters.
            type_literals(ex, node, false);
            if let Some(body) = ex.field(node, Field::Body) {
                if ex.kind(body) == "statement_block" {
                    block(ex, body, Scope::Function);
                } else {
                    ex.deeper(|ex| callbacks(ex, body));
                }
            }
        }
        // `return { toBe() {...} }`, `configure({ onError() {...} })`
        "object" => ex.deeper(|ex| object_methods(ex, node, false)),
        // `new Map<K, { due: number }>()`
        "type_arguments" => type_literals(ex, node, false),
        "call_expression"
        | "new_expression"
        | "await_expression"
        | "parenthesized_expression"
        | "arguments"
        | "member_expression"
        | "sequence_expression"
        | "ternary_expression"
        | "binary_expression"
        | "assignment_expression"
        | "as_expression"
        | "satisfies_expression"
        | "non_null_expression"
        | "unary_expression"
        | "array"
        | "spread_element"
        | "yield_expression" => {
            ex.deeper(|ex| {
                for child in named_children(node) {
                    callbacks(ex, child);
                }
            });
        }
        _ => {}
    }
}

/// Methods of an object literal: `m() {}`, `m: () => {}`, `m: function () {}`.
fn object_methods(ex: &mut Extractor<'_>, object: Node<'_>, exported: bool) {
    // An object of data (`{ one: "s", other: { n: 1 } }`) has no method, function value
    // or callback at any depth (see `calls`).
    if !ex.may_call(object) {
        return;
    }
    for prop in named_children(object) {
        match ex.kind(prop) {
            "method_definition" => {
                let name = unquote(ex.field_text(prop, Field::Name).unwrap_or(""));
                ex.symbol(prop, prop, name, SymbolKind::Method, exported);
                nested(ex, prop, name, exported);
            }
            "pair" => {
                // Neither braces nor an arrow: plain data (`narrow: ["B", "A"]`), no method
                // and nothing nested (a function value has one or the other). Without a
                // parameter list, arrow or type arguments, data too (`one: { n: 1 }`).
                if !ex.may_call(prop)
                    || (!ex.may_hold(prop)
                        && memchr::memmem::find(&ex.src[prop.byte_range()], b"=>").is_none())
                {
                    continue;
                }
                let (Some(key), Some(v)) =
                    (ex.field(prop, Field::Key), ex.field(prop, Field::Value))
                else {
                    continue;
                };
                if !matches!(
                    ex.kind(v),
                    "arrow_function" | "function_expression" | "function" | "generator_function"
                ) {
                    // `{ handlers: { open() {} } }`: what a nested value defines.
                    let key = unquote(ex.text(key)).to_string();
                    ex.within_path(&key, |ex| callbacks(ex, v));
                    continue;
                }
                let name = unquote(ex.text(key));
                let sig = head_of(ex, prop, v);
                let doc = ex.leading_comment(prop);
                ex.push(prop, name, SymbolKind::Method, exported, sig, doc);
                nested(ex, v, name, exported);
            }
            _ => {}
        }
    }
}

/// The text of `whole` up to where `function`'s body starts, on one line.
fn head_of(ex: &Extractor<'_>, whole: Node<'_>, function: Node<'_>) -> String {
    let end = ex
        .field(function, Field::Body)
        .map_or(function.end_byte(), |b| b.start_byte());
    let head = ex.head(whole.start_byte(), end).into_owned();
    one_line(head.trim_end().trim_end_matches("=>"), 160)
}

/// Members of an interface or a type literal: method signatures and properties whose
/// type is a function (`onClose: () => void`) as methods, other properties as fields.
fn type_members(ex: &mut Extractor<'_>, body: Node<'_>, exported: bool) {
    for member in named_children(body) {
        let kind = match ex.kind(member) {
            "method_signature" => SymbolKind::Method,
            "property_signature" => {
                let is_function = ex
                    .field(member, Field::Type)
                    .and_then(|t| t.named_child(0))
                    .is_some_and(|t| ex.kind(t) == "function_type");
                if is_function {
                    SymbolKind::Method
                } else {
                    SymbolKind::Field
                }
            }
            // Call, construct and index signatures name nothing; their types may hold
            // type literals.
            _ => {
                type_literals(ex, member, exported);
                continue;
            }
        };
        let name = unquote(ex.field_text(member, Field::Name).unwrap_or(""));
        let sig = one_line(
            ex.head(member.start_byte(), member.end_byte())
                .trim_end_matches([';', ',']),
            160,
        );
        let doc = ex.leading_comment(member);
        ex.push(member, name, kind, exported, sig, doc);
        ex.within_path(name, |ex| type_literals(ex, member, exported));
    }
}

/// The members of type literals (`{ id: string; close(): void }`) anywhere in the type
/// annotations under `node` (parameter and return types, unions, generics), under the
/// current container. Function and class bodies are not searched here.
fn type_literals(ex: &mut Extractor<'_>, node: Node<'_>, exported: bool) {
    // A function's body is searched as code (`callbacks`, `block`), never here.
    let body = ex.field(node, Field::Body).map(|b| b.id());
    ex.deeper(|ex| {
        for child in named_children(node).filter(|c| Some(c.id()) != body) {
            match ex.kind(child) {
                "object_type" => type_members(ex, child, exported),
                "statement_block"
                | "class_body"
                | "object"
                | "arrow_function"
                | "function_expression"
                | "class" => {}
                // A type literal has braces: `(a: string, b?: number)` has none.
                _ if !ex.may_hold(child) => {}
                _ => type_literals(ex, child, exported),
            }
        }
    });
}

fn class_body(ex: &mut Extractor<'_>, body: Node<'_>, class_exported: bool) {
    for member in named_children(body) {
        match ex.kind(member) {
            "method_definition" | "method_signature" | "abstract_method_signature" => {
                let name = ex.field_text(member, Field::Name).unwrap_or("");
                let private = name.starts_with('#')
                    || named_children(member)
                        .any(|c| ex.kind(c) == "accessibility_modifier" && ex.text(c) != "public");
                ex.symbol(
                    member,
                    member,
                    name,
                    SymbolKind::Method,
                    class_exported && !private,
                );
                nested(ex, member, name, false);
            }
            "public_field_definition" | "field_definition" => {
                let value = ex.field(member, Field::Value);
                if value
                    .is_some_and(|v| matches!(ex.kind(v), "arrow_function" | "function_expression"))
                {
                    let name_node = ex
                        .field(member, Field::Name)
                        .or_else(|| ex.field(member, Field::Property));
                    if let (Some(n), Some(v)) = (name_node, value) {
                        let name = ex.text(n);
                        let end = ex
                            .field(v, Field::Body)
                            .map_or(v.end_byte(), |b| b.start_byte());
                        let head = ex.head(member.start_byte(), end).into_owned();
                        let sig = one_line(head.trim_end().trim_end_matches("=>"), 160);
                        let doc = ex.leading_comment(member);
                        let exported = class_exported && !name.starts_with('#');
                        ex.push(member, name, SymbolKind::Method, exported, sig, doc);
                        nested(ex, v, name, false);
                    }
                }
            }
            _ => {}
        }
    }
}

fn import_statement(ex: &mut Extractor<'_>, node: Node<'_>) {
    // TypeScript's `import fs = require("fs")`.
    if let Some(clause) = named_children(node).find(|c| ex.kind(*c) == "import_require_clause") {
        if let Some(source) = ex.field(clause, Field::Source) {
            ex.import(
                node,
                unquote(ex.text(source)),
                vec!["default".to_string()],
                ImportStyle::Script,
            );
        }
        return;
    }
    let Some(source) = ex.field(node, Field::Source) else {
        return;
    };
    let mut names = Vec::new();
    for child in named_children(node) {
        if ex.kind(child) != "import_clause" {
            continue;
        }
        for part in named_children(child) {
            match ex.kind(part) {
                "identifier" => names.push("default".to_string()),
                "namespace_import" => names.push("*".to_string()),
                "named_imports" => {
                    for spec in named_children(part) {
                        if ex.kind(spec) == "import_specifier" {
                            if let Some(n) = ex.field_text(spec, Field::Name) {
                                names.push(unquote(n).to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    ex.import(node, unquote(ex.text(source)), names, ImportStyle::Script);
}

fn export_clause_names(ex: &Extractor<'_>, node: Node<'_>) -> Vec<String> {
    let mut names = Vec::new();
    for child in named_children(node) {
        match ex.kind(child) {
            "export_clause" => {
                for spec in named_children(child) {
                    if let Some(n) = ex.field_text(spec, Field::Name) {
                        names.push(unquote(n).to_string());
                    }
                }
            }
            "namespace_export" => names.push("*".to_string()),
            _ => {}
        }
    }
    if names.is_empty() {
        names.push("*".to_string());
    }
    names
}

/// Names bound by `const x = ...` or `const { a, b } = ...`.
fn binding_names(ex: &Extractor<'_>, pattern: Node<'_>) -> Vec<String> {
    match ex.kind(pattern) {
        "object_pattern" => named_children(pattern)
            .filter_map(|p| match ex.kind(p) {
                "shorthand_property_identifier_pattern" => Some(ex.text(p).to_string()),
                "pair_pattern" => ex.field_text(p, Field::Key).map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => vec!["default".to_string()],
    }
}

/// `require('x')` and `await import('x')`.
fn require_call(ex: &mut Extractor<'_>, node: Node<'_>, names: Vec<String>) {
    let call = if ex.kind(node) == "await_expression" {
        match node.named_child(0) {
            Some(c) => c,
            None => return,
        }
    } else {
        node
    };
    if ex.kind(call) != "call_expression" {
        return;
    }
    let Some(function) = ex.field(call, Field::Function) else {
        return;
    };
    // The bytes, not the text: a callee may be a whole function (an IIFE).
    let callee = &ex.src[function.byte_range()];
    if callee != b"require" && callee != b"import" {
        return;
    }
    let Some(arg) = ex
        .field(call, Field::Arguments)
        .and_then(|a| a.named_child(0))
    else {
        return;
    };
    if ex.kind(arg) == "string" {
        ex.import(call, unquote(ex.text(arg)), names, ImportStyle::Script);
    }
}

/// Where the braces of a body, a class, an object literal or a type literal open in
/// `src`. Everything [`callbacks`] and [`type_literals`] record or search has them: a
/// named function or class inside a body, a method or a nested value of an object, a
/// type literal's members; an arrow function without any (`x => x + 1`) defines nothing.
/// Braces in strings, comments and template literals count too; they only cost a walk.
fn marks(src: &[u8]) -> Vec<usize> {
    memchr::memchr_iter(b'{', src).collect()
}

/// Where a parameter list (`(`), an arrow (`=>`) or type arguments (`<`) may be in `src`:
/// what [`callbacks`] and [`object_methods`] record or search has one of them besides
/// its braces (a function has parameters or an arrow, a method its parameters, a type
/// literal that `callbacks` reaches sits in type arguments). An object or array without
/// any is data, however deeply its braces nest. Every `>` counts (`a > b` too); that only
/// costs a walk.
fn calls(src: &[u8]) -> Vec<usize> {
    memchr::memchr3_iter(b'(', b'<', b'>', src).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::extract::facts_with_marks as facts;
    use crate::languages::Language;

    #[test]
    fn skipping_subtrees_without_marks_finds_everything_in_the_fixtures() {
        for (lang, src) in [
            (
                Language::JavaScript,
                include_str!("../../tests/fixtures/extract/sample.js"),
            ),
            (
                Language::TypeScript,
                include_str!("../../tests/fixtures/extract/sample.ts"),
            ),
            (
                Language::Tsx,
                include_str!("../../tests/fixtures/extract/component.tsx"),
            ),
        ] {
            let with = facts(lang, src, true);
            assert!(with.symbols.len() >= 5, "{lang:?}: {}", with.symbols.len());
            assert_eq!(with, facts(lang, src, false), "{lang:?}");
        }
    }

    /// Valid TypeScript: statements and expressions nested in each other, with functions,
    /// classes, object and type literals at any depth, and plain data between them.
    fn program() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("1".to_string()),
            Just("\"s{\"".to_string()),
            Just("a.b".to_string()),
            Just("x".to_string()),
        ];
        let expr = leaf.prop_recursive(5, 48, 3, |e| {
            prop_oneof![
                (e.clone(), e.clone()).prop_map(|(a, b)| format!("f({a}, {b})")),
                (e.clone(), e.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
                (e.clone(), e.clone()).prop_map(|(a, b)| format!("{a} + {b}")),
                e.clone().prop_map(|a| format!("(y) => {a}")),
                e.clone()
                    .prop_map(|a| format!("(z: {{ k: number }}) => {{ const inner = {a}; }}")),
                e.clone()
                    .prop_map(|a| format!("function (w) {{ function named() {{}} return {a}; }}")),
                e.clone()
                    .prop_map(|a| format!("{{ key: {a}, m() {{ const v = {a}; }}, n: () => 1 }}")),
                e.clone()
                    .prop_map(|a| format!("new Map<string, {{ due: number }}>([[\"k\", {a}]])")),
                e.clone()
                    .prop_map(|a| format!("class {{ run() {{ return {a}; }} }}")),
                e.clone().prop_map(|a| format!("`t${{{a}}}`")),
                e.clone().prop_map(|a| format!(
                    "({{ one: \"s\", other: {{ n: [{{ id: 1 }}], v: {a} }} }})"
                )),
                e.prop_map(|a| format!("[{{ k: {{ j: 2 }} }}, {a}]")),
            ]
        });
        prop::collection::vec(
            (0..5usize, expr).prop_map(|(k, e)| match k {
                0 => format!("const c = {e};\n"),
                1 => format!("{e};\n"),
                2 => format!("function g() {{ return {e}; }}\n"),
                3 => format!("function k() {{ const r = require(\"m\"); let q = v => {e}; }}\n"),
                _ => format!("export const h = () => {{ describe(\"d\", () => {e}); }};\n"),
            }),
            1..6,
        )
        .prop_map(|stmts| stmts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn skipping_subtrees_without_marks_finds_the_same_facts(src in program()) {
            let with = facts(Language::TypeScript, &src, true);
            prop_assert_eq!(with, facts(Language::TypeScript, &src, false));
        }
    }
}
