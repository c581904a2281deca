"""The incident page: items and evidence, classification, obligations, timeline and actions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from monitor.clock import to_local
from monitor.domain import EventKind, Incident, IncidentEvent, Obligation
from monitor.storage.repo.incident_detail import (
    IncidentItem,
    incident_evidence,
    incident_items_with_sources,
    incident_next_due,
    incident_obligations,
)
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.web.actions.dispatch import ActionRejected, ActionUnavailable, AuditContext, perform
from monitor.web.actions.forms import FormContext, FormResult, choices, validate
from monitor.web.actions.specs import ACTIONS, BY_SLUG, ActionSpec
from monitor.web.auth.login import redirect
from monitor.web.auth.permissions import CurrentUser, Permission, requires
from monitor.web.keys import REQUEST_ID
from monitor.web.labels import label
from monitor.web.rendering import render
from monitor.web.requests import client_ip, services, user_of
from monitor.web.services import WebServices

SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class IncidentPage:
    incident: Incident
    next_due_at: datetime | None
    items: list[IncidentItem]
    obligations: list[Obligation]
    events: list[IncidentEvent]

    @property
    def units(self) -> frozenset[str]:
        return incident_units(self.incident)


def incident_units(incident: Incident) -> frozenset[str]:
    """The units whose people may see the incident: owner, lead and co-handling units."""
    return frozenset(u for u in (incident.owner_unit, incident.lead_unit, *incident.co_units) if u)


async def load_incident_page(svc: WebServices, user: CurrentUser, incident_id: int) -> IncidentPage:
    """Everything the page shows, in one read transaction; 404 when missing or not visible."""
    async with svc.db.read() as conn:
        incident = await get_incident(conn, incident_id)
        if incident is None:
            raise web.HTTPNotFound()
        page = IncidentPage(
            incident=incident,
            next_due_at=await incident_next_due(conn, incident_id),
            items=await incident_items_with_sources(conn, incident_id),
            obligations=await incident_obligations(conn, incident_id),
            events=await list_events(conn, incident_id),
        )
    if not user.sees(page.units):
        raise web.HTTPNotFound()
    return page


def pause_requests(events: list[IncidentEvent]) -> list[tuple[str, str]]:
    """Pause requests not yet approved or rejected: (timeline seq, description)."""
    decided = {
        int(e.payload.get("request_seq", 0))
        for e in events
        if e.kind in (EventKind.PAUSE_APPROVED, EventKind.PAUSE_REJECTED)
    }
    return [
        (str(e.seq), f"#{e.seq} {e.actor} 申请暂停 {e.payload.get('rule_id', '')}：{e.payload.get('reason', '')}")
        for e in events
        if e.kind == EventKind.PAUSE_REQUESTED and e.seq not in decided
    ]


def form_context(svc: WebServices, page: IncidentPage) -> FormContext:
    rules = [
        (o.rule_id, f"{o.rule_id} · {label(o.action, 'obligation_action')} · 截止 {to_local(o.due_at):%m-%d %H:%M}")
        for o in page.obligations
        if not o.status.is_final
    ]
    return FormContext(
        incident_id=page.incident.id or 0,
        org=svc.org,
        now=svc.clock.now(),
        items=tuple((str(i.id), i.title) for i in page.items),
        rules=tuple(dict(rules).items()),
        pause_requests=tuple(pause_requests(page.events)),
    )


def _render_page(
    request: web.Request,
    page: IncidentPage,
    *,
    status: int = 200,
    failed: tuple[ActionSpec, FormResult] | None = None,
    unavailable: ActionSpec | None = None,
    error: str = "",
) -> web.Response:
    svc, user = services(request), user_of(request)
    ctx = form_context(svc, page)
    forms = []
    for spec in ACTIONS:
        if not user.can(spec.permission):
            continue
        result = failed[1] if failed and failed[0] is spec else None
        forms.append(
            {
                "spec": spec,
                "raw": result.raw if result else {},
                "errors": result.errors if result else {},
                "choices": {f.name: choices(f.choices, ctx) for f in spec.fields if f.choices},
            }
        )
    done = BY_SLUG.get(request.query.get("done", ""))
    return render(
        request,
        "incident.html",
        {
            "page": page,
            "inc": page.incident,
            "forms": forms,
            "open_form": (failed[0].slug if failed else unavailable.slug if unavailable else ""),
            "unavailable": unavailable,
            "error": error,
            "done": done,
        },
        status=status,
    )


def _incident_id(request: web.Request) -> int:
    raw = request.match_info["incident_id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


@requires(Permission.VIEW_QUEUE)
async def incident_view(request: web.Request) -> web.Response:
    page = await load_incident_page(services(request), user_of(request), _incident_id(request))
    return _render_page(request, page)


@requires(Permission.VIEW_QUEUE)
async def incident_action(request: web.Request) -> web.StreamResponse:
    """POST an action form; errors re-render the page with the input kept."""
    svc, user = services(request), user_of(request)
    spec = BY_SLUG.get(request.match_info["slug"])
    if spec is None:
        raise web.HTTPNotFound()
    if not user.can(spec.permission):
        raise web.HTTPForbidden()
    incident_id = _incident_id(request)
    page = await load_incident_page(svc, user, incident_id)
    result = validate(spec, await request.post(), form_context(svc, page))
    if result.command is None:
        return _render_page(request, page, status=400, failed=(spec, result))
    try:
        await perform(svc, user, incident_id, result.command, audit_context(request))
    except ActionUnavailable:
        return _render_page(request, page, status=501, failed=(spec, result), unavailable=spec)
    except ActionRejected as exc:
        return _render_page(request, page, status=409, failed=(spec, result), error=exc.message)
    return redirect(f"/incidents/{incident_id}?done={spec.slug}#timeline")


def audit_context(request: web.Request) -> AuditContext:
    return AuditContext(ip=client_ip(request), request_id=request.get(REQUEST_ID))


@requires(Permission.VIEW_QUEUE)
async def evidence_download(request: web.Request) -> web.Response:
    """The bytes an item was parsed from, as a text/plain download (never rendered as HTML)."""
    svc, user = services(request), user_of(request)
    incident_id, sha = _incident_id(request), request.match_info["sha256"]
    if not SHA256.match(sha):
        raise web.HTTPNotFound()
    page_units = await _visible_units(svc, user, incident_id)
    if page_units is None:
        raise web.HTTPNotFound()
    async with svc.db.read() as conn:
        record = await incident_evidence(conn, incident_id, sha)
    if record is None:
        raise web.HTTPNotFound()
    charset = record.encoding or "utf-8"
    return web.Response(
        body=record.body,
        headers={
            "Content-Type": f"text/plain; charset={charset}",
            "Content-Disposition": f'attachment; filename="evidence-{sha[:16]}.txt"',
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "no-store",
        },
    )


async def _visible_units(svc: WebServices, user: CurrentUser, incident_id: int) -> frozenset[str] | None:
    async with svc.db.read() as conn:
        incident = await get_incident(conn, incident_id)
    if incident is None:
        return None
    units = incident_units(incident)
    return units if user.sees(units) else None


PAYLOAD_LABELS = {
    "title": "标题",
    "reason": "原因",
    "text": "内容",
    "rule_id": "规则",
    "until": "至",
    "request_seq": "申请编号",
    "owner_unit": "责任单位",
    "event_level": "突发事件级别",
    "opinion_level": "舆情级别",
    "kind": "方式",
    "url": "链接",
    "approved_by": "审批人",
    "into_id": "并入事件",
    "item_ids": "稿件",
    "step": "步骤",
    "channel": "渠道",
    "person": "人员",
    "error": "错误",
}


def event_summary(event: IncidentEvent) -> str:
    """A one-line zh-CN description of a timeline event's payload (unknown keys shown as they are)."""
    payload: dict[str, Any] = event.payload or {}
    if event.kind == EventKind.NOTE_ADDED:
        return str(payload.get("text", ""))
    parts = [f"{PAYLOAD_LABELS.get(k, k)}：{v}" for k, v in payload.items() if v not in (None, "", [], {})]
    return "；".join(parts)
