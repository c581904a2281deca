"""一、总体情况: headline figures against last month, breakdowns, and the daily trend."""

from __future__ import annotations

from collections.abc import Callable

from monitor.reports.build.accumulate import Group, MonthAccumulator
from monitor.reports.build.labels import (
    Names,
    event_level_label,
    event_type_label,
    level_sort_key,
    media_type_label,
    opinion_level_label,
)
from monitor.reports.build.model import Cell, Chart, Column, Kind, Section, Summary, Table, ratio

# 回应率 counts only incidents that required a response: 需回应 = 其中已回应 + 需回应未回应, and
# 回应率 = 其中已回应 ÷ 需回应. Responses to incidents that required none are a column of their own.
RESPONSE_COLUMNS = (
    Column("requiring", "需回应", Kind.INT),
    Column("responded_required", "其中已回应", Kind.INT),
    Column("unanswered", "需回应未回应", Kind.INT),
    Column("response_rate", "回应率", Kind.PCT),
    Column("responded_optional", "无需回应但已回应", Kind.INT),
)
RESPONSE_DRILL = ("requiring", "responded_required", "unanswered", None, "responded_optional")
OVERVIEW_COLUMNS = (
    Column("month", "月份"),
    Column("incidents", "舆情总数", Kind.INT),
    *RESPONSE_COLUMNS,
    Column("due", "到期时限", Kind.INT),
    Column("met_on_time", "按时履行", Kind.INT),
    Column("met_late", "逾期履行", Kind.INT),
    Column("breached", "超期未履行", Kind.INT),
    Column("paused", "暂停计时", Kind.INT),
    Column("pending", "未到期", Kind.INT),
    Column("timeliness", "回应及时率", Kind.PCT),
    Column("ttr_median", "首次回应时长中位数（小时）", Kind.HOURS),
    Column("ttr_p90", "首次回应时长P90（小时）", Kind.HOURS),
)
OVERVIEW_DRILL = (
    None, "incidents", *RESPONSE_DRILL, "ob:due", "ob:met_on_time", "ob:met_late",
    "ob:breached", "ob:paused", "ob:pending", None, None, None,
)  # fmt: skip

DIMENSION_TITLES = {
    "event_level": ("by_event_level", "按突发事件级别", "突发事件级别"),
    "opinion_level": ("by_opinion_level", "按舆情级别", "舆情级别"),
    "category": ("by_category", "按事件类型", "事件类型"),
    "region": ("by_region", "按属地", "属地"),
    "unit": ("by_unit", "按责任单位", "责任单位"),
    "media_type": ("by_media_type", "按媒体类型", "媒体类型"),  # of the first item (where the 舆情 was first seen)
}
DIMENSION_COLUMNS = (
    Column("incidents", "舆情数", Kind.INT),
    Column("share", "占比", Kind.PCT),
    *RESPONSE_COLUMNS,
)


def overview_row(s: Summary, label: str) -> tuple[Cell, ...]:
    t = s.tally
    return (
        label, s.incidents, s.requiring_response, s.responded_required, s.unanswered, s.response_rate,
        s.responded_optional, t.due, t.met_on_time, t.met_late, t.breached, t.paused, t.pending, t.timeliness,
        s.ttr.median, s.ttr.p90,
    )  # fmt: skip


def overview_section(acc: MonthAccumulator, previous: Summary, names: Names) -> Section:
    current = acc.summary()
    overview = Table(
        "overview",
        "主要指标",
        OVERVIEW_COLUMNS,
        (
            overview_row(current, f"本月（{current.period.key}）"),
            overview_row(previous, f"上月（{previous.period.key}）"),
        ),
        drill=(OVERVIEW_DRILL, tuple(f"prev:{k}" if k else None for k in OVERVIEW_DRILL)),
    )
    tables = [overview] + [dimension_table(acc, dim, names) for dim in DIMENSION_TITLES]
    return Section(
        "overview",
        "总体情况",
        paragraphs=(headline(current), trend(current, previous)),
        tables=tuple(tables),
        charts=(daily_chart(acc),),
    )


def headline(s: Summary) -> str:
    if s.incidents == 0 and s.tally.due == 0:
        return f"{s.period.label}未监测到需统计的政务舆情，也没有到期的回应时限。"
    parts = [
        f"{s.period.label}共监测到政务舆情 {s.incidents} 起，其中需回应 {s.requiring_response} 起，"
        f"已回应 {s.responded_required} 起，回应率 {pct(s.response_rate)}",
        f"本月到期的回应时限 {s.tally.due} 项，按时履行 {s.tally.met_on_time} 项，逾期履行 {s.tally.met_late} 项，"
        f"超期未履行 {s.tally.breached} 项，回应及时率 {pct(s.timeliness)}",
    ]
    if s.ttr.n:
        parts.append(f"首次回应时长中位数 {s.ttr.median:.1f} 小时，P90 为 {s.ttr.p90:.1f} 小时")
    return "；".join(parts) + "。"


def trend(cur: Summary, prev: Summary) -> str:
    def count(label: str, now: int, before: int) -> str:
        if now == before:
            return f"{label}持平（{now}）"
        word = "增加" if now > before else "减少"
        change = f"，{word} {abs(now - before) / before:.1%}" if before else ""
        return f"{label}{word} {abs(now - before)}（上月 {before}{change}）"

    def rate(label: str, now: float | None, before: float | None) -> str:
        if now is None or before is None:
            return f"{label}本月 {pct(now)}、上月 {pct(before)}"
        points = (now - before) * 100
        if abs(points) < 0.05:
            return f"{label}持平（{pct(now)}）"
        return f"{label}{'上升' if points > 0 else '下降'} {abs(points):.1f} 个百分点（{pct(before)} → {pct(now)}）"

    parts = [
        count("舆情总数", cur.incidents, prev.incidents),
        rate("回应率", cur.response_rate, prev.response_rate),
        rate("回应及时率", cur.timeliness, prev.timeliness),
        count("超期未履行时限", cur.tally.breached, prev.tally.breached),
    ]
    return "与上月相比：" + "；".join(parts) + "。"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def dimension_table(acc: MonthAccumulator, dim: str, names: Names) -> Table:
    key, title, header = DIMENSION_TITLES[dim]
    label: Callable[[str], str] = {
        "event_level": lambda v: event_level_label(v or None),
        "opinion_level": lambda v: opinion_level_label(v or None),
        "category": lambda v: event_type_label(v or None),
        "region": lambda v: names.region(v or None),
        "unit": lambda v: names.unit(v or None),
        "media_type": lambda v: media_type_label(v or None),
    }[dim]
    groups = [(k, g) for k, g in acc.dims[dim].items() if g.incidents]
    if dim in ("event_level", "opinion_level"):
        groups.sort(key=lambda kg: level_sort_key(kg[0] or None))
    else:
        groups.sort(key=lambda kg: (-kg[1].incidents, label(kg[0])))
    rows, drill = [], []
    for value, g in groups:
        rows.append((label(value), *dimension_cells(g, acc.total.incidents)))
        cells = ("incidents", None, *RESPONSE_DRILL)
        drill.append((None, *(f"{c}:{dim}:{value}" if c else None for c in cells)))
    return Table(key, title, (Column("name", header), *DIMENSION_COLUMNS), tuple(rows), tuple(drill))


def dimension_cells(g: Group, total: int) -> tuple[Cell, ...]:
    return (
        g.incidents, ratio(g.incidents, total), g.requiring, g.responded_required, g.unanswered, g.response_rate,
        g.responded_optional,
    )  # fmt: skip


def daily_chart(acc: MonthAccumulator) -> Chart:
    days = tuple(str(d) for d in range(1, acc.period.days + 1))
    return Chart(
        "daily",
        f"{acc.period.label}每日新增政务舆情",
        "bar_line",
        days,
        (
            ("新增舆情", tuple(float(v) for v in acc.daily)),
            ("其中已回应", tuple(float(v) for v in acc.daily_responded)),
        ),
        x_label="日期",
        y_label="起数",
        description=f"{acc.period.label}每日监测发现的政务舆情数量（柱）及其中截至统计时点已回应的数量（线）。",
        drill=tuple(f"day:{d}" for d in days),
        line_drill=tuple(f"day:{d}:responded" for d in days),
    )
