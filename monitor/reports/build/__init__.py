"""Build a monthly report from rows (PURE: no I/O, no clock, no database, no rendering).

    acc = MonthAccumulator(period, cutoff, drill=True)
    acc.add_incidents(batch) …                  # incidents of the month, streamed from the repository
    acc.add_tallies(rows)                        # deadline counts by rule, unit and outcome (grouped in SQL)
    acc.add_obligations(batch) …                 # the missed deadlines (every deadline, for drill-down)
    report = build_report(acc, previous_summary, details, names, unit=None)

The same rows and cut-off always give the same report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.clock import to_local
from monitor.domain.evaluation import SubsideRule
from monitor.reports.build.accumulate import Group, MonthAccumulator
from monitor.reports.build.commitments import DEFINITION as COMMITMENTS_DEFINITION
from monitor.reports.build.commitments import commitments_json, commitments_section
from monitor.reports.build.deadlines import deadlines_section, ranking_section, rule_ids, ttr_section
from monitor.reports.build.evaluation import definition as evaluation_definition
from monitor.reports.build.evaluation import evaluation_drilldown, evaluation_section, figures
from monitor.reports.build.followups import (
    ReportChain,
    chain_drilldown,
    raises_by_incident,
    reescalation_section,
    report_chain_section,
    report_chains,
)
from monitor.reports.build.labels import Names
from monitor.reports.build.model import (
    Chart,
    Column,
    Dist,
    Kind,
    Report,
    Section,
    Summary,
    Table,
    Tally,
    numbered,
    ratio,
    rounded,
)
from monitor.reports.build.overview import overview_section
from monitor.reports.build.period import Period, PeriodError
from monitor.reports.build.records import (
    Details,
    corrections_section,
    overdue_section,
    pauses_section,
    regrades_section,
    top_section,
)

SCHEMA = "minghu-monitor/report@1"
UNASSIGNED = "unassigned"  # JSON key of incidents without an owning unit

__all__ = [
    "SCHEMA",
    "Chart",
    "Column",
    "Details",
    "Dist",
    "Kind",
    "MonthAccumulator",
    "Names",
    "Period",
    "PeriodError",
    "Report",
    "ReportChain",
    "Section",
    "Summary",
    "Table",
    "Tally",
    "build_report",
    "raises_by_incident",
    "report_chains",
]


def build_report(
    acc: MonthAccumulator,
    previous: Summary,
    details: Details,
    names: Names,
    *,
    unit: str | None = None,
    subside: SubsideRule | None = None,
) -> Report:
    """Sections are numbered 一、二、… in the order below; `subside` is the 平息 threshold the
    definitions state (settings subside_percent, subside_window_h; the default when None)."""
    summary = acc.summary()
    unit_name = names.unit(unit) if unit else None
    scope = f"{unit_name}" if unit_name else (names.city or "")
    title = f"{scope}政务舆情回应情况月报（{acc.period.label}）"
    sections = numbered((
        overview_section(acc, previous, names),
        deadlines_section(acc, names),
        ttr_section(acc, names),
        ranking_section(acc, names),
        overdue_section(acc, details, names),
        pauses_section(details, names),
        regrades_section(details, names),
        corrections_section(details, names),
        top_section(acc.top_incidents(), details, names),
        report_chain_section(details.report_chains, names),
        reescalation_section(summary.responded, acc.reescalated, names),
        commitments_section(details.commitments, acc.cutoff, names),
        evaluation_section(acc.evaluable, details.evaluations, names),
    ))  # fmt: skip
    drilldown = acc.drilldown()
    if acc.drill is not None:
        drilldown.update(chain_drilldown(details.report_chains))
        drilldown.update(evaluation_drilldown(acc.evaluable, details.evaluations))
    return Report(
        period=acc.period,
        unit=unit,
        unit_name=unit_name,
        cutoff=acc.cutoff,
        title=title,
        summary=summary,
        previous=previous,
        sections=sections,
        definitions=definitions(acc, summary, unit_name, subside or SubsideRule()),
        contract=contract(acc, summary, previous, names, unit)
        | follow_up_json(acc, details.report_chains)
        | {"evaluation": figures(acc.evaluable, details.evaluations).as_dict() | _threshold(subside or SubsideRule())}
        | commitments_json(details.commitments, acc.cutoff),
        drilldown=drilldown,
    )


def _threshold(rule: SubsideRule) -> dict[str, Any]:
    """The 平息 threshold the definitions state (JSON contract `evaluation.subside_threshold`)."""
    return {"subside_threshold": {"percent": rule.percent, "window_h": rule.window_h}}


def _local(value: Any) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M")


def definitions(acc: MonthAccumulator, s: Summary, unit_name: str | None, subside: SubsideRule) -> tuple[str, ...]:
    p = acc.period
    scope = f"本报告只统计第一责任单位为“{unit_name}”的舆情及其时限。" if unit_name else ""
    return (
        f"统计周期：{p.label}，即北京时间 {_local(p.start)} 至 {_local(p.end)}（不含）。"
        f"数据截至 {_local(acc.cutoff)}（北京时间），此后录入的数据不计入；"
        "同一数据、同一月份、同一截止时点的统计结果相同。",
        f"舆情数：监测发现时间在统计周期内的事件，不含判定为非政务舆情的 {s.excluded.get('dismissed', 0)} 起"
        f"和并入其他事件的 {s.excluded.get('merged', 0)} 起。{scope}",
        "需回应：标记为需回应的舆情（国办发〔2016〕61号列明的重点回应情形等）。已回应：截至统计时点至少登记了一次"
        "附有证据的公开回应。各表中“其中已回应”只计需回应的舆情，需回应 = 其中已回应 + 需回应未回应；"
        "回应率 = 其中已回应 ÷ 需回应。无需回应但已回应的舆情单列，不计入回应率。",
        "到期时限：截止时间在统计周期内的时限要求（按规则编号统计，不论事件何时发现；已取消的不计）。"
        "按时履行：履行时间不晚于截止时间；逾期履行：晚于截止时间履行；超期未履行：截至统计时点已过截止时间仍未履行"
        "（含过期后才暂停的）；暂停计时：经批准暂停且顺延后的截止时间晚于统计时点；未到期：截止时间晚于统计时点。"
        "经批准的暂停期间不计时，截止时间已相应顺延。",
        "回应及时率 = 按时履行 ÷（按时履行 + 逾期履行 + 超期未履行），即已到期时限中按时履行的比例。",
        "首次回应时长 = 第一次公开回应的发布时间 − 监测发现时间，以小时计；发现前已主动发布的计为 0；"
        "统计全部已回应的舆情（含无需回应但已回应的），每日趋势图中的“其中已回应”同此。"
        "中位数与 P90 采用线性插值（第 90 百分位，含端点法）。",
        "责任单位：按事件当前的第一责任单位统计，时限计入其所属事件的责任单位；属地按事件的属地统计。",
        "首报/续报/终报完整率 = 报告齐全的 ÷ 已办结的重特大舆情。重特大舆情：本月发现、突发事件级别为 I、II 级"
        "（特别重大、重大）的舆情；已办结：截至统计时点已办结且未重新打开；报告齐全：登记了首报（电话或书面）"
        "和终报，处置（发现至办结）超过 24 小时的还登记了至少一次续报（国务院应急办 2015 年通知）。"
        "处置中的不计入完整率，单列。",
        "二次舆情率 = 二次舆情数 ÷ 已回应舆情数。已回应舆情：截至统计时点已公开回应的本月舆情（含无需回应但已回应的）；"
        "二次舆情：首次公开回应之后、统计时点之前，突发事件级别或舆情级别被调高的（以系统登记的级别调整为准）。",
        COMMITMENTS_DEFINITION,
        evaluation_definition(subside),
        f"与上月（{p.previous().label}）对比采用相同口径和相同的数据截止时点。",
        "时间均为北京时间（Asia/Shanghai）。时限规则及依据见 DOMAIN.md §8（国办发〔2016〕61号、80号等）。",
    )


def follow_up_json(acc: MonthAccumulator, chains: Sequence[ReportChain]) -> dict[str, Any]:
    """首报/续报/终报完整率 and 二次舆情率 (README "The JSON contract")."""
    closed = [c for c in chains if c.closed_at]
    complete = sum(1 for c in closed if c.complete)
    responded = acc.total.responded
    return {
        "report_completeness": {
            "severe": len(chains),
            "first_reported": sum(1 for c in chains if c.first_at),
            "closed": len(closed),
            "complete": complete,
            "completeness_rate": rounded(ratio(complete, len(closed)), 4),
        },
        "secondary_opinion": {
            "responded": responded,
            "reescalated": len(acc.reescalated),
            "rate": rounded(ratio(len(acc.reescalated), responded), 4),
        },
    }


def _ttr(d: Dist) -> dict[str, Any]:
    return d.as_dict()


def _unit_json(g: Group, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "incidents": g.incidents,
        "requiring_response": g.requiring,
        "responded": g.responded,
        "responded_required": g.responded_required,
        "response_rate": rounded(g.response_rate, 4),
        "time_to_first_response_h": _ttr(g.dist()),
        **g.tally.as_dict(),
        "rules": {rule: g.rules[rule].as_dict() for rule in sorted(g.rules)},
    }


def _summary_json(s: Summary) -> dict[str, Any]:
    return {
        "month": s.period.key,
        "incidents": s.incidents,
        "requiring_response": s.requiring_response,
        "responded": s.responded,
        "responded_required": s.responded_required,
        "response_rate": rounded(s.response_rate, 4),
        "time_to_first_response_h": _ttr(s.ttr),
        "obligations": s.tally.as_dict(),
    }


def contract(acc: MonthAccumulator, s: Summary, previous: Summary, names: Names, unit: str | None) -> dict[str, Any]:
    """The machine-readable report (README: "The JSON contract"). Keys are stable; add, never rename."""
    units = {
        (key or UNASSIGNED): _unit_json(g, names.unit(key or None))
        for key, g in sorted(acc.dims["unit"].items(), key=lambda kg: kg[0])
    }
    return {
        "schema": SCHEMA,
        **_summary_json(s),
        "unit": unit,
        "timezone": "Asia/Shanghai",
        "period": {"start": to_local(acc.period.start).isoformat(), "end": to_local(acc.period.end).isoformat()},
        "cutoff": to_local(acc.cutoff).isoformat(),
        "excluded": {"dismissed": s.excluded.get("dismissed", 0), "merged": s.excluded.get("merged", 0)},
        "cancelled_obligations": acc.cancelled,
        "rules": {rule: {"title": names.rule(rule), **acc.total.rules[rule].as_dict()} for rule in rule_ids(acc)},
        "units": units,
        "previous": _summary_json(previous),
    }
