"""Drives one front door of a docker-agent fleet with the official MCP Python
SDK, as its README shows: one Client, then calls and reads in order.

Usage: python3 mcp_fleet.py BASE_URL CREDENTIAL MODE ANSWER STEPS
MODE is modern (the SDK's default: 2026-07-28, input_required answered
and retried by the SDK) or legacy (the initialize handshake: questions on
the request's stream). ANSWER is accept, decline or none (no
elicitation_callback). STEPS is a JSON array of steps, each
{"tool": NAME, "args": {...}} or {"read": URI} or {"tools": true}.
Prints one JSON object: the protocol version, the questions asked, the
progress seen and each step's outcome, in order; the Rust test checks it.
"""

import asyncio
import json
import sys

from mcp import Client, MCPError, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def step(client, s, on_progress):
    if "tools" in s:
        listed = await client.list_tools()
        return {t.name: t.input_schema.get("properties", {}).get("host") for t in listed.tools}
    if "read" in s:
        try:
            read = await client.read_resource(s["read"])
        except MCPError as e:
            return {"error": e.message, "code": e.code}
        c = read.contents[0]
        return {"uri": str(c.uri), "mime": c.mime_type, "text": c.text}
    result = await client.call_tool(s["tool"], s["args"], progress_callback=on_progress)
    return {
        "is_error": result.is_error,
        "text": text_of(result),
        "structured": result.structured_content,
    }


async def main(base, credential, mode, answer, steps):
    asked = []
    progress = []

    async def on_elicit(context, params):
        asked.append(params.message)
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")

    async def on_progress(done, total, message):
        progress.append([done, total, message])

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {credential}"})
    source = streamable_http_client(f"{base}/mcp", http_client=http)
    callback = None if answer == "none" else on_elicit
    options = {"mode": "legacy"} if mode == "legacy" else {}
    async with Client(source, elicitation_callback=callback, **options) as client:
        outcomes = [await step(client, s, on_progress) for s in json.loads(steps)]
        print(json.dumps({
            "protocol_version": client.protocol_version,
            "asked": asked,
            "progress": progress,
            "steps": outcomes,
        }))


asyncio.run(asyncio.wait_for(main(*sys.argv[1:6]), timeout=120))
