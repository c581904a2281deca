"""Middlewares: error pages (HTML or JSON), authentication with default-deny permissions, CSRF,
request ids and security headers."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import quote

from aiohttp import web

from monitor.web.auth.permissions import CurrentUser, current_user, is_public, required_permission
from monitor.web.auth.sessions import resolve_session, resolve_token, tokens_match
from monitor.web.keys import REQUEST_ID, SERVICES, USER
from monitor.web.rendering import render
from monitor.web.requests import is_secure

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "_csrf"
CSRF_HEADER = "X-CSRF-Token"

ERROR_TEXT = {
    400: "请求有误",
    401: "需要登录",
    403: "没有权限执行此操作",
    404: "页面不存在，或您无权查看",
    405: "不支持的请求方式",
    413: "上传的内容过大",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，已记录，请稍后重试",
    501: "该功能尚未开放",
}
# Reasons that need their own words: a stale page is not a missing permission, and a form sent
# after the session ended must say how to keep what was typed.
CSRF_REASON = "CSRF token missing or invalid"
EXPIRED_REASON = "Session expired"
REASON_TEXT = {
    (403, CSRF_REASON): "页面已过期（安全校验未通过），本次提交未执行。请刷新页面后重新提交；"
    "刷新前可点浏览器的“后退”复制已填写的内容。",
    (401, EXPIRED_REASON): "登录已过期，本次提交未执行。请重新登录后回到原页面再提交；"
    "登录前可点浏览器的“后退”复制已填写的内容。",
}


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"message": message, "field": field}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[REQUEST_ID] = uuid.uuid4().hex
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return _error_response(request, exc.status, exc.reason, exc.headers)
    except Exception:
        log.exception("unhandled error in %s %s (request %s)", request.method, request.path, request[REQUEST_ID])
        return _error_response(request, 500, "Internal Server Error", {})


def _error_response(request: web.Request, status: int, reason: str, carry: Mapping[str, str]) -> web.Response:
    message = REASON_TEXT.get((status, reason)) or ERROR_TEXT.get(status, reason)
    if is_api(request):
        response = json_error(status, message)
    else:
        response = render(request, "error.html", {"status": status, "message": message}, status=status)
    for key in ("Allow", "Retry-After", "WWW-Authenticate"):
        if key in carry:
            response.headers[key] = carry[key]
    return response


async def _authenticate(request: web.Request) -> CurrentUser | None:
    services = request.app[SERVICES]
    if request.headers.get("Authorization"):
        record = await resolve_token(request)
        return current_user(record, services.org, via="token", csrf_token=None) if record else None
    found = await resolve_session(request)
    if found is None:
        return None
    session, record = found
    return current_user(record, services.org, via="session", csrf_token=session.csrf_token)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    match = request.match_info
    if match.http_exception is not None:
        raise match.http_exception
    route_handler = match.handler
    resource = match.route.resource
    if is_public(route_handler) or isinstance(resource, web.StaticResource):
        request[USER] = await _authenticate(request) if not isinstance(resource, web.StaticResource) else None
        return await handler(request)
    permission = required_permission(route_handler)
    user = await _authenticate(request)
    request[USER] = user
    if user is None:
        return _unauthenticated(request)
    if permission is None or not user.can(permission):
        log.warning("denied %s %s to %s (%s)", request.method, request.path, user.username, user.role.value)
        raise web.HTTPForbidden()
    if request.method in UNSAFE_METHODS and user.via == "session":
        await _check_csrf(request, user)
    return await handler(request)


def _unauthenticated(request: web.Request) -> web.StreamResponse:
    if is_api(request):
        response = json_error(401, "需要 API 令牌：请在请求头中提供 Authorization: Bearer <令牌>")
        response.headers["WWW-Authenticate"] = 'Bearer realm="monitor"'
        return response
    if request.path == "/events":
        raise web.HTTPUnauthorized()
    if request.method != "GET":
        raise web.HTTPUnauthorized(reason=EXPIRED_REASON)
    raise web.HTTPSeeOther("/login?next=" + quote(request.path_qs, safe="/?=&"))


async def _check_csrf(request: web.Request, user: CurrentUser) -> None:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(user.csrf_token, given):
        log.warning("CSRF check failed for %s %s by %s", request.method, request.path, user.username)
        if is_api(request):
            raise web.HTTPForbidden(
                text=json.dumps({"message": "CSRF 校验失败：请求头缺少有效的 X-CSRF-Token", "field": CSRF_HEADER}),
                content_type="application/json",
            )
        raise web.HTTPForbidden(reason=CSRF_REASON)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Added to every response, errors and static files included."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if REQUEST_ID in request:
        headers.setdefault("X-Request-Id", request[REQUEST_ID])
    if is_secure(request):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
