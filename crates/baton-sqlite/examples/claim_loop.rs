//! Benchmark helper: one long-lived process that claims tasks from a board until none is
//! ready, then prints how many it claimed. `bench/board.sh` runs 16 of these at once to
//! measure what the store sustains without the cost of starting a process per claim.
//!
//!   cargo run --release -p baton-sqlite --example claim_loop -- .baton/baton.db worker-1

use baton_core::api::PickupRequest;
use baton_core::{Api, Board};
use baton_sqlite::SqliteStore;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(db), Some(agent)) = (args.next(), args.next()) else {
        eprintln!("usage: claim_loop DATABASE AGENT");
        std::process::exit(2);
    };
    let board = match SqliteStore::open(std::path::Path::new(&db)) {
        Ok(store) => Board::new(store),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(5);
        }
    };
    let mut claimed = 0u64;
    loop {
        match board.pickup(&agent, &PickupRequest::default()) {
            Ok(_) => claimed += 1,
            Err(e) if e.code() == "no_task_ready" => break,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
    }
    println!("{claimed}");
}
