//! `/api/v1/initiatives`, `/api/v1/phases` and `/api/v1/comments`: the plan above tasks,
//! its review gates and review comments. The rules are core's; these only carry them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{
    CommentFilter, InitiativeFilter, InitiativeMove, InitiativePatch, NewComment, NewInitiative,
    NewPage, NewPhase, NewProposal, PhaseMoveRequest, PhaseOutcome, PhasePatch, ProposalDecision,
    ProposalFilter,
};
use baton_core::model::{
    Initiative, InitiativeStatus, Page, Phase, Proposal, ProposalStatus, ReviewComment,
};
use baton_core::{CommentId, InitiativeId, PhaseId, ProposalId, TaskId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_initiative, list_initiatives))
        .routes(routes!(get_initiative, update_initiative))
        .routes(routes!(approve_initiative))
        .routes(routes!(archive_initiative))
        .routes(routes!(reopen_initiative))
        .routes(routes!(create_phase, list_phases))
        .routes(routes!(get_phase, update_phase))
        .routes(routes!(move_phase))
        .routes(routes!(add_comment, list_comments))
        .routes(routes!(resolve_comment))
        .routes(routes!(add_page))
        .routes(routes!(list_pages))
        .routes(routes!(propose, list_proposals))
        .routes(routes!(get_proposal))
        .routes(routes!(decide_proposal))
}

/// Create an initiative (a feature: phases of tasks, a branch).
#[utoipa::path(post, path = "/api/v1/initiatives", tag = "plan", request_body = NewInitiative,
    params(super::AgentHeader),
    responses((status = 201, body = Initiative), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_initiative(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewInitiative>,
) -> ApiResult<(StatusCode, Json<Initiative>)> {
    let created = s
        .writer
        .run(move |api| api.plan().create_initiative(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InitiativesQuery {
    /// Only initiatives in this status.
    status: Option<InitiativeStatus>,
}

/// Initiatives, oldest first, with their phases' progress.
#[utoipa::path(get, path = "/api/v1/initiatives", tag = "plan", params(InitiativesQuery),
    responses((status = 200, body = Vec<Initiative>), (status = 422, body = ErrorBody)))]
async fn list_initiatives(
    State(s): State<AppState>,
    Query(q): Query<InitiativesQuery>,
) -> ApiResult<Json<Vec<Initiative>>> {
    let filter = InitiativeFilter { status: q.status };
    Ok(Json(
        s.readers
            .run(move |api| api.plan().list_initiatives(&filter))
            .await?,
    ))
}

/// One initiative.
#[utoipa::path(get, path = "/api/v1/initiatives/{id}", tag = "plan",
    params(("id" = InitiativeId, Path, description = "I-1")),
    responses((status = 200, body = Initiative), (status = 404, body = ErrorBody)))]
async fn get_initiative(
    State(s): State<AppState>,
    Path(id): Path<InitiativeId>,
) -> ApiResult<Json<Initiative>> {
    Ok(Json(
        s.readers
            .run(move |api| api.plan().get_initiative(id))
            .await?,
    ))
}

/// Change an initiative's name, description, approval rule or repositories.
#[utoipa::path(patch, path = "/api/v1/initiatives/{id}", tag = "plan",
    request_body = InitiativePatch,
    params(("id" = InitiativeId, Path, description = "I-1"), super::AgentHeader),
    responses((status = 200, body = Initiative), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_initiative(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<InitiativeId>,
    Body(patch): Body<InitiativePatch>,
) -> ApiResult<Json<Initiative>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().update_initiative(&actor, id, patch))
            .await?,
    ))
}

async fn move_initiative(
    s: AppState,
    actor: String,
    id: InitiativeId,
    to: InitiativeMove,
) -> ApiResult<Json<Initiative>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().move_initiative(&actor, id, to))
            .await?,
    ))
}

/// Accept an initiative whose phases are all completed (pending_review -> completed).
#[utoipa::path(post, path = "/api/v1/initiatives/{id}/approve", tag = "plan",
    params(("id" = InitiativeId, Path, description = "I-1"), super::AgentHeader),
    responses((status = 200, body = Initiative), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn approve_initiative(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<InitiativeId>,
) -> ApiResult<Json<Initiative>> {
    move_initiative(s, actor, id, InitiativeMove::Approve).await
}

/// Shelve an initiative: its tasks are no longer handed out.
#[utoipa::path(post, path = "/api/v1/initiatives/{id}/archive", tag = "plan",
    params(("id" = InitiativeId, Path, description = "I-1"), super::AgentHeader),
    responses((status = 200, body = Initiative), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn archive_initiative(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<InitiativeId>,
) -> ApiResult<Json<Initiative>> {
    move_initiative(s, actor, id, InitiativeMove::Archive).await
}

/// Bring an archived or completed initiative back to active.
#[utoipa::path(post, path = "/api/v1/initiatives/{id}/reopen", tag = "plan",
    params(("id" = InitiativeId, Path, description = "I-1"), super::AgentHeader),
    responses((status = 200, body = Initiative), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn reopen_initiative(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<InitiativeId>,
) -> ApiResult<Json<Initiative>> {
    move_initiative(s, actor, id, InitiativeMove::Reopen).await
}

/// Create a phase in an initiative, with the phases it depends on.
#[utoipa::path(post, path = "/api/v1/phases", tag = "plan", request_body = NewPhase,
    params(super::AgentHeader),
    responses((status = 201, body = Phase), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_phase(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewPhase>,
) -> ApiResult<(StatusCode, Json<Phase>)> {
    let created = s
        .writer
        .run(move |api| api.plan().create_phase(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PhasesQuery {
    /// Only this initiative's phases, in order.
    initiative: Option<InitiativeId>,
}

/// Phases with their gates, task counts and open comments.
#[utoipa::path(get, path = "/api/v1/phases", tag = "plan", params(PhasesQuery),
    responses((status = 200, body = Vec<Phase>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn list_phases(
    State(s): State<AppState>,
    Query(q): Query<PhasesQuery>,
) -> ApiResult<Json<Vec<Phase>>> {
    Ok(Json(
        s.readers
            .run(move |api| api.plan().list_phases(q.initiative))
            .await?,
    ))
}

/// One phase.
#[utoipa::path(get, path = "/api/v1/phases/{id}", tag = "plan",
    params(("id" = PhaseId, Path, description = "P-2")),
    responses((status = 200, body = Phase), (status = 404, body = ErrorBody)))]
async fn get_phase(State(s): State<AppState>, Path(id): Path<PhaseId>) -> ApiResult<Json<Phase>> {
    Ok(Json(
        s.readers.run(move |api| api.plan().get_phase(id)).await?,
    ))
}

/// Change a phase's name, content or dependencies (a cycle is refused, named).
#[utoipa::path(patch, path = "/api/v1/phases/{id}", tag = "plan", request_body = PhasePatch,
    params(("id" = PhaseId, Path, description = "P-2"), super::AgentHeader),
    responses((status = 200, body = Phase), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_phase(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<PhaseId>,
    Body(patch): Body<PhasePatch>,
) -> ApiResult<Json<Phase>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().update_phase(&actor, id, patch))
            .await?,
    ))
}

/// A reviewer's move on a phase: approve (its plan, or its finished work), request
/// changes (adds a revision task holding the comments), block, unblock.
#[utoipa::path(post, path = "/api/v1/phases/{id}/move", tag = "plan",
    request_body = PhaseMoveRequest,
    params(("id" = PhaseId, Path, description = "P-2"), super::AgentHeader),
    responses((status = 200, body = PhaseOutcome), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn move_phase(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<PhaseId>,
    Body(request): Body<PhaseMoveRequest>,
) -> ApiResult<Json<PhaseOutcome>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().move_phase(&actor, id, request))
            .await?,
    ))
}

/// Comment on a line of a phase's or task's changes, or answer a comment.
#[utoipa::path(post, path = "/api/v1/comments", tag = "plan", request_body = NewComment,
    params(super::AgentHeader),
    responses((status = 201, body = ReviewComment), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_comment(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewComment>,
) -> ApiResult<(StatusCode, Json<ReviewComment>)> {
    let created = s
        .writer
        .run(move |api| api.plan().add_comment(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommentsQuery {
    phase: Option<PhaseId>,
    task: Option<TaskId>,
    /// Only unresolved threads.
    open: Option<bool>,
}

/// Review comments and their replies, oldest first.
#[utoipa::path(get, path = "/api/v1/comments", tag = "plan", params(CommentsQuery),
    responses((status = 200, body = Vec<ReviewComment>), (status = 422, body = ErrorBody)))]
async fn list_comments(
    State(s): State<AppState>,
    Query(q): Query<CommentsQuery>,
) -> ApiResult<Json<Vec<ReviewComment>>> {
    let filter = CommentFilter {
        phase: q.phase,
        task: q.task,
        open: q.open.unwrap_or(false),
    };
    Ok(Json(
        s.readers
            .run(move |api| api.plan().list_comments(&filter))
            .await?,
    ))
}

/// Whether a thread is resolved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    resolved: bool,
}

/// Resolve (or reopen) a comment thread.
#[utoipa::path(post, path = "/api/v1/comments/{id}/resolve", tag = "plan",
    request_body = Resolution,
    params(("id" = CommentId, Path, description = "C-3"), super::AgentHeader),
    responses((status = 200, body = ReviewComment), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn resolve_comment(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<CommentId>,
    Body(r): Body<Resolution>,
) -> ApiResult<Json<ReviewComment>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().resolve_comment(&actor, id, r.resolved))
            .await?,
    ))
}

/// Add a page to an initiative's tree (the first page is its root). A page is a doc: read,
/// change and search it with the docs routes.
#[utoipa::path(post, path = "/api/v1/pages", tag = "plan", request_body = NewPage,
    params(super::AgentHeader),
    responses((status = 201, body = Page), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn add_page(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewPage>,
) -> ApiResult<(StatusCode, Json<Page>)> {
    let created = s
        .writer
        .run(move |api| api.plan().add_page(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// An initiative's pages, root first, each followed by its children.
#[utoipa::path(get, path = "/api/v1/initiatives/{id}/pages", tag = "plan",
    params(("id" = InitiativeId, Path, description = "I-1")),
    responses((status = 200, body = Vec<Page>), (status = 404, body = ErrorBody)))]
async fn list_pages(
    State(s): State<AppState>,
    Path(id): Path<InitiativeId>,
) -> ApiResult<Json<Vec<Page>>> {
    Ok(Json(
        s.readers.run(move |api| api.plan().list_pages(id)).await?,
    ))
}

/// Propose a change to the plan (a page, a phase, tasks, or a whole plan) for a person to
/// accept or dismiss. Content that does not fit its target is refused now.
#[utoipa::path(post, path = "/api/v1/proposals", tag = "plan", request_body = NewProposal,
    params(super::AgentHeader),
    responses((status = 201, body = Proposal), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn propose(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewProposal>,
) -> ApiResult<(StatusCode, Json<Proposal>)> {
    let created = s
        .writer
        .run(move |api| api.plan().propose(&actor, new))
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProposalsQuery {
    initiative: Option<InitiativeId>,
    /// pending, accepted or dismissed.
    status: Option<ProposalStatus>,
}

/// Proposals, oldest first.
#[utoipa::path(get, path = "/api/v1/proposals", tag = "plan", params(ProposalsQuery),
    responses((status = 200, body = Vec<Proposal>), (status = 422, body = ErrorBody)))]
async fn list_proposals(
    State(s): State<AppState>,
    Query(q): Query<ProposalsQuery>,
) -> ApiResult<Json<Vec<Proposal>>> {
    let filter = ProposalFilter {
        initiative: q.initiative,
        status: q.status,
    };
    Ok(Json(
        s.readers
            .run(move |api| api.plan().list_proposals(&filter))
            .await?,
    ))
}

/// One proposal.
#[utoipa::path(get, path = "/api/v1/proposals/{id}", tag = "plan",
    params(("id" = ProposalId, Path, description = "PR-1")),
    responses((status = 200, body = Proposal), (status = 404, body = ErrorBody)))]
async fn get_proposal(
    State(s): State<AppState>,
    Path(id): Path<ProposalId>,
) -> ApiResult<Json<Proposal>> {
    Ok(Json(
        s.readers
            .run(move |api| api.plan().get_proposal(id))
            .await?,
    ))
}

/// Accept a proposal (applied all or nothing, every created row an event) or dismiss it.
#[utoipa::path(post, path = "/api/v1/proposals/{id}/decide", tag = "plan",
    request_body = ProposalDecision,
    params(("id" = ProposalId, Path, description = "PR-1"), super::AgentHeader),
    responses((status = 200, body = Proposal), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_proposal(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<ProposalId>,
    Body(decision): Body<ProposalDecision>,
) -> ApiResult<Json<Proposal>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().decide_proposal(&actor, id, decision))
            .await?,
    ))
}

/// The plan import, under the larger body limit of whole-board imports.
pub fn import_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_plan))
}

/// Bring a plan read from another tool (Codewalkers) over, all or nothing; a second import
/// of the same source adds only what is new.
#[utoipa::path(post, path = "/api/v1/import/plan", tag = "plan",
    request_body = baton_core::api::ImportedPlan, params(super::AgentHeader),
    responses((status = 200, body = baton_core::api::PlanImportReport),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn import_plan(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(plan): Body<baton_core::api::ImportedPlan>,
) -> ApiResult<Json<baton_core::api::PlanImportReport>> {
    Ok(Json(
        s.writer
            .run(move |api| api.plan().import_plan(&actor, plan))
            .await?,
    ))
}
