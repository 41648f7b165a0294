"""Drives the tools added after the original's with the official MCP Python SDK.

Usage: python3 mcp_new_tools.py BASE_URL API_KEY MODE IMAGE NAME
MODE is legacy (Streamable HTTP with the initialize handshake) or modern
(the SDK's default mode: stateless 2026-07-28). Creates the container NAME from IMAGE (labelled as a
test container), pauses and unpauses it, runs a command in it, lists volumes
and networks, then removes it, confirming the removal through the SDK's
elicitation callback. Prints one JSON object describing what the client saw.
"""

import asyncio
import json
import sys

from mcp import Client, types
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(base, key, mode, image, name):
    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": True})

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    source = streamable_http_client(f"{base}/mcp", http_client=http)
    options = {"mode": "legacy"} if mode == "legacy" else {}
    seen = {}
    async with Client(source, elicitation_callback=on_elicit, **options) as client:
        seen["protocol_version"] = client.protocol_version
        created = await client.call_tool("create_container", {
            "image": image, "name": name, "cmd": ["out:made by the sdk", "wait"],
            "labels": {"docker-agent-test": "1"}, "start": True,
        })
        seen["created"] = [created.is_error, created.structured_content["name"],
                           created.structured_content["state"]["status"]]
        paused = await client.call_tool("pause_container", {"container_id": name})
        seen["paused"] = [paused.is_error, paused.structured_content["status"]]
        resumed = await client.call_tool("unpause_container", {"container_id": name})
        seen["unpaused"] = [resumed.is_error, resumed.structured_content["status"]]
        ran = await client.call_tool("exec_in_container", {
            "container_id": name, "cmd": ["/testbox", "out:from exec", "err:to stderr", "exit:3"],
        })
        seen["exec"] = ran.structured_content
        volumes = await client.call_tool("list_volumes", {})
        networks = await client.call_tool("list_networks", {})
        seen["networks"] = [n["name"] for n in networks.structured_content["networks"]]
        seen["volumes_error"] = volumes.is_error
        removed = await client.call_tool("remove_container", {"container_id": name, "force": True})
        seen["removed"] = [removed.is_error, removed.structured_content["status"]]
        seen["asked"] = asked
    print(json.dumps(seen))


asyncio.run(asyncio.wait_for(main(*sys.argv[1:6]), timeout=120))
