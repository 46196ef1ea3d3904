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
        let arguments = request.arguments.unwrap_or_default();
        let result = match self.tools.call(&request.name, arguments, caller).await {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
            Err(error) => CallToolResult::error(vec![ContentBlock::text(
                serde_json::to_string(&error).unwrap_or_else(|_| error.to_string()),
            )]),
        };
        Ok(result.into())
    }
}

/// Serves the tools on stdin/stdout until the client closes them.
pub async fn serve_stdio(tools: Arc<Tools>) -> std::io::Result<()> {
    let running = Session::new(tools)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// The streamable HTTP endpoint, as a tower service to mount at `/mcp`. With
/// `loopback_only`, requests must name a loopback host (a guard against DNS rebinding);
/// a server bound to a public address accepts any host. Cancelling `stop` ends the
/// sessions, so a graceful shutdown does not wait on them.
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
