//! Which access each operation needs: the server's map from its routes to core's actions.
//! Whether a role may do an action is core's question ([`baton_core::auth::allows`]); this
//! table only says what each route does. A route missing here is refused (fail closed), and
//! a test checks that every operation in the OpenAPI document has an entry.

use axum::http::Method;
use baton_core::auth::Action;

/// What a request to one operation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with no credential: liveness, readiness, the page's static files, logging in.
    Public,
    /// Any valid credential, whatever its role (who am I, my profile, logging out).
    Authenticated,
    /// A role in the project the request is for that allows the action.
    Project(Action),
    /// An instance admin (users, projects, instance settings).
    Admin,
    /// Decided by the handler from the request (tokens and members of a named project).
    Handler,
}

/// The access an operation needs, by method and route template (`/api/v1/tasks/{id}`).
pub fn of(method: &Method, template: &str) -> Option<Access> {
    use Access::*;
    use Action::*;
    let m = method.as_str();
    let access = match (m, template) {
        (_, "/health" | "/ready" | "/" | "/dashboard/{file}") => Public,
        (_, "/.well-known/oauth-protected-resource") => Public,
        ("POST", "/api/v1/auth/login" | "/api/v1/auth/register" | "/api/v1/auth/setup") => Public,
        ("GET", "/api/v1/auth/status") => Public,
        ("POST", "/api/v1/auth/logout") => Authenticated,
        ("GET" | "PUT", "/api/v1/profile/me") => Authenticated,
        ("PUT", "/api/v1/profile/password") => Authenticated,
        ("GET", "/api/v1/whoami") => Authenticated,
        (_, "/api/v1/users" | "/api/v1/users/{name}") => Admin,
        ("GET" | "PUT", "/api/v1/instance/settings/{key}") => Admin,
        ("POST", "/api/v1/projects") => Admin,
        ("GET", "/api/v1/projects") => Authenticated,
        ("GET", "/api/v1/projects/{key}") => Handler,
        (_, "/api/v1/projects/{key}/members" | "/api/v1/projects/{key}/members/{user}") => Handler,
        (_, "/api/v1/tokens" | "/api/v1/tokens/{id}") => Handler,
        // Webhook URLs may carry credentials of their own, so even listing them is a
        // maintainer's.
        (
            _,
            "/api/v1/webhooks"
            | "/api/v1/webhooks/{id}"
            | "/api/v1/webhooks/{id}/test"
            | "/api/v1/webhooks/deliveries"
            | "/api/v1/webhooks/queue",
        ) => Project(ManageProject),
        // Reads that are sent as POST because they carry a list.
        ("POST", "/api/v1/reservations/check") => Project(Read),
        ("GET" | "HEAD", _) => Project(Read),
        ("POST", "/api/v1/tasks" | "/api/v1/tasks/batch") => Project(CreateTasks),
        (
            "POST",
            "/api/v1/tasks/pickup"
            | "/api/v1/tasks/{id}/done"
            | "/api/v1/tasks/{id}/notes"
            | "/api/v1/tasks/{id}/block"
            | "/api/v1/heartbeat"
            | "/api/v1/lost-tasks"
            | "/api/v1/reservations"
            | "/api/v1/reservations/release"
            | "/api/v1/guard"
            | "/api/v1/file-changes",
        ) => Project(Work),
        (
            "POST",
            "/api/v1/tasks/{id}/approve"
            | "/api/v1/tasks/{id}/reject"
            | "/api/v1/tasks/{id}/unblock",
        ) => Project(Review),
        ("PATCH", "/api/v1/tasks/{id}") => Project(EditTasks),
        ("DELETE", "/api/v1/tasks/{id}" | "/api/v1/docs/{id}") => Project(Delete),
        ("POST", "/api/v1/docs") | ("PATCH", "/api/v1/docs/{id}") => Project(WriteDocs),
        (
            "POST",
            "/api/v1/messages"
            | "/api/v1/messages/{id}/answer"
            | "/api/v1/log"
            | "/api/v1/log/batch"
            | "/api/v1/sessions"
            | "/api/v1/sessions/stop"
            | "/api/v1/otlp/v1/metrics"
            | "/api/v1/otlp/v1/logs",
        ) => Project(Message),
        ("POST", "/api/v1/import" | "/api/v1/import/plan") => Project(Import),
        ("PUT", "/api/v1/settings/{key}") | ("POST", "/api/v1/operations/prune") => {
            Project(Settings)
        }
        ("POST", "/api/v1/runs" | "/api/v1/runs/{id}/finish" | "/api/v1/runs/{id}/log")
        | ("PATCH", "/api/v1/runs/{id}")
        | ("PUT", "/api/v1/accounts") => Project(RecordRuns),
        ("POST", "/api/v1/runs/{id}/stop" | "/api/v1/runs/{id}/retry") => Project(ControlRuns),
        ("POST", "/api/v1/merges/claim" | "/api/v1/merges/{id}/finish")
        | ("POST", "/api/v1/errands/claim" | "/api/v1/errands/{id}/finish") => Project(RecordRuns),
        ("POST", "/api/v1/merges/{id}/retry") => Project(ControlRuns),
        // An errand starts and steers an agent of its own: what a runner's operator does.
        ("POST", "/api/v1/errands" | "/api/v1/errands/{id}/request")
        | ("PATCH", "/api/v1/errands/{id}") => Project(ControlRuns),
        ("DELETE", "/api/v1/errands/{id}") => Project(Delete),
        ("POST", "/api/v1/initiatives" | "/api/v1/phases")
        | ("PATCH", "/api/v1/initiatives/{id}" | "/api/v1/phases/{id}")
        | ("POST", "/api/v1/initiatives/{id}/archive" | "/api/v1/initiatives/{id}/reopen") => {
            Project(Plan)
        }
        ("POST", "/api/v1/initiatives/{id}/approve" | "/api/v1/phases/{id}/move")
        | ("POST", "/api/v1/comments/{id}/resolve") => Project(Review),
        ("POST", "/api/v1/comments" | "/api/v1/proposals") => Project(Propose),
        ("POST", "/api/v1/pages") => Project(WriteDocs),
        ("POST", "/api/v1/proposals/{id}/decide") => Project(Plan),
        // MCP: each tool call is checked by the tools themselves against the same policy.
        (_, t) if t == "/mcp" || t.starts_with("/mcp/") => Project(Read),
        _ => return None,
    };
    Some(access)
}

/// The paths anyone may reach without a credential (checked before routing, for the
/// per-project forms too).
pub fn is_public_path(method: &Method, path: &str) -> bool {
    let template = if path.starts_with("/dashboard/") {
        "/dashboard/{file}"
    } else {
        path
    };
    matches!(of(method, template), Some(Access::Public))
}
