"""Drives docker-agent with the official MCP Python SDK over one transport.

Usage: python3 mcp_interop.py BASE_URL API_KEY TRANSPORT MODE CONTAINER
TRANSPORT is sse (legacy HTTP+SSE), sse-query (the same with the key only
in `?api_key=`) or streamable (Streamable HTTP). MODE is default (no
`mode=`: the SDK's own way, as its README shows, which probes
`server/discover` and stays on 2026-07-28 when it answers), legacy (the
initialize handshake) or auto. Prints one JSON object describing what the
client saw; the Rust test checks it.
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def text_of(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


async def exercise(client, container):
    seen = {"protocol_version": client.protocol_version}
    tools = await client.list_tools()
    seen["tools"] = [t.name for t in tools.tools]
    seen["titles"] = all(t.title for t in tools.tools)
    seen["output_schemas"] = all(t.output_schema for t in tools.tools)
    listed = await client.call_tool("list_containers", {"all": True})
    seen["listed"] = [c["name"] for c in listed.structured_content["containers"]]
    seen["listed_text_is_array"] = isinstance(json.loads(text_of(listed)), list)
    detail = await client.call_tool("get_container", {"container_id": container})
    seen["detail_name"] = detail.structured_content["name"]
    logs = await client.call_tool("get_container_logs", {"container_id": container, "tail": 5})
    seen["logs"] = logs.structured_content["logs"]
    stopped = await client.call_tool("stop_container", {"container_id": container})
    seen["stopped"] = [stopped.is_error, stopped.structured_content["status"]]
    started = await client.call_tool("start_container", {"container_id": container})
    seen["started"] = [started.is_error, started.structured_content["status"]]
    missing = await client.call_tool("get_container", {"container_id": "no-such-container"})
    seen["missing"] = [missing.is_error, text_of(missing)]
    bad_arg = await client.call_tool("get_container_logs", {"container_id": container, "tail": "ten"})
    seen["bad_arg"] = [bad_arg.is_error, text_of(bad_arg)]
    resources = await client.list_resources()
    seen["resources"] = len(resources.resources)
    return seen


async def main(base, key, transport, mode, container):
    headers = {"Authorization": f"Bearer {key}"}
    if transport == "sse":
        source = sse_client(f"{base}/mcp/sse", headers=headers)
    elif transport == "sse-query":
        # The key only in the URL, as documented: the message POSTs carry none.
        source = sse_client(f"{base}/mcp/sse?api_key={key}")
    else:
        http = create_mcp_http_client(headers=headers)
        source = streamable_http_client(f"{base}/mcp", http_client=http)
    options = {} if mode == "default" else {"mode": mode}
    async with Client(source, **options) as client:
        print(json.dumps(await exercise(client, container)))


asyncio.run(asyncio.wait_for(main(*sys.argv[1:6]), timeout=120))
