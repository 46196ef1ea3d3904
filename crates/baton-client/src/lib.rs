//! The board over HTTP: [`Client`] implements the same [`Api`] as the in-process `Board`,
//! against a `baton serve`. The CLI uses it when `BATON_URL` (or `url` in
//! `.baton/config.toml`) is set; one conformance suite runs against both, so they cannot
//! drift.

use std::time::Duration;

mod instance;
mod merges;
mod plan;
mod webhooks;

use baton_core::api::{
    AccountUpdate, AnswerRequest, AskRequest, BlockRequest, DeleteRequest, DocFilter, DocPatch,
    DocSearch, DoneRequest, FileChange, FileChangeReport, GuardReport, HeartbeatRequest,
    ImportReport, ImportedBoard, InboxRequest, NewDoc, NewRun, NewTask, NoteRequest, PickupRequest,
    RejectRequest, ReleaseRequest, ReservationFilter, ReserveRequest, RunEnd, RunFilter, RunUpdate,
    TaskFilter, TaskPatch,
};
use baton_core::store::EventQuery;
use baton_core::{AccountState, LostTask, Run, RunId, RunLogLine};
use baton_core::{
    Agent, Api, BoardSummary, Doc, DocHit, DocId, DocSummary, DocVersion, Error, ErrorClass, Event,
    Heartbeat, Message, MessageId, PathCheck, Pickup, Project, Reservation, Result, Setting, Task,
    TaskId,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The header that names the acting agent (the server's `AGENT_HEADER`).
const AGENT_HEADER: &str = "X-Baton-Agent";

/// Largest answer read (a listing of a very large board).
const MAX_RESPONSE: u64 = 512 << 20;

pub struct Client {
    http: ureq::Agent,
    base: String,
    token: Option<String>,
    /// The project the board's routes are for (`/api/v1/projects/{key}/...`); `None`: the
    /// server's default project (`/api/v1/...`).
    project: Option<String>,
}

/// Routes of the instance (not of one project): never prefixed with a project.
const INSTANCE_ROUTES: [&str; 7] = [
    "/api/v1/auth/",
    "/api/v1/profile/",
    "/api/v1/users",
    "/api/v1/projects",
    "/api/v1/tokens",
    "/api/v1/instance/",
    "/api/v1/openapi.json",
];

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    hint: Option<String>,
}

enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Client {
    /// A client of the server at `url` (`http://127.0.0.1:7420`). `token` is sent as a
    /// bearer token when the server asks for one.
    pub fn new(url: &str, token: Option<String>) -> Result<Client> {
        let base = url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 9 {
            return Err(Error::invalid_with_hint(
                format!("'{url}' is not a server URL"),
                "BATON_URL looks like http://127.0.0.1:7420",
            ));
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(120)))
            .user_agent(concat!("baton/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            http: ureq::Agent::new_with_config(config),
            base,
            token,
            project: None,
        })
    }

    /// The same client, for project `key` (`None` or `default`: the default project).
    pub fn for_project(mut self, key: Option<&str>) -> Client {
        self.project = key
            .filter(|k| *k != baton_core::instance::DEFAULT_PROJECT)
            .map(String::from);
        self
    }

    /// The URL of `path`, inside the client's project when it is a project's route.
    fn url_of(&self, path: &str) -> String {
        match (&self.project, path.strip_prefix("/api/v1/")) {
            (Some(key), Some(rest)) if !INSTANCE_ROUTES.iter().any(|r| path.starts_with(r)) => {
                format!("{}/api/v1/projects/{}/{rest}", self.base, segment(key))
            }
            _ => format!("{}{path}", self.base),
        }
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET /health`: the server's status and version.
    pub fn health(&self) -> Result<serde_json::Value> {
        self.get("/health", &[])
    }

    /// Sends one request and reads the answer, turning error answers back into the errors
    /// the server reported.
    fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        actor: Option<&str>,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T> {
        let url = self.url_of(path);
        let unreachable = |e: ureq::Error| Error::Unavailable {
            message: format!("cannot reach the Baton server at {}: {e}", self.base),
            hint: Some(
                "start it with `baton server start`, or unset BATON_URL to use the local database"
                    .into(),
            ),
        };
        macro_rules! send {
            ($builder:expr) => {{
                let mut b = $builder;
                for (k, v) in query {
                    b = b.query(k, v);
                }
                if let Some(a) = actor {
                    b = b.header(AGENT_HEADER, a);
                }
                if let Some(t) = &self.token {
                    b = b.header("Authorization", &format!("Bearer {t}"));
                }
                b
            }};
        }
        let response = match method {
            Method::Get => send!(self.http.get(&url)).call(),
            Method::Delete => send!(self.http.delete(&url)).call(),
            Method::Post | Method::Put | Method::Patch => {
                let b = match method {
                    Method::Post => send!(self.http.post(&url)),
                    Method::Put => send!(self.http.put(&url)),
                    _ => send!(self.http.patch(&url)),
                };
                let bytes = match body {
                    Some(body) => serde_json::to_vec(body)
                        .map_err(|e| Error::Internal(format!("cannot encode the request: {e}")))?,
                    None => b"{}".to_vec(),
                };
                b.header("Content-Type", "application/json")
                    .send(&bytes[..])
            }
        };
        let mut response = response.map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(unreachable)?;
        if (200..300).contains(&status) {
            let text = if text.trim().is_empty() {
                "null"
            } else {
                &text
            };
            return serde_json::from_str(text).map_err(|e| {
                Error::Internal(format!(
                    "the server's answer to {path} is not what this client expects ({e}); \
                     are client and server the same version?"
                ))
            });
        }
        Err(remote_error(status, path, &text))
    }

    fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        self.call::<(), T>(Method::Get, path, None, query, None)
    }

    /// The server's `/metrics` exposition, as text.
    pub fn metrics(&self) -> Result<String> {
        let url = format!("{}/metrics", self.base);
        let mut request = self.http.get(&url);
        if let Some(t) = &self.token {
            request = request.header("Authorization", &format!("Bearer {t}"));
        }
        let unreachable = |e: ureq::Error| Error::Unavailable {
            message: format!("cannot reach the Baton server at {}: {e}", self.base),
            hint: Some("start it with `baton server start`".into()),
        };
        let mut response = request.call().map_err(unreachable)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_string()
            .map_err(unreachable)?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        Err(remote_error(status, "/metrics", &text))
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        actor: Option<&str>,
        body: &B,
    ) -> Result<T> {
        self.call(Method::Post, path, actor, &[], Some(body))
    }
}

/// Which events a live feed carries, and where it starts.
#[derive(Clone, Debug, Default)]
pub struct FollowFilter {
    /// Start after this event id (0: the whole log); `None`: with the next event.
    pub after: Option<u64>,
    pub task: Option<TaskId>,
    pub actor: Option<String>,
    /// An action or a prefix ending in `.` or `*`.
    pub action: Option<String>,
    pub session: Option<baton_core::SessionId>,
}

/// The server's live event stream (`GET /api/v1/events/stream`), read as an iterator that
/// blocks until the next event. Dropping it closes the connection.
pub struct EventFeed {
    lines: std::io::BufReader<ureq::BodyReader<'static>>,
    /// The id of the last event read, to resume from after a reconnect.
    pub last_id: Option<u64>,
}

impl Iterator for EventFeed {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        use std::io::BufRead;
        let mut id = None;
        let mut kind = String::new();
        let mut data = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            match self.lines.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(Error::Unavailable {
                        message: format!("the event stream broke: {e}"),
                        hint: Some("reconnect, passing the last event id to resume".into()),
                    }))
                }
            }
            let text = line.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                if !kind.is_empty() && kind != "message" {
                    // `ready` and any other named message: only its id matters.
                    if id.is_some() {
                        self.last_id = id;
                    }
                    (id, kind) = (None, String::new());
                    data.clear();
                    continue;
                }
                if data.is_empty() {
                    continue;
                }
                let event = serde_json::from_str::<Event>(&data).map_err(|e| {
                    Error::Internal(format!("an event on the stream is not readable: {e}"))
                });
                if let Ok(e) = &event {
                    self.last_id = Some(id.unwrap_or(e.id));
                }
                return Some(event);
            }
            if text.starts_with(':') {
                continue; // keep-alive comment
            }
            let (field, value) = text.split_once(':').unwrap_or((text, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "id" => id = value.parse().ok(),
                "event" => kind = value.to_string(),
                "data" => {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(value);
                }
                _ => {}
            }
        }
    }
}

impl Client {
    /// Opens the live event stream. Over a server this is how `events --follow`, `listen`
    /// and `ask --wait` wait without polling.
    pub fn follow(&self, filter: &FollowFilter) -> Result<EventFeed> {
        let url = self.url_of("/api/v1/events/stream");
        let mut request = self
            .http
            .get(&url)
            .config()
            .timeout_global(None)
            .timeout_recv_body(None)
            .build()
            .header("Accept", "text/event-stream");
        if let Some(after) = filter.after {
            request = request.header("Last-Event-ID", &after.to_string());
        }
        if let Some(t) = filter.task {
            request = request.query("task", t.to_string());
        }
        if let Some(a) = &filter.actor {
            request = request.query("actor", a);
        }
        if let Some(a) = &filter.action {
            request = request.query("action", a);
        }
        if let Some(s) = filter.session {
            request = request.query("session", s.to_string());
        }
        if let Some(t) = &self.token {
            request = request.header("Authorization", &format!("Bearer {t}"));
        }
        let response = request.call().map_err(|e| Error::Unavailable {
            message: format!("cannot reach the Baton server at {}: {e}", self.base),
            hint: Some("start it with `baton server start`".into()),
        })?;
        if !response.status().is_success() {
            let status = response.status().as_u16();
            let text = response.into_body().read_to_string().unwrap_or_default();
            return Err(remote_error(status, "/api/v1/events/stream", &text));
        }
        Ok(EventFeed {
            lines: std::io::BufReader::new(response.into_body().into_reader()),
            last_id: filter.after,
        })
    }
}

/// An error answer turned back into the error the server reported.
fn remote_error(status: u16, path: &str, text: &str) -> Error {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(ErrorBody { error }) => Error::Remote {
            class: ErrorClass::from_http_status(status),
            code: error.code,
            message: error.message,
            hint: error.hint,
        },
        Err(_) => Error::Remote {
            class: ErrorClass::from_http_status(status),
            code: format!("http_{status}"),
            message: format!(
                "the server answered {path} with HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ),
            hint: Some("is BATON_URL pointing at a Baton server?".into()),
        },
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn task_path(id: TaskId, action: &str) -> String {
    format!("/api/v1/tasks/{id}{action}")
}

impl Api for Client {
    fn instance(&self) -> &dyn baton_core::instance::Instance {
        self
    }

    fn plan(&self) -> &dyn baton_core::api::Plan {
        self
    }

    fn merges(&self) -> &dyn baton_core::api::Merges {
        self
    }

    fn errands(&self) -> &dyn baton_core::api::Errands {
        self
    }

    fn operations(&self) -> &dyn baton_core::api::Operations {
        self
    }

    fn webhooks(&self) -> &dyn baton_core::api::Webhooks {
        self
    }

    fn project(&self) -> Result<Project> {
        self.get("/api/v1/project", &[])
    }

    fn add_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>> {
        self.post("/api/v1/tasks/batch", Some(actor), &tasks)
    }

    fn check_tasks(&self, actor: &str, tasks: Vec<NewTask>) -> Result<Vec<Task>> {
        let query = [("dry_run", "true".to_string())];
        self.call(
            Method::Post,
            "/api/v1/tasks/batch",
            Some(actor),
            &query,
            Some(&tasks),
        )
    }

    fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if !filter.status.is_empty() {
            let list: Vec<&str> = filter.status.iter().map(|s| s.as_str()).collect();
            q.push(("status", list.join(",")));
        }
        if let Some(a) = &filter.assignee {
            q.push(("assignee", a.clone()));
        }
        if let Some(e) = &filter.epic {
            q.push(("epic", e.clone()));
        }
        if let Some(p) = filter.priority {
            q.push(("priority", p.to_string()));
        }
        if let Some(t) = &filter.text {
            q.push(("text", t.clone()));
        }
        if filter.include_deleted {
            q.push(("include_deleted", "true".into()));
        }
        if let Some(l) = filter.limit {
            q.push(("limit", l.to_string()));
        }
        if let Some(p) = filter.phase {
            q.push(("phase", p.to_string()));
        }
        if let Some(i) = filter.initiative {
            q.push(("initiative", i.to_string()));
        }
        if let Some(t) = filter.parent {
            q.push(("parent", t.to_string()));
        }
        self.get("/api/v1/tasks", &q)
    }

    fn get_task(&self, id: TaskId) -> Result<Task> {
        self.get(&task_path(id, ""), &[])
    }

    fn update_task(&self, actor: &str, id: TaskId, patch: TaskPatch) -> Result<Task> {
        self.call(
            Method::Patch,
            &task_path(id, ""),
            Some(actor),
            &[],
            Some(&patch),
        )
    }

    fn pickup(&self, agent: &str, request: &PickupRequest) -> Result<Pickup> {
        self.post("/api/v1/tasks/pickup", Some(agent), request)
    }

    fn done(&self, agent: &str, id: TaskId, request: DoneRequest) -> Result<Task> {
        self.post(&task_path(id, "/done"), Some(agent), &request)
    }

    fn approve(&self, actor: &str, id: TaskId, notes: Option<String>) -> Result<Task> {
        self.post(
            &task_path(id, "/approve"),
            Some(actor),
            &json!({ "notes": notes }),
        )
    }

    fn reject(&self, actor: &str, id: TaskId, request: RejectRequest) -> Result<Task> {
        self.post(&task_path(id, "/reject"), Some(actor), &request)
    }

    fn block(&self, actor: &str, id: TaskId, request: BlockRequest) -> Result<Task> {
        self.post(&task_path(id, "/block"), Some(actor), &request)
    }

    fn unblock(&self, actor: &str, id: TaskId) -> Result<Task> {
        self.post(&task_path(id, "/unblock"), Some(actor), &json!({}))
    }

    fn note(&self, actor: &str, id: TaskId, request: NoteRequest) -> Result<Task> {
        self.post(&task_path(id, "/notes"), Some(actor), &request)
    }

    fn delete(&self, actor: &str, id: TaskId, request: DeleteRequest) -> Result<Task> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(r) = request.reason {
            q.push(("reason", r));
        }
        if request.force {
            q.push(("force", "true".into()));
        }
        self.call::<(), Task>(Method::Delete, &task_path(id, ""), Some(actor), &q, None)
    }

    fn mine(&self, agent: &str) -> Result<Vec<Task>> {
        if agent.trim().is_empty() {
            // The same refusal the board gives, without an empty path segment.
            return baton_core::board::validate_agent_name(agent).map(|_| Vec::new());
        }
        self.get(&format!("/api/v1/agents/{}/tasks", segment(agent)), &[])
    }

    fn board(&self) -> Result<BoardSummary> {
        self.get("/api/v1/board", &[])
    }

    fn agents(&self) -> Result<Vec<Agent>> {
        self.get("/api/v1/agents", &[])
    }

    fn events(&self, query: &EventQuery) -> Result<Vec<Event>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(t) = query.task {
            q.push(("task", t.to_string()));
        }
        if let Some(a) = &query.actor {
            q.push(("actor", a.clone()));
        }
        if let Some(a) = &query.action {
            q.push(("action", a.clone()));
        }
        if let Some(s) = query.since {
            q.push(("since", s.to_string()));
        }
        if let Some(s) = query.session {
            q.push(("session", s.to_string()));
        }
        if let Some(a) = query.after_id {
            q.push(("after", a.to_string()));
        }
        if let Some(l) = query.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/events", &q)
    }

    fn settings(&self) -> Result<Vec<Setting>> {
        self.get("/api/v1/settings", &[])
    }

    fn set_setting(&self, actor: &str, key: &str, value: &str) -> Result<Setting> {
        self.call(
            Method::Put,
            &format!("/api/v1/settings/{}", segment(key)),
            Some(actor),
            &[],
            Some(&json!({ "value": value })),
        )
    }

    fn lost_tasks(&self, agent: &str) -> Result<Vec<LostTask>> {
        self.post("/api/v1/lost-tasks", Some(agent), &serde_json::json!({}))
    }

    fn heartbeat(&self, agent: &str, request: &HeartbeatRequest) -> Result<Heartbeat> {
        self.post("/api/v1/heartbeat", Some(agent), request)
    }

    fn reserve(&self, agent: &str, request: ReserveRequest) -> Result<Vec<Reservation>> {
        self.post("/api/v1/reservations", Some(agent), &request)
    }

    fn release(&self, agent: &str, request: ReleaseRequest) -> Result<Vec<Reservation>> {
        self.post("/api/v1/reservations/release", Some(agent), &request)
    }

    fn reservations(&self, filter: &ReservationFilter) -> Result<Vec<Reservation>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(a) = &filter.agent {
            q.push(("agent", a.clone()));
        }
        if let Some(p) = &filter.path {
            q.push(("path", p.clone()));
        }
        self.get("/api/v1/reservations", &q)
    }

    fn check_paths(&self, paths: &[String]) -> Result<Vec<PathCheck>> {
        self.post(
            "/api/v1/reservations/check",
            None,
            &json!({ "paths": paths }),
        )
    }

    fn guard(&self, committer: Option<&str>, paths: &[String]) -> Result<GuardReport> {
        self.post(
            "/api/v1/guard",
            None,
            &json!({ "committer": committer, "paths": paths }),
        )
    }

    fn record_changes(
        &self,
        editor: Option<&str>,
        changes: &[FileChange],
    ) -> Result<Vec<FileChangeReport>> {
        self.post(
            "/api/v1/file-changes",
            None,
            &json!({ "editor": editor, "changes": changes }),
        )
    }

    fn write_doc(&self, actor: &str, doc: NewDoc) -> Result<Doc> {
        self.post("/api/v1/docs", Some(actor), &doc)
    }

    fn get_doc(&self, id: DocId) -> Result<Doc> {
        self.get(&format!("/api/v1/docs/{id}"), &[])
    }

    fn list_docs(&self, filter: &DocFilter) -> Result<Vec<DocSummary>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(k) = filter.kind {
            q.push(("type", k.to_string()));
        }
        if let Some(t) = &filter.tag {
            q.push(("tag", t.clone()));
        }
        if let Some(t) = filter.task {
            q.push(("task", t.to_string()));
        }
        if filter.include_deleted {
            q.push(("include_deleted", "true".into()));
        }
        if let Some(l) = filter.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/docs", &q)
    }

    fn update_doc(&self, actor: &str, id: DocId, patch: DocPatch) -> Result<Doc> {
        self.call(
            Method::Patch,
            &format!("/api/v1/docs/{id}"),
            Some(actor),
            &[],
            Some(&patch),
        )
    }

    fn doc_history(&self, id: DocId) -> Result<Vec<DocVersion>> {
        self.get(&format!("/api/v1/docs/{id}/history"), &[])
    }

    fn delete_doc(&self, actor: &str, id: DocId) -> Result<Doc> {
        self.call::<(), Doc>(
            Method::Delete,
            &format!("/api/v1/docs/{id}"),
            Some(actor),
            &[],
            None,
        )
    }

    fn search_docs(&self, search: &DocSearch) -> Result<Vec<DocHit>> {
        let mut q: Vec<(&str, String)> = vec![("q", search.query.clone())];
        if let Some(k) = search.kind {
            q.push(("type", k.to_string()));
        }
        if let Some(l) = search.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/docs/search", &q)
    }

    fn ask(&self, actor: &str, request: AskRequest) -> Result<Message> {
        self.post("/api/v1/messages", Some(actor), &request)
    }

    fn answer(&self, actor: &str, id: MessageId, request: AnswerRequest) -> Result<Message> {
        self.post(
            &format!("/api/v1/messages/{id}/answer"),
            Some(actor),
            &request,
        )
    }

    fn inbox(&self, actor: &str, request: &InboxRequest) -> Result<Vec<Message>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if request.all {
            q.push(("all", "true".into()));
        }
        if let Some(r) = request.reply_to {
            q.push(("reply_to", r.to_string()));
        }
        if let Some(l) = request.limit {
            q.push(("limit", l.to_string()));
        }
        self.call::<(), Vec<Message>>(Method::Get, "/api/v1/messages/inbox", Some(actor), &q, None)
    }

    fn thread(&self, id: MessageId) -> Result<Vec<Message>> {
        self.get(&format!("/api/v1/messages/{id}/thread"), &[])
    }

    fn messages(&self, limit: Option<u64>) -> Result<Vec<Message>> {
        let q: Vec<(&str, String)> = limit
            .map(|l| ("limit", l.to_string()))
            .into_iter()
            .collect();
        self.get("/api/v1/messages", &q)
    }

    fn import_board(&self, actor: &str, board: ImportedBoard) -> Result<ImportReport> {
        self.post("/api/v1/import", Some(actor), &board)
    }

    fn start_run(&self, actor: &str, run: NewRun) -> Result<Run> {
        self.post("/api/v1/runs", Some(actor), &run)
    }

    fn update_run(&self, actor: &str, id: RunId, update: RunUpdate) -> Result<Run> {
        self.call(
            Method::Patch,
            &format!("/api/v1/runs/{id}"),
            Some(actor),
            &[],
            Some(&update),
        )
    }

    fn finish_run(&self, actor: &str, id: RunId, end: RunEnd) -> Result<Run> {
        self.post(&format!("/api/v1/runs/{id}/finish"), Some(actor), &end)
    }

    fn get_run(&self, id: RunId) -> Result<Run> {
        self.get(&format!("/api/v1/runs/{id}"), &[])
    }

    fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if !filter.status.is_empty() {
            let list: Vec<&str> = filter.status.iter().map(|s| s.as_str()).collect();
            q.push(("status", list.join(",")));
        }
        if let Some(t) = filter.task {
            q.push(("task", t.to_string()));
        }
        if let Some(h) = &filter.host {
            q.push(("host", h.clone()));
        }
        if let Some(l) = filter.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/runs", &q)
    }

    fn stop_run(&self, actor: &str, id: RunId) -> Result<Run> {
        self.post(&format!("/api/v1/runs/{id}/stop"), Some(actor), &json!({}))
    }

    fn retry_run(&self, actor: &str, id: RunId) -> Result<Task> {
        self.post(&format!("/api/v1/runs/{id}/retry"), Some(actor), &json!({}))
    }

    fn append_run_log(&self, id: RunId, lines: Vec<String>) -> Result<u64> {
        #[derive(Deserialize)]
        struct Count {
            lines: u64,
        }
        let count: Count = self.post(
            &format!("/api/v1/runs/{id}/log"),
            None,
            &json!({ "lines": lines }),
        )?;
        Ok(count.lines)
    }

    fn run_log(&self, id: RunId, after: u64, limit: u64) -> Result<Vec<RunLogLine>> {
        self.get(
            &format!("/api/v1/runs/{id}/log"),
            &[("after", after.to_string()), ("limit", limit.to_string())],
        )
    }

    fn set_account(&self, actor: &str, update: AccountUpdate) -> Result<AccountState> {
        self.call(
            Method::Put,
            "/api/v1/accounts",
            Some(actor),
            &[],
            Some(&update),
        )
    }

    fn accounts(&self, provider: Option<&str>) -> Result<Vec<AccountState>> {
        let q: Vec<(&str, String)> = provider
            .map(|p| ("provider", p.to_string()))
            .into_iter()
            .collect();
        self.get("/api/v1/accounts", &q)
    }
}

impl baton_core::api::Operations for Client {
    fn log(&self, actor: &str, entry: baton_core::api::NewLogEntry) -> Result<Event> {
        self.post("/api/v1/log", Some(actor), &entry)
    }

    fn log_batch(
        &self,
        actor: &str,
        batch: baton_core::api::LogBatch,
    ) -> Result<baton_core::api::LogBatchReport> {
        self.post("/api/v1/log/batch", Some(actor), &batch)
    }

    fn start_session(
        &self,
        actor: &str,
        new: baton_core::api::NewSession,
    ) -> Result<baton_core::model::Session> {
        self.post("/api/v1/sessions", Some(actor), &new)
    }

    fn stop_session(
        &self,
        actor: &str,
        stop: baton_core::api::StopSession,
    ) -> Result<baton_core::model::Session> {
        self.post("/api/v1/sessions/stop", Some(actor), &stop)
    }

    fn session(&self, id: baton_core::SessionId) -> Result<baton_core::model::SessionInfo> {
        self.get(&format!("/api/v1/sessions/{id}"), &[])
    }

    fn sessions(
        &self,
        query: &baton_core::api::SessionQuery,
    ) -> Result<Vec<baton_core::model::Session>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(i) = &query.identity {
            q.push(("identity", i.clone()));
        }
        if query.open {
            q.push(("open", "true".into()));
        }
        if let Some(l) = query.limit {
            q.push(("limit", l.to_string()));
        }
        self.get("/api/v1/sessions", &q)
    }

    fn record_telemetry(
        &self,
        _actor: &str,
        _batch: baton_core::api::TelemetryBatch,
    ) -> Result<baton_core::api::TelemetryReport> {
        Err(Error::invalid_with_hint(
            "telemetry reaches a server over OTLP, not through this client",
            format!(
                "point the agent's exporter at the server: OTEL_EXPORTER_OTLP_ENDPOINT={}/api/v1/otlp",
                self.base
            ),
        ))
    }

    fn telemetry(&self, run: baton_core::RunId) -> Result<Vec<baton_core::model::TelemetrySeries>> {
        self.get(&format!("/api/v1/runs/{run}/telemetry"), &[])
    }

    fn prune(
        &self,
        actor: &str,
        request: baton_core::api::PruneRequest,
    ) -> Result<baton_core::api::PruneReport> {
        self.post("/api/v1/operations/prune", Some(actor), &request)
    }

    fn stats(&self, log_after: u64) -> Result<baton_core::api::OperationsStats> {
        self.get(
            "/api/v1/operations/stats",
            &[("after", log_after.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(segment("claude-1"), "claude-1");
        assert_eq!(segment("../x y"), "..%2Fx%20y");
    }

    #[test]
    fn a_url_without_a_scheme_is_refused_with_a_hint() {
        let e = Client::new("localhost:7420", None).err().unwrap();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.hint().unwrap().contains("http://"));
    }
}
