//! The routes, one file per resource, gathered into one router whose OpenAPI document is
//! built from the same declarations (so a route cannot be missing from the document).

mod board;
mod code;
mod coord;
mod docs;
mod document;
mod events;
mod instance;
mod merges;
mod messages;
mod otlp;
mod plan;
mod runs;
mod tasks;
mod webhooks;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::{AppState, AGENT_HEADER};

/// Largest request body, except batches and imports (a 1 MB doc body, escaped, fits).
pub const BODY_LIMIT: usize = 4 << 20;
/// Largest batch of new tasks or imported board (10,000 tasks fit with room to spare).
pub const BATCH_BODY_LIMIT: usize = 32 << 20;

/// The routes that take whole boards, with the larger limit.
const LARGE_BODY_ROUTES: [&str; 5] = [
    "/api/v1/tasks/batch",
    "/api/v1/log/batch",
    "/api/v1/import",
    "/api/v1/otlp/v1/metrics",
    "/api/v1/otlp/v1/logs",
];

/// The body limit of a path (the router's layers enforce the same limits while reading).
pub fn body_limit(path: &str) -> usize {
    if LARGE_BODY_ROUTES.contains(&path) {
        BATCH_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Baton",
        description = "The coordination layer for many AI coding agents on one codebase: a task \
                       board with atomic pickup, dependencies, leases and file reservations. \
                       Errors are `{\"error\": {\"code\", \"message\", \"hint\"}}`. The acting \
                       agent is named by the `X-Baton-Agent` header; without it a request acts \
                       as `human`. Every route answers only to its own host names: a `Host` \
                       that is not `localhost`, an IP address, or a name given with \
                       `baton serve --allowed-host` gets 403 `host_not_allowed`. A request \
                       body must be sent with `Content-Type: application/json` (parameters \
                       such as `charset` allowed), else 415 `unsupported_media_type`; a write \
                       without a body needs none. Writes (methods other than GET, HEAD, \
                       OPTIONS) that a browser marks as coming from another site \
                       (`Sec-Fetch-Site: cross-site` or `same-site`, or an `Origin` that is \
                       not the request's host, or `null`) get 403 `cross_site_request`; \
                       clients that send neither header are served."
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

/// The routes every project answers, each under its own `/api/v1/projects/{key}` too.
fn project_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(
            tasks::batch_router()
                .merge(messages::import_router())
                .merge(plan::import_router())
                .merge(otlp::router())
                .merge(events::log_batch_router())
                .layer(DefaultBodyLimit::max(BATCH_BODY_LIMIT)),
        )
        .merge(tasks::router())
        .merge(board::router())
        .merge(events::router())
        .merge(coord::router())
        .merge(docs::router())
        .merge(code::router())
        .merge(crate::dashboard::router())
        .merge(messages::router())
        .merge(runs::router())
        .merge(plan::router())
        .merge(merges::router())
        .merge(webhooks::router())
        .merge(instance::project_router())
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
}

/// The OpenAPI document of the whole server.
fn document() -> (Router<AppState>, Arc<serde_json::Value>) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(project_routes())
        .merge(instance::router())
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    (routes, Arc::new(document::complete(doc)))
}

/// The whole application: the default project's routes, the instance's (login, users,
/// projects, tokens), every other project under `/api/v1/projects/{key}`, the OpenAPI
/// document, body limits, metrics, authentication, and JSON errors for unknown routes and
/// panics.
pub fn router(state: AppState) -> Router {
    let (routes, doc) = document();
    let routes = routes
        .layer(axum::Extension(doc))
        .nest_service("/mcp", crate::mcp::service(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authorize,
        ))
        .route(
            "/api/v1/projects/{key}/{*rest}",
            axum::routing::any(crate::projects::dispatch),
        );
    finish(routes, state, true)
}

/// One project's routes (`/api/v1/projects/{key}/...` with the prefix taken off), behind
/// the server's authentication, which has already run.
pub fn project_router(state: AppState) -> Router {
    let (_, doc) = document();
    let (routes, _) = OpenApiRouter::new()
        .merge(project_routes())
        .split_for_parts();
    let routes = routes
        .layer(axum::Extension(doc))
        .nest_service("/mcp", crate::mcp::service(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authorize,
        ));
    finish(routes, state, false)
}

fn finish(routes: Router<AppState>, state: AppState, outer: bool) -> Router {
    let routes = routes
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed);
    let routes = if outer {
        routes
            // Inside the guard: a foreign host is refused before any credential is read.
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::auth::authenticate,
            ))
            // Inside `record`, so refused requests are counted too.
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::guard::check,
            ))
            .layer(axum::middleware::from_fn_with_state(state.clone(), record))
    } else {
        routes
    };
    routes
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(state)
}

/// The acting agent, from the `X-Baton-Agent` header; `human` without one.
pub struct Actor(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let named = match parts.headers.get(AGENT_HEADER) {
            None => None,
            Some(value) => Some(value.to_str().map(|v| v.trim().to_string()).map_err(|_| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    "the X-Baton-Agent header is not valid text",
                )
                .with_hint("agent names are short ASCII names such as claude-1")
            })?),
        };
        match parts.extensions.get::<crate::auth::Caller>() {
            // Team mode: a token bound to an agent fixes who acts; others act as the agent
            // they name, or as their user.
            Some(crate::auth::Caller::Known(known)) => baton_core::auth::acting_as(
                known.principal.bound_agent(),
                &known.principal.user.name,
                named.as_deref(),
            )
            .map(Actor)
            .map_err(ApiError::from),
            _ => Ok(Actor(
                named.unwrap_or_else(|| baton_core::api::HUMAN.to_string()),
            )),
        }
    }
}

/// Documents the agent header on the routes that act for someone.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct AgentHeader {
    /// Who is acting (`claude-1`); absent = `human`. The rules of agent names (up to 64
    /// letters, digits and `. _ - @ : +`; `baton` is reserved) are core's:
    /// `baton_core::board::AGENT_NAME_PATTERN`.
    #[param(rename = "X-Baton-Agent", pattern = "^[A-Za-z0-9._@:+-]{1,64}$")]
    x_baton_agent: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct Health {
    status: &'static str,
    version: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "server", responses((status = 200, body = Health)))]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

#[derive(Serialize, ToSchema)]
struct Ready {
    status: &'static str,
    project: String,
    last_event_id: u64,
}

/// How long `/ready` waits for the writer before calling the store not ready.
const READY_WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Readiness: the store answers a read, and the writer can start a write (a transaction
/// that changes nothing) within a few seconds.
#[utoipa::path(get, path = "/ready", tag = "server",
    responses((status = 200, body = Ready), (status = 503, body = ErrorBody)))]
async fn ready(State(s): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let project = s.readers.run(|api| api.project()).await?;
    match tokio::time::timeout(
        READY_WRITE_TIMEOUT,
        s.writer.run(|api| api.check_writable()),
    )
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(baton_core::Error::Unavailable {
                message: format!("the store cannot take a write: {e}"),
                hint: Some("see the server's log; a restart reopens the store".into()),
            }
            .into())
        }
        Err(_) => {
            return Err(baton_core::Error::Unavailable {
                message: format!(
                    "the writer did not start a write within {}s",
                    READY_WRITE_TIMEOUT.as_secs()
                ),
                hint: Some("the store is locked or overloaded; retry shortly".into()),
            }
            .into())
        }
    }
    Ok(Json(Ready {
        status: "ready",
        project: project.name,
        last_event_id: s.feed.last_id(),
    }))
}

/// Prometheus metrics (text format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, content_type = "text/plain", description = "Prometheus text exposition")))]
async fn metrics(State(s): State<AppState>) -> Response {
    let counts = s.readers.run(|api| api.status_counts()).await.ok();
    let after = s.metrics.log_through();
    let ops = s
        .readers
        .run(move |api| api.operations().stats(after))
        .await
        .ok();
    if let Some(ops) = &ops {
        s.metrics.count_log(after, ops);
    }
    let body = s.metrics.render(
        counts.as_ref(),
        ops.as_ref(),
        &s.writer.stats,
        s.feed.last_id(),
        s.started.elapsed(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "server",
    responses((status = 200, content_type = "application/json", description = "the OpenAPI document")))]
async fn openapi(
    axum::Extension(doc): axum::Extension<Arc<serde_json::Value>>,
) -> Json<serde_json::Value> {
    Json(doc.as_ref().clone())
}

async fn unknown_route(request: Request) -> ApiError {
    ApiError::not_found(request.uri().path())
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    )
    .with_hint("see /api/v1/openapi.json for the methods of each route")
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::from(baton_core::Error::Internal(
        "a request handler panicked".into(),
    ))
    .into_response()
}

/// Counts every answer by method, route template and status, and times it. Every label
/// comes from a fixed set, whatever the client sends.
async fn record(State(s): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = crate::metrics::method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    s.metrics.request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
