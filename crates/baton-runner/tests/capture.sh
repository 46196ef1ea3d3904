#!/usr/bin/env bash
# Regenerates captures/: runs the real agent CLIs (installed by .ci/install-agent-clis)
# against model_server.py with the scripts in scripts/, and saves what they printed.
#
#   crates/baton-runner/tests/capture.sh            # every capture
#   crates/baton-runner/tests/capture.sh claude-success codex-resume
#
# Per capture NAME it writes captures/NAME.jsonl (the CLI's stdout, byte for byte but for
# the two placeholders below), NAME.exit (exit status; 137 = killed by SIGKILL),
# NAME.stderr when stderr was not empty, and NAME.requests.txt (one line per request the
# model server received). Placeholders: the capture's work directory
# (target/runner-captures/NAME, holding the git repo, HOME and the CLI's config dir) is
# replaced by <WORK>, and the server's port by <PORT>. Nothing else is changed.
#
# Claude Code and Codex come from .ci/install-agent-clis; opencode and Gemini CLI (pinned
# below) are installed here, with `npm --prefix` into target/opencode-cli and
# target/gemini-cli, the first time one of their captures is made.
#
# Work happens under the repository's target/ dir, not /tmp: Codex refuses its helper
# binaries when CODEX_HOME is under /tmp. The CLIs run with a clean environment (env -i):
# only the variables listed in captures/README.md reach them.
set -euo pipefail
tests="$(cd "$(dirname "$0")" && pwd)"
repo="$(git -C "$tests" rev-parse --show-toplevel)"
work_root="$repo/target/runner-captures"
out="$tests/captures"
mkdir -p "$work_root" "$out"

# --- helpers -------------------------------------------------------------------------

OPENCODE_VERSION="1.18.33"
GEMINI_VERSION="0.61.0"

need_claude_codex() { # sets CLAUDE and CODEX
  [ -n "${CLAUDE:-}" ] && return 0
  local paths
  paths="$("$repo/.ci/install-agent-clis" --print)" || {
    echo "run .ci/install-agent-clis first" >&2
    exit 1
  }
  CLAUDE="$(sed -n 's/^claude=//p' <<<"$paths")"
  CODEX="$(sed -n 's/^codex=//p' <<<"$paths")"
}

need_opencode() { # sets OPENCODE, installing the pinned version when it is not there
  local prefix="$repo/target/opencode-cli"
  OPENCODE="$prefix/node_modules/.bin/opencode"
  if [ "$("$OPENCODE" --version 2>/dev/null)" != "$OPENCODE_VERSION" ]; then
    mkdir -p "$prefix"
    [ -f "$prefix/package.json" ] || echo '{"name":"baton-opencode-cli","private":true}' >"$prefix/package.json"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error --save-exact \
      "opencode-ai@$OPENCODE_VERSION"
  fi
}

need_gemini() { # sets GEMINI, installing the pinned version when it is not there
  local prefix="$repo/target/gemini-cli"
  GEMINI="$prefix/node_modules/.bin/gemini"
  if [ "$("$GEMINI" --version 2>/dev/null)" != "$GEMINI_VERSION" ]; then
    mkdir -p "$prefix"
    [ -f "$prefix/package.json" ] || echo '{"name":"baton-gemini-cli","private":true}' >"$prefix/package.json"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error --save-exact \
      "@google/gemini-cli@$GEMINI_VERSION"
  fi
}

setup() { # NAME: fresh work dir with a git repo holding one commit
  name="$1"
  dir="$work_root/$name"
  rm -rf "$dir"
  mkdir -p "$dir/repo" "$dir/home"
  git -C "$dir/repo" init -q -b main
  git -C "$dir/repo" -c user.name=Test -c user.email=test@example.com commit -q --allow-empty -m "Initial commit"
}

start_server() { # SCRIPT (in scripts/, or a path): starts model_server.py, sets PORT and SERVER_PID
  local script="$1"
  case "$script" in /*) ;; *) script="$tests/scripts/$script" ;; esac
  python3 "$tests/model_server.py" --script "$script" --port 0 --log "$dir/requests.jsonl" >"$dir/server.out" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do [ -s "$dir/server.out" ] && break; sleep 0.05; done
  PORT="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["port"])' "$dir/server.out")"
}

stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

base_env=(PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
  GIT_AUTHOR_NAME=Test GIT_AUTHOR_EMAIL=test@example.com
  GIT_COMMITTER_NAME=Test GIT_COMMITTER_EMAIL=test@example.com)

claude_env() {
  echo "${base_env[@]}" HOME="$dir/home" CLAUDE_CONFIG_DIR="$dir/home/.claude" \
    ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" ANTHROPIC_API_KEY=sk-scripted \
    DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 ${EXTRA_ENV:-}
}

codex_env() {
  echo "${base_env[@]}" HOME="$dir/home" CODEX_HOME="$dir/codex-home" SCRIPTED_API_KEY=sk-scripted
}

codex_config() { # CODEX_HOME/config.toml: a model provider pointing at the server
  mkdir -p "$dir/codex-home"
  cat >"$dir/codex-home/config.toml" <<EOF
model_provider = "scripted"
model = "gpt-5.5"
# exec has no --sandbox on resume: the sandbox comes from here for every run.
sandbox_mode = "danger-full-access"
approval_policy = "never"
# No traffic but to the provider: no update check, analytics or plugin/app sync.
check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false
apps = false
remote_plugin = false

[model_providers.scripted]
name = "Scripted"
base_url = "http://127.0.0.1:$PORT/v1"
env_key = "SCRIPTED_API_KEY"
wire_api = "responses"
EOF
}

run() { # OUTNAME ENV-FUNCTION CLI ARGS...: runs in the repo, stdin closed; sets rc
  local outname="$1" envf="$2"
  shift 2
  set +e
  # shellcheck disable=SC2046  # the env words are split on purpose (no spaces in them)
  (cd "$dir/repo" && env -i $($envf) timeout 180 "$@" <"${STDIN_FILE:-/dev/null}" >"$dir/$outname.stdout" 2>"$dir/$outname.stderr")
  rc=$?
  set -e
  echo "$rc" >"$dir/$outname.rc"
}

run_killed() { # OUTNAME ENV-FUNCTION CLI ARGS...: SIGKILLs the process group mid-stream
  local outname="$1" envf="$2" n
  shift 2
  (cd "$dir/repo" && exec env -i $($envf) setsid bash -c 'echo $$ >"$0"; exec "$@"' \
    "$dir/$outname.pgid" "$@" <"${STDIN_FILE:-/dev/null}" >"$dir/$outname.stdout" 2>"$dir/$outname.stderr") &
  local pid=$!
  # Wait until the stalled (second) model request has arrived, then let it stream its head.
  for _ in $(seq 1 600); do
    n="$(grep -c '"answer": "main"' "$dir/requests.jsonl" 2>/dev/null || true)"
    [ "${n:-0}" -ge 2 ] && break
    sleep 0.1
  done
  sleep 1
  kill -KILL -- "-$(cat "$dir/$outname.pgid")"
  set +e
  wait "$pid" 2>/dev/null
  rc=$?
  set -e
  echo "$rc" >"$dir/$outname.rc"
}

save() { # OUTNAME [CAPTURE-NAME]: copies stdout/stderr/exit/request summary into captures/
  local outname="$1" capture="${2:-$1}"
  local subst="s#$dir#<WORK>#g; s#127\.0\.0\.1:$PORT#127.0.0.1:<PORT>#g"
  sed "$subst" "$dir/$outname.stdout" >"$out/$capture.jsonl"
  cp "$dir/$outname.rc" "$out/$capture.exit"
  if [ -s "$dir/$outname.stderr" ]; then
    sed "$subst" "$dir/$outname.stderr" >"$out/$capture.stderr"
  else
    rm -f "$out/$capture.stderr"
  fi
  touch "$dir/requests.jsonl" # a CLI that never reached the server left no log
  summarize "$dir/requests.jsonl" >"$out/$capture.requests.txt"
  : >"$dir/requests.jsonl" # the next run of the same capture starts a fresh log
  echo "$capture: exit $(cat "$dir/$outname.rc"), $(wc -l <"$out/$capture.jsonl") lines"
}

summarize() { # one line per request: what the CLI asked and how the script answered
  python3 - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    b = r.get("body") or {}
    parts = [r["method"], r["path"], "answer=" + str(r.get("answer"))]
    if r.get("step") is not None:
        parts.append("step=%s" % r["step"])
    if b:
        parts.append("model=%s" % b.get("model"))
        parts.append("stream=%s" % b.get("stream"))
        parts.append("tools=%d" % len(b.get("tools") or []))
        if "messages" in b:
            parts.append("messages=%d" % len(b["messages"]))
        if "input" in b:
            parts.append("input_items=%d" % len(b["input"]))
        if b.get("previous_response_id"):
            parts.append("previous_response_id=yes")
    ua = r["headers"].get("user-agent", "")
    parts.append("ua=" + ua.split(" ")[0])
    print(" ".join(parts))
EOF
}

session_of() { # FILE: Claude's session_id, Codex's thread_id or opencode's sessionID
  python3 - "$1" <<'EOF'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    sid = e.get("session_id") or e.get("thread_id") or e.get("sessionID")
    if sid:
        print(sid)
        break
EOF
}

CLAUDE_FLAGS=(--output-format stream-json --verbose --allowedTools Bash)
CODEX_FLAGS=(exec --json --skip-git-repo-check --sandbox danger-full-access)

# --- captures --------------------------------------------------------------------------

capture_claude-success() {
  setup claude-success; start_server claude-success.json
  run out claude_env "$CLAUDE" -p "Create hello.txt and commit it." "${CLAUDE_FLAGS[@]}"
  save out claude-success; stop_server
}

capture_claude-rate-limited() {
  setup claude-rate-limited; start_server claude-rate-limited.json
  run out claude_env "$CLAUDE" -p "Create hello.txt and commit it." "${CLAUDE_FLAGS[@]}"
  save out claude-rate-limited; stop_server
}

capture_claude-rate-limited-retry() {
  setup claude-rate-limited-retry; start_server claude-rate-limited-retry.json
  # The default is 10 retries with a growing back-off (about 3 minutes in all, the
  # retry-after of 1 s notwithstanding); 3 show the same events in seconds.
  EXTRA_ENV=CLAUDE_CODE_MAX_RETRIES=3 run out claude_env "$CLAUDE" -p "Create hello.txt and commit it." "${CLAUDE_FLAGS[@]}"
  save out claude-rate-limited-retry; stop_server
}

capture_claude-max-turns() {
  setup claude-max-turns; start_server claude-max-turns.json
  run out claude_env "$CLAUDE" -p "Keep appending lines to turns.txt." "${CLAUDE_FLAGS[@]}" --max-turns 1
  save out claude-max-turns; stop_server
}

capture_claude-resume() {
  setup claude-resume; start_server claude-resume.json
  run first claude_env "$CLAUDE" -p "Create hello.txt and commit it." "${CLAUDE_FLAGS[@]}"
  local sid; sid="$(session_of "$dir/first.stdout")"
  save first claude-resume.first
  run out claude_env "$CLAUDE" -p "Now extend hello.txt and commit again." "${CLAUDE_FLAGS[@]}" --resume "$sid"
  save out claude-resume; stop_server
}

capture_claude-killed() {
  setup claude-killed; start_server claude-killed.json
  run_killed out claude_env "$CLAUDE" -p "Create hello.txt." "${CLAUDE_FLAGS[@]}"
  save out claude-killed; stop_server
}

capture_codex-success() {
  setup codex-success; start_server codex-success.json; codex_config
  run out codex_env "$CODEX" "${CODEX_FLAGS[@]}" "Create hello.txt and commit it."
  save out codex-success; stop_server
}

capture_codex-rate-limited() {
  setup codex-rate-limited; start_server codex-rate-limited.json; codex_config
  run out codex_env "$CODEX" "${CODEX_FLAGS[@]}" "Create hello.txt and commit it."
  save out codex-rate-limited; stop_server
}

capture_codex-rate-limited-retry() {
  setup codex-rate-limited-retry; start_server codex-rate-limited-retry.json; codex_config
  run out codex_env "$CODEX" "${CODEX_FLAGS[@]}" "Create hello.txt and commit it."
  save out codex-rate-limited-retry; stop_server
}

capture_codex-resume() {
  setup codex-resume; start_server codex-resume.json; codex_config
  run first codex_env "$CODEX" "${CODEX_FLAGS[@]}" "Create hello.txt and commit it."
  local sid; sid="$(session_of "$dir/first.stdout")"
  save first codex-resume.first
  run out codex_env "$CODEX" exec resume --json --skip-git-repo-check "$sid" "Now extend hello.txt and commit again."
  save out codex-resume; stop_server
}

capture_codex-killed() {
  setup codex-killed; start_server codex-killed.json; codex_config
  run_killed out codex_env "$CODEX" "${CODEX_FLAGS[@]}" "Create hello.txt."
  save out codex-killed; stop_server
}

# --- opencode ----------------------------------------------------------------------------
# opencode reaches the server through a provider of its own config file, using the
# Anthropic Messages API; the prompt goes on standard input (as providers/opencode.toml
# sends it). Its scripts are written here, beside the run.

opencode_env() {
  echo "${base_env[@]}" HOME="$dir/home" OPENCODE_DISABLE_AUTOUPDATE=1 \
    OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_SHARE=1 OPENCODE_DISABLE_LSP_DOWNLOAD=1 \
    ${EXTRA_ENV:-}
}

opencode_config() { # [APIKEY]: ~/.config/opencode/opencode.json with a provider for the server
  local key="${1-sk-scripted}" key_line=""
  [ -z "$key" ] || key_line=", \"apiKey\": \"$key\""
  mkdir -p "$dir/home/.config/opencode"
  cat >"$dir/home/.config/opencode/opencode.json" <<EOF
{
  "autoupdate": false,
  "share": "disabled",
  "model": "scripted/claude-sonnet-4-5",
  "provider": {
    "scripted": {
      "npm": "@ai-sdk/anthropic",
      "name": "Scripted",
      "options": {"baseURL": "http://127.0.0.1:$PORT/v1"$key_line},
      "models": {
        "claude-sonnet-4-5": {"name": "Scripted", "tool_call": true, "cost": {"input": 3, "output": 15}}
      }
    }
  }
}
EOF
}

opencode_script() { # JSON: writes the capture's script, echoes its path
  printf '%s\n' "$1" >"$dir/script.json"
  echo "$dir/script.json"
}

opencode_prompt() { # TEXT: the prompt file for standard input
  printf '%s\n' "$1" >"$dir/prompt.txt"
  STDIN_FILE="$dir/prompt.txt"
}

OPENCODE_FLAGS=(run --format json --auto)
OC_COMMIT='{"tool": "bash", "input": {"command": "echo hello > hello.txt && git add hello.txt && git commit -q -m \"Add hello.txt\" && git log --oneline -1", "description": "Create and commit hello.txt"}, "usage": {"input_tokens": 1200, "output_tokens": 30}}'

capture_opencode-success() {
  setup opencode-success
  start_server "$(opencode_script "[$OC_COMMIT, {\"text\": \"Created hello.txt and committed it.\", \"usage\": {\"input_tokens\": 1500, \"output_tokens\": 45, \"cache_read_input_tokens\": 800}}]")"
  opencode_config; opencode_prompt "Create hello.txt and commit it."
  run out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  save out opencode-success; stop_server; unset STDIN_FILE
}

capture_opencode-rate-limited() {
  setup opencode-rate-limited
  # A short retry-after: opencode honours it and retries; with 3600 it sleeps an hour
  # printing nothing (see captures/README.md).
  start_server "$(opencode_script '[{"status": 429, "retry_after": 1, "repeat": "forever"}]')"
  opencode_config; opencode_prompt "Create hello.txt and commit it."
  run out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  save out opencode-rate-limited; stop_server; unset STDIN_FILE
}

capture_opencode-auth-failed() {
  setup opencode-auth-failed
  start_server "$(opencode_script '[{"status": 401, "message": "invalid x-api-key", "repeat": "forever"}]')"
  opencode_config; opencode_prompt "Create hello.txt and commit it."
  run out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  save out opencode-auth-failed; stop_server; unset STDIN_FILE
}

capture_opencode-no-credentials() {
  setup opencode-no-credentials
  start_server "$(opencode_script '[{"text": "unused"}]')"
  opencode_config ""; opencode_prompt "Create hello.txt and commit it."
  run out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  save out opencode-no-credentials; stop_server; unset STDIN_FILE
}

capture_opencode-context-overflow() {
  setup opencode-context-overflow
  start_server "$(opencode_script '[{"status": 400, "error_type": "invalid_request_error", "message": "prompt is too long: 250000 tokens > 200000 maximum"}, {"text": "Done after compaction."}]')"
  opencode_config; opencode_prompt "Create hello.txt and commit it."
  run out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  save out opencode-context-overflow; stop_server; unset STDIN_FILE
}

capture_opencode-permission-rejected() {
  setup opencode-permission-rejected
  # Without --auto a permission that would ask (a path outside the work tree) is rejected.
  start_server "$(opencode_script '[{"tool": "read", "input": {"filePath": "/nonexistent/notes.txt"}}, {"text": "unused"}]')"
  opencode_config; opencode_prompt "Read /nonexistent/notes.txt."
  run out opencode_env "$OPENCODE" run --format json
  save out opencode-permission-rejected; stop_server; unset STDIN_FILE
}

capture_opencode-resume() {
  setup opencode-resume
  start_server "$(opencode_script "[$OC_COMMIT, {\"text\": \"Created hello.txt and committed it.\"}, {\"tool\": \"bash\", \"input\": {\"command\": \"echo again >> hello.txt && git commit -qam \\\"Extend hello.txt\\\" && git log --oneline -1\", \"description\": \"Extend hello.txt\"}}, {\"text\": \"Resumed: extended hello.txt and committed it.\"}]")"
  opencode_config; opencode_prompt "Create hello.txt and commit it."
  run first opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  local sid; sid="$(session_of "$dir/first.stdout")"
  save first opencode-resume.first
  opencode_prompt "Now extend hello.txt and commit again."
  run out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}" --session "$sid"
  save out opencode-resume; stop_server; unset STDIN_FILE
}

capture_opencode-killed() {
  setup opencode-killed
  start_server "$(opencode_script '[{"tool": "bash", "input": {"command": "echo hello > hello.txt", "description": "Create hello.txt"}}, {"text": "Done.", "stall": 60}]')"
  opencode_config; opencode_prompt "Create hello.txt."
  run_killed out opencode_env "$OPENCODE" "${OPENCODE_FLAGS[@]}"
  save out opencode-killed; stop_server; unset STDIN_FILE
}

# Gemini CLI: the API key path with the base URL from the environment. With
# GOOGLE_GEMINI_BASE_URL set and no auth type chosen it picks "gateway", which -p refuses
# ("Invalid auth method selected."): settings.json chooses the API key. --skip-trust: an
# untrusted folder turns --yolo back into "default" approval, and headless runs then
# refuse tool calls.
gemini_env() {
  echo "${base_env[@]}" HOME="$dir/home" GEMINI_API_KEY=scripted-key \
    GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:$PORT" ${EXTRA_ENV:-}
}

gemini_config() { # ~/.gemini/settings.json
  mkdir -p "$dir/home/.gemini"
  cat >"$dir/home/.gemini/settings.json" <<EOF
{"security": {"auth": {"selectedType": "gemini-api-key"}},
 "privacy": {"usageStatisticsEnabled": false}}
EOF
}

GEMINI_FLAGS=(--output-format stream-json --yolo --skip-trust)
GM_COMMIT='{"tool": "run_shell_command", "input": {"command": "echo hello > hello.txt && git add hello.txt && git commit -q -m \"Add hello.txt\" && git log --oneline -1", "description": "Create and commit hello.txt"}, "usage": {"input_tokens": 1200, "output_tokens": 30}}'
# The free tier's daily quota, as the API words it: Gemini CLI takes a QuotaFailure with a
# PerDay quota id as terminal and does not retry.
GM_429='{"status": 429, "message": "You exceeded your current quota, please check your plan and billing details. Please retry in 3600s.", "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}, {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3600s"}], "repeat": "forever"}'

capture_gemini-success() {
  setup gemini-success
  start_server "$(opencode_script "[$GM_COMMIT, {\"text\": \"Created hello.txt and committed it.\", \"usage\": {\"input_tokens\": 1500, \"output_tokens\": 45, \"cached_tokens\": 800}}]")"
  gemini_config
  run out gemini_env "$GEMINI" -p "Create hello.txt and commit it." "${GEMINI_FLAGS[@]}"
  save out gemini-success; stop_server
}

capture_gemini-rate-limited() {
  setup gemini-rate-limited
  start_server "$(opencode_script "[$GM_429]")"
  gemini_config
  run out gemini_env "$GEMINI" -p "Create hello.txt and commit it." "${GEMINI_FLAGS[@]}"
  save out gemini-rate-limited; stop_server
}

capture_gemini-error() {
  setup gemini-error
  start_server "$(opencode_script '[{"status": 400, "message": "Request contains an invalid argument.", "repeat": "forever"}]')"
  gemini_config
  run out gemini_env "$GEMINI" -p "Create hello.txt and commit it." "${GEMINI_FLAGS[@]}"
  save out gemini-error; stop_server
}

all=(claude-success claude-rate-limited claude-rate-limited-retry claude-max-turns claude-resume claude-killed
  codex-success codex-rate-limited codex-rate-limited-retry codex-resume codex-killed
  opencode-success opencode-rate-limited opencode-auth-failed opencode-no-credentials
  opencode-context-overflow opencode-permission-rejected opencode-resume opencode-killed
  gemini-success gemini-rate-limited gemini-error)
[ $# -gt 0 ] || set -- "${all[@]}"
for name in "$@"; do
  case "$name" in
    opencode-*) need_opencode ;;
    gemini-*) need_gemini ;;
    *) need_claude_codex ;;
  esac
  "capture_$name"
done
