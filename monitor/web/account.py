"""The signed-in user's account: change password, create or revoke the API token."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from monitor.storage.repo.audit import append_audit
from monitor.storage.repo.sessions import delete_user_sessions
from monitor.storage.repo.users import get_user, update_user
from monitor.web.auth.passwords import password_problem
from monitor.web.auth.permissions import Permission, requires
from monitor.web.auth.sessions import new_api_token
from monitor.web.keys import HASHER
from monitor.web.rendering import render
from monitor.web.requests import audit_entry, services, user_of


def _page(request: web.Request, *, status: int = 200, **context: Any) -> web.Response:
    defaults: dict[str, Any] = {"errors": {}, "notice": "", "new_token": None}
    return render(request, "account.html", {**defaults, **context}, status=status)


@requires(Permission.ACCOUNT)
async def account_page(request: web.Request) -> web.Response:
    notice = "密码已修改，其他设备上的登录已退出。" if request.query.get("done") == "password" else ""
    return _page(request, notice=notice)


@requires(Permission.ACCOUNT)
async def change_password(request: web.Request) -> web.StreamResponse:
    svc, user, hasher = services(request), user_of(request), request.app[HASHER]
    form = await request.post()
    current, new, repeat = (str(form.get(k, "")) for k in ("current", "new", "repeat"))
    errors: dict[str, str] = {}
    if not await hasher.verify(user.record.password_hash, current):
        errors["current"] = "「当前密码」不正确"
    problem = password_problem(new, user.username)
    if problem:
        errors["new"] = f"「新密码」{problem}"
    elif new != repeat:
        errors["repeat"] = "「确认新密码」与新密码不一致"
    if errors:
        return _page(request, status=400, errors=errors)
    now = svc.clock.now()
    async with svc.db.write() as conn:
        await update_user(conn, user.record.id, {"password_hash": hasher.hash(new)}, now)
        await delete_user_sessions(conn, user.record.id)
        await append_audit(
            conn, [audit_entry(request, "user.password", "user", user.record.id, after={"sessions_ended": True})]
        )
    return web.Response(status=303, headers={"Location": "/login?next=/account?done=password"})


@requires(Permission.ACCOUNT)
async def create_token(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    token, digest = new_api_token()
    async with svc.db.write() as conn:
        before = await get_user(conn, user.record.id)
        await update_user(conn, user.record.id, {"api_token_hash": digest}, svc.clock.now())
        await append_audit(
            conn,
            [
                audit_entry(
                    request,
                    "user.api_token",
                    "user",
                    user.record.id,
                    before={"has_api_token": bool(before and before.has_api_token)},
                    after={"has_api_token": True},
                )
            ],
        )
    return _page(request, new_token=token, notice="已生成新的 API 令牌，旧令牌已失效。令牌只显示这一次，请妥善保存。")


@requires(Permission.ACCOUNT)
async def revoke_token(request: web.Request) -> web.Response:
    svc, user = services(request), user_of(request)
    async with svc.db.write() as conn:
        await update_user(conn, user.record.id, {"api_token_hash": None}, svc.clock.now())
        await append_audit(
            conn,
            [
                audit_entry(
                    request,
                    "user.api_token_revoke",
                    "user",
                    user.record.id,
                    before={"has_api_token": user.record.has_api_token},
                    after={"has_api_token": False},
                )
            ],
        )
    return _page(request, notice="API 令牌已撤销。")
