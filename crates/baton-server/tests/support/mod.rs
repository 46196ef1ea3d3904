//! A real server on `127.0.0.1:0` over a real SQLite file, with a clock the test moves.

#![allow(dead_code)]

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
                "127.0.0.1:0".parse().unwrap(),
                options,
            ))
            .unwrap();
        let url = format!("http://{}", server.addr);
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
