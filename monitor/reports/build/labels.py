"""zh-CN names of the things a report mentions: rules, levels, statuses, event kinds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.domain import EventKind, EventLevel, EventType, MediaType, OpinionLevel, ResponseKind, Role
from monitor.domain.reporting import UNKNOWN_LEVEL

NONE_LABEL = "未填写"
# actors that are not people: the engine's own steps and the ledger importer (IMPORT_ACTOR)
ACTOR_LABELS = {"system": "系统", "ledger-import": "台账导入"}

# Titles of the rules of DOMAIN.md §8 (and the engine's playbooks/rules.yaml). A deployment's own
# rule titles, when known, are passed in `Names.rules` and take precedence.
RULE_TITLES: dict[str, str] = {
    "PRJ-TRIAGE-1H": "1小时内完成研判",
    "GB80-AUTH-RELEASE-5H": "5小时内发布权威信息",
    "GB61-PRESSCONF-24H": "24小时内举行新闻发布会",
    "GB61-RESPOND-48H": "48小时内予以回应",
    "GB61-CONTINUOUS": "持续发布权威信息",
    "YJB2015-PHONE-30MIN": "30分钟内电话报告",
    "YJB2015-WRITTEN-1H": "1小时内书面报告",
    "YJB2015-FOLLOWUP-REPORT": "处置期间定时续报",
    "YJB2015-FINAL-REPORT": "处置结束后及时终报",
    "LOCAL-INTERPRETATION-3WD": "3个工作日内发布政策解读",
    "GB2014-WEB-SUGGESTION-7WD": "7个工作日内反馈网民意见建议",
    "GB2014-WEB-COMPLAINT-15WD": "15个工作日内答复网民咨询投诉",
    "OGI-REPLY-20WD": "20个工作日内答复政府信息公开申请",
    "OGI-SUPPLEMENT-NOTICE-7WD": "7个工作日内一次性告知补正",
    "PRJ-COMMITMENT": "兑现并公开承诺事项",
}
RULE_ORDER = tuple(RULE_TITLES)

OUTCOME_LABELS = {
    "met_on_time": "按时履行",
    "met_late": "逾期履行",
    "breached": "超期未履行",
    "paused": "暂停计时",
    "pending": "未到期",
}

ESCALATION_KIND_LABELS = {
    "deadline_warning": "预警",
    "deadline_breach": "超期提醒",
    "escalation": "升级",
    "supervision": "督办",
    "returned": "退回待改派提醒",
    "supervised": "政府办督查通知",
}

PAUSE_OUTCOME_LABELS = {"approved": "已批准", "rejected": "已驳回", "pending": "待审批"}

CORRECTION_FIELD_LABELS = {
    "relevant": "是否政务舆情",
    "department": "责任单位",
    "event_level": "突发事件级别",
    "event_type": "事件类型",
    "region": "属地",
    "opinion_level": "舆情级别",
}

EVENT_KIND_LABELS = {
    EventKind.DETECTED: "监测发现",
    EventKind.CONFIRMED: "研判确认",
    EventKind.GRADED: "定级",
    EventKind.REGRADED: "调整级别",
    EventKind.ASSIGNED: "交办",
    EventKind.REASSIGNED: "改派",
    EventKind.ACCEPTED: "认领",
    EventKind.RETURNED: "退回",
    EventKind.SUPERVISED: "政府办督查",
    EventKind.OCCURRED_AT_SET: "登记事发时间",
    EventKind.EVALUATION_RECORDED: "效果评估",
    EventKind.ARCHIVED: "归档",
    EventKind.OPENED_BY_HAND: "人工立案",
    EventKind.REGION_SET: "更正属地",
    EventKind.RESPONSE_RECORDED: "公开回应",
    EventKind.REPORT_RECORDED: "信息报告",
    EventKind.ACKNOWLEDGED: "确认收到提醒",
    EventKind.PAUSE_REQUESTED: "申请暂停计时",
    EventKind.PAUSE_APPROVED: "批准暂停计时",
    EventKind.PAUSE_REJECTED: "驳回暂停申请",
    EventKind.OBLIGATION_BREACHED: "时限超期",
    EventKind.ESCALATED: "升级/督办",
    EventKind.CLOSED: "办结",
    EventKind.REOPENED: "重新打开",
    EventKind.MERGED: "合并",
    EventKind.DISMISSED: "不予处置",
    EventKind.COMMITMENT_FULFILLED: "承诺兑现",
    EventKind.RUMOR_REFERRED: "谣言移交",
}


def event_level_label(value: str | None) -> str:
    if value == UNKNOWN_LEVEL:
        return "未记录"
    if not value:
        return "非突发事件"
    try:
        level = EventLevel(value)
    except ValueError:
        return value
    return f"{level.value}级（{level.label}）"


def opinion_level_label(value: str | None) -> str:
    if value == UNKNOWN_LEVEL:
        return "未记录"
    if not value:
        return NONE_LABEL
    try:
        level = OpinionLevel(value)
    except ValueError:
        return value
    return f"{level.value}（{level.label}·{level.color}）"


def media_type_label(value: str | None) -> str:
    if not value:
        return "未记录"
    try:
        return MediaType(value).label
    except ValueError:
        return value


def event_type_label(value: str | None) -> str:
    if not value:
        return "未分类"
    try:
        return EventType(value).label
    except ValueError:
        return value


def response_kind_label(value: str) -> str:
    try:
        return ResponseKind(value).label
    except ValueError:
        return value


def role_label(value: str) -> str:
    try:
        return Role(value).label
    except ValueError:
        return value


def event_kind_label(value: str) -> str:
    try:
        return EVENT_KIND_LABELS.get(EventKind(value), value)
    except ValueError:
        return value


LEVEL_ORDER = {"I": 1, "II": 2, "III": 3, "IV": 4, "L1": 1, "L2": 2, "L3": 3, "L4": 4}


def level_sort_key(value: str | None) -> tuple[int, str]:
    return (LEVEL_ORDER.get(value or "", 9), value or "")


@dataclass(frozen=True)
class Names:
    """Display names for ids found in the data (from the org directory and the playbooks)."""

    units: Mapping[str, str] = field(default_factory=dict)  # unit id -> full name
    people: Mapping[str, str] = field(default_factory=dict)  # person id -> name
    rules: Mapping[str, str] = field(default_factory=dict)  # rule id -> title
    city: str = ""

    def unit(self, unit_id: str | None) -> str:
        if not unit_id:
            return "未明确责任单位"
        return self.units.get(unit_id, unit_id)

    def region(self, region_id: str | None) -> str:
        if not region_id:
            return "未明确属地"
        return self.units.get(region_id, region_id)

    def person(self, person_id: str) -> str:
        return self.people.get(person_id) or ACTOR_LABELS.get(person_id, person_id)

    def rule(self, rule_id: str) -> str:
        return self.rules.get(rule_id) or RULE_TITLES.get(rule_id, rule_id)


DRILL_STATES = {
    "incidents": "舆情", "requiring": "需回应的舆情", "responded": "已回应的舆情", "unanswered": "需回应未回应的舆情",
    "responded_required": "需回应且已回应的舆情", "responded_optional": "无需回应但已回应的舆情",
    "reescalated": "首次回应后级别调高的舆情（二次舆情）",
}  # fmt: skip
CHAIN_STATES = {
    "severe": "重特大舆情", "first": "已首报的重特大舆情", "handling": "处置中的重特大舆情",
    "closed": "已办结的重特大舆情", "complete": "首报、续报、终报齐全的重特大舆情",
    "incomplete": "已办结但报告不全的重特大舆情",
}  # fmt: skip
EVALUATION_STATES = {"due": "应做效果评估的舆情", "evaluated": "已做效果评估的舆情", "missing": "未做效果评估的舆情"}
DRILL_DIMENSIONS = {"event_level": "突发事件级别", "opinion_level": "舆情级别", "category": "类别", "region": "属地",
                    "unit": "责任单位", "media_type": "媒体类型"}  # fmt: skip


def drill_label(key: str, names: Names) -> str:
    """What a drill-down key (README "In the web UI") stands for, in words: 超期未履行 · 48小时内予以回应."""
    head, _, rest = key.partition(":")
    if head == "day":
        day, _, state = rest.partition(":")
        return f"{day}日发现、截至统计时点已回应的舆情" if state == "responded" else f"{day}日发现的舆情"
    if head == "ttr":
        return f"首次回应时长 {rest}"
    if head == "chain":
        return CHAIN_STATES.get(rest, rest)
    if head == "evaluation":
        return EVALUATION_STATES.get(rest, rest)
    if head == "ob":
        outcome, _, scope = rest.partition(":")
        what = "到期的时限要求" if outcome == "due" else f"时限要求：{OUTCOME_LABELS.get(outcome, outcome)}"
        kind, _, value = scope.partition(":")
        if kind == "rule":
            return f"{what} · {names.rule(value)}"
        return f"{what} · {names.unit(value)}" if kind == "unit" else what
    dimension, _, value = rest.partition(":")
    state = DRILL_STATES.get(head, head)
    if not dimension:
        return state
    shown = {
        "event_level": event_level_label,
        "opinion_level": opinion_level_label,
        "category": event_type_label,
        "region": names.region,
        "unit": names.unit,
        "media_type": media_type_label,
    }.get(dimension, lambda v: v or "—")(value or None)
    return f"{state} · {DRILL_DIMENSIONS.get(dimension, dimension)}：{shown}"
