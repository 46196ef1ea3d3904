use tree_sitter::Node;

use crate::extract::{named_children, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    members(ex, root, false);
}

fn is_public(ex: &Extractor<'_>, node: Node<'_>) -> bool {
    named_children(node).any(|c| ex.kind(c) == "modifier" && ex.text(c) == "public")
}

fn has_modifier(ex: &Extractor<'_>, node: Node<'_>, word: &str) -> bool {
    named_children(node).any(|c| ex.kind(c) == "modifier" && ex.text(c) == word)
}

fn members(ex: &mut Extractor<'_>, node: Node<'_>, in_interface: bool) {
    for item in named_children(node) {
        let kind = match ex.kind(item) {
            "class_declaration" | "record_declaration" => Some(SymbolKind::Class),
            "struct_declaration" | "record_struct_declaration" => Some(SymbolKind::Struct),
            "interface_declaration" => Some(SymbolKind::Interface),
            "enum_declaration" => Some(SymbolKind::Enum),
            _ => None,
        };
        if let Some(kind) = kind {
            let name = ex.field_text(item, Field::Name).unwrap_or("").to_string();
            ex.symbol(item, item, &name, kind, is_public(ex, item) || in_interface);
            if let Some(body) = ex.field(item, Field::Body) {
                let iface = kind == SymbolKind::Interface;
                ex.within(&name, |ex| members(ex, body, iface));
            }
            continue;
        }
        match ex.kind(item) {
            "namespace_declaration" | "file_scoped_namespace_declaration" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("").to_string();
                ex.symbol(item, item, &name, SymbolKind::Module, true);
                match ex.field(item, Field::Body) {
                    Some(body) => ex.within(&name, |ex| members(ex, body, false)),
                    // File-scoped: the members follow as siblings inside this node.
                    None => ex.within(&name, |ex| members(ex, item, false)),
                }
            }
            "method_declaration"
            | "constructor_declaration"
            | "operator_declaration"
            | "destructor_declaration" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let exported = is_public(ex, item) || in_interface;
                ex.symbol(item, item, name, SymbolKind::Method, exported);
            }
            "delegate_declaration" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let exported = is_public(ex, item);
                ex.symbol(item, item, name, SymbolKind::Type, exported);
            }
            "field_declaration" if has_modifier(ex, item, "const") => {
                let exported = is_public(ex, item);
                for decl in named_children(item) {
                    if ex.kind(decl) != "variable_declaration" {
                        continue;
                    }
                    for v in named_children(decl) {
                        if ex.kind(v) == "variable_declarator" {
                            let name = ex.field_text(v, Field::Name).unwrap_or_else(|| {
                                v.named_child(0).map(|n| ex.text(n)).unwrap_or("")
                            });
                            ex.symbol(item, item, name, SymbolKind::Constant, exported);
                        }
                    }
                }
            }
            "declaration_list" | "global_statement" => members(ex, item, in_interface),
            "using_directive" => {
                let target = named_children(item)
                    .filter(|c| matches!(ex.kind(*c), "qualified_name" | "identifier"))
                    .last();
                if let Some(t) = target {
                    let path = ex.text(t);
                    let name = path.rsplit('.').next().unwrap_or(path).to_string();
                    ex.import(item, path, vec![name], ImportStyle::CSharp);
                }
            }
            _ => {}
        }
    }
}
