//! [`Plan`] over HTTP: initiatives, phases and review comments of the client's project.

use baton_core::api::{
    CommentFilter, InitiativeFilter, InitiativeMove, InitiativePatch, NewComment, NewInitiative,
    NewPage, NewPhase, NewProposal, PhaseMoveRequest, PhaseOutcome, PhasePatch, Plan,
    ProposalDecision, ProposalFilter,
};
use baton_core::model::{Initiative, Page, Phase, Proposal, ReviewComment};
use baton_core::{CommentId, InitiativeId, PhaseId, ProposalId, Result};
use serde_json::json;

use crate::{Client, Method};

impl Plan for Client {
    fn create_initiative(&self, actor: &str, new: NewInitiative) -> Result<Initiative> {
        self.post("/api/v1/initiatives", Some(actor), &new)
    }

    fn list_initiatives(&self, filter: &InitiativeFilter) -> Result<Vec<Initiative>> {
        let q: Vec<(&str, String)> = filter
            .status
            .map(|s| ("status", s.to_string()))
            .into_iter()
            .collect();
        self.get("/api/v1/initiatives", &q)
    }

    fn get_initiative(&self, id: InitiativeId) -> Result<Initiative> {
        self.get(&format!("/api/v1/initiatives/{id}"), &[])
    }

    fn update_initiative(
        &self,
        actor: &str,
        id: InitiativeId,
        patch: InitiativePatch,
    ) -> Result<Initiative> {
        self.call(
            Method::Patch,
            &format!("/api/v1/initiatives/{id}"),
            Some(actor),
            &[],
            Some(&patch),
        )
    }

    fn move_initiative(
        &self,
        actor: &str,
        id: InitiativeId,
        to: InitiativeMove,
    ) -> Result<Initiative> {
        let action = match to {
            InitiativeMove::Approve => "approve",
            InitiativeMove::Archive => "archive",
            InitiativeMove::Reopen => "reopen",
        };
        self.post(
            &format!("/api/v1/initiatives/{id}/{action}"),
            Some(actor),
            &json!({}),
        )
    }

    fn create_phase(&self, actor: &str, new: NewPhase) -> Result<Phase> {
        self.post("/api/v1/phases", Some(actor), &new)
    }

    fn list_phases(&self, initiative: Option<InitiativeId>) -> Result<Vec<Phase>> {
        let q: Vec<(&str, String)> = initiative
            .map(|i| ("initiative", i.to_string()))
            .into_iter()
            .collect();
        self.get("/api/v1/phases", &q)
    }

    fn get_phase(&self, id: PhaseId) -> Result<Phase> {
        self.get(&format!("/api/v1/phases/{id}"), &[])
    }

    fn update_phase(&self, actor: &str, id: PhaseId, patch: PhasePatch) -> Result<Phase> {
        self.call(
            Method::Patch,
            &format!("/api/v1/phases/{id}"),
            Some(actor),
            &[],
            Some(&patch),
        )
    }

    fn move_phase(
        &self,
        actor: &str,
        id: PhaseId,
        request: PhaseMoveRequest,
    ) -> Result<PhaseOutcome> {
        self.post(&format!("/api/v1/phases/{id}/move"), Some(actor), &request)
    }

    fn add_comment(&self, actor: &str, new: NewComment) -> Result<ReviewComment> {
        self.post("/api/v1/comments", Some(actor), &new)
    }

    fn list_comments(&self, filter: &CommentFilter) -> Result<Vec<ReviewComment>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(p) = filter.phase {
            q.push(("phase", p.to_string()));
        }
        if let Some(t) = filter.task {
            q.push(("task", t.to_string()));
        }
        if filter.open {
            q.push(("open", "true".into()));
        }
        self.get("/api/v1/comments", &q)
    }

    fn resolve_comment(&self, actor: &str, id: CommentId, resolved: bool) -> Result<ReviewComment> {
        self.post(
            &format!("/api/v1/comments/{id}/resolve"),
            Some(actor),
            &json!({ "resolved": resolved }),
        )
    }

    fn add_page(&self, actor: &str, new: NewPage) -> Result<Page> {
        self.post("/api/v1/pages", Some(actor), &new)
    }

    fn list_pages(&self, initiative: InitiativeId) -> Result<Vec<Page>> {
        self.get(&format!("/api/v1/initiatives/{initiative}/pages"), &[])
    }

    fn propose(&self, actor: &str, new: NewProposal) -> Result<Proposal> {
        self.post("/api/v1/proposals", Some(actor), &new)
    }

    fn list_proposals(&self, filter: &ProposalFilter) -> Result<Vec<Proposal>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(i) = filter.initiative {
            q.push(("initiative", i.to_string()));
        }
        if let Some(s) = filter.status {
            q.push(("status", s.to_string()));
        }
        self.get("/api/v1/proposals", &q)
    }

    fn get_proposal(&self, id: ProposalId) -> Result<Proposal> {
        self.get(&format!("/api/v1/proposals/{id}"), &[])
    }

    fn decide_proposal(
        &self,
        actor: &str,
        id: ProposalId,
        decision: ProposalDecision,
    ) -> Result<Proposal> {
        self.post(
            &format!("/api/v1/proposals/{id}/decide"),
            Some(actor),
            &decision,
        )
    }

    fn import_plan(
        &self,
        actor: &str,
        plan: baton_core::api::ImportedPlan,
    ) -> Result<baton_core::api::PlanImportReport> {
        self.post("/api/v1/import/plan", Some(actor), &plan)
    }
}
