#!/usr/bin/env bash
# The `combined` corpus: every corpus fetch.sh got, hard-linked into one git repository
# (bench/corpora/code/combined, about 16,500 indexed files and 113 MB), the largest tree
# the code-index goals are measured on.
#
#   bash bench/code/fetch.sh && bash bench/code/combined.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpora="$here/../corpora/code"
dest="$corpora/combined"
[ -d "$dest" ] && { echo "have $dest"; exit 0; }
[ -d "$corpora/go-stdlib" ] || { echo "combined.sh: run bench/code/fetch.sh first" >&2; exit 2; }
mkdir -p "$dest"
for c in go-stdlib python-django python-sympy typescript-rxjs javascript-date-fns; do
    if [ -d "$corpora/$c" ]; then
        cp -al "$corpora/$c" "$dest/$c"
        rm -rf "$dest/$c/.git" "$dest/$c/.baton"
    fi
done
git -C "$dest" init -q -b main
git -C "$dest" add -A
git -C "$dest" -c user.name=bench -c user.email=bench@localhost commit -q -m corpus
echo "made $dest ($(git -C "$dest" ls-files | wc -l) tracked files)"
