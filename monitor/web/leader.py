"""The leader view: what falls due in the next hours for the leader's units (and what is overdue)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from monitor.storage.repo.queue import latest_acknowledgements, obligations_due
from monitor.web.auth.permissions import Permission, requires
from monitor.web.rendering import render
from monitor.web.requests import services, user_of

MAX_HORIZON_H = 24 * 14


def horizon_hours(request: web.Request, default: float) -> tuple[float, str]:
    raw = request.query.get("hours", "")
    if not raw:
        return default, ""
    try:
        hours = float(raw)
    except ValueError:
        return default, f"「时间范围」应为小时数，例如 24；已按默认 {default:g} 小时显示"
    if not 0 < hours <= MAX_HORIZON_H:
        return default, f"「时间范围」应在 1 到 {MAX_HORIZON_H} 小时之间；已按默认 {default:g} 小时显示"
    return hours, ""


@requires(Permission.LEADER_VIEW)
async def leader_view(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    hours, warning = horizon_hours(request, svc.settings.leader_horizon_h)
    units = user.leader_units
    now = svc.clock.now()
    async with svc.db.read() as conn:
        due = await obligations_due(conn, units, now, timedelta(hours=hours))
        acks = await latest_acknowledgements(conn, [d.incident_id for d in due])
    acked = {d.obligation_id: acks.get((d.incident_id, d.rule_id), acks.get((d.incident_id, None))) for d in due}
    return render(
        request,
        "leader.html",
        {
            "due": due,
            "hours": hours,
            "warning": warning,
            "units": sorted(units) if units is not None else None,
            "overdue": sum(1 for d in due if d.due_at <= now),
            "acks": acked,
            "can_ack": user.can(Permission.ACT_ACK),
            "return_to": request.path_qs if not warning else "/leader",
        },
    )
