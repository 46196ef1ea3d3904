//! The facts the index stores: symbols and imports.

use std::sync::Arc;

use serde::Serialize;

/// A definition found in a source file. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub file: String,
    pub line: u32,
    pub end_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub signature: String,
    pub exported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    Function,
    Method,
    Class,
    Struct,
    Interface,
    Trait,
    Enum,
    Type,
    Constant,
    Variable,
    Module,
    Macro,
    /// A property of an interface or type literal (`id: string`).
    Field,
}

impl SymbolKind {
    pub const ALL: [SymbolKind; 13] = [
        SymbolKind::Function,
        SymbolKind::Method,
        SymbolKind::Class,
        SymbolKind::Struct,
        SymbolKind::Interface,
        SymbolKind::Trait,
        SymbolKind::Enum,
        SymbolKind::Type,
        SymbolKind::Constant,
        SymbolKind::Variable,
        SymbolKind::Module,
        SymbolKind::Macro,
        SymbolKind::Field,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Method => "method",
            SymbolKind::Class => "class",
            SymbolKind::Struct => "struct",
            SymbolKind::Interface => "interface",
            SymbolKind::Trait => "trait",
            SymbolKind::Enum => "enum",
            SymbolKind::Type => "type",
            SymbolKind::Constant => "constant",
            SymbolKind::Variable => "variable",
            SymbolKind::Module => "module",
            SymbolKind::Macro => "macro",
            SymbolKind::Field => "field",
        }
    }

    pub fn parse(s: &str) -> Option<SymbolKind> {
        SymbolKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One import statement: the module as written, the names it brings in, and
/// the project-relative file (or Go package directory) it resolves to.
/// External modules keep `resolved: None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Import {
    pub file: String,
    pub line: u32,
    pub source: String,
    pub names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
}

/// What the extractor finds in one file, before paths are resolved.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileFacts {
    pub symbols: Vec<RawSymbol>,
    pub imports: Vec<RawImport>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSymbol {
    pub name: String,
    pub kind: SymbolKind,
    pub line: u32,
    pub end_line: u32,
    /// Shared by every symbol of one container.
    pub container: Option<Arc<str>>,
    pub signature: String,
    pub exported: bool,
    pub doc: Option<String>,
}

/// How an import names its target, which decides how it is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStyle {
    /// ES modules, CommonJS `require`, `import()`.
    Script,
    /// `import a.b` / `from .a import b`; `source` keeps the leading dots.
    Python,
    /// A Go import path.
    Go,
    /// `use a::b::c` (source is the path up to the imported names).
    RustUse,
    /// `mod name;` declared without a body.
    RustMod,
    /// A Java fully qualified name (`a.b.C` or `a.b.*`).
    Java,
    /// `#include "x.h"` (quoted).
    IncludeLocal,
    /// `#include <x.h>`.
    IncludeSystem,
    /// `require_relative 'x'`.
    RubyRelative,
    /// `require 'x'`.
    Ruby,
    /// `using A.B;`
    CSharp,
}

impl ImportStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStyle::Script => "script",
            ImportStyle::Python => "python",
            ImportStyle::Go => "go",
            ImportStyle::RustUse => "rust_use",
            ImportStyle::RustMod => "rust_mod",
            ImportStyle::Java => "java",
            ImportStyle::IncludeLocal => "include_local",
            ImportStyle::IncludeSystem => "include_system",
            ImportStyle::RubyRelative => "ruby_relative",
            ImportStyle::Ruby => "ruby",
            ImportStyle::CSharp => "csharp",
        }
    }

    pub fn parse(s: &str) -> Option<ImportStyle> {
        use ImportStyle::*;
        [
            Script,
            Python,
            Go,
            RustUse,
            RustMod,
            Java,
            IncludeLocal,
            IncludeSystem,
            RubyRelative,
            Ruby,
            CSharp,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImport {
    pub line: u32,
    pub source: String,
    pub names: Vec<String>,
    pub style: ImportStyle,
}
