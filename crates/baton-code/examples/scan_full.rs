//! A full scan without the CLI around it, for profilers (`valgrind --tool=callgrind`):
//! the same work as `baton scan` on a project that `baton init` set up.
//!
//! `cargo run --release -p baton-code --example scan_full -- DIR`

fn main() {
    let Some(root) = std::env::args().nth(1) else {
        eprintln!("usage: scan_full DIR");
        std::process::exit(2);
    };
    match baton_code::scan_full(std::path::Path::new(&root)) {
        Ok(report) => println!(
            "{{\"files\":{},\"symbols\":{},\"imports\":{},\"millis\":{}}}",
            report.files, report.symbols, report.imports, report.millis
        ),
        Err(e) => {
            eprintln!("scan_full: {e}");
            std::process::exit(1);
        }
    }
}
