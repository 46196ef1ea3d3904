#!/usr/bin/env bash
# Incremental scan after a one-file edit: before each run the same line is appended to
# one Go file of the corpus, so every run finds one changed file to read, parse and
# store. Each baton binary given is measured twice, in turn (A B A B), 30 runs each
# (RUNS), with hyperfine; the file (FILE, by default the first Go file git lists) is put
# back afterwards.
#
#   bash bench/code/incremental.sh bench/corpora/code/combined "$BASE/baton" "$NEW/baton"
#
# Binaries of one schema version share the index; the first one builds it.
set -euo pipefail
command -v hyperfine >/dev/null || { echo "incremental.sh needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[ $# -ge 2 ] || { echo "usage: incremental.sh CORPUS_DIR BATON..." >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
# This edits one of its files and may set it up with `baton init`: only corpora fetched for benchmarks, unless ANY_DIR=1.
dir=$(corpus_dir "$1")
shift
RUNS=${RUNS:-30}
cd "$dir"
file=${FILE:-$(git ls-files '*.go' | awk 'NR == 1')}
[ -n "$file" ] || { echo "incremental.sh: no Go file in $dir" >&2; exit 2; }
backup=$(mktemp)
cp "$file" "$backup"
trap 'cp "$backup" "$file"; rm -f "$backup"' EXIT
[ -f .baton/config.toml ] || "$1" init --json >/dev/null
"$1" scan --json >/dev/null
"$1" scan --incremental --json >/dev/null
commands=()
for _ in 1 2; do
    for baton in "$@"; do commands+=("$baton scan --incremental --json"); done
done
hyperfine -N -w 3 -r "$RUNS" --prepare "sh -c 'echo // bench >> $file'" "${commands[@]}"
