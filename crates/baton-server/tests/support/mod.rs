//! A real server on `127.0.0.1:0` over a real SQLite file, with a clock the test moves.

#![allow(dead_code)]

pub mod browser;

use std::sync::Arc;

use baton_client::Client;
use baton_core::conformance::ManualClock;
use baton_server::{Server, ServerOptions, SqliteBackend};
use baton_sqlite::SqliteStore;

pub struct TestServer {
    pub client: Client,
    pub clock: ManualClock,
    pub url: String,
    pub db: std::path::PathBuf,
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::start_with(ServerOptions::default())
    }

    pub fn start_with(options: ServerOptions) -> TestServer {
        TestServer::start_bound("127.0.0.1", options)
    }

    /// A server bound to `ip` (port 0). Its URL always names 127.0.0.1, so a test bound
    /// to `0.0.0.0` still sends its traffic to this machine only.
    pub fn start_bound(ip: &str, options: ServerOptions) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("baton.db");
        SqliteStore::create(&db, "test").unwrap();
        let clock = ManualClock::default();
        let backend = SqliteBackend::with_clock(&db, clock.clock()).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(Server::start(
                Arc::new(backend),
                std::net::SocketAddr::new(ip.parse().unwrap(), 0),
                options,
            ))
            .unwrap();
        let url = format!("http://127.0.0.1:{}", server.addr.port());
        TestServer {
            client: Client::new(&url, None).unwrap(),
            clock,
            url,
            db,
            runtime,
            server: Some(server),
            dir,
        }
    }

    /// Stops the server and starts a new one on the same address, database and clock.
    pub fn restart(&mut self) {
        let addr = self.server.as_ref().expect("running").addr;
        self.stop();
        let backend = SqliteBackend::with_clock(&self.db, self.clock.clock()).unwrap();
        let server = self
            .runtime
            .block_on(Server::start(
                Arc::new(backend),
                addr,
                ServerOptions::default(),
            ))
            .unwrap();
        self.server = Some(server);
    }

    /// Stops the server gracefully and waits for it.
    pub fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown()).unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl baton_core::conformance::ApiFixture for TestServer {
    fn api(&self) -> &dyn baton_core::Api {
        &self.client
    }

    fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }
}

/// Whether this run is CI, where a missing tool fails the test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A tool on PATH; missing: a failure in CI, a skip with a printed reason locally.
pub fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(!in_ci(), "{name} is missing; .ci/run installs it");
        eprintln!("skipping: {name} is not installed (.ci/run installs it)");
    }
    found
}

/// The Python of the test virtualenv (`BATON_TEST_VENV`, default `target/test-venv`), which
/// has the reference OpenAPI validator.
pub fn tool_python() -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("BATON_TEST_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv")
        });
    let python = venv.join("bin/python");
    if !python.is_file() {
        assert!(
            !in_ci(),
            "{} is missing; .ci/run creates it",
            python.display()
        );
        eprintln!(
            "skipping: no test virtualenv at {} (.ci/run creates it)",
            venv.display()
        );
        return None;
    }
    Some(python)
}
