#!/usr/bin/env bash
# Recall of the code index against an independent reference extractor per language, on
# the corpora fetched by fetch.sh: CPython's `ast` for Python, the TypeScript compiler's
# parser (the `typescript` npm package) for TypeScript/JavaScript, Go's `go/parser` for
# Go. Every definition the reference lists in the files the index holds (functions,
# methods, classes, interfaces and their members, types, enums; nested ones too) must be
# a symbol of the same file and name whose lines include the reference's line.
#
#   bash bench/code/fetch.sh python typescript go && bash bench/code/recall.sh [corpus...]
#
# Needs: python3, node and npm, sqlite3, and Go (Debian package golang-go) for go-stdlib.
# Results: bench/out/recall-<corpus>.json and the definitions not found in
# bench/out/recall-<corpus>.misses.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
corpora="$repo/bench/corpora/code"
tools="$repo/bench/corpora/tools"
outdir="$repo/bench/out"
mkdir -p "$outdir" "$tools"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-code}
TYPESCRIPT_VERSION=${TYPESCRIPT_VERSION:-5.6.3}

# BATON=path/to/baton uses that binary (recall does not depend on the build profile).
if [ -z "${BATON:-}" ]; then
    (cd "$repo" && cargo build --quiet --release -p baton-cli --bin baton)
fi
baton=${BATON:-$CARGO_TARGET_DIR/release/baton}

reference() { # corpus dir -> reference JSON lines on stdout
    local name=$1 dir=$2
    case $name in
        python-*)
            (cd "$dir" && python3 "$here/reference/python_ast.py" <"$outdir/$name.files") ;;
        typescript-*|javascript-*)
            if [ ! -d "$tools/node_modules/typescript" ]; then
                (cd "$tools" && npm install --silent --no-save "typescript@$TYPESCRIPT_VERSION" >/dev/null)
            fi
            (cd "$dir" && node "$here/reference/typescript_api.js" "$tools/node_modules/typescript" <"$outdir/$name.files") ;;
        go-*)
            command -v go >/dev/null || { echo "recall of $name needs Go (apt-get install golang-go)" >&2; return 1; }
            [ -x "$tools/go_ast" ] || (cd "$here/reference" && GOFLAGS=-mod=mod go build -o "$tools/go_ast" go_ast.go)
            (cd "$dir" && "$tools/go_ast" <"$outdir/$name.files") ;;
        *) echo "no reference extractor for $name" >&2; return 1 ;;
    esac
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(python-django typescript-rxjs go-stdlib)
for name in "${targets[@]}"; do
    dir="$corpora/$name"
    [ -d "$dir" ] || { echo "missing $dir: run fetch.sh" >&2; continue; }
    (cd "$dir" && { [ -f .baton/config.toml ] || "$baton" init --json >/dev/null; } && rm -f .baton/code.db* && "$baton" scan --json >/dev/null)
    sqlite3 "$dir/.baton/code.db" "SELECT path FROM files ORDER BY path" >"$outdir/$name.files"
    reference "$name" "$dir" >"$outdir/$name.reference.jsonl"
    python3 "$here/reference/compare.py" "$dir/.baton/code.db" "$outdir/$name.reference.jsonl" \
        "$outdir/recall-$name.misses" | tee "$outdir/recall-$name.json"
done
