"""Collected items (稿件), newest first: what the collectors brought in, classified or not; and one
item's page, where a duty officer corrects the classifier's incident decision: 立案 (open an incident
from it) or 并入已有事件 (add it to one)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.storage.repo.incidents import get_incident
from monitor.storage.repo.items import count_items, recent_items
from monitor.storage.repo.manual import item_incidents, item_with_source
from monitor.web.actions.dispatch import ActionRejected, perform
from monitor.web.actions.forms import FormContext, FormResult, ValidCommand, choices, validate
from monitor.web.actions.manual import open_incident
from monitor.web.actions.specs import BY_COMMAND, ITEM_ACTIONS, OPEN_FROM_ITEM, ActionSpec
from monitor.web.auth.login import redirect
from monitor.web.auth.permissions import CurrentUser, Permission, requires
from monitor.web.flash import set_flash
from monitor.web.incidents import audit_context, incident_units
from monitor.web.rendering import render
from monitor.web.requests import services, user_of
from monitor.web.services import WebServices

_ITEM_SPECS = {spec.slug: spec for spec in ITEM_ACTIONS}


@requires(Permission.VIEW_ITEMS)
async def items_page(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as conn:
        items = await recent_items(conn, limit=300)
        total = await count_items(conn)
        memberships = await item_incidents(conn, [i.id for i in items])
    return render(request, "items.html", {"items": items, "total": total, "memberships": memberships})


def _item_id(request: web.Request) -> int:
    raw = request.match_info["item_id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


async def _load(svc: WebServices, item_id: int) -> tuple[Any, Any]:
    async with svc.db.read() as conn:
        item = await item_with_source(conn, item_id)
        if item is None:
            raise web.HTTPNotFound()
        membership = (await item_incidents(conn, [item_id])).get(item_id)
    return item, membership


def _context(svc: WebServices, user: CurrentUser) -> FormContext:
    return FormContext(incident_id=0, org=svc.org, now=svc.clock.now(), actor=user.username)


def _render(
    request: web.Request,
    loaded: tuple[Any, Any],
    *,
    status: int = 200,
    failed: tuple[ActionSpec, FormResult] | None = None,
    error: str = "",
) -> web.Response:
    svc, user = services(request), user_of(request)
    ctx = _context(svc, user)
    forms = []
    for spec in ITEM_ACTIONS if user.can(Permission.ACT_TRIAGE) and loaded[1] is None else ():
        result = failed[1] if failed and failed[0] is spec else None
        forms.append(
            {
                "spec": spec,
                "raw": result.raw if result else {},
                "errors": result.errors if result else {},
                "choices": {f.name: choices(f.choices, ctx) for f in spec.fields if f.choices},
            }
        )
    item, membership = loaded
    context = {"item": item, "membership": membership, "forms": forms, "open_form": failed[0].slug if failed else ""}
    return render(request, "item.html", {**context, "error": error}, status=status)


@requires(Permission.VIEW_ITEMS)
async def item_view(request: web.Request) -> web.Response:
    return _render(request, await _load(services(request), _item_id(request)))


@requires(Permission.VIEW_ITEMS)
async def item_action(request: web.Request) -> web.StreamResponse:
    """POST 立案 or 并入已有事件; errors re-render the item page with the input kept and the reason shown."""
    svc, user = services(request), user_of(request)
    spec = _ITEM_SPECS.get(request.match_info["slug"])
    if spec is None:
        raise web.HTTPNotFound()
    if not user.can(spec.permission):
        raise web.HTTPForbidden()
    item_id = _item_id(request)
    loaded = await _load(svc, item_id)
    result = validate(spec, await request.post(), _context(svc, user))
    if result.command is None:
        return _render(request, loaded, status=400, failed=(spec, result))
    try:
        if spec is OPEN_FROM_ITEM:
            outcome = await open_incident(svc, user, item_id, result.command, audit_context(request))
        else:
            outcome = await _attach(svc, user, item_id, result.command, request)
    except ActionRejected as exc:
        return _render(request, loaded, status=409, failed=(spec, result), error=exc.message)
    response = redirect(f"/incidents/{outcome.incident_id}#timeline")
    set_flash(request, response, user.username, outcome.message)
    return response


async def _attach(
    svc: WebServices, user: CurrentUser, item_id: int, command: ValidCommand, request: web.Request
) -> Any:
    """并入已有事件 takes the incident actions' door (AttachItem on the chosen incident)."""
    into = int(command.values["into_id"])
    async with svc.db.read() as conn:
        target = await get_incident(conn, into)
    if target is None or not user.sees(incident_units(target)):
        raise ActionRejected(f"事件 #{into} 不存在，请核对事件编号。")
    values = {"item_id": item_id, "reason": command.values["reason"]}
    return await perform(svc, user, into, ValidCommand(BY_COMMAND["AttachItem"], values), audit_context(request))
