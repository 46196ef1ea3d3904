//! `/api/v1/webhooks`: URLs the server POSTs chosen events to (a maintainer's to manage),
//! and how their deliveries went. The server sends them itself ([`crate::webhooks`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{
    CreatedWebhook, Delivery, DeliveryQuery, DeliveryStatus, NewWebhook, Webhook,
};
use baton_core::{Error, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_webhook, list_webhooks))
        .routes(routes!(remove_webhook))
        .routes(routes!(test_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(queue_deliveries))
}

/// Add a webhook: the server POSTs the events it selects, from now on, signed with its
/// secret (`X-Baton-Signature: sha256=<HMAC-SHA256 of the body>`). Without a secret one is
/// generated and answered this once; a secret is never shown again.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    params(super::AgentHeader),
    responses((status = 201, body = CreatedWebhook), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn add_webhook(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let created = s
        .writer
        .run(move |api| api.webhooks().add_webhook(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The webhooks, oldest first, with counts of their deliveries and the last error.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = ErrorBody)))]
async fn list_webhooks(State(s): State<AppState>) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(
        s.readers.run(|api| api.webhooks().list_webhooks()).await?,
    ))
}

/// Remove a webhook: nothing more is sent to it; its pending deliveries fail.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = WebhookId, Path, description = "WH-3"), super::AgentHeader),
    responses((status = 200, body = Webhook), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn remove_webhook(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<WebhookId>,
) -> ApiResult<Json<Webhook>> {
    Ok(Json(
        s.writer
            .run(move |api| api.webhooks().remove_webhook(&actor, id))
            .await?,
    ))
}

/// Send a `webhook.ping` event to this webhook alone (queued; see its delivery).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks",
    params(("id" = WebhookId, Path, description = "WH-3"), super::AgentHeader),
    responses((status = 201, body = Delivery), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn test_webhook(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<WebhookId>,
) -> ApiResult<(StatusCode, Json<Delivery>)> {
    let delivery = s
        .writer
        .run(move |api| api.webhooks().test_webhook(&actor, id))
        .await?;
    Ok((StatusCode::CREATED, Json(delivery)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Only this webhook's (`WH-3`).
    webhook: Option<WebhookId>,
    /// `pending`, `delivered` or `failed`.
    status: Option<String>,
    /// At most this many (default 50, at most 1,000).
    limit: Option<u64>,
}

/// Deliveries, newest first: attempts, the last answer's status, the last error.
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "webhooks",
    params(DeliveriesQuery),
    responses((status = 200, body = Vec<Delivery>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn list_deliveries(
    State(s): State<AppState>,
    Query(q): Query<DeliveriesQuery>,
) -> ApiResult<Json<Vec<Delivery>>> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(text) => Some(DeliveryStatus::parse(text.trim()).ok_or_else(|| {
            Error::invalid_with_hint(
                format!("{text:?} is not a delivery status"),
                "statuses: pending, delivered, failed",
            )
        })?),
    };
    let query = DeliveryQuery {
        webhook: q.webhook,
        status,
        limit: q.limit,
    };
    Ok(Json(
        s.readers
            .run(move |api| api.webhooks().deliveries(&query))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueRequest {
    /// At most this many events are looked at (default 1,000).
    #[serde(default)]
    limit: Option<u64>,
}

/// Queue deliveries for the events written since the last time, now rather than at the
/// server's next step. Answers how many were queued; calling it again changes nothing.
#[utoipa::path(post, path = "/api/v1/webhooks/queue", tag = "webhooks",
    request_body = QueueRequest,
    responses((status = 200, body = u64, content_type = "application/json",
        description = "how many deliveries were queued"), (status = 403, body = ErrorBody)))]
async fn queue_deliveries(
    State(s): State<AppState>,
    Body(request): Body<QueueRequest>,
) -> ApiResult<Json<u64>> {
    let limit = request.limit.unwrap_or(1_000);
    Ok(Json(
        s.writer
            .run(move |api| api.webhooks().queue_deliveries(limit))
            .await?,
    ))
}
