#!/usr/bin/env bash
# What phases cost pickups: HTTP pickups/s of `baton serve` on a board whose tasks sit in
# phases (half of them behind closed gates), against a flat board of the same size, in the
# same session, alternating runs.
#
#   bench/plan.sh             # builds release, prints results, writes bench/out/plan.txt
#
# Needs: wrk, curl, python3 (Debian packages). Two boards of TASKS tasks (default 200,000):
#   flat:   no initiative, priorities P0..P2;
#   phases: one initiative with 20 phases of TASKS/20 tasks; 10 phases approved (their
#           tasks ready, P1/P2), 10 pending behind them (their tasks gated, all P0, so the
#           best-ranked tasks of the board are the ones a pickup must never hand out).
# For each of RUNS rounds (default 5), a fresh copy of each board is served and loaded by
# wrk (64 connections, 2 threads, 5 s) POSTing /api/v1/tasks/pickup as one of 64 agents.
# Afterwards each phases run is checked: no gated task was claimed.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk curl python3; do
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
RUNS=${RUNS:-5}
PHASES=20
PER=$((TASKS / PHASES))

batch() { # $1 first index, $2 count, $3 phase ("" for none), $4 priority expression
  python3 -c "
import json, sys
a, n, phase, prio = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = []
for i in range(a, a + n):
    t = {'title': f'task {i}', 'priority': eval(prio)}
    if phase:
        t['phase'] = phase
    out.append(t)
json.dump(out, sys.stdout)" "$1" "$2" "$3" "$4" > tasks.json
  "$BATON" task add --batch tasks.json >/dev/null
}

mkdir -p "$WORK/flat/.git" "$WORK/phases/.git"
(cd "$WORK/flat" && "$BATON" init >/dev/null &&
  for start in $(seq 0 10000 $((TASKS - 1))); do batch "$start" 10000 "" "'P%d' % (i % 3)"; done &&
  rm tasks.json)
(cd "$WORK/phases" && "$BATON" init >/dev/null &&
  "$BATON" initiative add "Bench" >/dev/null &&
  for p in $(seq 1 $PHASES); do
    if [ "$p" -le $((PHASES / 2)) ]; then
      "$BATON" phase add -i I-1 "open $p" >/dev/null
      "$BATON" phase approve "P-$p" >/dev/null
    else
      "$BATON" phase add -i I-1 "gated $p" --depends-on "P-$((p - PHASES / 2))" >/dev/null
    fi
  done &&
  for p in $(seq 1 $PHASES); do
    for start in $(seq 0 10000 $((PER - 1))); do
      n=$(( PER - start < 10000 ? PER - start : 10000 ))
      if [ "$p" -le $((PHASES / 2)) ]; then prio="'P%d' % (1 + i % 2)"; else prio="'P0'"; fi
      batch $(( (p - 1) * PER + start )) "$n" "P-$p" "$prio"
    done
  done && rm tasks.json)

cat > "$WORK/pickup.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  wrk.headers["X-Baton-Agent"] = "agent-" .. math.random(1, 64)
  return wrk.format(nil, "/api/v1/tasks/pickup")
end
LUA

run() { # $1 board, $2 round
  local dir="$WORK/run-$1-$2"
  cp -r "$WORK/$1" "$dir"
  cd "$dir"
  "$BATON" serve --port 0 2>serve.log &
  SERVER_PID=$!
  for _ in $(seq 200); do [ -f .baton/server.json ] && break; sleep 0.05; done
  local url
  url=$(python3 -c "import json; print(json.load(open('.baton/server.json'))['url'])")
  until curl -sf "$url/health" >/dev/null; do sleep 0.05; done
  sleep 1
  local rate
  rate=$(wrk -t2 -c64 -d5s --latency -s "$WORK/pickup.lua" "$url" | tee "wrk.txt" | awk '/Requests\/sec/ {print $2}')
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  local gated
  gated=$(python3 -c "
import sqlite3
db = sqlite3.connect('.baton/baton.db')
print(db.execute(\"SELECT count(*) FROM tasks WHERE gated = 1 AND status <> 'open'\").fetchone()[0])")
  local p99
  p99=$(awk '/ 99%/ {print $2}' wrk.txt)
  echo "$1 round $2: $rate pickups/s, p99 $p99, gated tasks claimed: $gated" | tee -a "$OUT/plan.txt"
  cd - >/dev/null
  rm -rf "$dir"
}

: > "$OUT/plan.txt"
echo "== $TASKS tasks, $RUNS rounds, 64 connections, 5 s each (load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$OUT/plan.txt"
for r in $(seq 1 "$RUNS"); do
  run flat "$r"
  run phases "$r"
done
python3 - "$OUT/plan.txt" <<'PY' | tee -a "$OUT/plan.txt"
import re, statistics, sys
rates = {"flat": [], "phases": []}
for line in open(sys.argv[1]):
    m = re.match(r"(flat|phases) round \d+: ([\d.]+) pickups/s", line)
    if m:
        rates[m.group(1)].append(float(m.group(2)))
f, p = statistics.median(rates["flat"]), statistics.median(rates["phases"])
print(f"median pickups/s: flat {f:,.0f}, phases {p:,.0f}, ratio {p / f:.2f}")
PY
