"""zh-CN labels for values shown in the web (enums carry most of their own `label`)."""

from __future__ import annotations

from typing import Any

from monitor.domain import (
    ChannelKind,
    ClockType,
    EventKind,
    EventLevel,
    EventType,
    IncidentStatus,
    MediaTier,
    MediaType,
    ObligationStatus,
    OpinionLevel,
    ReportKind,
    ResponseKind,
    SourceHealth,
    SourceKind,
    SupervisionLevel,
    UnitKind,
    UserRole,
)
from monitor.domain.commitments import ResponseChannel, RumorAgency

EVENT_KIND_LABELS: dict[EventKind, str] = {
    EventKind.DETECTED: "监测发现",
    EventKind.ITEM_ATTACHED: "新增关联稿件",
    EventKind.CLASSIFIED: "自动研判",
    EventKind.CONFIRMED: "确认为政务舆情",
    EventKind.DISMISSED: "判定为非政务舆情",
    EventKind.STATUS_CHANGED: "状态变化",
    EventKind.GRADED: "定级",
    EventKind.REGRADED: "调整级别",
    EventKind.ASSIGNED: "交办",
    EventKind.REASSIGNED: "改派",
    EventKind.ACCEPTED: "认领",
    EventKind.MERGED: "合并",
    EventKind.SPLIT: "拆分",
    EventKind.CLOSED: "办结",
    EventKind.REOPENED: "重新打开",
    EventKind.NOTE_ADDED: "备注",
    EventKind.RETURNED: "退回",
    EventKind.SUPERVISED: "政府办督查",
    EventKind.OCCURRED_AT_SET: "登记事发时间",
    EventKind.EVALUATION_RECORDED: "效果评估",
    EventKind.ARCHIVED: "归档",
    EventKind.OPENED_BY_HAND: "人工立案",
    EventKind.REGION_SET: "更正属地",
    EventKind.PLAYBOOK_SNAPSHOT: "锁定处置规则版本",
    EventKind.RESPONSE_RECORDED: "登记回应",
    EventKind.REPORT_RECORDED: "登记信息报告",
    EventKind.ACKNOWLEDGED: "确认收到提醒",
    EventKind.PAUSE_REQUESTED: "申请暂停计时",
    EventKind.PAUSE_APPROVED: "批准暂停计时",
    EventKind.PAUSE_REJECTED: "驳回暂停申请",
    EventKind.RESUMED: "恢复计时",
    EventKind.OBLIGATION_OPENED: "产生时限要求",
    EventKind.OBLIGATION_MET: "时限要求已履行",
    EventKind.OBLIGATION_BREACHED: "时限要求已超期",
    EventKind.OBLIGATION_CANCELLED: "时限要求取消",
    EventKind.ESCALATED: "升级提醒/督办",
    EventKind.OBLIGATION_RESCHEDULED: "期限变化",
    EventKind.OBLIGATION_UNSCHEDULABLE: "无法计算期限",
    EventKind.RULE_ATTACHED: "附加时限规则",
    EventKind.CITIZEN_PROMPT_DISMISSED: "不设市民来信答复时限",
    EventKind.DEADLINE_EXTENDED: "经批准延期",
    EventKind.COMMITMENT_FULFILLED: "承诺兑现",
    EventKind.RUMOR_REFERRED: "谣言移交",
    EventKind.NOTIFICATION_QUEUED: "提醒进入发送队列",
    EventKind.NOTIFICATION_SENT: "提醒已送达",
    EventKind.NOTIFICATION_FAILED: "提醒发送失败",
}

OBLIGATION_STATUS_LABELS = {
    ObligationStatus.OPEN: "计时中",
    ObligationStatus.MET: "按时履行",
    ObligationStatus.LATE: "逾期履行",
    ObligationStatus.BREACHED: "已超期",
    ObligationStatus.CANCELLED: "已取消",
    ObligationStatus.PAUSED: "已暂停",
}
CLOCK_LABELS = {ClockType.NATURAL_HOURS: "自然小时", ClockType.WORKING_DAYS: "工作日", ClockType.NATURAL_DAYS: "自然日"}
OBLIGATION_ACTION_LABELS = {  # the `action` of the rules in playbooks/rules.yaml
    "triage": "研判（确认或排除）",
    "authoritative_release": "发布权威信息",
    "press_conference": "举行新闻发布会",
    "first_response": "首次回应",
    "continued_release": "持续发布",
    "commitment_fulfilment": "兑现并公开承诺事项",
    "follow_up_release": "持续发布权威信息",
    "policy_interpretation": "政策解读",
    "publish_interpretation": "发布政策解读",
    "report": "信息报告",
    "report_phone": "电话报告",
    "report_written": "书面报告",
    "report_follow_up": "续报",
    "report_final": "终报",
    "reply_suggestion": "反馈网民意见建议",
    "reply_complaint": "答复网民咨询投诉",
    "foi_reply": "答复政府信息公开申请",
    "notify_supplement": "一次性告知补正",
}
REPORT_KIND_LABELS = {ReportKind.FIRST: "首报", ReportKind.FOLLOW_UP: "续报", ReportKind.FINAL: "终报"}
SOURCE_KIND_LABELS = {SourceKind.FEED: "RSS/Atom 订阅", SourceKind.HTML_LIST: "网页列表"}
UNIT_KIND_LABELS = {
    UnitKind.GOVERNMENT: "人民政府",
    UnitKind.GOV_OFFICE: "政府办公室",
    UnitKind.PROPAGANDA: "宣传部（网信办）",
    UnitKind.DEPARTMENT: "政府工作部门",
    UnitKind.TOWNSHIP: "镇/乡",
    UnitKind.SUBDISTRICT: "街道",
}

_ENUMS: dict[str, Any] = {
    "event_level": EventLevel,
    "opinion_level": OpinionLevel,
    "event_type": EventType,
    "status": IncidentStatus,
    "media_tier": MediaTier,
    "media_type": MediaType,
    "health": SourceHealth,
    "response_kind": ResponseKind,
    "role": UserRole,
    "supervision_level": SupervisionLevel,
    "response_channel": ResponseChannel,
    "rumor_agency": RumorAgency,
}
_TABLES: dict[str, dict[Any, str]] = {
    "event_kind": {k.value: v for k, v in EVENT_KIND_LABELS.items()},
    "obligation_status": {k.value: v for k, v in OBLIGATION_STATUS_LABELS.items()},
    "clock": {k.value: v for k, v in CLOCK_LABELS.items()},
    "obligation_action": OBLIGATION_ACTION_LABELS,
    "report_kind": {k.value: v for k, v in REPORT_KIND_LABELS.items()},
    "source_kind": {k.value: v for k, v in SOURCE_KIND_LABELS.items()},
    "unit_kind": {k.value: v for k, v in UNIT_KIND_LABELS.items()},
}


CHANNEL_LABELS = {
    ChannelKind.CONSOLE: "控制台（演示）",
    ChannelKind.EMAIL: "电子邮件",
    ChannelKind.SLACK: "Slack",
    ChannelKind.DINGTALK: "钉钉群机器人（@手机号）",
    ChannelKind.WECOM: "企业微信群机器人（@手机号）",
    ChannelKind.WEBHOOK: "通用 Webhook",
}


def label(value: Any, kind: str) -> str:
    """The zh-CN label of a stored value of `kind`; unknown values are shown as they are."""
    if value in (None, ""):
        return "—"
    key = getattr(value, "value", value)
    if kind in _TABLES:
        return _TABLES[kind].get(key, str(key))
    try:
        return str(_ENUMS[kind](key).label)
    except (KeyError, ValueError):
        return str(key)
