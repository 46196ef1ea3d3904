//! The status lifecycle: which action may move a task from which status to which.
//!
//! ```text
//! backlog -> open -> in-progress -> review -> done
//!    any of the first four -> blocked -> open (or backlog while dependencies are unmet)
//! ```

use crate::model::Status::{self, *};

/// Something a caller asks to do to a task's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Pickup,
    Done,
    Approve,
    /// Back from review, to `open` (anyone) or `in-progress` (the same holder).
    Reject {
        to: Status,
    },
    Block,
    Unblock,
    /// A direct move, as from `task update --status` or a dashboard drag.
    Move {
        to: Status,
    },
    Delete,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Pickup => "pickup",
            Action::Done => "done",
            Action::Approve => "approve",
            Action::Reject { .. } => "reject",
            Action::Block => "block",
            Action::Unblock => "unblock",
            Action::Move { .. } => "a status change",
            Action::Delete => "delete",
        }
    }
}

/// The statuses from which `action` is allowed.
pub fn allowed_from(action: Action) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|from| target(*from, action).is_some())
        .collect()
}

/// The status `action` leads to from `from`, or `None` when the lifecycle forbids it.
///
/// `Unblock` leads to `open`; the board turns that into `backlog` while dependencies are unmet.
pub fn target(from: Status, action: Action) -> Option<Status> {
    match (from, action) {
        (Open, Action::Pickup) => Some(InProgress),
        (InProgress, Action::Done) => Some(Review),
        (Review, Action::Approve) => Some(Done),
        (Review, Action::Reject { to: Open }) => Some(Open),
        (Review, Action::Reject { to: InProgress }) => Some(InProgress),
        (Backlog | Open | InProgress | Review, Action::Block) => Some(Blocked),
        (Blocked, Action::Unblock) => Some(Open),
        (_, Action::Delete) => Some(from),
        (_, Action::Move { to }) => manual_move(from, to),
        _ => None,
    }
}

/// Direct moves. Claiming (`in-progress`) only happens through pickup, so that a lease and a
/// fence always exist; `blocked` needs a reason, so it goes through block/unblock.
fn manual_move(from: Status, to: Status) -> Option<Status> {
    let allowed = match (from, to) {
        (a, b) if a == b => false,
        (Backlog, Open) | (Open, Backlog) => true,
        (InProgress, Open) | (InProgress, Review) => true,
        (Review, Done) | (Review, Open) => true,
        (Done, Open) | (Done, Review) => true,
        _ => false,
    };
    allowed.then_some(to)
}

/// One allowed step: `action` (`pickup`, `done`, `approve`, `reject`, `block`, `unblock`,
/// `move`, `delete`) takes a task from `from` to `to`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transition {
    pub from: Status,
    pub action: &'static str,
    pub to: Status,
}

/// The lifecycle as data, for clients that offer only the actions a task's status allows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lifecycle {
    pub transitions: Vec<Transition>,
    /// Statuses of a dependency that let its dependents go ahead.
    pub satisfies_dependency: Vec<Status>,
}

/// Every allowed step of [`target`], spelled out.
pub fn lifecycle() -> Lifecycle {
    let mut actions = vec![
        ("pickup", Action::Pickup),
        ("done", Action::Done),
        ("approve", Action::Approve),
        ("reject", Action::Reject { to: Open }),
        ("reject", Action::Reject { to: InProgress }),
        ("block", Action::Block),
        ("unblock", Action::Unblock),
        ("delete", Action::Delete),
    ];
    actions.extend(Status::ALL.map(|to| ("move", Action::Move { to })));
    let mut transitions = Vec::new();
    for from in Status::ALL {
        for (name, action) in &actions {
            if let Some(to) = target(from, *action) {
                transitions.push(Transition {
                    from,
                    action: name,
                    to,
                });
            }
        }
    }
    Lifecycle {
        transitions,
        satisfies_dependency: SATISFIES_DEPENDENCY.to_vec(),
    }
}

/// What a user should do instead of a refused move.
pub fn hint_for(from: Status, action: Action) -> Option<String> {
    let h = match (from, action) {
        (_, Action::Move { to: InProgress }) => {
            "claim it with `baton task pickup --id <task>` so it gets a lease"
        }
        (_, Action::Move { to: Blocked }) => "use `baton task block <task> --reason ...`",
        (Blocked, _) => "unblock it first with `baton task unblock <task>`",
        (Backlog, Action::Pickup) => {
            "it waits in backlog; move it to open with `baton task update <task> --status open`"
        }
        (InProgress, Action::Pickup) => "it is already claimed; pick another task",
        (Done, _) => "it is done; reopen it with `baton task update <task> --status open`",
        (Open, Action::Done) => "pick it up first with `baton task pickup --id <task>`",
        _ => return None,
    };
    Some(h.to_string())
}

/// Statuses that satisfy a dependency: the pipeline keeps moving while humans review.
pub const SATISFIES_DEPENDENCY: [Status; 2] = [Review, Done];

pub fn satisfies_dependency(status: Status) -> bool {
    SATISFIES_DEPENDENCY.contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, spelled out: (from, action, expected target).
    #[test]
    fn lifecycle_table() {
        let cases: &[(Status, Action, Option<Status>)] = &[
            (Open, Action::Pickup, Some(InProgress)),
            (Backlog, Action::Pickup, None),
            (InProgress, Action::Pickup, None),
            (Blocked, Action::Pickup, None),
            (InProgress, Action::Done, Some(Review)),
            (Open, Action::Done, None),
            (Review, Action::Done, None),
            (Review, Action::Approve, Some(Done)),
            (InProgress, Action::Approve, None),
            (Done, Action::Approve, None),
            (Review, Action::Reject { to: Open }, Some(Open)),
            (Review, Action::Reject { to: InProgress }, Some(InProgress)),
            (Review, Action::Reject { to: Done }, None),
            (Done, Action::Reject { to: Open }, None),
            (Backlog, Action::Block, Some(Blocked)),
            (Open, Action::Block, Some(Blocked)),
            (InProgress, Action::Block, Some(Blocked)),
            (Review, Action::Block, Some(Blocked)),
            (Done, Action::Block, None),
            (Blocked, Action::Block, None),
            (Blocked, Action::Unblock, Some(Open)),
            (Open, Action::Unblock, None),
            (Backlog, Action::Move { to: Open }, Some(Open)),
            (Open, Action::Move { to: Backlog }, Some(Backlog)),
            (Open, Action::Move { to: InProgress }, None),
            (Open, Action::Move { to: Done }, None),
            (InProgress, Action::Move { to: Review }, Some(Review)),
            (InProgress, Action::Move { to: Open }, Some(Open)),
            (Review, Action::Move { to: Done }, Some(Done)),
            (Review, Action::Move { to: Open }, Some(Open)),
            (Done, Action::Move { to: Open }, Some(Open)),
            (Open, Action::Move { to: Blocked }, None),
            (Blocked, Action::Move { to: Open }, None),
            (Open, Action::Move { to: Open }, None),
            (Done, Action::Delete, Some(Done)),
        ];
        for &(from, action, expected) in cases {
            assert_eq!(target(from, action), expected, "{from} --{action:?}-->");
        }
    }

    #[test]
    fn nothing_enters_in_progress_except_by_claim_or_return_to_holder() {
        for from in Status::ALL {
            for to in Status::ALL {
                if target(from, Action::Move { to }) == Some(InProgress) {
                    panic!("a direct move {from} -> in-progress must not exist");
                }
            }
        }
    }

    #[test]
    fn every_status_can_reach_done() {
        // From any status a sequence of allowed actions reaches done: nothing is a dead end.
        let actions = [
            Action::Pickup,
            Action::Done,
            Action::Approve,
            Action::Unblock,
            Action::Move { to: Open },
        ];
        for start in Status::ALL {
            let mut seen = vec![start];
            let mut frontier = vec![start];
            while let Some(s) = frontier.pop() {
                for a in actions {
                    if let Some(next) = target(s, a) {
                        if !seen.contains(&next) {
                            seen.push(next);
                            frontier.push(next);
                        }
                    }
                }
            }
            assert!(seen.contains(&Done), "{start} cannot reach done");
        }
    }

    #[test]
    fn the_lifecycle_as_data_lists_exactly_the_allowed_steps() {
        let table = lifecycle();
        let from = |status: Status| -> Vec<(&str, Status)> {
            table
                .transitions
                .iter()
                .filter(|t| t.from == status)
                .map(|t| (t.action, t.to))
                .collect()
        };
        assert_eq!(
            from(Backlog),
            [("block", Blocked), ("delete", Backlog), ("move", Open)]
        );
        assert_eq!(
            from(Review),
            [
                ("approve", Done),
                ("reject", Open),
                ("reject", InProgress),
                ("block", Blocked),
                ("delete", Review),
                ("move", Open),
                ("move", Done)
            ]
        );
        assert!(!from(Backlog).iter().any(|(a, _)| *a == "approve"));
        assert_eq!(table.satisfies_dependency, [Review, Done]);
    }

    #[test]
    fn allowed_from_lists_sources() {
        assert_eq!(allowed_from(Action::Done), vec![InProgress]);
        assert_eq!(allowed_from(Action::Approve), vec![Review]);
        assert_eq!(
            allowed_from(Action::Block),
            vec![Backlog, Open, InProgress, Review]
        );
    }
}
