"""二、时限履行 / 三、首次回应时长 / 四、单位排名."""

from __future__ import annotations

from monitor.reports.build.accumulate import TTR_BUCKETS, TTR_OVER, UNANSWERED, Group, MonthAccumulator
from monitor.reports.build.labels import RULE_ORDER, Names, event_level_label, level_sort_key, opinion_level_label
from monitor.reports.build.model import Cell, Chart, Column, Dist, Kind, Section, Table, Tally

TALLY_COLUMNS = (
    Column("due", "到期时限", Kind.INT),
    Column("met_on_time", "按时履行", Kind.INT),
    Column("met_late", "逾期履行", Kind.INT),
    Column("breached", "超期未履行", Kind.INT),
    Column("paused", "暂停计时", Kind.INT),
    Column("pending", "未到期", Kind.INT),
    Column("timeliness", "回应及时率", Kind.PCT),
)
TTR_COLUMNS = (
    Column("n", "已回应", Kind.INT),
    Column("median", "中位数（小时）", Kind.HOURS),
    Column("p90", "P90（小时）", Kind.HOURS),
)
CHART_UNITS = 30  # units shown in the timeliness chart (the ranking table lists them all)


def tally_cells(t: Tally) -> tuple[Cell, ...]:
    return (t.due, t.met_on_time, t.met_late, t.breached, t.paused, t.pending, t.timeliness)


def tally_drill(scope: str) -> tuple[str | None, ...]:
    return (*(f"ob:{c}:{scope}" for c in ("due", "met_on_time", "met_late", "breached", "paused", "pending")), None)


def rule_ids(acc: MonthAccumulator) -> list[str]:
    known = [r for r in RULE_ORDER if r in acc.total.rules]
    return known + sorted(r for r in acc.total.rules if r not in RULE_ORDER)


def deadlines_section(acc: MonthAccumulator, names: Names) -> Section:
    rows: list[tuple[Cell, ...]] = []
    drill: list[tuple[str | None, ...]] = []
    for rule in rule_ids(acc):
        rows.append((rule, names.rule(rule), *tally_cells(acc.total.rules[rule])))
        drill.append((None, None, *tally_drill(f"rule:{rule}")))
    rows.append(("合计", "", *tally_cells(acc.total.tally)))
    drill.append((None, None, *(k.rsplit(":", 1)[0] if k else None for k in tally_drill("x"))))
    table = Table(
        "rules",
        "各项时限履行情况",
        (Column("rule_id", "规则编号"), Column("rule", "时限要求"), *TALLY_COLUMNS),
        tuple(rows),
        tuple(drill),
        note=(
            "到期时限：截止时间在本月内的时限要求（不含已取消的）；"
            "回应及时率 = 按时履行 ÷（按时履行 + 逾期履行 + 超期未履行）。"
        ),
    )
    paragraph = (
        f"本月到期时限 {acc.total.tally.due} 项，涉及 {len(rule_ids(acc))} 类时限要求；"
        f"另有 {acc.cancelled} 项因降级、合并、判定非政务舆情等原因取消，不计入。"
    )
    return Section("deadlines", "时限履行情况", (paragraph,), (table,), (unit_timeliness_chart(acc, names),))


def unit_timeliness_chart(acc: MonthAccumulator, names: Names) -> Chart:
    units = [(k, g) for k, g in acc.dims["unit"].items() if g.tally.decided]
    units.sort(key=lambda kg: (-(kg[1].tally.timeliness or 0.0), -kg[1].tally.decided, names.unit(kg[0] or None)))
    shown = units[:CHART_UNITS]
    more = f"（及时率最高的前 {CHART_UNITS} 个单位，共 {len(units)} 个）" if len(units) > CHART_UNITS else ""
    return Chart(
        "unit_timeliness",
        "各责任单位回应及时率" + more,
        "hbar",
        tuple(names.unit(k or None) for k, _ in shown),
        (("回应及时率", tuple(g.tally.timeliness or 0.0 for _, g in shown)),),
        x_label="回应及时率",
        percent=True,
        description="各责任单位本月到期时限中按时履行的比例。",
        drill=tuple(f"ob:due:unit:{k}" for k, _ in shown),
    )


def ttr_section(acc: MonthAccumulator, names: Names) -> Section:
    by_unit = sorted(
        ((k, g) for k, g in acc.dims["unit"].items() if g.responded),
        key=lambda kg: (kg[1].dist().median or 0.0, names.unit(kg[0] or None)),
    )
    unit_rows = tuple((names.unit(k or None), *dist_cells(g.dist())) for k, g in by_unit)
    unit_drill = tuple((None, f"responded:unit:{k}", None, None) for k, _ in by_unit)
    level_rows: list[tuple[Cell, ...]] = [("全部", *dist_cells(acc.total.dist()))]
    level_drill: list[tuple[str | None, ...]] = [(None, "responded", None, None)]
    for dim, label in (("event_level", event_level_label), ("opinion_level", opinion_level_label)):
        for key in sorted(acc.dims[dim], key=lambda v: level_sort_key(v or None)):
            g = acc.dims[dim][key]
            if g.responded:
                prefix = "突发事件" if dim == "event_level" and key else ("舆情" if dim == "opinion_level" else "")
                level_rows.append((prefix + label(key or None), *dist_cells(g.dist())))
                level_drill.append((None, f"responded:{dim}:{key}", None, None))
    tables = (
        Table(
            "ttr_by_unit", "首次回应时长（按单位）", (Column("unit", "责任单位"), *TTR_COLUMNS), unit_rows, unit_drill
        ),
        Table(
            "ttr_by_level",
            "首次回应时长（按级别）",
            (Column("group", "分组"), *TTR_COLUMNS),
            tuple(level_rows),
            tuple(level_drill),
        ),
    )
    paragraph = "首次回应时长 = 第一次公开回应的发布时间 − 监测发现时间；只统计截至统计时点已回应的舆情。"
    return Section("ttr", "首次回应时长", (paragraph, late_text(acc, names)), tables, (ttr_chart(acc),))


def dist_cells(d: Dist) -> tuple[Cell, ...]:
    return (d.n, d.median, d.p90)


def ttr_chart(acc: MonthAccumulator) -> Chart:
    labels = (*(label for _, label in TTR_BUCKETS), TTR_OVER, UNANSWERED)
    return Chart(
        "ttr_distribution",
        "首次回应时长分布",
        "bar",
        labels,
        (("舆情数", tuple(float(acc.buckets.get(label, 0)) for label in labels)),),
        x_label="首次回应时长",
        y_label="起数",
        description="本月舆情首次公开回应所用时间的分布；“未回应”为需回应但截至统计时点尚未回应的舆情。",
        drill=tuple(f"ttr:{label}" for label in labels),
    )


def late_text(acc: MonthAccumulator, names: Names) -> str:
    late = [o for o in acc.overdue if o.outcome == "met_late"]
    if not late:
        return "本月到期的时限没有逾期履行的。"
    worst = max(late, key=lambda o: (o.delay_h, -o.obligation.id))
    mean = sum(o.delay_h for o in late) / len(late)
    return (
        f"逾期回应（时限逾期后才履行）{len(late)} 项，平均超时 {mean:.1f} 小时；"
        f"超时最长的是事件 #{worst.obligation.incident_id}"
        f"（{names.unit(worst.obligation.owner_unit)}，{names.rule(worst.obligation.rule_id)}，"
        f"超时 {worst.delay_h:.1f} 小时）。"
        "逐项明细见“五、超期与督办”中结果为“逾期履行”的各行。"
    )


RANKING_COLUMNS = (
    Column("rank", "排名", Kind.INT),
    Column("unit", "责任单位"),
    Column("incidents", "舆情数", Kind.INT),
    Column("requiring", "需回应", Kind.INT),
    Column("responded_required", "其中已回应", Kind.INT),  # of those that required a response (回应率)
    Column("response_rate", "回应率", Kind.PCT),
    Column("due", "到期时限", Kind.INT),
    Column("met_on_time", "按时履行", Kind.INT),
    Column("met_late", "逾期履行", Kind.INT),
    Column("breached", "超期未履行", Kind.INT),
    Column("timeliness", "回应及时率", Kind.PCT),
    Column("ttr_median", "首次回应中位数（小时）", Kind.HOURS),
    Column("ttr_p90", "首次回应P90（小时）", Kind.HOURS),
)


def ranking_section(acc: MonthAccumulator, names: Names) -> Section:
    def order(kg: tuple[str, Group]) -> tuple[float, float, float, int, str]:
        g = kg[1]
        median = g.dist().median
        return (
            -(g.tally.timeliness if g.tally.timeliness is not None else -1.0),
            -(g.response_rate if g.response_rate is not None else -1.0),
            median if median is not None else float("inf"),
            -g.incidents,
            names.unit(kg[0] or None),
        )

    ranked = sorted(acc.dims["unit"].items(), key=order)
    rows, drill = [], []
    for rank, (key, g) in enumerate(ranked, 1):
        d, t = g.dist(), g.tally
        rows.append((
            rank, names.unit(key or None), g.incidents, g.requiring, g.responded_required, g.response_rate,
            t.due, t.met_on_time, t.met_late, t.breached, t.timeliness, d.median, d.p90,
        ))  # fmt: skip
        drill.append((
            None, None, f"incidents:unit:{key}", f"requiring:unit:{key}", f"responded_required:unit:{key}", None,
            f"ob:due:unit:{key}", f"ob:met_on_time:unit:{key}", f"ob:met_late:unit:{key}",
            f"ob:breached:unit:{key}", None, None, None,
        ))  # fmt: skip
    note = "排序：回应及时率（高者在前）→ 回应率 → 首次回应时长中位数（短者在前）→ 舆情数。无到期时限的单位排在后面。"
    table = Table("ranking", "责任单位排名", RANKING_COLUMNS, tuple(rows), tuple(drill), note=note)
    return Section("ranking", "责任单位排名", (), (table,))
