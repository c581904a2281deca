"""Web accounts (admin): add a user, edit role/unit/person, reset a password, disable and enable.

The same rules as `monitor users` (monitor/web/auth/accounts.py); every change writes an audit row
with the account before and after (never a password hash or token). An administrator cannot
disable or demote their own account, so the last way in is not closed by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from monitor.domain import OrgDirectory, UserRole
from monitor.storage.repo.audit import append_audit
from monitor.storage.repo.sessions import delete_user_sessions
from monitor.storage.repo.users import UserExists, UserRecord, create_user, get_user, get_user_by_name, update_user
from monitor.web.auth.login import redirect
from monitor.web.auth.passwords import password_problem
from monitor.web.auth.permissions import Permission, requires
from monitor.web.flash import set_flash
from monitor.web.keys import HASHER
from monitor.web.rendering import render
from monitor.web.requests import audit_entry, services, user_of

FIELDS = ("username", "display_name", "role", "unit_id", "person_id")


def account_values(form: MultiMapping[Any] | None, record: UserRecord | None = None) -> dict[str, str]:
    if form is None:
        if record is None:
            return {k: "" for k in FIELDS} | {"role": UserRole.DUTY_OFFICER.value}
        return {"username": record.username, "display_name": record.display_name, "role": record.role.value,
                "unit_id": record.unit_id or "", "person_id": record.person_id or ""}  # fmt: skip
    return {k: str(form.get(k, "")).strip() for k in FIELDS}


def check_account(values: dict[str, str], org: OrgDirectory, *, new: bool) -> dict[str, str]:
    """zh-CN errors by field (the rules of accounts.check_new_account)."""
    errors: dict[str, str] = {}
    name = values["username"]
    if new and (not name or len(name) > 100 or not name.isprintable() or " " in name):
        errors["username"] = "「用户名」为必填项：1–100 个可见字符，不含空格"
    elif new and name.lower() == "system":
        errors["username"] = "「用户名」system 保留给系统自身的操作，请换一个"
    if len(values["display_name"]) > 100:
        errors["display_name"] = "「姓名」不能超过 100 个字符"
    if values["role"] not in UserRole.__members__.values():
        errors["role"] = "「角色」请选择一个有效的角色"
    if values["unit_id"] and values["unit_id"] not in org.units:
        errors["unit_id"] = "「单位」不在组织通讯录中"
    elif values["role"] == UserRole.UNIT_HANDLER.value and not values["unit_id"]:
        errors["unit_id"] = "「单位」单位处置人只能看到本单位的事件，必须选择单位"
    if values["person_id"] and values["person_id"] not in org.people:
        errors["person_id"] = "「对应人员」不在组织通讯录中（或已停用）"
    return errors


def _render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    org = services(request).org
    defaults: dict[str, Any] = {
        "errors": {},
        "roles": list(UserRole),
        "units": sorted(org.units.values(), key=lambda u: (u.kind.value, u.id)),
        "people": sorted(org.people.values(), key=lambda p: p.id),
    }
    return render(request, template, {**defaults, **context}, status=status)


@requires(Permission.ADMIN_ORG)
async def new_user_form(request: web.Request) -> web.Response:
    return _render(request, "org_user_form.html", form=account_values(None), account=None)


@requires(Permission.ADMIN_ORG)
async def create_account(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    form = await request.post()
    values = account_values(form)
    errors = check_account(values, svc.org, new=True)
    password, repeat = str(form.get("password", "")), str(form.get("repeat", ""))
    _check_password(password, repeat, values["username"], errors)
    if "username" not in errors:
        async with svc.db.read() as conn:
            if await get_user_by_name(conn, values["username"]) is not None:
                errors["username"] = f"「用户名」{values['username']} 已存在"
    if errors:
        return _render(request, "org_user_form.html", 400, form=values, account=None, errors=errors)
    password_hash = request.app[HASHER].hash(password)  # slow by design: not inside the write transaction
    async with svc.db.write() as conn:
        try:
            user_id = await _create(conn, values, password_hash, svc.clock.now())
        except UserExists:  # created meanwhile by someone else
            errors["username"] = f"「用户名」{values['username']} 已存在"
            return _render(request, "org_user_form.html", 400, form=values, account=None, errors=errors)
        created = await get_user(conn, user_id)
        assert created is not None
        await append_audit(conn, [audit_entry(request, "user.create", "user", user_id, after=created.public())])
    return _back(request, user_id, f"已添加账户「{values['username']}」")


async def _create(conn: Any, values: dict[str, str], password_hash: str, now: datetime) -> int:
    return await create_user(
        conn,
        username=values["username"],
        display_name=values["display_name"] or values["username"],
        password_hash=password_hash,
        role=UserRole(values["role"]),
        now=now,
        unit_id=values["unit_id"] or None,
        person_id=values["person_id"] or None,
    )


def _check_password(password: str, repeat: str, username: str, errors: dict[str, str]) -> None:
    problem = password_problem(password, username)
    if problem:
        errors["password"] = f"「初始密码」{problem}"
    elif password != repeat:
        errors["repeat"] = "「确认密码」与密码不一致"


async def _account(request: web.Request) -> UserRecord:
    raw = request.match_info["user_id"]
    async with services(request).db.read() as conn:
        record = await get_user(conn, int(raw)) if raw.isdigit() else None
    if record is None:
        raise web.HTTPNotFound()
    return record


@requires(Permission.ADMIN_ORG)
async def edit_user_form(request: web.Request) -> web.Response:
    record = await _account(request)
    return _render(request, "org_user_form.html", form=account_values(None, record), account=record)


@requires(Permission.ADMIN_ORG)
async def update_account(request: web.Request) -> web.StreamResponse:
    svc, me = services(request), user_of(request)
    record = await _account(request)
    values = {**account_values(await request.post()), "username": record.username}
    errors = check_account(values, svc.org, new=False)
    if record.id == me.record.id and values["role"] != UserRole.ADMIN.value:
        errors["role"] = "「角色」不能取消自己的管理员角色（请由另一位管理员操作）"
    if errors:
        return _render(request, "org_user_form.html", 400, form=values, account=record, errors=errors)
    changes = {
        "display_name": values["display_name"] or record.username,
        "role": values["role"],
        "unit_id": values["unit_id"] or None,
        "person_id": values["person_id"] or None,
    }
    # A new role or unit changes what the account may see: its open sessions end.
    scope_changed = (changes["role"], changes["unit_id"]) != (record.role.value, record.unit_id)
    await _change(request, record, "user.update", changes, end_sessions=scope_changed)
    return _back(request, record.id, f"已保存账户「{record.username}」")


@requires(Permission.ADMIN_ORG)
async def reset_password(request: web.Request) -> web.StreamResponse:
    record = await _account(request)
    form = await request.post()
    errors: dict[str, str] = {}
    _check_password(str(form.get("password", "")), str(form.get("repeat", "")), record.username, errors)
    if errors:
        return _render(
            request, "org_user_form.html", 400, form=account_values(None, record), account=record, errors=errors
        )
    password_hash = request.app[HASHER].hash(str(form["password"]))
    changes = {"password_hash": password_hash, "failed_logins": 0, "locked_until": None}
    await _change(request, record, "user.password", changes, end_sessions=True)
    return _back(request, record.id, f"已重置「{record.username}」的密码，其登录已全部退出")


@requires(Permission.ADMIN_ORG)
async def set_account_disabled(request: web.Request) -> web.StreamResponse:
    record, me = await _account(request), user_of(request)
    disable = request.match_info["switch"] == "disable"
    if disable and record.id == me.record.id:
        errors = {"disabled": "不能停用自己的账户（请由另一位管理员操作）"}
        return _render(
            request, "org_user_form.html", 400, form=account_values(None, record), account=record, errors=errors
        )
    changes: dict[str, Any] = {"disabled": disable}
    if not disable:
        changes.update(failed_logins=0, locked_until=None)  # enabling also lifts a lock-out
    await _change(request, record, "user.disable" if disable else "user.enable", changes, end_sessions=disable)
    return _back(request, record.id, f"{'已停用' if disable else '已启用'}账户「{record.username}」")


async def _change(
    request: web.Request, record: UserRecord, action: str, changes: dict[str, Any], *, end_sessions: bool
) -> None:
    svc = services(request)
    async with svc.db.write() as conn:
        await update_user(conn, record.id, changes, svc.clock.now())
        if end_sessions:
            await delete_user_sessions(conn, record.id)
        after = await get_user(conn, record.id)
        assert after is not None
        details = after.public() | ({"sessions_ended": True} if end_sessions else {})
        entry = audit_entry(request, action, "user", record.id, before=record.public(), after=details)
        await append_audit(conn, [entry])


def _back(request: web.Request, user_id: int, message: str) -> web.Response:
    response = redirect(f"/org#user-{user_id}")
    set_flash(request, response, user_of(request).username, message)
    return response
