//! Webhooks (issue 22): the server POSTs chosen events of the log to a URL, signed with a
//! secret, retrying with backoff. Configuring them is a maintainer's; sending them is the
//! server's (`baton serve`), which follows the event log with a cursor per webhook and keeps
//! a row per delivery, so a restart neither loses nor repeats one (at least once).

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::id::WebhookId;
use crate::time::Timestamp;

/// A webhook to add (`baton webhook add URL --events task.done,message.*`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to POST: an `http://` or `https://` URL.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 2000))]
    pub url: String,
    /// Which events: an action (`task.done`) or a prefix ending in `.` or `*` (`task.*`;
    /// `*` alone is every event), as the event log's filter takes them.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub events: Vec<String>,
    /// The key bodies are signed with (16 to 512 bytes); without one, one is generated and
    /// answered once.
    #[serde(default)]
    pub secret: Option<String>,
}

impl std::fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhook")
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A configured webhook with how its deliveries went. Its secret is never shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    /// Deliveries waiting to be sent or retried.
    pub pending: u64,
    pub delivered: u64,
    /// Deliveries given up on after their last attempt.
    pub failed: u64,
    /// The last delivery that failed an attempt: when, and why.
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
}

/// What adding a webhook answers: the webhook, and its secret when Baton generated it (the
/// only time it is shown).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhook")
            .field("webhook", &self.webhook)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// A 2xx answer came back.
    Delivered,
    /// Every attempt failed, or the webhook was removed first.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One event on its way to one webhook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: u64,
    /// What `X-Baton-Delivery` carries: the same on every attempt, so a receiver can drop
    /// repeats.
    pub uid: String,
    pub webhook: WebhookId,
    /// The event's id in the log.
    pub event: u64,
    /// The event's action (`webhook.ping` for a test).
    pub action: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last answer, if one came.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// Which deliveries to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryQuery {
    pub webhook: Option<WebhookId>,
    pub status: Option<DeliveryStatus>,
    /// At most this many (default 50, at most 1,000).
    pub limit: Option<u64>,
}

/// How the server retries: attempt `n` (from 1) that fails waits `base * 2^(n-1)`, at most
/// `cap`, until `attempts` were made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: std::time::Duration,
    pub cap: std::time::Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 10,
            base: std::time::Duration::from_secs(1),
            cap: std::time::Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// How long to wait after the `attempt`-th attempt failed.
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1).min(31))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// A delivery the server took to send now: the body is built and signed in core, so the
/// secret never leaves it.
#[derive(Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: u64,
    pub uid: String,
    /// Which attempt this is (from 1): the outcome names it, so a late answer of an
    /// attempt that another took over is ignored.
    pub attempt: u32,
    pub webhook: WebhookId,
    pub url: String,
    pub action: String,
    /// The JSON body: `{"id", "event", "project", "sent_at"}`.
    pub body: String,
    /// `sha256=<hex HMAC-SHA256 of the body with the secret>`.
    pub signature: String,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("attempt", &self.attempt)
            .field("webhook", &self.webhook)
            .field("url", &self.url)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
}

/// How one attempt went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub delivery: u64,
    pub attempt: u32,
    /// The answer's status, if one came (2xx is success).
    pub status: Option<u16>,
    /// What went wrong: no answer (timeout, refused), or a body excerpt of a non-2xx one.
    pub error: Option<String>,
}

fn server_only() -> crate::Error {
    crate::Error::Forbidden {
        message: "only the server sends webhooks".into(),
        hint: Some("run `baton serve`; it delivers them in the background".into()),
    }
}

pub trait Webhooks {
    /// Adds a webhook; it receives events written from now on.
    fn add_webhook(&self, actor: &str, new: NewWebhook) -> Result<CreatedWebhook>;
    /// The webhooks that are not removed, oldest first, with their delivery counts.
    fn list_webhooks(&self) -> Result<Vec<Webhook>>;
    /// Removes a webhook; its pending deliveries fail (`the webhook was removed`).
    fn remove_webhook(&self, actor: &str, id: WebhookId) -> Result<Webhook>;
    /// Records a `webhook.ping` event and queues it for this webhook alone.
    fn test_webhook(&self, actor: &str, id: WebhookId) -> Result<Delivery>;
    fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<Delivery>>;
    /// Queues the events written since the last call for every webhook that wants them
    /// (at most `limit` events per call); answers how many deliveries it queued. The
    /// server calls it on its own; calling it again changes nothing.
    fn queue_deliveries(&self, limit: u64) -> Result<u64>;

    /// Takes up to `limit` due deliveries to send now, each for `lease` (after which another
    /// may take it again). Only a board in the server's process can.
    fn claim_deliveries(&self, limit: u64, lease: std::time::Duration) -> Result<Vec<DueDelivery>> {
        let _ = (limit, lease);
        Err(server_only())
    }

    /// Records how an attempt went: delivered, retried later by `policy`, or failed.
    fn finish_delivery(&self, outcome: AttemptOutcome, policy: RetryPolicy) -> Result<Delivery> {
        let _ = (outcome, policy);
        Err(server_only())
    }
}
