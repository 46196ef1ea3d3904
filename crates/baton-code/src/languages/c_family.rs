//! C and C++ (one extractor: the C grammar's nodes are a subset of C++'s).

use tree_sitter::Node;

use crate::extract::{named_children, one_line, unquote, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    top(ex, root);
}

fn is_static(ex: &Extractor<'_>, node: Node<'_>) -> bool {
    named_children(node).any(|c| ex.kind(c) == "storage_class_specifier" && ex.text(c) == "static")
}

fn top(ex: &mut Extractor<'_>, node: Node<'_>) {
    for item in named_children(node) {
        match ex.kind(item) {
            "function_definition" => function(ex, item, None),
            "struct_specifier" | "union_specifier" | "enum_specifier" | "class_specifier" => {
                record(ex, item, item, true);
            }
            "declaration" | "type_definition" => {
                if let Some(ty) = ex.field(item, Field::Type) {
                    if matches!(
                        ex.kind(ty),
                        "struct_specifier"
                            | "union_specifier"
                            | "enum_specifier"
                            | "class_specifier"
                    ) {
                        record(ex, ty, item, true);
                    }
                }
                if ex.kind(item) == "type_definition" {
                    let decls: Vec<Node<'_>> = ex.fields.children(item, Field::Declarator);
                    for d in decls {
                        if let Some(name) = declarator_name(ex, d) {
                            let name = ex.text(name);
                            let sig = one_line(&format!("typedef {name}"), 160);
                            let doc = ex.leading_comment(item);
                            ex.push(item, name, SymbolKind::Type, true, sig, doc);
                        }
                    }
                }
            }
            "alias_declaration" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                ex.symbol(item, item, name, SymbolKind::Type, true);
            }
            "preproc_def" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let sig = one_line(&ex.head(item.start_byte(), item.end_byte()), 160);
                let doc = ex.leading_comment(item);
                ex.push(item, name, SymbolKind::Constant, true, sig, doc);
            }
            "preproc_function_def" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let sig = one_line(
                    ex.head(item.start_byte(), item.end_byte())
                        .lines()
                        .next()
                        .unwrap_or(""),
                    160,
                );
                let doc = ex.leading_comment(item);
                ex.push(item, name, SymbolKind::Macro, true, sig, doc);
            }
            "preproc_include" => {
                if let Some(path) = ex.field(item, Field::Path) {
                    let style = if ex.kind(path) == "system_lib_string" {
                        ImportStyle::IncludeSystem
                    } else {
                        ImportStyle::IncludeLocal
                    };
                    let p = unquote(ex.text(path));
                    let name = p.rsplit('/').next().unwrap_or(p).to_string();
                    ex.import(item, p, vec![name], style);
                }
            }
            "namespace_definition" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("").to_string();
                if !name.is_empty() {
                    ex.symbol(item, item, &name, SymbolKind::Module, true);
                }
                if let Some(body) = ex.field(item, Field::Body) {
                    if name.is_empty() {
                        top(ex, body);
                    } else {
                        ex.within(&name, |ex| top(ex, body));
                    }
                }
            }
            "template_declaration"
            | "linkage_specification"
            | "declaration_list"
            | "preproc_if"
            | "preproc_ifdef"
            | "preproc_else"
            | "preproc_elif"
            | "preproc_elifdef"
            | "export_declaration" => top(ex, item),
            _ => {}
        }
    }
}

/// A struct, union, enum or class with a body.
fn record(ex: &mut Extractor<'_>, spec: Node<'_>, anchor: Node<'_>, exported: bool) {
    let Some(body) = ex.field(spec, Field::Body) else {
        return;
    };
    let Some(name) = ex.field_text(spec, Field::Name) else {
        return;
    };
    let kind = match ex.kind(spec) {
        "enum_specifier" => SymbolKind::Enum,
        "class_specifier" => SymbolKind::Class,
        _ => SymbolKind::Struct,
    };
    let name = name.rsplit("::").next().unwrap_or(name).to_string();
    let sig = one_line(&ex.head(spec.start_byte(), body.start_byte()), 160);
    let doc = ex.leading_comment(anchor);
    ex.push(spec, &name, kind, exported, sig, doc);
    if kind == SymbolKind::Enum {
        return;
    }
    let mut public = kind != SymbolKind::Class;
    ex.within(&name, |ex| members(ex, body, &mut public));
}

fn members(ex: &mut Extractor<'_>, body: Node<'_>, public: &mut bool) {
    for m in named_children(body) {
        match ex.kind(m) {
            "access_specifier" => *public = ex.text(m).trim() == "public",
            "function_definition" => function(ex, m, Some(*public)),
            "field_declaration" | "declaration" => {
                if let Some(ty) = ex.field(m, Field::Type) {
                    record(ex, ty, m, *public);
                }
                let decls: Vec<Node<'_>> = ex.fields.children(m, Field::Declarator);
                for d in decls {
                    if find_function_declarator(ex, d).is_some() {
                        if let Some(name) = declarator_name(ex, d) {
                            let name = ex.text(name);
                            ex.symbol(m, m, name, SymbolKind::Method, *public);
                        }
                    }
                }
            }
            "template_declaration" | "preproc_if" | "preproc_ifdef" | "preproc_else" => {
                members(ex, m, public)
            }
            _ => {}
        }
    }
}

fn function(ex: &mut Extractor<'_>, def: Node<'_>, member_public: Option<bool>) {
    let Some(declarator) = ex.field(def, Field::Declarator) else {
        return;
    };
    let Some(name_node) = declarator_name(ex, declarator) else {
        return;
    };
    match ex.kind(name_node) {
        "qualified_identifier" => {
            // `void Foo::bar() {}` defines a method of Foo out of line.
            let full = ex.text(name_node);
            let (scope, name) = full.rsplit_once("::").unwrap_or(("", full));
            let scope = scope.rsplit("::").next().unwrap_or(scope).to_string();
            let exported = !is_static(ex, def);
            ex.within(&scope, |ex| {
                ex.symbol(def, def, name, SymbolKind::Method, exported)
            });
        }
        _ => {
            let name = ex.text(name_node);
            match member_public {
                Some(public) => ex.symbol(def, def, name, SymbolKind::Method, public),
                None => {
                    let exported = !is_static(ex, def);
                    ex.symbol(def, def, name, SymbolKind::Function, exported)
                }
            }
        }
    }
}

fn find_function_declarator<'t>(ex: &Extractor<'_>, node: Node<'t>) -> Option<Node<'t>> {
    let mut cur = node;
    loop {
        if ex.kind(cur) == "function_declarator" {
            return Some(cur);
        }
        cur = ex.field(cur, Field::Declarator)?;
    }
}

/// The identifier a declarator declares, following pointer, reference,
/// array and function declarators.
fn declarator_name<'t>(ex: &Extractor<'_>, node: Node<'t>) -> Option<Node<'t>> {
    let mut cur = node;
    loop {
        match ex.kind(cur) {
            "identifier"
            | "field_identifier"
            | "type_identifier"
            | "qualified_identifier"
            | "destructor_name"
            | "operator_name"
            | "primitive_type" => return Some(cur),
            "template_function" => return ex.field(cur, Field::Name),
            _ => {
                cur = match ex.field(cur, Field::Declarator) {
                    Some(d) => d,
                    // reference_declarator has no field; its declarator is the last named child.
                    None => cur.named_child(cur.named_child_count().checked_sub(1)?)?,
                };
            }
        }
    }
}
