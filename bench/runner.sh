#!/usr/bin/env bash
# Runner overhead: what `baton runner` adds around the agents it runs.
#
#   bench/runner.sh                 # builds release, prints results, writes bench/out/runner.json
#   TASKS=64 AGENTS=8 RUNS=3 bench/runner.sh
#
# The agent is a script (the `command` provider) that reads its prompt, makes one commit
# and exits: a floor, so what is measured is the runner itself. One run of the bench:
#   1. baseline: the same script, TASKS times, AGENTS at a time, in one worktree made per
#      task by hand (git worktree add/remove, serialized with flock: run at once they
#      corrupt each other's worktree records), no runner;
#   2. `baton runner --provider command --once --max-agents AGENTS` on a board of TASKS
#      tasks, while a sampler reads the runner process's own CPU time (utime + stime of all
#      its threads, not its children's) and peak memory (VmHWM) from /proc;
#   3. spawn to first output per run, from the runner's own report (first_output_ms).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3 git flock; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
if [ -z "${BATON:-}" ]; then  # BATON=path runs another build (the script's own check)
  cargo build --release -q -p baton-cli
  BATON="$PWD/target/release/baton"
fi
OUT="$PWD/bench/out"; mkdir -p "$OUT"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
TASKS=${TASKS:-64}
AGENTS=${AGENTS:-8}
RUNS=${RUNS:-3}
TICK=$(getconf CLK_TCK)

cat >"$WORK/agent.sh" <<'AGENT'
#!/bin/sh
set -e
cat >/dev/null
echo started
git -c user.name=bench -c user.email=b@example.invalid commit -q --allow-empty -m work
echo finished
AGENT
chmod +x "$WORK/agent.sh"

make_repo() { # dir
  mkdir -p "$1"
  git -C "$1" init -q -b main
  git -C "$1" -c user.name=b -c user.email=b@example.invalid commit -q --allow-empty -m first
  (cd "$1" && "$BATON" init >/dev/null)
  python3 -c "import json,sys; json.dump([{'title': f'task {i}'} for i in range(int(sys.argv[1]))], sys.stdout)" \
    "$TASKS" >"$1/tasks.json"
  (cd "$1" && "$BATON" task add --batch tasks.json >/dev/null)
}

now() { python3 -c 'import time; print(time.monotonic())'; }

results=()
for run in $(seq 1 "$RUNS"); do
  # 1. baseline: worktree + script + cleanup, AGENTS at a time, no runner.
  make_repo "$WORK/base$run"
  start=$(now)
  seq 1 "$TASKS" | xargs -P "$AGENTS" -I{} sh -c '
    repo="$1"; n="$2"; wt="$repo/.wt/$n"
    # git worktree add/remove race when run at once: one at a time, as the runner does.
    flock "$repo/.git/bench.lock" git -C "$repo" worktree add -q -b "b/$n" "$wt" main
    (cd "$wt" && echo prompt | "$3" >/dev/null)
    flock "$repo/.git/bench.lock" git -C "$repo" worktree remove "$wt"' _ "$WORK/base$run" {} "$WORK/agent.sh"
  base=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(now)")

  # 2. the runner, sampled from /proc.
  make_repo "$WORK/run$run"
  cd "$WORK/run$run"
  start=$(now)
  BATON_AGENT_COMMAND="$WORK/agent.sh" "$BATON" runner --json --provider command --once \
    --max-agents "$AGENTS" >"$WORK/reports$run.jsonl" &
  pid=$!
  cpu=0; hwm=0
  while kill -0 "$pid" 2>/dev/null; do
    if stat=$(cat "/proc/$pid/stat" 2>/dev/null); then
      cpu=$(echo "$stat" | sed 's/.*) //' | awk '{print $12 + $13}')
      hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo "$hwm")
    fi
    sleep 0.05
  done
  wait "$pid"
  total=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(now)")
  cd - >/dev/null
  results+=("$(python3 - "$WORK/reports$run.jsonl" "$base" "$total" "$cpu" "$TICK" "$hwm" "$TASKS" <<'PY'
import json, statistics, sys
path, base, total, cpu, tick, hwm, tasks = sys.argv[1:]
reports = [json.loads(l) for l in open(path)]
firsts = [r["first_output_ms"] for rep in reports for r in rep["runs"] if r.get("first_output_ms") is not None]
review = sum(1 for rep in reports if rep["status"] == "review")
print(json.dumps({
    "tasks": int(tasks), "in_review": review,
    "baseline_s": round(float(base), 2), "runner_s": round(float(total), 2),
    "overhead_ms_per_task": round((float(total) - float(base)) * 1000 / int(tasks), 1),
    "runner_cpu_s": round(float(cpu) / float(tick), 2),
    "runner_cpu_ms_per_task": round(float(cpu) / float(tick) * 1000 / int(tasks), 1),
    "runner_peak_rss_mb": round(int(hwm) / 1024, 1),
    "first_output_ms_median": statistics.median(firsts) if firsts else None,
    "first_output_ms_max": max(firsts) if firsts else None,
}))
PY
)")
  echo "run $run: ${results[-1]}"
done
printf '%s\n' "${results[@]}" >"$OUT/runner.json"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
