//! `/api/v1/runs` and `/api/v1/accounts`: what runners record about the agent CLIs they
//! start (runs, their output, their provider accounts), and the stop and retry requests
//! people send them.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use baton_core::api::{AccountUpdate, NewRun, RunEnd, RunFilter, RunUpdate};
use baton_core::{AccountState, Error, Run, RunId, RunLogLine, RunStatus, Task, TaskId};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Actor;
use crate::error::{ApiResult, Body, ErrorBody, Path, Query};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run, list_runs))
        .routes(routes!(get_run, update_run))
        .routes(routes!(finish_run))
        .routes(routes!(stop_run))
        .routes(routes!(retry_run))
        .routes(routes!(append_log, read_log))
        .routes(routes!(stream_log))
        .routes(routes!(set_account, list_accounts))
}

/// Record a run before its process starts (a runner's call).
#[utoipa::path(post, path = "/api/v1/runs", tag = "runs", request_body = NewRun,
    params(super::AgentHeader),
    responses((status = 201, body = Run), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn start_run(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(run): Body<NewRun>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    let run = s.writer.run(move |api| api.start_run(&actor, run)).await?;
    Ok((StatusCode::CREATED, Json(run)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Statuses, comma-separated (`running,crashed`).
    status: Option<String>,
    task: Option<TaskId>,
    /// Started on this host.
    host: Option<String>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u64>,
}

/// Runs, newest first.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunsQuery),
    responses((status = 200, body = Vec<Run>), (status = 422, body = ErrorBody)))]
async fn list_runs(
    State(s): State<AppState>,
    Query(q): Query<RunsQuery>,
) -> ApiResult<Json<Vec<Run>>> {
    let status = match q.status.as_deref() {
        None | Some("") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| s.trim().parse::<RunStatus>())
            .collect::<Result<Vec<_>, Error>>()?,
    };
    let filter = RunFilter {
        status,
        task: q.task,
        host: q.host,
        limit: q.limit,
    };
    Ok(Json(
        s.readers.run(move |api| api.list_runs(&filter)).await?,
    ))
}

/// One run.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = RunId, Path, description = "R-7")),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody)))]
async fn get_run(State(s): State<AppState>, Path(id): Path<RunId>) -> ApiResult<Json<Run>> {
    Ok(Json(s.readers.run(move |api| api.get_run(id)).await?))
}

/// What a runner learned about a running run (its process, session, usage). The answer
/// says whether someone asked for the run to stop.
#[utoipa::path(patch, path = "/api/v1/runs/{id}", tag = "runs", request_body = RunUpdate,
    params(("id" = RunId, Path, description = "R-7"), super::AgentHeader),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_run(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<RunId>,
    Body(update): Body<RunUpdate>,
) -> ApiResult<Json<Run>> {
    Ok(Json(
        s.writer
            .run(move |api| api.update_run(&actor, id, update))
            .await?,
    ))
}

/// End a running run with its outcome.
#[utoipa::path(post, path = "/api/v1/runs/{id}/finish", tag = "runs", request_body = RunEnd,
    params(("id" = RunId, Path, description = "R-7"), super::AgentHeader),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn finish_run(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<RunId>,
    Body(end): Body<RunEnd>,
) -> ApiResult<Json<Run>> {
    Ok(Json(
        s.writer
            .run(move |api| api.finish_run(&actor, id, end))
            .await?,
    ))
}

/// Ask the run's runner to stop it (its work is committed to the task branch first).
#[utoipa::path(post, path = "/api/v1/runs/{id}/stop", tag = "runs",
    params(("id" = RunId, Path, description = "R-7"), super::AgentHeader),
    responses((status = 200, body = Run), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn stop_run(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<RunId>,
) -> ApiResult<Json<Run>> {
    Ok(Json(
        s.writer.run(move |api| api.stop_run(&actor, id)).await?,
    ))
}

/// Put an ended run's task back in the queue; the next run resumes its session.
#[utoipa::path(post, path = "/api/v1/runs/{id}/retry", tag = "runs",
    params(("id" = RunId, Path, description = "R-7"), super::AgentHeader),
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_run(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<RunId>,
) -> ApiResult<Json<Task>> {
    Ok(Json(
        s.writer.run(move |api| api.retry_run(&actor, id)).await?,
    ))
}

/// Output lines to append to a run's log.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogLines {
    /// At most 1,000 lines; each is cut to 4,000 bytes.
    #[schema(max_items = 1000)]
    lines: Vec<String>,
}

/// How many lines a run's log has had.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogCount {
    lines: u64,
}

/// Append output lines to a run's log (the newest 5,000 are kept).
#[utoipa::path(post, path = "/api/v1/runs/{id}/log", tag = "runs", request_body = LogLines,
    params(("id" = RunId, Path, description = "R-7")),
    responses((status = 200, body = LogCount), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn append_log(
    State(s): State<AppState>,
    Path(id): Path<RunId>,
    Body(body): Body<LogLines>,
) -> ApiResult<Json<LogCount>> {
    let lines = s
        .writer
        .run(move |api| api.append_run_log(id, body.lines))
        .await?;
    Ok(Json(LogCount { lines }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Lines after this one (0: from the oldest kept).
    after: Option<u64>,
    /// At most this many (default 1,000).
    limit: Option<u64>,
}

/// A run's stored output, oldest first.
#[utoipa::path(get, path = "/api/v1/runs/{id}/log", tag = "runs",
    params(("id" = RunId, Path, description = "R-7"), LogQuery),
    responses((status = 200, body = Vec<RunLogLine>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn read_log(
    State(s): State<AppState>,
    Path(id): Path<RunId>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<RunLogLine>>> {
    let (after, limit) = (q.after.unwrap_or(0), q.limit.unwrap_or(1000));
    Ok(Json(
        s.readers
            .run(move |api| api.run_log(id, after, limit))
            .await?,
    ))
}

/// How often a followed log is read again while its run goes on.
const LOG_POLL: Duration = Duration::from_millis(500);

/// A run's output as Server-Sent Events: one message per line (`id` its number, `data` the
/// line as JSON), from the oldest kept (or after `after`, or `Last-Event-ID`), then new
/// lines as the runner stores them. A last message named `end` carries the run once it
/// has ended and every line is out; then the stream closes.
#[utoipa::path(get, path = "/api/v1/runs/{id}/log/stream", tag = "runs",
    params(("id" = RunId, Path, description = "R-7"), LogQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this line")),
    responses((status = 200, content_type = "text/event-stream", description = "one SSE message per line"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn stream_log(
    State(s): State<AppState>,
    Path(id): Path<RunId>,
    headers: HeaderMap,
    Query(q): Query<LogQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // Unknown runs are refused before the stream starts.
    s.readers.run(move |api| api.get_run(id)).await?;
    let after = resume.or(q.after).unwrap_or(0);
    let (out, outgoing) = mpsc::channel::<SseEvent>(256);
    tokio::spawn(follow_log(s.clone(), id, after, out));
    let stream = futures_util::stream::unfold(outgoing, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn follow_log(s: AppState, id: RunId, mut after: u64, out: mpsc::Sender<SseEvent>) {
    let mut shutdown = s.shutdown.clone();
    loop {
        let Ok(lines) = s.readers.run(move |api| api.run_log(id, after, 1000)).await else {
            return;
        };
        for line in &lines {
            let Ok(data) = serde_json::to_string(line) else {
                return;
            };
            let event = SseEvent::default().id(line.seq.to_string()).data(data);
            if out.send(event).await.is_err() {
                return; // the client went away
            }
            after = line.seq;
        }
        if lines.len() == 1000 {
            continue;
        }
        let Ok(run) = s.readers.run(move |api| api.get_run(id)).await else {
            return;
        };
        if run.status.is_final() && run.log_lines <= after {
            if let Ok(data) = serde_json::to_string(&run) {
                let _ = out.send(SseEvent::default().event("end").data(data)).await;
            }
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(LOG_POLL) => {}
            _ = shutdown.changed() => return,
            _ = out.closed() => return,
        }
    }
}

/// Record a provider account's state (never its secrets: those stay with the runner).
#[utoipa::path(put, path = "/api/v1/accounts", tag = "runs", request_body = AccountUpdate,
    params(super::AgentHeader),
    responses((status = 200, body = AccountState), (status = 422, body = ErrorBody)))]
async fn set_account(
    State(s): State<AppState>,
    Actor(actor): Actor,
    Body(update): Body<AccountUpdate>,
) -> ApiResult<Json<AccountState>> {
    Ok(Json(
        s.writer
            .run(move |api| api.set_account(&actor, update))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountsQuery {
    provider: Option<String>,
}

/// Provider accounts and their state.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "runs", params(AccountsQuery),
    responses((status = 200, body = Vec<AccountState>), (status = 422, body = ErrorBody)))]
async fn list_accounts(
    State(s): State<AppState>,
    Query(q): Query<AccountsQuery>,
) -> ApiResult<Json<Vec<AccountState>>> {
    Ok(Json(
        s.readers
            .run(move |api| api.accounts(q.provider.as_deref()))
            .await?,
    ))
}
