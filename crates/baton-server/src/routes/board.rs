//! `/api/v1/project`, `/api/v1/board`, `/api/v1/agents`: what the board looks like.

use axum::extract::State;
use axum::Json;
use baton_core::{Agent, BoardSummary, Project};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(project))
        .routes(routes!(board))
        .routes(routes!(agents))
}

/// The project's name and creation time.
#[utoipa::path(get, path = "/api/v1/project", tag = "board",
    responses((status = 200, body = Project), (status = 503, body = ErrorBody)))]
async fn project(State(s): State<AppState>) -> ApiResult<Json<Project>> {
    Ok(Json(s.readers.run(|api| api.project()).await?))
}

/// Counts by status, blocked tasks and why, agents and what they hold, stale leases.
#[utoipa::path(get, path = "/api/v1/board", tag = "board",
    responses((status = 200, body = BoardSummary), (status = 503, body = ErrorBody)))]
async fn board(State(s): State<AppState>) -> ApiResult<Json<BoardSummary>> {
    Ok(Json(s.readers.run(|api| api.board()).await?))
}

/// Agents seen on this board (they appear on first use) and the tasks they hold.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = Vec<Agent>), (status = 503, body = ErrorBody)))]
async fn agents(State(s): State<AppState>) -> ApiResult<Json<Vec<Agent>>> {
    Ok(Json(s.readers.run(|api| api.agents()).await?))
}
