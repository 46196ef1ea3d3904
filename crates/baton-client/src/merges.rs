//! [`Merges`] over HTTP: the merge queue of the client's project.

use baton_core::api::{
    ErrandClaim, ErrandFinish, ErrandRequest, ErrandUpdate, Errands, MergeClaim, MergeFilter,
    MergeReport, Merges, NewErrand,
};
use baton_core::model::{BranchPlan, Errand, ErrandStatus, Merge};
use baton_core::{ErrandId, MergeId, Result, TaskId};
use serde_json::json;

use crate::Client;

impl Merges for Client {
    fn list_merges(&self, filter: &MergeFilter) -> Result<Vec<Merge>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = filter.state {
            q.push(("state", s.to_string()));
        }
        if let Some(k) = filter.kind {
            q.push(("kind", k.to_string()));
        }
        if let Some(t) = filter.task {
            q.push(("task", t.to_string()));
        }
        if let Some(p) = filter.phase {
            q.push(("phase", p.to_string()));
        }
        if let Some(i) = filter.initiative {
            q.push(("initiative", i.to_string()));
        }
        if let Some(l) = filter.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/merges", &q)
    }

    fn get_merge(&self, id: MergeId) -> Result<Merge> {
        self.get(&format!("/api/v1/merges/{id}"), &[])
    }

    fn branch_plan(&self, task: TaskId) -> Result<BranchPlan> {
        self.get(&format!("/api/v1/tasks/{task}/branch"), &[])
    }

    fn claim_merge(&self, actor: &str, claim: MergeClaim) -> Result<Option<Merge>> {
        self.post("/api/v1/merges/claim", Some(actor), &claim)
    }

    fn finish_merge(&self, actor: &str, id: MergeId, report: MergeReport) -> Result<Merge> {
        self.post(&format!("/api/v1/merges/{id}/finish"), Some(actor), &report)
    }

    fn retry_merge(&self, actor: &str, id: MergeId) -> Result<Merge> {
        self.post(
            &format!("/api/v1/merges/{id}/retry"),
            Some(actor),
            &json!({}),
        )
    }
}

impl Errands for Client {
    fn create_errand(&self, actor: &str, new: NewErrand) -> Result<Errand> {
        self.post("/api/v1/errands", Some(actor), &new)
    }

    fn list_errands(&self, status: Option<ErrandStatus>) -> Result<Vec<Errand>> {
        let q: Vec<(&str, String)> = status
            .map(|s| ("status", s.to_string()))
            .into_iter()
            .collect();
        self.get("/api/v1/errands", &q)
    }

    fn get_errand(&self, id: ErrandId) -> Result<Errand> {
        self.get(&format!("/api/v1/errands/{id}"), &[])
    }

    fn update_errand(&self, actor: &str, id: ErrandId, update: ErrandUpdate) -> Result<Errand> {
        self.call(
            crate::Method::Patch,
            &format!("/api/v1/errands/{id}"),
            Some(actor),
            &[],
            Some(&update),
        )
    }

    fn delete_errand(&self, actor: &str, id: ErrandId) -> Result<Errand> {
        self.call::<(), Errand>(
            crate::Method::Delete,
            &format!("/api/v1/errands/{id}"),
            Some(actor),
            &[],
            None,
        )
    }

    fn request_errand(&self, actor: &str, id: ErrandId, request: ErrandRequest) -> Result<Errand> {
        self.post(
            &format!("/api/v1/errands/{id}/request"),
            Some(actor),
            &request,
        )
    }

    fn claim_errand(&self, actor: &str, claim: ErrandClaim) -> Result<Option<Errand>> {
        self.post("/api/v1/errands/claim", Some(actor), &claim)
    }

    fn finish_errand(&self, actor: &str, id: ErrandId, finish: ErrandFinish) -> Result<Errand> {
        self.post(
            &format!("/api/v1/errands/{id}/finish"),
            Some(actor),
            &finish,
        )
    }
}
