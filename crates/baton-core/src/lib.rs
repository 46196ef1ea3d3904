//! Baton's rules, independent of storage and surfaces.
//!
//! - [`model`]: tasks, statuses, priorities, events, agents, docs, messages.
//! - [`lifecycle`]: which status changes are allowed, and by which action.
//! - [`graph`]: dependency cycle detection.
//! - [`store`]: the `Store` trait a backend implements (SQLite, PostgreSQL).
//! - [`api`]: the `Api` trait every surface talks to, and its request types.
//! - [`board`]: `Board<S: Store>`, the in-process implementation of `Api`.

pub mod analysis;
pub mod api;
pub mod auth;
pub mod board;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod gates;
pub mod glob;
pub mod graph;
pub mod id;
pub mod instance;
pub mod lifecycle;
pub mod model;
pub mod panic;
pub mod sql;
pub mod store;
pub mod time;

pub use api::Api;
pub use board::Board;
pub use error::{Error, ErrorClass, Result};
pub use id::{
    CommentId, DocId, ErrandId, InitiativeId, MergeId, MessageId, PhaseId, ProposalId, RunId,
    SessionId, TaskId, WebhookId,
};
pub use model::*;
pub use store::{Store, StoreTx};
