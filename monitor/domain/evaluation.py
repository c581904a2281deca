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
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SubsideRule:
    """DOMAIN.md §5.2: subsided = volume < `percent`% of the peak for `window_h` hours (settings
    subside_percent, subside_window_h). Volume is new items per clock hour (Beijing hours are UTC hours
    shifted by 8, so the buckets are the same)."""

    percent: int = 20
    window_h: int = 24

    def describe(self) -> str:
        """zh-CN, for the report's definitions."""
        return f"每小时新增稿件连续 {self.window_h} 小时均低于高峰小时新增量的 {self.percent}%"

    def quiet(self, count: int, peak: int) -> bool:
        """Strictly below the threshold, in integers (an hour exactly at it is not quiet)."""
        return count * 100 < self.percent * peak


class SubsideSettings(Protocol):
    """The two settings of the threshold (monitor.config.Settings has them)."""

    @property
    def subside_percent(self) -> int: ...
    @property
    def subside_window_h(self) -> int: ...


def subside_rule(settings: SubsideSettings) -> SubsideRule:
    """The deployment's 平息 threshold, from settings subside_percent and subside_window_h."""
    return SubsideRule(percent=settings.subside_percent, window_h=settings.subside_window_h)


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
    """A proposed 舆情平息时间 and how it was computed (times are starts of clock hours)."""

    peak_at: datetime  # start of the hour with the most new items (the earliest, on a tie)
    peak_count: int
    from_at: datetime  # the first hour looked at: after the peak hour and not before the first response
    subsided_at: datetime | None  # start of the first run of `rule.window_h` quiet complete hours; None: not yet
    rule: SubsideRule
    basis: str  # zh-CN: how it was computed, shown next to the form and stored with the evaluation


def _hour_of(t: datetime) -> datetime:
    return t.astimezone(BEIJING).replace(minute=0, second=0, microsecond=0)


def _next_hour(t: datetime) -> datetime:
    """The first hour start at or after `t`."""
    start = _hour_of(t)
    return start if start == t else start + HOUR


def _hm(t: datetime) -> str:
    return f"{t.astimezone(BEIJING):%m-%d %H:%M}"


def suggest_subsided(
    item_times: Iterable[datetime],
    responded_at: datetime | None,
    now: datetime,
    rule: SubsideRule | None = None,
) -> SubsideSuggestion | None:
    """The start of the first `rule.window_h` complete hours, after the peak hour and not before the
    first response, in each of which new items stayed below `rule.percent`% of the peak hour's;
    None when the incident has no items with a time."""
    rule = rule or SubsideRule()
    counts = Counter(_hour_of(t) for t in item_times)
    if not counts:
        return None
    peak_at = min(counts, key=lambda h: (-counts[h], h))
    peak = counts[peak_at]
    first = peak_at + HOUR if responded_at is None else max(peak_at + HOUR, _next_hour(responded_at))
    busy = sorted(h for h, n in counts.items() if h >= first and not rule.quiet(n, peak))
    subsided = _first_quiet_run(first, busy, rule.window_h * HOUR, now)
    basis = _basis(peak_at, peak, first, responded_at, subsided, rule)
    return SubsideSuggestion(peak_at, peak, first, subsided, rule, basis)


def _first_quiet_run(first: datetime, busy: list[datetime], window: timedelta, now: datetime) -> datetime | None:
    """Start of the first `window` from `first` with no busy hour, complete by `now` (an hour not yet
    over cannot be judged quiet)."""
    start = first
    for hour in busy:
        if hour - start >= window:
            break
        start = hour + HOUR
    return start if start + window <= now else None


def _basis(
    peak_at: datetime,
    peak: int,
    first: datetime,
    responded_at: datetime | None,
    subsided: datetime | None,
    rule: SubsideRule,
) -> str:
    after = f"首次回应（{_hm(responded_at)}）及" if responded_at else ""
    limit = f"{rule.percent * peak / 100:g}"
    head = (
        f"按关联稿件的发布时间（无发布时间的按采集时间）逐小时统计（北京时间）：高峰为 {_hm(peak_at)} 起的一小时，"
        f"新增 {peak} 条；平息标准为连续 {rule.window_h} 小时每小时新增均低于高峰的 {rule.percent}%"
        f"（即少于 {limit} 条）。"
        f"自{after}高峰之后的 {_hm(first)} 起查看，"
    )
    if subsided is None:
        return head + f"截至目前尚无连续 {rule.window_h} 个完整小时达到该标准，尚不能判定平息。"
    end = subsided + rule.window_h * HOUR
    return head + f"{_hm(subsided)} 至 {_hm(end)} 每小时新增均低于 {limit} 条，建议平息时间为 {_hm(subsided)}。"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The latest 效果评估 of an incident."""

    subsided_at: datetime  # 舆情平息时间
    satisfaction: Satisfaction
    negative_before: int | None = None  # 回应前负面占比 (%), when known
    negative_after: int | None = None  # 回应后负面占比 (%), when known
    notes: str = ""
    # start of the peak hour of item volume (the peak day's 00:00 in evaluations recorded under the earlier
    # daily rule), when there were items
    peak_at: datetime | None = None
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
