//! Coordination: settings, heartbeats, file reservations, path checks, the commit guard
//! and file changes reported by watchers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{
    FileChange, FileChangeReport, GuardReport, HeartbeatRequest, ReleaseRequest, ReservationFilter,
    ReserveRequest,
};
use baton_core::{Heartbeat, LostTask, PathCheck, Reservation, Setting};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(settings))
        .routes(routes!(set_setting))
        .routes(routes!(heartbeat))
        .routes(routes!(lost_tasks))
        .routes(routes!(reservations, reserve))
        .routes(routes!(release))
        .routes(routes!(check))
        .routes(routes!(guard))
        .routes(routes!(file_changes))
}

/// Project settings (`lease_ttl`, `max_retries`) with their values and whether default.
#[utoipa::path(get, path = "/api/v1/settings", tag = "coordination",
    responses((status = 200, body = Vec<Setting>)))]
async fn settings(State(s): State<AppState>) -> ApiResult<Json<Vec<Setting>>> {
    Ok(Json(s.readers.run(|api| api.settings()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingValue {
    /// `30m` for lease_ttl, `3` for max_retries.
    value: String,
}

/// Change a setting (checked and recorded).
#[utoipa::path(put, path = "/api/v1/settings/{key}", tag = "coordination", request_body = SettingValue,
    params(("key" = String, Path, description = "lease_ttl or max_retries"), super::AgentHeader),
    responses((status = 200, body = Setting), (status = 422, body = ErrorBody)))]
async fn set_setting(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(key): Path<String>,
    Body(body): Body<SettingValue>,
) -> ApiResult<Json<Setting>> {
    Ok(Json(
        s.writer
            .run(move |api| api.set_setting(&actor, &key, &body.value))
            .await?,
    ))
}

/// Renew the caller's leases and reservations; with `task` and `fence`, check that claim.
#[utoipa::path(post, path = "/api/v1/heartbeat", tag = "coordination", request_body = HeartbeatRequest,
    params(super::AgentHeader),
    responses((status = 200, body = Heartbeat), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn heartbeat(
    State(s): State<AppState>,
    Actor(agent): Actor,
    Body(request): Body<HeartbeatRequest>,
) -> ApiResult<Json<Heartbeat>> {
    Ok(Json(
        s.writer
            .run(move |api| api.heartbeat(&agent, &request))
            .await?,
    ))
}

/// The tasks taken from the caller (an expired lease, a rejection, a person moving it, a
/// block, a delete) that it has not been told of yet; each is told once.
#[utoipa::path(post, path = "/api/v1/lost-tasks", tag = "coordination",
    params(super::AgentHeader),
    responses((status = 200, body = Vec<LostTask>), (status = 422, body = ErrorBody)))]
async fn lost_tasks(
    State(s): State<AppState>,
    Actor(agent): Actor,
) -> ApiResult<Json<Vec<LostTask>>> {
    Ok(Json(s.writer.run(move |api| api.lost_tasks(&agent)).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReservationsQuery {
    /// Only this holder's.
    agent: Option<String>,
    /// Only those that cover this path.
    path: Option<String>,
}

/// Live reservations.
#[utoipa::path(get, path = "/api/v1/reservations", tag = "coordination", params(ReservationsQuery),
    responses((status = 200, body = Vec<Reservation>), (status = 422, body = ErrorBody)))]
async fn reservations(
    State(s): State<AppState>,
    Query(q): Query<ReservationsQuery>,
) -> ApiResult<Json<Vec<Reservation>>> {
    let filter = ReservationFilter {
        agent: q.agent,
        path: q.path,
    };
    Ok(Json(
        s.readers.run(move |api| api.reservations(&filter)).await?,
    ))
}

/// Reserve globs, all or none; 409 `reservation_conflict` names the holder.
#[utoipa::path(post, path = "/api/v1/reservations", tag = "coordination", request_body = ReserveRequest,
    params(super::AgentHeader),
    responses((status = 201, body = Vec<Reservation>), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn reserve(
    State(s): State<AppState>,
    Actor(agent): Actor,
    Body(request): Body<ReserveRequest>,
) -> ApiResult<(StatusCode, Json<Vec<Reservation>>)> {
    let made = s
        .writer
        .run(move |api| api.reserve(&agent, request))
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Release the caller's reservations (by glob, or `all`).
#[utoipa::path(post, path = "/api/v1/reservations/release", tag = "coordination", request_body = ReleaseRequest,
    params(super::AgentHeader),
    responses((status = 200, body = Vec<Reservation>), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn release(
    State(s): State<AppState>,
    Actor(agent): Actor,
    Body(request): Body<ReleaseRequest>,
) -> ApiResult<Json<Vec<Reservation>>> {
    Ok(Json(
        s.writer
            .run(move |api| api.release(&agent, request))
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathsRequest {
    /// Project-relative paths.
    paths: Vec<String>,
}

/// Who holds which of these paths.
#[utoipa::path(post, path = "/api/v1/reservations/check", tag = "coordination", request_body = PathsRequest,
    responses((status = 200, body = Vec<PathCheck>), (status = 422, body = ErrorBody)))]
async fn check(
    State(s): State<AppState>,
    Body(request): Body<PathsRequest>,
) -> ApiResult<Json<Vec<PathCheck>>> {
    Ok(Json(
        s.readers
            .run(move |api| api.check_paths(&request.paths))
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardRequest {
    /// Who commits; absent means every holder is someone else.
    #[serde(default)]
    committer: Option<String>,
    paths: Vec<String>,
}

/// The commit guard: 409 `reservation_conflict` when another agent holds an exclusive
/// reservation on a path.
#[utoipa::path(post, path = "/api/v1/guard", tag = "coordination", request_body = GuardRequest,
    responses((status = 200, body = GuardReport), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn guard(
    State(s): State<AppState>,
    Body(request): Body<GuardRequest>,
) -> ApiResult<Json<GuardReport>> {
    Ok(Json(
        s.readers
            .run(move |api| api.guard(request.committer.as_deref(), &request.paths))
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileChangesRequest {
    /// Who made the changes, when known.
    #[serde(default)]
    editor: Option<String>,
    changes: Vec<FileChange>,
}

/// Record file changes seen by a watcher; reports edits to files others reserved.
#[utoipa::path(post, path = "/api/v1/file-changes", tag = "coordination", request_body = FileChangesRequest,
    responses((status = 200, body = Vec<FileChangeReport>), (status = 422, body = ErrorBody)))]
async fn file_changes(
    State(s): State<AppState>,
    Body(request): Body<FileChangesRequest>,
) -> ApiResult<Json<Vec<FileChangeReport>>> {
    Ok(Json(
        s.writer
            .run(move |api| api.record_changes(request.editor.as_deref(), &request.changes))
            .await?,
    ))
}
