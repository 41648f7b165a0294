"""Calls one tool through the official MCP Python SDK, answering the agent's
confirmation question (MCP_CONFIRM) as told.

Usage: python3 mcp_confirm.py BASE_URL API_KEY MODE ANSWER TOOL CONTAINER
MODE is legacy (Streamable HTTP with the initialize handshake), modern
(Streamable HTTP in the SDK's default mode: 2026-07-28, MRTR), sse (legacy
HTTP+SSE in the default mode) or sse-legacy (legacy HTTP+SSE, handshake).
ANSWER is accept, decline, or none (no
elicitation_callback: the client declares no elicitation capability).
Prints one JSON object: the questions asked, the progress seen and the
tool's result; the Rust test checks it.
"""

import asyncio
import json
import sys

from mcp import Client, types
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(base, key, mode, answer, tool, container):
    asked = []
    progress = []

    async def on_elicit(context, params):
        asked.append({"message": params.message, "schema": params.requested_schema})
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")

    async def on_progress(done, total, message):
        progress.append([done, total, message])

    headers = {"Authorization": f"Bearer {key}"}
    if mode.startswith("sse"):
        source = sse_client(f"{base}/mcp/sse", headers=headers)
    else:
        source = streamable_http_client(f"{base}/mcp", http_client=create_mcp_http_client(headers=headers))
    callback = None if answer == "none" else on_elicit
    options = {"mode": "legacy"} if mode.endswith("legacy") else {}
    async with Client(source, elicitation_callback=callback, **options) as client:
        result = await client.call_tool(
            tool, {"container_id": container}, progress_callback=on_progress
        )
        text = "".join(c.text for c in result.content if getattr(c, "type", "") == "text")
        print(json.dumps({
            "protocol_version": client.protocol_version,
            "asked": asked,
            "progress": progress,
            "is_error": result.is_error,
            "text": text,
        }))


asyncio.run(asyncio.wait_for(main(*sys.argv[1:7]), timeout=120))
