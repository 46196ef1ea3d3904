//! [`Webhooks`] over HTTP: the webhooks of the client's project. Sending them is the
//! server's own work, so claiming and finishing deliveries stay unavailable here.

use baton_core::api::{CreatedWebhook, Delivery, DeliveryQuery, NewWebhook, Webhook, Webhooks};
use baton_core::{Result, WebhookId};
use serde_json::json;

use crate::{Client, Method};

impl Webhooks for Client {
    fn add_webhook(&self, actor: &str, new: NewWebhook) -> Result<CreatedWebhook> {
        self.post("/api/v1/webhooks", Some(actor), &new)
    }

    fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        self.get("/api/v1/webhooks", &[])
    }

    fn remove_webhook(&self, actor: &str, id: WebhookId) -> Result<Webhook> {
        self.call::<(), Webhook>(
            Method::Delete,
            &format!("/api/v1/webhooks/{id}"),
            Some(actor),
            &[],
            None,
        )
    }

    fn test_webhook(&self, actor: &str, id: WebhookId) -> Result<Delivery> {
        self.post(
            &format!("/api/v1/webhooks/{id}/test"),
            Some(actor),
            &json!({}),
        )
    }

    fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<Delivery>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(w) = query.webhook {
            q.push(("webhook", w.to_string()));
        }
        if let Some(s) = query.status {
            q.push(("status", s.as_str().to_string()));
        }
        if let Some(l) = query.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/webhooks/deliveries", &q)
    }

    fn queue_deliveries(&self, limit: u64) -> Result<u64> {
        self.post("/api/v1/webhooks/queue", None, &json!({ "limit": limit }))
    }
}
