"""How timeline events read on the incident page: one zh-CN line per event payload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from monitor.clock import to_local
from monitor.domain import ChannelKind, EventKind, IncidentEvent, OrgDirectory, ResponseKind, Role
from monitor.domain.playbooks import AlertKind
from monitor.web.actions.documents import referenced_sha256
from monitor.web.labels import CHANNEL_LABELS, label

PAYLOAD_LABELS = {
    "title": "标题",
    "reason": "原因",
    "text": "内容",
    "note": "研判意见",
    "rule": "规则",
    "rule_id": "规则",
    "until": "至",
    "request_seq": "申请编号",
    "requested_by": "申请人",
    "approved_by": "批准/审批人",
    "owner_unit": "责任单位",
    "event_level": "突发事件级别",
    "opinion_level": "舆情级别",
    "event_type": "类别",
    "requires_response": "需要回应",
    "kind": "方式",
    "url": "链接",
    "document": "文件",
    "summary": "摘要",
    "published_at": "发布时间",
    "report_kind": "报告类型",
    "signer": "签发人",
    "reported_at": "报告时间",
    "into_id": "并入事件",
    "item_ids": "稿件",
    "t0": "起算",
    "due_at": "截止",
    "step": "步骤",
    "channel": "渠道",
    "person": "人员",
    "error": "错误",
    "jurisdiction": "适用范围",
}
_VALUE_KINDS = {
    "kind": "response_kind",
    "report_kind": "report_kind",
    "event_level": "event_level",
    "opinion_level": "opinion_level",
    "event_type": "event_type",
}
_CHANNELS = {"phone": "电话", "written": "书面"}
_HIDDEN = {"from", "to", "path", "via", "outbox_id", "instance", "status", "limit", "key", "digest", "files", "steps"}
_OBLIGATION_EVENTS = {
    EventKind.OBLIGATION_OPENED,
    EventKind.OBLIGATION_MET,
    EventKind.OBLIGATION_BREACHED,
    EventKind.OBLIGATION_CANCELLED,
    EventKind.OBLIGATION_RESCHEDULED,
}
_TIMES = {"until", "published_at", "reported_at", "t0", "due_at"}


def event_summary(event: IncidentEvent, org: OrgDirectory | None = None) -> str:
    """A one-line zh-CN description of a timeline event's payload (unknown keys shown as they are)."""
    payload: dict[str, Any] = event.payload or {}
    special = _SPECIAL.get(event.kind)
    if special is not None:
        return special(payload, org)
    if event.kind in _OBLIGATION_EVENTS:
        return _obligation(payload)
    parts = [
        f"{PAYLOAD_LABELS.get(k, k)}：{_value(k, v)}"
        for k, v in payload.items()
        if k not in _HIDDEN and v not in (None, "", [], {})
    ]
    return "；".join(parts)


def _note(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    return str(payload.get("text", ""))


def _status(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    return f"{label(payload.get('from'), 'status')} → {label(payload.get('to'), 'status')}"


def _reassigned(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    old, new = (_unit(org, payload.get(k)) for k in ("from", "to"))
    return f"{old} → {new}；原因：{payload.get('reason', '')}"


def _escalated(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 预警 · GB80-AUTH-RELEASE-5H（截止 09-24 14:00）→ 联络员、值班员：赵磊、朱敏."""
    kind = str(payload.get("kind") or "")
    kind_text = AlertKind(kind).label if kind in AlertKind.__members__.values() else kind or "提醒"
    roles = "、".join(Role(r).label if r in Role.__members__.values() else str(r) for r in payload.get("roles") or [])
    people = org.people if org else {}
    names = "、".join(people[p].name if p in people else str(p) for p in payload.get("people") or [])
    due = _time(payload.get("due_at"))
    target = f"{roles}：{names}" if names else f"{roles}（无人可通知，已告警值班员）"
    return f"{kind_text} · {payload.get('rule', '')}（截止 {due}）→ {target}"


def _snapshot(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    return f"规则版本 {str(payload.get('digest', ''))[:12]}；{payload.get('jurisdiction', '')}"


def _obligation(payload: dict[str, Any]) -> str:
    rule = payload.get("rule", "")
    text = f"{payload.get('title') or rule}（{rule}），截止 {_time(payload.get('due_at'))}"
    late = payload.get("late_s")
    if isinstance(late, int | float) and late > 0:
        text += f"；逾期 {int(late // 3600)}小时{int(late % 3600 // 60)}分"
    reason = payload.get("reason") or payload.get("cancelled_reason")
    return f"{text}；原因：{reason}" if reason else text


def _notification(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 升级提醒/督办 → 朱敏（电子邮件 zhumin@…）；or the error when it failed."""
    kind = str(payload.get("kind") or "")
    kind_text = AlertKind(kind).label if kind in AlertKind.__members__.values() else kind or "提醒"
    channel = str(payload.get("channel") or "")
    channel_text = CHANNEL_LABELS.get(ChannelKind(channel), channel) if channel in _CHANNEL_VALUES else channel
    to, person = payload.get("to"), payload.get("person") or payload.get("person_id") or "—"
    text = f"{kind_text} → {person}（{channel_text}"
    text += f" {to}）" if to and to not in (channel, person) else "）"
    if payload.get("error"):
        text += f"；错误：{payload['error']}"
    return text


_CHANNEL_VALUES = {c.value for c in ChannelKind}

_SPECIAL: dict[EventKind, Callable[[dict[str, Any], OrgDirectory | None], str]] = {
    EventKind.NOTIFICATION_QUEUED: _notification,
    EventKind.NOTIFICATION_SENT: _notification,
    EventKind.NOTIFICATION_FAILED: _notification,
    EventKind.NOTE_ADDED: _note,
    EventKind.STATUS_CHANGED: _status,
    EventKind.REASSIGNED: _reassigned,
    EventKind.ESCALATED: _escalated,
    EventKind.PLAYBOOK_SNAPSHOT: _snapshot,
}


def _time(value: Any) -> str:
    try:
        return f"{to_local(datetime.fromisoformat(str(value))):%m-%d %H:%M}"
    except ValueError:
        return str(value or "—")


def _unit(org: OrgDirectory | None, unit_id: Any) -> str:
    unit = org.units.get(str(unit_id)) if org and unit_id else None
    return unit.name if unit else str(unit_id or "—")


def _value(key: str, value: Any) -> str:
    if key in _VALUE_KINDS:
        return label(value, _VALUE_KINDS[key])
    if key in _TIMES:
        return _time(value)
    if key == "channel":
        return _CHANNELS.get(str(value), str(value))
    if key == "requires_response":
        return "是" if value else "否"
    return str(value)


def met_by_text(met_by: str | None) -> str:
    """What met an obligation ("authoritative_release https://…") in words."""
    token, _, evidence = (met_by or "").partition(" ")
    if token in ResponseKind.__members__.values():
        token = ResponseKind(token).label
    elif token.startswith("report_"):
        token = {"report_first_phone": "首报（电话）", "report_first_written": "首报（书面）"}.get(
            token, label(token.removeprefix("report_"), "report_kind")
        )
    return f"{token} {evidence}".strip()


def event_document(event: IncidentEvent) -> str | None:
    """The content address of the document a recorded response names, for a download link."""
    if event.kind != EventKind.RESPONSE_RECORDED:
        return None
    return referenced_sha256(str((event.payload or {}).get("document") or ""))
