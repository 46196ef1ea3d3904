//! The tool catalog and what each tool does. Descriptions are terse on purpose: every
//! word here is paid for by every agent session that lists the tools.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baton_code::{CodeIndex, SymbolKind, SymbolQuery};
use baton_core::api::{
    AnswerRequest, AskRequest, BlockRequest, DocPatch, DocSearch, DoneRequest, HeartbeatRequest,
    InboxRequest, NewDoc, NewTask, NoteRequest, PickupRequest, ReleaseRequest, ReserveRequest,
    TaskFilter, TaskPatch, HUMAN,
};
use baton_core::{DocId, MessageId, ReservationMode, Status, TaskId};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::args::Args;
use crate::compact::{self, pick, prune};
use crate::{Host, Job, ToolError};

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Bool,
    List,
    OneOf(&'static [&'static str]),
}

/// One argument: its name, type and (only where the name is not enough) a few words.
type Param = (&'static str, Ty, &'static str);

pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    params: &'static [Param],
    required: &'static [&'static str],
}

const AGENT: Param = ("agent", Ty::Str, "");
const STATUSES: &[&str] = &[
    "backlog",
    "open",
    "in-progress",
    "review",
    "done",
    "blocked",
];

const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "pickup",
        description: "Claim your next task: the best ready one, or `id`. Returns it with its fence; its files are reserved for you.",
        params: &[
            ("id", Ty::Str, ""),
            ("capability", Ty::Str, ""),
            ("category", Ty::Str, "plan, research, execute..."),
            ("initiative", Ty::Str, "I-1"),
            AGENT,
        ],
        required: &[],
    },
    ToolSpec {
        name: "task",
        description: "Get task `id` (details, notes), or list tasks.",
        params: &[
            ("id", Ty::Str, "T-12"),
            ("status", Ty::Str, "comma-separated"),
            ("assignee", Ty::Str, "`me` for yours"),
            ("epic", Ty::Str, ""),
            ("text", Ty::Str, ""),
            ("limit", Ty::Int, "default 30"),
            AGENT,
        ],
        required: &[],
    },
    ToolSpec {
        name: "task_add",
        description: "Add a task.",
        params: &[
            ("title", Ty::Str, ""),
            ("description", Ty::Str, ""),
            ("priority", Ty::OneOf(&["P0", "P1", "P2"]), ""),
            ("epic", Ty::Str, ""),
            ("depends_on", Ty::List, "task ids"),
            ("files", Ty::List, "globs it will touch"),
            ("verify", Ty::Str, "command that checks it"),
            ("acceptance", Ty::List, ""),
            ("backlog", Ty::Bool, "not ready yet"),
            AGENT,
        ],
        required: &["title"],
    },
    ToolSpec {
        name: "task_update",
        description: "Change task fields; `status` moves it through the lifecycle.",
        params: &[
            ("id", Ty::Str, ""),
            ("title", Ty::Str, ""),
            ("description", Ty::Str, ""),
            ("status", Ty::OneOf(STATUSES), ""),
            ("priority", Ty::OneOf(&["P0", "P1", "P2"]), ""),
            ("epic", Ty::Str, ""),
            ("depends_on", Ty::List, ""),
            ("files", Ty::List, ""),
            ("verify", Ty::Str, ""),
            AGENT,
        ],
        required: &["id"],
    },
    ToolSpec {
        name: "done",
        description: "Finish your task (to review). Say what changed in `notes`; `summary` goes to the tasks depending on it.",
        params: &[
            ("id", Ty::Str, ""),
            ("notes", Ty::Str, ""),
            ("summary", Ty::Str, ""),
            AGENT,
        ],
        required: &["id"],
    },
    ToolSpec {
        name: "block",
        description: "Mark a task blocked, with the reason; `unblock` reopens it.",
        params: &[
            ("id", Ty::Str, ""),
            ("reason", Ty::Str, ""),
            ("unblock", Ty::Bool, ""),
            AGENT,
        ],
        required: &["id"],
    },
    ToolSpec {
        name: "note",
        description: "Add a note to a task: progress, findings, hand-over.",
        params: &[("id", Ty::Str, ""), ("text", Ty::Str, ""), AGENT],
        required: &["id", "text"],
    },
    ToolSpec {
        name: "heartbeat",
        description: "Renew your task leases and reservations. Call every few minutes while working.",
        params: &[AGENT],
        required: &[],
    },
    ToolSpec {
        name: "reserve",
        description: "Reserve file globs before editing outside your task's files; `release` frees them (no globs: all).",
        params: &[
            ("globs", Ty::List, ""),
            ("shared", Ty::Bool, "others may share"),
            ("ttl", Ty::Str, "e.g. 30m"),
            ("task", Ty::Str, ""),
            ("release", Ty::Bool, ""),
            AGENT,
        ],
        required: &[],
    },
    ToolSpec {
        name: "docs",
        description: "Search the team's docs (`q`) or read one (`id`). Check before deciding or asking.",
        params: &[
            ("q", Ty::Str, ""),
            ("id", Ty::Str, "D-3"),
            ("type", Ty::Str, ""),
            ("limit", Ty::Int, ""),
        ],
        required: &[],
    },
    ToolSpec {
        name: "doc_write",
        description: "Record a doc, or a new version of `id`.",
        params: &[
            ("id", Ty::Str, ""),
            (
                "type",
                Ty::OneOf(&["operational", "decision", "reference", "learning", "review"]),
                "",
            ),
            ("title", Ty::Str, ""),
            ("body", Ty::Str, "markdown"),
            ("tags", Ty::List, ""),
            ("tasks", Ty::List, ""),
            AGENT,
        ],
        required: &[],
    },
    ToolSpec {
        name: "ask",
        description: "Ask `to` (an agent, a task id's holder, `human` or `any`) a question; `wait` seconds for the answer.",
        params: &[
            ("to", Ty::Str, ""),
            ("text", Ty::Str, ""),
            ("wait", Ty::Int, "max 300"),
            AGENT,
        ],
        required: &["to", "text"],
    },
    ToolSpec {
        name: "inbox",
        description: "Questions to you and answers to yours, unread; `all` includes read.",
        params: &[("all", Ty::Bool, ""), AGENT],
        required: &[],
    },
    ToolSpec {
        name: "answer",
        description: "Answer question `id`.",
        params: &[("id", Ty::Str, "M-4"), ("text", Ty::Str, ""), AGENT],
        required: &["id", "text"],
    },
    ToolSpec {
        name: "plan",
        description: "Initiatives' phases and reviews. op: `phases` (of `initiative`), `phase` (`id`: tasks, open comments), `propose` a change for a person to accept (`initiative`, `target`, `title`, `content`: JSON text, see `baton proposal add --help`), `comment` on a `phase` or `task` (`body`, `file`, `line`, `reply_to`).",
        params: &[
            ("op", Ty::OneOf(&["phases", "phase", "propose", "comment"]), ""),
            ("id", Ty::Str, "P-2"),
            ("initiative", Ty::Str, ""),
            ("target", Ty::OneOf(&["page", "phase", "task", "plan"]), ""),
            ("title", Ty::Str, ""),
            ("content", Ty::Str, ""),
            ("phase", Ty::Str, ""),
            ("task", Ty::Str, ""),
            ("body", Ty::Str, ""),
            ("file", Ty::Str, ""),
            ("line", Ty::Int, ""),
            ("reply_to", Ty::Str, "C-3"),
            AGENT,
        ],
        required: &["op"],
    },
    ToolSpec {
        name: "code",
        description: "Query the code index before grepping. symbols: by `name` (substring, `=` exact), `kind`, `file` prefix. outline/imports/dependents: of `file`.",
        params: &[
            ("op", Ty::OneOf(&["symbols", "outline", "imports", "dependents"]), ""),
            ("name", Ty::Str, ""),
            ("kind", Ty::Str, ""),
            ("file", Ty::Str, ""),
            ("depth", Ty::Int, ""),
            ("limit", Ty::Int, ""),
        ],
        required: &["op"],
    },
];

fn schema(spec: &ToolSpec) -> Map<String, Value> {
    let properties: Map<String, Value> = spec
        .params
        .iter()
        .map(|(name, ty, doc)| {
            let mut p = match ty {
                Ty::Str => json!({"type": "string"}),
                Ty::Int => json!({"type": "integer"}),
                Ty::Bool => json!({"type": "boolean"}),
                Ty::List => json!({"type": "array", "items": {"type": "string"}}),
                Ty::OneOf(values) => json!({"enum": values}),
            };
            if !doc.is_empty() {
                p["description"] = json!(doc);
            }
            (name.to_string(), p)
        })
        .collect();
    let mut s = Map::new();
    s.insert("type".into(), json!("object"));
    s.insert("properties".into(), Value::Object(properties));
    if !spec.required.is_empty() {
        s.insert("required".into(), json!(spec.required));
    }
    s
}

/// Every tool as `(name, description, input schema)`.
/// The argument names of tool `name`, if there is one.
pub(crate) fn param_names(name: &str) -> Option<Vec<&'static str>> {
    let spec = TOOLS.iter().find(|t| t.name == name)?;
    Some(spec.params.iter().map(|p| p.0).collect())
}

pub fn catalog() -> Vec<(&'static str, &'static str, Map<String, Value>)> {
    TOOLS
        .iter()
        .map(|t| (t.name, t.description, schema(t)))
        .collect()
}

fn known(spec: &'static ToolSpec) -> Vec<&'static str> {
    spec.params.iter().map(|p| p.0).collect()
}

/// The tools, bound to a host. Cheap to share: one per server, used by every session.
pub struct Tools {
    host: Arc<dyn Host>,
    /// Fences of the claims made through these tools, so that `done`, `block` and
    /// `note` carry them without the model having to repeat them.
    fences: Mutex<HashMap<(String, TaskId), u64>>,
}

fn to_value<T: Serialize>(v: T) -> baton_core::Result<Value> {
    serde_json::to_value(v).map_err(|e| baton_core::Error::Internal(e.to_string()))
}

impl Tools {
    pub fn new(host: Arc<dyn Host>) -> Self {
        Tools {
            host,
            fences: Mutex::new(HashMap::new()),
        }
    }

    /// Runs tool `name`. `caller` is the identity the transport knows (an HTTP header);
    /// an `agent` argument wins over it, and it wins over the host's default.
    pub async fn call(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        caller: Option<String>,
    ) -> Result<Value, ToolError> {
        self.call_as(name, arguments, caller, None).await
    }

    /// [`Tools::call`] for a caller a team server authenticated: the tool's action must be
    /// allowed to its role, and a credential bound to an agent acts only as that agent.
    pub async fn call_as(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        caller: Option<String>,
        grant: Option<&baton_core::auth::Grant>,
    ) -> Result<Value, ToolError> {
        let Some(spec) = TOOLS.iter().find(|t| t.name == name) else {
            let names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
            return Err(ToolError::new(
                "unknown_tool",
                format!("there is no tool `{name}`"),
                Some(format!("the tools: {}", names.join(", "))),
            ));
        };
        let known = known(spec);
        if let Some(unknown) = arguments.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ToolError::invalid(
                format!("`{name}` has no argument `{unknown}`"),
                format!("its arguments: {}", known.join(", ")),
            ));
        }
        let arguments_op = arguments
            .get("op")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut args = Args::new(spec.name, arguments);
        let named = args
            .opt_str("agent")?
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .or(caller);
        let who = match grant {
            Some(grant) => {
                let op = arguments_op.as_deref();
                grant.require(tool_action(spec.name, op))?;
                Some(grant.acting_as(named.as_deref())?)
            }
            None => named.or_else(|| self.host.default_agent()),
        };
        let call = Call { who, args };
        match spec.name {
            "pickup" => self.pickup(call).await,
            "task" => self.task(call).await,
            "task_add" => self.task_add(call).await,
            "task_update" => self.task_update(call).await,
            "done" => self.done(call).await,
            "block" => self.block(call).await,
            "note" => self.note(call).await,
            "heartbeat" => self.heartbeat(call).await,
            "reserve" => self.reserve(call).await,
            "docs" => self.docs(call).await,
            "doc_write" => self.doc_write(call).await,
            "ask" => self.ask(call).await,
            "inbox" => self.inbox(call).await,
            "answer" => self.answer(call).await,
            "plan" => self.plan(call).await,
            _ => self.code(call).await,
        }
    }

    async fn write(&self, job: Job) -> Result<Value, ToolError> {
        Ok(self.host.run(true, job).await?)
    }

    async fn read(&self, job: Job) -> Result<Value, ToolError> {
        Ok(self.host.run(false, job).await?)
    }

    fn fence(&self, agent: &str, id: TaskId) -> Option<u64> {
        let fences = self.fences.lock().ok()?;
        fences.get(&(agent.to_string(), id)).copied()
    }

    fn remember(&self, agent: &str, id: TaskId, fence: Option<u64>) {
        if let Ok(mut fences) = self.fences.lock() {
            match fence {
                Some(f) => fences.insert((agent.to_string(), id), f),
                None => fences.remove(&(agent.to_string(), id)),
            };
        }
    }

    async fn pickup(&self, mut c: Call) -> Result<Value, ToolError> {
        let agent = c.agent()?;
        let request = PickupRequest {
            category: c.args.opt_parse("category")?,
            initiative: c.args.opt_parse("initiative")?,
            id: c.args.opt_parse::<TaskId>("id")?,
            capability: c.args.opt_str("capability")?,
            explain: false,
        };
        let who = agent.clone();
        let picked = self
            .write(Box::new(move |api| to_value(api.pickup(&who, &request)?)))
            .await?;
        let task = picked["task"].clone();
        let context = picked["context"].clone();
        if let (Some(id), Some(fence)) = (
            task["id"].as_str().and_then(|s| s.parse::<TaskId>().ok()),
            picked["claim"]["fence"].as_u64(),
        ) {
            self.remember(&agent, id, Some(fence));
        }
        // The claim's fence and lease are the task's own: say them once.
        let mut reply = compact::without(compact::task(task), &["status", "assignee", "deps_met"]);
        if context.as_array().is_some_and(|c| !c.is_empty()) {
            reply["context"] = context;
        }
        Ok(reply)
    }

    async fn task(&self, mut c: Call) -> Result<Value, ToolError> {
        if let Some(id) = c.args.opt_parse::<TaskId>("id")? {
            let task = self
                .read(Box::new(move |api| to_value(api.get_task(id)?)))
                .await?;
            return Ok(compact::task(task));
        }
        let status = c
            .args
            .opt_parse_list::<Status>("status", &STATUSES.join(", "))?
            .unwrap_or_default();
        let assignee = match c.args.opt_str("assignee")? {
            Some(a) if a == "me" => Some(c.agent()?),
            other => other,
        };
        let filter = TaskFilter {
            status,
            assignee,
            epic: c.args.opt_str("epic")?,
            text: c.args.opt_str("text")?,
            limit: Some(c.args.opt_u64("limit")?.unwrap_or(30)).filter(|&n| n > 0),
            ..TaskFilter::default()
        };
        let tasks = self
            .read(Box::new(move |api| to_value(api.list_tasks(&filter)?)))
            .await?;
        Ok(map_array(tasks, compact::task_row))
    }

    async fn task_add(&self, mut c: Call) -> Result<Value, ToolError> {
        let actor = c.actor();
        let task = NewTask {
            title: c.args.str("title")?,
            description: c.args.opt_str("description")?,
            priority: c.args.opt_parse("priority")?,
            status: c.args.bool("backlog")?.then_some(Status::Backlog),
            epic: c.args.opt_str("epic")?,
            depends_on: c.args.list("depends_on")?,
            files: c.args.list("files")?,
            verify: c.args.opt_str("verify")?,
            acceptance_criteria: c.args.list("acceptance")?,
            ..NewTask::default()
        };
        let added = self
            .write(Box::new(move |api| {
                to_value(api.add_tasks(&actor, vec![task])?.remove(0))
            }))
            .await?;
        Ok(pick(added, &["id", "status"]))
    }

    async fn task_update(&self, mut c: Call) -> Result<Value, ToolError> {
        let actor = c.actor();
        let id = c.args.parse::<TaskId>("id")?;
        let depends_on = c
            .args
            .opt_parse_list::<TaskId>("depends_on", "ids like T-3")?;
        let patch = TaskPatch {
            title: c.args.opt_str("title")?,
            description: c.args.opt_str("description")?,
            priority: c.args.opt_parse("priority")?,
            status: c.args.opt_parse("status")?,
            epic: c.args.opt_str("epic")?,
            depends_on,
            files: c.args.opt_list("files")?,
            verify: c.args.opt_str("verify")?,
            ..TaskPatch::default()
        };
        let task = self
            .write(Box::new(move |api| {
                to_value(api.update_task(&actor, id, patch)?)
            }))
            .await?;
        Ok(compact::task(task))
    }

    async fn done(&self, mut c: Call) -> Result<Value, ToolError> {
        let agent = c.agent()?;
        let id = c.args.parse::<TaskId>("id")?;
        let request = DoneRequest {
            summary: c.args.opt_str("summary")?,
            notes: c.args.opt_str("notes")?,
            fence: self.fence(&agent, id),
        };
        let who = agent.clone();
        let task = self
            .write(Box::new(move |api| to_value(api.done(&who, id, request)?)))
            .await?;
        self.remember(&agent, id, None);
        Ok(pick(task, &["id", "status"]))
    }

    async fn block(&self, mut c: Call) -> Result<Value, ToolError> {
        let actor = c.actor();
        let id = c.args.parse::<TaskId>("id")?;
        let task = if c.args.bool("unblock")? {
            self.write(Box::new(move |api| to_value(api.unblock(&actor, id)?)))
                .await?
        } else {
            let request = BlockRequest {
                reason: c.args.str("reason")?,
                fence: self.fence(&actor, id),
            };
            self.write(Box::new(move |api| {
                to_value(api.block(&actor, id, request)?)
            }))
            .await?
        };
        Ok(pick(task, &["id", "status", "blocked_reason"]))
    }

    async fn note(&self, mut c: Call) -> Result<Value, ToolError> {
        let actor = c.actor();
        let id = c.args.parse::<TaskId>("id")?;
        let request = NoteRequest {
            text: c.args.str("text")?,
            fence: self.fence(&actor, id),
        };
        let task = self
            .write(Box::new(move |api| {
                to_value(api.note(&actor, id, request)?)
            }))
            .await?;
        let notes = task["notes"].as_array().map_or(0, Vec::len);
        Ok(json!({"id": task["id"], "notes": notes}))
    }

    async fn heartbeat(&self, c: Call) -> Result<Value, ToolError> {
        let agent = c.agent()?;
        let beat = self
            .write(Box::new(move |api| {
                to_value(api.heartbeat(&agent, &HeartbeatRequest::default())?)
            }))
            .await?;
        Ok(compact::without(beat, &["agent"]))
    }

    async fn reserve(&self, mut c: Call) -> Result<Value, ToolError> {
        let agent = c.agent()?;
        let globs = c.args.list("globs")?;
        let release = c.args.bool("release")?;
        let shared = c.args.bool("shared")?;
        let reservations = if release {
            let request = ReleaseRequest {
                all: globs.is_empty(),
                globs,
                with_task_surfaces: false,
            };
            self.write(Box::new(move |api| to_value(api.release(&agent, request)?)))
                .await?
        } else {
            // Core refuses an empty or oversized list, as on every surface.
            let request = ReserveRequest {
                globs,
                mode: if shared {
                    ReservationMode::Shared
                } else {
                    ReservationMode::Exclusive
                },
                ttl: c.args.opt_str("ttl")?,
                reason: None,
                task: c.args.opt_parse("task")?,
            };
            self.write(Box::new(move |api| to_value(api.reserve(&agent, request)?)))
                .await?
        };
        let key = if release { "released" } else { "reserved" };
        Ok(json!({ key: map_array(reservations, |r| {
            pick(r, &["glob", "mode", "task", "expires_at"])
        })}))
    }

    async fn docs(&self, mut c: Call) -> Result<Value, ToolError> {
        if let Some(id) = c.args.opt_parse::<DocId>("id")? {
            let doc = self
                .read(Box::new(move |api| to_value(api.get_doc(id)?)))
                .await?;
            return Ok(compact::without(doc, &["created_at", "deleted_at"]));
        }
        let search = DocSearch {
            query: c.args.str("q")?,
            kind: c.args.opt_parse("type")?,
            limit: Some(c.args.opt_u64("limit")?.unwrap_or(5)),
        };
        let hits = self
            .read(Box::new(move |api| to_value(api.search_docs(&search)?)))
            .await?;
        Ok(map_array(hits, |h| {
            pick(h, &["id", "type", "title", "tags", "snippet"])
        }))
    }

    async fn doc_write(&self, mut c: Call) -> Result<Value, ToolError> {
        let actor = c.actor();
        let tasks = c.args.opt_parse_list::<TaskId>("tasks", "ids like T-3")?;
        let doc = match c.args.opt_parse::<DocId>("id")? {
            Some(id) => {
                let patch = DocPatch {
                    kind: c.args.opt_parse("type")?,
                    title: c.args.opt_str("title")?,
                    body: c.args.opt_str("body")?,
                    tags: c.args.opt_list("tags")?,
                    tasks,
                };
                self.write(Box::new(move |api| {
                    to_value(api.update_doc(&actor, id, patch)?)
                }))
                .await?
            }
            None => {
                let doc = NewDoc {
                    kind: c.args.parse("type")?,
                    title: c.args.str("title")?,
                    body: c.args.str("body")?,
                    tags: c.args.list("tags")?,
                    tasks: tasks.unwrap_or_default(),
                    author: None,
                };
                self.write(Box::new(move |api| to_value(api.write_doc(&actor, doc)?)))
                    .await?
            }
        };
        Ok(pick(doc, &["id", "version"]))
    }

    async fn ask(&self, mut c: Call) -> Result<Value, ToolError> {
        let agent = c.agent()?;
        let request = AskRequest {
            task: None,
            to: c.args.str("to")?,
            body: c.args.str("text")?,
        };
        let wait = c.args.opt_u64("wait")?.unwrap_or(0).min(300);
        let asked = self
            .write(Box::new(move |api| to_value(api.ask(&agent, request)?)))
            .await?;
        let id = asked["id"]
            .as_str()
            .and_then(|s| s.parse::<MessageId>().ok());
        let mut reply = pick(asked, &["id", "to", "task", "warning"]);
        let (Some(id), true) = (id, wait > 0) else {
            return Ok(reply);
        };
        let deadline = Instant::now() + Duration::from_secs(wait);
        loop {
            let thread = self
                .read(Box::new(move |api| to_value(api.thread(id)?)))
                .await?;
            let answer = thread
                .as_array()
                .and_then(|t| t.iter().find(|m| m["reply_to"].as_str().is_some()));
            if let Some(answer) = answer {
                reply["answer"] = pick(answer.clone(), &["from", "body"]);
                return Ok(reply);
            }
            if Instant::now() >= deadline {
                reply["answer"] = Value::Null;
                reply["hint"] = json!("no answer yet: check `inbox` later");
                return Ok(prune(reply));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn inbox(&self, mut c: Call) -> Result<Value, ToolError> {
        let agent = c.agent()?;
        let request = InboxRequest {
            all: c.args.bool("all")?,
            ..InboxRequest::default()
        };
        let messages = self
            .write(Box::new(move |api| to_value(api.inbox(&agent, &request)?)))
            .await?;
        Ok(map_array(messages, |m| {
            pick(
                m,
                &["id", "from", "task", "body", "reply_to", "answered_by"],
            )
        }))
    }

    async fn answer(&self, mut c: Call) -> Result<Value, ToolError> {
        let actor = c.actor();
        let id = c.args.parse::<MessageId>("id")?;
        let request = AnswerRequest {
            body: c.args.str("text")?,
        };
        let message = self
            .write(Box::new(move |api| {
                to_value(api.answer(&actor, id, request)?)
            }))
            .await?;
        Ok(pick(message, &["id", "to", "reply_to"]))
    }

    async fn code(&self, mut c: Call) -> Result<Value, ToolError> {
        let Some(root) = self.host.code_root() else {
            return Err(ToolError::new(
                "code_index_missing",
                "no project directory, so no code index",
                Some("run the MCP server inside the repository, after `baton scan`".into()),
            ));
        };
        let op = c.args.str("op")?;
        let file = c.args.opt_str("file")?;
        let need_file = || {
            file.clone().ok_or_else(|| {
                ToolError::invalid(format!("`{op}` needs `file`"), "a project-relative path")
            })
        };
        let query: CodeQuery = match op.as_str() {
            "symbols" => {
                let kind = match c.args.opt_str("kind")? {
                    None => None,
                    Some(k) => Some(SymbolKind::parse(&k).ok_or_else(|| {
                        let kinds: Vec<&str> = SymbolKind::ALL.iter().map(|k| k.as_str()).collect();
                        ToolError::invalid(
                            format!("`kind`: no kind `{k}`"),
                            format!("one of {}", kinds.join(", ")),
                        )
                    })?),
                };
                let q = SymbolQuery {
                    name: c.args.opt_str("name")?,
                    kind,
                    file_prefix: file,
                    exported_only: false,
                    limit: c.args.opt_u64("limit")?.unwrap_or(30) as usize,
                };
                Box::new(move |index| Ok(symbols(index.symbols(&q)?)))
            }
            "outline" => {
                let file = need_file()?;
                Box::new(move |index| Ok(symbols(index.outline(&file)?)))
            }
            "imports" => {
                let file = need_file()?;
                Box::new(move |index| Ok(prune(json!(index.imports(&file)?))))
            }
            "dependents" => {
                let file = need_file()?;
                let depth = c.args.opt_u64("depth")?.unwrap_or(1).min(u32::MAX as u64) as u32;
                Box::new(move |index| Ok(prune(json!(index.dependents(&file, depth)?))))
            }
            other => {
                return Err(ToolError::invalid(
                    format!("`op`: no operation `{other}`"),
                    "one of symbols, outline, imports, dependents",
                ))
            }
        };
        tokio::task::spawn_blocking(move || {
            let index = CodeIndex::open(&root)?;
            query(&index)
        })
        .await
        .map_err(|e| ToolError::new("internal", e.to_string(), None))?
        .map_err(ToolError::from)
    }
}

/// Symbols without what repeats: `end_line` only when it differs, `exported` only when
/// true, the signature only when it says more than the name.
fn symbols(list: Vec<baton_code::Symbol>) -> Value {
    Value::Array(
        list.into_iter()
            .map(|s| {
                let mut v = json!({"name": s.name, "kind": s.kind, "file": s.file, "line": s.line});
                if s.end_line != s.line {
                    v["end_line"] = json!(s.end_line);
                }
                if let Some(c) = s.container {
                    v["container"] = json!(c);
                }
                if s.signature != s.name && !s.signature.is_empty() {
                    v["signature"] = json!(s.signature);
                }
                if s.exported {
                    v["exported"] = json!(true);
                }
                v
            })
            .collect(),
    )
}

fn map_array(value: Value, f: impl Fn(Value) -> Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(f).collect()),
        other => f(other),
    }
}

impl Tools {
    async fn plan(&self, mut c: Call) -> Result<Value, ToolError> {
        use baton_core::api::{CommentFilter, NewComment, NewProposal};
        use baton_core::{CommentId, InitiativeId, PhaseId};
        let op = c.args.str("op")?;
        match op.as_str() {
            "phases" => {
                let initiative = c.args.opt_parse::<InitiativeId>("initiative")?;
                let phases = self
                    .read(Box::new(move |api| {
                        to_value(api.plan().list_phases(initiative)?)
                    }))
                    .await?;
                Ok(map_array(phases, |p| {
                    pick(
                        p,
                        &[
                            "id",
                            "initiative",
                            "name",
                            "status",
                            "open",
                            "depends_on",
                            "tasks",
                        ],
                    )
                }))
            }
            "phase" => {
                let id = c.args.parse::<PhaseId>("id")?;
                let value = self
                    .read(Box::new(move |api| {
                        let phase = api.plan().get_phase(id)?;
                        let tasks = api.list_tasks(&TaskFilter {
                            phase: Some(id),
                            ..TaskFilter::default()
                        })?;
                        let comments = api.plan().list_comments(&CommentFilter {
                            phase: Some(id),
                            open: true,
                            ..CommentFilter::default()
                        })?;
                        to_value(json!({"phase": phase, "tasks": tasks, "comments": comments}))
                    }))
                    .await?;
                let mut out = Map::new();
                out.insert(
                    "phase".into(),
                    compact::without(value["phase"].clone(), &["created_at", "updated_at"]),
                );
                out.insert(
                    "tasks".into(),
                    map_array(value["tasks"].clone(), compact::task_row),
                );
                out.insert(
                    "comments".into(),
                    map_array(value["comments"].clone(), |c| {
                        compact::without(c, &["created_at", "updated_at", "resolved"])
                    }),
                );
                Ok(prune(Value::Object(out)))
            }
            "propose" => {
                let actor = c.actor();
                let text = c.args.str("content")?;
                let content: Value = serde_json::from_str(&text).map_err(|e| {
                    ToolError::invalid(
                        format!("`content` is not JSON: {e}"),
                        "pass the change as JSON text, e.g. {\"phases\": [...]}",
                    )
                })?;
                let new = NewProposal {
                    initiative: c.args.parse::<InitiativeId>("initiative")?,
                    target: c.args.parse("target")?,
                    target_id: c.args.opt_str("id")?,
                    title: c.args.str("title")?,
                    summary: c.args.opt_str("body")?,
                    content,
                    task: c.args.opt_parse::<TaskId>("task")?,
                };
                let p = self
                    .write(Box::new(move |api| {
                        to_value(api.plan().propose(&actor, new)?)
                    }))
                    .await?;
                Ok(pick(p, &["id", "status"]))
            }
            "comment" => {
                let actor = c.actor();
                let new = NewComment {
                    phase: c.args.opt_parse::<PhaseId>("phase")?,
                    task: c.args.opt_parse::<TaskId>("task")?,
                    reply_to: c.args.opt_parse::<CommentId>("reply_to")?,
                    file: c.args.opt_str("file")?,
                    line: c.args.opt_u64("line")?,
                    side: None,
                    body: c.args.str("body")?,
                };
                let comment = self
                    .write(Box::new(move |api| {
                        to_value(api.plan().add_comment(&actor, new)?)
                    }))
                    .await?;
                Ok(pick(comment, &["id", "phase", "task"]))
            }
            other => Err(ToolError::invalid(
                format!("`plan` has no op `{other}`"),
                "its ops: phases, phase, propose, comment",
            )),
        }
    }
}

type CodeQuery = Box<dyn FnOnce(&CodeIndex) -> baton_code::Result<Value> + Send>;

/// What each tool does, for the policy (the same actions as the REST routes').
fn tool_action(name: &str, op: Option<&str>) -> baton_core::auth::Action {
    use baton_core::auth::Action::*;
    match name {
        "plan" if matches!(op, Some("propose" | "comment")) => Propose,
        "pickup" | "done" | "block" | "note" | "heartbeat" | "reserve" => Work,
        "task_add" => CreateTasks,
        "task_update" => EditTasks,
        "doc_write" => WriteDocs,
        "ask" | "answer" => Message,
        _ => Read,
    }
}

/// One call: who makes it and its remaining arguments.
struct Call {
    who: Option<String>,
    args: Args,
}

impl Call {
    /// The calling agent, which tools that act for an agent (pickup, done...) need.
    fn agent(&self) -> Result<String, ToolError> {
        self.who.clone().ok_or_else(|| {
            ToolError::new(
                "agent_required",
                "this tool acts for an agent, and none is known",
                Some("pass `agent`, or start the server with BATON_AGENT set".into()),
            )
        })
    }

    /// Who is recorded as the author: the agent, else the human at the keyboard.
    fn actor(&self) -> String {
        self.who.clone().unwrap_or_else(|| HUMAN.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_required_argument_is_a_parameter() {
        for t in TOOLS {
            for r in t.required {
                assert!(known(t).contains(r), "{}: {r}", t.name);
            }
        }
    }

    #[test]
    fn tool_names_are_unique() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len());
    }
}
