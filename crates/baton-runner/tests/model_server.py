#!/usr/bin/env python3
"""Scripted model server for the runner's tests: Python 3 standard library only.

Speaks the three model APIs that the agent CLIs use, well enough to drive a real CLI
through real tool calls:

  * Anthropic Messages API (Claude Code, via ANTHROPIC_BASE_URL):
    POST /v1/messages (streaming SSE and plain JSON), POST /v1/messages/count_tokens,
    GET /v1/models.
  * OpenAI Responses API (Codex, via a model provider's base_url):
    POST /v1/responses (streaming SSE), GET /v1/models.
  * Gemini API (Gemini CLI, via GOOGLE_GEMINI_BASE_URL):
    POST .../models/MODEL:streamGenerateContent (SSE), :generateContent, :countTokens.
    Error steps take "details" (the error's details list); a side request asking for
    JSON (generationConfig.responseJsonSchema) gets the simplest value of its schema.

Usage:
    python3 model_server.py --script script.json [--port 0] [--log requests.jsonl]

Prints one JSON line {"port": N} on stdout once it listens on 127.0.0.1, then serves
until killed. Every request is appended to --log as one JSON line (method, path,
headers with secrets redacted, JSON body, and which script step answered it).

Script format (see README.md beside this file):

    [ STEP, STEP, ... ]                      one conversation: steps in order
    {"conversations": [                      several conversations in one server
        {"match": "MARKER", "steps": [STEP, ...]},
        {"steps": [...]}                     no "match": takes what matched no other
     ],
     "side_text": "..."}                     answer to side requests (titles etc.)

Each model request that is part of the agent's conversation ("main" request) consumes
the next step of the conversation whose "match" string occurs in the request's user
messages. Side requests (no tools offered: Claude Code's title / topic calls, and any
request whose model matches "side_model", default "haiku") never consume a step.

A STEP is one of, with optional extras:
    {"text": "..."}                              final answer, stop_reason end_turn
    {"tool": "Bash", "input": {"command": "..."}}  a tool call (Claude)
    {"tool": "exec_command", "input": {"cmd": "..."}}  a function call (Codex)
    {"tool": "apply_patch", "input": "*** Begin Patch..."}  string input: a custom
                                                 (freeform) tool call on the Responses API
    {"tools": [{"tool": ..., "input": ...}, ...]}  several tool calls in one answer
    {"status": 429, ...}                         an error answer, see below
    {"hang": SECONDS}                            sleep before answering; combined with
                                                 any of the above, or alone (then an
                                                 empty text answer follows)
  extras: "text" may go with "tool"/"tools" (text first); "stall": SECONDS sends the
  head of the stream (message_start / response.created) then sleeps before the rest;
  "usage": {"input_tokens": N, "output_tokens": N} overrides the default usage;
  "repeat": N answers N requests with this step ("forever": never used up).
  Error steps: "status" (HTTP code), "error_type" (default rate_limit_error for the
  Anthropic API, rate_limit_exceeded for the Responses API; usage_limit_reached is
  the Codex quota error), "message", "retry_after" (seconds, sent as retry-after,
  default 3600 for 429), "resets_in_seconds" (Codex usage_limit_reached), "headers",
  or "body" (the exact JSON body to send).

When a conversation's steps are used up it answers {"text": "(script exhausted)"}.
"""

import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_HEADER = re.compile(r"(auth|api-key|token|secret|cookie|password)", re.IGNORECASE)
DEFAULT_USAGE = {"input_tokens": 1000, "output_tokens": 20}


class Conversation:
    def __init__(self, match, steps):
        self.match = match
        self.steps = list(steps)
        self.index = 0  # next step
        self.used = 0  # requests answered by the current step (for "repeat")

    def take(self):
        """Returns (step_number, step) for the next main request."""
        if self.index >= len(self.steps):
            return None, {"text": "(script exhausted)"}
        step = self.steps[self.index]
        number = self.index
        repeat = step.get("repeat", 1)
        self.used += 1
        if repeat != "forever" and self.used >= int(repeat):
            self.index += 1
            self.used = 0
        return number, step


class Script:
    def __init__(self, data):
        if isinstance(data, list):
            data = {"conversations": [{"steps": data}]}
        self.side_text = data.get("side_text", "Scripted session")
        self.side_model = re.compile(data.get("side_model", "haiku"), re.IGNORECASE)
        self.conversations = [
            Conversation(c.get("match"), c.get("steps", [])) for c in data["conversations"]
        ]
        self.lock = threading.Lock()

    def conversation_for(self, user_text):
        for i, c in enumerate(self.conversations):
            if c.match is not None and c.match in user_text:
                return i, c
        for i, c in enumerate(self.conversations):
            if c.match is None:
                return i, c
        return None, None

    def take(self, user_text):
        with self.lock:
            i, c = self.conversation_for(user_text)
            if c is None:
                return None, None, {"status": 500, "message": "no scripted conversation matches"}
            number, step = c.take()
            return i, number, step


def user_text_of(messages):
    """Concatenated text of the user-role messages (Anthropic messages or Responses input)."""
    parts = []
    if isinstance(messages, str):
        return messages
    for m in messages or []:
        if not isinstance(m, dict) or m.get("role") != "user":
            continue
        content = m.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and isinstance(block.get("text"), str):
                    parts.append(block["text"])
    return "\n".join(parts)


def new_id(prefix):
    return prefix + uuid.uuid4().hex[:24]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "baton-model-server/1"

    # --- plumbing ---------------------------------------------------------------

    def log_message(self, fmt, *args):  # keep stderr quiet; the JSONL log has it all
        pass

    def read_body(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return raw, None
        try:
            return raw, json.loads(raw)
        except ValueError:
            return raw, None

    def record(self, body_raw, body_json, **extra):
        log_path = self.server.log_path
        if not log_path:
            return
        headers = {
            k.lower(): ("<redacted>" if SECRET_HEADER.search(k) else v)
            for k, v in self.headers.items()
        }
        entry = {
            "time": round(time.time(), 3),
            "method": self.command,
            "path": self.path,
            "headers": headers,
        }
        if body_json is not None:
            entry["body"] = body_json
        elif body_raw:
            entry["body_text"] = body_raw[:4000].decode("utf-8", "replace")
            entry["body_bytes"] = len(body_raw)
        entry.update(extra)
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self.server.log_lock:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(line)

    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self, headers=None):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()

    def sse(self, event, data):
        chunk = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.flush()

    def end_sse(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- routing ----------------------------------------------------------------

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_HEAD(self):
        self.record(b"", None, answer="404")
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def route(self):
        raw, body = self.read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            if self.command == "POST" and path.endswith("/v1/messages/count_tokens"):
                self.record(raw, body, answer="count_tokens")
                self.send_json(200, {"input_tokens": DEFAULT_USAGE["input_tokens"]})
            elif self.command == "POST" and path.endswith("/v1/messages"):
                self.anthropic_messages(raw, body)
            elif self.command == "POST" and path.endswith("/v1/responses"):
                self.openai_responses(raw, body)
            elif self.command == "POST" and re.search(r"/models/[^/]+:countTokens$", path):
                self.record(raw, body, answer="count_tokens")
                self.send_json(200, {"totalTokens": DEFAULT_USAGE["input_tokens"]})
            elif self.command == "POST" and re.search(
                    r"/models/[^/]+:(streamGenerateContent|generateContent)$", path):
                self.gemini_generate(raw, body, path)
            elif self.command == "GET" and path.endswith("/v1/models"):
                self.record(raw, body, answer="models")
                self.models()
            else:
                self.record(raw, body, answer="404")
                self.send_json(404, {"type": "error", "error": {"type": "not_found_error",
                                                                "message": "not scripted"}})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def models(self):
        if "anthropic-version" in self.headers or "x-api-key" in self.headers:
            data = [{"type": "model", "id": m, "display_name": m,
                     "created_at": "2025-01-01T00:00:00Z"}
                    for m in ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1")]
            self.send_json(200, {"data": data, "has_more": False,
                                 "first_id": data[0]["id"], "last_id": data[-1]["id"]})
        else:
            self.send_json(200, {"object": "list", "data": [
                {"id": "scripted-model", "object": "model", "created": 1735689600,
                 "owned_by": "baton-tests"}]})

    # --- shared step handling -----------------------------------------------------

    def pick_step(self, body, messages, has_tools):
        script = self.server.script
        model = str((body or {}).get("model", ""))
        if not has_tools or script.side_model.search(model):
            return "side", None, None, {"text": script.side_text}
        conv, number, step = script.take(user_text_of(messages))
        return "main", conv, number, step

    def error_answer(self, step, api):
        status = int(step.get("status", 500))
        headers = dict(step.get("headers", {}))
        if status == 429 and "retry-after" not in {k.lower() for k in headers}:
            headers["retry-after"] = step.get("retry_after", 3600)
        if "body" in step:
            body = step["body"]
        elif api == "anthropic":
            etype = step.get("error_type", {429: "rate_limit_error", 529: "overloaded_error",
                                            401: "authentication_error"}.get(status, "api_error"))
            body = {"type": "error", "error": {"type": etype, "message": step.get(
                "message", "This request would exceed your account's rate limit. "
                           "Please try again later.")},
                    "request_id": new_id("req_")}
            headers.setdefault("request-id", body["request_id"])
        elif api == "gemini":
            gstatus = step.get("error_type", {429: "RESOURCE_EXHAUSTED", 400: "INVALID_ARGUMENT",
                                              401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                                              503: "UNAVAILABLE"}.get(status, "INTERNAL"))
            error = {"code": status, "status": gstatus, "message": step.get(
                "message", "Resource has been exhausted (e.g. check quota)." if status == 429
                else "An internal error has occurred.")}
            if "details" in step:
                error["details"] = step["details"]
            body = {"error": error}
        else:
            etype = step.get("error_type", "rate_limit_exceeded" if status == 429 else "server_error")
            error = {"type": etype, "code": etype, "message": step.get(
                "message", "The usage limit has been reached" if etype == "usage_limit_reached"
                else "Rate limit reached. Please try again later.")}
            if etype == "usage_limit_reached":
                resets_in = int(step.get("resets_in_seconds", step.get("retry_after", 3600)))
                error["resets_at"] = int(time.time()) + resets_in
                error["resets_in_seconds"] = resets_in
                error["plan_type"] = step.get("plan_type", "plus")
            body = {"error": error}
        self.send_json(status, body, headers)

    @staticmethod
    def tool_calls(step):
        if "tools" in step:
            return list(step["tools"])
        if "tool" in step:
            return [{"tool": step["tool"], "input": step.get("input", {})}]
        return []

    # --- Anthropic Messages API ---------------------------------------------------

    def anthropic_messages(self, raw, body):
        body = body or {}
        kind, conv, number, step = self.pick_step(body, body.get("messages"), bool(body.get("tools")))
        self.record(raw, body, answer=kind, conversation=conv, step=number)
        if step.get("hang"):
            time.sleep(float(step["hang"]))
        if "status" in step:
            self.error_answer(step, "anthropic")
            return
        model = body.get("model", "claude-sonnet-4-5")
        usage = dict(DEFAULT_USAGE, cache_creation_input_tokens=0, cache_read_input_tokens=0)
        usage.update(step.get("usage", {}))
        blocks = []
        if step.get("text") or not self.tool_calls(step):
            blocks.append({"type": "text", "text": step.get("text") or ""})
        for call in self.tool_calls(step):
            blocks.append({"type": "tool_use", "id": new_id("toolu_"), "name": call["tool"],
                           "input": call.get("input", {})})
        stop_reason = "tool_use" if self.tool_calls(step) else "end_turn"
        message = {"id": new_id("msg_"), "type": "message", "role": "assistant", "model": model,
                   "content": blocks, "stop_reason": stop_reason, "stop_sequence": None,
                   "usage": usage}
        if not body.get("stream"):
            self.send_json(200, message, {"request-id": new_id("req_")})
            return
        self.start_sse({"request-id": new_id("req_")})
        head = dict(message, content=[], stop_reason=None,
                    usage=dict(usage, output_tokens=1))
        self.sse("message_start", {"type": "message_start", "message": head})
        self.sse("ping", {"type": "ping"})
        if step.get("stall"):
            time.sleep(float(step["stall"]))
        for i, block in enumerate(blocks):
            if block["type"] == "text":
                self.sse("content_block_start", {"type": "content_block_start", "index": i,
                                                 "content_block": {"type": "text", "text": ""}})
                text = block["text"]
                for piece in [text[j:j + 40] for j in range(0, len(text), 40)] or [""]:
                    self.sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                     "delta": {"type": "text_delta", "text": piece}})
            else:
                start = dict(block, input={})
                self.sse("content_block_start", {"type": "content_block_start", "index": i,
                                                 "content_block": start})
                self.sse("content_block_delta", {"type": "content_block_delta", "index": i,
                                                 "delta": {"type": "input_json_delta",
                                                           "partial_json": json.dumps(block["input"])}})
            self.sse("content_block_stop", {"type": "content_block_stop", "index": i})
        self.sse("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                   "usage": {"output_tokens": usage["output_tokens"]}})
        self.sse("message_stop", {"type": "message_stop"})
        self.end_sse()

    # --- OpenAI Responses API -----------------------------------------------------

    def openai_responses(self, raw, body):
        body = body or {}
        kind, conv, number, step = self.pick_step(body, body.get("input"), bool(body.get("tools")))
        self.record(raw, body, answer=kind, conversation=conv, step=number)
        if step.get("hang"):
            time.sleep(float(step["hang"]))
        if "status" in step:
            self.error_answer(step, "openai")
            return
        model = body.get("model", "scripted-model")
        usage_in = dict(DEFAULT_USAGE)
        usage_in.update(step.get("usage", {}))
        usage = {"input_tokens": usage_in["input_tokens"],
                 "input_tokens_details": {"cached_tokens": usage_in.get("cached_tokens", 0)},
                 "output_tokens": usage_in["output_tokens"],
                 "output_tokens_details": {"reasoning_tokens": 0},
                 "total_tokens": usage_in["input_tokens"] + usage_in["output_tokens"]}
        items = []
        calls = self.tool_calls(step)
        if step.get("text") or not calls:
            items.append({"type": "message", "id": new_id("msg_"), "role": "assistant",
                          "status": "completed",
                          "content": [{"type": "output_text", "text": step.get("text") or "",
                                       "annotations": []}]})
        for call in calls:
            if isinstance(call.get("input"), str):
                items.append({"type": "custom_tool_call", "id": new_id("ctc_"),
                              "call_id": new_id("call_"), "name": call["tool"],
                              "input": call["input"], "status": "completed"})
            else:
                items.append({"type": "function_call", "id": new_id("fc_"),
                              "call_id": new_id("call_"), "name": call["tool"],
                              "arguments": json.dumps(call.get("input", {})),
                              "status": "completed"})
        resp_id = new_id("resp_")
        base = {"id": resp_id, "object": "response", "created_at": int(time.time()),
                "model": model, "status": "in_progress", "output": []}
        seq = iter(range(1_000_000))
        self.start_sse({"x-request-id": new_id("req_")})
        self.sse("response.created", {"type": "response.created", "sequence_number": next(seq),
                                      "response": base})
        self.sse("response.in_progress", {"type": "response.in_progress",
                                          "sequence_number": next(seq), "response": base})
        if step.get("stall"):
            time.sleep(float(step["stall"]))
        for n, item in enumerate(items):
            if item["type"] == "message":
                text = item["content"][0]["text"]
                self.sse("response.output_item.added", {
                    "type": "response.output_item.added", "sequence_number": next(seq),
                    "output_index": n, "item": dict(item, status="in_progress", content=[])})
                self.sse("response.content_part.added", {
                    "type": "response.content_part.added", "sequence_number": next(seq),
                    "item_id": item["id"], "output_index": n, "content_index": 0,
                    "part": {"type": "output_text", "text": "", "annotations": []}})
                for piece in [text[j:j + 40] for j in range(0, len(text), 40)]:
                    self.sse("response.output_text.delta", {
                        "type": "response.output_text.delta", "sequence_number": next(seq),
                        "item_id": item["id"], "output_index": n, "content_index": 0,
                        "delta": piece})
                self.sse("response.output_text.done", {
                    "type": "response.output_text.done", "sequence_number": next(seq),
                    "item_id": item["id"], "output_index": n, "content_index": 0, "text": text})
                self.sse("response.content_part.done", {
                    "type": "response.content_part.done", "sequence_number": next(seq),
                    "item_id": item["id"], "output_index": n, "content_index": 0,
                    "part": item["content"][0]})
            elif item["type"] == "function_call":
                self.sse("response.output_item.added", {
                    "type": "response.output_item.added", "sequence_number": next(seq),
                    "output_index": n, "item": dict(item, status="in_progress", arguments="")})
                self.sse("response.function_call_arguments.delta", {
                    "type": "response.function_call_arguments.delta",
                    "sequence_number": next(seq), "item_id": item["id"], "output_index": n,
                    "delta": item["arguments"]})
                self.sse("response.function_call_arguments.done", {
                    "type": "response.function_call_arguments.done",
                    "sequence_number": next(seq), "item_id": item["id"], "output_index": n,
                    "arguments": item["arguments"]})
            else:
                self.sse("response.output_item.added", {
                    "type": "response.output_item.added", "sequence_number": next(seq),
                    "output_index": n, "item": dict(item, status="in_progress", input="")})
            self.sse("response.output_item.done", {
                "type": "response.output_item.done", "sequence_number": next(seq),
                "output_index": n, "item": item})
        done = dict(base, status="completed", output=items, usage=usage)
        self.sse("response.completed", {"type": "response.completed",
                                        "sequence_number": next(seq), "response": done})
        self.end_sse()

    # --- Gemini API -------------------------------------------------------------------

    def gemini_generate(self, raw, body, path):
        body = body or {}
        model, method = path.rsplit("/", 1)[1].split(":", 1)
        kind, conv, number, step = self.pick_step(
            dict(body, model=model), gemini_user_messages(body.get("contents")),
            bool(body.get("tools")))
        self.record(raw, body, answer=kind, conversation=conv, step=number, model=model)
        if step.get("hang"):
            time.sleep(float(step["hang"]))
        if "status" in step:
            self.error_answer(step, "gemini")
            return
        usage_in = dict(DEFAULT_USAGE)
        usage_in.update(step.get("usage", {}))
        usage = {"promptTokenCount": usage_in["input_tokens"],
                 "candidatesTokenCount": usage_in["output_tokens"],
                 "totalTokenCount": usage_in["input_tokens"] + usage_in["output_tokens"]}
        if usage_in.get("cached_tokens"):
            usage["cachedContentTokenCount"] = usage_in["cached_tokens"]
        parts = []
        calls = self.tool_calls(step)
        text = step.get("text") or ""
        schema = (body.get("generationConfig") or {}).get("responseJsonSchema")
        if kind == "side" and schema:
            # A side request wanting JSON (Gemini CLI's model router): the least such value.
            text = json.dumps(json_like(schema, text))
        if text or not calls:
            parts.append({"text": text})
        for call in calls:
            parts.append({"functionCall": {"name": call["tool"], "args": call.get("input", {})}})
        response_id = new_id("")

        def chunk(chunk_parts, last):
            candidate = {"content": {"role": "model", "parts": chunk_parts}, "index": 0}
            out = {"candidates": [candidate], "modelVersion": model, "responseId": response_id}
            if last:
                candidate["finishReason"] = "STOP"
                out["usageMetadata"] = usage
            return out

        if method == "generateContent":
            self.send_json(200, chunk(parts, True))
            return
        self.start_sse()
        chunks = []
        if text:
            chunks += [[{"text": text[j:j + 40]}] for j in range(0, len(text), 40)]
        chunks += [[p] for p in parts if "functionCall" in p]
        chunks = chunks or [[{"text": ""}]]
        for n, c in enumerate(chunks):
            self.gemini_sse(chunk(c, n == len(chunks) - 1))
            if n == 0 and step.get("stall"):
                time.sleep(float(step["stall"]))
        self.end_sse()

    def gemini_sse(self, data):
        piece = f"data: {json.dumps(data)}\r\n\r\n".encode()
        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.flush()


def json_like(schema, text):
    """The simplest value that fits a JSON schema: first enum value, 1, false, `text`."""
    schema = schema or {}
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {k: json_like(v, text) for k, v in props.items()}
    if kind == "array":
        return []
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return text


def gemini_user_messages(contents):
    """Gemini `contents` as messages with text blocks, for user_text_of."""
    return [{"role": c.get("role"), "content": [p for p in c.get("parts") or []
                                                if isinstance(p, dict)]}
            for c in contents or [] if isinstance(c, dict)]


def main():
    parser = argparse.ArgumentParser(description="Scripted model server for agent CLI tests")
    parser.add_argument("--script", required=True, help="JSON script (see module doc)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks one")
    parser.add_argument("--log", help="append every request as one JSON line to this file")
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as f:
        script = Script(json.load(f))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.script = script
    server.log_path = os.path.abspath(args.log) if args.log else None
    server.log_lock = threading.Lock()
    sys.stdout.write(json.dumps({"port": server.server_address[1]}) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
