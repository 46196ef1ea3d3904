//! `/api/v1/code`: the code index of the project the server runs in (`.baton/code.db`,
//! built by `baton scan`): symbols, file outline, imports, dependents, summary.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_code::{CodeError, CodeIndex, SymbolKind, SymbolQuery};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(symbols))
        .routes(routes!(outline))
        .routes(routes!(imports))
        .routes(routes!(dependents))
        .routes(routes!(summary))
}

fn code_error(e: CodeError) -> ApiError {
    let status = match e.class() {
        baton_code::ErrorClass::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
        baton_code::ErrorClass::NotFound => StatusCode::NOT_FOUND,
        baton_code::ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        baton_code::ErrorClass::Other => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.code(), e.to_string()).with_hint(e.hint())
}

/// Runs a query on the index off the async runtime (a short-lived read-only connection).
async fn query<T: serde::Serialize + Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&CodeIndex) -> baton_code::Result<T> + Send + 'static,
) -> ApiResult<Json<Value>> {
    let Some(root) = s.code_root.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "code_index_missing",
            "this server has no project directory, so no code index",
        )
        .with_hint("run `baton serve` inside the repository, after `baton scan`"));
    };
    let answer = tokio::task::spawn_blocking(move || {
        let index = CodeIndex::open(&root)?;
        f(&index).map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
    })
    .await
    .map_err(|e| ApiError::from(baton_core::Error::Internal(e.to_string())))?;
    answer.map(Json).map_err(code_error)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SymbolsQuery {
    /// A substring of the name (case-insensitive); `=Name` for an exact match.
    name: Option<String>,
    /// function, class, method, interface, type, enum, constant, variable, ...
    kind: Option<String>,
    /// Only files under this project-relative prefix.
    file: Option<String>,
    /// Only exported or public symbols.
    exported: Option<bool>,
    /// Default 50; 0 = all.
    limit: Option<usize>,
}

/// Symbols by name, kind, file prefix.
#[utoipa::path(get, path = "/api/v1/code/symbols", tag = "code", params(SymbolsQuery),
    responses((status = 200, description = "[{name, kind, file, line, end_line, container, signature, exported}]"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn symbols(
    State(s): State<AppState>,
    Query(q): Query<SymbolsQuery>,
) -> ApiResult<Json<Value>> {
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(SymbolKind::parse(k).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("'{k}' is not a symbol kind"),
            )
            .with_hint("function, class, method, interface, type, enum, constant, variable")
        })?),
    };
    query(&s, move |index| {
        let file_prefix = q.file.map(|f| index.normalize_path(&f));
        index.symbols(&SymbolQuery {
            name: q.name,
            kind,
            file_prefix,
            exported_only: q.exported.unwrap_or(false),
            limit: q.limit.unwrap_or(50),
        })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// A project-relative path.
    file: String,
    /// For dependents: how many import hops to follow (default 1).
    depth: Option<u32>,
}

/// The symbols of one file, in order.
#[utoipa::path(get, path = "/api/v1/code/outline", tag = "code", params(FileQuery),
    responses((status = 200, description = "the file's symbols"), (status = 404, body = ErrorBody)))]
async fn outline(State(s): State<AppState>, Query(q): Query<FileQuery>) -> ApiResult<Json<Value>> {
    query(&s, move |index| {
        index.outline(&index.normalize_path(&q.file))
    })
    .await
}

/// What one file imports, with the resolved project files.
#[utoipa::path(get, path = "/api/v1/code/imports", tag = "code", params(FileQuery),
    responses((status = 200, description = "the file's imports"), (status = 404, body = ErrorBody)))]
async fn imports(State(s): State<AppState>, Query(q): Query<FileQuery>) -> ApiResult<Json<Value>> {
    query(&s, move |index| {
        index.imports(&index.normalize_path(&q.file))
    })
    .await
}

/// The files that import this one, transitively up to `depth`.
#[utoipa::path(get, path = "/api/v1/code/dependents", tag = "code", params(FileQuery),
    responses((status = 200, description = "[{file, depth, via, names}]"), (status = 404, body = ErrorBody)))]
async fn dependents(
    State(s): State<AppState>,
    Query(q): Query<FileQuery>,
) -> ApiResult<Json<Value>> {
    let depth = q.depth.unwrap_or(1).max(1);
    query(&s, move |index| {
        index.dependents(&index.normalize_path(&q.file), depth)
    })
    .await
}

/// Files, symbols and imports in the index, by language.
#[utoipa::path(get, path = "/api/v1/code/summary", tag = "code",
    responses((status = 200, description = "counts by language"), (status = 404, body = ErrorBody)))]
async fn summary(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    query(&s, |index| index.summary()).await
}
