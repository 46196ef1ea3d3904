#!/usr/bin/env bash
# Knowledge-base search latency, in process, on a generated corpus of 10,000 docs.
#
#   bench/docs.sh              # builds release, prints write time and search p50/p95/p99
#   DOCS=20000 SEARCHES=5000 bench/docs.sh
#
# The corpus and the queries come from a fixed seed (see crates/baton-sqlite/examples/
# docs_search.rs): Zipf-distributed words over a 20,000-word vocabulary, 150-600 words a doc.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${DOCS:-10000}
SEARCHES=${SEARCHES:-2000}
cargo build --release -q -p baton-sqlite --example docs_search
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in 1 2 3; do
  echo "== run $run"
  ./target/release/examples/docs_search "$DOCS" "$SEARCHES"
done
