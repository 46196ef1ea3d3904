#!/usr/bin/env bash
# The operations record (issue 19), whole processes on a project file:
#
#   1. `baton log` round trip: one process writing one entry, RUNS times (median ms).
#   2. Sustained entries per second from 16 processes: each loops `baton log` PER times;
#      entries written / wall time of the whole load.
#   2b. The same through `baton log --stdin` (lines batched, up to 1,000 per transaction):
#      one process writing LINES lines, then 16 processes writing LINES/16 each at once.
#   3. `tail` and `analyze` on 1,000,000 entries: a project exported, 1,000,000 log events
#      appended to the file (50 message shapes, 4 levels, 8 actors, 5 actions), imported
#      into an empty project; then `baton tail -n 50`, `baton tail --action ERROR -n 50`,
#      `baton analyze patterns --since 3650d` and `baton analyze agents` timed, RUNS times.
#   4. Retention on those entries (dated 2020-01-01): `log_retention 30d`, then
#      `baton prune --dry-run` and `baton prune` (batches of 10,000 until none are left),
#      timed once each; entries deleted per second.
#
#   bash bench/ops.sh                    # builds release
#   RUNS=7 PER=200 ENTRIES=1000000 bash bench/ops.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p baton-cli
BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
OUT="$PWD/bench/out"; mkdir -p "$OUT"
RUNS=${RUNS:-7}
PER=${PER:-200}
ENTRIES=${ENTRIES:-1000000}
LINES=${LINES:-160000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ms() { python3 -c 'import time; print(time.perf_counter_ns() // 1000)'; }
median() { python3 -c 'import statistics, sys; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f}")' "$@"; }
timed() { local t0 t1; t0=$(ms); "$@" >/dev/null || return 1; t1=$(ms); echo $(( (t1 - t0) / 1000 )); }

# ---- 1 and 2 --------------------------------------------------------------------------
mkdir -p "$WORK/live" && cd "$WORK/live"
"$BATON" init >/dev/null
ROUND=()
for _ in $(seq "$RUNS"); do ROUND+=("$(timed "$BATON" log "Build 42 started" --action BUILD)"); done
t0=$(ms)
for w in $(seq 16); do
  ( for i in $(seq "$PER"); do BATON_AGENT="agent-$w" "$BATON" log "step $i of worker $w" --action STEP >/dev/null; done ) &
done
wait
t1=$(ms)
WRITTEN=$("$BATON" tail --action STEP --all --format json | wc -l)
RATE=$(python3 -c "print(round($WRITTEN / (($t1 - $t0) / 1e6)))")

# ---- 2b ---------------------------------------------------------------------------------
seq "$LINES" | sed 's/^/line /' > "$WORK/lines.txt"
head -n $(( LINES / 16 )) "$WORK/lines.txt" > "$WORK/part.txt"
p0=$(ms)
"$BATON" log --stdin --action PIPE --system ci < "$WORK/lines.txt" >/dev/null
p1=$(ms)
PIPE_ONE=$(python3 -c "print(round($LINES / (($p1 - $p0) / 1e6)))")
p2=$(ms)
for w in $(seq 16); do
  BATON_AGENT="agent-$w" "$BATON" log --stdin --action PIPES < "$WORK/part.txt" >/dev/null &
done
wait
p3=$(ms)
PIPED=$("$BATON" tail --action PIPES --all --format json | wc -l)
PIPE_MANY=$(python3 -c "print(round($PIPED / (($p3 - $p2) / 1e6)))")

# ---- 3 ----------------------------------------------------------------------------------
mkdir -p "$WORK/big" && cd "$WORK/big"
"$BATON" init >/dev/null
"$BATON" export -o "$WORK/base.jsonl" >/dev/null
python3 - "$WORK/base.jsonl" "$WORK/big.jsonl" "$ENTRIES" <<'PY'
import json, sys, random
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(src).read().splitlines()
header = json.loads(lines[0])
rows = [json.loads(l) for l in lines[1:]]
last = max(r["row"]["id"] for r in rows if r["table"] == "events")
start = "2020-01-01T00:00:00.000Z"  # old enough for step 4's retention
random.seed(7)
shapes = [f"shape {k}: failed after {{n}}s on /srv/app/{{f}}.rs (T-{{t}})" for k in range(50)]
levels, actors, actions = ["debug", "info", "warn", "error"], [f"agent-{a}" for a in range(8)], ["build", "test", "deploy", "error", "note"]
header["counts"]["events"] += n
with open(dst, "w") as out:
    out.write(json.dumps(header) + "\n")
    for r in rows:
        out.write(json.dumps(r) + "\n")
    for i in range(n):
        msg = random.choice(shapes).format(n=random.randint(1, 999), f=random.randint(1, 99), t=random.randint(1, 500))
        detail = {"kind": "ai", "level": random.choice(levels), "message": msg, "tool": None}
        row = {"id": last + 1 + i, "at": start, "actor": random.choice(actors),
               "action": "log." + random.choice(actions), "task": None, "detail": json.dumps(detail),
               "session": None}
        out.write(json.dumps({"table": "events", "row": row}) + "\n")
PY
rm -rf "$WORK/big/.baton" && "$BATON" init >/dev/null
IMPORT_MS=$(timed "$BATON" import jsonl "$WORK/big.jsonl")
TAIL=(); TAIL_ERR=(); PATTERNS=(); AGENTS=()
for _ in $(seq "$RUNS"); do
  TAIL+=("$(timed "$BATON" tail -n 50 --format json)")
  TAIL_ERR+=("$(timed "$BATON" tail --action ERROR -n 50 --format json)")
  PATTERNS+=("$(timed "$BATON" analyze patterns --since 3650d --json)")
  AGENTS+=("$(timed "$BATON" analyze agents --since 3650d --json)")
done
"$BATON" config set log_retention 30d >/dev/null
DRY_MS=$(timed "$BATON" prune --dry-run --json)
PRUNE_MS=$(timed "$BATON" prune --json)
LEFT=$("$BATON" tail --all --format json | grep -c '"log\.' || true)
PRUNE_RATE=$(python3 -c "print(round($ENTRIES / ($PRUNE_MS / 1000)))")
{
  echo "ops bench, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "baton log round trip (ms): ${ROUND[*]}; median $(median "${ROUND[@]}")"
  echo "16 processes x $PER baton log: $WRITTEN entries in $(( (t1 - t0) / 1000 )) ms: $RATE entries/s"
  echo "baton log --stdin, 1 process: $LINES entries in $(( (p1 - p0) / 1000 )) ms: $PIPE_ONE entries/s"
  echo "baton log --stdin, 16 processes: $PIPED entries in $(( (p3 - p2) / 1000 )) ms: $PIPE_MANY entries/s"
  echo "$ENTRIES log entries imported in $IMPORT_MS ms"
  echo "tail -n 50 (ms): ${TAIL[*]}; median $(median "${TAIL[@]}")"
  echo "tail --action ERROR -n 50 (ms): ${TAIL_ERR[*]}; median $(median "${TAIL_ERR[@]}")"
  echo "analyze patterns over all (ms): ${PATTERNS[*]}; median $(median "${PATTERNS[@]}")"
  echo "analyze agents (ms): ${AGENTS[*]}; median $(median "${AGENTS[@]}")"
  echo "prune --dry-run: $DRY_MS ms; prune of $ENTRIES entries: $PRUNE_MS ms ($PRUNE_RATE entries/s); log entries left: $LEFT"
} | tee "$OUT/ops.txt"
