#!/usr/bin/env bash
# A 16 MB sample of the corpora (hard links, its own git repository), small enough
# for `valgrind --tool=callgrind` (a few minutes a run): Go's net/ and go/,
# Django's db/, SymPy's core/, rxjs's src/, date-fns's _lib/ and its a*/d* modules.
#
#   bash bench/code/fetch.sh && bash bench/code/sample.sh   # -> bench/corpora/code/sample
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
c="$here/../corpora/code"
s="$c/sample"
[ -d "$s" ] && { echo "have $s"; exit 0; }
mkdir -p "$s/go" "$s/py" "$s/js/top"
cp -al "$c/go-stdlib/net" "$s/go/net"
cp -al "$c/go-stdlib/go" "$s/go/go"
cp -al "$c/python-django/django/db" "$s/py/db"
cp -al "$c/python-sympy/sympy/core" "$s/py/core"
cp -al "$c/typescript-rxjs/src" "$s/js/rxjs"
cp -al "$c/javascript-date-fns/_lib" "$s/js/lib"
for f in "$c"/javascript-date-fns/a*.*s "$c"/javascript-date-fns/d*.*s; do ln "$f" "$s/js/top/"; done
git -C "$s" init -q -b main
git -C "$s" add -A
git -C "$s" -c user.name=bench -c user.email=bench@localhost commit -q -m corpus
git -C "$s" ls-files | wc -l
