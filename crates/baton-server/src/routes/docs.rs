//! `/api/v1/docs`: the knowledge base. Updates keep every version; search is ranked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{DocFilter, DocPatch, DocSearch, NewDoc};
use baton_core::{Doc, DocHit, DocId, DocSummary, DocType, DocVersion, TaskId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_docs, write_doc))
        .routes(routes!(search_docs))
        .routes(routes!(get_doc, update_doc, delete_doc))
        .routes(routes!(doc_history))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// operational, decision, reference, learning or review.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<DocType>,
    tag: Option<String>,
    /// Docs linked to this task, or named in its context_refs.
    task: Option<TaskId>,
    include_deleted: Option<bool>,
    /// Absent or 0 = all.
    limit: Option<u64>,
}

/// Docs, newest first, without their bodies.
#[utoipa::path(get, path = "/api/v1/docs", tag = "docs", params(ListQuery),
    responses((status = 200, body = Vec<DocSummary>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn list_docs(
    State(s): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<DocSummary>>> {
    let filter = DocFilter {
        kind: q.kind,
        tag: q.tag,
        task: q.task,
        include_deleted: q.include_deleted.unwrap_or(false),
        limit: q.limit,
    };
    Ok(Json(
        s.readers.run(move |api| api.list_docs(&filter)).await?,
    ))
}

/// Write a doc (the author defaults to the acting agent). Bodies up to 1 MB.
#[utoipa::path(post, path = "/api/v1/docs", tag = "docs", request_body = NewDoc,
    params(super::AgentHeader),
    responses((status = 201, body = Doc), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn write_doc(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(doc): Body<NewDoc>,
) -> ApiResult<(StatusCode, Json<Doc>)> {
    let doc = s.writer.run(move |api| api.write_doc(&actor, doc)).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The words to look for.
    q: String,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<DocType>,
    /// Default 10.
    limit: Option<u64>,
}

/// Full-text search, most relevant first, with a snippet per hit.
#[utoipa::path(get, path = "/api/v1/docs/search", tag = "docs", params(SearchQuery),
    responses((status = 200, body = Vec<DocHit>), (status = 422, body = ErrorBody)))]
async fn search_docs(
    State(s): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Vec<DocHit>>> {
    let search = DocSearch {
        query: q.q,
        kind: q.kind,
        limit: q.limit,
    };
    Ok(Json(
        s.readers.run(move |api| api.search_docs(&search)).await?,
    ))
}

/// One doc with its body, tags and linked tasks.
#[utoipa::path(get, path = "/api/v1/docs/{id}", tag = "docs",
    params(("id" = DocId, Path, description = "D-3")),
    responses((status = 200, body = Doc), (status = 404, body = ErrorBody)))]
async fn get_doc(State(s): State<AppState>, Path(id): Path<DocId>) -> ApiResult<Json<Doc>> {
    Ok(Json(s.readers.run(move |api| api.get_doc(id)).await?))
}

/// Change a doc; the previous version is kept.
#[utoipa::path(patch, path = "/api/v1/docs/{id}", tag = "docs", request_body = DocPatch,
    params(("id" = DocId, Path, description = "D-3"), super::AgentHeader),
    responses((status = 200, body = Doc), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_doc(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<DocId>,
    Body(patch): Body<DocPatch>,
) -> ApiResult<Json<Doc>> {
    Ok(Json(
        s.writer
            .run(move |api| api.update_doc(&actor, id, patch))
            .await?,
    ))
}

/// Soft-delete a doc (recorded; its versions stay).
#[utoipa::path(delete, path = "/api/v1/docs/{id}", tag = "docs",
    params(("id" = DocId, Path, description = "D-3"), super::AgentHeader),
    responses((status = 200, body = Doc), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_doc(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<DocId>,
) -> ApiResult<Json<Doc>> {
    Ok(Json(
        s.writer.run(move |api| api.delete_doc(&actor, id)).await?,
    ))
}

/// Every version of a doc, oldest first.
#[utoipa::path(get, path = "/api/v1/docs/{id}/history", tag = "docs",
    params(("id" = DocId, Path, description = "D-3")),
    responses((status = 200, body = Vec<DocVersion>), (status = 404, body = ErrorBody)))]
async fn doc_history(
    State(s): State<AppState>,
    Path(id): Path<DocId>,
) -> ApiResult<Json<Vec<DocVersion>>> {
    Ok(Json(s.readers.run(move |api| api.doc_history(id)).await?))
}
