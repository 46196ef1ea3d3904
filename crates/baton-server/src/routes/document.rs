//! What the routes' own declarations leave to one place: the error answers that come from
//! the shared extractors, the body limits, the store and the request guards rather than
//! from a handler, and the links from the answers that create things to the operations
//! that take their ids. Applied to every operation, so a new route cannot forget them.

use serde_json::{json, Value};

use crate::access::Access;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// The answers an operation can give whatever its handler does, by what it takes.
const MALFORMED: (&str, &str) = (
    "400",
    "`malformed_json`: the body is not one well-formed JSON document.",
);
const FORBIDDEN: (&str, &str) = (
    "403",
    "`host_not_allowed` or `cross_site_request`: the request named a host this server does \
     not answer for, or came from another site's page.",
);
const TOO_LARGE: (&str, &str) = (
    "413",
    "`payload_too_large`: the body is over the limit (4 MiB; 32 MiB for \
     `/api/v1/tasks/batch` and `/api/v1/import`).",
);
const MEDIA_TYPE: (&str, &str) = (
    "415",
    "`unsupported_media_type`: the body is not sent as JSON.",
);
const INVALID: (&str, &str) = (
    "422",
    "`invalid_input`: a parameter or a field is missing, unknown, of the wrong type or shape \
     (a JSON object is expected where the schema says object), or breaks a rule.",
);
const UNAVAILABLE: (&str, &str) = (
    "503",
    "`unavailable`: the store cannot answer now (busy, unreachable, or the server is \
     stopping); retry.",
);

/// Descriptions for the answers a route declares without one.
const DEFAULTS: [(&str, &str); 8] = [
    MALFORMED,
    FORBIDDEN,
    (
        "404",
        "Not found: the id or name does not exist (the `code` says what).",
    ),
    (
        "409",
        "Conflict with the board's state: a transition the lifecycle does not allow, a \
         reservation held by another agent, a stale fence, a dependency cycle, a deleted doc \
         (the `code` says which).",
    ),
    TOO_LARGE,
    MEDIA_TYPE,
    INVALID,
    UNAVAILABLE,
];

/// Operations that answer without the store.
const STORELESS: [&str; 5] = [
    "/health",
    "/metrics",
    "/api/v1/openapi.json",
    "/",
    "/dashboard/{file}",
];

/// `(operation, status, link name, target operation, path parameter, request body)`: the id
/// in the answer of `operation` that `target` takes. The values are runtime expressions.
type LinkRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, &'static str)>,
    Option<(&'static str, &'static str)>,
);

/// The created thing's own id.
const ID: Option<(&str, &str)> = Some(("id", "$response.body#/id"));
const PICKED_ID: Option<(&str, &str)> = Some(("id", "$response.body#/task/id"));

const LINKS: &[LinkRow] = &[
    ("add_task", "201", "GetTask", "get_task", ID, None),
    ("add_task", "201", "UpdateTask", "update_task", ID, None),
    ("add_task", "201", "DeleteTask", "delete_task", ID, None),
    ("add_task", "201", "BlockTask", "block", ID, None),
    ("add_task", "201", "UnblockTask", "unblock", ID, None),
    ("add_task", "201", "AddNote", "add_note", ID, None),
    ("add_task", "201", "ApproveTask", "approve", ID, None),
    ("add_task", "201", "RejectTask", "reject", ID, None),
    (
        "add_task",
        "201",
        "PickupTask",
        "pickup",
        None,
        Some(("id", "$response.body#/id")),
    ),
    (
        "add_batch",
        "201",
        "GetFirstTask",
        "get_task",
        Some(("id", "$response.body#/0/id")),
        None,
    ),
    (
        "pickup",
        "200",
        "GetPickedTask",
        "get_task",
        PICKED_ID,
        None,
    ),
    ("pickup", "200", "FinishPickedTask", "done", PICKED_ID, None),
    (
        "pickup",
        "200",
        "NotePickedTask",
        "add_note",
        PICKED_ID,
        None,
    ),
    ("pickup", "200", "BlockPickedTask", "block", PICKED_ID, None),
    ("done", "200", "ApproveDoneTask", "approve", ID, None),
    ("done", "200", "RejectDoneTask", "reject", ID, None),
    ("write_doc", "201", "GetDoc", "get_doc", ID, None),
    ("write_doc", "201", "UpdateDoc", "update_doc", ID, None),
    ("write_doc", "201", "DeleteDoc", "delete_doc", ID, None),
    ("write_doc", "201", "DocHistory", "doc_history", ID, None),
    ("ask", "201", "AnswerMessage", "answer", ID, None),
    ("ask", "201", "MessageThread", "thread", ID, None),
    ("answer", "201", "AnswerThread", "thread", ID, None),
];

/// The finished document: the shared answers added to every operation, then the links.
/// Links are written into the JSON because utoipa 5.5 serializes a `Link`'s fields in
/// snake case (`operation_id`), which no OpenAPI tool reads.
pub fn complete(mut doc: OpenApi) -> Value {
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            shared_answers(path, operation);
        }
    }
    let mut doc = serde_json::to_value(&doc).unwrap_or(Value::Null);
    add_links(&mut doc);
    add_security(&mut doc);
    doc
}

/// Each operation's security (none for the public ones; a bearer token or the page's
/// session cookie for the rest) and what it needs (`x-baton-access`: the action and the
/// least role core's policy allows it to, or `authenticated`, `admin`, `handler`). In
/// local mode (no accounts, loopback) no credential is asked for.
fn add_security(doc: &mut Value) {
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`baton_...`, from `baton token create`) or the \
                            session token `POST /api/v1/auth/login` returns."
        },
        "session_cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": crate::auth::COOKIE,
            "description": "The page's session (HttpOnly, SameSite=Lax); writes with it must \
                            come from the page's own origin."
        }
    });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let Ok(method) = method.to_ascii_uppercase().parse::<axum::http::Method>() else {
                continue;
            };
            let access = crate::access::of(&method, path);
            let described = match access {
                None => json!({"requires": "nothing: refused (no rule)"}),
                Some(Access::Public) => json!({"requires": "nothing"}),
                Some(Access::Authenticated) => json!({"requires": "authenticated"}),
                Some(Access::Admin) => json!({"requires": "admin"}),
                Some(Access::Handler) => json!({
                    "requires": "role",
                    "role": "maintainer",
                    "note": "the role in the project the request names, checked by the handler"
                }),
                Some(Access::Project(action)) => json!({
                    "requires": "role",
                    "action": action.as_str(),
                    "role": baton_core::auth::minimum_role(action).as_str(),
                }),
            };
            operation["x-baton-access"] = described;
            if access == Some(Access::Public) {
                operation["security"] = json!([]);
                continue;
            }
            operation["security"] = json!([{"bearer": []}, {"session_cookie": []}]);
            let responses = &mut operation["responses"];
            if responses.get("401").is_none() {
                responses["401"] = json!({
                    "description": "`unauthenticated` (team mode): no credential, or one that \
                                    is unknown, expired or revoked. `WWW-Authenticate` points at \
                                    `/.well-known/oauth-protected-resource`.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
                });
            }
            let forbidden = &mut responses["403"];
            if let Some(text) = forbidden.get("description").and_then(Value::as_str) {
                if !text.contains("`forbidden`") {
                    forbidden["description"] = Value::String(format!(
                        "{text} `forbidden` (team mode): the credential's role does not allow it."
                    ));
                }
            }
        }
    }
}

fn shared_answers(path: &str, operation: &mut Operation) {
    let mut add = Vec::new();
    add.push(FORBIDDEN);
    if operation.request_body.is_some() {
        add.extend([MALFORMED, TOO_LARGE, MEDIA_TYPE, INVALID]);
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        // Path segments, query strings and the agent header are all parsed and checked.
        add.push(INVALID);
    }
    if !STORELESS.contains(&path) {
        add.push(UNAVAILABLE);
    }
    let responses = &mut operation.responses.responses;
    for (status, description) in add {
        responses
            .entry(status.to_string())
            .or_insert_with(|| error_answer(description));
    }
    for (status, description) in DEFAULTS {
        if let Some(RefOr::T(response)) = responses.get_mut(status) {
            if response.description.is_empty() {
                response.description = description.to_string();
            }
        }
    }
}

fn error_answer(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

fn add_links(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(id) = operation["operationId"].as_str().map(str::to_string) else {
            continue;
        };
        for (from, status, name, target, parameter, body) in LINKS {
            if *from != id {
                continue;
            }
            let Some(response) = operation["responses"].get_mut(*status) else {
                continue;
            };
            let mut link = json!({ "operationId": target });
            if let Some((parameter, value)) = parameter {
                link["parameters"] = json!({ *parameter: value });
            }
            if let Some((field, value)) = body {
                link["requestBody"] = json!({ *field: value });
            }
            response["links"][*name] = link;
        }
    }
}
