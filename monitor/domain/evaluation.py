"""效果评估 (DOMAIN.md §1.6, §4.4 `evaluation`, §5.2): what an analyst records after a response.

An evaluation is a timeline fact (EventKind.EVALUATION_RECORDED); a later one corrects an earlier
one and both stay on the timeline. `to_payload` / `from_payload` are the one place that knows the
payload keys. `suggest_subsided` proposes 舆情平息时间 from the incident's item volume (§5.2 leaves
the definition to the project: there is no official one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
SUBSIDE_FRACTION = 0.2  # a day counts as quiet when its new items fall below this share of the peak day's


class Satisfaction(StrEnum):
    """公众满意度 as the evaluator judged it (回访, 12345/信箱 满意率, or 未评价)."""

    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    NOT_RATED = "not_rated"  # 未评价

    @property
    def label(self) -> str:
        return _SATISFACTION_LABELS[self]


_SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASICALLY_SATISFIED: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
    Satisfaction.NOT_RATED: "未评价",
}


@dataclass(frozen=True, slots=True)
class SubsideSuggestion:
    """A proposed 舆情平息时间 and how it was computed (days are Beijing calendar days)."""

    peak_day: date  # the day with the most new items (the earliest, on a tie)
    peak_count: int
    from_day: date  # the first day looked at: the day after the later of the first response and the peak
    subsided_day: date | None  # the first complete day from `from_day` below the threshold; None: not yet
    fraction: float
    basis: str  # zh-CN: how it was computed, shown next to the form and stored with the evaluation

    @property
    def peak_at(self) -> datetime:
        return _start_of(self.peak_day)

    @property
    def subsided_at(self) -> datetime | None:
        return _start_of(self.subsided_day) if self.subsided_day else None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def _md(day: date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


def suggest_subsided(
    item_times: Iterable[datetime],
    responded_at: datetime | None,
    now: datetime,
    fraction: float = SUBSIDE_FRACTION,
) -> SubsideSuggestion | None:
    """The first complete day after the first response (and after the peak) whose new items fell
    below `fraction` of the peak day's; None when the incident has no items with a time."""
    counts = Counter(t.astimezone(BEIJING).date() for t in item_times)
    if not counts:
        return None
    peak_day = min(counts, key=lambda d: (-counts[d], d))
    peak = counts[peak_day]
    start = peak_day if responded_at is None else max(peak_day, responded_at.astimezone(BEIJING).date())
    first, today = start + timedelta(days=1), now.astimezone(BEIJING).date()
    quiet = next((d for d in _days(first, today) if counts.get(d, 0) < fraction * peak), None)
    after = f"首次回应（{_md(responded_at.astimezone(BEIJING).date())}）及" if responded_at else ""
    head = (
        f"按关联稿件的发布时间（无发布时间的按采集时间）逐日统计（北京时间）：高峰日 {_md(peak_day)}，"
        f"新增 {peak} 条；自{after}高峰日之后的 {_md(first)} 起，"
    )
    if quiet is None:
        tail = f"截至昨日每天新增仍不少于高峰日的 {fraction:.0%}，尚不能判定平息。"
    else:
        tail = (
            f"{_md(quiet)} 新增 {counts.get(quiet, 0)} 条，首次低于高峰日的 {fraction:.0%}，"
            f"建议平息时间为 {_md(quiet)} 00:00。"
        )
    return SubsideSuggestion(peak_day, peak, first, quiet, fraction, head + tail)


def _days(first: date, before: date) -> Iterable[date]:
    """Complete days only: today is not over, so it cannot yet be judged quiet."""
    day = first
    while day < before:
        yield day
        day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The latest 效果评估 of an incident."""

    subsided_at: datetime  # 舆情平息时间
    satisfaction: Satisfaction
    negative_before: int | None = None  # 回应前负面占比 (%), when known
    negative_after: int | None = None  # 回应后负面占比 (%), when known
    notes: str = ""
    peak_at: datetime | None = None  # start of the peak day of item volume, when there were items
    peak_count: int | None = None
    suggested_subsided_at: datetime | None = None  # what the item volume suggested
    basis: str = ""  # how the suggestion was computed
    recorded_at: datetime | None = None
    recorded_by: str = ""

    @property
    def negative_conversion(self) -> float | None:
        """负面转化率 (§5.2): (before − after) ÷ before; None when either is unknown or before is 0."""
        if self.negative_before is None or self.negative_after is None or self.negative_before == 0:
            return None
        return (self.negative_before - self.negative_after) / self.negative_before

    def to_payload(self) -> dict[str, Any]:
        return {
            "subsided_at": self.subsided_at.isoformat(),
            "satisfaction": self.satisfaction.value,
            "negative_before": self.negative_before,
            "negative_after": self.negative_after,
            "notes": self.notes,
            "peak_at": _iso(self.peak_at),
            "peak_count": self.peak_count,
            "suggested_subsided_at": _iso(self.suggested_subsided_at),
            "basis": self.basis,
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def from_payload(payload: Mapping[str, Any], at: datetime, actor: str) -> Evaluation | None:
    """An evaluation_recorded event's payload read back (None when it lacks a readable 平息时间)."""
    subsided = _time(payload.get("subsided_at"))
    if subsided is None:
        return None
    raw = str(payload.get("satisfaction") or "")
    satisfaction = Satisfaction(raw) if raw in Satisfaction.__members__.values() else Satisfaction.NOT_RATED
    return Evaluation(
        subsided_at=subsided,
        satisfaction=satisfaction,
        negative_before=_int(payload.get("negative_before")),
        negative_after=_int(payload.get("negative_after")),
        notes=str(payload.get("notes") or ""),
        peak_at=_time(payload.get("peak_at")),
        peak_count=_int(payload.get("peak_count")),
        suggested_subsided_at=_time(payload.get("suggested_subsided_at")),
        basis=str(payload.get("basis") or ""),
        recorded_at=at,
        recorded_by=actor,
    )
