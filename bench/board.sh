#!/usr/bin/env bash
# Whole-process benchmarks of the task board on the embedded SQLite store.
#
#   bench/board.sh            # builds release, prints results, writes bench/out/board-*.json
#
# Needs: hyperfine, sqlite3 (Debian packages). Measures:
#   1. CLI round trip (median) of `task show` and `task pickup` on a 10,000-task board,
#      against the sqlite3 shell doing the same point read (baseline) and `true` (process floor).
#   2. Claims/s with 16 concurrent processes draining a board, and duplicate claims (must be 0).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in hyperfine sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install $tool)" >&2; exit 1; }
done
cargo build --release -q -p baton-cli
cargo build --release -q -p baton-sqlite --example claim_loop
CLAIM_LOOP="${CARGO_TARGET_DIR:-$PWD/target}/release/examples/claim_loop"
BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
OUT="$PWD/bench/out"; mkdir -p "$OUT"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
TASKS=${TASKS:-10000}
CLAIM_TASKS=${CLAIM_TASKS:-4000}
WORKERS=${WORKERS:-16}

make_board() { # dir, n
  mkdir -p "$1/.git"
  (cd "$1" && "$BATON" init >/dev/null &&
    python3 -c "import json,sys; json.dump([{'title': f'task {i}', 'priority': 'P%d' % (i % 3), 'epic': 'e%d' % (i % 20)} for i in range(int(sys.argv[1]))], sys.stdout)" "$2" > "$1/tasks.json" &&
    "$BATON" task add --batch tasks.json >/dev/null)
}

if [ -z "${SKIP_RT:-}" ]; then
echo "== round trip on a $TASKS-task board"
make_board "$WORK/rt" "$TASKS"
cd "$WORK/rt"
hyperfine -N --warmup 20 --runs 300 --export-json "$OUT/board-roundtrip.json" \
  -n 'true (process floor)' 'true' \
  -n 'sqlite3 point read (baseline)' "sqlite3 .baton/baton.db 'SELECT * FROM tasks WHERE id = 5000'" \
  -n 'baton task show' "$BATON task show T-5000" \
  -n 'baton task pickup' "$BATON --agent bench task pickup"
python3 - "$OUT/board-roundtrip.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["sqlite3 point read (baseline)"]["median"]
for name, x in r.items():
    print(f"  {name:32s} median {x['median']*1000:7.2f} ms   x{x['median']/base:5.2f} of sqlite3")
PY
cd - >/dev/null
fi

echo "== claims/s: $WORKERS processes draining $CLAIM_TASKS tasks"
make_board "$WORK/claims" "$CLAIM_TASKS"
cd "$WORK/claims"
start=$(date +%s.%N)
for w in $(seq 1 "$WORKERS"); do
  ( while "$BATON" --agent "w$w" task pickup > /dev/null 2>>"err-$w"; do :; done ) &
done
wait
end=$(date +%s.%N)
held=$("$BATON" task list --status in-progress --limit 0 | python3 -c "import json,sys; t=json.load(sys.stdin); print(len(t), len({x['id'] for x in t}))")
events=$("$BATON" events --action task.picked_up --limit 0 | python3 -c "import json,sys; e=json.load(sys.stdin); print(len(e), len({x['task'] for x in e}))")
endings=$(cat err-* | python3 -c "import json,sys; c=[json.loads(l)['error']['code'] for l in sys.stdin if l.strip()]; print(len(c), sorted(set(c)))")
python3 - "$start" "$end" "$CLAIM_TASKS" "$held" "$events" "$endings" <<'PY'
import sys
start, end, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
held, uniq_held = map(int, sys.argv[4].split())
ev, uniq_ev = map(int, sys.argv[5].split())
secs = end - start
print(f"  {n} claims in {secs:.2f} s = {n/secs:.0f} claims/s")
print(f"  in-progress tasks: {held} ({uniq_held} distinct); picked_up events: {ev} for {uniq_ev} tasks; duplicates: {ev - uniq_ev}")
print(f"  worker endings: {sys.argv[6]}")
PY
cd - >/dev/null

echo "== claims/s: $WORKERS long-lived processes (one store each) draining $CLAIM_TASKS tasks"
make_board "$WORK/loops" "$CLAIM_TASKS"
cd "$WORK/loops"
start=$(date +%s.%N)
for w in $(seq 1 "$WORKERS"); do "$CLAIM_LOOP" .baton/baton.db "loop$w" > "count-$w" & done
wait
end=$(date +%s.%N)
total=$(cat count-* | python3 -c "import sys; print(sum(int(l) for l in sys.stdin))")
events=$("$BATON" events --action task.picked_up --limit 0 | python3 -c "import json,sys; e=json.load(sys.stdin); print(len(e), len({x['task'] for x in e}))")
python3 - "$start" "$end" "$total" "$events" <<'PY'
import sys
start, end, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
ev, uniq = map(int, sys.argv[4].split())
print(f"  {n} claims in {end-start:.2f} s = {n/(end-start):.0f} claims/s; picked_up events {ev} for {uniq} tasks; duplicates: {ev-uniq}")
PY
cd - >/dev/null

echo "== pickup with and without 1,000 live reservations ($WORKERS long-lived processes, $CLAIM_TASKS tasks with a file surface each)"
surface_board() { # dir, reservations
  mkdir -p "$1/.git"
  (cd "$1" && "$BATON" init >/dev/null &&
    python3 -c "import json,sys; json.dump([{'title': f'task {i}', 'files': [f'src/pkg{i}/**']} for i in range(int(sys.argv[1]))], sys.stdout)" "$CLAIM_TASKS" > tasks.json &&
    "$BATON" task add --batch tasks.json >/dev/null &&
    "$BATON" config set lease_ttl 2h >/dev/null
    if [ "$2" -gt 0 ]; then
      for chunk in $(seq 0 $(( $2 / 100 - 1 ))); do
        "$BATON" --agent holder reserve --ttl 2h $(python3 -c "import sys; c=int(sys.argv[1]); print(' '.join(f'src/mod{c*100+j}/**' for j in range(100)))" "$chunk") >/dev/null
      done
    fi)
}
for n in 0 1000; do
  for run in 1 2 3; do
    rm -rf "$WORK/res"; surface_board "$WORK/res" "$n"
    cd "$WORK/res"
    live=$("$BATON" reservations | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
    start=$(date +%s.%N)
    for w in $(seq 1 "$WORKERS"); do "$CLAIM_LOOP" .baton/baton.db "loop$w" > "count-$w" & done
    wait
    end=$(date +%s.%N)
    total=$(cat count-* | python3 -c "import sys; print(sum(int(l) for l in sys.stdin))")
    python3 -c "import sys; s,e,n=float(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'  reservations={sys.argv[4]:>4} (live before: {sys.argv[5]}) run {sys.argv[6]}: {n} claims in {e-s:.2f} s = {n/(e-s):.0f} claims/s')" "$start" "$end" "$total" "$n" "$live" "$run"
    cd - >/dev/null
  done
done
