#!/usr/bin/env bash
# Fetch real corpora for the code-index benchmark, by package name, into
# bench/corpora/code/ (gitignored). Nothing fetched here is committed.
#
#   bash bench/code/fetch.sh            # all corpora
#   bash bench/code/fetch.sh python     # one of: python typescript go
#
# python:     the Django sdist (pip download --no-binary :all:)
# sympy:      the SymPy sdist, a second large Python tree (same route)
# typescript: the rxjs npm package, which ships its TypeScript sources (npm pack)
# datefns:    the date-fns npm package: thousands of small .js/.cjs/.d.ts files
# go:         Debian's golang-1.19-src package, the Go standard library and
#             toolchain sources (apt-get download; deb-src is not configured here)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/../corpora/code"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

DJANGO_VERSION=${DJANGO_VERSION:-5.1.4}
SYMPY_VERSION=${SYMPY_VERSION:-1.13.3}
RXJS_VERSION=${RXJS_VERSION:-7.8.1}
DATEFNS_VERSION=${DATEFNS_VERSION:-4.1.0}
GO_PACKAGE=${GO_PACKAGE:-golang-1.19-src}

# Each corpus is its own git repository (the incremental scan reads git state,
# and `baton init` must not climb into the Baton checkout).
commit_corpus() {
    local dir=$1
    git -C "$dir" init -q -b main
    git -C "$dir" add -A
    git -C "$dir" -c user.name=bench -c user.email=bench@localhost commit -q -m corpus
}

fetch_python() {
    local dest="$out/python-django"
    [ -d "$dest" ] && { echo "have $dest"; return; }
    pip download --quiet --no-binary :all: --no-deps -d "$tmp/py" "django==$DJANGO_VERSION"
    mkdir -p "$tmp/py/x"
    tar --no-same-owner -xzf "$tmp"/py/*.tar.gz -C "$tmp/py/x"
    mv "$tmp"/py/x/* "$dest"
    commit_corpus "$dest"
}

fetch_sympy() {
    local dest="$out/python-sympy"
    [ -d "$dest" ] && { echo "have $dest"; return; }
    pip download --quiet --no-binary :all: --no-deps -d "$tmp/sympy" "sympy==$SYMPY_VERSION"
    mkdir -p "$tmp/sympy/x"
    tar --no-same-owner -xzf "$tmp"/sympy/*.tar.gz -C "$tmp/sympy/x"
    mv "$tmp"/sympy/x/* "$dest"
    commit_corpus "$dest"
}

fetch_typescript() {
    local dest="$out/typescript-rxjs"
    [ -d "$dest" ] && { echo "have $dest"; return; }
    mkdir -p "$tmp/npm"
    (cd "$tmp/npm" && npm pack --silent "rxjs@$RXJS_VERSION" >/dev/null)
    mkdir -p "$tmp/npm/x"
    tar --no-same-owner -xzf "$tmp"/npm/*.tgz -C "$tmp/npm/x"
    mv "$tmp/npm/x/package" "$dest"
    commit_corpus "$dest"
}

fetch_datefns() {
    local dest="$out/javascript-date-fns"
    [ -d "$dest" ] && { echo "have $dest"; return; }
    mkdir -p "$tmp/datefns"
    (cd "$tmp/datefns" && npm pack --silent "date-fns@$DATEFNS_VERSION" >/dev/null)
    mkdir -p "$tmp/datefns/x"
    tar --no-same-owner -xzf "$tmp"/datefns/*.tgz -C "$tmp/datefns/x"
    mv "$tmp/datefns/x/package" "$dest"
    commit_corpus "$dest"
}

fetch_go() {
    local dest="$out/go-stdlib"
    [ -d "$dest" ] && { echo "have $dest"; return; }
    mkdir -p "$tmp/deb"
    (cd "$tmp/deb" && apt-get download "$GO_PACKAGE" >/dev/null)
    dpkg-deb -x "$tmp"/deb/*.deb "$tmp/deb/x"
    local src
    src=$(find "$tmp/deb/x" -maxdepth 4 -type d -name src -path '*go*' | head -n 1)
    [ -n "$src" ] || { echo "no src/ folder in $GO_PACKAGE" >&2; exit 1; }
    cp -r "$src" "$dest"
    commit_corpus "$dest"
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(python sympy typescript datefns go)
for t in "${targets[@]}"; do
    case $t in
        python) fetch_python ;;
        sympy) fetch_sympy ;;
        typescript) fetch_typescript ;;
        datefns) fetch_datefns ;;
        go) fetch_go ;;
        *) echo "unknown corpus $t (python sympy typescript datefns go)" >&2; exit 2 ;;
    esac
done
ls -1 "$out"
