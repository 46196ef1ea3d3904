#!/usr/bin/env bash
# What idle agents and board readers cost `baton serve` on the embedded SQLite store, all
# in one run on one 50,000-task board (TASKS), measured by wrk and curl:
#
#   (a) claims/s and p99 while work exists: 64 connections (CONNECTIONS) POST
#       /api/v1/tasks/pickup for a random agent out of 64, for CLAIM_DURATION (3s, short
#       enough not to empty the board; a run that empties it is flagged);
#   (b) then the rest of the board is claimed, and the same load runs for DURATION (5s)
#       on a board where every task is held: every answer is `no_task_ready`;
#   (c) GET /metrics and GET /api/v1/board, REQUESTS (50) times each with curl, one at a
#       time, once on the fresh board (50,000 open) and once with 50,000 claimed: the
#       median and largest time, and the response size.
#
#   bench/idle.sh                       # builds release, RUNS=1
#   RUNS=3 BATON=/path/to/baton bench/idle.sh   # an already built binary (another commit)
#
# Needs: wrk, sqlite3, python3, curl. Writes bench/out/idle-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk sqlite3 python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install $tool)" >&2; exit 1; }
done
if [ -z "${BATON:-}" ]; then
  cargo build --release -q -p baton-cli
  BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
fi
OUT="$PWD/bench/out"; mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
TASKS=${TASKS:-50000}
CLAIM_DURATION=${CLAIM_DURATION:-3s}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
REQUESTS=${REQUESTS:-50}
RUNS=${RUNS:-1}

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

# One template board, copied for each run.
mkdir -p "$WORK/template/.git"
(cd "$WORK/template" && "$BATON" init >/dev/null &&
  for start in $(seq 0 10000 $((TASKS - 1))); do
    python3 -c "import json,sys; a,n=int(sys.argv[1]),int(sys.argv[2]); json.dump([{'title': f'task {i}', 'priority': 'P%d' % (i % 3), 'epic': 'e%d' % (i % 20)} for i in range(a, min(a + 10000, n))], sys.stdout)" "$start" "$TASKS" > tasks.json
    "$BATON" task add --batch tasks.json >/dev/null
  done && rm tasks.json)

held() { sqlite3 "$1/.baton/baton.db" "SELECT count(*) FROM tasks WHERE status = 'in-progress'"; }

# `wrk` output -> "requests/s p50 p99" (latencies in ms).
summary() {
  python3 -c '
import re, sys
text = sys.stdin.read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def ms(label):
    m = re.search(r"\s" + label + r"%\s+([\d.]+)(us|ms|s)\b", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
p50, p99 = ms("50"), ms("99")
print(f"{rate:.0f} {p50:.2f} {p99:.2f}")'
}

# GET $1 REQUESTS times -> "median_ms max_ms bytes".
latency() {
  for _ in $(seq "$REQUESTS"); do
    curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$1"
  done | python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin]
times = [float(t) * 1000 for t, _ in rows]
print(f"{statistics.median(times):.2f} {max(times):.2f} {rows[-1][1]}")'
}

for run in $(seq "$RUNS"); do
  dir="$WORK/run$run"
  rm -rf "$dir"; cp -r "$WORK/template" "$dir"
  cd "$dir"
  "$BATON" serve --port 0 2>serve.log &
  SERVER_PID=$!
  for _ in $(seq 100); do [ -f .baton/server.json ] && break; sleep 0.05; done
  url=$(python3 -c "import json; print(json.load(open('.baton/server.json'))['url'])")
  until curl -sf "$url/health" >/dev/null; do sleep 0.05; done
  sleep 1
  report="$OUT/idle-run$run.txt"
  echo "== run $run: $TASKS tasks, $CONNECTIONS connections, load average $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$report"

  read -r m_med m_max m_size < <(latency "$url/metrics")
  read -r b_med b_max b_size < <(latency "$url/api/v1/board")
  echo "  open board:    /metrics median ${m_med} ms (max ${m_max}, ${m_size} B); /api/v1/board median ${b_med} ms (max ${b_max}, ${b_size} B)" | tee -a "$report"

  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$CLAIM_DURATION" --latency -s "$WORK/pickup.lua" "$url" > claims.txt
  read -r c_rate c_p50 c_p99 < <(summary < claims.txt)
  c_held=$(held "$dir")
  echo "  (a) claims with work: ${c_rate}/s, p50 ${c_p50} ms, p99 ${c_p99} ms ($c_held held after)" | tee -a "$report"
  [ "$c_held" -ge "$TASKS" ] && echo "  WARNING: the board ran out during (a); its rate counts refusals too" | tee -a "$report"

  # Claim the rest (not measured), until every task is held.
  until [ "$(held "$dir")" -ge "$TASKS" ]; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s "$WORK/pickup.lua" "$url" >/dev/null
  done

  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/pickup.lua" "$url" > empty.txt
  read -r e_rate e_p50 e_p99 < <(summary < empty.txt)
  echo "  (b) empty queue, $TASKS held: ${e_rate} answers/s, p50 ${e_p50} ms, p99 ${e_p99} ms ($(grep -o 'Non-2xx or 3xx responses: [0-9]*' empty.txt || echo 'all 2xx'))" | tee -a "$report"

  read -r m_med m_max m_size < <(latency "$url/metrics")
  read -r b_med b_max b_size < <(latency "$url/api/v1/board")
  echo "  (c) $TASKS held: /metrics median ${m_med} ms (max ${m_max}, ${m_size} B); /api/v1/board median ${b_med} ms (max ${b_max}, ${b_size} B)" | tee -a "$report"
  python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'  claim rate / empty-queue rate: {a/b:.2f}x')" "$c_rate" "$e_rate" | tee -a "$report"

  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  cd - >/dev/null
done
