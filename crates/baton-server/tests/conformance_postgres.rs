//! The behaviour scenarios through the HTTP client against a real server on PostgreSQL:
//! the writer's group commit (savepoints on one connection) must keep each call's
//! all-or-nothing semantics there too.

use std::sync::Arc;

use baton_client::Client;
use baton_core::conformance::ManualClock;
use baton_postgres::testing::TestDatabase;
use baton_server::{PostgresBackend, Server, ServerOptions};

/// Field order: the client and server go before the database is dropped.
struct PostgresServer {
    client: Client,
    clock: ManualClock,
    server: Option<Server>,
    runtime: tokio::runtime::Runtime,
    _database: TestDatabase,
}

impl PostgresServer {
    fn start() -> Option<PostgresServer> {
        let database = TestDatabase::create()?;
        let clock = ManualClock::default();
        let backend = PostgresBackend::with_clock(database.url(), "test", clock.clock()).unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(Server::start(
                Arc::new(backend),
                "127.0.0.1:0".parse().unwrap(),
                ServerOptions::default(),
            ))
            .unwrap();
        Some(PostgresServer {
            client: Client::new(&format!("http://{}", server.addr), None).unwrap(),
            clock,
            server: Some(server),
            runtime,
            _database: database,
        })
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self.runtime.block_on(server.shutdown());
        }
    }
}

impl baton_core::conformance::ApiFixture for PostgresServer {
    fn api(&self) -> &dyn baton_core::Api {
        &self.client
    }

    fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }
}

mod scenarios {
    baton_core::conformance_tests!(match super::PostgresServer::start() {
        Some(server) => server,
        None => return,
    });
}
