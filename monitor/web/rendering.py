"""Jinja2 templates: filters, the navigation, and `render()` which adds what every page needs."""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from monitor.clock import to_local
from monitor.domain import OpinionLevel, OrgDirectory
from monitor.domain.clustering import held_note
from monitor.domain.playbooks import Playbook
from monitor.web.auth.permissions import CurrentUser, Permission
from monitor.web.fetch_errors import explain_error, warnings_text
from monitor.web.flash import clear_flash, read_flash
from monitor.web.keys import SERVICES, USER
from monitor.web.labels import label

TEMPLATES = Path(__file__).resolve().parent / "templates"

NAV: tuple[tuple[str, str, Permission], ...] = (
    ("/queue", "事件队列", Permission.VIEW_QUEUE),
    ("/leader", "领导视图", Permission.LEADER_VIEW),
    ("/items", "采集稿件", Permission.VIEW_ITEMS),
    ("/sources", "信息源", Permission.VIEW_SOURCES),
    ("/reports", "报告", Permission.VIEW_REPORTS),
    ("/org", "组织与人员", Permission.ADMIN_ORG),
)


def setup_templates(app: web.Application, org: OrgDirectory, playbook: Playbook) -> None:
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["local"] = local_time
    env.filters["iso"] = iso_time
    env.filters["label"] = label
    env.filters["level_class"] = level_class
    env.filters["duration"] = duration_text
    env.filters["fetch_error"] = explain_error
    env.filters["item_warnings"] = warnings_text
    env.filters["held_note"] = held_note
    env.globals["unit_name"] = lambda unit_id: unit_name(org, unit_id)
    env.globals["rule_title"] = lambda rule_id: rule_title(playbook, rule_id)
    env.globals["level_color"] = level_color
    env.globals["countdown"] = countdown
    env.globals["static"] = static_url


STATIC = Path(__file__).resolve().parent / "static"


@functools.cache
def static_url(name: str) -> str:
    """/static/NAME?v=<content hash>: browsers cache the file until it changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(value).strftime(fmt) if value else "—"


def iso_time(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def level_class(level: str | None) -> str:
    return f"lvl-{level}" if level in OpinionLevel.__members__ else "lvl-none"


def level_color(level: str | None) -> str:
    return OpinionLevel(level).color if level and level in OpinionLevel.__members__ else "—"


def unit_name(org: OrgDirectory, unit_id: str | None) -> str:
    if not unit_id:
        return "—"
    unit = org.units.get(unit_id)
    return unit.name if unit else unit_id


def rule_title(playbook: Playbook, rule_id: str | None) -> str:
    rule = playbook.rule(rule_id) if rule_id else None
    return rule.title if rule else ""


def duration_text(value: timedelta) -> str:
    minutes = int(abs(value.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天"] if days else []
    parts += [f"{hours}小时"] if hours else []
    return "".join([*parts, f"{mins}分"])


def countdown(due: datetime | None, now: datetime) -> tuple[str, str]:
    """Server-rendered countdown text and CSS class (static/app.js keeps it ticking)."""
    if due is None:
        return "无时限", "cd-none"
    left = due - now
    if left.total_seconds() <= 0:
        return f"已超期 {duration_text(left)}", "cd-overdue"
    return f"剩余 {duration_text(left)}", "cd-soon" if left <= timedelta(hours=1) else "cd-ok"


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    """Render a page with the signed-in user, CSRF token, navigation and the server time."""
    services = request.app[SERVICES]
    user: CurrentUser | None = request.get(USER)
    flash = read_flash(request, user.username if user else None)
    base = {
        "user": user,
        "csrf_token": (user.csrf_token if user else None) or context.get("csrf_token") or "",
        "nav": [(href, text) for href, text, perm in NAV if user and user.can(perm)],
        "path": request.path,
        "now": services.clock.now(),
        "city": services.org.city,
        "Permission": Permission,
        "flash": flash,
    }
    response = aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)
    response.headers["Cache-Control"] = "no-store"
    clear_flash(request, response)
    return response
