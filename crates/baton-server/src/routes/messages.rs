//! `/api/v1/messages`: questions between agents and people, answers, threads; and
//! `/api/v1/import`, bringing another tool's board over.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{AnswerRequest, AskRequest, ImportReport, ImportedBoard, InboxRequest};
use baton_core::{Message, MessageId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ask, all_messages))
        .routes(routes!(inbox))
        .routes(routes!(answer))
        .routes(routes!(thread))
}

/// Takes whole boards, so it shares the batch body limit.
pub fn import_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_board))
}

/// Ask an agent, a task's holder (`T-3`), `human`, or `any`; with `task` and no `to`, the
/// agent that worked on the task last. Every message is an event, so the asker can wait on
/// the event stream for the answer.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", request_body = AskRequest,
    params(super::AgentHeader),
    responses((status = 201, body = Message), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ask(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(request): Body<AskRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let asked = s.writer.run(move |api| api.ask(&actor, request)).await?;
    Ok((StatusCode::CREATED, Json(asked)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// The newest this many (still oldest first); absent or 0 = all.
    limit: Option<u64>,
}

/// Every message on the board, whoever it is between (questions between agents too),
/// oldest first. A read: it delivers nothing to anyone.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages",
    params(MessagesQuery),
    responses((status = 200, body = Vec<Message>), (status = 422, body = ErrorBody)))]
async fn all_messages(
    State(s): State<AppState>,
    Query(q): Query<MessagesQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    Ok(Json(s.readers.run(move |api| api.messages(q.limit)).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Every message to you, answered and delivered ones too (delivers nothing).
    all: Option<bool>,
    /// Only answers to this message.
    reply_to: Option<MessageId>,
    /// Absent or 0 = all.
    limit: Option<u64>,
}

/// Open questions to the caller and answers not yet delivered (which this delivers).
#[utoipa::path(get, path = "/api/v1/messages/inbox", tag = "messages",
    params(InboxQuery, super::AgentHeader),
    responses((status = 200, body = Vec<Message>), (status = 422, body = ErrorBody)))]
async fn inbox(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Query(q): Query<InboxQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let request = InboxRequest {
        all: q.all.unwrap_or(false),
        reply_to: q.reply_to,
        limit: q.limit,
    };
    // Delivering answers marks them read: a write.
    Ok(Json(
        s.writer.run(move |api| api.inbox(&actor, &request)).await?,
    ))
}

/// Answer a message; the answer goes to whoever asked, in the same thread.
#[utoipa::path(post, path = "/api/v1/messages/{id}/answer", tag = "messages", request_body = AnswerRequest,
    params(("id" = MessageId, Path, description = "M-4"), super::AgentHeader),
    responses((status = 201, body = Message), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn answer(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<MessageId>,
    Body(request): Body<AnswerRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let answered = s
        .writer
        .run(move |api| api.answer(&actor, id, request))
        .await?;
    Ok((StatusCode::CREATED, Json(answered)))
}

/// A whole conversation: the question and every answer, in order.
#[utoipa::path(get, path = "/api/v1/messages/{id}/thread", tag = "messages",
    params(("id" = MessageId, Path, description = "M-4")),
    responses((status = 200, body = Vec<Message>), (status = 404, body = ErrorBody)))]
async fn thread(
    State(s): State<AppState>,
    Path(id): Path<MessageId>,
) -> ApiResult<Json<Vec<Message>>> {
    Ok(Json(s.readers.run(move |api| api.thread(id)).await?))
}

/// Import a board read from another tool (the CLI reads codepakt files and sends them
/// here). Importing the same board again adds nothing.
#[utoipa::path(post, path = "/api/v1/import", tag = "import", request_body = ImportedBoard,
    params(super::AgentHeader),
    responses((status = 200, body = ImportReport), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_board(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(board): Body<ImportedBoard>,
) -> ApiResult<Json<ImportReport>> {
    Ok(Json(
        s.writer
            .run(move |api| api.import_board(&actor, board))
            .await?,
    ))
}
