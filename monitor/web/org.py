"""Org and people (admin): units, towns, people, roles, channels and web accounts."""

from __future__ import annotations

from aiohttp import web

from monitor.domain import UnitKind
from monitor.storage.repo.users import list_users
from monitor.web.auth.permissions import Permission, requires
from monitor.web.rendering import render
from monitor.web.requests import services


@requires(Permission.ADMIN_ORG)
async def org_page(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as conn:
        accounts = await list_users(conn)
    units_by_kind = {kind: [u for u in svc.org.units.values() if u.kind == kind] for kind in UnitKind}
    return render(
        request,
        "org.html",
        {
            "units_by_kind": units_by_kind,
            "people": list(svc.org.people.values()),
            "robots": list(svc.org.robots.values()),
            "accounts": accounts,
        },
    )
