//! Supported languages: detection by extension, the compiled-in grammar, and
//! each language's extractor.

mod c_family;
mod csharp;
mod go;
mod java;
mod python;
mod ruby;
mod rust;
mod script;

use crate::extract::Extractor;
use crate::model::FileFacts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    TypeScript,
    Tsx,
    JavaScript,
    Python,
    Go,
    Rust,
    Java,
    C,
    Cpp,
    Ruby,
    CSharp,
}

impl Language {
    pub const ALL: [Language; 11] = [
        Language::TypeScript,
        Language::Tsx,
        Language::JavaScript,
        Language::Python,
        Language::Go,
        Language::Rust,
        Language::Java,
        Language::C,
        Language::Cpp,
        Language::Ruby,
        Language::CSharp,
    ];

    /// The language of a path, by its extension.
    pub fn from_path(path: &str) -> Option<Language> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "ts" | "mts" | "cts" => Language::TypeScript,
            "tsx" => Language::Tsx,
            "js" | "jsx" | "mjs" | "cjs" => Language::JavaScript,
            "py" | "pyi" => Language::Python,
            "go" => Language::Go,
            "rs" => Language::Rust,
            "java" => Language::Java,
            "c" | "h" => Language::C,
            "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" | "ipp" => Language::Cpp,
            "rb" | "rake" | "gemspec" => Language::Ruby,
            "cs" => Language::CSharp,
            _ => return None,
        })
    }

    /// `.h` is shared by C and C++: a header with C++ constructs is parsed
    /// as C++ so its classes and namespaces are found.
    pub fn refine(self, src: &[u8]) -> Language {
        if self != Language::C {
            return self;
        }
        const CPP_MARKERS: [&[u8]; 5] = [b"class ", b"namespace ", b"template", b"public:", b"::"];
        let is_cpp = CPP_MARKERS
            .iter()
            .any(|m| src.windows(m.len()).any(|w| w == *m));
        if is_cpp {
            Language::Cpp
        } else {
            Language::C
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::TypeScript => "typescript",
            Language::Tsx => "tsx",
            Language::JavaScript => "javascript",
            Language::Python => "python",
            Language::Go => "go",
            Language::Rust => "rust",
            Language::Java => "java",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Ruby => "ruby",
            Language::CSharp => "csharp",
        }
    }

    pub fn grammar(self) -> tree_sitter::Language {
        match self {
            Language::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Language::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
            Language::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Language::Python => tree_sitter_python::LANGUAGE.into(),
            Language::Go => tree_sitter_go::LANGUAGE.into(),
            Language::Rust => tree_sitter_rust::LANGUAGE.into(),
            Language::Java => tree_sitter_java::LANGUAGE.into(),
            Language::C => tree_sitter_c::LANGUAGE.into(),
            Language::Cpp => tree_sitter_cpp::LANGUAGE.into(),
            Language::Ruby => tree_sitter_ruby::LANGUAGE.into(),
            Language::CSharp => tree_sitter_c_sharp::LANGUAGE.into(),
        }
    }
}

/// Parsers are reused per thread: creating one and setting its language is
/// cheap, but not free on ten thousand files.
pub struct Parsers {
    parsers: Vec<(Language, tree_sitter::Parser)>,
}

impl Default for Parsers {
    fn default() -> Self {
        Self::new()
    }
}

impl Parsers {
    pub fn new() -> Self {
        Parsers {
            parsers: Vec::new(),
        }
    }

    /// Parse `src`; `None` when the grammar cannot be loaded or parsing fails.
    pub fn parse(&mut self, lang: Language, src: &[u8]) -> Option<tree_sitter::Tree> {
        let idx = match self.parsers.iter().position(|(l, _)| *l == lang) {
            Some(i) => i,
            None => {
                let mut parser = tree_sitter::Parser::new();
                parser.set_language(&lang.grammar()).ok()?;
                self.parsers.push((lang, parser));
                self.parsers.len() - 1
            }
        };
        self.parsers[idx].1.parse(src, None)
    }
}

/// Parse and extract the symbols and imports of one file. Source that does
/// not parse cleanly still yields whatever tree-sitter recovered.
pub fn extract(parsers: &mut Parsers, lang: Language, src: &[u8]) -> FileFacts {
    let Some(tree) = parsers.parse(lang, src) else {
        return FileFacts::default();
    };
    let mut ex = Extractor::new(src, lang);
    let root = tree.root_node();
    match lang {
        Language::TypeScript | Language::Tsx | Language::JavaScript => {
            script::extract(&mut ex, root)
        }
        Language::Python => python::extract(&mut ex, root),
        Language::Go => go::extract(&mut ex, root),
        Language::Rust => rust::extract(&mut ex, root),
        Language::Java => java::extract(&mut ex, root),
        Language::C | Language::Cpp => c_family::extract(&mut ex, root),
        Language::Ruby => ruby::extract(&mut ex, root),
        Language::CSharp => csharp::extract(&mut ex, root),
    }
    ex.finish()
}
