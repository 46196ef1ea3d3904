//! TypeScript, TSX and JavaScript.

use tree_sitter::Node;

use crate::extract::{named_children, one_line, unquote, Extractor};
use crate::model::{ImportStyle, SymbolKind};

#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Module,
    Function,
}

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    block(ex, root, Scope::Module);
    let mut exported = Vec::new();
    for stmt in named_children(root) {
        if stmt.kind() != "expression_statement" {
            continue;
        }
        for child in named_children(stmt) {
            if child.kind() == "assignment_expression" {
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
        assign.child_by_field_name("left"),
        assign.child_by_field_name("right"),
    ) else {
        return;
    };
    let target = ex.text(left);
    if target == "module.exports" {
        match right.kind() {
            "object" => {
                for prop in named_children(right) {
                    match prop.kind() {
                        "shorthand_property_identifier" => exported.push(ex.text(prop).to_string()),
                        "pair" => {
                            if let Some(v) = prop.child_by_field_name("value") {
                                if v.kind() == "identifier" {
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
    let kind = match right.kind() {
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
    let end = right
        .child_by_field_name("body")
        .map_or(right.end_byte(), |b| b.start_byte());
    let head = String::from_utf8_lossy(&ex.src[stmt.start_byte()..end]).into_owned();
    let sig = one_line(head.trim_end().trim_end_matches("=>"), 160);
    let doc = ex.leading_comment(stmt);
    ex.push(stmt, name, kind, true, sig, doc);
}

fn block(ex: &mut Extractor<'_>, node: Node<'_>, scope: Scope) {
    for child in named_children(node) {
        statement(ex, child, child, scope, false);
    }
}

fn statement(
    ex: &mut Extractor<'_>,
    node: Node<'_>,
    anchor: Node<'_>,
    scope: Scope,
    exported: bool,
) {
    match node.kind() {
        "export_statement" => {
            if let Some(source) = node.child_by_field_name("source") {
                let names = export_clause_names(ex, node);
                ex.import(node, unquote(ex.text(source)), names, ImportStyle::Script);
            }
            if let Some(decl) = node.child_by_field_name("declaration") {
                statement(ex, decl, node, scope, true);
            } else if let Some(value) = node.child_by_field_name("value") {
                // `export default function () {}` / `export default class {}`
                if matches!(
                    value.kind(),
                    "function_expression" | "class" | "arrow_function"
                ) {
                    let kind = if value.kind() == "class" {
                        SymbolKind::Class
                    } else {
                        SymbolKind::Function
                    };
                    ex.symbol(value, node, "default", kind, true);
                }
            }
        }
        "function_declaration" | "generator_function_declaration" | "function_signature" => {
            let name = ex.field_text(node, "name").unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Function, exported);
            if let Some(body) = node.child_by_field_name("body") {
                ex.within(name, |ex| block(ex, body, Scope::Function));
            }
        }
        "class_declaration" | "abstract_class_declaration" | "class" => {
            let name = ex.field_text(node, "name").unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Class, exported);
            if let Some(body) = node.child_by_field_name("body") {
                ex.within(name, |ex| class_body(ex, body, exported));
            }
        }
        "interface_declaration" => {
            let name = ex.field_text(node, "name").unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Interface, exported);
        }
        "type_alias_declaration" => {
            let name = ex.field_text(node, "name").unwrap_or("");
            let sig = one_line(ex.text(node), 160);
            let doc = ex.leading_comment(anchor);
            ex.push(node, name, SymbolKind::Type, exported, sig, doc);
        }
        "enum_declaration" => {
            let name = ex.field_text(node, "name").unwrap_or("");
            ex.symbol(node, anchor, name, SymbolKind::Enum, exported);
        }
        "internal_module" | "module" => {
            let name = unquote(ex.field_text(node, "name").unwrap_or(""));
            ex.symbol(node, anchor, name, SymbolKind::Module, exported);
            if let Some(body) = node.child_by_field_name("body") {
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
        "expression_statement" if scope == Scope::Module => {
            // `namespace X {}` parses as an expression statement in some versions.
            for child in named_children(node) {
                match child.kind() {
                    "internal_module" => statement(ex, child, anchor, scope, exported),
                    "call_expression" => require_call(ex, child, Vec::new()),
                    _ => {}
                }
            }
        }
        "lexical_declaration" | "variable_declaration" => {
            let is_const = ex.text(node).starts_with("const");
            for decl in named_children(node) {
                if decl.kind() == "variable_declarator" {
                    declarator(ex, node, anchor, decl, scope, exported, is_const);
                }
            }
        }
        "import_statement" => import_statement(ex, node),
        "statement_block" | "if_statement" | "else_clause" | "try_statement" | "catch_clause"
        | "finally_clause" | "for_statement" | "for_in_statement" | "while_statement"
        | "do_statement" | "switch_statement" | "switch_body" | "switch_case"
        | "switch_default" | "labeled_statement" => {
            for child in named_children(node) {
                statement(ex, child, child, scope, false);
            }
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
    let Some(name_node) = decl.child_by_field_name("name") else {
        return;
    };
    let value = decl.child_by_field_name("value");
    if let Some(v) = value {
        if v.kind() == "call_expression" || v.kind() == "await_expression" {
            let names = binding_names(ex, name_node);
            require_call(ex, v, names);
        }
    }
    if name_node.kind() != "identifier" {
        return;
    }
    let name = ex.text(name_node);
    let is_function = value.is_some_and(|v| {
        matches!(
            v.kind(),
            "arrow_function" | "function_expression" | "function" | "generator_function"
        )
    });
    let is_class = value.is_some_and(|v| v.kind() == "class");
    if scope != Scope::Module && !is_function {
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
        Some(v) if is_function => {
            let end = v
                .child_by_field_name("body")
                .map(|b| b.start_byte())
                .unwrap_or(v.end_byte());
            let head = String::from_utf8_lossy(&ex.src[decl_stmt.start_byte()..end]).into_owned();
            one_line(head.trim_end().trim_end_matches("=>"), 160)
        }
        _ => one_line(ex.text(decl_stmt), 160),
    };
    let doc = ex.leading_comment(anchor);
    ex.push(decl_stmt, name, kind, exported, sig, doc);
    if let Some(body) = value.and_then(|v| v.child_by_field_name("body")) {
        if is_function {
            ex.within(name, |ex| block(ex, body, Scope::Function));
        }
    }
}

fn class_body(ex: &mut Extractor<'_>, body: Node<'_>, class_exported: bool) {
    for member in named_children(body) {
        match member.kind() {
            "method_definition" | "method_signature" | "abstract_method_signature" => {
                let name = ex.field_text(member, "name").unwrap_or("");
                let private = name.starts_with('#')
                    || named_children(member)
                        .any(|c| c.kind() == "accessibility_modifier" && ex.text(c) != "public");
                ex.symbol(
                    member,
                    member,
                    name,
                    SymbolKind::Method,
                    class_exported && !private,
                );
            }
            "public_field_definition" | "field_definition" => {
                let value = member.child_by_field_name("value");
                if value
                    .is_some_and(|v| matches!(v.kind(), "arrow_function" | "function_expression"))
                {
                    let name_node = member
                        .child_by_field_name("name")
                        .or_else(|| member.child_by_field_name("property"));
                    if let (Some(n), Some(v)) = (name_node, value) {
                        let name = ex.text(n);
                        let end = v
                            .child_by_field_name("body")
                            .map_or(v.end_byte(), |b| b.start_byte());
                        let head =
                            String::from_utf8_lossy(&ex.src[member.start_byte()..end]).into_owned();
                        let sig = one_line(head.trim_end().trim_end_matches("=>"), 160);
                        let doc = ex.leading_comment(member);
                        let exported = class_exported && !name.starts_with('#');
                        ex.push(member, name, SymbolKind::Method, exported, sig, doc);
                    }
                }
            }
            _ => {}
        }
    }
}

fn import_statement(ex: &mut Extractor<'_>, node: Node<'_>) {
    // TypeScript's `import fs = require("fs")`.
    if let Some(clause) = named_children(node).find(|c| c.kind() == "import_require_clause") {
        if let Some(source) = clause.child_by_field_name("source") {
            ex.import(
                node,
                unquote(ex.text(source)),
                vec!["default".to_string()],
                ImportStyle::Script,
            );
        }
        return;
    }
    let Some(source) = node.child_by_field_name("source") else {
        return;
    };
    let mut names = Vec::new();
    for child in named_children(node) {
        if child.kind() != "import_clause" {
            continue;
        }
        for part in named_children(child) {
            match part.kind() {
                "identifier" => names.push("default".to_string()),
                "namespace_import" => names.push("*".to_string()),
                "named_imports" => {
                    for spec in named_children(part) {
                        if spec.kind() == "import_specifier" {
                            if let Some(n) = ex.field_text(spec, "name") {
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
        match child.kind() {
            "export_clause" => {
                for spec in named_children(child) {
                    if let Some(n) = ex.field_text(spec, "name") {
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
    match pattern.kind() {
        "object_pattern" => named_children(pattern)
            .filter_map(|p| match p.kind() {
                "shorthand_property_identifier_pattern" => Some(ex.text(p).to_string()),
                "pair_pattern" => ex.field_text(p, "key").map(str::to_string),
                _ => None,
            })
            .collect(),
        _ => vec!["default".to_string()],
    }
}

/// `require('x')` and `await import('x')`.
fn require_call(ex: &mut Extractor<'_>, node: Node<'_>, names: Vec<String>) {
    let call = if node.kind() == "await_expression" {
        match node.named_child(0) {
            Some(c) => c,
            None => return,
        }
    } else {
        node
    };
    if call.kind() != "call_expression" {
        return;
    }
    let Some(function) = call.child_by_field_name("function") else {
        return;
    };
    let callee = ex.text(function);
    if callee != "require" && callee != "import" {
        return;
    }
    let Some(arg) = call
        .child_by_field_name("arguments")
        .and_then(|a| a.named_child(0))
    else {
        return;
    };
    if arg.kind() == "string" {
        ex.import(call, unquote(ex.text(arg)), names, ImportStyle::Script);
    }
}
