"""Drives docker-agent's MCP resources, subscriptions and prompts with the
official MCP Python SDK.

Usage: python3 mcp_resources_interop.py BASE_URL API_KEY ERA CONTAINER
ERA is legacy (Streamable HTTP with the initialize handshake:
resources/subscribe, notifications on the session's GET stream) or modern
(the SDK's default mode: stateless 2026-07-28, subscriptions/listen). Once
subscribed to CONTAINER's resource it prints the line `subscribed` and
waits for the caller to change the container; then it prints one JSON object describing
what the client saw, which the Rust test checks.
"""

import asyncio
import json
import sys

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ResourceUpdated
from mcp.shared._httpx_utils import create_mcp_http_client


def subscribed():
    print("subscribed", flush=True)


async def exercise(client, container, updates):
    seen = {"protocol_version": client.protocol_version}
    caps = client.server_capabilities.resources
    seen["capabilities"] = [caps.subscribe, caps.list_changed]
    listed = await client.list_resources()
    seen["uris"] = [str(r.uri) for r in listed.resources]
    mine = next(r for r in listed.resources if r.name == container)
    uri = str(mine.uri)
    read = await client.read_resource(uri)
    seen["read_name"] = json.loads(read.contents[0].text)["name"]
    logs = await client.read_resource(uri + "/logs")
    seen["logs"] = logs.contents[0].text
    templates = await client.list_resource_templates()
    seen["templates"] = [t.uri_template for t in templates.resource_templates]
    prompts = await client.list_prompts()
    seen["prompts"] = [p.name for p in prompts.prompts]
    prompt = await client.get_prompt("diagnose_container", {"container_id": container})
    seen["prompt_kinds"] = [m.content.type for m in prompt.messages]
    seen["prompt_uris"] = [str(m.content.resource.uri) for m in prompt.messages if m.content.type == "resource"]
    seen["updated"] = await wait_for_update(client, uri, updates)
    return seen


async def wait_for_update(client, uri, updates):
    if updates is None:
        async with client.listen(resource_subscriptions=[uri]) as sub:
            subscribed()
            async for event in sub:
                if isinstance(event, ResourceUpdated) and event.uri == uri:
                    return event.uri
    await client.subscribe_resource(uri)
    subscribed()
    while True:
        got = await updates.get()
        if got == uri:
            return got


async def main(base, key, era, container):
    updates = asyncio.Queue() if era == "legacy" else None

    async def on_message(message):
        root = getattr(message, "root", message)
        if getattr(root, "method", "") == "notifications/resources/updated" and updates is not None:
            await updates.put(str(root.params.uri))

    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    source = streamable_http_client(f"{base}/mcp", http_client=http)
    options = {"mode": "legacy"} if era == "legacy" else {}
    async with Client(source, message_handler=on_message, **options) as client:
        print(json.dumps(await exercise(client, container, updates)), flush=True)


asyncio.run(asyncio.wait_for(main(*sys.argv[1:5]), timeout=120))
