"""Per-request helpers: the current user, the client address, TLS, audit metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from monitor.storage.repo.audit import AuditEntry
from monitor.web.auth.permissions import CurrentUser
from monitor.web.keys import REQUEST_ID, SERVICES, USER
from monitor.web.services import WebServices


def services(request: web.Request) -> WebServices:
    return request.app[SERVICES]


def user_of(request: web.Request) -> CurrentUser:
    """The signed-in user (the auth middleware guarantees one on non-public routes)."""
    user = request.get(USER)
    if user is None:
        raise web.HTTPUnauthorized()
    return user


def maybe_user(request: web.Request) -> CurrentUser | None:
    return request.get(USER)


def client_ip(request: web.Request) -> str | None:
    """The client address; X-Forwarded-For only counts behind a trusted proxy."""
    if services(request).settings.trusted_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        first = forwarded.split(",")[0].strip()
        if first:
            return first[:64]
    return request.remote


def is_secure(request: web.Request) -> bool:
    if request.secure:
        return True
    if services(request).settings.trusted_proxy:
        return request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https"
    return False


def audit_entry(
    request: web.Request,
    action: str,
    target_type: str,
    target_id: Any = None,
    *,
    before: Any = None,
    after: Any = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    user = maybe_user(request)
    return AuditEntry(
        at=at or services(request).clock.now(),
        actor=actor or (user.username if user else "anonymous"),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        before=before,
        after=after,
        ip=client_ip(request),
        request_id=request.get(REQUEST_ID),
    )
