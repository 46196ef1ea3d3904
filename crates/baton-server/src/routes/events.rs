//! `/api/v1/events`: the audit log, listed, or followed live as Server-Sent Events.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use baton_core::api::{NewSession, SessionQuery, StopSession};
use baton_core::model::{Session, SessionInfo};
use baton_core::store::EventQuery;
use baton_core::time::Timestamp;
use baton_core::{Event, SessionId, TaskId};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, ErrorBody, Query};
use crate::AppState;

/// Events read from the table per step when a stream catches up.
const CATCH_UP_PAGE: u64 = 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(write_log_entry))
        .routes(routes!(start_session, list_sessions))
        .routes(routes!(stop_session))
        .routes(routes!(get_session))
        .routes(routes!(operations_stats))
        .routes(routes!(prune))
        .routes(routes!(anomalies))
        .routes(routes!(stream))
        .routes(routes!(websocket))
}

/// What a follower sends its client, whatever the transport.
enum Outgoing {
    /// The id the stream starts after.
    Ready(u64),
    Event(Arc<Event>),
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events about this task.
    task: Option<TaskId>,
    /// Only events by this actor.
    actor: Option<String>,
    /// An action (`task.done`) or a prefix ending in `.` or `*` (`task.`).
    action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    since: Option<String>,
    /// Only events written in this session (`S-3`).
    session: Option<SessionId>,
    /// Only events with a larger id.
    after: Option<u64>,
    /// The newest N events (still oldest first); with `after`, the oldest N after it (the
    /// next page). Absent or 0 = all.
    limit: Option<u64>,
}

impl EventsQuery {
    fn query(self) -> ApiResult<EventQuery> {
        let since = match self.since {
            None => None,
            Some(text) => Some(Timestamp::parse(&text).ok_or_else(|| {
                ApiError::from(baton_core::Error::invalid_with_hint(
                    format!("'{text}' is not an RFC 3339 time"),
                    "for example 2026-11-21T14:00:00Z",
                ))
            })?),
        };
        Ok(EventQuery {
            task: self.task,
            actor: self.actor,
            action: self.action,
            since,
            session: self.session,
            after_id: self.after,
            limit: self.limit.filter(|n| *n > 0),
        })
    }
}

/// The audit log: every change, who made it and when, oldest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery),
    responses((status = 200, body = Vec<Event>), (status = 422, body = ErrorBody)))]
async fn list_events(
    State(s): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    let query = q.query()?;
    Ok(Json(s.readers.run(move |api| api.events(&query)).await?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Start after this event id (0: the whole log). `Last-Event-ID` takes precedence;
    /// without either the stream starts with the next event.
    after: Option<u64>,
    /// Only events about this task.
    task: Option<TaskId>,
    /// Only events by this actor.
    actor: Option<String>,
    /// An action or a prefix ending in `.` or `*`.
    action: Option<String>,
    /// Only events written in this session (`S-3`).
    session: Option<SessionId>,
}

/// Which events a stream passes on; the same rules as the listing's filters.
struct StreamFilter {
    task: Option<TaskId>,
    actor: Option<String>,
    action: Option<String>,
    session: Option<SessionId>,
}

impl StreamFilter {
    fn passes(&self, e: &Event) -> bool {
        if self.task.is_some_and(|t| e.task != Some(t)) {
            return false;
        }
        if self.session.is_some_and(|s| e.session != Some(s)) {
            return false;
        }
        if self.actor.as_ref().is_some_and(|a| &e.actor != a) {
            return false;
        }
        match self.action.as_deref() {
            None => true,
            Some(a) => match a.strip_suffix('*') {
                Some(prefix) => e.action.starts_with(prefix),
                None if a.ends_with('.') => e.action.starts_with(a),
                None => e.action == a,
            },
        }
    }
}

/// Live events as Server-Sent Events: `id` is the event id, `data` the event as JSON. The
/// first message, named `ready`, carries the id the stream starts after.
/// Reconnect with `Last-Event-ID` to resume without gaps. Changes written by CLI processes
/// straight to the database appear too.
#[utoipa::path(get, path = "/api/v1/events/stream", tag = "events", params(StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", description = "one SSE message per event"),
        (status = 422, body = ErrorBody)))]
async fn stream(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let (live, start, filter) = open_follow(&s, &headers, q).await?;
    let (out, outgoing) = mpsc::channel::<Outgoing>(64);
    tokio::spawn(follow(s.clone(), live, start, filter, out));
    let stream = futures_util::stream::unfold(outgoing, |mut rx| async move {
        rx.recv().await.map(|next| (Ok(sse(next)), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

type Opened = (broadcast::Receiver<Arc<Event>>, u64, StreamFilter);

/// Where a follower starts (`Last-Event-ID`, else `after`, else the newest event) and what
/// it passes on; subscribed to the feed before reading where it is, so nothing falls in
/// between.
async fn open_follow(s: &AppState, headers: &HeaderMap, q: StreamQuery) -> ApiResult<Opened> {
    let resume = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::from(baton_core::Error::invalid_with_hint(
                        "Last-Event-ID must be an event id (a number)",
                        "send back the id of the last event received",
                    ))
                })?,
        ),
    };
    let live = s.feed.subscribe();
    let start = match resume.or(q.after) {
        Some(id) => id,
        // "From now" means after the newest event in the table, which the feed may not
        // have sent out yet.
        None => s
            .readers
            .run(|api| {
                api.events(&EventQuery {
                    limit: Some(1),
                    ..EventQuery::default()
                })
            })
            .await?
            .last()
            .map_or(0, |e| e.id),
    };
    let filter = StreamFilter {
        task: q.task,
        actor: q.actor,
        action: q.action,
        session: q.session,
    };
    Ok((live, start, filter))
}

/// The same live events over a WebSocket: one text message per event, the event as JSON
/// (as the stream's `data`); the first message is `{"ready": ID}`, the id the socket
/// starts after. Resume with `?after=ID` (or `Last-Event-ID`), as with the stream. The
/// server pings every 15 s.
#[utoipa::path(get, path = "/api/v1/events/ws", tag = "events", params(StreamQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "resume after this event id")),
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, body = ErrorBody, description = "not a WebSocket handshake"),
        (status = 422, body = ErrorBody)))]
async fn websocket(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StreamQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<axum::response::Response> {
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "not_a_websocket",
            format!("this route speaks WebSocket only: {e}"),
        )
        .with_hint("connect with a WebSocket client, or follow /api/v1/events/stream (SSE)")
    })?;
    let (live, start, filter) = open_follow(&s, &headers, q).await?;
    Ok(upgrade.on_upgrade(move |socket| relay(s, socket, live, start, filter)))
}

async fn relay(
    s: AppState,
    mut socket: WebSocket,
    live: broadcast::Receiver<Arc<Event>>,
    start: u64,
    filter: StreamFilter,
) {
    let (out, mut outgoing) = mpsc::channel::<Outgoing>(64);
    tokio::spawn(follow(s, live, start, filter, out));
    let mut ping = tokio::time::interval(Duration::from_secs(15));
    ping.tick().await;
    loop {
        tokio::select! {
            next = outgoing.recv() => {
                let Some(next) = next else { break };
                let text = match next {
                    Outgoing::Ready(id) => format!("{{\"ready\":{id}}}"),
                    Outgoing::Event(event) => serde_json::to_string(event.as_ref()).unwrap_or_else(|_| "{}".into()),
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                // Pings are answered by the library; anything else a client says is ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// Sends everything after `last` from the table, then live events; falls back to the
/// table whenever the stream lags behind the feed. Ends on shutdown or when the client
/// goes away.
async fn follow(
    s: AppState,
    mut live: broadcast::Receiver<Arc<Event>>,
    mut last: u64,
    filter: StreamFilter,
    out: mpsc::Sender<Outgoing>,
) {
    let mut shutdown = s.shutdown.clone();
    s.metrics.stream_opened();
    let _closed = scopeguard(&s);
    // Tells the client where it starts, so a reconnect resumes from here even when no
    // event came before the connection broke (browsers send it back as Last-Event-ID).
    if out.send(Outgoing::Ready(last)).await.is_err() {
        return;
    }
    if !catch_up(&s, &mut last, &filter, &out).await {
        return;
    }
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(event) => {
                    if event.id <= last {
                        continue;
                    }
                    last = event.id;
                    if filter.passes(&event) && out.send(Outgoing::Event(event)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !catch_up(&s, &mut last, &filter, &out).await {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = stopping(&mut shutdown) => return,
            _ = out.closed() => return,
        }
    }
}

/// Reads events after `last` from the table, page by page, up to where the feed is.
/// Returns false when the client is gone or the store failed.
async fn catch_up(
    s: &AppState,
    last: &mut u64,
    filter: &StreamFilter,
    out: &mpsc::Sender<Outgoing>,
) -> bool {
    loop {
        let target = s.feed.last_id();
        if *last >= target {
            return true;
        }
        let after = *last;
        let page = s
            .readers
            .run(move |api| {
                api.events(&EventQuery {
                    after_id: Some(after),
                    limit: Some(CATCH_UP_PAGE),
                    ..EventQuery::default()
                })
            })
            .await;
        let Ok(page) = page else { return false };
        if page.is_empty() {
            return true;
        }
        for event in page {
            *last = event.id;
            if filter.passes(&event) && out.send(Outgoing::Event(Arc::new(event))).await.is_err() {
                return false;
            }
        }
    }
}

async fn stopping(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn sse(next: Outgoing) -> SseEvent {
    match next {
        Outgoing::Ready(id) => SseEvent::default()
            .event("ready")
            .id(id.to_string())
            .data("{}"),
        Outgoing::Event(event) => {
            let data = serde_json::to_string(event.as_ref()).unwrap_or_else(|_| "{}".into());
            SseEvent::default().id(event.id.to_string()).data(data)
        }
    }
}

/// Counts the stream as closed when `follow` returns, however it returns.
fn scopeguard(s: &AppState) -> impl Drop + '_ {
    struct Closed<'a>(&'a AppState);
    impl Drop for Closed<'_> {
        fn drop(&mut self) {
            self.0.metrics.stream_closed();
        }
    }
    Closed(s)
}

/// Append a log entry (`baton log`): stored as the event `log.<action>` with the message,
/// level, kind of actor (human, ai, system) and tool, in the same append-only log.
#[utoipa::path(post, path = "/api/v1/log", tag = "events",
    request_body = baton_core::api::NewLogEntry, params(super::AgentHeader),
    responses((status = 201, body = Event), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn write_log_entry(
    State(s): State<AppState>,
    super::Actor(actor): super::Actor,
    crate::error::Body(entry): crate::error::Body<baton_core::api::NewLogEntry>,
) -> ApiResult<(axum::http::StatusCode, Json<Event>)> {
    let e = s
        .writer
        .run(move |api| api.operations().log(&actor, entry.clone()))
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(e)))
}

/// The batch route, under the larger body limit.
pub fn log_batch_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(write_log_batch))
}

/// Append up to 1,000 log entries in one transaction (`baton log --stdin`): all or none;
/// an error names the entry by its place in `entries`.
#[utoipa::path(post, path = "/api/v1/log/batch", tag = "events",
    request_body = baton_core::api::LogBatch, params(super::AgentHeader),
    responses((status = 201, body = baton_core::api::LogBatchReport),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn write_log_batch(
    State(s): State<AppState>,
    super::Actor(actor): super::Actor,
    crate::error::Body(batch): crate::error::Body<baton_core::api::LogBatch>,
) -> ApiResult<(
    axum::http::StatusCode,
    Json<baton_core::api::LogBatchReport>,
)> {
    let report = s
        .writer
        .run(move |api| api.operations().log_batch(&actor, batch.clone()))
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(report)))
}

/// Start a session for the caller (`baton session start`): what they write until it ends
/// carries it. An open session of theirs ends first (`replaced`).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "events",
    request_body = NewSession, params(super::AgentHeader),
    responses((status = 201, body = Session), (status = 422, body = ErrorBody)))]
async fn start_session(
    State(s): State<AppState>,
    super::Actor(actor): super::Actor,
    crate::error::Body(new): crate::error::Body<NewSession>,
) -> ApiResult<(axum::http::StatusCode, Json<Session>)> {
    let session = s
        .writer
        .run(move |api| api.operations().start_session(&actor, new.clone()))
        .await?;
    Ok((axum::http::StatusCode::CREATED, Json(session)))
}

/// End a session: the one named, or the caller's open one.
#[utoipa::path(post, path = "/api/v1/sessions/stop", tag = "events",
    request_body = StopSession, params(super::AgentHeader),
    responses((status = 200, body = Session), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn stop_session(
    State(s): State<AppState>,
    super::Actor(actor): super::Actor,
    crate::error::Body(stop): crate::error::Body<StopSession>,
) -> ApiResult<Json<Session>> {
    Ok(Json(
        s.writer
            .run(move |api| api.operations().stop_session(&actor, stop.clone()))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SessionsQuery {
    /// Only this identity's.
    identity: Option<String>,
    /// Only open ones.
    open: Option<bool>,
    /// At most this many (default 100, at most 1,000).
    limit: Option<u64>,
}

/// Sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "events", params(SessionsQuery),
    responses((status = 200, body = Vec<Session>), (status = 422, body = ErrorBody)))]
async fn list_sessions(
    State(s): State<AppState>,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<Vec<Session>>> {
    let query = SessionQuery {
        identity: q.identity,
        open: q.open.unwrap_or(false),
        limit: q.limit,
    };
    Ok(Json(
        s.readers
            .run(move |api| api.operations().sessions(&query))
            .await?,
    ))
}

/// One session, with counts of what happened in it.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "events",
    params(("id" = SessionId, Path, description = "S-3")),
    responses((status = 200, body = SessionInfo), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn get_session(
    State(s): State<AppState>,
    crate::error::Path(id): crate::error::Path<SessionId>,
) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(
        s.readers
            .run(move |api| api.operations().session(id))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// Count log entries only above this event id (default 0: all of them).
    after: Option<u64>,
}

/// Totals of the operations record: runs by provider and status with their tokens and
/// cost, sessions by kind, log entries by action and level (what `/metrics` shows).
#[utoipa::path(get, path = "/api/v1/operations/stats", tag = "events", params(StatsQuery),
    responses((status = 200, body = baton_core::api::OperationsStats),
        (status = 422, body = ErrorBody)))]
async fn operations_stats(
    State(s): State<AppState>,
    Query(q): Query<StatsQuery>,
) -> ApiResult<Json<baton_core::api::OperationsStats>> {
    let after = q.after.unwrap_or(0);
    Ok(Json(
        s.readers
            .run(move |api| api.operations().stats(after))
            .await?,
    ))
}

/// Apply the `log_retention` setting now (`baton prune`): deletes log entries and the
/// output of runs older than it, at most `limit` of each per call (`more` says whether to
/// call again); board events are never deleted. `dry_run` only counts. The server also
/// applies it by itself every few minutes.
#[utoipa::path(post, path = "/api/v1/operations/prune", tag = "events",
    request_body = baton_core::api::PruneRequest, params(super::AgentHeader),
    responses((status = 200, body = baton_core::api::PruneReport),
        (status = 422, body = ErrorBody)))]
async fn prune(
    State(s): State<AppState>,
    super::Actor(actor): super::Actor,
    crate::error::Body(request): crate::error::Body<baton_core::api::PruneRequest>,
) -> ApiResult<Json<baton_core::api::PruneReport>> {
    let workers = if request.dry_run {
        &s.readers
    } else {
        &s.writer
    };
    Ok(Json(
        workers
            .run(move |api| api.operations().prune(&actor, request.clone()))
            .await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnomaliesQuery {
    /// How far back to look: a duration (`24h`, the default) or an RFC 3339 time.
    since: Option<String>,
    /// Flag values more than this many standard deviations from their baseline (default 3).
    threshold: Option<f64>,
    /// The width of one step of the event-rate series (`10m`, the default; 1s to 1d).
    bucket: Option<String>,
    /// How many earlier values make a baseline (default 12, 3 to 1,000).
    window: Option<u32>,
}

fn bad_query(message: String, hint: &str) -> ApiError {
    ApiError::from(baton_core::Error::invalid_with_hint(message, hint))
}

/// What sits far from its baseline (`baton analyze anomalies`): event rates per step by
/// actor and by action, and each provider's run duration, tokens and cost, newest first.
#[utoipa::path(get, path = "/api/v1/operations/anomalies", tag = "events",
    params(AnomaliesQuery),
    responses((status = 200, body = Vec<baton_core::analysis::Anomaly>),
        (status = 422, body = ErrorBody)))]
async fn anomalies(
    State(s): State<AppState>,
    Query(q): Query<AnomaliesQuery>,
) -> ApiResult<Json<Vec<baton_core::analysis::Anomaly>>> {
    use baton_core::time::parse_duration;
    let now = s.auth.now();
    let text = q.since.unwrap_or_else(|| "24h".into());
    let since = match parse_duration(&text) {
        Some(d) => now.minus(d.min(Duration::from_secs(366 * 86_400))),
        None => Timestamp::parse(&text).ok_or_else(|| {
            bad_query(
                format!("'{text}' is neither a duration nor an RFC 3339 time"),
                "for example 24h, 7d or 2026-11-21T14:00:00Z",
            )
        })?,
    };
    let text = q.bucket.unwrap_or_else(|| "10m".into());
    let bucket = parse_duration(&text).ok_or_else(|| {
        bad_query(
            format!("bucket '{text}' is not a duration"),
            "for example 10m or 1h",
        )
    })?;
    let w = baton_core::analysis::AnomalyWindow::new(
        since,
        now,
        bucket,
        q.window.unwrap_or(12) as usize,
        q.threshold.unwrap_or(3.0),
    )?;
    Ok(Json(
        s.readers
            .run(move |api| baton_core::analysis::read_anomalies(api, &w))
            .await?,
    ))
}
