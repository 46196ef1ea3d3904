#!/usr/bin/env bash
# HTTP pickup throughput and latency of `baton serve` on the embedded SQLite store, measured
# by an independent load generator (wrk), with duplicate claims checked afterwards.
#
#   bench/server.sh           # builds release, prints results, writes bench/out/server-*.txt
#
# Needs: wrk, sqlite3, python3 (Debian packages). For each connection count (16, 64):
#   a fresh 200,000-task board (TASKS; a run that empties it is flagged, as its rate then
#   counts refusals), `baton serve` on it, wrk POSTing /api/v1/tasks/pickup with a
#   random agent out of 64 per request, then: claims/s, p50/p99 latency, duplicate claims
#   (must be 0) and the server's RSS idle and after the run.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install $tool)" >&2; exit 1; }
done
cargo build --release -q -p baton-cli
BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
OUT="$PWD/bench/out"; mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
TASKS=${TASKS:-200000}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}

cat > "$WORK/pickup.lua" <<'LUA'
-- Every request claims the best ready task for one of 64 agents.
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  wrk.headers["X-Baton-Agent"] = "agent-" .. math.random(1, 64)
  return wrk.format(nil, "/api/v1/tasks/pickup")
end
LUA

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# One template board, copied for each run.
mkdir -p "$WORK/template/.git"
(cd "$WORK/template" && "$BATON" init >/dev/null &&
  for start in $(seq 0 10000 $((TASKS - 1))); do
    python3 -c "import json,sys; a,n=int(sys.argv[1]),int(sys.argv[2]); json.dump([{'title': f'task {i}', 'priority': 'P%d' % (i % 3), 'epic': 'e%d' % (i % 20)} for i in range(a, min(a + 10000, n))], sys.stdout)" "$start" "$TASKS" > tasks.json
    "$BATON" task add --batch tasks.json >/dev/null
  done && rm tasks.json)

for conns in ${CONNECTIONS:-16 64}; do
  dir="$WORK/c$conns"
  cp -r "$WORK/template" "$dir"
  cd "$dir"
  "$BATON" serve --port 0 2>serve.log &
  SERVER_PID=$!
  for _ in $(seq 100); do [ -f .baton/server.json ] && break; sleep 0.05; done
  url=$(python3 -c "import json; print(json.load(open('.baton/server.json'))['url'])")
  until curl -sf "$url/health" >/dev/null; do sleep 0.05; done
  sleep 1
  idle=$(rss_kb "$SERVER_PID")
  echo "== $conns connections, $TASKS tasks, $DURATION (idle RSS ${idle} kB)"
  wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -s "$WORK/pickup.lua" "$url" | tee "$OUT/server-c$conns.txt"
  after=$(rss_kb "$SERVER_PID")
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  python3 - "$dir/.baton/baton.db" "$idle" "$after" "$TASKS" <<'PY' | tee -a "$OUT/server-c$conns.txt"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
claims = db.execute("SELECT count(*) FROM events WHERE action = 'task.picked_up'").fetchone()[0]
tasks = db.execute("SELECT count(DISTINCT task) FROM events WHERE action = 'task.picked_up'").fetchone()[0]
held = db.execute("SELECT count(*) FROM tasks WHERE status = 'in-progress'").fetchone()[0]
print(f"  claims {claims}, distinct tasks claimed {tasks}, duplicates {claims - tasks}, in progress {held}")
if held >= int(sys.argv[4]):
    print("  WARNING: the board ran out of tasks; the rate above counts refusals too (raise TASKS)")
print(f"  RSS idle {int(sys.argv[2]) / 1024:.1f} MiB, after the run {int(sys.argv[3]) / 1024:.1f} MiB")
PY
  cd - >/dev/null
done
