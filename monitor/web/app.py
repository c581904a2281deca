"""Web application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from monitor.clock import Clock, to_local
from monitor.config import Settings
from monitor.domain import EventLevel, EventType, IncidentStatus, MediaTier, OpinionLevel, OrgDirectory
from monitor.storage.db import Database
from monitor.storage.repo.incidents import list_incidents
from monitor.storage.repo.items import count_items, recent_items

TEMPLATES = Path(__file__).resolve().parent / "templates"

DB_KEY = web.AppKey("db", Database)
CLOCK_KEY = web.AppKey("clock", Clock)
SETTINGS_KEY = web.AppKey("settings", Settings)
ORG_KEY = web.AppKey("org", OrgDirectory)


def create_web_app(db: Database, clock: Clock, settings: Settings, org: OrgDirectory) -> web.Application:
    app = web.Application()
    app[DB_KEY], app[CLOCK_KEY], app[SETTINGS_KEY], app[ORG_KEY] = db, clock, settings, org
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    env.filters["local"] = _local_time
    env.filters["label"] = _label
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    return app


def _local_time(value: Any) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else "—"


_ENUMS: dict[str, Any] = {
    "event_level": EventLevel,
    "opinion_level": OpinionLevel,
    "event_type": EventType,
    "status": IncidentStatus,
    "media_tier": MediaTier,
}


def _label(value: Any, kind: str) -> str:
    if value in (None, ""):
        return "—"
    try:
        return str(_ENUMS[kind](value).label)
    except (KeyError, ValueError):
        return str(value)


@aiohttp_jinja2.template("index.html")
async def index(request: web.Request) -> dict[str, Any]:
    db, org = request.app[DB_KEY], request.app[ORG_KEY]
    async with db.read() as conn:
        incidents = await list_incidents(conn, open_only=True, limit=200)
        items = await recent_items(conn, limit=300)
        total = await count_items(conn)
    return {"incidents": incidents, "items": items, "total": total, "org": org, "now": request.app[CLOCK_KEY].now()}


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
