"""GET /events: a server-sent event stream of changed incident ids for the signed-in user."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from monitor.web.auth.permissions import Permission, requires
from monitor.web.keys import LIVE
from monitor.web.live import LiveClient
from monitor.web.requests import user_of

HEARTBEAT_S = 15.0


@requires(Permission.VIEW_QUEUE)
async def events(request: web.Request) -> web.StreamResponse:
    hub = request.app[LIVE]
    client = hub.connect(user_of(request).scope)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    try:
        await response.prepare(request)
        await response.write(b"retry: 3000\n: connected\n\n")
        await _stream(response, client)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.disconnect(client)
    return response


async def _stream(response: web.StreamResponse, client: LiveClient) -> None:
    pending = asyncio.ensure_future(client.next())
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_S)
            if not done:
                await response.write(b": ping\n\n")
                continue
            ids = pending.result()
            if not ids:
                return  # closed: the server is stopping
            payload = json.dumps({"ids": sorted(ids)})
            await response.write(f"event: incidents\ndata: {payload}\n\n".encode())
            pending = asyncio.ensure_future(client.next())
    finally:
        pending.cancel()
