"""Org and people (admin): add, edit, disable and enable people in the org directory.

Edits are stored in `org_people` (monitor/storage/repo/org_people.py), never written back to the
org file; they apply to this process's directory at once and to other processes as described
there. Errors name the field in zh-CN and keep what was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from monitor.domain import ChannelKind, OrgDirectory, Person, Role, RoleAssignment
from monitor.storage.repo.audit import append_audit
from monitor.storage.repo.org_people import (
    PersonOverride,
    apply_overrides,
    get_override,
    list_overrides,
    person_data,
    save_override,
)
from monitor.web.auth.login import redirect
from monitor.web.auth.permissions import Permission, requires
from monitor.web.flash import set_flash
from monitor.web.labels import CHANNEL_LABELS
from monitor.web.rendering import render
from monitor.web.requests import audit_entry, services, user_of

SLUG = re.compile(r"^[a-z][a-z0-9_-]*$")
MOBILE = re.compile(r"^1\d{10}$")
QUIET = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
ROLE_ROWS = 4  # blank role rows offered beyond the person's current ones


@dataclass
class PersonForm:
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    person: Person | None = None


def form_values(person: Person | None) -> dict[str, Any]:
    """What the form shows for a person (or an empty form)."""
    if person is None:
        return {"id": "", "name": "", "title": "", "mobile": "", "email": "", "slack_user": "",
                "quiet_mode": "default", "quiet_hours": "", "roles": [], "channels": ["email"]}  # fmt: skip
    quiet_mode = "default" if person.quiet_hours is None else ("never" if person.quiet_hours == "" else "range")
    return {
        "id": person.id,
        "name": person.name,
        "title": person.title,
        "mobile": person.mobile or "",
        "email": person.email or "",
        "slack_user": person.slack_user or "",
        "quiet_mode": quiet_mode,
        "quiet_hours": person.quiet_hours or "",
        "roles": [(a.role.value, a.unit) for a in person.roles],
        "channels": [c.value for c in person.channels],
    }


def parse_person(form: MultiMapping[Any], org: OrgDirectory, *, person_id: str | None, taken: set[str]) -> PersonForm:
    """Validate the posted form; `person_id` is None for a new person (the id comes from the form)."""
    text = {k: str(form.get(k, "")).strip() for k in ("id", "name", "title", "mobile", "email", "slack_user")}
    quiet_mode, quiet_hours = str(form.get("quiet_mode", "default")), str(form.get("quiet_hours", "")).strip()
    roles = [(str(form.get(f"role_{i}", "")), str(form.get(f"unit_{i}", ""))) for i in range(_role_rows(form))]
    channels = [str(form.get(f"channel_{i}", "")) for i in range(len(ChannelKind))]
    values: dict[str, Any] = {
        **text,
        "quiet_mode": quiet_mode,
        "quiet_hours": quiet_hours,
        "roles": [r for r in roles if r != ("", "")],
        "channels": [c for c in channels if c],
    }
    if person_id is not None:
        values["id"] = person_id
    errors: dict[str, str] = {}
    _check_identity(values, errors, new=person_id is None, taken=taken)
    _check_contacts(values, errors)
    assignments = _check_roles(roles, org, errors)
    kinds = _check_channels(values, errors)
    quiet = _check_quiet(quiet_mode, quiet_hours, errors)
    if errors:
        return PersonForm(values, errors)
    person = Person(
        id=values["id"], name=values["name"], title=values["title"], mobile=values["mobile"] or None,
        email=values["email"] or None, slack_user=values["slack_user"] or None, roles=assignments,
        channels=kinds, quiet_hours=quiet,
    )  # fmt: skip
    return PersonForm(values, errors, person)


def _role_rows(form: MultiMapping[Any]) -> int:
    raw = str(form.get("role_rows", ""))
    return min(int(raw), 40) if raw.isdigit() else ROLE_ROWS


def _check_identity(values: dict[str, Any], errors: dict[str, str], *, new: bool, taken: set[str]) -> None:
    if new:
        if not values["id"]:
            errors["id"] = "「编号」为必填项，例如 zhang_san"
        elif not SLUG.match(values["id"]) or len(values["id"]) > 100:
            errors["id"] = "「编号」只能用小写字母、数字、下划线或连字符，并以字母开头（最多 100 个字符）"
        elif values["id"] in taken:
            errors["id"] = f"「编号」{values['id']} 已被使用，请换一个"
    if not values["name"]:
        errors["name"] = "「姓名」为必填项"
    elif len(values["name"]) > 100:
        errors["name"] = "「姓名」不能超过 100 个字符"
    if len(values["title"]) > 200:
        errors["title"] = "「职务」不能超过 200 个字符"


def _check_contacts(values: dict[str, Any], errors: dict[str, str]) -> None:
    if values["mobile"] and not MOBILE.match(values["mobile"]):
        errors["mobile"] = "「手机」应为 11 位数字，以 1 开头，例如 13900000001"
    email = values["email"]
    if email and (email.count("@") != 1 or email.startswith("@") or email.endswith("@") or " " in email):
        errors["email"] = "「邮箱」格式不正确，应为 名称@域名"
    if len(values["slack_user"]) > 100:
        errors["slack_user"] = "「Slack 用户」不能超过 100 个字符"


def _check_roles(rows: list[tuple[str, str]], org: OrgDirectory, errors: dict[str, str]) -> tuple[RoleAssignment, ...]:
    found: list[RoleAssignment] = []
    for i, (role, unit) in enumerate(rows):
        if (role, unit) == ("", ""):
            continue
        if role not in Role.__members__.values() or unit not in org.units:
            what = "角色" if role not in Role.__members__.values() else "单位"
            errors[f"role_{i}"] = f"「角色 第 {i + 1} 行」请同时选择有效的角色和单位（缺少{what}）"
            continue
        assignment = RoleAssignment(Role(role), unit)
        if assignment in found:
            errors[f"role_{i}"] = f"「角色 第 {i + 1} 行」与前面重复"
        found.append(assignment)
    return tuple(found)


def _check_channels(values: dict[str, Any], errors: dict[str, str]) -> tuple[ChannelKind, ...]:
    raw: list[str] = values["channels"]
    bad = [c for c in raw if c not in ChannelKind.__members__.values()]
    if bad:
        errors["channels"] = f"「提醒渠道」{'、'.join(bad)} 无效"
        return ()
    if not raw:
        errors["channels"] = "「提醒渠道」至少选择一个（按顺序依次尝试）"
        return ()
    if len(set(raw)) != len(raw):
        errors["channels"] = "「提醒渠道」每个渠道只能出现一次"
        return ()
    kinds = tuple(ChannelKind(c) for c in raw)
    if ChannelKind.EMAIL in kinds and not values["email"]:
        errors["channels"] = "「提醒渠道」含电子邮件，请填写「邮箱」或去掉该渠道"
    elif ChannelKind.SLACK in kinds and not values["slack_user"]:
        errors["channels"] = "「提醒渠道」含 Slack，请填写「Slack 用户」或去掉该渠道"
    elif {ChannelKind.DINGTALK, ChannelKind.WECOM} & set(kinds) and not values["mobile"]:
        errors["channels"] = "「提醒渠道」含钉钉/企业微信（按手机号 @ 提醒），请填写「手机」或去掉该渠道"
    return kinds


def _check_quiet(mode: str, hours: str, errors: dict[str, str]) -> str | None:
    if mode == "default":
        return None
    if mode == "never":
        return ""
    if mode == "range" and QUIET.match(hours):
        return hours
    errors["quiet_hours"] = "「免打扰时段」应写成 HH:MM-HH:MM（北京时间），例如 22:00-07:30"
    return None


# --- handlers ---------------------------------------------------------------------------------


async def _people_state(request: web.Request) -> tuple[OrgDirectory, dict[str, PersonOverride]]:
    svc = services(request)
    async with svc.db.read() as conn:
        overrides = {o.person.id: o for o in await list_overrides(conn)}
    return svc.org, overrides


def _render_form(
    request: web.Request, form: PersonForm, *, new: bool, override: PersonOverride | None, status: int = 200
) -> web.Response:
    org = services(request).org
    rows = max(len(form.values["roles"]) + 2, ROLE_ROWS)
    return render(
        request,
        "org_person_form.html",
        {
            "form": form.values,
            "errors": form.errors,
            "new": new,
            "override": override,
            "role_rows": rows,
            "roles": list(Role),
            "units": sorted(org.units.values(), key=lambda u: (u.kind.value, u.id)),
            "channel_labels": CHANNEL_LABELS,
        },
        status=status,
    )


@requires(Permission.ADMIN_ORG)
async def new_person_form(request: web.Request) -> web.Response:
    return _render_form(request, PersonForm(form_values(None)), new=True, override=None)


@requires(Permission.ADMIN_ORG)
async def edit_person_form(request: web.Request) -> web.Response:
    person, override = await _existing(request)
    return _render_form(request, PersonForm(form_values(person)), new=False, override=override)


async def _existing(request: web.Request) -> tuple[Person, PersonOverride | None]:
    org, overrides = await _people_state(request)
    person_id = request.match_info["person_id"]
    override = overrides.get(person_id)
    person = override.person if override else org.people.get(person_id)
    if person is None:
        raise web.HTTPNotFound()
    return person, override


@requires(Permission.ADMIN_ORG)
async def save_person(request: web.Request) -> web.StreamResponse:
    person_id = request.match_info.get("person_id")
    before: Person | None = None
    override: PersonOverride | None = None
    if person_id is not None:
        before, override = await _existing(request)
    org, overrides = await _people_state(request)
    form = parse_person(await request.post(), org, person_id=person_id, taken=set(org.people) | set(overrides))
    if form.person is None:
        return _render_form(request, form, new=person_id is None, override=override, status=400)
    disabled = override.disabled if override else False
    await _store(request, form.person, before, disabled=disabled, action="org.person.save")
    return _back(request, form.person.id, f"已保存人员「{form.person.name}」")


@requires(Permission.ADMIN_ORG)
async def set_person_disabled(request: web.Request) -> web.StreamResponse:
    person, override = await _existing(request)
    disable = request.match_info["switch"] == "disable"
    if override is not None and override.disabled == disable:
        return _back(request, person.id, "")
    action = "org.person.disable" if disable else "org.person.enable"
    await _store(request, person, person, disabled=disable, action=action, was_disabled=not disable)
    return _back(request, person.id, f"{'已停用' if disable else '已启用'}人员「{person.name}」")


def _back(request: web.Request, person_id: str, message: str) -> web.Response:
    response = redirect(f"/org#person-{person_id}")
    if message:
        set_flash(request, response, user_of(request).username, message)
    return response


async def _store(
    request: web.Request,
    person: Person,
    before: Person | None,
    *,
    disabled: bool,
    action: str,
    was_disabled: bool | None = None,
) -> None:
    """Save the row, audit before/after, then apply every row to this process's directory."""
    svc, user = services(request), user_of(request)
    now = svc.clock.now()
    async with svc.db.write() as conn:
        previous = await get_override(conn, person.id)
        old_disabled = previous.disabled if previous else bool(was_disabled)
        await save_override(conn, person, disabled=disabled, now=now, actor=user.username)
        entry = audit_entry(
            request, action, "person", person.id,
            before=None if before is None else {**person_data(before), "disabled": old_disabled},
            after={**person_data(person), "disabled": disabled},
        )  # fmt: skip
        await append_audit(conn, [entry])
    async with svc.db.read() as conn:
        await apply_overrides(conn, svc.org)
