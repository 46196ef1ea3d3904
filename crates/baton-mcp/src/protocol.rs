//! The one module that speaks to the MCP library (`rmcp`, pinned in Cargo.toml because
//! its API changes between minor versions). Everything else in Baton sees [`Tools`],
//! [`serve_stdio`] and [`http_service`].

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
pub use tokio_util::sync::CancellationToken;

use crate::Tools;

/// The header that names the calling agent over HTTP (as on the REST API).
pub const AGENT_HEADER: &str = "x-baton-agent";

const INSTRUCTIONS: &str = "Baton coordinates agents on this repository: `pickup` a task, \
`heartbeat` while working, `reserve` files outside the task, query `code` before grepping, \
read `docs`, `ask` when stuck, `done` with notes.";

/// The streamable HTTP endpoint's type (a tower service).
pub type HttpService = StreamableHttpService<Session, LocalSessionManager>;

/// One MCP session over the shared tools.
#[derive(Clone)]
pub struct Session {
    tools: Arc<Tools>,
}

impl Session {
    pub fn new(tools: Arc<Tools>) -> Self {
        Session { tools }
    }
}

fn tool_list() -> Vec<Tool> {
    crate::catalog()
        .into_iter()
        .map(|(name, description, schema)| Tool::new(name, description, Arc::new(schema)))
        .collect()
}

/// The `tools/list` reply as the client receives it (for measuring its size).
pub fn tools_list_json() -> serde_json::Value {
    serde_json::json!({ "tools": tool_list() })
}

impl ServerHandler for Session {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("baton", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tool_list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let caller = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.headers.get(AGENT_HEADER))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        let grant = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<baton_core::auth::Grant>())
            .cloned();
        let arguments = request.arguments.unwrap_or_default();
        let called = self
            .tools
            .call_as(&request.name, arguments, caller, grant.as_ref())
            .await;
        let result = match called {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
            Err(error) => CallToolResult::error(vec![ContentBlock::text(
                serde_json::to_string(&error).unwrap_or_else(|_| error.to_string()),
            )]),
        };
        Ok(result.into())
    }
}

/// Serves the tools on stdin/stdout until the client closes them.
///
/// The library drops a line it cannot read without a word, which leaves a client waiting
/// forever; so every line is checked first, and one that is not JSON gets a JSON-RPC parse
/// error (-32700), one that is not a request of this protocol an invalid-request error
/// (-32600), both written between whole lines of the library's own output.
pub async fn serve_stdio(tools: Arc<Tools>) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

    let (to_library, library_in) = tokio::io::duplex(1 << 16);
    let (library_out, from_library) = tokio::io::duplex(1 << 16);
    let (lines, mut outgoing) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();

    let replies = lines.clone();
    let input = tokio::spawn(async move {
        let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
        let mut to_library = to_library;
        while let Some(line) = read_line(&mut stdin, MAX_LINE).await? {
            match check_line(&line) {
                Ok(true) => {
                    to_library.write_all(&line).await?;
                    to_library.write_all(b"\n").await?;
                }
                Ok(false) => {}
                Err(reply) => {
                    let _ = replies.send(reply.into_bytes());
                }
            }
        }
        Ok::<(), std::io::Error>(())
    });
    let relay = tokio::spawn(async move {
        let mut from_library = tokio::io::BufReader::new(from_library).split(b'\n');
        while let Ok(Some(line)) = from_library.next_segment().await {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let output = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(mut line) = outgoing.recv().await {
            line.push(b'\n');
            stdout.write_all(&line).await?;
            stdout.flush().await?;
        }
        Ok::<(), std::io::Error>(())
    });

    let running = Session::new(tools)
        .serve((library_in, library_out))
        .await
        .map_err(std::io::Error::other)?;
    let served = running.waiting().await.map_err(std::io::Error::other);
    input.abort();
    let _ = relay.await;
    // Every sender is gone now: the writer ends once it has written what is queued.
    let _ = output.await;
    served.map(|_| ())
}

/// The longest line read from stdin (a larger message is answered with a parse error).
const MAX_LINE: usize = 32 << 20;

/// Reads one line without its newline (or the rest of the input at its end); a line longer
/// than `max` is read to its end and returned cut, which no JSON parser accepts.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    use tokio::io::AsyncBufReadExt;

    let mut line = Vec::new();
    let mut seen_any = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(seen_any.then_some(line));
        }
        seen_any = true;
        let (chunk, found) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i)),
            None => (buf, None),
        };
        let room = max.saturating_sub(line.len()).min(chunk.len());
        line.extend_from_slice(&chunk[..room]);
        let used = found.map_or(buf.len(), |i| i + 1);
        reader.consume(used);
        if found.is_some() {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

/// Whether a line goes on to the library (`Ok(true)`), is skipped (`Ok(false)`: blank), or
/// is answered here with a JSON-RPC error (`Err(reply)`).
fn check_line(line: &[u8]) -> Result<bool, String> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Ok(false);
    }
    let value: serde_json::Value = match serde_json::from_slice(line) {
        Ok(value) => value,
        Err(e) => {
            return Err(rpc_error(
                serde_json::Value::Null,
                -32700,
                &format!("Parse error: {e}"),
            ))
        }
    };
    if serde_json::from_value::<rmcp::model::ClientJsonRpcMessage>(value.clone()).is_ok() {
        return Ok(true);
    }
    match value.get("id") {
        // A notification gets no answer, even a wrong one; the library ignores what it does
        // not know.
        None if value.get("method").is_some() => Ok(true),
        id => Err(rpc_error(
            id.cloned().unwrap_or(serde_json::Value::Null),
            -32600,
            "Invalid Request: not a JSON-RPC 2.0 request this server knows (a single object with \
             jsonrpc \"2.0\", id, method and params as the method needs)",
        )),
    }
}

fn rpc_error(id: serde_json::Value, code: i64, message: &str) -> String {
    serde_json::json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
        .to_string()
}

/// The streamable HTTP endpoint, as a tower service to mount at `/mcp`. With
/// `loopback_only`, requests must name a loopback host (a guard against DNS rebinding);
/// without it any host is accepted, so the caller must check Host itself (`baton serve`
/// does, for all its routes). Cancelling `stop` ends the sessions, so a graceful shutdown
/// does not wait on them.
pub fn http_service(
    tools: Arc<Tools>,
    loopback_only: bool,
    stop: CancellationToken,
) -> HttpService {
    let mut config = StreamableHttpServerConfig::default()
        .with_json_response(true)
        .with_cancellation_token(stop);
    if !loopback_only {
        config = config.disable_allowed_hosts();
    }
    StreamableHttpService::new(
        move || Ok(Session::new(tools.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
