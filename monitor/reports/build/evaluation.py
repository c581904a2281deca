"""效果评估 (a report section): 舆情平息时长, 满意度 and 负面转化率 (DOMAIN.md §5.2) from the recorded evaluations.

Which incidents should have one: those of the month with a public response known at the cut-off,
or closed (办结/已评估/已归档). Each is listed; those without an evaluation say 未评估, so a figure
is never silently computed from part of the month.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.domain.evaluation import Evaluation, Satisfaction, SubsideRule
from monitor.domain.reporting import IncidentFacts
from monitor.reports.build.labels import Names
from monitor.reports.build.model import Cell, Column, Dist, Kind, Section, Table, ratio, rounded

ENDED = frozenset({"evaluated", "closed", "archived"})
NOT_EVALUATED = "未评估"
DRILL_KEYS = ("evaluation:due", "evaluation:evaluated", "evaluation:missing")


def evaluation_drilldown(
    due: Sequence[IncidentFacts], evaluations: Mapping[int, Evaluation]
) -> dict[str, tuple[int, ...]]:
    """Drill-down keys of the 效果评估 counts -> incident ids."""
    ids = tuple(f.id for f in due)
    done = tuple(i for i in ids if i in evaluations)
    missing = tuple(i for i in ids if i not in evaluations)
    return {key: group for key, group in zip(DRILL_KEYS, (ids, done, missing), strict=True) if group}


def needs_evaluation(f: IncidentFacts, cutoff: datetime) -> bool:
    """Responded (known at the cut-off) or ended: an evaluation is expected."""
    responded = f.first_response_at is not None and f.first_response_at <= cutoff
    return responded or f.status in ENDED


def _hours(start: datetime | None, end: datetime) -> float | None:
    if start is None or end < start:
        return None
    return (end - start).total_seconds() / 3600


@dataclass(frozen=True)
class EvaluationFigures:
    due: int  # incidents that should have an evaluation
    evaluated: int
    subsiding: Dist  # hours from the peak day of item volume to 平息时间
    after_response: Dist  # hours from the first response to 平息时间
    satisfaction: Counter[str]  # Satisfaction value -> incidents
    negative_conversion: float | None  # mean of (before − after) ÷ before over those with both shares
    negative_n: int

    @property
    def missing(self) -> int:
        return self.due - self.evaluated

    @property
    def satisfied_rate(self) -> float | None:
        """(满意 + 基本满意) ÷ the evaluations that rated satisfaction (未评价 left out)."""
        rated = sum(n for s, n in self.satisfaction.items() if s != Satisfaction.NOT_RATED)
        good = self.satisfaction[Satisfaction.SATISFIED] + self.satisfaction[Satisfaction.BASICALLY_SATISFIED]
        return ratio(good, rated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "evaluated": self.evaluated,
            "not_evaluated": self.missing,
            "evaluation_rate": rounded(ratio(self.evaluated, self.due), 4),
            "subsiding_h": self.subsiding.as_dict(),
            "subsided_after_response_h": self.after_response.as_dict(),
            "satisfaction": {s.value: self.satisfaction[s] for s in Satisfaction},
            "satisfied_rate": rounded(self.satisfied_rate, 4),
            "negative_conversion": {"n": self.negative_n, "mean": rounded(self.negative_conversion, 4)},
        }


def figures(due: Sequence[IncidentFacts], evaluations: Mapping[int, Evaluation]) -> EvaluationFigures:
    found = [(f, evaluations[f.id]) for f in due if f.id in evaluations]
    subsiding = [h for _, e in found if (h := _hours(e.peak_at, e.subsided_at)) is not None]
    after = [h for f, e in found if (h := _hours(f.first_response_at, e.subsided_at)) is not None]
    conversions = [c for _, e in found if (c := e.negative_conversion) is not None]
    return EvaluationFigures(
        due=len(due),
        evaluated=len(found),
        subsiding=Dist.of(sorted(subsiding)),
        after_response=Dist.of(sorted(after)),
        satisfaction=Counter(e.satisfaction.value for _, e in found),
        negative_conversion=sum(conversions) / len(conversions) if conversions else None,
        negative_n=len(conversions),
    )


def _row(f: IncidentFacts, e: Evaluation | None, names: Names) -> tuple[Cell, ...]:
    if e is None:
        return (f.id, f.title, names.unit(f.owner_unit), f.first_response_at, None, None, None, NOT_EVALUATED,
                None, None, "")  # fmt: skip
    return (
        f.id, f.title, names.unit(f.owner_unit), f.first_response_at, e.subsided_at,
        _round(_hours(e.peak_at, e.subsided_at)), _round(_hours(f.first_response_at, e.subsided_at)),
        e.satisfaction.label, e.negative_before, e.negative_after, e.notes,
    )  # fmt: skip


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} 小时"


def evaluation_section(due: Sequence[IncidentFacts], evaluations: Mapping[int, Evaluation], names: Names) -> Section:
    fig = figures(due, evaluations)
    counts = fig.satisfaction
    text = (
        f"本月应做效果评估的舆情（截至统计时点已公开回应或已办结）{fig.due} 起，已评估 {fig.evaluated} 起，"
        f"未评估 {fig.missing} 起（清单中标为“{NOT_EVALUATED}”，不计入以下各项）。"
        f"舆情平息时长中位数 {_h(fig.subsiding.median)}、P90 {_h(fig.subsiding.p90)}（{fig.subsiding.n} 起）；"
        f"回应后平息时长中位数 {_h(fig.after_response.median)}（{fig.after_response.n} 起）。"
        f"满意度：" + "、".join(f"{s.label} {counts[s]} 起" for s in Satisfaction) + "，"
        f"满意率 {_pct(fig.satisfied_rate)}；负面转化率 {_pct(fig.negative_conversion)}"
        f"（{fig.negative_n} 起登记了回应前后负面占比）。"
    )
    summary = Table(
        "evaluation_summary",
        "效果评估概况",
        (Column("due", "应评估", Kind.INT), Column("evaluated", "已评估", Kind.INT),
         Column("missing", "未评估", Kind.INT), Column("rate", "评估率", Kind.PCT),
         Column("subsiding_median", "平息时长中位数（小时）", Kind.HOURS),
         Column("subsiding_p90", "平息时长P90（小时）", Kind.HOURS),
         Column("after_median", "回应后平息时长中位数（小时）", Kind.HOURS),
         Column("satisfied_rate", "满意率", Kind.PCT), Column("negative_conversion", "负面转化率", Kind.PCT)),
        ((fig.due, fig.evaluated, fig.missing, ratio(fig.evaluated, fig.due), fig.subsiding.median,
          fig.subsiding.p90, fig.after_response.median, fig.satisfied_rate, fig.negative_conversion),),
        ((*DRILL_KEYS, None, None, None, None, None, None),),
    )  # fmt: skip
    columns = (
        Column("incident_id", "事件编号", Kind.ID),
        Column("title", "标题"),
        Column("unit", "责任单位"),
        Column("first_response_at", "首次回应时间", Kind.TIME),
        Column("subsided_at", "平息时间", Kind.TIME),
        Column("subsiding_h", "平息时长（小时）", Kind.HOURS),
        Column("after_response_h", "回应后平息时长（小时）", Kind.HOURS),
        Column("satisfaction", "满意度"),
        Column("negative_before", "回应前负面占比（%）", Kind.INT),
        Column("negative_after", "回应后负面占比（%）", Kind.INT),
        Column("notes", "评估意见"),
    )
    ordered = sorted(due, key=lambda f: (f.id in evaluations, f.id))  # the ones still to evaluate first
    rows = tuple(_row(f, evaluations.get(f.id), names) for f in ordered)
    listing = Table("evaluations", "效果评估清单", columns, rows, long_list=True)
    return Section("evaluation", "效果评估", (text,), (summary, listing))


def definition(rule: SubsideRule) -> str:
    """The 效果评估 paragraph of the report's 统计口径, stating the 平息 threshold now configured."""
    return (
        "效果评估：公开回应后或办结后由值班员或分析员登记（平息时间、满意度、回应前后负面占比、评估意见），"
        "以统计时点前最近一次登记为准。应评估：本月舆情中截至统计时点已公开回应或已办结的；未登记评估的列为“未评估”，"
        "不计入平息时长、满意率和负面转化率。平息时长 = 平息时间 − 关联稿件量高峰的起点（北京时间；"
        "按发布时间逐小时统计，高峰为新增稿件最多的一小时，并列取最早的；登记评估时按当时的稿件计算并随评估保存，"
        "早期按日统计登记的为高峰日 0 时）；"
        "回应后平息时长 = 平息时间 − 首次公开回应的发布时间。"
        f"平息标准：{rule.describe()}（DOMAIN.md §5.2；本系统设置 subside_percent = {rule.percent}、"
        f"subside_window_h = {rule.window_h}）。平息时间的建议值取高峰之后、且不早于首次回应的第一段满足该标准的"
        "完整小时的起点，登记人可修改；各评估登记时的计算依据随评估保存。"
        "满意率 =（满意 + 基本满意）÷ 已评价（不含“未评价”）；"
        "负面转化率 =（回应前负面占比 − 回应后负面占比）÷ 回应前负面占比，取登记了两项的舆情的平均值。"
    )
