"""Session cookies and API tokens.

The cookie carries 256 random bits; the database stores only HMAC-SHA256(session_secret, value),
so a copy of the database alone cannot be replayed as a login. API tokens are random too and
stored as a SHA-256 digest. CSRF tokens are per session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from aiohttp import web

from monitor.storage.repo.sessions import (
    SessionRecord,
    create_session,
    delete_session,
    load_session,
    purge_expired_sessions,
    touch_session,
)
from monitor.storage.repo.users import UserRecord, user_by_token_hash
from monitor.web.keys import SERVICES, SESSION_SECRET
from monitor.web.requests import client_ip, is_secure

SESSION_COOKIE = "monitor_session"
LOGIN_CSRF_COOKIE = "monitor_login_csrf"
TOKEN_PREFIX = "mtk_"
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most this often


def new_secret_token() -> str:
    return secrets.token_urlsafe(32)


def session_id_hash(secret: bytes, cookie_value: str) -> str:
    return hmac.new(secret, cookie_value.encode(), hashlib.sha256).hexdigest()


def api_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token() -> tuple[str, str]:
    """A fresh API token and the digest to store."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, api_token_hash(token)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))


async def start_session(request: web.Request, user: UserRecord) -> tuple[str, SessionRecord]:
    services = request.app[SERVICES]
    now = services.clock.now()
    cookie_value = new_secret_token()
    record = SessionRecord(
        id_hash=session_id_hash(request.app[SESSION_SECRET], cookie_value),
        user_id=user.id,
        csrf_token=new_secret_token(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=services.settings.session_max_age_h),
    )
    async with services.db.write() as conn:
        await purge_expired_sessions(conn, now)  # logins are rare: a good moment to forget old sessions
        await create_session(conn, record, ip=client_ip(request), user_agent=request.headers.get("User-Agent"))
    return cookie_value, record


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="Lax", secure=is_secure(request)
    )


async def resolve_session(request: web.Request) -> tuple[SessionRecord, UserRecord] | None:
    """The live session of the request's cookie (expired, idle or disabled ones end here)."""
    cookie_value = request.cookies.get(SESSION_COOKIE)
    if not cookie_value:
        return None
    services = request.app[SERVICES]
    id_hash = session_id_hash(request.app[SESSION_SECRET], cookie_value)
    async with services.db.read() as conn:
        found = await load_session(conn, id_hash)
    if found is None:
        return None
    record, user = found
    now = services.clock.now()
    idle = timedelta(minutes=services.settings.session_idle_min)
    if now >= record.expires_at or now - record.last_seen_at >= idle or user.disabled:
        async with services.db.write() as conn:
            await delete_session(conn, id_hash)
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        async with services.db.write() as conn:
            await touch_session(conn, id_hash, now)
    return record, user


async def end_session(request: web.Request) -> None:
    cookie_value = request.cookies.get(SESSION_COOKIE)
    if cookie_value:
        services = request.app[SERVICES]
        async with services.db.write() as conn:
            await delete_session(conn, session_id_hash(request.app[SESSION_SECRET], cookie_value))


async def resolve_token(request: web.Request) -> UserRecord | None:
    """The user of an `Authorization: Bearer <token>` header (disabled users get nothing)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    async with request.app[SERVICES].db.read() as conn:
        user = await user_by_token_hash(conn, api_token_hash(token.strip()))
    return None if user is None or user.disabled else user
