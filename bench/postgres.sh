#!/usr/bin/env bash
# HTTP pickup throughput and latency of `baton serve` on PostgreSQL, with one replica and
# with two replicas sharing the database, measured by an independent load generator (wrk),
# with duplicate claims checked in the database afterwards.
#
#   bench/postgres.sh         # builds release, prints results, writes bench/out/postgres-*.txt
#
# Needs: wrk, psql, python3, a PostgreSQL server where the admin URL may create databases
# (BENCH_POSTGRES, default postgres://postgres@127.0.0.1:5432/test). For each replica count
# (1, 2): a fresh 50,000-task database copied from one template, the replicas on ports
# 17431.., wrk POSTing /api/v1/tasks/pickup with a random agent out of 64 per request,
# 64 connections in all (split evenly over the replicas, one wrk per replica, run at once),
# then: claims/s summed over the replicas, p50/p99 latency (the worse replica), duplicate
# claims (must be 0). The same run on SQLite for comparison: CONNECTIONS=64 bench/server.sh.
#
# Then the database's own ceiling on this machine, with no HTTP and no Baton process:
# pgbench running the pickup function (baton_claim_next) in transactions of 16 calls under
# the write lock, from 2 connections (like two replicas' writers), and `SELECT 1` for the
# cost of a round trip. CEILING=0 leaves that out; BATON_PG_ONE_STEP=off benches pickups
# through core's statements instead of the function.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk psql python3 curl; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install $tool)" >&2; exit 1; }
done
ADMIN=${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
BASE=${ADMIN%/*}
cargo build --release -q -p baton-cli
BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
OUT="$PWD/bench/out"; mkdir -p "$OUT"
WORK=$(mktemp -d)
PIDS=()
DATABASES=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for db in "${DATABASES[@]}"; do psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
TASKS=${TASKS:-50000}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
PREFIX="baton_bench_$$"

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

# One template database, copied for each run.
template="${PREFIX}_template"
DATABASES+=("$template")
psql -q "$ADMIN" -c "CREATE DATABASE $template"
for start in $(seq 0 10000 $((TASKS - 1))); do
  python3 -c "import json,sys; a,n=int(sys.argv[1]),int(sys.argv[2]); json.dump([{'title': f'task {i}', 'priority': 'P%d' % (i % 3), 'epic': 'e%d' % (i % 20)} for i in range(a, min(a + 10000, n))], sys.stdout)" "$start" "$TASKS" > "$WORK/tasks.json"
  BATON_DATABASE_URL="$BASE/$template" "$BATON" task add --batch "$WORK/tasks.json" >/dev/null
done
psql -q "$BASE/$template" -c "VACUUM ANALYZE"

for replicas in ${REPLICAS:-1 2}; do
  db="${PREFIX}_r$replicas"
  DATABASES+=("$db")
  psql -q "$ADMIN" -c "CREATE DATABASE $db TEMPLATE $template"
  urls=()
  PIDS=()
  for r in $(seq 1 "$replicas"); do
    port=$((17430 + r))
    BATON_DATABASE_URL="$BASE/$db" "$BATON" serve --port "$port" 2>"$WORK/serve-$replicas-$r.log" &
    PIDS+=($!)
    urls+=("http://127.0.0.1:$port")
  done
  for url in "${urls[@]}"; do
    for _ in $(seq 200); do curl -sf "$url/health" >/dev/null && break; sleep 0.05; done
  done
  sleep 1
  per=$((CONNECTIONS / replicas))
  echo "== $replicas replica(s), $CONNECTIONS connections ($per each), $TASKS tasks, $DURATION"
  wrk_pids=()
  for r in $(seq 1 "$replicas"); do
    wrk -t1 -c"$per" -d"$DURATION" --latency -s "$WORK/pickup.lua" "${urls[$((r - 1))]}" > "$WORK/wrk-$r.txt" &
    wrk_pids+=($!)
  done
  for pid in "${wrk_pids[@]}"; do wait "$pid"; done
  report="$OUT/postgres-r$replicas.txt"
  : > "$report"
  for r in $(seq 1 "$replicas"); do
    echo "-- replica $r" | tee -a "$report"
    tee -a "$report" < "$WORK/wrk-$r.txt"
  done
  for pid in "${PIDS[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
  PIDS=()
  python3 - "$WORK" "$replicas" <<'PY' | tee -a "$report"
import re, sys
work, replicas = sys.argv[1], int(sys.argv[2])
rate, p50, p99, errors = 0.0, 0.0, 0.0, 0
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
for r in range(1, replicas + 1):
    text = open(f"{work}/wrk-{r}.txt").read()
    rate += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = max(p50, ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", text).groups()))
    p99 = max(p99, ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", text).groups()))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors += int(m.group(1)) if m else 0
print(f"  total {rate:.0f} pickups/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms (worse replica), non-2xx {errors}")
PY
  psql -qAt "$BASE/$db" -c "SELECT '  claims ' || count(*) || ', distinct tasks claimed ' || count(DISTINCT task) || ', duplicates ' || (count(*) - count(DISTINCT task)) FROM events WHERE action = 'task.picked_up'" | tee -a "$report"
  psql -qAt "$BASE/$db" -c "SELECT '  in progress ' || count(*) || CASE WHEN count(*) >= $TASKS THEN ' WARNING: the board ran out of tasks; the rate above counts refusals too (raise TASKS)' ELSE '' END FROM tasks WHERE status = 'in-progress'" | tee -a "$report"
done

[ "${CEILING:-1}" = 1 ] || exit 0
command -v pgbench >/dev/null || { echo "the ceiling needs pgbench (postgresql-contrib)" >&2; exit 1; }
db="${PREFIX}_ceiling"
DATABASES+=("$db")
psql -q "$ADMIN" -c "CREATE DATABASE $db TEMPLATE $template"
# Baton's time text; '|' for ':' in the format, as pgbench reads ":name" as a variable.
ts() { echo "translate(to_char((now() + interval '$1') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24|MI|SS.MS\"Z\"'), '|', chr(58))"; }
{
  echo '\set a random(1, 64)'
  echo 'BEGIN;'
  echo 'SELECT pg_advisory_xact_lock(7420001);'
  for _ in $(seq 16); do
    echo "SELECT outcome FROM baton_claim_next('agent-' || :a, $(ts '0 s'), $(ts '30 min'), $(ts '15 min'), NULL, '{review,done}', NULL, 'task.picked_up', 'baton_events');"
  done
  echo 'COMMIT;'
} > "$WORK/claim.sql"
echo 'SELECT 1;' > "$WORK/one.sql"
report="$OUT/postgres-ceiling.txt"
echo "== ceiling: pgbench, 2 connections, 16 pickups per transaction, $DURATION" | tee "$report"
pgbench -n -M prepared -c 2 -j 2 -T "${DURATION%s}" -f "$WORK/claim.sql" "$BASE/$db" 2>&1 | grep -E "^(tps|latency average)" | tee -a "$report"
psql -qAt "$BASE/$db" -c "SELECT '  claims ' || count(*) || ', duplicates ' || (count(*) - count(DISTINCT task)) FROM events WHERE action = 'task.picked_up'" | tee -a "$report"
echo "== a round trip: pgbench SELECT 1, 1 connection" | tee -a "$report"
pgbench -n -M prepared -c 1 -j 1 -T "${DURATION%s}" -f "$WORK/one.sql" "$BASE/$db" 2>&1 | grep -E "^(tps|latency average)" | tee -a "$report"
