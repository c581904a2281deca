"""Collected items (稿件), newest first: what the collectors brought in, classified or not."""

from __future__ import annotations

from aiohttp import web

from monitor.storage.repo.items import count_items, recent_items
from monitor.web.auth.permissions import Permission, requires
from monitor.web.rendering import render
from monitor.web.requests import services


@requires(Permission.VIEW_ITEMS)
async def items_page(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as conn:
        items = await recent_items(conn, limit=300)
        total = await count_items(conn)
    return render(request, "items.html", {"items": items, "total": total})
