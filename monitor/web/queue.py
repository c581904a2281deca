"""The duty queue: open incidents, nearest deadline first, with filters, saved views and live rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDict, MultiMapping

from monitor.domain import IncidentStatus, OpinionLevel, OrgDirectory, SourceHealth
from monitor.storage.repo.audit import append_audit
from monitor.storage.repo.queue import (
    DERIVED_COMMITMENTS,
    DERIVED_ESCALATED,
    DERIVED_OVERDUE,
    QueueFilter,
    QueueRow,
    queue_page,
    queue_rows,
)
from monitor.storage.repo.sources import unhealthy_sources
from monitor.storage.repo.views import delete_view, get_view, list_views, save_view
from monitor.web.auth.login import redirect
from monitor.web.auth.permissions import CurrentUser, Permission, requires
from monitor.web.rendering import render
from monitor.web.requests import audit_entry, services, user_of

FILTER_KEYS = ("level", "unit", "region", "status", "overdue", "mine")
S = IncidentStatus
# The workflow statuses the queue offers: those the service sets. 已报送 (REPORTED) and 已评估 (EVALUATED)
# are in the state machine but nothing moves an incident there, so filtering by them would always be empty.
WORKFLOW_STATUSES = [
    S.DETECTED,
    S.ASSESSED,
    S.ASSIGNED,
    S.HANDLING,
    S.RESPONDED,
    S.FOLLOW_UP,
    S.EVALUATED,
    S.REASSIGNED,
    S.SUPERVISED,
]
# 超期 and 已升级 are computed from the obligations at this moment (repo.queue.DERIVED_FILTERS), not stored.
DERIVED_STATUSES = [
    (DERIVED_OVERDUE, "超期（有时限已到期未履行）"),
    (DERIVED_ESCALATED, "已升级（超期已提醒至领导）"),
    (DERIVED_COMMITMENTS, "承诺待兑现（含已办结事件）"),
]
OFFERED_STATUSES = {s.value for s in WORKFLOW_STATUSES} | {value for value, _ in DERIVED_STATUSES}


@dataclass
class ParsedFilters:
    flt: QueueFilter
    params: dict[str, Any]  # normalised, for links and saved views
    warnings: list[str] = field(default_factory=list)

    @property
    def query_string(self) -> str:
        return urlencode(self.params, doseq=True)

    def params_items(self) -> list[tuple[str, str]]:
        return [(k, v) for k, vs in self.params.items() for v in (vs if isinstance(vs, list) else [vs])]


def parse_filters(query: Mapping[str, Any], user: CurrentUser, org: OrgDirectory) -> ParsedFilters:
    """Turn query parameters into a filter; unknown values are dropped with a warning naming them."""
    warnings: list[str] = []

    def many(key: str, allowed: set[str], what: str) -> list[str]:
        values = _getall(query, key)
        bad = [v for v in values if v not in allowed]
        if bad:
            warnings.append(f"筛选条件「{what}」的值 {'、'.join(bad)} 无效，已忽略")
        return [v for v in values if v in allowed]

    levels = many("level", set(OpinionLevel.__members__), "舆情级别")
    statuses = many("status", OFFERED_STATUSES, "状态")
    units = many("unit", set(org.units), "责任单位")[:1]
    regions = many("region", {u.id for u in org.localities()}, "属地")[:1]
    overdue, mine = _flag(query, "overdue"), _flag(query, "mine")
    params: dict[str, Any] = {"level": levels, "unit": units, "region": regions, "status": statuses}
    params.update({"overdue": "1"} if overdue else {}, **({"mine": "1"} if mine else {}))
    flt = QueueFilter(
        opinion_levels=tuple(levels),
        unit=units[0] if units else None,
        region=regions[0] if regions else None,
        statuses=tuple(statuses),
        overdue=overdue,
        mine_units=user.units if mine else frozenset(),
        mine_actor=user.username if mine else None,
        scope=user.scope,
    )
    return ParsedFilters(flt, {k: v for k, v in params.items() if v}, warnings)


def _getall(query: Mapping[str, Any], key: str) -> list[str]:
    getall = getattr(query, "getall", None)
    if getall is not None:
        values = getall(key, [])
    else:
        value = query.get(key, [])
        values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v]


def _flag(query: Mapping[str, Any], key: str) -> bool:
    values = _getall(query, key)
    return bool(values) and values[-1] in ("1", "true", "on")


def _page_number(query: MultiMapping[str]) -> int:
    raw = query.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


@requires(Permission.VIEW_QUEUE)
async def queue(request: web.Request) -> web.Response:
    return await _render_queue(request, request.query)


async def _render_queue(
    request: web.Request, query: MultiMapping[str], *, status: int = 200, view_error: str = "", view_name: str = ""
) -> web.Response:
    svc, user = services(request), user_of(request)
    async with svc.db.read() as conn:
        views = await list_views(conn, user.record.id)
        view = None
        if query.get("view", "").isdigit():
            view = await get_view(conn, user.record.id, int(query["view"]))
        parsed = parse_filters(view.query if view else query, user, svc.org)
        page_no, size = _page_number(query), svc.settings.queue_page_size
        page = await queue_page(conn, parsed.flt, svc.clock.now(), limit=size, offset=(page_no - 1) * size)
        source_alert = await _source_alert(conn, user)
    pages = max(1, -(-page.total // size))
    return render(
        request,
        "queue.html",
        {
            "page": page,
            "parsed": parsed,
            "views": views,
            "active_view": view,
            "page_no": page_no,
            "pages": pages,
            "levels": list(OpinionLevel),
            "statuses": WORKFLOW_STATUSES,
            "derived_statuses": DERIVED_STATUSES,
            "units": sorted(svc.org.units.values(), key=lambda u: (u.kind.value, u.id)),
            "regions": svc.org.localities(),
            "view_error": view_error,
            "view_name": view_name,
            "source_alert": source_alert,
        },
        status=status,
    )


@requires(Permission.VIEW_QUEUE)
async def queue_rows_fragment(request: web.Request) -> web.Response:
    """Rendered rows for changed incidents: {"rows": {id: "<tr>…"}, "gone": [ids no longer shown]}."""
    svc, user = services(request), user_of(request)
    ids = [int(p) for p in request.query.get("ids", "").split(",") if p.strip().isdigit()][:500]
    parsed = parse_filters(request.query, user, svc.org)
    async with svc.db.read() as conn:
        rows = await queue_rows(conn, ids, parsed.flt, svc.clock.now())
        counts = await queue_page(conn, parsed.flt, svc.clock.now(), limit=0)
        source_alert = await _source_alert(conn, user)
    html = {str(row.id): render_row(request, row) for row in rows}
    gone = [i for i in ids if str(i) not in html]
    body: dict[str, Any] = {"rows": html, "gone": gone, "total": counts.total, "level_counts": counts.level_counts}
    if source_alert is not None:
        template = aiohttp_jinja2.get_env(request.app).get_template("_source_alert.html")
        body["source_alert"] = template.render(source_alert=source_alert)
    return web.json_response(
        body,
        headers={"Cache-Control": "no-store"},
    )


# Worst first: a failing source loses items for certain, a silent one probably, a degraded one may.
HEALTH_ORDER = (SourceHealth.FAILING, SourceHealth.SILENT, SourceHealth.DEGRADED)


async def _source_alert(conn: Any, user: CurrentUser) -> dict[str, Any] | None:
    """The banner about sources that are not OK, for those allowed to see sources (else None)."""
    if not user.can(Permission.VIEW_SOURCES):
        return None
    counts, recent = await unhealthy_sources(conn)
    return {"counts": counts, "recent": recent, "total": sum(counts.values()), "order": HEALTH_ORDER}


def render_row(request: web.Request, row: QueueRow) -> str:
    template = aiohttp_jinja2.get_env(request.app).get_template("_queue_row.html")
    return template.render(row=row, now=services(request).clock.now())


@requires(Permission.VIEW_QUEUE)
async def create_view(request: web.Request) -> web.StreamResponse:
    svc, user = services(request), user_of(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()
    parsed = parse_filters(form, user, svc.org)
    if not name or len(name) > 100:
        error = "「视图名称」为必填项" if not name else "「视图名称」不能超过 100 个字符"
        return await _render_queue(
            request, MultiDict(parsed.params_items()), status=400, view_error=error, view_name=name
        )
    now = svc.clock.now()
    async with svc.db.write() as conn:
        view_id = await save_view(conn, user.record.id, name, parsed.params, now)
        await append_audit(
            conn,
            [
                audit_entry(
                    request, "saved_view.save", "saved_view", view_id, after={"name": name, "query": parsed.params}
                )
            ],
        )
    return redirect(f"/queue?view={view_id}")


@requires(Permission.VIEW_QUEUE)
async def remove_view(request: web.Request) -> web.StreamResponse:
    svc, user = services(request), user_of(request)
    view_id = int(request.match_info["view_id"])
    async with svc.db.write() as conn:
        view = await get_view(conn, user.record.id, view_id)
        if view is None:
            raise web.HTTPNotFound()
        await delete_view(conn, user.record.id, view_id)
        await append_audit(
            conn,
            [
                audit_entry(
                    request, "saved_view.delete", "saved_view", view_id, before={"name": view.name, "query": view.query}
                )
            ],
        )
    return redirect("/queue")
