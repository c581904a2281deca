"""JSON endpoints. Errors are {"message": zh-CN text, "field": the offending field or null}."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from monitor.domain import IncidentEvent
from monitor.storage.repo.manual import item_with_source
from monitor.storage.repo.queue import QueueRow, obligations_due, queue_page
from monitor.storage.repo.sources import row_media_type, source_rows
from monitor.web.actions.dispatch import ActionRejected, ActionResult, perform
from monitor.web.actions.forms import FormContext, choices, validate
from monitor.web.actions.manual import open_incident
from monitor.web.actions.specs import ACTIONS, OPEN_FROM_ITEM, ActionSpec
from monitor.web.auth.permissions import Permission, requires
from monitor.web.incidents import audit_context, form_context, load_incident_page
from monitor.web.leader import horizon_hours
from monitor.web.middleware import json_error
from monitor.web.queue import parse_filters
from monitor.web.requests import services, user_of

MAX_LIMIT = 500


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set | tuple):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    return getattr(value, "value", str(value))


def _row_json(row: QueueRow) -> dict[str, Any]:
    data = asdict(row)
    data["trend"] = {"recent": row.trend[0], "previous": row.trend[1]}
    return data


@requires(Permission.ACCOUNT)
async def me(request: web.Request) -> web.Response:
    user = user_of(request)
    return _json(
        {
            "username": user.username,
            "display_name": user.record.display_name,
            "role": user.role.value,
            "units": sorted(user.units),
            "permissions": sorted(p.value for p in user.permissions),
        }
    )


@requires(Permission.VIEW_QUEUE)
async def list_incidents(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    parsed = parse_filters(request.query, user, svc.org)
    page = _positive(request, "page", 1)
    limit = min(_positive(request, "limit", svc.settings.queue_page_size), MAX_LIMIT)
    async with svc.db.read() as conn:
        result = await queue_page(conn, parsed.flt, svc.clock.now(), limit=limit, offset=(page - 1) * limit)
    return _json(
        {
            "total": result.total,
            "page": page,
            "limit": limit,
            "level_counts": result.level_counts,
            "warnings": parsed.warnings,
            "incidents": [_row_json(r) for r in result.rows],
        }
    )


def _positive(request: web.Request, key: str, default: int) -> int:
    raw = request.query.get(key)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise web.HTTPBadRequest(
            text=json.dumps({"message": f"参数 {key} 应为正整数", "field": key}), content_type="application/json"
        )
    return int(raw)


@requires(Permission.VIEW_QUEUE)
async def get_incident(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    raw = request.match_info["incident_id"]
    if not raw.isdigit():
        return json_error(404, "事件不存在，或您无权查看", "incident_id")
    try:
        page = await load_incident_page(svc, user, int(raw))
    except web.HTTPNotFound:
        return json_error(404, "事件不存在，或您无权查看", "incident_id")
    incident = {**asdict(page.incident), "next_due_at": page.next_due_at}
    ctx = form_context(svc, page, user)
    actions = [
        {
            "slug": spec.slug,
            "command": spec.command,
            "label": spec.label,
            "choices": {f.name: choices(f.choices, ctx) for f in spec.fields if f.choices},
        }
        for spec in ACTIONS
        if user.can(spec.permission)
    ]
    return _json(
        {
            "incident": incident,
            "items": [{k: v for k, v in asdict(i).items() if k != "text"} for i in page.items],
            "obligations": [asdict(o) for o in page.obligations],
            "timeline": [asdict(e) for e in page.events],
            "commitments": [{**asdict(r), "due": r.due.isoformat(), "due_at": r.due_at} for r in page.commitments],
            "actions": actions,
            "evaluation": asdict(page.evaluation) if page.evaluation else None,  # the latest 效果评估
            "archived": _archived_json(page.archived),
        }
    )


def _archived_json(event: IncidentEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return {"at": event.at, "by": event.actor, "reason": event.payload.get("reason") or ""}


def action_handler(spec: ActionSpec) -> Callable[[web.Request], Awaitable[web.Response]]:
    """POST /api/incidents/{id}/{slug}: the same validation and dispatcher as the web form."""

    @requires(Permission.VIEW_QUEUE)
    async def handle(request: web.Request) -> web.Response:
        svc, user = services(request), user_of(request)
        if not user.can(spec.permission):
            return json_error(403, f"您的角色（{user.role.label}）不能执行「{spec.label}」")
        body = await _body(request, spec)
        raw = request.match_info["incident_id"]
        try:
            page = await load_incident_page(svc, user, int(raw) if raw.isdigit() else -1)
        except web.HTTPNotFound:
            return json_error(404, "事件不存在，或您无权查看", "incident_id")
        result = validate(spec, body, form_context(svc, page, user))
        if result.command is None:
            field, message = next(iter(result.errors.items()))
            return _json({"message": message, "field": field, "errors": result.errors}, status=400)
        try:
            outcome = await perform(svc, user, page.incident.id or 0, result.command, audit_context(request, "api"))
        except ActionRejected as exc:
            return json_error(409, exc.message, exc.field)
        return _json(_outcome_json(outcome), status=201)

    handle.__name__ = f"api_{spec.slug.replace('-', '_')}"
    return handle


def _outcome_json(outcome: ActionResult) -> dict[str, Any]:
    return {
        "message": outcome.message,
        "incident_id": outcome.incident_id,
        "generation": outcome.generation,
        "events": list(outcome.events),
        "obligations": [asdict(o) for o in outcome.obligations],
    }


async def _body(request: web.Request, spec: ActionSpec) -> Mapping[str, Any]:
    """A JSON object; actions with a file field (登记回应) also take multipart/form-data."""
    takes_files = any(f.kind == "file" for f in spec.fields)
    if takes_files and request.content_type == "multipart/form-data":
        return await request.post()
    if request.content_type != "application/json":
        accepted = "application/json 或 multipart/form-data" if takes_files else "application/json"
        raise web.HTTPUnsupportedMediaType(
            text=json.dumps({"message": f"请求体应为 JSON（Content-Type: {accepted}）", "field": None}),
            content_type="application/json",
        )
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"message": "请求体应为 JSON 对象", "field": None}), content_type="application/json"
        )
    return body


@requires(Permission.VIEW_ITEMS)
async def open_from_item(request: web.Request) -> web.Response:
    """POST /api/items/{id}/open: 从稿件手动立案, with the same validation and engine as the item page."""
    svc, user, spec = services(request), user_of(request), OPEN_FROM_ITEM
    if not user.can(spec.permission):
        return json_error(403, f"您的角色（{user.role.label}）不能执行「{spec.label}」")
    body = await _body(request, spec)
    raw = request.match_info["item_id"]
    async with svc.db.read() as conn:
        item = await item_with_source(conn, int(raw)) if raw.isdigit() else None
    if item is None:
        return json_error(404, "稿件不存在", "item_id")
    result = validate(spec, body, FormContext(incident_id=0, org=svc.org, now=svc.clock.now(), actor=user.username))
    if result.command is None:
        field, message = next(iter(result.errors.items()))
        return _json({"message": message, "field": field, "errors": result.errors}, status=400)
    try:
        outcome = await open_incident(svc, user, item.id, result.command, audit_context(request, "api"))
    except ActionRejected as exc:
        return json_error(409, exc.message, exc.field)
    return _json(_outcome_json(outcome), status=201)


@requires(Permission.VIEW_SOURCES)
async def list_sources(request: web.Request) -> web.Response:
    async with services(request).db.read() as conn:
        rows = await source_rows(conn)
    keys = (
        "id",
        "name",
        "url",
        "kind",
        "media_tier",
        "enabled",
        "health",
        "last_success_at",
        "last_error",
        "next_poll_at",
        "consecutive_failures",
    )
    return _json({"sources": [{k: getattr(r, k) for k in keys} | _media_type(r) for r in rows]})


def _media_type(row: Any) -> dict[str, Any]:
    guess = row_media_type(row)
    return {"media_type": guess.media_type.value, "media_type_inferred": guess.inferred}


@requires(Permission.LEADER_VIEW)
async def leader_due(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    hours, warning = horizon_hours(request, svc.settings.leader_horizon_h)
    if warning:
        return json_error(400, warning, "hours")
    async with svc.db.read() as conn:
        due = await obligations_due(conn, user.leader_units, svc.clock.now(), timedelta(hours=hours))
    return _json({"hours": hours, "obligations": [asdict(d) for d in due]})


API_ACTIONS = [(spec, action_handler(spec)) for spec in ACTIONS]
