#!/usr/bin/env bash
# The dashboard in headless Chromium against a release `baton serve`:
#   1. time to render a 5,000-task board (asking the browser to load the page, to the board
#      drawn: the page stamps it), 7 loads
#      after a warm-up;
#   2. live-update latency: a `baton task add` process writes the database directly; time
#      until its card is on the page, 7 times.
#
#   bench/dashboard.sh        # needs chromium, chromium-driver, python3 (Debian packages)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in chromium chromedriver python3; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install chromium chromium-driver python3)" >&2; exit 1; }
done
cargo build --release -q -p baton-cli
BATON="${CARGO_TARGET_DIR:-$PWD/target}/release/baton"
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/board/.git"
cd "$WORK/board"
"$BATON" init >/dev/null
python3 -c "import json; json.dump([{'title': f'Task {i}: a title of a realistic length', 'epic': f'epic-{i % 12}', 'priority': 'P%d' % (i % 3), 'files': [f'src/module_{i}/**']} for i in range(5000)], open('tasks.json', 'w'))"
"$BATON" task add --batch tasks.json >/dev/null
for i in $(seq 800); do echo; done | while read -r _; do "$BATON" --agent "agent-$((RANDOM % 8))" task pickup >/dev/null; done
"$BATON" serve --port 0 2>serve.log &
PIDS+=($!)
for _ in $(seq 100); do [ -f .baton/server.json ] && break; sleep 0.05; done
URL=$(python3 -c "import json; print(json.load(open('.baton/server.json'))['url'])")
DRIVER_PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
chromedriver --port="$DRIVER_PORT" >/dev/null 2>&1 &
PIDS+=($!)
sleep 1

python3 - "$URL" "$DRIVER_PORT" "$BATON" <<'PY'
import json, statistics, subprocess, sys, time, urllib.request

url, port, baton = sys.argv[1], sys.argv[2], sys.argv[3]
wd = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    req = urllib.request.Request(wd + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))["value"]

session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
    "binary": "/usr/bin/chromium",
    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"]}}}})["sessionId"]
js = lambda script: call("POST", f"/session/{session}/execute/sync", {"script": script, "args": []})

def wait(script, limit=30):
    start = time.perf_counter()
    while not js(f"return !!({script});"):
        if time.perf_counter() - start > limit:
            raise SystemExit(f"timed out: {script}")
        time.sleep(0.005)
    return time.perf_counter() - start

renders = []
for i in range(8):
    call("POST", f"/session/{session}/url", {"url": "about:blank"})
    asked = time.time() * 1000
    call("POST", f"/session/{session}/url", {"url": f"{url}/?load={i}#/board"})
    wait("document.body.dataset.rendered && document.querySelectorAll('.card').length === 5000")
    if i > 0:  # the first load is a warm-up
        renders.append(js("return Number(document.body.dataset.rendered);") - asked)
fetches = js("const r = performance.getEntriesByType('resource').find(e => e.name.includes('/api/v1/tasks?')); return r ? r.duration : -1;")
print(f"render of 5,000 tasks (ms, in order): {[round(r) for r in renders]}; median {statistics.median(renders):.0f} ms; last task-list fetch {fetches:.0f} ms")

lat, parts = [], []
for i in range(7):
    start = time.perf_counter()
    start_epoch = time.time() * 1000
    subprocess.run([baton, "task", "add", f"live {i}"], check=True, stdout=subprocess.DEVNULL)
    wait(f"[...document.querySelectorAll('.card .title')].some(e => e.textContent === 'live {i}')", 10)
    # The page stamps when the event arrived and when the board was drawn (epoch ms, this
    # machine's clock); polling from here would add its own delay.
    rendered = js("return Number(document.body.dataset.rendered);")
    arrived = js("return Number(document.body.dataset.lastEventAt);")
    lat.append(rendered - start_epoch)
    parts.append((arrived - start_epoch, rendered - arrived))
print(f"live update, CLI process start to card drawn (ms): {[round(x) for x in sorted(lat)]}; median {statistics.median(lat):.0f} ms")
print(f"  of which to the event's arrival: median {statistics.median(p[0] for p in parts):.0f} ms; event to board redrawn: median {statistics.median(p[1] for p in parts):.0f} ms")
call("DELETE", f"/session/{session}")
PY
