"""Sources: health (正常/降级/失败/静默), last success, last error, next poll; add and edit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from monitor.collectors.sources import check_source
from monitor.domain import MediaTier, MediaType, OrgDirectory, Source, SourceKind
from monitor.storage.repo.audit import append_audit
from monitor.storage.repo.sources import (
    add_sources,
    get_source_row,
    latest_health_events,
    retag_source_items,
    row_media_type,
    source_id_for_url,
    source_rows,
    update_source,
)
from monitor.web.auth.login import redirect
from monitor.web.auth.permissions import Permission, requires
from monitor.web.labels import SOURCE_KIND_LABELS
from monitor.web.rendering import render
from monitor.web.requests import audit_entry, services, user_of

EDITABLE = (
    "name",
    "url",
    "kind",
    "media_tier",
    "media_type",
    "region_hint",
    "poll_min_s",
    "poll_max_s",
    "expected_per_day",
    "credentials_ref",
    "enabled",
    "options",
)


@requires(Permission.VIEW_SOURCES)
async def sources_page(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as conn:
        rows = await source_rows(conn)
        health_events = await latest_health_events(conn, [r.id for r in rows])
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.health] = counts.get(row.health, 0) + 1
    return render(
        request,
        "sources.html",
        {
            "rows": rows,
            "health_events": health_events,
            "media_types": {row.id: row_media_type(row) for row in rows},
            "counts": counts,
            "can_edit": user_of(request).can(Permission.EDIT_SOURCES),
        },
    )


def _form_context(
    org: OrgDirectory, values: Mapping[str, Any], errors: Mapping[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "tiers": list(MediaTier),
        "media_types": list(MediaType),
        "kinds": [(k.value, SOURCE_KIND_LABELS[k]) for k in SourceKind],
        "regions": org.localities(),
        "guess": None,
        **extra,
    }


def _row_values(row: Any) -> dict[str, Any]:
    values = {key: getattr(row, key) for key in EDITABLE}
    values["options"] = json.dumps(row.options or {}, ensure_ascii=False)
    values["media_type"] = row.media_type or ""
    return values


@requires(Permission.EDIT_SOURCES)
async def new_source_form(request: web.Request) -> web.Response:
    defaults = {
        "kind": "feed",
        "media_tier": "city",
        "media_type": "",
        "poll_min_s": 300,
        "poll_max_s": 3600,
        "enabled": True,
        "options": "{}",
    }
    return render(request, "source_form.html", _form_context(services(request).org, defaults, {}, source_id=None))


@requires(Permission.EDIT_SOURCES)
async def edit_source_form(request: web.Request) -> web.Response:
    svc = services(request)
    async with svc.db.read() as conn:
        row = await get_source_row(conn, _source_id(request))
    if row is None:
        raise web.HTTPNotFound()
    context = _form_context(svc.org, _row_values(row), {}, source_id=row.id, guess=row_media_type(row))
    return render(request, "source_form.html", context)


def _source_id(request: web.Request) -> int:
    raw = request.match_info["source_id"]
    if not raw.isdigit():
        raise web.HTTPNotFound()
    return int(raw)


@requires(Permission.EDIT_SOURCES)
async def save_source(request: web.Request) -> web.StreamResponse:
    """Create (POST /sources/new) or update (POST /sources/{id}/edit) a source."""
    svc = services(request)
    source_id = _source_id(request) if "source_id" in request.match_info else None
    form = await request.post()
    raw: dict[str, Any] = {key: str(form.get(key, "")).strip() for key in EDITABLE}
    raw["enabled"] = form.get("enabled") in ("on", "1", "true")
    clean, errors = validate_source(raw, svc.org)
    async with svc.db.write() as conn:
        before = await get_source_row(conn, source_id) if source_id is not None else None
        if source_id is not None and before is None:
            raise web.HTTPNotFound()
        other = await source_id_for_url(conn, str(clean.get("url", raw["url"])))
        if other is not None and other != source_id:
            errors.setdefault("url", f"「地址」已被信息源 #{other} 登记，同一地址只能登记一次")
        if errors:
            return render(
                request, "source_form.html", _form_context(svc.org, raw, errors, source_id=source_id), status=400
            )
        source_id = await _write(conn, source_id, clean, svc.clock.now())
        await append_audit(
            conn,
            [
                audit_entry(
                    request,
                    "source.update" if before is not None else "source.create",
                    "source",
                    source_id,
                    before=_row_values(before) if before is not None else None,
                    after=_audit_values(clean),
                )
            ],
        )
    return redirect(f"/sources?saved={source_id}")


async def _write(conn: Any, source_id: int | None, clean: dict[str, Any], now: Any) -> int:
    if source_id is None:
        ids = await add_sources(conn, [Source(**clean)], now)
        return ids[clean["url"]]
    media_type = clean["media_type"].value if clean["media_type"] else None
    changes = {**clean, "kind": clean["kind"].value, "media_tier": clean["media_tier"].value, "media_type": media_type}
    await update_source(conn, source_id, changes, now)
    # a corrected type is a fact about the channel, so the items already read from it carry it too
    await retag_source_items(conn, source_id, Source(**clean).media_type_guess.media_type)
    return source_id


def _audit_values(clean: dict[str, Any]) -> dict[str, Any]:
    values = {k: getattr(v, "value", v) for k, v in clean.items()}
    values["media_type"] = values.get("media_type") or ""
    values["options"] = json.dumps(clean.get("options") or {}, ensure_ascii=False)
    return values


def validate_source(raw: Mapping[str, Any], org: OrgDirectory) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the form with the collectors' own rules (the CLI's); zh-CN errors keyed by field."""
    source, problems = check_source(raw, regions={u.id for u in org.localities()})
    if source is None:
        errors: dict[str, str] = {}
        for problem in problems:
            errors.setdefault(problem.field, problem.message_zh)
        return {}, errors
    return {key: getattr(source, key) for key in EDITABLE}, {}
