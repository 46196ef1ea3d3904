//! The knowledge base: documents with a type, versions kept on every change, linked tasks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::id::{DocId, TaskId};
use crate::time::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DocType {
    /// How to run, build, deploy: instructions that stay true for a while.
    Operational,
    /// A choice that was made, and why.
    Decision,
    /// Specifications, PRDs, API notes.
    Reference,
    /// What someone found out the hard way.
    Learning,
    /// Findings of a review.
    Review,
}

impl DocType {
    pub const ALL: [DocType; 5] = [
        DocType::Operational,
        DocType::Decision,
        DocType::Reference,
        DocType::Learning,
        DocType::Review,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Operational => "operational",
            DocType::Decision => "decision",
            DocType::Reference => "reference",
            DocType::Learning => "learning",
            DocType::Review => "review",
        }
    }
}

impl fmt::Display for DocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_lowercase();
        DocType::ALL
            .into_iter()
            .find(|t| t.as_str() == norm)
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a doc type (operational, decision, reference, learning, review)"
                )
            })
    }
}

impl<'de> Deserialize<'de> for DocType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A document as every surface shows it: its current version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Doc {
    pub id: DocId,
    #[serde(rename = "type")]
    pub kind: DocType,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub tags: Vec<String>,
    pub author: String,
    /// Tasks this doc is about.
    pub tasks: Vec<TaskId>,
    /// 1 when written, one more on every change.
    pub version: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub deleted_at: Option<Timestamp>,
}

/// A doc without its body, for listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocSummary {
    pub id: DocId,
    #[serde(rename = "type")]
    pub kind: DocType,
    pub title: String,
    pub tags: Vec<String>,
    pub author: String,
    pub tasks: Vec<TaskId>,
    pub version: u32,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
}

impl From<&Doc> for DocSummary {
    fn from(d: &Doc) -> Self {
        DocSummary {
            id: d.id,
            kind: d.kind,
            title: d.title.clone(),
            tags: d.tags.clone(),
            author: d.author.clone(),
            tasks: d.tasks.clone(),
            version: d.version,
            updated_at: d.updated_at,
            deleted_at: d.deleted_at,
        }
    }
}

/// One version of a doc, as it was written (history keeps every one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocVersion {
    pub doc: DocId,
    pub version: u32,
    #[serde(rename = "type")]
    pub kind: DocType,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    /// Who wrote this version.
    pub author: String,
    pub at: Timestamp,
}

/// A search result: the doc, how well it matched (higher is better), and a short excerpt
/// with the matched words marked `**like this**`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocHit {
    #[serde(flatten)]
    pub doc: DocSummary,
    pub score: f64,
    pub snippet: String,
}
