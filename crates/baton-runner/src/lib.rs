//! `baton runner`'s parts: how to start an agent CLI, how to stop it and everything it
//! started, and what a run produced, read from the stream the CLI prints.
//!
//! - [`provider`]: how to start a CLI headless, as data (`providers/*.toml`, plus the
//!   user's own files); no provider is a code path.
//! - [`adapters`]: one per output format, each turning lines into [`record::RunEvent`]s
//!   and, at the end, one [`record::RunRecord`] with its [`record::Outcome`].
//!
//! - [`accounts`]: provider accounts on the runner's machine, with failover.
//! - [`process`]: an agent in its own process group; stopping it stops all it started.
//! - [`supervise`]: one run watched to its end: raw log, adapter, watchdog, stop.
//! - [`prompt`]: what a run starts with: the task, its docs and dependencies, the rules.
//! - [`runner`]: agent slots that claim tasks and run them to review (or a reason).
//! - [`diff`]: what a task, phase or initiative changed, against its base.
//! - [`errand`]: one agent on a branch of its own, no task board around it.
//! - [`merge`]: approved branches carried up the chain; a conflict changes nothing.
//! - [`verify`]: the task's verify command, run before the task goes to review.
//! - [`worktree`]: a worktree per task on its branch, through the git CLI; nothing lost.
//!
//! Adapters are pure (lines in, events out), so they are tested on captured streams.

pub mod accounts;
pub mod adapters;
pub mod diff;
pub mod errand;
pub mod merge;
pub mod process;
pub mod prompt;
pub mod provider;
pub mod record;
pub mod runner;
pub mod runs;
pub mod supervise;
pub mod verify;
pub mod worktree;

pub use adapters::{adapter_for, Adapter, FORMATS};
pub use provider::{Provider, ProviderError};
pub use record::{Ending, Outcome, RunEvent, RunRecord, Usage};
