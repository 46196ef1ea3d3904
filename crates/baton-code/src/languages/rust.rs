use tree_sitter::Node;

use crate::extract::{named_children, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    items(ex, root, None);
}

#[derive(Clone, Copy, PartialEq)]
enum Owner {
    Impl,
    /// `impl Trait for Type`: its methods are as visible as the trait.
    TraitImpl,
    Trait,
}

fn is_pub(node: Node<'_>) -> bool {
    named_children(node).any(|c| c.kind() == "visibility_modifier")
}

fn items(ex: &mut Extractor<'_>, node: Node<'_>, owner: Option<Owner>) {
    for item in named_children(node) {
        match ex.kind(item) {
            "function_item" | "function_signature_item" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let (kind, exported) = match owner {
                    Some(Owner::Trait) | Some(Owner::TraitImpl) => (SymbolKind::Method, true),
                    Some(Owner::Impl) => (SymbolKind::Method, is_pub(item)),
                    None => (SymbolKind::Function, is_pub(item)),
                };
                ex.symbol(item, item, name, kind, exported);
                if let Some(body) = ex.field(item, Field::Body) {
                    let name = name.to_string();
                    ex.within(&name, |ex| items(ex, body, None));
                }
            }
            "struct_item" | "union_item" => simple(ex, item, SymbolKind::Struct),
            "enum_item" => simple(ex, item, SymbolKind::Enum),
            "type_item" => simple(ex, item, SymbolKind::Type),
            "const_item" | "static_item" => simple(ex, item, SymbolKind::Constant),
            "macro_definition" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let sig = format!("macro_rules! {name}");
                let doc = ex.leading_comment(item);
                ex.push(
                    item,
                    name,
                    SymbolKind::Macro,
                    is_exported_macro(ex, item),
                    sig,
                    doc,
                );
            }
            "trait_item" => {
                simple(ex, item, SymbolKind::Trait);
                let name = ex.field_text(item, Field::Name).unwrap_or("").to_string();
                if let Some(body) = ex.field(item, Field::Body) {
                    ex.within(&name, |ex| items(ex, body, Some(Owner::Trait)));
                }
            }
            "impl_item" => {
                let ty = ex.field_text(item, Field::Type).unwrap_or("");
                let ty = ty.split('<').next().unwrap_or(ty).trim().to_string();
                let owner = if ex.field(item, Field::Trait).is_some() {
                    Owner::TraitImpl
                } else {
                    Owner::Impl
                };
                if let Some(body) = ex.field(item, Field::Body) {
                    ex.within(&ty, |ex| items(ex, body, Some(owner)));
                }
            }
            "mod_item" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("").to_string();
                match ex.field(item, Field::Body) {
                    Some(body) => {
                        simple(ex, item, SymbolKind::Module);
                        ex.within(&name, |ex| items(ex, body, None));
                    }
                    None => {
                        simple(ex, item, SymbolKind::Module);
                        ex.import(item, &name, vec![name.clone()], ImportStyle::RustMod);
                    }
                }
            }
            "use_declaration" => {
                if let Some(arg) = ex.field(item, Field::Argument) {
                    let mut out = Vec::new();
                    use_tree(ex, arg, String::new(), &mut out);
                    // One import per module path, with the names it brings in.
                    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
                    for (path, name) in out {
                        match grouped.iter_mut().find(|(p, _)| *p == path) {
                            Some((_, names)) => names.push(name),
                            None => grouped.push((path, vec![name])),
                        }
                    }
                    for (path, names) in grouped {
                        ex.import(item, &path, names, ImportStyle::RustUse);
                    }
                }
            }
            "declaration_list" | "block" | "expression_statement" => items(ex, item, owner),
            _ => {}
        }
    }
}

fn simple(ex: &mut Extractor<'_>, item: Node<'_>, kind: SymbolKind) {
    let name = ex.field_text(item, Field::Name).unwrap_or("");
    ex.symbol(item, item, name, kind, is_pub(item));
}

/// Flatten a use tree into (module path, imported name) pairs.
fn use_tree(ex: &Extractor<'_>, node: Node<'_>, prefix: String, out: &mut Vec<(String, String)>) {
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else if b.is_empty() {
            a.to_string()
        } else {
            format!("{a}::{b}")
        }
    };
    match ex.kind(node) {
        "scoped_identifier" => {
            let path = ex.field_text(node, Field::Path).unwrap_or("");
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            out.push((join(&prefix, path), name.to_string()));
        }
        "identifier" | "crate" | "self" | "super" => {
            let name = ex.text(node);
            if prefix.is_empty() {
                out.push((name.to_string(), name.to_string()));
            } else {
                out.push((prefix, name.to_string()));
            }
        }
        "use_as_clause" => {
            if let Some(path) = ex.field(node, Field::Path) {
                use_tree(ex, path, prefix, out);
            }
        }
        "use_wildcard" => {
            let inner = named_children(node)
                .next()
                .map(|n| ex.text(n))
                .unwrap_or("");
            out.push((join(&prefix, inner), "*".to_string()));
        }
        "scoped_use_list" => {
            let path = ex.field_text(node, Field::Path).unwrap_or("");
            let prefix = join(&prefix, path);
            if let Some(list) = ex.field(node, Field::List) {
                use_tree(ex, list, prefix, out);
            }
        }
        "use_list" => {
            for child in named_children(node) {
                use_tree(ex, child, prefix.clone(), out);
            }
        }
        _ => {}
    }
}

/// `#[macro_export]` makes a macro public.
fn is_exported_macro(ex: &Extractor<'_>, item: Node<'_>) -> bool {
    let mut prev = item.prev_sibling();
    while let Some(p) = prev {
        match ex.kind(p) {
            "attribute_item" if ex.text(p).contains("macro_export") => return true,
            "attribute_item" | "line_comment" | "block_comment" => prev = p.prev_sibling(),
            _ => return false,
        }
    }
    false
}
