//! Baton's code index: symbols and imports of a working tree, extracted with
//! compiled-in tree-sitter grammars and kept in `.baton/code.db`.
//!
//! - [`scan_full`] / [`scan_incremental`] build and refresh the index;
//! - [`CodeIndex`] answers queries from a cheap read-only open;
//! - `baton scan --install-hook` keeps it fresh on every commit.

mod error;
mod extract;
mod git;
pub mod languages;
mod model;
mod query;
mod resolve;
mod scan;
mod store;
mod walk;

use std::path::Path;

pub use error::{CodeError, ErrorClass, Result};
pub use languages::Language;
pub use model::{FileFacts, Import, ImportStyle, RawImport, RawSymbol, Symbol, SymbolKind};
pub use query::{
    CodeIndex, Count, Dependent, Explanation, Impact, ImpactedSymbol, LanguageCount, Skipped,
    Summary, SymbolQuery,
};
pub use scan::ScanReport;
pub use store::{db_path, SCHEMA_VERSION};

/// Scan every file of the project at `root` and replace its index.
pub fn scan_full(root: &Path) -> Result<ScanReport> {
    scan::full(root)
}

/// Rescan what changed since the last scan, told by stat data rather than
/// git (so staged, unstaged, untracked, deleted, renamed and committed
/// changes alike); unchanged content is skipped by hash. Without a previous
/// scan, does a full scan.
pub fn scan_incremental(root: &Path) -> Result<ScanReport> {
    scan::incremental(root)
}

/// Extract symbols and imports from one source text, without an index
/// (used by tests and the parse-floor benchmark).
pub fn extract_source(lang: Language, src: &[u8]) -> FileFacts {
    let mut parsers = languages::Parsers::new();
    languages::extract(&mut parsers, lang, src)
}

/// The floor a full scan is measured against: walk, read and parse every file
/// in parallel exactly as a scan does, without extracting or storing anything.
/// Returns (files parsed, bytes parsed). For benchmarks.
#[doc(hidden)]
pub fn parse_floor(root: &Path) -> (u64, u64) {
    scan::parse_floor(root)
}
