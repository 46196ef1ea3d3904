//! [`Merges`] over HTTP: the merge queue of the client's project.

use baton_core::api::{MergeClaim, MergeFilter, MergeReport, Merges};
use baton_core::model::{BranchPlan, Merge};
use baton_core::{MergeId, Result, TaskId};
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
