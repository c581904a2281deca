"""政府办督查: 提醒 / 催办 / 督办 / 通报 an incident's owning unit (DOMAIN.md §1.5, §4.4 `supervision[]`).

The record is the SUPERVISED timeline event (level, reason, who signed it, the unit); the planner
tells that unit's people once (monitor.engine.plan.supervision). The incident is 督办中
(SUPERVISED) until the next public response moves it on along the main line; the deadlines are
not touched (no generation bump). Only a 政府办（督查） account may send it (web permission
act_supervise); this module checks what the incident allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.domain import EventKind, IncidentEvent, IncidentStatus, SupervisionLevel
from monitor.domain import commands as c
from monitor.engine.handlers import Change, CommandRejected, Ctx

S = IncidentStatus
# Confirmed, 交办'd to a unit and not finished: where a supervision has someone to press.
SUPERVISABLE = frozenset({S.REPORTED, S.ASSIGNED, S.HANDLING, S.RESPONDED, S.FOLLOW_UP, S.SUPERVISED})
MAX_REASON = 1000


def _check_status(ctx: Ctx, level: SupervisionLevel) -> None:
    status = ctx.incident.status
    if status == S.DETECTED:
        raise CommandRejected(f"事件尚未研判确认，不能{level.label}：请值班员先确认并交办责任单位。")
    if status == S.REASSIGNED:
        raise CommandRejected(f"事件已被责任单位退回，正等待值班员改派；改派后再{level.label}新的责任单位。")
    if status not in SUPERVISABLE:
        raise CommandRejected(f"事件当前状态为「{status.label}」，不能{level.label}。")


def supervise(ctx: Ctx, cmd: c.Supervise) -> Change:
    """Record the supervision and make the incident 督办中 (SUPERVISED)."""
    try:
        level = SupervisionLevel(cmd.level)
    except ValueError:
        allowed = "、".join(f"{m.label}（{m.value}）" for m in SupervisionLevel)
        raise CommandRejected(f"督查方式「{cmd.level}」无效，请选择：{allowed}。") from None
    reason, by = (cmd.reason or "").strip(), (cmd.by or "").strip()
    if not reason:
        raise CommandRejected(f"请填写{level.label}事由：说明哪项工作不到位、要求责任单位做什么。")
    if len(reason) > MAX_REASON:
        raise CommandRejected(f"{level.label}事由不能超过 {MAX_REASON} 个字，请精简后再提交。")
    if not by:
        raise CommandRejected("请填写督办人（签发的单位与姓名，如：市政府办公室督查科 蒋文博）。")
    inc = ctx.incident
    owner = inc.owner_unit
    if owner is None and inc.status.is_open and inc.status != S.DETECTED:
        raise CommandRejected(f"本事件尚未确定责任单位，不能{level.label}：请值班员先改派责任单位。")
    _check_status(ctx, level)
    assert owner is not None  # _check_status refuses the statuses an incident without an owner can be in
    payload = {"level": level.value, "reason": reason, "by": by, "unit": owner, "status_before": inc.status.value}
    events = [ctx.event(EventKind.SUPERVISED, cmd, payload)]
    incident = inc
    if inc.status != S.SUPERVISED:
        incident = inc.transition(S.SUPERVISED, cmd.at)
        moved = {"from": inc.status.value, "to": S.SUPERVISED.value, "path": [S.SUPERVISED.value]}
        events.append(IncidentEvent(inc.id or 0, EventKind.STATUS_CHANGED, cmd.at, "system", moved))
    unit = ctx.services.org.units.get(owner)
    name = unit.name if unit else owner
    message = f"已{level.label}，已通知「{name}」；事件转为督办中，直至其公开回应"
    return Change(incident, events, bump=False, message=message)


SUPERVISION_HANDLERS: dict[type, Callable[[Ctx, Any], Change]] = {c.Supervise: supervise}
