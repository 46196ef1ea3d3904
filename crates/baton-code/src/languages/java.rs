use tree_sitter::Node;

use crate::extract::{named_children, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    members(ex, root, false);
}

fn modifiers<'s>(ex: &Extractor<'s>, node: Node<'_>) -> &'s str {
    named_children(node)
        .find(|c| ex.kind(*c) == "modifiers")
        .map(|m| ex.text(m))
        .unwrap_or("")
}

fn has_word(modifiers: &str, word: &str) -> bool {
    modifiers.split_whitespace().any(|w| w == word)
}

fn members(ex: &mut Extractor<'_>, node: Node<'_>, in_interface: bool) {
    for item in named_children(node) {
        let kind = match ex.kind(item) {
            "class_declaration" | "record_declaration" => Some(SymbolKind::Class),
            "interface_declaration" | "annotation_type_declaration" => Some(SymbolKind::Interface),
            "enum_declaration" => Some(SymbolKind::Enum),
            _ => None,
        };
        if let Some(kind) = kind {
            let name = ex.field_text(item, Field::Name).unwrap_or("").to_string();
            let mods = modifiers(ex, item);
            ex.symbol(
                item,
                item,
                &name,
                kind,
                has_word(mods, "public") || in_interface,
            );
            if let Some(body) = ex.field(item, Field::Body) {
                let iface = kind == SymbolKind::Interface;
                ex.within(&name, |ex| members(ex, body, iface));
            }
            continue;
        }
        match ex.kind(item) {
            "method_declaration"
            | "constructor_declaration"
            | "compact_constructor_declaration" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let mods = modifiers(ex, item);
                let exported =
                    has_word(mods, "public") || (in_interface && !has_word(mods, "private"));
                ex.symbol(item, item, name, SymbolKind::Method, exported);
            }
            "field_declaration" | "constant_declaration" => {
                let mods = modifiers(ex, item);
                let constant =
                    in_interface || (has_word(mods, "static") && has_word(mods, "final"));
                if !constant {
                    continue;
                }
                let decls: Vec<Node<'_>> = ex.fields.children(item, Field::Declarator);
                for d in decls {
                    let name = ex.field_text(d, Field::Name).unwrap_or("");
                    ex.symbol(
                        item,
                        item,
                        name,
                        SymbolKind::Constant,
                        has_word(mods, "public") || in_interface,
                    );
                }
            }
            "enum_body_declarations" | "class_body" | "interface_body" => {
                members(ex, item, in_interface)
            }
            "import_declaration" => {
                let text = ex.text(item);
                let body = text
                    .trim_start_matches("import")
                    .trim()
                    .trim_start_matches("static ")
                    .trim_end_matches(';')
                    .trim();
                let body: String = body.split_whitespace().collect();
                let name = body.rsplit('.').next().unwrap_or(&body).to_string();
                ex.import(item, &body, vec![name], ImportStyle::Java);
            }
            _ => {}
        }
    }
}
