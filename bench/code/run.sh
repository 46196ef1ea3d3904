#!/usr/bin/env bash
# Code-index benchmark: baton scan vs universal-ctags vs a bare tree-sitter
# parse of the same files, on the corpora fetched by fetch.sh.
#
#   bash bench/code/fetch.sh && bash bench/code/run.sh [corpus...]
#
# Needs: hyperfine, universal-ctags, sqlite3, /usr/bin/time (Debian packages
# hyperfine universal-ctags sqlite3 time). Builds release binaries into
# $CARGO_TARGET_DIR (default target-code). Results: bench/out/code-*.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
corpora="$repo/bench/corpora/code"
outdir="$repo/bench/out"
mkdir -p "$outdir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-code}
RUNS=${RUNS:-5}
for tool in hyperfine ctags sqlite3 /usr/bin/time; do
    command -v "$tool" >/dev/null || {
        echo "run.sh needs $tool: apt-get install hyperfine universal-ctags sqlite3 time" >&2
        exit 2
    }
done

(cd "$repo" && cargo build --quiet --release -j "${JOBS:-1}" -p baton-cli -p baton-code --bin baton --example parse_floor)
baton="$CARGO_TARGET_DIR/release/baton"
floor="$CARGO_TARGET_DIR/release/examples/parse_floor"

# The combined corpus (all of them, hard links) crosses 10,000 files for the
# memory goal.
if [ -d "$corpora/go-stdlib" ]; then bash "$here/combined.sh"; fi

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(python-django python-sympy typescript-rxjs javascript-date-fns go-stdlib combined)
report="$outdir/code-$(date -u +%Y%m%dT%H%M%SZ).md"
echo "| corpus | files | MB | ctags s | baton scan s | ratio ctags | parse floor s | ratio floor | incremental ms | query exact ms | query substring ms | query one letter ms | peak RSS MB |" >"$report"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|" >>"$report"

median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$1"; }

for name in "${targets[@]}"; do
    dir="$corpora/$name"
    [ -d "$dir" ] || { echo "missing $dir: run fetch.sh" >&2; continue; }
    cd "$dir"
    [ -f .baton/config.toml ] || "$baton" init --json >/dev/null
    rm -f .baton/code.db*
    "$baton" scan --json >/dev/null
    # The same files for everyone: the ones baton indexed.
    sqlite3 .baton/code.db "SELECT path FROM files ORDER BY path" >"$outdir/$name.files"
    files=$(wc -l <"$outdir/$name.files")
    mb=$(sqlite3 .baton/code.db "SELECT printf('%.1f', sum(bytes)/1048576.0) FROM files")

    hyperfine --style none -w 1 -r "$RUNS" --export-json "$outdir/$name.ctags.json" \
        "ctags -L $outdir/$name.files -f /dev/null --fields=+nK" >/dev/null
    hyperfine --style none -w 1 -r "$RUNS" --export-json "$outdir/$name.scan.json" \
        --prepare "rm -f $dir/.baton/code.db $dir/.baton/code.db-wal $dir/.baton/code.db-shm" \
        "$baton scan --json" >/dev/null
    hyperfine --style none -w 1 -r "$RUNS" --export-json "$outdir/$name.floor.json" \
        "$floor $dir" >/dev/null

    # Incremental: one file edited before each run (a comment appended).
    "$baton" scan --json >/dev/null
    edit=$(grep -m1 -E '\.(py|ts|go)$' "$outdir/$name.files")
    case $edit in *.py) comment='# bench' ;; *) comment='// bench' ;; esac
    cp "$edit" "$outdir/$name.edit.bak"
    hyperfine --style none -w 2 -r $((RUNS * 4)) --export-json "$outdir/$name.incr.json" \
        --prepare "echo '$comment' >> '$dir/$edit'" \
        "$baton scan --incremental --json" >/dev/null
    cp "$outdir/$name.edit.bak" "$edit"
    "$baton" scan --incremental --json >/dev/null

    sym=$(sqlite3 .baton/code.db "SELECT name FROM symbols WHERE exported = 1 AND kind IN ('class','function','struct') ORDER BY id LIMIT 1 OFFSET 100")
    hyperfine --style none -N -w 3 -r 30 --export-json "$outdir/$name.qexact.json" \
        "$baton code symbols --name =$sym --json" >/dev/null
    hyperfine --style none -N -w 3 -r 30 --export-json "$outdir/$name.qsub.json" \
        "$baton code symbols --name parse --json" >/dev/null
    hyperfine --style none -N -w 3 -r 30 --export-json "$outdir/$name.qletter.json" \
        "$baton code symbols --name e --json" >/dev/null

    rm -f .baton/code.db*
    rss=$( { /usr/bin/time -v "$baton" scan --json >/dev/null; } 2>&1 | awk -F: '/Maximum resident/ {printf "%.0f", $2/1024}')

    ctags_s=$(median "$outdir/$name.ctags.json")
    scan_s=$(median "$outdir/$name.scan.json")
    floor_s=$(median "$outdir/$name.floor.json")
    incr=$(median "$outdir/$name.incr.json")
    qe=$(median "$outdir/$name.qexact.json")
    qs=$(median "$outdir/$name.qsub.json")
    ql=$(median "$outdir/$name.qletter.json")
    python3 - "$name" "$files" "$mb" "$ctags_s" "$scan_s" "$floor_s" "$incr" "$qe" "$qs" "$ql" "$rss" >>"$report" <<'PY'
import sys
n, files, mb, ctags, scan, floor, incr, qe, qs, ql, rss = sys.argv[1:]
ctags, scan, floor, incr, qe, qs, ql = map(float, (ctags, scan, floor, incr, qe, qs, ql))
print(f"| {n} | {files} | {mb} | {ctags:.2f} | {scan:.2f} | {scan/ctags:.2f} | {floor:.2f} | {scan/floor:.2f} | {incr*1000:.0f} | {qe*1000:.1f} | {qs*1000:.1f} | {ql*1000:.1f} | {rss} |")
PY
    tail -n 1 "$report"
done
echo "results: $report"
