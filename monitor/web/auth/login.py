"""Sign-in and sign-out: per-address rate limit, per-account lock-out, audit of every attempt."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from monitor.clock import to_local
from monitor.storage.repo.audit import append_audit
from monitor.storage.repo.users import UserRecord, get_user_by_name, update_user
from monitor.web.auth.permissions import Permission, public, requires
from monitor.web.auth.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    end_session,
    new_secret_token,
    set_cookie,
    start_session,
    tokens_match,
)
from monitor.web.keys import HASHER, LIMITER, SERVICES
from monitor.web.rendering import render
from monitor.web.requests import audit_entry, client_ip, maybe_user


def safe_next(value: Any) -> str:
    """Only same-site paths: '/queue' yes, '//evil.example' or 'https://…' no."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text or "\n" in text:
        return "/queue"
    return text


def _login_page(
    request: web.Request,
    *,
    status: int = 200,
    error: str = "",
    username: str = "",
    next_url: str = "",
    field: str | None = None,
) -> web.Response:
    token = new_secret_token()
    response = render(
        request,
        "login.html",
        {
            "error": error,
            "username": username,
            "next": safe_next(next_url or request.query.get("next")),
            "csrf_token": token,
            "error_field": field,
        },
        status=status,
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@public
async def login_form(request: web.Request) -> web.StreamResponse:
    if maybe_user(request) is not None:
        raise web.HTTPSeeOther(safe_next(request.query.get("next")))
    return _login_page(request)


@public
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    next_url = safe_next(form.get("next"))
    page = {"username": username, "next_url": next_url}
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), str(form.get("_csrf", ""))):
        return _login_page(request, status=403, error="页面已过期（CSRF 校验失败），请重新输入后提交。", **page)
    address = client_ip(request) or "unknown"
    limiter = request.app[LIMITER]
    wait = limiter.retry_after(address)
    if wait is not None:
        await _audit(request, "login.rate_limited", username or None, after={"address": address})
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        response = _login_page(request, status=429, error=f"登录尝试过于频繁，请 {minutes} 分钟后再试。", **page)
        response.headers["Retry-After"] = str(int(wait.total_seconds()) + 1)
        return response
    limiter.record(address)
    if not username or not password:
        field = "username" if not username else "password"
        return _login_page(request, status=400, error="请填写用户名和密码。", field=field, **page)
    return await _check_password(request, username, password, next_url)


async def _check_password(request: web.Request, username: str, password: str, next_url: str) -> web.StreamResponse:
    services, hasher = request.app[SERVICES], request.app[HASHER]
    async with services.db.read() as conn:
        user = await get_user_by_name(conn, username)
    now = services.clock.now()
    page = {"username": username, "next_url": next_url}
    if user is not None and user.locked_until is not None and user.locked_until > now:
        await hasher.verify(None, password)  # same cost as a real check: no timing oracle
        await _audit(request, "login.locked", user.username, target_id=user.id)
        until = to_local(user.locked_until).strftime("%H:%M")
        return _login_page(
            request, status=403, error=f"账户已锁定，请于 {until}（北京时间）后再试，或联系管理员。", **page
        )
    if not await hasher.verify(user.password_hash if user else None, password):
        message = await _record_failure(request, user, now)
        return _login_page(request, status=401, error=message, field="password", **page)
    assert user is not None
    if user.disabled:
        await _audit(request, "login.disabled", user.username, target_id=user.id)
        return _login_page(request, status=403, error="该账户已停用，请联系管理员。", **page)
    return await _succeed(request, user, password, next_url, now)


async def _record_failure(request: web.Request, user: UserRecord | None, now: datetime) -> str:
    settings = request.app[SERVICES].settings
    if user is None:
        await _audit(request, "login.failure", None, after={"reason": "unknown user"})
        return "用户名或密码错误。"
    failures = user.failed_logins + 1
    locked_until = (
        now + timedelta(minutes=settings.login_lockout_min) if failures >= settings.login_max_failures else None
    )
    changes = {"failed_logins": 0 if locked_until else failures, "locked_until": locked_until}
    async with request.app[SERVICES].db.write() as conn:
        await update_user(conn, user.id, changes, now)
        await append_audit(
            conn,
            [
                audit_entry(
                    request,
                    "login.failure",
                    "user",
                    user.id,
                    actor=user.username,
                    before={"failed_logins": user.failed_logins},
                    after={
                        "failed_logins": failures,
                        "locked_until": locked_until.isoformat() if locked_until else None,
                    },
                )
            ],
        )
    if locked_until:
        return f"连续 {failures} 次密码错误，账户已锁定 {settings.login_lockout_min:g} 分钟。"
    return f"用户名或密码错误（再错 {settings.login_max_failures - failures} 次将锁定账户）。"


async def _succeed(request: web.Request, user: UserRecord, password: str, next_url: str, now: datetime) -> web.Response:
    services, hasher = request.app[SERVICES], request.app[HASHER]
    changes: dict[str, Any] = {}
    if user.failed_logins or user.locked_until:
        changes.update(failed_logins=0, locked_until=None)
    if hasher.needs_rehash(user.password_hash):
        changes["password_hash"] = hasher.hash(password)
    cookie_value, session = await start_session(request, user)
    async with services.db.write() as conn:
        if changes:
            await update_user(conn, user.id, changes, now)
        await append_audit(
            conn,
            [
                audit_entry(
                    request,
                    "login.success",
                    "user",
                    user.id,
                    actor=user.username,
                    before={"failed_logins": user.failed_logins},
                    after={"failed_logins": 0},
                )
            ],
        )
    response = redirect(next_url)
    set_cookie(request, response, SESSION_COOKIE, cookie_value, int((session.expires_at - now).total_seconds()))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def _audit(
    request: web.Request, action: str, actor: str | None, *, target_id: Any = None, after: Any = None
) -> None:
    async with request.app[SERVICES].db.write() as conn:
        await append_audit(
            conn, [audit_entry(request, action, "user", target_id, actor=actor or "anonymous", after=after)]
        )


@requires(Permission.ACCOUNT)
async def logout(request: web.Request) -> web.StreamResponse:
    user = maybe_user(request)
    await end_session(request)
    if user is not None:
        await _audit(request, "logout", user.username, target_id=user.record.id)
    response = redirect("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def redirect(location: str) -> web.Response:
    """A 303 See Other that can carry cookies."""
    return web.Response(status=303, headers={"Location": location})
