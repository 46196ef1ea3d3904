#!/usr/bin/env bash
# What team mode costs: HTTP pickups/s with a bearer token against local mode, in the same
# session, alternating runs; and the latency of a login (Argon2id).
#
#   bench/teams.sh            # builds release, prints results, writes bench/out/teams.txt
#
# Needs: wrk, curl, python3 (Debian packages). For each of RUNS rounds (default 5): a fresh
# copy of one 100,000-task board served in local mode, then the same board with one user
# and served in team mode, each loaded by wrk (64 connections, 2 threads, 5 s) POSTing
# /api/v1/tasks/pickup as one of 64 agents; in team mode every request also carries
# `Authorization: Bearer <token>` (an API token, looked up by its hash in the store on
# every request). Then LOGINS logins (default 50) against the team server, timed by curl.
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
TASKS=${TASKS:-100000}
RUNS=${RUNS:-5}
LOGINS=${LOGINS:-50}
PASSWORD="a bench password"

mkdir -p "$WORK/template/.git"
(cd "$WORK/template" && "$BATON" init >/dev/null &&
  for start in $(seq 0 10000 $((TASKS - 1))); do
    python3 -c "import json,sys; a,n=int(sys.argv[1]),int(sys.argv[2]); json.dump([{'title': f'task {i}', 'priority': 'P%d' % (i % 3)} for i in range(a, min(a + 10000, n))], sys.stdout)" "$start" "$TASKS" > tasks.json
    "$BATON" task add --batch tasks.json >/dev/null
  done && rm tasks.json)

serve() {
  "$BATON" serve --port 0 2>serve.log &
  SERVER_PID=$!
  for _ in $(seq 200); do [ -f .baton/server.json ] && break; sleep 0.05; done
  URL=$(python3 -c "import json; print(json.load(open('.baton/server.json'))['url'])")
  until curl -sf "$URL/health" >/dev/null; do sleep 0.05; done
  sleep 1
}

stop() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }

lua() { # $1: the Authorization header, or empty
  cat <<LUA
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
local auth = "$1"
if auth ~= "" then wrk.headers["Authorization"] = auth end
request = function()
  wrk.headers["X-Baton-Agent"] = "agent-" .. math.random(1, 64)
  return wrk.format(nil, "/api/v1/tasks/pickup")
end
LUA
}

rate() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }

: > "$OUT/teams.txt"
for run in $(seq "$RUNS"); do
  for mode in local team; do
    dir="$WORK/$mode-$run"; cp -r "$WORK/template" "$dir"; cd "$dir"
    auth=""
    if [ "$mode" = team ]; then
      echo "$PASSWORD" | "$BATON" user add bench --admin --password-stdin >/dev/null
      token=$("$BATON" token create --role agent --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
      auth="Bearer $token"
    fi
    lua "$auth" > pickup.lua
    serve
    wrk -t2 -c64 -d5s --latency -s pickup.lua "$URL" > wrk.txt
    echo "run $run $mode $(rate wrk.txt) pickups/s p99 $(p99 wrk.txt) ($(grep -c . serve.log) log lines, mode: $(grep -o '[a-z]* mode' serve.log | head -1))" | tee -a "$OUT/teams.txt"
    if [ "$mode" = team ] && [ "$run" = 1 ]; then
      # Logins: the wall time of each POST /api/v1/auth/login, one at a time.
      for _ in $(seq "$LOGINS"); do
        curl -s -o /dev/null -w '%{time_total}\n' -H 'Content-Type: application/json' \
          -d "{\"name\": \"bench\", \"password\": \"$PASSWORD\"}" "$URL/api/v1/auth/login"
      done > logins.txt
      python3 - logins.txt <<'PY' | tee -a "$OUT/teams.txt"
import statistics, sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
print(f"login: median {statistics.median(t):.1f} ms, p90 {t[int(len(t) * 0.9)]:.1f} ms, "
      f"min {t[0]:.1f} ms over {len(t)} logins (Argon2id m=19456 KiB, t=2, p=1)")
PY
    fi
    stop
    cd - >/dev/null
  done
done
python3 - "$OUT/teams.txt" <<'PY' | tee -a "$OUT/teams.txt"
import statistics, sys
rates = {"local": [], "team": []}
for line in open(sys.argv[1]):
    parts = line.split()
    if parts and parts[0] == "run":
        rates[parts[2]].append(float(parts[3]))
local, team = statistics.median(rates["local"]), statistics.median(rates["team"])
print(f"median pickups/s: local {local:,.0f}, team {team:,.0f}: ratio {team / local:.2f}")
PY
