//! `baton mcp`: the MCP tools over stdio, for agents whose client starts Baton itself
//! (Claude Code, Codex, Cursor). The tools act on this project's board, or on a server's
//! when `BATON_URL` is set; the code tool reads this working tree's index.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;

use baton_mcp::{BoxFuture, Host, Job, Tools};
use clap::Args;
use serde_json::Value;
use tokio::sync::oneshot;

use super::Context;
use crate::error::CliResult;

#[derive(Args, Debug)]
#[command(after_help = "\
Speaks MCP (JSON-RPC) on stdin and stdout until the client closes stdin; logs nothing to
stdout. Configure your client to run `baton mcp` in the repository (`baton generate` prints
ready-to-paste configuration for Claude Code, Codex and Cursor). The calling agent is
BATON_AGENT (or --agent), or each call's `agent` argument. A pattern, BATON_AGENT='claude-*',
gives each session its own name: this process claims the lowest free claude-N for as long
as it runs (a lock in .baton/identities/), and commands started by the same client (its
shell tool, its hooks) act as that name without BATON_AGENT. For many agents on one machine,
`baton serve` also offers the same tools at http://HOST:PORT/mcp.")]
pub struct McpArgs {}

type Request = (Job, oneshot::Sender<baton_core::Result<Value>>);

/// Sends each job to the thread that owns the board (the store is not shared across
/// threads); the protocol runs on a small runtime beside it.
struct LocalHost {
    jobs: mpsc::Sender<Request>,
    code_root: Option<PathBuf>,
    agent: Option<String>,
}

impl Host for LocalHost {
    fn run(&self, _write: bool, job: Job) -> BoxFuture<baton_core::Result<Value>> {
        let (answer, answered) = oneshot::channel();
        let sent = self.jobs.send((job, answer));
        Box::pin(async move {
            sent.map_err(|_| stopped())?;
            answered.await.map_err(|_| stopped())?
        })
    }

    fn code_root(&self) -> Option<PathBuf> {
        self.code_root.clone()
    }

    fn default_agent(&self) -> Option<String> {
        self.agent.clone()
    }
}

fn stopped() -> baton_core::Error {
    baton_core::Error::Internal("the board's thread stopped".into())
}

pub fn run(ctx: &Context, _args: McpArgs) -> CliResult {
    // Open the board first, so a missing project is reported before the client waits.
    let api = ctx.api()?;
    let code_root = ctx
        .project()
        .map(|p| p.root)
        .unwrap_or_else(|_| ctx.cwd.clone());
    let (jobs, queue) = mpsc::channel::<Request>();
    let host = LocalHost {
        jobs,
        code_root: Some(code_root),
        agent: ctx.agent.clone(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let protocol = std::thread::Builder::new()
        .name("baton-mcp".into())
        .spawn(move || {
            runtime.block_on(baton_mcp::protocol::serve_stdio(Arc::new(Tools::new(
                Arc::new(host),
            ))))
        })?;
    for (job, answer) in queue {
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| job(api.as_ref())))
            .unwrap_or_else(|_| Err(baton_core::Error::Internal("a tool call panicked".into())));
        let _ = answer.send(result);
    }
    match protocol.join() {
        Ok(result) => Ok(result?),
        Err(_) => Err(baton_core::Error::Internal("the MCP session panicked".into()).into()),
    }
}
