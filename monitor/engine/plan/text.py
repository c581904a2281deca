"""zh-CN alert texts (the plain fallback every channel can show)."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.clock import to_local
from monitor.domain import Incident, Role
from monitor.domain.playbooks import AlertKind, Rule


def local_time(at: datetime) -> str:
    """e.g. 9月24日 14:10 (Asia/Shanghai)."""
    t = to_local(at)
    return f"{t.month}月{t.day}日 {t:%H:%M}"


def span(delta: timedelta) -> str:
    """A duration as people say it: 2小时15分钟, 3天4小时, 20分钟."""
    minutes = max(0, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}天" if days else "", f"{hours}小时" if hours else "", f"{mins}分钟" if mins and not days else ""]
    return "".join(parts) or "不到1分钟"


COMMITMENT_ACTION = "commitment_fulfilment"  # the action of the built-in 承诺兑现 rule


def instruction(kind: AlertKind, roles: tuple[Role, ...], action: str = "") -> str:
    """What the alert asks of its readers (outbox payload `instruction`; empty for a warning)."""
    if kind == AlertKind.DEADLINE_BREACH and action == COMMITMENT_ACTION:
        return "请尽快兑现承诺，并登记兑现情况及公开链接。"
    if kind == AlertKind.DEADLINE_BREACH:
        return "请立即处置并登记回应及证据。"
    if kind in (AlertKind.ESCALATION, AlertKind.SUPERVISION):
        return f"请{'、'.join(r.label for r in roles)}督促落实。"
    return ""


def alert_text(
    kind: AlertKind, incident: Incident, rule: Rule, due: datetime, now: datetime, roles: tuple[Role, ...], unit: str
) -> str:
    owner = f"责任单位：{unit}。" if unit else ""
    head = f"「{incident.title}」{rule.title}"
    basis = f"依据：{rule.source}。"
    if kind == AlertKind.DEADLINE_WARNING:
        left = f"剩余{span(due - now)}" if due > now else "已到期"
        return f"【预警】{head}，期限 {local_time(due)}（{left}）。{owner}{basis}"
    if kind == AlertKind.DEADLINE_BREACH:
        asked = instruction(kind, roles, rule.action)
        return f"【超期】{head}已于 {local_time(due)} 到期，尚未履行。{owner}{asked}{basis}"
    label = "督办" if kind == AlertKind.SUPERVISION else "升级提醒"
    late = f"已超期{span(now - due)}（期限 {local_time(due)}）。"
    return f"【{label}】{head}{late}{owner}{instruction(kind, roles)}{basis}"


REMINDER_INSTRUCTION = "请责任单位尽快认领；如不属本单位职责，请说明理由退回。"


def reminder_text(incident: Incident, rule: Rule, due: datetime, now: datetime, unit: str) -> str:
    """A repeat of the 交办 notice while the owning unit has not 认领'd the incident."""
    left = f"剩余{span(due - now)}" if due > now else "已到期"
    who = unit or "责任单位"
    return (
        f"【待认领】「{incident.title}」已交办{who}，尚未认领。{rule.title}，期限 {local_time(due)}（{left}）。"
        f"{REMINDER_INSTRUCTION}依据：{rule.source}。"
    )


def problem_text(incident: Incident, message_zh: str) -> str:
    return f"【系统告警】「{incident.title}」{message_zh}在补齐之前该时限不会提醒，请值班员人工跟踪。"


def returned_text(incident: Incident, unit: str, reason: str) -> str:
    head = f"【退回待改派】「{incident.title}」被{unit}退回，理由：{reason}。"
    return head + "请值班员核实后改派责任单位（时限照常计算）。"
