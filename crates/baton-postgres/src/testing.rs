//! Throwaway databases for tests: each [`TestDatabase`] is a new database on the test
//! server, dropped again when it goes out of scope.
//!
//! The server is `BATON_TEST_POSTGRES` (a URL to an existing database used only to create
//! others), by default `postgres://postgres@127.0.0.1:5432/test`. When it cannot be reached
//! the test is skipped with the reason printed, except under `CI=true`, where that fails.

use std::sync::atomic::{AtomicU64, Ordering};

use postgres::{Client, NoTls};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// A new empty database, or `None` (after saying why) when PostgreSQL is not there
    /// and this is not CI.
    pub fn create() -> Option<TestDatabase> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let admin_url =
            std::env::var("BATON_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_ADMIN_URL.into());
        let mut admin = match Client::connect(&admin_url, NoTls) {
            Ok(client) => client,
            Err(e) => {
                let why = format!(
                    "PostgreSQL is not reachable at {} ({e}); start it, or set \
                     BATON_TEST_POSTGRES to a server where this user may create databases",
                    crate::redact(&admin_url)
                );
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{why}");
                }
                eprintln!("skipped: {why}");
                return None;
            }
        };
        let name = format!(
            "baton_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst),
            baton_core::time::Timestamp::now().unix_millis()
        );
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let url = match admin_url.rfind('/') {
            Some(slash) if admin_url[..slash].contains("://") => {
                let (base, rest) = admin_url.split_at(slash);
                let query = rest.find('?').map(|q| &rest[q..]).unwrap_or("");
                format!("{base}/{name}{query}")
            }
            _ => panic!("BATON_TEST_POSTGRES must be a URL ending in /database"),
        };
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // FORCE: connections still open (a server thread winding down) do not keep it.
        if let Ok(mut admin) = Client::connect(&self.admin_url, NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
