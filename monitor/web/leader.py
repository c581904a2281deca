"""The leader view: what falls due in the next hours for the leader's units (and what is overdue).

The page is live: static/leader.js listens to the same event stream as the queue (/events) and,
when an incident changes (or once a minute, since time alone brings new deadlines into the
window), fetches the server-rendered rows from /leader/rows and swaps them in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from monitor.domain import IncidentEvent
from monitor.domain.commitments import COMMITMENT_RULE_ID, commitments_of
from monitor.storage.repo.engine import events_of
from monitor.storage.repo.queue import Acknowledgement, DueObligation, latest_acknowledgements, obligations_due
from monitor.web.auth.permissions import CurrentUser, Permission, requires
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


@dataclass
class LeaderRows:
    due: list[DueObligation]
    acks: dict[int, Acknowledgement | None]
    now: datetime
    labels: dict[int, str] = field(default_factory=dict)  # obligation id -> 承诺 #n：… for commitments

    @property
    def overdue(self) -> int:
        return sum(1 for d in self.due if d.due_at <= self.now)

    @property
    def escalated(self) -> int:
        """Overdue ones whose ladder reached 分管领导/主要负责人 (已升级)."""
        return sum(1 for d in self.due if d.due_at <= self.now and d.escalated_at is not None)

    @property
    def supervised(self) -> int:
        """Incidents shown that 政府办 supervises (督办中)."""
        return len({d.incident_id for d in self.due if d.incident_status == "supervised"})


async def load_rows(request: web.Request, user: CurrentUser, hours: float) -> LeaderRows:
    svc = services(request)
    now = svc.clock.now()
    async with svc.db.read() as conn:
        due = await obligations_due(conn, user.leader_units, now, timedelta(hours=hours))
        acks = await latest_acknowledgements(conn, [d.incident_id for d in due])
        promised = [d.incident_id for d in due if d.rule_id == COMMITMENT_RULE_ID]
        timelines = await events_of(conn, promised) if promised else {}
    acked = {d.obligation_id: _ack_of(acks, d) for d in due}
    return LeaderRows(due, acked, now, commitment_labels(due, timelines))


def _ack_of(acks: dict[tuple[int, str | None], Acknowledgement], d: DueObligation) -> Acknowledgement | None:
    keys = [(d.incident_id, target(d)), (d.incident_id, d.rule_id), (d.incident_id, None)]
    return next((acks[k] for k in keys if k in acks), None)


def target(d: DueObligation) -> str:
    """The 确认收到 form's rule_id: `PRJ-COMMITMENT#n` for one commitment (see incidents.target_key)."""
    return f"{d.rule_id}#{d.instance}" if d.rule_id == COMMITMENT_RULE_ID else d.rule_id


def commitment_labels(due: list[DueObligation], timelines: dict[int, list[IncidentEvent]]) -> dict[int, str]:
    """承诺 #2：公布调查结果（10-20 前） per commitment row, from its incident's timeline."""
    records = {iid: {r.number: r.label for r in commitments_of(events)} for iid, events in timelines.items()}
    return {
        d.obligation_id: records[d.incident_id][d.instance]
        for d in due
        if d.rule_id == COMMITMENT_RULE_ID and d.instance in records.get(d.incident_id, {})
    }


def rows_context(request: web.Request, user: CurrentUser, rows: LeaderRows, return_to: str) -> dict[str, Any]:
    return {
        "due": rows.due,
        "acks": rows.acks,
        "labels": rows.labels,
        "target": target,
        "overdue": rows.overdue,
        "escalated": rows.escalated,
        "supervised": rows.supervised,
        "can_ack": user.can(Permission.ACT_ACK),
        "return_to": return_to,
    }


@requires(Permission.LEADER_VIEW)
async def leader_view(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    hours, warning = horizon_hours(request, svc.settings.leader_horizon_h)
    rows = await load_rows(request, user, hours)
    units = user.leader_units
    return_to = request.path_qs if not warning else "/leader"
    return render(
        request,
        "leader.html",
        {
            **rows_context(request, user, rows, return_to),
            "hours": hours,
            "warning": warning,
            "units": sorted(units) if units is not None else None,
            "request_hours": f"{hours:g}" if request.query.get("hours") and not warning else "",
        },
    )


@requires(Permission.LEADER_VIEW)
async def leader_rows(request: web.Request) -> web.Response:
    """The rows of the leader view as server-rendered HTML, for live replacement:
    {"html": "<tr>…", "overdue": n, "count": n, "incidents": [ids shown]}."""
    svc, user = services(request), user_of(request)
    hours, warning = horizon_hours(request, svc.settings.leader_horizon_h)
    rows = await load_rows(request, user, hours)
    return_to = f"/leader?hours={hours:g}" if request.query.get("hours") and not warning else "/leader"
    env = aiohttp_jinja2.get_env(request.app)
    html = env.get_template("_leader_rows.html").render(
        {**rows_context(request, user, rows, return_to), "now": rows.now, "csrf_token": user.csrf_token or ""}
    )
    return web.json_response(
        {
            "html": html,
            "overdue": rows.overdue,
            "escalated": rows.escalated,
            "supervised": rows.supervised,
            "count": len(rows.due),
            "incidents": sorted({d.incident_id for d in rows.due}),
        },
        headers={"Cache-Control": "no-store"},
    )
