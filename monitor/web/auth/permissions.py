"""Roles and permissions, checked server-side on every route (default deny).

A handler declares what it needs with `@requires(Permission.X)` or `@public`; the auth
middleware refuses any route that declares neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from monitor.domain import OrgDirectory, Role, UnitKind, UserRole
from monitor.storage.repo.users import UserRecord


class Permission(StrEnum):
    VIEW_QUEUE = "view_queue"  # 事件队列与事件详情
    VIEW_ITEMS = "view_items"  # 全部采集稿件
    VIEW_SOURCES = "view_sources"  # 信息源健康
    EDIT_SOURCES = "edit_sources"  # 新增/编辑信息源
    LEADER_VIEW = "leader_view"  # 领导视图
    VIEW_REPORTS = "view_reports"  # 报告
    EXPORT_LEDGER = "export_ledger"  # 导出舆情回应台账（每起舆情一行，含标题、单位、回应与时限明细）
    ADMIN_ORG = "admin_org"  # 组织与人员
    ACCOUNT = "account"  # 自己的账户（改密码、API 令牌、退出）
    ACT_TRIAGE = "act_triage"  # 确认、排除、合并、拆分、改派、调级、附加规则、办结、重新打开
    ACT_RESPOND = "act_respond"  # 登记回应、登记报告
    ACT_ACCEPT = "act_accept"  # 认领、退回（本单位的事件；值班员可代为办理）
    ACT_EXTEND = "act_extend"  # 延长期限（须写明批准人）
    ACT_ACK = "act_ack"  # 确认收到提醒
    ACT_PAUSE_REQUEST = "act_pause_request"  # 申请暂停计时
    ACT_PAUSE_DECIDE = "act_pause_decide"  # 批准/驳回暂停（第二人）
    ACT_NOTE = "act_note"  # 添加备注
    ACT_EVALUATE = "act_evaluate"  # 登记效果评估（值班员、分析员）
    ACT_SUPERVISE = "act_supervise"  # 提醒/催办/督办/通报责任单位（仅政府办督查）


P = Permission
ROLE_PERMISSIONS: dict[UserRole, frozenset[Permission]] = {
    UserRole.DUTY_OFFICER: frozenset(
        {
            P.VIEW_QUEUE,
            P.VIEW_ITEMS,
            P.VIEW_SOURCES,
            P.EDIT_SOURCES,
            P.ACCOUNT,
            P.ACT_TRIAGE,
            P.ACT_ACCEPT,
            P.ACT_RESPOND,
            P.ACT_EXTEND,
            P.ACT_ACK,
            P.ACT_PAUSE_REQUEST,
            P.ACT_NOTE,
            P.ACT_EVALUATE,
        }
    ),
    UserRole.UNIT_HANDLER: frozenset(
        {P.VIEW_QUEUE, P.ACCOUNT, P.ACT_ACCEPT, P.ACT_RESPOND, P.ACT_EXTEND, P.ACT_ACK, P.ACT_PAUSE_REQUEST, P.ACT_NOTE}
    ),
    UserRole.LEADER: frozenset(
        {
            P.VIEW_QUEUE,
            P.VIEW_ITEMS,
            P.LEADER_VIEW,
            P.VIEW_REPORTS,
            P.ACCOUNT,
            P.ACT_EXTEND,
            P.ACT_ACK,
            P.ACT_PAUSE_DECIDE,
            P.ACT_NOTE,
        }
    ),
    UserRole.ANALYST: frozenset(
        {P.VIEW_QUEUE, P.VIEW_ITEMS, P.VIEW_SOURCES, P.VIEW_REPORTS, P.EXPORT_LEDGER, P.ACCOUNT, P.ACT_EVALUATE}
    ),
    UserRole.GOV_OFFICE: frozenset(
        {P.VIEW_QUEUE, P.VIEW_ITEMS, P.VIEW_REPORTS, P.EXPORT_LEDGER, P.ACCOUNT, P.ACT_SUPERVISE, P.ACT_ACK, P.ACT_NOTE}
    ),
    # 督办 is 政府办's own act (国办发〔2016〕61号: 政府办公厅(室) 组织协调、督促指导): not an administrator's.
    UserRole.ADMIN: frozenset(Permission) - {P.ACT_SUPERVISE},
}
LEADER_ROLES = (Role.DEPUTY_LEADER, Role.PRINCIPAL)


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user of a request, with what they may do and see."""

    record: UserRecord
    via: str  # "session" or "token"
    csrf_token: str | None
    units: frozenset[str]  # their unit plus units where their person holds a role
    city_wide: bool  # a leader of the 人民政府 sees every unit

    @property
    def username(self) -> str:
        return self.record.username

    @property
    def role(self) -> UserRole:
        return self.record.role

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.record.role]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def scope(self) -> frozenset[str] | None:
        """Units whose incidents this user may see; None = all. Unit handlers see only theirs."""
        return self.units if self.role == UserRole.UNIT_HANDLER else None

    def sees(self, incident_units: frozenset[str]) -> bool:
        scope = self.scope
        return scope is None or bool(scope & incident_units)

    @property
    def leader_units(self) -> frozenset[str] | None:
        """Units for the leader view; None = every unit."""
        return None if self.city_wide or not self.units else self.units


def current_user(record: UserRecord, org: OrgDirectory, *, via: str, csrf_token: str | None) -> CurrentUser:
    units: set[str] = {record.unit_id} if record.unit_id else set()
    person = org.people.get(record.person_id) if record.person_id else None
    led: set[str] = set()
    if person is not None:
        units.update(a.unit for a in person.roles if a.unit in org.units)
        led = {a.unit for a in person.roles if a.role in LEADER_ROLES and a.unit in org.units}
    city_wide = any(org.units[u].kind == UnitKind.GOVERNMENT for u in led | units if u in org.units)
    if record.role == UserRole.UNIT_HANDLER:
        units = {record.unit_id} if record.unit_id else set()  # never widened through the org directory
    return CurrentUser(record, via, csrf_token, frozenset(units), city_wide and record.role == UserRole.LEADER)


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
PERMISSION_ATTR = "__monitor_permission__"
PUBLIC_ATTR = "__monitor_public__"


def requires(permission: Permission) -> Callable[[Handler], Handler]:
    def mark(handler: Handler) -> Handler:
        setattr(handler, PERMISSION_ATTR, permission)
        return handler

    return mark


def public(handler: Handler) -> Handler:
    setattr(handler, PUBLIC_ATTR, True)
    return handler


def required_permission(handler: Any) -> Permission | None:
    return getattr(handler, PERMISSION_ATTR, None)


def is_public(handler: Any) -> bool:
    return bool(getattr(handler, PUBLIC_ATTR, False))
