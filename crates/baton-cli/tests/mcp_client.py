"""Drives Baton's MCP server with the official MCP Python SDK, for crates/baton-cli/tests/mcp.rs.

Reads a JSON plan on stdin:
  {"transport": "stdio", "command": ..., "cwd": ..., "env": {...}, "mode": "legacy"|"auto",
   "calls": [[tool, arguments], ...]}
  or {"transport": "http", "url": ..., "agent": ..., "token": ..., "mode": ..., "calls": [...]}
and prints one JSON object: the server's name, the tools as listed, and each call's
result (is_error and the text content); or {"connect_error": ...} when the session
could not be opened (a team server refusing a missing or bad token).
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    plan = json.load(sys.stdin)
    if plan["transport"] == "stdio":
        server = StdioServerParameters(
            command=plan["command"], args=["mcp"], env=plan["env"], cwd=plan["cwd"]
        )
    else:
        headers = {"X-Baton-Agent": plan["agent"]} if plan.get("agent") else {}
        if plan.get("token"):
            headers["Authorization"] = "Bearer " + plan["token"]
        server = streamable_http_client(
            plan["url"], http_client=httpx2.AsyncClient(headers=headers, timeout=30)
        )
    out = {"calls": []}
    async with Client(server, mode=plan.get("mode", "legacy"), read_timeout_seconds=30) as client:
        info = client.server_info
        out["server"] = info.name if info else None
        listed = await client.list_tools()
        out["tools"] = [
            t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in listed.tools
        ]
        for name, arguments in plan["calls"]:
            result = await client.call_tool(name, arguments)
            text = "".join(c.text for c in result.content if getattr(c, "text", None))
            out["calls"].append({"tool": name, "is_error": bool(result.is_error), "text": text})
    print(json.dumps(out))


try:
    asyncio.run(main())
except BaseException as e:  # noqa: BLE001 - the test reads why the session failed
    if isinstance(e, (KeyboardInterrupt, SystemExit)):
        raise
    print(json.dumps({"connect_error": repr(e)}))
