#!/usr/bin/env bash
# Branches and merges (issue 18), two measurements:
#
#   1. Merge time per task on a repository the size of the Go standard library (Debian's
#      golang-1.19-src, fetched by bench/code/fetch.sh): TASKS script agents (the runner's
#      `command` provider) each change one file on their task branch; the tasks are
#      approved; each merge is then carried out by its own `baton merge run --limit 1`
#      process (claim on the board, merge-tree, commit, ref update, report), timed one by
#      one. Baseline in the same session, on a copy of the same repository and branches:
#      the classic way, `git merge --no-ff` of each branch in a checked-out worktree of the
#      phase branch. Then the phase's own merge into the initiative branch.
#   2. The diff review screen on a 2,000-file phase: a synthetic repository (2,000 files of
#      40 lines in 40 folders; the phase branch changes 4 lines in each), a release
#      `baton serve`, headless Chromium loading `#/diff/P-1` RUNS times after a warm-up,
#      from asking to the page's own "rendered" stamp with all 2,000 files in the DOM;
#      the diff's fetch time from the browser's resource timing, and `baton diff P-1` as a
#      process.
#
#   bash bench/branches.sh     # builds release; needs git, python3, chromium, chromedriver
#   TASKS=20 RUNS=7 bash bench/branches.sh
#   ONLY=diff bash bench/branches.sh   # the review screen only (no corpus to fetch)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in git python3 chromium chromedriver; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 1; }
done
cargo build --release -q -p baton-cli
BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
OUT="$PWD/bench/out"; mkdir -p "$OUT"
TASKS=${TASKS:-20}
RUNS=${RUNS:-7}
ONLY=${ONLY:-}
[ "$ONLY" = diff ] || bash bench/code/fetch.sh go >/dev/null
CORPUS="$PWD/bench/corpora/code/go-stdlib"
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

ms() { python3 -c 'import time; print(time.perf_counter_ns() // 1000)'; }
median() { python3 -c 'import statistics, sys; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f}")' "$@"; }

# ---- 1. merges on the Go standard library -----------------------------------------------
if [ "$ONLY" != diff ]; then
git clone -q "$CORPUS" "$WORK/repo"
cd "$WORK/repo"
git config user.name bench; git config user.email bench@localhost
FILES=$(git ls-files | wc -l)
"$BATON" init >/dev/null
"$BATON" initiative add "Bench merge" >/dev/null
"$BATON" phase add -i I-1 "All" >/dev/null
for i in $(seq "$TASKS"); do "$BATON" task add --title "change $i" --phase P-1 >/dev/null; done
"$BATON" phase approve P-1 >/dev/null
git ls-files '*.go' | awk 'NR % 97 == 0' | head -n "$TASKS" > "$WORK/targets.txt"
cat > "$WORK/agent.sh" <<SH
#!/bin/sh
set -e
task=\$(sed -n 's/.*You hold task \(T-[0-9]*\).*/\1/p' | head -1)
n=\${task#T-}
file=\$(sed -n "\${n}p" "$WORK/targets.txt")
printf '\n// %s was here\n' "\$task" >> "\$file"
git add "\$file" && git -c user.name=agent -c user.email=a@localhost commit -qm "\$task"
SH
chmod +x "$WORK/agent.sh"
BATON_AGENT_COMMAND="$WORK/agent.sh" "$BATON" runner --provider command --once --max-agents 2 >/dev/null 2>&1
for i in $(seq "$TASKS"); do "$BATON" task approve "T-$i" >/dev/null; done
# The baseline's copy: the same branches, before any merge.
cp -a "$WORK/repo" "$WORK/baseline"

BATON_TIMES=()
for i in $(seq "$TASKS"); do
  t0=$(ms); "$BATON" merge run --limit 1 >/dev/null; t1=$(ms)
  BATON_TIMES+=("$(( (t1 - t0) / 1000 ))")
done
merged=$("$BATON" merge list --state merged --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$merged" = "$TASKS" ] || { echo "only $merged of $TASKS merged" >&2; exit 1; }
"$BATON" phase approve P-1 >/dev/null
t0=$(ms); "$BATON" merge run >/dev/null; t1=$(ms)
PHASE_MS=$(( (t1 - t0) / 1000 ))

cd "$WORK/baseline"
git worktree add -q "$WORK/wt" baton/bench-merge--P-1
GIT_TIMES=()
for i in $(seq "$TASKS"); do
  t0=$(ms); git -C "$WORK/wt" merge -q --no-ff -m "merge T-$i" "baton/T-$i" >/dev/null; t1=$(ms)
  GIT_TIMES+=("$(( (t1 - t0) / 1000 ))")
done
fi

# ---- 2. the diff review screen on a 2,000-file phase --------------------------------------
mkdir -p "$WORK/big" && cd "$WORK/big"
git init -q -b main; git config user.name bench; git config user.email bench@localhost
python3 - <<'PY'
import os
for i in range(2000):
    d = f"pkg{i % 40:02d}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/file{i:04d}.rs", "w") as f:
        f.writelines(f"fn item_{i}_{n}() -> u32 {{ {n} }} // a line of realistic length\n" for n in range(40))
PY
git add -A; git commit -qm base
git branch baton/big
git checkout -q -b baton/big--P-1
python3 - <<'PY'
import glob
for path in sorted(glob.glob("pkg*/file*.rs")):
    lines = open(path).read().splitlines(keepends=True)
    for n in (3, 11, 22, 35):
        lines[n] = lines[n].replace("// a line", "// a changed line")
    open(path, "w").writelines(lines)
PY
git commit -qam "the phase's work"
git checkout -q main
"$BATON" init >/dev/null
"$BATON" initiative add "Big" >/dev/null
"$BATON" phase add -i I-1 "Everything" >/dev/null
t0=$(ms); "$BATON" diff P-1 --json >/dev/null; t1=$(ms)
CLI_DIFF_MS=$(( (t1 - t0) / 1000 ))
DIFF_BYTES=$(git diff main baton/big--P-1 | wc -c)
"$BATON" serve --port 0 2>serve.log &
PIDS+=($!)
for _ in $(seq 100); do [ -f .baton/server.json ] && break; sleep 0.05; done
URL=$(python3 -c "import json; print(json.load(open('.baton/server.json'))['url'])")
DRIVER_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
chromedriver --port="$DRIVER_PORT" >/dev/null 2>&1 &
PIDS+=($!)
sleep 1
PAGE=$(python3 - "$URL" "$DRIVER_PORT" "$RUNS" <<'PY'
import json, statistics, sys, time, urllib.request
url, port, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
wd = f"http://127.0.0.1:{port}"
def call(method, path, body=None):
    req = urllib.request.Request(wd + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]
session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
    "binary": "/usr/bin/chromium",
    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900"]}}}})["sessionId"]
js = lambda s: call("POST", f"/session/{session}/execute/sync", {"script": s, "args": []})
def wait(script, limit=60):
    start = time.perf_counter()
    while not js(f"return !!({script});"):
        if time.perf_counter() - start > limit:
            raise SystemExit(f"timed out: {script}")
        time.sleep(0.005)
renders, fetches = [], []
for i in range(runs + 1):
    call("POST", f"/session/{session}/url", {"url": "about:blank"})
    asked = time.time() * 1000
    call("POST", f"/session/{session}/url", {"url": f"{url}/?load={i}#/diff/P-1"})
    wait("document.body.dataset.rendered && document.querySelectorAll('.diff-file').length === 2000")
    if i > 0:
        renders.append(js("return Number(document.body.dataset.rendered);") - asked)
        first_rows = js("return document.querySelectorAll('table.diff tr').length;")
        fetches.append(js("const r = performance.getEntriesByType('resource').find(e => e.name.includes('/api/v1/diff/')); return r ? r.duration : -1;"))
rows = js("return document.querySelectorAll('table.diff tr').length;")
# Jumping to the last file from the index draws it (when drawn lazily) and scrolls there.
jump = js("const a = [...document.querySelectorAll('[data-jump]')].pop(); const t = performance.now(); a.click(); "
          "return document.querySelector('#file-1999 table.diff') ? performance.now() - t : -1;")
print(f"{' · '.join(str(round(r)) for r in renders)}|{statistics.median(renders):.0f}|{statistics.median(fetches):.0f}|{rows}|{jump:.0f}|{first_rows}")
PY
)
IFS='|' read -r PAGE_RUNS PAGE_MEDIAN FETCH_MEDIAN ROWS JUMP_MS FIRST_ROWS <<<"$PAGE"

{
  echo "branches bench, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$ONLY" != diff ]; then
    echo "go-stdlib: $FILES files; $TASKS tasks, one file changed each"
    echo "baton merge run --limit 1, per task (ms): ${BATON_TIMES[*]}; median $(median "${BATON_TIMES[@]}")"
    echo "git merge --no-ff in a worktree, per task (ms): ${GIT_TIMES[*]}; median $(median "${GIT_TIMES[@]}")"
    echo "phase merge into the initiative branch: ${PHASE_MS} ms"
  fi
  echo "2,000-file phase diff ($DIFF_BYTES bytes of patch; table rows drawn at first $FIRST_ROWS, after a while $ROWS): page render (ms) $PAGE_RUNS; median $PAGE_MEDIAN; diff fetch median $FETCH_MEDIAN ms; jump to the last file $JUMP_MS ms; baton diff P-1 --json ${CLI_DIFF_MS} ms"
} | tee "$OUT/branches.txt"
