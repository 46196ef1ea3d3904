//! `/mcp`: the MCP tools (streamable HTTP) on the server's own workers. The calling
//! agent is named by the `X-Baton-Agent` header or the tools' `agent` argument.

use std::path::PathBuf;
use std::sync::Arc;

use baton_mcp::protocol::{http_service, CancellationToken, HttpService};
use baton_mcp::{BoxFuture, Host, Job, Tools};
use serde_json::Value;

use crate::workers::Workers;
use crate::AppState;

struct ServerHost {
    writer: Workers,
    readers: Workers,
    code_root: Option<PathBuf>,
}

impl Host for ServerHost {
    fn run(&self, write: bool, job: Job) -> BoxFuture<baton_core::Result<Value>> {
        let workers = if write {
            self.writer.clone()
        } else {
            self.readers.clone()
        };
        Box::pin(async move { workers.run(job).await })
    }

    fn code_root(&self) -> Option<PathBuf> {
        self.code_root.clone()
    }
}

/// The service mounted at `/mcp`; its sessions end when the server shuts down.
pub fn service(state: &AppState) -> HttpService {
    let host = ServerHost {
        writer: state.writer.clone(),
        readers: state.readers.clone(),
        code_root: state.code_root.clone(),
    };
    let stop = CancellationToken::new();
    let mut shutdown = state.shutdown.clone();
    let cancel = stop.clone();
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
            cancel.cancel();
        });
    }
    // The server's guard checks Host on every route, `/mcp` included, against the same
    // names (`--allowed-host`); the MCP library's own loopback-only list would refuse them.
    let library_checks_host = false;
    http_service(
        Arc::new(Tools::new(Arc::new(host))),
        library_checks_host,
        stop,
    )
}
