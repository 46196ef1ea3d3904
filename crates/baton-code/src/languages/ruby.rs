use tree_sitter::Node;

use crate::extract::{named_children, one_line, unquote, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    body(ex, root, false);
}

fn body(ex: &mut Extractor<'_>, node: Node<'_>, in_class: bool) {
    let mut private = false;
    for item in named_children(node) {
        match ex.kind(item) {
            "class" | "module" => {
                let kind = if ex.kind(item) == "class" {
                    SymbolKind::Class
                } else {
                    SymbolKind::Module
                };
                let full = ex.field_text(item, Field::Name).unwrap_or("");
                let name = full.rsplit("::").next().unwrap_or(full).to_string();
                ex.symbol(item, item, &name, kind, true);
                ex.within(&name, |ex| {
                    for part in named_children(item) {
                        if matches!(ex.kind(part), "body_statement") {
                            body(ex, part, true);
                        }
                    }
                });
            }
            "singleton_class" => {
                for part in named_children(item) {
                    if ex.kind(part) == "body_statement" {
                        body(ex, part, true);
                    }
                }
            }
            "method" | "singleton_method" => {
                let name = ex.field_text(item, Field::Name).unwrap_or("");
                let kind = if in_class {
                    SymbolKind::Method
                } else {
                    SymbolKind::Function
                };
                let text = ex.text(item);
                let first = text.lines().next().unwrap_or(text);
                let sig = one_line(first.trim_end_matches(';'), 160);
                let doc = ex.leading_comment(item);
                ex.push(item, name, kind, !private, sig, doc);
            }
            "assignment" => {
                if let Some(left) = ex.field(item, Field::Left) {
                    if ex.kind(left) == "constant" {
                        let name = ex.text(left);
                        ex.symbol(item, item, name, SymbolKind::Constant, true);
                    }
                }
            }
            "identifier" if in_class => match ex.text(item) {
                "private" | "protected" => private = true,
                "public" => private = false,
                _ => {}
            },
            "call" => require(ex, item),
            "body_statement" | "begin" | "if" | "unless" => body(ex, item, in_class),
            _ => {}
        }
    }
}

fn require(ex: &mut Extractor<'_>, call: Node<'_>) {
    if ex.field(call, Field::Receiver).is_some() {
        return;
    }
    let method = ex.field_text(call, Field::Method).unwrap_or("");
    let style = match method {
        "require" => ImportStyle::Ruby,
        "require_relative" => ImportStyle::RubyRelative,
        _ => return,
    };
    let Some(arg) = ex
        .field(call, Field::Arguments)
        .and_then(|a| a.named_child(0))
    else {
        return;
    };
    if ex.kind(arg) != "string" {
        return;
    }
    let path = unquote(ex.text(arg));
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    ex.import(call, path, vec![name], style);
}
