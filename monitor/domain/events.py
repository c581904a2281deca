"""The incident timeline: an append-only log of what happened, and who did it.

Obligation state is derived from this log (DESIGN.md §3), so events are facts, never edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Kinds of timeline event. Stable values; add new kinds at the end of a group."""

    # lifecycle
    DETECTED = "detected"  # 监测发现（事件创建）
    ITEM_ATTACHED = "item_attached"  # 新增关联稿件
    CLASSIFIED = "classified"  # 自动研判结果
    CONFIRMED = "confirmed"  # 人工确认为政务舆情
    DISMISSED = "dismissed"  # 判定为非政务舆情
    STATUS_CHANGED = "status_changed"  # 流程状态变化
    GRADED = "graded"  # 定级
    REGRADED = "regraded"  # 调整级别（附原因）
    ASSIGNED = "assigned"  # 交办
    REASSIGNED = "reassigned"  # 改派（附原因）
    ACCEPTED = "accepted"  # 认领
    MERGED = "merged"  # 合并到其他事件
    SPLIT = "split"  # 拆分出新事件
    CLOSED = "closed"  # 办结
    REOPENED = "reopened"  # 重新打开
    NOTE_ADDED = "note_added"  # 备注
    RETURNED = "returned"  # 退回（责任单位认为非本单位职责，附理由；待值班员改派）
    OCCURRED_AT_SET = "occurred_at_set"  # 登记/更正事发时间（附原值、新值与原因）
    EVALUATION_RECORDED = "evaluation_recorded"  # 登记/更正效果评估（平息时间、满意度等；后一次更正前一次）
    ARCHIVED = "archived"  # 归档（已办结的事件；离开默认视图，仍计入报告与台账）
    OPENED_BY_HAND = "opened_by_hand"  # 从稿件手动立案（附稿件、原因与人工更正的研判）
    REGION_SET = "region_set"  # 更正属地（附原值、新值与原因）
    SUPERVISED = "supervised"  # 政府办督查：提醒/催办/督办/通报（附级别、督办人与事由）
    # obligations and responses
    PLAYBOOK_SNAPSHOT = "playbook_snapshot"  # 锁定处置规则版本
    RESPONSE_RECORDED = "response_recorded"  # 登记回应（附证据与审批人）
    REPORT_RECORDED = "report_recorded"  # 登记首报/续报/终报
    ACKNOWLEDGED = "acknowledged"  # 确认收到提醒
    PAUSE_REQUESTED = "pause_requested"  # 申请暂停计时
    PAUSE_APPROVED = "pause_approved"  # 批准暂停计时
    PAUSE_REJECTED = "pause_rejected"  # 驳回暂停申请
    RESUMED = "resumed"  # 恢复计时
    OBLIGATION_OPENED = "obligation_opened"  # 产生时限要求
    OBLIGATION_MET = "obligation_met"  # 时限要求已履行
    OBLIGATION_BREACHED = "obligation_breached"  # 时限要求已超期
    OBLIGATION_CANCELLED = "obligation_cancelled"  # 时限要求取消
    ESCALATED = "escalated"  # 升级提醒/督办
    OBLIGATION_RESCHEDULED = "obligation_rescheduled"  # 期限变化（暂停顺延、延期、日历更正）
    OBLIGATION_UNSCHEDULABLE = "obligation_unschedulable"  # 无法计算期限（如缺少工作日历数据）
    RULE_ATTACHED = "rule_attached"  # 人工附加规则（如网民留言 7 个工作日）
    DEADLINE_EXTENDED = "deadline_extended"  # 经批准延期
    CITIZEN_PROMPT_DISMISSED = "citizen_prompt_dismissed"  # 市民来信/12345：不设答复时限（附理由）
    COMMITMENT_FULFILLED = "commitment_fulfilled"  # 承诺事项已兑现并公开（附公开链接）
    RUMOR_REFERRED = "rumor_referred"  # 谣言移交公安/网信部门
    # delivery
    NOTIFICATION_QUEUED = "notification_queued"  # 提醒已进入发送队列
    NOTIFICATION_SENT = "notification_sent"  # 提醒已送达
    NOTIFICATION_FAILED = "notification_failed"  # 提醒发送失败


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """One entry of an incident's timeline."""

    incident_id: int
    kind: EventKind
    at: datetime  # when it happened (business time)
    actor: str = "system"  # a username, a person id, or "system"
    payload: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None  # position in the incident's log, assigned on append
    recorded_at: datetime | None = None  # when it was written
    id: int | None = None
