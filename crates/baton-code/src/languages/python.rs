use std::sync::OnceLock;

use memchr::memmem;
use tree_sitter::Node;

use crate::extract::{docstring_first_line, named_children, Extractor, Field};
use crate::model::{ImportStyle, SymbolKind};

#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Module,
    Class,
    Function,
}

pub fn extract(ex: &mut Extractor<'_>, root: Node<'_>) {
    ex.set_marks(keywords(ex.src));
    visit_block(ex, root, Scope::Module);
}

fn visit_block(ex: &mut Extractor<'_>, node: Node<'_>, scope: Scope) {
    for child in named_children(node) {
        // In a function, a statement without one of the keywords records nothing.
        if scope == Scope::Function && !ex.may_hold(child) {
            continue;
        }
        visit(ex, child, child, scope);
    }
}

/// Where `def`, `class`, `lambda` or `import` stand as whole words in `src`. In a
/// function, the index records only nested functions and classes, lambdas bound to a
/// name, and imports, and each starts with its keyword: most function bodies hold none
/// and are not walked at all, and in the others only the statements that hold one are
/// (see [`Extractor::may_hold`]). `default`, `__class__` or `importlib` do not count.
fn keywords(src: &[u8]) -> Vec<usize> {
    static KEYWORDS: OnceLock<[memmem::Finder<'static>; 4]> = OnceLock::new();
    let keywords = KEYWORDS.get_or_init(|| {
        [b"def".as_slice(), b"class", b"lambda", b"import"].map(memmem::Finder::new)
    });
    // Letters, digits, `_` and any byte of a multi-byte character continue a name.
    let in_name = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || !b.is_ascii();
    let mut at = Vec::new();
    for k in keywords {
        at.extend(k.find_iter(src).filter(|&i| {
            let before = i.checked_sub(1).and_then(|i| src.get(i));
            let after = src.get(i + k.needle().len());
            !before.is_some_and(in_name) && !after.is_some_and(in_name)
        }));
    }
    at
}

fn is_public(name: &str) -> bool {
    !name.starts_with('_') || (name.starts_with("__") && name.ends_with("__"))
}

fn visit(ex: &mut Extractor<'_>, node: Node<'_>, anchor: Node<'_>, scope: Scope) {
    match ex.kind(node) {
        "function_definition" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            let kind = if scope == Scope::Class {
                SymbolKind::Method
            } else {
                SymbolKind::Function
            };
            let exported = scope != Scope::Function && is_public(name);
            let doc = docstring(ex, node);
            let sig = ex.signature(node);
            ex.push(node, name, kind, exported, sig, doc);
            if let Some(body) = ex.field(node, Field::Body) {
                if ex.may_hold(body) {
                    ex.within(name, |ex| visit_block(ex, body, Scope::Function));
                }
            }
        }
        "class_definition" => {
            let name = ex.field_text(node, Field::Name).unwrap_or("");
            let exported = scope != Scope::Function && is_public(name);
            let doc = docstring(ex, node);
            let sig = ex.signature(node);
            ex.push(node, name, SymbolKind::Class, exported, sig, doc);
            if let Some(body) = ex.field(node, Field::Body) {
                ex.within(name, |ex| visit_block(ex, body, Scope::Class));
            }
        }
        "decorated_definition" => {
            if let Some(def) = ex.field(node, Field::Definition) {
                visit(ex, def, anchor, scope);
            }
        }
        "expression_statement" => {
            for child in named_children(node) {
                if ex.kind(child) != "assignment" {
                    continue;
                }
                if is_lambda_assignment(ex, child) {
                    lambda(ex, child, scope);
                } else if scope == Scope::Module {
                    assignment(ex, node, child);
                }
            }
        }
        "type_alias_statement" if scope == Scope::Module => {
            if let Some(left) = node.named_child(0) {
                let name = ex.text(left);
                ex.symbol(node, anchor, name, SymbolKind::Type, is_public(name));
            }
        }
        "import_statement" => {
            for name in ex.fields.children(node, Field::Name) {
                let (module, alias) = aliased(ex, name);
                let bound = alias.unwrap_or_else(|| module.split('.').next().unwrap_or(module));
                ex.import(node, module, vec![bound.to_string()], ImportStyle::Python);
            }
        }
        "import_from_statement" => {
            let module = ex.field_text(node, Field::ModuleName).unwrap_or("");
            let mut names = Vec::new();
            for name in ex.fields.children(node, Field::Name) {
                names.push(aliased(ex, name).0.to_string());
            }
            if named_children(node).any(|c| ex.kind(c) == "wildcard_import") {
                names.push("*".to_string());
            }
            let module: String = module.split_whitespace().collect();
            ex.import(node, &module, names, ImportStyle::Python);
        }
        "if_statement"
        | "elif_clause"
        | "else_clause"
        | "try_statement"
        | "except_clause"
        | "except_group_clause"
        | "finally_clause"
        | "with_statement"
        | "for_statement"
        | "while_statement"
        | "block"
        | "match_statement"
        | "case_clause" => {
            visit_block(ex, node, scope);
        }
        _ => {}
    }
}

/// `a.b as c` gives ("a.b", Some("c")).
fn aliased<'s>(ex: &Extractor<'s>, node: Node<'_>) -> (&'s str, Option<&'s str>) {
    if ex.kind(node) == "aliased_import" {
        (
            ex.field_text(node, Field::Name).unwrap_or(""),
            ex.field_text(node, Field::Alias),
        )
    } else {
        (ex.text(node), None)
    }
}

/// `node` is an assignment, a child of `stmt`.
fn assignment(ex: &mut Extractor<'_>, stmt: Node<'_>, node: Node<'_>) {
    let Some(left) = ex.field(node, Field::Left) else {
        return;
    };
    if ex.kind(left) != "identifier" {
        return;
    }
    let name = ex.text(left);
    let is_constant = name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.chars().any(|c| c.is_ascii_uppercase());
    let kind = if is_constant {
        SymbolKind::Constant
    } else {
        SymbolKind::Variable
    };
    let sig = crate::extract::one_line(&ex.head(node.start_byte(), node.end_byte()), 160);
    let doc = ex.leading_comment(stmt);
    ex.push(node, name, kind, is_public(name), sig, doc);
}

fn docstring(ex: &Extractor<'_>, def: Node<'_>) -> Option<String> {
    let body = ex.field(def, Field::Body)?;
    let first = body.named_child(0)?;
    if ex.kind(first) != "expression_statement" {
        return None;
    }
    let s = first.named_child(0)?;
    if ex.kind(s) != "string" {
        return None;
    }
    // Its first line is all that is kept: the start of a long docstring is enough.
    docstring_first_line(&ex.head(s.start_byte(), s.end_byte()))
}

fn is_lambda_assignment(ex: &Extractor<'_>, node: Node<'_>) -> bool {
    ex.field(node, Field::Left)
        .is_some_and(|l| ex.kind(l) == "identifier")
        && ex
            .field(node, Field::Right)
            .is_some_and(|r| ex.kind(r) == "lambda")
}

/// `name = lambda ...:` defines a function as far as readers are concerned.
fn lambda(ex: &mut Extractor<'_>, node: Node<'_>, scope: Scope) {
    let Some(left) = ex.field(node, Field::Left) else {
        return;
    };
    let name = ex.text(left);
    let kind = if scope == Scope::Class {
        SymbolKind::Method
    } else {
        SymbolKind::Function
    };
    let text = ex.text(node);
    let head = text.split_once(':').map_or(text, |(h, _)| h);
    let sig = crate::extract::one_line(head, 160);
    let exported = scope != Scope::Function && is_public(name);
    ex.push(node, name, kind, exported, sig, None);
}

#[cfg(test)]
mod tests {
    use super::keywords;
    use crate::extract::facts_with_marks as facts;
    use crate::languages::Language;

    /// Statements of every kind, nested, with and without a keyword, in functions.
    #[test]
    fn statements_without_keywords_are_skipped_and_nothing_is_lost() {
        let src = r#"
import os

def outer(a):
    x = a + 1
    if x:
        y = [i for i in range(3)]
        for i in y:
            try:
                import json
            except ImportError:
                def fallback():
                    return None
            finally:
                pass
        with open("f") as f:
            helper = lambda v: v * 2
    elif a:
        class Local:
            def method(self):
                return self.default
    while False:
        z = importlib.util
    match a:
        case 1:
            def in_case():
                pass
    return x

class Top:
    attr = 1
    def m(self):
        return __class__
"#;
        let with = facts(Language::Python, src, true);
        let names: Vec<&str> = with.symbols.iter().map(|s| s.name.as_str()).collect();
        for name in [
            "outer", "fallback", "helper", "Local", "method", "in_case", "Top", "m",
        ] {
            assert!(names.contains(&name), "{name} in {names:?}");
        }
        assert_eq!(with.imports.len(), 2);
        assert_eq!(with, facts(Language::Python, src, false));
    }

    fn may_define(body: &[u8]) -> bool {
        !keywords(body).is_empty()
    }

    #[test]
    fn only_whole_keywords_make_a_body_worth_walking() {
        for body in [
            "async def f(): pass",
            "from .import x",
            "x = lambda: 1",
            "f = lambda*a: a",
            "class\tA: pass",
            "if x:\n    import os",
        ] {
            assert!(may_define(body.as_bytes()), "{body}");
        }
        for body in [
            "return self.default",
            "return self.__class__(x)",
            "return importlib.import_module(name)",
            "undefined = classmethod(f)",
            "caf\u{e9}def = 1",
            "x_lambda = 1",
        ] {
            assert!(!may_define(body.as_bytes()), "{body}");
        }
    }
}
