"""Reports page. The monthly response-effectiveness reports arrive with the report capability."""

from __future__ import annotations

from aiohttp import web

from monitor.web.auth.permissions import Permission, requires
from monitor.web.rendering import render


@requires(Permission.VIEW_REPORTS)
async def reports_page(request: web.Request) -> web.Response:
    return render(request, "reports.html", {})
