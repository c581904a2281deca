"""五、超期与督办 / 六、暂停计时 / 七、级别调整 / 八、研判纠错 / 九、重点舆情简析."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from monitor.clock import to_local
from monitor.domain.evaluation import Evaluation
from monitor.domain.reporting import (
    CommitmentFacts,
    CorrectionFacts,
    EscalationFacts,
    IncidentFacts,
    PauseFacts,
    RegradeFacts,
    TimelineFacts,
)
from monitor.reports.build.accumulate import MonthAccumulator, Overdue, hours
from monitor.reports.build.followups import ReportChain
from monitor.reports.build.labels import (
    CORRECTION_FIELD_LABELS,
    ESCALATION_KIND_LABELS,
    OUTCOME_LABELS,
    PAUSE_OUTCOME_LABELS,
    Names,
    event_kind_label,
    event_level_label,
    opinion_level_label,
    response_kind_label,
    role_label,
)
from monitor.reports.build.model import Cell, Column, Kind, Section, Table, Timeline


@dataclass(frozen=True)
class Details:
    """The records a report lists, read for the incidents and month in question."""

    escalations: Sequence[EscalationFacts] = ()
    pauses: Sequence[PauseFacts] = ()
    regrades: Sequence[RegradeFacts] = ()
    corrections: Sequence[CorrectionFacts] = ()
    timelines: Mapping[int, Sequence[TimelineFacts]] = field(default_factory=dict)
    titles: Mapping[int, str] = field(default_factory=dict)  # incident id -> title, for records outside the month
    report_chains: Sequence[ReportChain] = ()  # 首报/续报/终报 of the month's 重特大 incidents
    evaluations: Mapping[int, Evaluation] = field(default_factory=dict)  # incident id -> latest 效果评估
    commitments: Sequence[CommitmentFacts] = ()  # 承诺事项 due in the month (承诺兑现率)


Who = dict[tuple[tuple[str, ...], tuple[str, ...]], str]  # (people, roles) -> "赵磊（联络员）"


def _who(e: EscalationFacts, names: Names, cache: Who) -> str:
    """Whom an escalation reached, e.g. 赵磊（联络员）; memoised: ladders repeat the same people."""
    key = (e.people, e.roles)
    if key not in cache:
        people = "、".join(names.person(p) for p in e.people) or "（未解析到人员）"
        roles = "、".join(role_label(r) for r in e.roles)
        cache[key] = f"{people}（{roles}）" if roles else people
    return cache[key]


def _minute(value: datetime) -> str:
    return to_local(value).strftime("%m-%d %H:%M")


def overdue_section(acc: MonthAccumulator, details: Details, names: Names) -> Section:
    """One list of every deadline missed, with the escalations (after the deadline) each one set off."""
    keys = {(o.obligation.incident_id, o.obligation.rule_id, o.obligation.instance) for o in acc.overdue}
    ladder: dict[tuple[int, str | None, int], list[EscalationFacts]] = defaultdict(list)
    for e in sorted(details.escalations, key=lambda e: (e.at, e.incident_id)):
        if e.kind != "deadline_warning" and (e.incident_id, e.rule_id, e.instance) in keys:
            ladder[(e.incident_id, e.rule_id, e.instance)].append(e)
    entries = sorted(acc.overdue, key=lambda o: (o.outcome != "breached", -o.delay_h, o.obligation.id))
    who: Who = {}
    rows = tuple(_overdue_row(o, ladder.get(_key(o), []), names, who) for o in entries)
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("unit", "责任单位"),
        Column("rule", "时限要求"),
        Column("due_at", "截止时间", Kind.TIME),
        Column("outcome", "结果"),
        Column("met_at", "履行时间", Kind.TIME),
        Column("delay_h", "超时（小时）", Kind.HOURS),
        Column("escalations", "提醒与督办次数", Kind.INT),
        Column("supervision", "超期提醒、升级与督办（时间、对象、送达）"),
    )
    note = "超时：逾期履行的算到履行时，超期未履行的算到统计时点。只列截止时间之后的提醒、升级与督办。"
    table = Table("overdue", "超期与逾期清单（含督办记录）", columns, rows, long_list=True, note=note)
    breached = sum(1 for o in acc.overdue if o.outcome == "breached")
    supervised = len({k[0] for k, v in ladder.items() if any(e.kind == "supervision" for e in v)})
    text = (
        f"本月到期时限中，超期未履行 {breached} 项、逾期履行 {len(acc.overdue) - breached} 项；"
        f"{supervised} 起舆情进入督办，超期提醒、升级与督办共 {sum(len(v) for v in ladder.values())} 次。"
    )
    return Section("overdue", "超期与督办", (text,), (table,))


def _key(o: Overdue) -> tuple[int, str | None, int]:
    return (o.obligation.incident_id, o.obligation.rule_id, o.obligation.instance)


def _overdue_row(o: Overdue, steps: list[EscalationFacts], names: Names, who: Who) -> tuple[Cell, ...]:
    ob = o.obligation
    text = "；".join(_step_text(e, names, who) for e in steps)
    return (
        ob.incident_id, ob.incident_title, names.unit(ob.owner_unit), names.rule(ob.rule_id), ob.due_at,
        OUTCOME_LABELS[o.outcome], ob.met_at if o.outcome == "met_late" else None, o.delay_h, len(steps), text,
    )  # fmt: skip


def _step_text(e: EscalationFacts, names: Names, who: Who) -> str:
    delivered = f"，{_minute(e.delivered_at)}送达" if e.delivered_at else ""
    return f"{_minute(e.at)} {ESCALATION_KIND_LABELS.get(e.kind, e.kind)}→{_who(e, names, who)}{delivered}"


def pauses_section(details: Details, names: Names) -> Section:
    pauses = sorted(details.pauses, key=lambda p: (p.requested_at, p.incident_id))
    rows = tuple(
        (
            p.incident_id, details.titles.get(p.incident_id, ""), names.rule(p.rule_id), p.requested_at,
            names.person(p.requested_by), p.until, hours(p.requested_at, p.until) if p.until else None, p.reason,
            PAUSE_OUTCOME_LABELS.get(p.outcome, p.outcome), names.person(p.decided_by) if p.decided_by else "",
            p.decided_at, p.decision_note,
        )
        for p in pauses
    )  # fmt: skip
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("rule", "时限要求"),
        Column("requested_at", "申请时间", Kind.TIME),
        Column("requested_by", "申请人"),
        Column("until", "暂停至", Kind.TIME),
        Column("length_h", "暂停时长（小时）", Kind.HOURS),
        Column("reason", "暂停原因"),
        Column("outcome", "审批结果"),
        Column("decided_by", "审批人"),
        Column("decided_at", "审批时间", Kind.TIME),
        Column("note", "审批意见"),
    )
    counts = Counter(p.outcome for p in pauses)
    self_approved = sum(1 for p in pauses if p.outcome == "approved" and p.decided_by == p.requested_by)
    text = (
        f"本月申请暂停计时 {len(pauses)} 次：批准 {counts['approved']} 次，驳回 {counts['rejected']} 次，"
        f"待审批 {counts['pending']} 次。暂停须写明原因和期限，并由申请人以外的人批准。"
    )
    if self_approved:
        text += f"注意：{self_approved} 次由申请人本人批准，请核查。"
    return Section("pauses", "暂停计时", (text,), (Table("pauses", "暂停计时记录", columns, rows),))


def regrades_section(details: Details, names: Names) -> Section:
    regrades = sorted(details.regrades, key=lambda r: (r.at, r.incident_id))
    rows = tuple(
        (
            r.incident_id, details.titles.get(r.incident_id, ""), r.at, names.person(r.actor),
            f"{event_level_label(r.event_level_before)}／{opinion_level_label(r.opinion_level_before)}",
            f"{event_level_label(r.event_level_after)}／{opinion_level_label(r.opinion_level_after)}", r.reason,
        )
        for r in regrades
    )  # fmt: skip
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("at", "调整时间", Kind.TIME),
        Column("actor", "调整人"),
        Column("before", "原级别（突发／舆情）"),
        Column("after", "新级别（突发／舆情）"),
        Column("reason", "调整原因"),
    )
    text = f"本月调整级别 {len(rows)} 次。升级后新增的时限从原始起算时间计算；降级取消的时限记录了原因。"
    return Section("regrades", "级别调整", (text,), (Table("regrades", "级别调整记录", columns, rows),))


def corrections_section(details: Details, names: Names) -> Section:
    items = sorted(details.corrections, key=lambda c: (c.at, c.incident_id or 0, c.item_id or 0))
    by_field = Counter(c.field for c in items)
    summary = tuple((CORRECTION_FIELD_LABELS.get(f, f), n) for f, n in sorted(by_field.items(), key=lambda kv: -kv[1]))

    def value(c: CorrectionFacts, v: str | None) -> str:
        if v is None:
            return ""
        return names.unit(v) if c.field in ("department", "region") else v

    rows = tuple(
        (c.at, c.incident_id, c.item_id, CORRECTION_FIELD_LABELS.get(c.field, c.field), value(c, c.old_value),
         value(c, c.new_value), names.person(c.actor))
        for c in items
    )  # fmt: skip
    columns = (
        Column("at", "纠正时间", Kind.TIME),
        Column("incident_id", "事件编号", Kind.ID),
        Column("item_id", "稿件编号", Kind.ID),
        Column("field", "纠正字段"),
        Column("old", "原判定"),
        Column("new", "纠正为"),
        Column("actor", "纠正人"),
    )
    tables = (
        Table(
            "corrections_summary", "研判纠错汇总", (Column("field", "纠正字段"), Column("n", "次数", Kind.INT)), summary
        ),
        Table("corrections", "研判纠错记录", columns, rows, long_list=True),
    )
    text = f"本月人工纠正自动研判结果 {len(items)} 次，将用于模型再训练。"
    return Section("corrections", "研判纠错", (text,), tables)


def top_section(top: Sequence[IncidentFacts], details: Details, names: Names) -> Section:
    rows = tuple(
        (
            f.id, f.title, event_level_label(f.event_level), opinion_level_label(f.opinion_level),
            names.unit(f.owner_unit), f.detected_at, f.assigned_at, f.accepted_at, f.returned_reason or "",
            f.first_response_at,
            max(0.0, hours(f.detected_at, f.first_response_at)) if f.first_response_at else None, f.item_count,
        )
        for f in top
    )  # fmt: skip
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("event_level", "突发事件级别"),
        Column("opinion_level", "舆情级别"),
        Column("unit", "责任单位"),
        Column("detected_at", "发现时间", Kind.TIME),
        Column("assigned_at", "交办时间", Kind.TIME),
        Column("accepted_at", "认领时间", Kind.TIME),
        Column("returned_reason", "退回理由"),
        Column("first_response_at", "首次回应时间", Kind.TIME),
        Column("ttr_h", "首次回应时长（小时）", Kind.HOURS),
        Column("items", "相关稿件", Kind.INT),
    )
    timelines = tuple(_timeline(f, details.timelines.get(f.id, ()), names) for f in top)
    timeline_rows = tuple((t.incident_id, at, what, who) for t in timelines for at, what, who in t.entries)
    timeline_columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("at", "时间", Kind.TIME),
        Column("what", "事项"),
        Column("who", "操作人"),
    )
    text = "按突发事件级别、舆情级别和相关稿件数选出本月最重要的舆情，列出处置时间线。"
    tables = (
        Table("top_incidents", "重点舆情", columns, rows),
        Table("timelines", "重点舆情时间线", timeline_columns, timeline_rows),
    )
    return Section("top", "重点舆情简析", (text,), tables, timelines=timelines)


def _timeline(f: IncidentFacts, entries: Sequence[TimelineFacts], names: Names) -> Timeline:
    lines = tuple((e.at, timeline_text(e, names), names.person(e.actor)) for e in sorted(entries, key=lambda e: e.seq))
    return Timeline(f.id, f"#{f.id} {f.title}", lines)


def timeline_text(e: TimelineFacts, names: Names) -> str:
    """One timeline line in words, e.g. 公开回应：发布权威信息（https://…）."""
    bits: list[str] = []
    if e.response_kind:
        bits.append(response_kind_label(e.response_kind))
    if e.escalation_kind:
        people = "、".join(names.person(p) for p in e.people)
        bits.append(f"{ESCALATION_KIND_LABELS.get(e.escalation_kind, e.escalation_kind)}→{people}")
    if e.rule_id:
        bits.append(names.rule(e.rule_id))
    if e.kind in ("confirmed", "graded", "regraded") and (e.event_level or e.opinion_level):
        bits.append(f"{event_level_label(e.event_level)}／{opinion_level_label(e.opinion_level)}")
    if e.owner_unit:
        bits.append(f"{'交办给' if e.kind == 'assigned' else '改派至'}{names.unit(e.owner_unit)}")
    if e.evidence:
        bits.append(f"（{e.evidence}）")
    if e.reason:
        what = {"returned": "退回理由", "accepted": "认领意见", "evaluation_recorded": "评估意见",
                "archived": "归档说明"}.get(e.kind, "原因")  # fmt: skip
        bits.append(f"{what}：{e.reason}" if e.kind != "response_recorded" else e.reason)
    text = "，".join(bits)
    return f"{event_kind_label(e.kind)}：{text}" if text else event_kind_label(e.kind)
