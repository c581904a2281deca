"""十、信息报告完整性 / 十一、二次舆情 / 十二、承诺兑现 (DOMAIN.md §5.2 and §5.3).

- 首报/续报/终报完整率: of the month's 重特大 (突发事件 I、II 级) incidents whose handling had ended
  (closed, not reopened) at the cut-off, the share with a 首报, a 终报 and — when handling took
  more than 24 hours — at least one 续报 (国务院应急办 2015 通知: 续报 during handling, 终报 after it).
- 二次舆情率: of the month's incidents answered by the cut-off, the share whose 突发事件 level or
  舆情 level was raised after the first public response (仙桃: 处理不当…升级).
- 承诺兑现率: monitor.reports.build.commitments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.domain.reporting import UNKNOWN_LEVEL, IncidentFacts, RegradeFacts, TimelineFacts
from monitor.reports.build.labels import LEVEL_ORDER, Names, event_level_label, opinion_level_label
from monitor.reports.build.model import Cell, Column, Kind, Section, Table, ratio

SEVERE_LEVELS = ("I", "II")  # 特别重大、重大: the levels the 2015 reporting rules (首报/续报/终报) cover
FOLLOW_UP_AFTER = timedelta(hours=24)  # handling longer than this needs at least one 续报 (DOMAIN.md §5.2)
FIRST, FOLLOW_UP, FINAL = "first", "follow_up", "final"  # ReportKind values
_NO_LEVEL = 5  # rank of "no level" (非突发事件 / no 舆情 level): below IV and L4


@dataclass(frozen=True, slots=True)
class ReportChain:
    """The 信息报告 of one 重特大 incident of the month, as known at the cut-off."""

    incident: IncidentFacts
    first_at: datetime | None  # the earliest 首报 (phone or written)
    follow_ups: int  # 续报 recorded
    final_at: datetime | None  # the latest 终报
    closed_at: datetime | None  # when handling ended, if it had ended (closed, not reopened) at the cut-off
    needs_follow_up: bool  # handling took (or, still running, has taken) more than 24 hours

    @property
    def missing(self) -> tuple[str, ...]:
        """The reports a complete chain has and this one lacks (终报 only once handling has ended)."""
        lacking = [] if self.first_at else ["首报"]
        lacking += ["续报"] if self.needs_follow_up and not self.follow_ups else []
        lacking += ["终报"] if self.closed_at and not self.final_at else []
        return tuple(lacking)

    @property
    def complete(self) -> bool:
        return self.closed_at is not None and not self.missing


def report_chains(
    severe: Sequence[IncidentFacts],
    timelines: Mapping[int, Sequence[TimelineFacts]],
    reports: Mapping[tuple[int, int], tuple[str, datetime]],
    cutoff: datetime,
) -> list[ReportChain]:
    """Each 重特大 incident's reports and end of handling, from its timeline known at the cut-off;
    `reports[(incident id, seq)]` is the kind (first | follow_up | final) of a report_recorded event
    and when the report was made."""
    chains = []
    for f in sorted(severe, key=lambda f: f.id):
        first = final = closed = None
        follow_ups = 0
        for e in sorted(timelines.get(f.id, ()), key=lambda e: e.seq):
            if e.kind == "report_recorded":
                kind, at = reports.get((f.id, e.seq), ("", e.at))
                first = min(first or at, at) if kind == FIRST else first
                final = max(final or at, at) if kind == FINAL else final
                follow_ups += kind == FOLLOW_UP
            elif e.kind == "closed":
                closed = e.at
            elif e.kind == "reopened":
                closed = None
        ended = closed or cutoff
        chains.append(ReportChain(f, first, follow_ups, final, closed, ended - f.detected_at > FOLLOW_UP_AFTER))
    return chains


def chain_drilldown(chains: Sequence[ReportChain]) -> dict[str, tuple[int, ...]]:
    """Drill-down keys of the 信息报告 figures -> incident ids."""
    groups = {
        "chain:severe": chains,
        "chain:first": [c for c in chains if c.first_at],
        "chain:closed": [c for c in chains if c.closed_at],
        "chain:complete": [c for c in chains if c.complete],
        "chain:incomplete": [c for c in chains if c.closed_at and not c.complete],
        "chain:handling": [c for c in chains if not c.closed_at],
    }
    return {key: tuple(c.incident.id for c in group) for key, group in groups.items() if group}


def report_chain_section(chains: Sequence[ReportChain], names: Names) -> Section:
    closed = [c for c in chains if c.closed_at]
    complete = [c for c in closed if c.complete]
    first = sum(1 for c in chains if c.first_at)
    rate = ratio(len(complete), len(closed))
    summary_columns = (
        Column("severe", "重特大舆情", Kind.INT),
        Column("first", "已首报", Kind.INT),
        Column("handling", "处置中", Kind.INT),
        Column("closed", "已办结", Kind.INT),
        Column("complete", "其中报告齐全", Kind.INT),
        Column("incomplete", "其中报告不全", Kind.INT),
        Column("rate", "首报/续报/终报完整率", Kind.PCT),
    )
    row: tuple[Cell, ...] = (
        len(chains), first, len(chains) - len(closed), len(closed), len(complete), len(closed) - len(complete), rate,
    )  # fmt: skip
    keys = ("chain:severe", "chain:first", "chain:handling", "chain:closed", "chain:complete", "chain:incomplete", None)
    summary = Table("report_chain_summary", "信息报告完整性", summary_columns, (row,), (keys,))
    list_columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("event_level", "突发事件级别"),
        Column("unit", "责任单位"),
        Column("detected_at", "发现时间", Kind.TIME),
        Column("first_at", "首报时间", Kind.TIME),
        Column("follow_ups", "续报次数", Kind.INT),
        Column("final_at", "终报时间", Kind.TIME),
        Column("closed_at", "办结时间", Kind.TIME),
        Column("state", "报告情况"),
    )
    rows = tuple(
        (
            c.incident.id, c.incident.title, event_level_label(c.incident.event_level),
            names.unit(c.incident.owner_unit), c.incident.detected_at, c.first_at, c.follow_ups, c.final_at,
            c.closed_at, _state(c),
        )
        for c in chains
    )  # fmt: skip
    listing = Table("report_chains", "重特大舆情信息报告情况", list_columns, rows, long_list=True)
    if not chains:
        text = "本月没有重特大（I、II 级）突发事件舆情，无需统计首报、续报、终报。"
    else:
        text = (
            f"本月重特大（I、II 级）突发事件舆情 {len(chains)} 起，已首报 {first} 起；"
            f"截至统计时点已办结 {len(closed)} 起，其中首报、续报、终报齐全 {len(complete)} 起，"
            f"完整率 {_pct(rate)}；处置中 {len(chains) - len(closed)} 起。"
        )
    return Section("report_chains", "信息报告完整性（首报、续报、终报）", (text,), (summary, listing))


def _state(c: ReportChain) -> str:
    if c.complete:
        return "齐全"
    missing = "、".join(c.missing)
    if c.closed_at is None:
        return f"处置中（尚缺{missing}）" if missing else "处置中"
    return f"缺{missing}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _rank(value: str | None) -> int | None:
    if value == UNKNOWN_LEVEL:
        return None
    return LEVEL_ORDER.get(value or "", _NO_LEVEL)


def raised(r: RegradeFacts) -> bool:
    """A re-grade that made the incident more severe (its 突发事件 level or its 舆情 level went up)."""
    pairs = ((r.event_level_before, r.event_level_after), (r.opinion_level_before, r.opinion_level_after))
    for before, after in pairs:
        b, a = _rank(before), _rank(after)
        if b is not None and a is not None and a < b:
            return True
    return False


def raises_by_incident(regrades: Iterable[RegradeFacts]) -> dict[int, list[RegradeFacts]]:
    """incident id -> its re-grades that raised a level, in time order."""
    found: dict[int, list[RegradeFacts]] = {}
    for r in sorted(regrades, key=lambda r: (r.incident_id, r.at)):
        if raised(r):
            found.setdefault(r.incident_id, []).append(r)
    return found


@dataclass(frozen=True, slots=True)
class Reescalation:
    """An answered incident of the month whose level was raised after its first response (二次舆情)."""

    incident: IncidentFacts
    regrade: RegradeFacts  # the first raise after the first response


def reescalation_section(responded: int, found: Sequence[Reescalation], names: Names) -> Section:
    rate = ratio(len(found), responded)
    rows = tuple(
        (
            e.incident.id, e.incident.title, names.unit(e.incident.owner_unit), e.incident.first_response_at,
            e.regrade.at, f"{event_level_label(e.regrade.event_level_before)}／"
            f"{opinion_level_label(e.regrade.opinion_level_before)}",
            f"{event_level_label(e.regrade.event_level_after)}／{opinion_level_label(e.regrade.opinion_level_after)}",
            e.regrade.reason,
        )
        for e in sorted(found, key=lambda e: (e.regrade.at, e.incident.id))
    )  # fmt: skip
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("unit", "责任单位"),
        Column("first_response_at", "首次回应时间", Kind.TIME),
        Column("raised_at", "调高时间", Kind.TIME),
        Column("before", "原级别（突发／舆情）"),
        Column("after", "新级别（突发／舆情）"),
        Column("reason", "调整原因"),
    )
    summary = Table(
        "reescalation_summary",
        "二次舆情",
        (Column("responded", "已回应舆情", Kind.INT), Column("reescalated", "二次舆情", Kind.INT),
         Column("rate", "二次舆情率", Kind.PCT)),
        ((responded, len(found), rate),),
        (("responded", "reescalated", None),),
    )  # fmt: skip
    text = (
        f"本月已回应的舆情 {responded} 起中，首次回应后级别被调高（二次舆情）{len(found)} 起，二次舆情率 {_pct(rate)}。"
        "只统计系统中登记的级别调整；回应后传播量回升而未调整级别的，不在此列。"
    )
    listing = Table("reescalations", "二次舆情清单", columns, rows)
    return Section("reescalation", "二次舆情", (text,), (summary, listing))
