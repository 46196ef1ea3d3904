//! Benchmark floor: walk, read and tree-sitter-parse every file under a root
//! in parallel, the way `baton scan` does, without extraction or SQLite.
//!
//! `cargo run --release -p baton-code --example parse_floor -- DIR`

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: parse_floor DIR");
        std::process::exit(2);
    };
    let started = std::time::Instant::now();
    let (files, bytes) = baton_code::parse_floor(std::path::Path::new(&root));
    println!(
        "{{\"files\":{files},\"bytes\":{bytes},\"millis\":{}}}",
        started.elapsed().as_millis()
    );
}
