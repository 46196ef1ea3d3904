#!/usr/bin/env bash
# Whole-process benchmark of the edit-time check: what `baton edit-check`, run by Claude
# Code or Codex as a PreToolUse hook before every file edit, adds to an edit.
#
#   bench/edit-check.sh              # builds release, prints results, writes bench/out/edit-check.json
#   BATON=path/to/baton bench/edit-check.sh   # a baton built already
#
# Needs: hyperfine, python3. A board with 1,000 tasks and 200 reservations held by 20
# agents; the hook's JSON on stdin, as the CLIs send it: an allowed edit (a free file) and a
# refused one (a file another agent reserved: exit 2, the refusal on stderr). Baseline: the
# same shell reading the same input into `true`.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install $tool)" >&2; exit 1; }
done
if [ -z "${BATON:-}" ]; then
  cargo build --release -q -p baton-cli
  BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
fi
OUT="$PWD/bench/out"; mkdir -p "$OUT"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
git init -q . && "$BATON" init >/dev/null
python3 -c "import json; json.dump([{'title': f'task {i}'} for i in range(1000)], open('tasks.json', 'w'))"
"$BATON" task add --batch tasks.json >/dev/null
for a in $(seq 1 20); do
  globs=$(for g in $(seq 1 10); do printf 'src/m%d/p%d/** ' "$a" "$g"; done)
  # shellcheck disable=SC2086
  "$BATON" --agent "agent-$a" reserve $globs --ttl 2h >/dev/null
done
hook() { # file -> the PreToolUse JSON Claude Code sends for an Edit of it
  python3 -c "import json,sys; print(json.dumps({'session_id': 's', 'hook_event_name': 'PreToolUse', 'tool_name': 'Edit', 'cwd': sys.argv[2], 'tool_input': {'file_path': sys.argv[2] + '/' + sys.argv[1], 'old_string': 'a', 'new_string': 'b'}}))" "$1" "$WORK"
}
hook docs/free.md > allowed.json
hook src/m7/p3/lib.rs > refused.json
export BATON_AGENT=agent-1
hyperfine -N --warmup 10 --runs 200 -i --export-json "$OUT/edit-check.json" \
  -n 'sh reading the input (floor)' "sh -c 'true < allowed.json'" \
  -n 'edit-check, allowed' "sh -c '$BATON edit-check < allowed.json'" \
  -n 'edit-check, refused' "sh -c '$BATON edit-check < refused.json 2>/dev/null'"
