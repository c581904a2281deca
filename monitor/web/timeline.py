"""How timeline events read on the incident page: one zh-CN line per event payload."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor.clock import to_local
from monitor.domain import ChannelKind, EventKind, IncidentEvent, OrgDirectory, ResponseKind, Role, SupervisionLevel
from monitor.domain.commitments import agency_label, channel_label
from monitor.domain.evaluation import from_payload
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
    "into": "并入事件",
    "items": "稿件",
    "item_id": "稿件编号",
    "media_tier": "媒体层级",
    "media_type": "媒体类型",
    "source": "来源",
    "imported_at": "导入时间",
    "requires_response_basis": "依据",
    "requires_response_set": "人工指定是否需要回应",
    "co_units_added": "新增协办单位",
    "region": "属地",
    "spokesperson": "发布人",
    "commitments": "承诺事项",
}
_VALUE_KINDS = {
    "kind": "response_kind",
    "report_kind": "report_kind",
    "event_level": "event_level",
    "opinion_level": "opinion_level",
    "event_type": "event_type",
    "media_tier": "media_tier",
    "media_type": "media_type",
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
_TIMES = {"until", "published_at", "reported_at", "t0", "due_at", "imported_at"}
# Accounts that are processes, not people (person ids read as the person's name).
ACTOR_LABELS = {"system": "系统", "notifier": "通知服务", "ledger-import": "台账导入", "scenario": "演练脚本"}
_ACTOR_KEYS = {"approved_by", "requested_by"}


def event_summary(event: IncidentEvent, org: OrgDirectory | None = None) -> str:
    """A one-line zh-CN description of a timeline event's payload (unknown keys shown as they are)."""
    payload: dict[str, Any] = event.payload or {}
    special = _SPECIAL.get(event.kind)
    if special is not None:
        return special(payload, org)
    if event.kind in _OBLIGATION_EVENTS:
        return _obligation(payload)
    return "；".join(_parts(payload, org))


def _parts(payload: dict[str, Any], org: OrgDirectory | None) -> list[str]:
    if payload.get("rule") and payload.get("instance"):  # one obligation of the rule: 承诺 #2 (暂停, 确认收到)
        payload = {**payload, "rule": f"{payload['rule']} #{payload['instance']}"}
    parts = [
        f"{PAYLOAD_LABELS.get(k, k)}：{_value(k, v, org)}"
        for k, v in payload.items()
        if k not in _HIDDEN and k != "date_only" and v not in (None, "", [], {})
    ]
    if payload.get("date_only") is True:  # a ledger row that gave a day but no time
        parts.append("台账只记录了日期，时间按规则推定")
    return parts


def _item_attached(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 标题：…；链接：…；媒体层级：市级；归并依据：与本事件相似度 0.61（阈值 0.25）."""
    reason = payload.get("reason")
    parts = _parts({k: v for k, v in payload.items() if k not in ("reason", "rule", "from")}, org)
    basis = _attach_basis(payload if payload.get("rule") else reason if isinstance(reason, dict) else {})
    if basis:
        parts.append(f"归并依据：{basis}")
    elif reason and not isinstance(reason, dict):
        parts.append(f"原因：{reason}")
    if payload.get("rule") and isinstance(reason, str) and reason:
        parts.append(f"原因：{reason}")
    return "；".join(parts)


def _attach_basis(reason: dict[str, Any]) -> str:
    rule = reason.get("rule")
    if rule == "similar":
        return f"与本事件相似度 {reason.get('similarity')}（阈值 {reason.get('threshold')}）"
    if rule == "new":
        return f"未与 {reason.get('compared', 0)} 个在办事件相似（阈值 {reason.get('threshold')}），新建事件"
    if rule == "repost":
        return f"转载稿件 #{reason.get('original')}"
    if rule == "merge":
        return f"由事件 #{reason.get('from')} 合并而来"
    if rule == "split":
        return f"自事件 #{reason.get('from')} 拆分而来"
    if rule == "manual":
        return f"人工并入；理由：{reason.get('reason', '')}"
    return "；".join(f"{k}：{v}" for k, v in reason.items()) if reason else ""


def actor_name(actor: str | None, org: OrgDirectory | None = None) -> str:
    """Who did it, in words: processes by what they are, person ids by name, accounts by username."""
    text = str(actor or "")
    if text in ACTOR_LABELS:
        return ACTOR_LABELS[text]
    person = org.people.get(text) if org else None
    return person.name if person else text


def _note(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    return str(payload.get("text", ""))


def _status(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    return f"{label(payload.get('from'), 'status')} → {label(payload.get('to'), 'status')}"


def _reassigned(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    old, new = (_unit(org, payload.get(k)) for k in ("from", "to"))
    return f"{old} → {new}；原因：{payload.get('reason', '')}"


def _occurred_at_set(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 事发时间 未登记 → 09-24 06:10（北京时间）；原因：据现场报告."""
    old = _time(payload["from"]) if payload.get("from") else "未登记"
    return f"事发时间 {old} → {_time(payload.get('to'))}（北京时间）；原因：{payload.get('reason', '')}"


def _region_set(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 属地 明湖市东港镇人民政府 → 明湖市南山镇人民政府；原因：经核实…."""
    old = _unit(org, payload["from"]) if payload.get("from") else "未识别"
    return f"属地 {old} → {_unit(org, payload.get('to'))}；原因：{payload.get('reason', '')}"


_CORRECTED = {"relevant": "相关性", "department": "责任单位", "region": "属地", **PAYLOAD_LABELS}


def _opened_by_hand(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 从稿件 #12《…》人工立案；理由：…；更正研判：相关性 否 → 是、类别 非政务 → 其他政务."""
    text = f"从稿件 #{payload.get('item_id')}《{payload.get('title', '')}》人工立案；理由：{payload.get('reason', '')}"
    if payload.get("occurred_at"):
        text += f"；事发时间 {_time(payload['occurred_at'])}"
    fixes = [
        f"{_CORRECTED.get(f, f)} {_corrected(f, old, org)} → {_corrected(f, new, org)}"
        for f, (old, new) in (payload.get("corrected") or {}).items()
    ]
    return text + (f"；更正研判：{'、'.join(fixes)}" if fixes else "")


def _corrected(field: str, value: Any, org: OrgDirectory | None) -> str:
    if field == "relevant":
        return "未能研判" if value is None else "是" if value else "否"
    if field in ("department", "region"):
        return _unit(org, value)
    return _value(field, value, org) if value is not None else "—"


def _escalated(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 预警 · GB80-AUTH-RELEASE-5H（截止 09-24 14:00）→ 联络员、值班员：赵磊、朱敏;
    a 交办 again after a 改派: 交办 · …; a 退回 to the duty officers: 退回待改派 → 值班员：朱敏、秦浩."""
    kind = str(payload.get("kind") or "")
    kind_text = AlertKind(kind).label if kind in AlertKind.__members__.values() else kind or "提醒"
    if "@" in str(payload.get("step") or ""):  # assigned@17: a 交办 after 改派; assigned@17#2: a reminder
        kind_text = "待认领提醒" if "#" in str(payload.get("step")) else "交办"
    if payload.get("level") in SupervisionLevel.__members__.values():  # a 政府办督查's notice
        kind_text = f"{SupervisionLevel(payload['level']).label}通知"
    roles = "、".join(Role(r).label if r in Role.__members__.values() else str(r) for r in payload.get("roles") or [])
    people = org.people if org else {}
    names = "、".join(people[p].name if p in people else str(p) for p in payload.get("people") or [])
    target = f"{roles}：{names}" if names else f"{roles}（无人可通知，已告警值班员）"
    co = "、".join(_unit(org, u) for u in payload.get("co_units") or [])
    with_co = f"（含协办单位：{co}）" if co else ""
    if not payload.get("rule"):
        return f"{kind_text} → {target}{with_co}"
    return f"{kind_text} · {payload.get('rule', '')}（截止 {_time(payload.get('due_at'))}）→ {target}{with_co}"


def _assigned(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 交办给 明湖市水务局（改派自 明湖市应急管理局；原因：停水属水务）."""
    text = f"交办给 {_unit(org, payload.get('unit'))}"
    if payload.get("from"):
        text += f"（改派自 {_unit(org, payload.get('from'))}；原因：{payload.get('reason', '')}）"
    return text


def _accepted(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 明湖市应急管理局 认领（值班员代为认领）；认领意见：已组织核查."""
    text = f"{_unit(org, payload.get('unit'))} 认领" + ("（值班员代为认领）" if payload.get("on_behalf") else "")
    return text + (f"；认领意见：{payload['note']}" if payload.get("note") else "")


def _returned(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 明湖市应急管理局 退回，待值班员改派；退回理由：停水属水务."""
    who = f"{_unit(org, payload.get('unit'))} 退回" + ("（值班员代为退回）" if payload.get("on_behalf") else "")
    return f"{who}，待值班员改派；退回理由：{payload.get('reason', '')}"


def _supervised(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 督办 明湖市应急管理局：48小时已过仍未回应（督办人：市政府办公室督查科 蒋文博）."""
    level = str(payload.get("level") or "")
    level_text = SupervisionLevel(level).label if level in SupervisionLevel.__members__.values() else "督办"
    unit = _unit(org, payload.get("unit"))
    return f"{level_text} {unit}：{payload.get('reason', '')}（督办人：{payload.get('by', '')}）"


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


def _fulfilled(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 承诺 #1「完成路面修复」（2026-10-10 前）于 10-09 16:00 兑现；公开链接：https://…"""
    text = f"承诺 #{payload.get('number')}「{payload.get('text', '')}」（{payload.get('due', '')} 前）"
    text += f"于 {_time(payload.get('fulfilled_at'))} 兑现；公开链接：{payload.get('disclosed_url', '')}"
    return text + (f"；备注：{payload['note']}" if payload.get("note") else "")


def _referred(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 于 09-24 10:00 移交公安机关；备注：网传“死亡10人”系谣言."""
    text = f"于 {_time(payload.get('referred_at'))} 移交{agency_label(payload.get('to'))}"
    return text + (f"；备注：{payload['note']}" if payload.get("note") else "")


def _evaluation(payload: dict[str, Any], org: OrgDirectory | None) -> str:
    """e.g. 平息时间 09-27 00:00；满意度：基本满意；负面占比 60% → 15%；评估意见：…；按稿件量建议 09-27 00:00."""
    found = from_payload(payload, datetime.min.replace(tzinfo=UTC), "")
    if found is None:
        return "；".join(_parts(payload, org))
    parts = [f"平息时间 {_time(payload.get('subsided_at'))}", f"满意度：{found.satisfaction.label}"]
    if found.negative_before is not None or found.negative_after is not None:
        before, after = (f"{v}%" if v is not None else "—" for v in (found.negative_before, found.negative_after))
        parts.append(f"负面占比 {before} → {after}")
    if found.notes:
        parts.append(f"评估意见：{found.notes}")
    if found.suggested_subsided_at:
        parts.append(f"按稿件量建议 {_time(payload.get('suggested_subsided_at'))}")
    return "；".join(parts)


_SPECIAL: dict[EventKind, Callable[[dict[str, Any], OrgDirectory | None], str]] = {
    EventKind.EVALUATION_RECORDED: _evaluation,
    EventKind.COMMITMENT_FULFILLED: _fulfilled,
    EventKind.RUMOR_REFERRED: _referred,
    EventKind.NOTIFICATION_QUEUED: _notification,
    EventKind.NOTIFICATION_SENT: _notification,
    EventKind.NOTIFICATION_FAILED: _notification,
    EventKind.NOTE_ADDED: _note,
    EventKind.STATUS_CHANGED: _status,
    EventKind.REASSIGNED: _reassigned,
    EventKind.OCCURRED_AT_SET: _occurred_at_set,
    EventKind.REGION_SET: _region_set,
    EventKind.OPENED_BY_HAND: _opened_by_hand,
    EventKind.ASSIGNED: _assigned,
    EventKind.ACCEPTED: _accepted,
    EventKind.RETURNED: _returned,
    EventKind.SUPERVISED: _supervised,
    EventKind.ESCALATED: _escalated,
    EventKind.PLAYBOOK_SNAPSHOT: _snapshot,
    EventKind.ITEM_ATTACHED: _item_attached,
}


def _time(value: Any) -> str:
    try:
        return f"{to_local(datetime.fromisoformat(str(value))):%m-%d %H:%M}"
    except ValueError:
        return str(value or "—")


def _unit(org: OrgDirectory | None, unit_id: Any) -> str:
    unit = org.units.get(str(unit_id)) if org and unit_id else None
    return unit.name if unit else str(unit_id or "—")


def _value(key: str, value: Any, org: OrgDirectory | None = None) -> str:
    if key in _ACTOR_KEYS:
        return actor_name(str(value), org)
    if key == "source" and str(value).startswith("import:"):
        return f"台账导入（{str(value).removeprefix('import:')}）"
    if key in _VALUE_KINDS:
        return label(value, _VALUE_KINDS[key])
    if key in _TIMES:
        return _time(value)
    if key == "channel":
        return _CHANNELS.get(str(value)) or channel_label(value)
    if key == "commitments" and isinstance(value, list):
        return "、".join(f"{c.get('text', '')}（{c.get('due', '')} 前）" for c in value if isinstance(c, dict))
    if key in ("requires_response", "requires_response_set"):
        return "是" if value else "否"
    if key == "co_units_added":
        return "、".join(_unit(org, u) for u in value or [])
    if key in ("owner_unit", "region"):  # unit ids (a region is its locality's unit id)
        return _unit(org, value)
    return str(value)


_TRIAGE_TOKENS = {"confirm": "确认为政务舆情", "dismiss": "排除（非政务舆情）"}


def met_by_text(met_by: str | None) -> str:
    """What met an obligation ("authoritative_release https://…") in words."""
    token, _, evidence = (met_by or "").partition(" ")
    if token in ResponseKind.__members__.values():
        token = ResponseKind(token).label
    elif token in _TRIAGE_TOKENS:
        token = _TRIAGE_TOKENS[token]
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
