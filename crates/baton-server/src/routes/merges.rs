//! `/api/v1/merges`: the queue of branches carried up the chain (task -> phase ->
//! initiative -> default branch), claimed by runners that do the git work; and
//! `/api/v1/tasks/{id}/branch`, where a task's work goes in git.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use baton_core::api::{
    ErrandClaim, ErrandFinish, ErrandRequest, ErrandUpdate, MergeClaim, MergeFilter, MergeReport,
    NewErrand,
};
use baton_core::model::{BranchPlan, Diff, Errand, ErrandStatus, Merge, MergeKind, MergeState};
use baton_core::{ErrandId, InitiativeId, MergeId, PhaseId, TaskId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_merges))
        .routes(routes!(get_merge))
        .routes(routes!(claim_merge))
        .routes(routes!(finish_merge))
        .routes(routes!(retry_merge))
        .routes(routes!(branch_plan))
        .routes(routes!(diff))
        .routes(routes!(create_errand, list_errands))
        .routes(routes!(get_errand, update_errand, delete_errand))
        .routes(routes!(request_errand))
        .routes(routes!(claim_errand))
        .routes(routes!(finish_errand))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MergesQuery {
    state: Option<MergeState>,
    kind: Option<MergeKind>,
    task: Option<TaskId>,
    phase: Option<PhaseId>,
    initiative: Option<InitiativeId>,
    /// At most this many (default 200, at most 1,000).
    limit: Option<u64>,
}

/// Merges, newest first.
#[utoipa::path(get, path = "/api/v1/merges", tag = "merges", params(MergesQuery),
    responses((status = 200, body = Vec<Merge>), (status = 422, body = ErrorBody)))]
async fn list_merges(
    State(s): State<AppState>,
    Query(q): Query<MergesQuery>,
) -> ApiResult<Json<Vec<Merge>>> {
    let filter = MergeFilter {
        state: q.state,
        kind: q.kind,
        task: q.task,
        phase: q.phase,
        initiative: q.initiative,
        limit: q.limit,
    };
    Ok(Json(
        s.readers
            .run(move |api| api.merges().list_merges(&filter))
            .await?,
    ))
}

/// One merge.
#[utoipa::path(get, path = "/api/v1/merges/{id}", tag = "merges",
    params(("id" = MergeId, Path, description = "MR-1")),
    responses((status = 200, body = Merge), (status = 404, body = ErrorBody)))]
async fn get_merge(State(s): State<AppState>, Path(id): Path<MergeId>) -> ApiResult<Json<Merge>> {
    Ok(Json(
        s.readers.run(move |api| api.merges().get_merge(id)).await?,
    ))
}

/// Claim the next merge that may run (for a runner); `null` when none is ready.
#[utoipa::path(post, path = "/api/v1/merges/claim", tag = "merges", request_body = MergeClaim,
    params(super::AgentHeader),
    responses((status = 200, body = Option<Merge>), (status = 422, body = ErrorBody)))]
async fn claim_merge(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(claim): Body<MergeClaim>,
) -> ApiResult<Json<Option<Merge>>> {
    Ok(Json(
        s.writer
            .run(move |api| api.merges().claim_merge(&actor, claim.clone()))
            .await?,
    ))
}

/// Report what became of a claimed merge: merged, a conflict (a merge task is made),
/// skipped, or failed (retried when transient).
#[utoipa::path(post, path = "/api/v1/merges/{id}/finish", tag = "merges",
    request_body = MergeReport,
    params(("id" = MergeId, Path, description = "MR-1"), super::AgentHeader),
    responses((status = 200, body = Merge), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn finish_merge(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<MergeId>,
    Body(report): Body<MergeReport>,
) -> ApiResult<Json<Merge>> {
    Ok(Json(
        s.writer
            .run(move |api| api.merges().finish_merge(&actor, id, report.clone()))
            .await?,
    ))
}

/// Put a failed, skipped or conflicted merge back in the queue.
#[utoipa::path(post, path = "/api/v1/merges/{id}/retry", tag = "merges",
    params(("id" = MergeId, Path, description = "MR-1"), super::AgentHeader),
    responses((status = 200, body = Merge), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn retry_merge(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<MergeId>,
) -> ApiResult<Json<Merge>> {
    Ok(Json(
        s.writer
            .run(move |api| api.merges().retry_merge(&actor, id))
            .await?,
    ))
}

/// Where a task's work goes in git: its branch, what it starts from, where it merges.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/branch", tag = "merges",
    params(("id" = TaskId, Path, description = "T-1")),
    responses((status = 200, body = BranchPlan), (status = 404, body = ErrorBody)))]
async fn branch_plan(
    State(s): State<AppState>,
    Path(id): Path<TaskId>,
) -> ApiResult<Json<BranchPlan>> {
    Ok(Json(
        s.readers
            .run(move |api| api.merges().branch_plan(id))
            .await?,
    ))
}

/// What a task (T-12), phase (P-3), initiative (I-1) or errand (E-2) changed, file by file
/// with numbered lines: its branch against the merge base with where it goes, or, once
/// merged, against the base stored with the merge. Read from the server's clone of the
/// project's `repository` when set, else from the repository the server runs in.
#[utoipa::path(get, path = "/api/v1/diff/{id}", tag = "merges",
    params(("id" = String, Path, description = "T-12, P-3, I-1 or E-2")),
    responses((status = 200, body = Diff), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn diff(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Diff>> {
    let root = s.code_root.clone();
    let project = s.project.clone();
    Ok(Json(
        s.readers
            .run(move |api| {
                let repo = server_repo(api, root.as_deref(), &project)?;
                let range = baton_runner::diff::range(api, &repo, &id)?;
                baton_runner::diff::diff(repo.root(), &range)
            })
            .await?,
    ))
}

/// The repository diffs are read from: with the project's `repository` setting, this
/// server's own clone of it (in the project's `.baton/clones/`, or the user's cache folder
/// for a project without a directory here), fetched at most every few seconds; else the
/// project directory the server runs in.
fn server_repo(
    api: &dyn baton_core::Api,
    root: Option<&std::path::Path>,
    project: &str,
) -> baton_core::Result<baton_runner::worktree::Repo> {
    use baton_runner::worktree::Repo;
    let git_error = |e: baton_runner::worktree::GitError| baton_core::Error::Remote {
        class: baton_core::ErrorClass::Unavailable,
        code: "git_failed".into(),
        message: e.to_string(),
        hint: Some("check the project's repository setting: baton config get repository".into()),
    };
    let url = api
        .settings()?
        .into_iter()
        .find(|s| s.key == baton_core::board::leases::REPOSITORY)
        .map(|s| s.value)
        .unwrap_or_default();
    if url.is_empty() {
        let no_repository = |message: String| baton_core::Error::Remote {
            class: baton_core::ErrorClass::NotFound,
            code: "no_repository".into(),
            message,
            hint: Some(
                "set the project's repository (baton config set repository URL), or run \
                 `baton serve` inside the repository"
                    .into(),
            ),
        };
        let Some(root) = root else {
            return Err(no_repository(
                "this server has no project directory and the project names no repository: \
                 there is nothing to read diffs from"
                    .into(),
            ));
        };
        return Repo::open(root).map_err(|e| {
            no_repository(format!(
                "the project names no repository and the server's directory is not one ({e})"
            ))
        });
    }
    let relative = std::path::Path::new(&url).is_relative() && !url.contains(':');
    if relative && root.is_none() {
        return Err(baton_core::Error::Remote {
            class: baton_core::ErrorClass::NotFound,
            code: "no_repository".into(),
            message: format!(
                "the project's repository '{url}' is a relative path, and this server has no \
                 project directory to find it from"
            ),
            hint: Some("set a URL or an absolute path: baton config set repository URL".into()),
        });
    }
    let clones = match root {
        Some(r) => r.join(".baton").join("clones"),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("baton")
            .join("clones")
            .join(project),
    };
    let base = root
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| clones.clone());
    // A repository that cannot be cloned is the setting's problem, not the server's.
    let repo =
        Repo::repository_for(&url, &base, &clones).map_err(|e| baton_core::Error::Remote {
            class: baton_core::ErrorClass::NotFound,
            code: "repository_unreachable".into(),
            message: format!("cannot clone the project's repository {url}: {e}"),
            hint: Some(
                "check it: baton config get repository (and that this server can reach it)".into(),
            ),
        })?;
    if fetch_due(repo.root()) {
        repo.fetch().map_err(git_error)?;
    }
    Ok(repo)
}

/// Whether the clone at `dir` was last fetched long enough ago (a page of diffs asks often).
fn fetch_due(dir: &std::path::Path) -> bool {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};
    static LAST: OnceLock<Mutex<HashMap<std::path::PathBuf, Instant>>> = OnceLock::new();
    let mut last = LAST
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    match last.get(dir) {
        Some(at) if now.duration_since(*at) < Duration::from_secs(3) => false,
        _ => {
            last.insert(dir.to_path_buf(), now);
            true
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ErrandsQuery {
    status: Option<ErrandStatus>,
}

/// Record a new errand (`active`, on `baton/errand-<n>` off the default branch); the CLI's
/// runner then starts its agent.
#[utoipa::path(post, path = "/api/v1/errands", tag = "merges", request_body = NewErrand,
    params(super::AgentHeader),
    responses((status = 201, body = Errand), (status = 422, body = ErrorBody)))]
async fn create_errand(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(new): Body<NewErrand>,
) -> ApiResult<(StatusCode, Json<Errand>)> {
    let e = s
        .writer
        .run(move |api| api.errands().create_errand(&actor, new.clone()))
        .await?;
    Ok((StatusCode::CREATED, Json(e)))
}

/// Errands, newest first.
#[utoipa::path(get, path = "/api/v1/errands", tag = "merges", params(ErrandsQuery),
    responses((status = 200, body = Vec<Errand>), (status = 422, body = ErrorBody)))]
async fn list_errands(
    State(s): State<AppState>,
    Query(q): Query<ErrandsQuery>,
) -> ApiResult<Json<Vec<Errand>>> {
    Ok(Json(
        s.readers
            .run(move |api| api.errands().list_errands(q.status))
            .await?,
    ))
}

/// One errand.
#[utoipa::path(get, path = "/api/v1/errands/{id}", tag = "merges",
    params(("id" = ErrandId, Path, description = "E-1")),
    responses((status = 200, body = Errand), (status = 404, body = ErrorBody)))]
async fn get_errand(
    State(s): State<AppState>,
    Path(id): Path<ErrandId>,
) -> ApiResult<Json<Errand>> {
    Ok(Json(
        s.readers
            .run(move |api| api.errands().get_errand(id))
            .await?,
    ))
}

/// Record what became of an errand (its status, agent, session, merge).
#[utoipa::path(patch, path = "/api/v1/errands/{id}", tag = "merges", request_body = ErrandUpdate,
    params(("id" = ErrandId, Path, description = "E-1"), super::AgentHeader),
    responses((status = 200, body = Errand), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_errand(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<ErrandId>,
    Body(update): Body<ErrandUpdate>,
) -> ApiResult<Json<Errand>> {
    Ok(Json(
        s.writer
            .run(move |api| api.errands().update_errand(&actor, id, update.clone()))
            .await?,
    ))
}

/// Delete a merged or abandoned errand's record.
#[utoipa::path(delete, path = "/api/v1/errands/{id}", tag = "merges",
    params(("id" = ErrandId, Path, description = "E-1"), super::AgentHeader),
    responses((status = 200, body = Errand), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn delete_errand(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<ErrandId>,
) -> ApiResult<Json<Errand>> {
    Ok(Json(
        s.writer
            .run(move |api| api.errands().delete_errand(&actor, id))
            .await?,
    ))
}

/// Ask an errand's agent something: `{"ask": "chat", "message": "..."}` resumes its
/// session with the message, `{"ask": "merge"}` merges its branch; a runner does it. One
/// request at a time (409 `errand_busy` while one waits).
#[utoipa::path(post, path = "/api/v1/errands/{id}/request", tag = "merges",
    request_body = ErrandRequest,
    params(("id" = ErrandId, Path, description = "E-1"), super::AgentHeader),
    responses((status = 200, body = Errand), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn request_errand(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<ErrandId>,
    Body(request): Body<ErrandRequest>,
) -> ApiResult<Json<Errand>> {
    Ok(Json(
        s.writer
            .run(move |api| api.errands().request_errand(&actor, id, request.clone()))
            .await?,
    ))
}

/// Take an errand's waiting request (for a runner); `null` when none waits.
#[utoipa::path(post, path = "/api/v1/errands/claim", tag = "merges", request_body = ErrandClaim,
    params(super::AgentHeader),
    responses((status = 200, body = Option<Errand>), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn claim_errand(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(claim): Body<ErrandClaim>,
) -> ApiResult<Json<Option<Errand>>> {
    Ok(Json(
        s.writer
            .run(move |api| api.errands().claim_errand(&actor, claim.clone()))
            .await?,
    ))
}

/// Report an errand's request done, with the agent's reply (the claiming runner only).
#[utoipa::path(post, path = "/api/v1/errands/{id}/finish", tag = "merges",
    request_body = ErrandFinish,
    params(("id" = ErrandId, Path, description = "E-1"), super::AgentHeader),
    responses((status = 200, body = Errand), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn finish_errand(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<ErrandId>,
    Body(finish): Body<ErrandFinish>,
) -> ApiResult<Json<Errand>> {
    Ok(Json(
        s.writer
            .run(move |api| api.errands().finish_errand(&actor, id, finish.clone()))
            .await?,
    ))
}
