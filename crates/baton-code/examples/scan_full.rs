//! A full scan without the CLI around it, for profilers (`valgrind --tool=callgrind`):
//! the same work as `baton scan` on a project that `baton init` set up.
//!
//! `cargo run --release -p baton-code --example scan_full -- DIR`, or
//! `scan_full --incremental DIR` for an incremental scan.

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let incremental = args.first().is_some_and(|a| a == "--incremental");
    if incremental {
        args.remove(0);
    }
    let Some(root) = args.first() else {
        eprintln!("usage: scan_full [--incremental] DIR");
        std::process::exit(2);
    };
    let root = std::path::Path::new(root);
    let scanned = if incremental {
        baton_code::scan_incremental(root)
    } else {
        baton_code::scan_full(root)
    };
    match scanned {
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
