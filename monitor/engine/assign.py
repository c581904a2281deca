"""交办 / 认领 / 退回 and 改派 (DOMAIN.md §4.1, §4.4, §7): validate and say what to record (no I/O).

The workflow: a confirmed incident is 交办'd to its owning unit (status 已交办, `assigned_at`); the
unit 认领s it (status 处置中, `accepted_at`) or 退回s it with a reason (status 退回待改派,
`returned_reason`), and the duty officers 改派 it to another unit, which is 交办'd at once. Only the
owning unit's handlers act for it; a duty officer may act on its behalf (`units` is None).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from monitor.domain import EventKind, Incident, IncidentEvent, IncidentStatus
from monitor.domain import commands as c
from monitor.domain.responsibility import reassigned_lead
from monitor.engine.handlers import Change, CommandRejected, Ctx
from monitor.engine.plan import fold
from monitor.engine.plan.text import local_time

S = IncidentStatus
_BEFORE_ASSIGNMENT = frozenset({S.ASSESSED, S.REPORTED})  # confirmed, not yet 交办 (or before this workflow)
_WORKING = frozenset({S.ASSIGNED, S.HANDLING, S.ESCALATED, S.OVERDUE, S.SUPERVISED})  # 交办'd, not yet responded


def _unit_name(ctx: Ctx, unit: str | None) -> str:
    found = ctx.services.org.units.get(unit) if unit else None
    return found.name if found else (unit or "—")


def _walk(incident: Incident, path: list[IncidentStatus], at: datetime) -> tuple[Incident, list[IncidentEvent]]:
    """Follow `path` through the state machine and record it as one STATUS_CHANGED event."""
    if not path:
        return incident, []
    moved = incident
    for step in path:
        moved = moved.transition(step, at)
    payload = {"from": incident.status.value, "to": moved.status.value, "path": [s.value for s in path]}
    return moved, [IncidentEvent(incident.id or 0, EventKind.STATUS_CHANGED, at, "system", payload)]


def _acting_for_owner(ctx: Ctx, units: tuple[str, ...] | None, action: str) -> str:
    """The owning unit, when the person may act for it: its handler, or a duty officer (units None)."""
    owner = ctx.incident.owner_unit
    if owner is None:
        raise CommandRejected(f"本事件尚未交办责任单位，不能{action}：请值班员先在「改派责任单位」中指定责任单位。")
    if units is not None and owner not in units:
        mine = "、".join(f"「{_unit_name(ctx, u)}」" for u in units)
        who = f"您所在的{mine}" if mine else "您的账户未关联单位，"
        raise CommandRejected(
            f"本事件的责任单位是「{_unit_name(ctx, owner)}」，{who}不能{action}。"
            "如认为应由贵单位处置，请联系值班员改派。"
        )
    status = ctx.incident.status
    if status == S.DETECTED:
        raise CommandRejected(f"事件尚未研判确认，确认后才会交办，届时再{action}。")
    if not status.is_open:
        raise CommandRejected(f"事件当前状态为「{status.label}」，不能{action}。")
    return owner


def reassign(ctx: Ctx, cmd: c.Reassign) -> Change:
    """改派: the new unit becomes the owner and, once the incident is confirmed, is 交办'd at once."""
    if not cmd.reason or not cmd.reason.strip():
        raise CommandRejected("请填写改派理由。")
    if cmd.owner_unit not in ctx.services.org.units:
        raise CommandRejected(f"通讯录中没有单位「{cmd.owner_unit}」，请从单位列表中选择。")
    inc, name = ctx.incident, _unit_name(ctx, cmd.owner_unit)
    if cmd.owner_unit == inc.owner_unit and inc.status != S.REASSIGNED:
        raise CommandRejected(f"责任单位已是「{name}」，无需改派。")
    old = inc.owner_unit
    events = [ctx.event(EventKind.REASSIGNED, cmd, {"from": old, "to": cmd.owner_unit, "reason": cmd.reason})]
    incident = replace(inc, owner_unit=cmd.owner_unit, **reassigned_lead(inc, cmd.owner_unit))
    message = "已改派"
    if inc.status != S.DETECTED and inc.is_open:  # confirmed: 交办 to the new unit (unconfirmed: at confirmation)
        incident, moved = _walk(incident, _handover_path(inc.status), cmd.at)
        incident = replace(incident, assigned_at=cmd.at, accepted_at=None)
        payload = {"unit": cmd.owner_unit, "from": old, "reason": cmd.reason}
        events += [ctx.event(EventKind.ASSIGNED, cmd, payload), *moved]
        message = f"已改派并交办给「{name}」，已提醒其认领" + ("；原单位尚未发出的提醒已停止" if old else "")
    corrections = [("department", old, cmd.owner_unit)] if old != cmd.owner_unit else []
    return Change(incident, events, corrections, message=message)


def _handover_path(status: IncidentStatus) -> list[IncidentStatus]:
    """The status walk of a 交办 by 改派: back through 退回待改派 to 已交办 while nobody has responded."""
    if status in _BEFORE_ASSIGNMENT or status == S.REASSIGNED:
        return [S.ASSIGNED]
    if status in _WORKING:
        return [S.REASSIGNED, S.ASSIGNED]
    return []  # responded already: the new unit takes over the follow-up; the stage stays


def accept(ctx: Ctx, cmd: c.Accept) -> Change:
    """认领: the owning unit takes the incident on (已交办 → 处置中)."""
    owner = _acting_for_owner(ctx, cmd.units, "认领")
    inc, name = ctx.incident, _unit_name(ctx, owner)
    if inc.status == S.REASSIGNED:
        raise CommandRejected(
            f"本事件已由「{name}」退回，正等待值班员改派；如确属本单位处置，请联系值班员重新交办后再认领。"
        )
    accepted = fold(inc, ctx.timeline).accepted_at
    if accepted is not None:
        raise CommandRejected(f"「{name}」已于 {local_time(accepted)} 认领本事件，无需重复认领。")
    path = [S.HANDLING] if inc.status == S.ASSIGNED else []
    if inc.status in _BEFORE_ASSIGNMENT:
        path = [S.ASSIGNED, S.HANDLING]
    incident, moved = _walk(inc, path, cmd.at)
    incident = replace(incident, accepted_at=cmd.at)
    on_behalf = cmd.units is None
    payload = {"unit": owner, "note": cmd.note, "on_behalf": on_behalf}
    message = f"已代「{name}」认领" if on_behalf else "已认领，事件转入处置"
    return Change(incident, [ctx.event(EventKind.ACCEPTED, cmd, payload), *moved], message=message)


def return_(ctx: Ctx, cmd: c.Return) -> Change:
    """退回: the owning unit says the incident is not its business; the duty officers are told to 改派."""
    owner = _acting_for_owner(ctx, cmd.units, "退回")
    reason = (cmd.reason or "").strip()
    if not reason:
        raise CommandRejected("请填写退回理由：说明为何不属于本单位职责，以及建议由哪个单位处置。")
    inc = ctx.incident
    if inc.status == S.REASSIGNED:
        raise CommandRejected("本事件已退回，正等待值班员改派。")
    if inc.status not in _WORKING | _BEFORE_ASSIGNMENT:
        raise CommandRejected(
            f"事件当前状态为「{inc.status.label}」（已公开回应），不能退回；如责任单位确有错误，请联系值班员改派。"
        )
    path = [S.ASSIGNED, S.REASSIGNED] if inc.status in _BEFORE_ASSIGNMENT else [S.REASSIGNED]
    incident, moved = _walk(inc, path, cmd.at)
    incident = replace(incident, returned_reason=reason)
    payload = {"unit": owner, "reason": reason, "on_behalf": cmd.units is None}
    event = ctx.event(EventKind.RETURNED, cmd, payload)
    return Change(incident, [event, *moved], bump=False, message="已退回，已提醒值班员改派；改派前各项时限照常计算")


def set_region(ctx: Ctx, cmd: c.SetRegion) -> Change:
    """更正属地: the incident's locality changes; an owning unit that was the former locality itself
    (属地管理) follows to the new one through 改派, so the new locality is 交办'd at once and alerts
    still waiting for the former one stop. A city department that owns it stays the owner."""
    reason = (cmd.reason or "").strip()
    if not reason:
        raise CommandRejected("请填写更正属地的原因（如：经核实，事发地位于…）。")
    unit = ctx.services.org.units.get(cmd.region)
    if unit is None or not unit.kind.is_locality:
        raise CommandRejected(f"「{cmd.region}」不是通讯录中的镇（街道），请从属地列表中选择。")
    inc, old = ctx.incident, ctx.incident.region
    if not inc.is_open:
        raise CommandRejected(f"事件当前状态为「{inc.status.label}」，不能更正属地；如需更正，请先重新打开事件。")
    if old == cmd.region:
        raise CommandRejected(f"属地已是「{unit.name}」，无需更正。")
    co_units = inc.co_units
    if old in co_units and not inc.multi_region:  # the former locality co-handled as 属地: the new one does
        co_units = tuple(dict.fromkeys(cmd.region if u == old else u for u in co_units))
    moved = replace(inc, region=cmd.region, co_units=co_units)
    payload = {"from": old, "to": cmd.region, "reason": reason}
    events = [ctx.event(EventKind.REGION_SET, cmd, payload)]
    corrections: list[tuple[str, Any, Any]] = [("region", old, cmd.region)]
    if old is None or inc.owner_unit != old:
        return Change(moved, events, corrections, bump=False, message=f"已更正属地为「{unit.name}」")
    follow = c.Reassign(
        incident_id=cmd.incident_id, actor=cmd.actor, at=cmd.at, owner_unit=cmd.region, reason=f"更正属地：{reason}"
    )
    handed = reassign(replace(ctx, incident=moved), follow)
    message = f"已更正属地为「{unit.name}」，责任单位随属地{handed.message.removeprefix('已')}"
    return Change(handed.incident, events + handed.events, corrections, message=message)  # the region was wrong


ASSIGNMENT_HANDLERS: dict[type, Callable[[Ctx, Any], Change]] = {
    c.Reassign: reassign,
    c.SetRegion: set_region,
    c.Accept: accept,
    c.Return: return_,
}
