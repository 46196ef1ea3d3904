//! The store-independent scenarios, on a real SQLite file in a temp dir.

use baton_core::conformance::ManualClock;
use baton_core::Board;
use baton_sqlite::SqliteStore;

/// Keeps the temp dir alive as long as the board.
struct Fixture {
    board: Board<SqliteStore>,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

impl baton_core::conformance::ApiFixture for Fixture {
    fn api(&self) -> &dyn baton_core::Api {
        &self.board
    }

    fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
    }
}

fn fresh() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (store, created) = SqliteStore::create(&dir.path().join("baton.db"), "test").unwrap();
    assert!(created);
    let clock = ManualClock::default();
    Fixture {
        board: Board::with_clock(store, clock.clock()),
        clock,
        _dir: dir,
    }
}

mod scenarios {
    use super::*;
    baton_core::conformance_tests!(fresh());
}

mod instance {
    use super::*;
    baton_core::instance_conformance_tests!(fresh());
}
