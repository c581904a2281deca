"""The ledger's columns (zh-CN, the field names of DOMAIN.md §4.4) and one incident as one row.

No I/O: a `LedgerRecord` (read by `monitor.storage.repo.ledger_export`) and the cut-off in, cells
out. Times stay datetimes (the writers show them in Beijing time); absent values are None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from monitor.domain import (
    EventKind,
    IncidentEvent,
    IncidentStatus,
    MediaTier,
    MediaType,
    Obligation,
    ObligationStatus,
    ReportKind,
    SupervisionLevel,
)
from monitor.domain.commitments import agency_label, channel_label, commitments_of
from monitor.reports.build.labels import (
    ESCALATION_KIND_LABELS,
    EVENT_KIND_LABELS,
    OUTCOME_LABELS,
    RULE_ORDER,
    Names,
    event_level_label,
    event_type_label,
    opinion_level_label,
    response_kind_label,
)
from monitor.reports.build.model import Cell, Column, Kind
from monitor.reports.render.cells import local_minute
from monitor.storage.repo.ledger_export import LedgerEvent, LedgerRecord

EXCEL_CELL_LIMIT = 32_767  # characters Excel keeps in one cell
CUT_NOTE = "……（超出单元格长度上限，其余从略）"
LISTED = 30  # entries of a record list (回应记录, 处置过程…) before "……共 N 条"
REPORT_KIND_LABELS = {ReportKind.FIRST: "首报", ReportKind.FOLLOW_UP: "续报", ReportKind.FINAL: "终报"}
CHANNEL_LABELS = {"phone": "电话", "written": "书面"}
LEDGER_OUTCOMES = {**OUTCOME_LABELS, "cancelled": "已取消"}
EXCLUDED_STATUSES = {IncidentStatus.DISMISSED: "判定为非政务舆情", IncidentStatus.MERGED: "并入其他事件"}

RULE_PREFIX = "时限："
HEAD = (
    Column("id", "编号", Kind.ID),
    Column("external_ref", "外部编号"),
    Column("title", "标题"),
    Column("source", "来源"),
    Column("media_tiers", "媒体层级"),
    Column("media_type", "媒体类型"),
    Column("source_url", "原文链接"),
    Column("item_count", "关联稿件数", Kind.INT),
    Column("first_published_at", "首发时间", Kind.TIME),
    Column("detected_at", "发现时间", Kind.TIME),
    Column("occurred_at", "事发时间", Kind.TIME),
    Column("category", "类别"),
    Column("event_level", "突发事件级别"),
    Column("opinion_level", "舆情级别"),
    Column("requires_response", "是否需回应"),
    Column("region", "属地"),
    Column("multi_region", "涉及多地"),
    Column("owner_unit", "责任单位"),
    Column("lead_unit", "牵头单位"),
    Column("co_units", "协办单位"),
    Column("vertical_managed", "垂直管理"),
)
# 交办/认领/退回: the columns `assignment_cells` fills (one place to extend).
ASSIGNMENT = (Column("reassignments", "改派记录"),)
DEADLINES = (Column("deadlines", "时限概况"),)  # then one column per rule: 时限：<rule title>
TAIL = (
    Column("first_response_at", "首次回应时间", Kind.TIME),
    Column("first_response_kind", "首次回应方式"),
    Column("first_response_link", "首次回应链接"),
    Column("response_count", "回应次数", Kind.INT),
    Column("first_release_at", "首次发布权威信息时间", Kind.TIME),
    Column("press_conference_at", "首次新闻发布会时间", Kind.TIME),
    Column("responses", "回应记录"),
    Column("response_channels", "发布渠道"),
    Column("spokespersons", "发布人"),
    Column("commitments", "承诺事项及兑现"),
    Column("rumor_referrals", "谣言移交"),
    Column("first_report_at", "首报时间", Kind.TIME),
    Column("follow_up_reports", "续报次数", Kind.INT),
    Column("final_report_at", "终报时间", Kind.TIME),
    Column("reports", "信息报告记录"),
    Column("supervision", "提醒与督办"),
    Column("gov_supervision", "督办"),  # 政府办督查 (DOMAIN.md §4.4 supervision[]): 提醒/催办/督办/通报
    Column("status", "状态"),
    Column("closed_at", "办结时间", Kind.TIME),
)
# 效果评估 and 归档: the columns `evaluation_cells` fills.
EVALUATION = (
    Column("subsided_at", "平息时间", Kind.TIME),
    Column("subsiding_h", "平息时长（小时）", Kind.HOURS),
    Column("satisfaction", "满意度"),
    Column("negative_before", "回应前负面占比（%）", Kind.INT),
    Column("negative_after", "回应后负面占比（%）", Kind.INT),
    Column("evaluation_notes", "评估意见"),
    Column("evaluated", "评估登记"),
    Column("archived_at", "归档时间", Kind.TIME),
    Column("archived_by", "归档人"),
)
NARRATIVE = (
    Column("process", "处置过程摘要"),
    Column("summary", "内容摘要"),
)


def rule_order(rule_ids: Iterable[str]) -> list[str]:
    """The national rules in their usual order (DOMAIN.md §8), then a deployment's own, by id."""
    ids = set(rule_ids)
    return [r for r in RULE_ORDER if r in ids] + sorted(ids - set(RULE_ORDER))


def ledger_columns(rule_ids: Sequence[str], names: Names) -> tuple[Column, ...]:
    rules = tuple(Column(f"rule:{r}", f"{RULE_PREFIX}{names.rule(r)}") for r in rule_ids)
    return HEAD + ASSIGNMENT + DEADLINES + rules + TAIL + EVALUATION + NARRATIVE


def is_excluded(record: LedgerRecord) -> bool:
    return record.incident.status in EXCLUDED_STATUSES


def ledger_row(record: LedgerRecord, rule_ids: Sequence[str], names: Names, cutoff: datetime) -> tuple[Cell, ...]:
    """The cells of one incident, in the order of `ledger_columns(rule_ids, names)`."""
    return (
        *_head(record, names),
        *assignment_cells(record, names),
        *_deadlines(record.obligations, rule_ids, cutoff),
        *_responses(record.events, names, cutoff),
        *response_detail_cells(record.events, cutoff),
        *_reports(record.events, names),
        _supervision(record.events, names),
        _gov_supervision(record.events, names),
        IncidentStatus(record.incident.status).label,
        record.incident.closed_at,
        *evaluation_cells(record, names),
        _process(record.events, names),
        _cap(record.incident.summary) or None,
    )


def assignment_cells(record: LedgerRecord, names: Names) -> tuple[Cell, ...]:
    """交办/认领/退回 of the incident, as the columns of ASSIGNMENT. Today the data holds only 改派
    (reassigned events, with their reason); 交办时间, 认领时间 and 退回理由 go here (and in
    ASSIGNMENT) once incidents carry them."""
    moves = [
        f"{local_minute(e.at)} {names.units.get(e.unit_from or '', e.unit_from or '未明确')} → "
        f"{names.units.get(e.unit_to or '', e.unit_to or '未明确')}" + (f"（{e.reason}）" if e.reason else "")
        for e in record.events
        if e.kind == EventKind.REASSIGNED
    ]
    return (_joined(moves),)


def evaluation_cells(record: LedgerRecord, names: Names) -> tuple[Cell, ...]:
    """效果评估 (the latest) and 归档 of the incident, as the columns of EVALUATION. 平息时长 runs from
    the start of the peak hour of item volume (as recorded with the evaluation; the peak day's 00:00 under
    the earlier daily rule) to 平息时间."""
    ev, archived = record.evaluation, record.archived
    archive_cells = (archived.at, names.person(archived.by)) if archived else (None, None)
    if ev is None:
        return (None, None, "未评估", None, None, None, None, *archive_cells)
    subsiding = (ev.subsided_at - ev.peak_at).total_seconds() / 3600 if ev.peak_at else None
    return (
        ev.subsided_at,
        round(subsiding, 1) if subsiding is not None and subsiding >= 0 else None,
        ev.satisfaction.label,
        ev.negative_before,
        ev.negative_after,
        _cap(ev.notes) or None,
        f"{names.person(ev.recorded_by)} {local_minute(ev.recorded_at)}" if ev.recorded_at else None,
        *archive_cells,
    )


def _media_type(record: LedgerRecord) -> str | None:
    """媒体类型 of where the 舆情 was first seen: the earliest published item's, else (an imported
    ledger row, which has no items) the type the ledger gave."""
    value = record.source.media_type if record.source else None
    try:
        chosen = MediaType(value) if value else record.incident.media_type
    except ValueError:
        return value  # a value this version does not know is shown as stored, not dropped
    return chosen.label if chosen else None


def _head(record: LedgerRecord, names: Names) -> tuple[Cell, ...]:
    i, source = record.incident, record.source
    tiers = i.media_tiers or ((MediaTier(source.media_tier),) if source and source.media_tier in _TIERS else ())
    return (
        i.id,
        i.external_ref,
        i.title,
        source.name if source else None,
        "、".join(t.label for t in sorted(tiers, key=lambda t: t.rank)) or None,
        _media_type(record),
        source.url if source else None,
        i.item_count,
        i.first_published_at or (source.published_at if source else None),
        i.detected_at,
        i.occurred_at,
        event_type_label(i.event_type),
        event_level_label(i.event_level),
        opinion_level_label(i.opinion_level),
        _yes(i.requires_response),
        _unit(i.region, names),
        _yes(i.multi_region),
        _unit(i.owner_unit, names),
        _unit(i.lead_unit, names),
        "、".join(names.units.get(u, u) for u in i.co_units) or None,
        _yes(i.vertical_managed),
    )


_TIERS = {t.value for t in MediaTier}


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _unit(unit_id: str | None, names: Names) -> str | None:
    return names.units.get(unit_id, unit_id) if unit_id else None


def outcome(ob: Obligation, cutoff: datetime) -> str:
    """A deadline's outcome at the cut-off, as the monthly report judges it (README "统计口径")."""
    if ob.status == ObligationStatus.CANCELLED:
        return "cancelled"
    if ob.met_at is not None and ob.met_at <= cutoff:
        return "met_on_time" if ob.met_at <= ob.due_at else "met_late"
    if ob.due_at <= cutoff:
        return "breached"
    return "paused" if ob.status == ObligationStatus.PAUSED else "pending"


def _deadline_text(ob: Obligation, result: str) -> str:
    detail = f"期限 {local_minute(ob.due_at)}"
    if result in ("met_on_time", "met_late") and ob.met_at is not None:
        detail += f"，履行 {local_minute(ob.met_at)}"
    elif result == "cancelled" and ob.cancelled_reason:
        detail = ob.cancelled_reason
    return f"{LEDGER_OUTCOMES[result]}（{detail}）"


def _deadlines(obligations: Sequence[Obligation], rule_ids: Sequence[str], cutoff: datetime) -> list[Cell]:
    """时限概况 (how many deadlines, by outcome), then per rule what became of each of its deadlines."""
    results = [(ob, outcome(ob, cutoff)) for ob in obligations]
    counts = {key: sum(1 for _, r in results if r == key) for key in LEDGER_OUTCOMES}
    overview = "、".join(f"{LEDGER_OUTCOMES[k]}{n}" for k, n in counts.items() if n)
    cells: list[Cell] = [f"共{len(results)}项：{overview}" if results else None]
    for rule_id in rule_ids:
        mine = sorted((x for x in results if x[0].rule_id == rule_id), key=lambda x: (x[0].instance, x[0].due_at))
        several = len(mine) > 1 or any(ob.instance for ob, _ in mine)
        texts = [(f"第{ob.instance}次 " if several else "") + _deadline_text(ob, r) for ob, r in mine]
        cells.append(_joined(texts))
    return cells


def _responses(events: Sequence[LedgerEvent], names: Names, cutoff: datetime) -> list[Cell]:
    """首次回应 time / way / link, how many, the first 权威发布 and 新闻发布会, and every response."""
    responses = sorted((e for e in events if e.kind == EventKind.RESPONSE_RECORDED and e.at <= cutoff),
                       key=lambda e: e.at)  # fmt: skip
    first = responses[0] if responses else None

    def first_of(kind: str) -> datetime | None:
        return next((e.at for e in responses if e.what == kind), None)

    listed = [
        " ".join(x for x in (local_minute(e.at), response_kind_label(e.what or ""), e.url or e.document or "") if x)
        + (f"（{channel_label(e.channel)}）" if e.channel else "")
        + (f"（发布人：{e.spokesperson}）" if e.spokesperson else "")
        + (f"（签发：{names.person(e.by)}）" if e.by else "")
        for e in responses
    ]
    if first is None:
        return [None, None, None, 0, None, None, None]
    return [
        first.at,
        response_kind_label(first.what or "") or None,
        first.url or first.document,
        len(responses),
        first_of("authoritative_release"),
        first_of("press_conference"),
        _joined(listed),
    ]


def response_detail_cells(events: Sequence[LedgerEvent], cutoff: datetime) -> tuple[Cell, ...]:
    """发布渠道 and 发布人 of the responses (each once, in order), 承诺事项及兑现, 谣言移交."""
    responses = [e for e in events if e.kind == EventKind.RESPONSE_RECORDED and e.at <= cutoff]
    channels = "、".join(dict.fromkeys(channel_label(e.channel) for e in responses if e.channel)) or None
    speakers = "、".join(dict.fromkeys(e.spokesperson for e in responses if e.spokesperson)) or None
    referrals = [
        f"{local_minute(e.at)} 移交{agency_label(e.what)}" + (f"（{e.reason}）" if e.reason else "")
        for e in events
        if e.kind == EventKind.RUMOR_REFERRED
    ]
    return channels, speakers, _commitments(events, cutoff), _joined(referrals)


def _commitments(events: Sequence[LedgerEvent], cutoff: datetime) -> str | None:
    """Each commitment (numbered by `commitments_of`, as the incident page and the report number them)
    and what became of it."""
    timeline = []
    for e in events:  # timeline order
        if e.kind == EventKind.RESPONSE_RECORDED and e.commitments:
            made = [{"text": text, "due": due} for text, due in e.commitments]
            timeline.append(
                IncidentEvent(
                    0, EventKind.RESPONSE_RECORDED, e.at, e.actor, {"commitments": made, "merged_from": e.merged_from}
                )
            )
        elif e.kind == EventKind.COMMITMENT_FULFILLED and e.number is not None:
            done = {
                "number": e.number,
                "merged_from": e.merged_from,
                "fulfilled_at": e.at.isoformat(),
                "disclosed_url": e.url,
            }
            timeline.append(IncidentEvent(0, EventKind.COMMITMENT_FULFILLED, e.at, e.actor, done))
    listed = []
    for r in commitments_of(timeline):
        due = r.due.isoformat()
        if r.fulfilled_at is not None:
            late = local_minute(r.fulfilled_at)[:10] > due
            state = f"{'逾期' if late else '按期'}兑现 {local_minute(r.fulfilled_at)}"
            state += f" {r.disclosed_url}" if r.disclosed_url else ""
        else:
            state = "已超期未兑现" if local_minute(cutoff)[:10] > due else "待兑现"
        listed.append(f"#{r.number} {r.text}（{due} 前）：{state}")
    return _joined(listed)


def _reports(events: Sequence[LedgerEvent], names: Names) -> list[Cell]:
    """首报 time, how many 续报, 终报 time, and every report with its channel and signer."""
    reports = sorted((e for e in events if e.kind == EventKind.REPORT_RECORDED), key=lambda e: e.at)
    first = next((e.at for e in reports if e.what == ReportKind.FIRST), None)
    final = next((e.at for e in reversed(reports) if e.what == ReportKind.FINAL), None)
    listed = [
        f"{local_minute(e.at)} {_report_label(e.what)}"
        + (f"（{CHANNEL_LABELS.get(e.channel, e.channel)}）" if e.channel else "")
        + (f" 签发：{names.person(e.by)}" if e.by else "")
        for e in reports
    ]
    return [first, sum(1 for e in reports if e.what == ReportKind.FOLLOW_UP), final, _joined(listed)]


def _report_label(kind: str | None) -> str:
    try:
        return REPORT_KIND_LABELS[ReportKind(kind or "")]
    except ValueError:
        return kind or "信息报告"


def _supervision(events: Sequence[LedgerEvent], names: Names) -> str | None:
    """Each warning, breach alert, escalation and 督办 the clock engine sent, with its rule."""
    listed = [
        f"{local_minute(e.at)} {ESCALATION_KIND_LABELS.get(e.what or '', e.what or '升级')}"
        + (f"·{names.rule(e.rule_id)}" if e.rule_id else "")
        for e in sorted(events, key=lambda e: e.at)
        if e.kind == EventKind.ESCALATED
    ]
    return _joined(listed)


def _gov_supervision(events: Sequence[LedgerEvent], names: Names) -> str | None:
    """Each 提醒/催办/督办/通报 by 政府办: when, which, who signed it, the unit pressed and why."""
    listed = [
        f"{local_minute(e.at)} {_supervision_label(e.what)}"
        + (f"（{e.by}）" if e.by else "")
        + (f" {names.units.get(e.unit_to, e.unit_to)}" if e.unit_to else "")
        + (f"：{e.reason}" if e.reason else "")
        for e in sorted(events, key=lambda e: e.at)
        if e.kind == EventKind.SUPERVISED
    ]
    return _joined(listed)


def _supervision_label(level: str | None) -> str:
    try:
        return SupervisionLevel(level or "").label
    except ValueError:
        return level or "督办"


def _process(events: Sequence[LedgerEvent], names: Names) -> str | None:
    """The course of handling in time order: 研判, 调级, 改派, 暂停计时, 回应, 信息报告, 办结, 重新打开."""
    listed = [
        f"{local_minute(e.at)} {_step(e, names)}"
        for e in sorted(events, key=lambda e: e.at)
        if e.kind not in (EventKind.ESCALATED, EventKind.ASSIGNED, EventKind.ACCEPTED, EventKind.SUPERVISED)
    ]
    return _joined(listed)


def _step(e: LedgerEvent, names: Names) -> str:
    label = EVENT_KIND_LABELS.get(EventKind(e.kind), e.kind)
    if e.kind == EventKind.REGRADED and e.levels is not None:
        before = f"{_levels(e.levels_before)} → " if e.levels_before else ""
        label += f"：{before}{_levels(e.levels)}"
    elif e.kind == EventKind.RESPONSE_RECORDED:
        label += f"：{response_kind_label(e.what or '')}"
    elif e.kind == EventKind.REPORT_RECORDED:
        label = _report_label(e.what)
    elif e.kind in (EventKind.REASSIGNED, EventKind.REGION_SET):
        label += f"：{names.units.get(e.unit_to or '', e.unit_to or '未明确')}"
    elif e.kind == EventKind.COMMITMENT_FULFILLED:
        label += f"：承诺 #{e.number}"
    elif e.kind == EventKind.RUMOR_REFERRED:
        label += f"：{agency_label(e.what)}"
    elif e.kind == EventKind.PAUSE_APPROVED:
        label += f"：{names.rule(e.rule_id or '')}" + (f"，至 {local_minute(e.until)}" if e.until else "")
    reason = e.reason if e.kind != EventKind.RESPONSE_RECORDED else None
    return label + (f"（{reason}）" if reason else "")


def _levels(levels: tuple[str | None, str | None] | None) -> str:
    event, opinion = levels or (None, None)
    return f"{event_level_label(event)}/{opinion_level_label(opinion)}"


def _joined(entries: Sequence[str]) -> str | None:
    if not entries:
        return None
    shown = list(entries[:LISTED]) + ([f"……共 {len(entries)} 条"] if len(entries) > LISTED else [])
    return _cap("；".join(shown))


def _cap(text: str) -> str:
    """Text that fits one Excel cell (longer text would be cut by Excel without a word)."""
    if len(text) <= EXCEL_CELL_LIMIT:
        return text
    return text[: EXCEL_CELL_LIMIT - len(CUT_NOTE)] + CUT_NOTE
