//! The rules of the plan above tasks, decided here and nowhere else: when a phase's tasks
//! may be handed out (its gate), how a phase and an initiative move on their own as their
//! work finishes, and which moves a person may make. Stores only keep what these compute:
//! a task's `gated` flag filters the ready queue as `status = 'open'` does.

use crate::model::{InitiativeStatus, PhaseStatus, TaskCounts};

/// What a phase's gate depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateInput {
    pub status: PhaseStatus,
    /// The initiative's `merge_requires_approval`.
    pub approval: bool,
    /// Every phase this one depends on is completed.
    pub deps_completed: bool,
    pub initiative: InitiativeStatus,
}

/// A phase's tasks may be handed out when its initiative is not archived, every phase it depends on is completed, it is not blocked, and it is approved
/// (or approval is off). A completed phase stays open so a task sent back can be redone.
pub fn gate_open(g: GateInput) -> bool {
    let live = g.initiative != InitiativeStatus::Archived;
    let status = match g.status {
        PhaseStatus::Pending => !g.approval,
        PhaseStatus::Blocked => false,
        PhaseStatus::Approved
        | PhaseStatus::InProgress
        | PhaseStatus::PendingReview
        | PhaseStatus::Completed => true,
    };
    live && g.deps_completed && status
}

/// Where a phase moves on its own given its tasks, if anywhere: to `in_progress` once work
/// started, to `pending_review` (or `completed` when approval is off) once every live task
/// is finished (in review or done), back to `in_progress` when a finished phase gets work
/// again. A pending phase that needs approval, a blocked and a completed one stay put.
pub fn phase_progress(
    status: PhaseStatus,
    approval: bool,
    tasks: &TaskCounts,
) -> Option<PhaseStatus> {
    let started = status == PhaseStatus::Approved || (status == PhaseStatus::Pending && !approval);
    let working = started || status == PhaseStatus::InProgress;
    let all_finished = tasks.total > 0 && tasks.finished == tasks.total;
    let next = if (working || status == PhaseStatus::PendingReview) && all_finished {
        if approval {
            PhaseStatus::PendingReview
        } else {
            PhaseStatus::Completed
        }
    } else if (status == PhaseStatus::PendingReview && !all_finished)
        || (started && (tasks.in_progress > 0 || tasks.finished > 0))
    {
        PhaseStatus::InProgress
    } else {
        return None;
    };
    (next != status).then_some(next)
}

/// Where an initiative moves on its own: an active one whose phases are all completed goes
/// to `pending_review` (or `completed` when approval is off); one under review that gets an
/// unfinished phase goes back to `active`.
pub fn initiative_progress(
    status: InitiativeStatus,
    approval: bool,
    phases: u64,
    completed: u64,
) -> Option<InitiativeStatus> {
    let all = phases > 0 && completed == phases;
    match status {
        InitiativeStatus::Active if all => Some(if approval {
            InitiativeStatus::PendingReview
        } else {
            InitiativeStatus::Completed
        }),
        InitiativeStatus::PendingReview if !all => Some(InitiativeStatus::Active),
        _ => None,
    }
}

/// A person's move on a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseMove {
    /// Approve the plan (pending -> approved) or the finished work (pending_review ->
    /// completed).
    Approve,
    /// Send finished work back with review comments (pending_review -> in_progress, with a
    /// revision task).
    RequestChanges,
    Block,
    Unblock,
}

impl PhaseMove {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseMove::Approve => "approve",
            PhaseMove::RequestChanges => "request changes on",
            PhaseMove::Block => "block",
            PhaseMove::Unblock => "unblock",
        }
    }
}

/// Where a person's move takes a phase, or `None` when it does not apply in this status.
/// `was_approved`: the phase was approved before (unblocking does not ask again).
pub fn phase_move(
    status: PhaseStatus,
    m: PhaseMove,
    approval: bool,
    was_approved: bool,
) -> Option<PhaseStatus> {
    use PhaseStatus::*;
    match (m, status) {
        (PhaseMove::Approve, Pending) => Some(Approved),
        (PhaseMove::Approve, PendingReview) => Some(Completed),
        (PhaseMove::RequestChanges, PendingReview) => Some(InProgress),
        (PhaseMove::Block, Pending | Approved | InProgress | PendingReview) => Some(Blocked),
        (PhaseMove::Unblock, Blocked) => Some(if was_approved || !approval {
            Approved
        } else {
            Pending
        }),
        _ => None,
    }
}

/// What a person may do with a phase in `status`, for error hints.
pub fn phase_moves(status: PhaseStatus) -> Vec<PhaseMove> {
    [
        PhaseMove::Approve,
        PhaseMove::RequestChanges,
        PhaseMove::Block,
        PhaseMove::Unblock,
    ]
    .into_iter()
    .filter(|m| phase_move(status, *m, true, true).is_some())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counts(total: u64, finished: u64, in_progress: u64) -> TaskCounts {
        TaskCounts {
            total,
            finished,
            in_progress,
            blocked: 0,
        }
    }

    #[test]
    fn a_pending_phase_needs_approval_and_its_dependencies() {
        let g = GateInput {
            status: PhaseStatus::Pending,
            approval: true,
            deps_completed: true,
            initiative: InitiativeStatus::Active,
        };
        assert!(!gate_open(g));
        assert!(gate_open(GateInput {
            approval: false,
            ..g
        }));
        assert!(gate_open(GateInput {
            status: PhaseStatus::Approved,
            ..g
        }));
        assert!(!gate_open(GateInput {
            status: PhaseStatus::Approved,
            deps_completed: false,
            ..g
        }));
        assert!(!gate_open(GateInput {
            status: PhaseStatus::Approved,
            initiative: InitiativeStatus::Archived,
            ..g
        }));
        assert!(!gate_open(GateInput {
            status: PhaseStatus::Blocked,
            approval: false,
            ..g
        }));
    }

    #[test]
    fn phases_move_as_their_tasks_finish() {
        use PhaseStatus::*;
        assert_eq!(
            phase_progress(Approved, true, &counts(2, 0, 1)),
            Some(InProgress)
        );
        assert_eq!(phase_progress(Approved, true, &counts(2, 0, 0)), None);
        assert_eq!(
            phase_progress(InProgress, true, &counts(2, 2, 0)),
            Some(PendingReview)
        );
        assert_eq!(
            phase_progress(InProgress, false, &counts(2, 2, 0)),
            Some(Completed)
        );
        assert_eq!(
            phase_progress(Pending, false, &counts(1, 1, 0)),
            Some(Completed)
        );
        assert_eq!(phase_progress(Pending, true, &counts(1, 1, 0)), None);
        assert_eq!(
            phase_progress(PendingReview, true, &counts(3, 2, 0)),
            Some(InProgress)
        );
        assert_eq!(phase_progress(Completed, true, &counts(3, 2, 0)), None);
        assert_eq!(phase_progress(Blocked, true, &counts(3, 3, 0)), None);
        // An empty phase never finishes on its own.
        assert_eq!(phase_progress(Approved, true, &counts(0, 0, 0)), None);
    }

    #[test]
    fn initiatives_go_to_review_when_every_phase_is_completed() {
        use InitiativeStatus::*;
        assert_eq!(initiative_progress(Active, true, 2, 2), Some(PendingReview));
        assert_eq!(initiative_progress(Active, false, 2, 2), Some(Completed));
        assert_eq!(initiative_progress(Active, true, 2, 1), None);
        assert_eq!(initiative_progress(Active, true, 0, 0), None);
        assert_eq!(initiative_progress(PendingReview, true, 3, 2), Some(Active));
        assert_eq!(initiative_progress(Archived, true, 2, 2), None);
    }

    #[test]
    fn people_move_phases_only_where_it_makes_sense() {
        use PhaseStatus::*;
        assert_eq!(
            phase_move(Pending, PhaseMove::Approve, true, false),
            Some(Approved)
        );
        assert_eq!(
            phase_move(PendingReview, PhaseMove::Approve, true, true),
            Some(Completed)
        );
        assert_eq!(phase_move(InProgress, PhaseMove::Approve, true, true), None);
        assert_eq!(
            phase_move(Completed, PhaseMove::RequestChanges, true, true),
            None
        );
        assert_eq!(
            phase_move(Blocked, PhaseMove::Unblock, true, false),
            Some(Pending)
        );
        assert_eq!(
            phase_move(Blocked, PhaseMove::Unblock, true, true),
            Some(Approved)
        );
        assert_eq!(phase_move(Completed, PhaseMove::Block, true, true), None);
        assert_eq!(
            phase_moves(Pending),
            vec![PhaseMove::Approve, PhaseMove::Block]
        );
    }

    fn phase_status() -> impl Strategy<Value = PhaseStatus> {
        proptest::sample::select(PhaseStatus::ALL.to_vec())
    }

    proptest! {
        /// Progress never skips review when approval is on, never leaves a blocked or
        /// completed phase, and is idempotent (applying it twice moves no further).
        #[test]
        fn progress_is_stable_and_keeps_the_review(
            status in phase_status(), approval in any::<bool>(),
            total in 0u64..6, finished in 0u64..6, in_progress in 0u64..6,
        ) {
            let finished = finished.min(total);
            let in_progress = in_progress.min(total - finished);
            let c = counts(total, finished, in_progress);
            if let Some(next) = phase_progress(status, approval, &c) {
                prop_assert_ne!(status, PhaseStatus::Blocked);
                prop_assert_ne!(status, PhaseStatus::Completed);
                if approval {
                    prop_assert_ne!(next, PhaseStatus::Completed);
                }
                prop_assert_eq!(phase_progress(next, approval, &c), None);
            }
        }
    }
}
