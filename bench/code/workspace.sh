#!/usr/bin/env bash
# Workspace resolution on real packages: four npm packages that ship their TypeScript
# sources and import each other by package name (@tanstack/react-query imports
# @tanstack/query-core; @trpc/client imports @trpc/server and its subpaths
# /observable, /rpc, /shared), placed as members of one npm workspace, as a monorepo
# checkout has them: sources tracked, built output (dist/, build/) ignored and absent
# from git. Counts how many cross-package imports resolve to a project file, and which
# do not.
#
#   bash bench/code/workspace.sh      # BATON=path/to/baton to skip the build
#
# Needs: npm, git, sqlite3. Results: bench/out/workspace.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
outdir="$repo/bench/out"
mkdir -p "$outdir"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-code}
if [ -z "${BATON:-}" ]; then
    (cd "$repo" && cargo build --quiet --release -p baton-cli --bin baton)
fi
baton=${BATON:-$CARGO_TARGET_DIR/release/baton}
PACKAGES=${PACKAGES:-"@tanstack/query-core@5.59.0 @tanstack/react-query@5.59.0 @trpc/server@10.45.2 @trpc/client@10.45.2"}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/packs" "$work/ws/packages"
(cd "$work/packs" && for p in $PACKAGES; do npm pack --silent "$p" >/dev/null; done)
for tgz in "$work"/packs/*.tgz; do
    name=$(basename "$tgz" .tgz)
    mkdir -p "$work/ws/packages/$name"
    tar --no-same-owner -xzf "$tgz" -C "$work/ws/packages/$name" --strip-components=1
done
cd "$work/ws"
printf '{"name": "workspace", "private": true, "workspaces": ["packages/*"]}\n' >package.json
printf 'dist/\nbuild/\nnode_modules/\n' >.gitignore
git init -q -b main
git add -A
git -c user.name=bench -c user.email=bench@localhost commit -q -m workspace
"$baton" init --json >/dev/null
"$baton" scan --json >/dev/null
{
    echo "workspace bench, $(date -u +%Y-%m-%dT%H:%MZ): $PACKAGES"
    echo "tracked files: $(git ls-files | wc -l), indexed: $(sqlite3 .baton/code.db 'SELECT count(*) FROM files')"
    sqlite3 .baton/code.db "SELECT 'cross-package imports: ' || count(*) || ', resolved: ' || count(resolved)
        FROM imports WHERE source LIKE '@tanstack/%' OR source LIKE '@trpc/%'"
    echo "by source (imports, resolved):"
    sqlite3 -separator '  ' .baton/code.db "SELECT source, count(*), count(resolved), coalesce(min(resolved), '-')
        FROM imports WHERE source LIKE '@tanstack/%' OR source LIKE '@trpc/%'
        GROUP BY source ORDER BY 2 DESC"
    core=$(sqlite3 .baton/code.db "SELECT min(resolved) FROM imports WHERE source = '@tanstack/query-core'")
    if [ -n "$core" ]; then
        echo "files that depend on $core: $("$baton" code dependents --file "$core" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
    fi
} | tee "$outdir/workspace.txt"
