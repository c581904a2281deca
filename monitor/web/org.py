"""Org and people (admin): units, towns, people, roles, channels, robots and web accounts.

Units, towns and robots come from the org file (edit it, run `monitor check-playbooks`, restart);
people and accounts are edited here (monitor/web/org_people.py, monitor/web/org_users.py).
"""

from __future__ import annotations

from aiohttp import web

from monitor.domain import UnitKind
from monitor.storage.repo.org_people import list_overrides
from monitor.storage.repo.users import list_users
from monitor.web.auth.permissions import Permission, requires
from monitor.web.labels import CHANNEL_LABELS
from monitor.web.rendering import render
from monitor.web.requests import services


@requires(Permission.ADMIN_ORG)
async def org_page(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as conn:
        accounts = await list_users(conn)
        overrides = {o.person.id: o for o in await list_overrides(conn)}
    units_by_kind = {kind: [u for u in svc.org.units.values() if u.kind == kind] for kind in UnitKind}
    disabled = [o.person for o in overrides.values() if o.disabled]
    return render(
        request,
        "org.html",
        {
            "units_by_kind": units_by_kind,
            "people": list(svc.org.people.values()),
            "disabled_people": disabled,
            "overrides": overrides,
            "robots": list(svc.org.robots.values()),
            "accounts": accounts,
            "channel_labels": CHANNEL_LABELS,
        },
    )
