//! The person's stand-in: answers questions to `human` and approves tasks in review once
//! they have waited a while, so the demo runs to its end while its watcher only watches.
//! Whatever the watcher does first on the dashboard wins; the stand-in then finds nothing
//! left to do. It also tells the terminal how the board moves.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use baton_core::api::{AnswerRequest, InboxRequest, MergeFilter, TaskFilter, HUMAN};
use baton_core::{Api, Board, MergeState, MessageId, Status, TaskId};
use baton_sqlite::SqliteStore;

use super::shop;
use crate::error::CliResult;
use crate::project::Project;

pub struct StandIn {
    api: Board<SqliteStore>,
    /// How long a question or a review waits for the watcher.
    patience: Duration,
    /// Whether to tell the terminal what happens.
    narrate: bool,
    questions_seen: HashMap<MessageId, Instant>,
    reviews_seen: HashMap<TaskId, Instant>,
    last_counts: String,
}

impl StandIn {
    pub fn open(project: &Project, patience: Duration, narrate: bool) -> CliResult<StandIn> {
        Ok(StandIn {
            api: Board::new(SqliteStore::open(&project.database())?),
            patience,
            narrate,
            questions_seen: HashMap::new(),
            reviews_seen: HashMap::new(),
            last_counts: String::new(),
        })
    }

    /// One look at the board; `true` once the plan has run its course (every task done or
    /// blocked, no merge waiting).
    pub fn tick(&mut self) -> CliResult<bool> {
        self.answer_questions()?;
        let tasks = self.api.list_tasks(&TaskFilter {
            limit: Some(0),
            ..TaskFilter::default()
        })?;
        let now = Instant::now();
        for task in tasks.iter().filter(|t| t.status == Status::Review) {
            let since = *self.reviews_seen.entry(task.id).or_insert(now);
            if now.duration_since(since) >= self.patience {
                self.api.approve(
                    HUMAN,
                    task.id,
                    Some("Approved by the demo's stand-in for you".into()),
                )?;
                self.say(&format!(
                    "  you (stand-in)  approved {} {}",
                    task.id, task.title
                ));
            }
        }
        let count = |s: Status| tasks.iter().filter(|t| t.status == s).count();
        let counts = Status::ALL
            .iter()
            .map(|s| format!("{} {s}", count(*s)))
            .collect::<Vec<_>>()
            .join(", ");
        if counts != self.last_counts {
            self.say(&format!("board: {counts}"));
            self.last_counts = counts;
        }
        let settled = tasks
            .iter()
            .all(|t| matches!(t.status, Status::Done | Status::Blocked));
        if !settled {
            return Ok(false);
        }
        let merges = self.api.merges().list_merges(&MergeFilter::default())?;
        Ok(merges
            .iter()
            .all(|m| !matches!(m.state, MergeState::Pending | MergeState::Running)))
    }

    fn answer_questions(&mut self) -> CliResult {
        let now = Instant::now();
        let open = self.api.inbox(HUMAN, &InboxRequest::default())?;
        for question in open.iter().filter(|m| m.is_question() && m.to == HUMAN) {
            if question.answered_at.is_some() {
                continue;
            }
            if !self.questions_seen.contains_key(&question.id) {
                self.say(&format!(
                    "  {} asks you ({}): {}",
                    question.from, question.id, question.body
                ));
            }
            let since = *self.questions_seen.entry(question.id).or_insert(now);
            if now.duration_since(since) < self.patience {
                continue;
            }
            let body = shop::HUMAN_ANSWERS
                .iter()
                .find(|(start, _)| question.body.starts_with(start))
                .map_or(
                    "Go with the simplest choice that meets the task.",
                    |(_, a)| a,
                );
            self.api.answer(
                HUMAN,
                question.id,
                AnswerRequest {
                    body: body.to_string(),
                },
            )?;
            self.say(&format!(
                "  you (stand-in)  answered {}: {body}",
                question.id
            ));
        }
        Ok(())
    }

    fn say(&self, line: &str) {
        if self.narrate {
            println!("{line}");
        }
    }
}
