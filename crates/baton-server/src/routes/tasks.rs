//! `/api/v1/tasks`: add (one or a batch), list, show, update, delete, pickup and the
//! lifecycle actions. Every rule lives in core; these handlers only translate.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{
    BlockRequest, DeleteRequest, DoneRequest, NewTask, NoteRequest, PickupRequest, RejectRequest,
    TaskFilter, TaskPatch,
};
use baton_core::{InitiativeId, PhaseId, Pickup, Priority, Status, Task, TaskId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiError, ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, add_task))
        .routes(routes!(pickup))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(done))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(block))
        .routes(routes!(unblock))
        .routes(routes!(add_note))
        .routes(routes!(agent_tasks))
        .routes(routes!(lifecycle))
}

/// The status lifecycle as data: which action takes a task from which status to which, and
/// which statuses of a dependency let its dependents go ahead. Clients offer only these.
#[utoipa::path(get, path = "/api/v1/lifecycle", tag = "tasks",
    responses((status = 200, body = baton_core::lifecycle::Lifecycle)))]
async fn lifecycle() -> Json<baton_core::lifecycle::Lifecycle> {
    Json(baton_core::lifecycle::lifecycle())
}

/// The batch route takes larger bodies (10,000 tasks at once).
pub fn batch_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_batch))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Statuses, comma-separated (`open,in-progress`).
    status: Option<String>,
    assignee: Option<String>,
    epic: Option<String>,
    /// P0, P1 or P2.
    priority: Option<String>,
    /// Case-insensitive text in title or description.
    text: Option<String>,
    /// Include deleted tasks.
    include_deleted: Option<bool>,
    /// At most this many tasks; 0 or absent = all.
    limit: Option<u64>,
    /// Tasks of this phase (`P-2`).
    phase: Option<PhaseId>,
    /// Tasks of this initiative (`I-1`).
    initiative: Option<InitiativeId>,
    /// Tasks split from this one (`T-4`).
    parent: Option<TaskId>,
}

impl ListQuery {
    fn filter(self) -> ApiResult<TaskFilter> {
        let status = match self.status {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<Status>())
                .collect::<Result<_, _>>()
                .map_err(baton_core::Error::invalid)?,
        };
        let priority = self
            .priority
            .map(|p| p.parse::<Priority>())
            .transpose()
            .map_err(baton_core::Error::invalid)?;
        Ok(TaskFilter {
            initiative: self.initiative,
            parent: self.parent,
            phase: self.phase,
            status,
            assignee: self.assignee,
            epic: self.epic,
            priority,
            text: self.text,
            include_deleted: self.include_deleted.unwrap_or(false),
            limit: self.limit,
        })
    }
}

/// List tasks, most urgent first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(ListQuery),
    responses((status = 200, body = Vec<Task>), (status = 422, body = ErrorBody)))]
async fn list_tasks(
    State(s): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<Task>>> {
    let filter = q.filter()?;
    Ok(Json(
        s.readers.run(move |api| api.list_tasks(&filter)).await?,
    ))
}

/// Add one task.
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = NewTask,
    params(super::AgentHeader),
    responses((status = 201, body = Task), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_task(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(task): Body<NewTask>,
) -> ApiResult<(StatusCode, Json<Task>)> {
    let mut added = s
        .writer
        .run(move |api| api.add_tasks(&actor, vec![task]))
        .await?;
    let task = added
        .pop()
        .ok_or_else(|| ApiError::from(baton_core::Error::Internal("no task was added".into())))?;
    Ok((StatusCode::CREATED, Json(task)))
}

/// Query of the batch route.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Check the batch and answer the tasks it would create (200), writing nothing.
    dry_run: Option<bool>,
}

/// Add tasks all at once, or none: `key` names a task so others in the batch can list it
/// in `depends_on`. A mistake names the task (its place and title) and the field.
#[utoipa::path(post, path = "/api/v1/tasks/batch", tag = "tasks", request_body = Vec<NewTask>,
    params(super::AgentHeader, BatchQuery),
    responses((status = 201, body = Vec<Task>), (status = 200, body = Vec<Task>,
        description = "dry run: the tasks the batch would create, not written"),
        (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_batch(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Query(query): Query<BatchQuery>,
    Body(body): Body<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<Vec<Task>>)> {
    let tasks = baton_core::api::batch_from_value(body)?;
    if query.dry_run == Some(true) {
        let checked = s
            .writer
            .run(move |api| api.check_tasks(&actor, tasks))
            .await?;
        return Ok((StatusCode::OK, Json(checked)));
    }
    let added = s
        .writer
        .run(move |api| api.add_tasks(&actor, tasks))
        .await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Claim the best ready task (or `id`): one atomic step that assigns it, takes its lease,
/// reserves its files and records the event. 404 `no_task_ready` when nothing is ready.
#[utoipa::path(post, path = "/api/v1/tasks/pickup", tag = "tasks", request_body = PickupRequest,
    params(super::AgentHeader),
    responses((status = 200, body = Pickup), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn pickup(
    State(s): State<AppState>,
    Actor(agent): Actor,
    Body(request): Body<PickupRequest>,
) -> ApiResult<Json<Pickup>> {
    let result = s.writer.run(move |api| api.pickup(&agent, &request)).await;
    s.metrics.pickup(result.is_ok());
    Ok(Json(result?))
}

/// One task with its notes and dependencies.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = TaskId, Path, description = "T-12")),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody)))]
async fn get_task(State(s): State<AppState>, Path(id): Path<TaskId>) -> ApiResult<Json<Task>> {
    Ok(Json(s.readers.run(move |api| api.get_task(id)).await?))
}

/// Change fields; `status` moves follow the lifecycle.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = TaskPatch,
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_task(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
    Body(patch): Body<TaskPatch>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer
            .run(move |api| api.update_task(&actor, id, patch))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    reason: Option<String>,
    /// Delete even while an agent holds the task.
    force: Option<bool>,
}

/// Soft-delete a task (recorded; dependents stop waiting on it).
#[utoipa::path(delete, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = TaskId, Path, description = "T-12"), DeleteQuery, super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_task(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
    Query(q): Query<DeleteQuery>,
) -> ApiResult<Json<Task>> {
    let request = DeleteRequest {
        reason: q.reason,
        force: q.force.unwrap_or(false),
    };
    Ok(Json(
        s.writer
            .run(move |api| api.delete(&actor, id, request))
            .await?,
    ))
}

/// The holder hands the task in for review (in-progress -> review).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/done", tag = "tasks", request_body = DoneRequest,
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn done(
    State(s): State<AppState>,
    Actor(agent): Actor,
    Path(id): Path<TaskId>,
    Body(request): Body<DoneRequest>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer
            .run(move |api| api.done(&agent, id, request))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveRequest {
    #[serde(default)]
    notes: Option<String>,
}

/// Accept reviewed work (review -> done).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/approve", tag = "tasks", request_body = ApproveRequest,
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
    Body(request): Body<ApproveRequest>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer
            .run(move |api| api.approve(&actor, id, request.notes))
            .await?,
    ))
}

/// Send reviewed work back, with feedback.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reject", tag = "tasks", request_body = RejectRequest,
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reject(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
    Body(request): Body<RejectRequest>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer
            .run(move |api| api.reject(&actor, id, request))
            .await?,
    ))
}

/// Mark a task blocked, with the reason.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/block", tag = "tasks", request_body = BlockRequest,
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn block(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
    Body(request): Body<BlockRequest>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer
            .run(move |api| api.block(&actor, id, request))
            .await?,
    ))
}

/// Return a blocked task to the queue.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/unblock", tag = "tasks",
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn unblock(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer.run(move |api| api.unblock(&actor, id)).await?,
    ))
}

/// Append a note (author and time are recorded).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/notes", tag = "tasks", request_body = NoteRequest,
    params(("id" = TaskId, Path, description = "T-12"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn add_note(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<TaskId>,
    Body(request): Body<NoteRequest>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer
            .run(move |api| api.note(&actor, id, request))
            .await?,
    ))
}

/// The tasks an agent holds (`baton task mine`).
#[utoipa::path(get, path = "/api/v1/agents/{name}/tasks", tag = "agents",
    params(("name" = String, Path, description = "agent name (not `human`)",
        pattern = "^[A-Za-z0-9._@:+-]{1,64}$")),
    responses((status = 200, body = Vec<Task>), (status = 422, body = ErrorBody)))]
async fn agent_tasks(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<Task>>> {
    // Renews the agent's leases, like any call by it: a write.
    Ok(Json(s.writer.run(move |api| api.mine(&name)).await?))
}
