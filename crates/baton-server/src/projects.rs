//! Many projects on one server. Each project has its own store (SQLite: its own file;
//! PostgreSQL: its own schema), so its tasks, docs, messages, events, reservations,
//! settings and ids are apart from every other project's by construction: a query of one
//! project's board cannot see another's rows. The default project is the one the server
//! was started on; `/api/v1/...` serves it, as it always has.
//!
//! `/api/v1/projects/{key}/...` is served by that project's own router (the same routes,
//! the same layers), opened on first use: `/api/v1/projects/web/tasks` is `web`'s
//! `/api/v1/tasks`, and `/api/v1/projects/web/mcp` its `/mcp`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use baton_core::instance::DEFAULT_PROJECT;
use tower::ServiceExt;

use crate::auth::Caller;
use crate::backend::Backend;
use crate::error::ApiError;
use crate::{AppState, ServerOptions};

pub struct Projects {
    backend: Arc<dyn Backend>,
    options: ServerOptions,
    /// The default project's state (its own `projects` is `None`).
    default: AppState,
    open: tokio::sync::Mutex<HashMap<String, Router>>,
}

impl Projects {
    pub fn new(backend: Arc<dyn Backend>, options: ServerOptions, mut default: AppState) -> Self {
        default.projects = None;
        Projects {
            backend,
            options,
            default,
            open: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Creates a project's storage (a file or a schema) so it can be registered.
    pub async fn create_storage(&self, key: &str, name: &str) -> baton_core::Result<()> {
        let backend = self.backend.clone();
        let (key, name) = (key.to_string(), name.to_string());
        tokio::task::spawn_blocking(move || backend.project(&key, &name).map(|_| ()))
            .await
            .map_err(|e| baton_core::Error::Internal(e.to_string()))?
    }

    /// The router of project `key`, opened on first use. The project must be registered.
    pub async fn router(&self, key: &str) -> Result<Router, ApiError> {
        let mut open = self.open.lock().await;
        if let Some(router) = open.get(key) {
            return Ok(router.clone());
        }
        let state = if key == DEFAULT_PROJECT {
            self.default.clone()
        } else {
            let wanted = key.to_string();
            let info = self
                .default
                .instance_readers
                .run(move |api| api.instance().get_project(&wanted))
                .await?;
            let backend = self.backend.clone();
            let options = self.options.clone();
            let default = self.default.clone();
            tokio::task::spawn_blocking(move || {
                open_project(backend, &info.key, &info.name, &options, default)
            })
            .await
            .map_err(|e| ApiError::from(baton_core::Error::Internal(e.to_string())))??
        };
        let router = crate::routes::project_router(state);
        open.insert(key.to_string(), router.clone());
        Ok(router)
    }
}

fn open_project(
    backend: Arc<dyn Backend>,
    key: &str,
    name: &str,
    options: &ServerOptions,
    default: AppState,
) -> baton_core::Result<AppState> {
    let backend = backend.project(key, name)?;
    let (writer, readers, feed) = crate::open_workers(&backend, options, &default.shutdown)?;
    Ok(AppState {
        writer,
        readers,
        feed,
        metrics: Arc::new(crate::metrics::Metrics::default()),
        // A project's code index is the checkout's: only the default project has one.
        code_root: None,
        project: Arc::from(key),
        projects: None,
        ..default
    })
}

/// `/api/v1/projects/{key}/{*rest}`: hands the request to the project's router with the
/// prefix taken off. A caller with no role in the project is told it does not exist.
pub async fn dispatch(State(s): State<AppState>, mut request: Request) -> Response {
    let path = request.uri().path().to_string();
    let Some(rest) = path.strip_prefix("/api/v1/projects/") else {
        return ApiError::not_found(&path).into_response();
    };
    let (key, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let Some(projects) = s.projects.clone() else {
        return ApiError::not_found(&path).into_response();
    };
    let caller = request.extensions().get::<Caller>().cloned();
    if let Some(Caller::Known(known)) = &caller {
        if known.principal.role.is_none() {
            return project_not_found(key);
        }
    }
    let inner = if tail == "mcp" || tail.starts_with("mcp/") {
        format!("/{tail}")
    } else {
        format!("/api/v1/{tail}")
    };
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    // The project's router matches the path afresh (its own templates, for the policy).
    request
        .extensions_mut()
        .remove::<axum::extract::MatchedPath>();
    match format!("{inner}{query}").parse::<Uri>() {
        Ok(uri) => *request.uri_mut() = uri,
        Err(_) => return ApiError::not_found(&path).into_response(),
    }
    let router = match projects.router(key).await {
        Ok(router) => router,
        Err(e) if e.status == StatusCode::NOT_FOUND => return project_not_found(key),
        Err(e) => return e.into_response(),
    };
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn project_not_found(key: &str) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "project_not_found",
        format!("there is no project {key:?} you can see"),
    )
    .with_hint("list the projects you can use with `baton project list`")
    .into_response()
}
