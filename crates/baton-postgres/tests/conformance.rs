//! The store-independent scenarios, each on its own new PostgreSQL database.

use baton_core::conformance::ManualClock;
use baton_core::Board;
use baton_postgres::testing::TestDatabase;
use baton_postgres::PostgresStore;

/// The board first, so its connection closes before the database is dropped.
struct Fixture {
    board: Board<PostgresStore>,
    clock: ManualClock,
    _database: TestDatabase,
}

impl baton_core::conformance::ApiFixture for Fixture {
    fn api(&self) -> &dyn baton_core::Api {
        &self.board
    }

    fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }
}

fn fresh() -> Option<Fixture> {
    let database = TestDatabase::create()?;
    let (store, created) = PostgresStore::create(database.url(), "test").unwrap();
    assert!(created);
    let clock = ManualClock::default();
    Some(Fixture {
        board: Board::with_clock(store, clock.clock()),
        clock,
        _database: database,
    })
}

mod scenarios {
    use super::*;
    baton_core::conformance_tests!(match fresh() {
        Some(fixture) => fixture,
        None => return,
    });
}

mod instance {
    use super::*;
    baton_core::instance_conformance_tests!(match fresh() {
        Some(fixture) => fixture,
        None => return,
    });
}
