"""What a built report is: figures, tables, charts and the JSON contract (pure data)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from monitor.reports.build.period import Period

Cell = str | int | float | datetime | None


class Kind(StrEnum):
    """How a column's values are shown (HTML, CSV) and formatted (XLSX)."""

    TEXT = "text"
    INT = "int"  # a count
    ID = "id"  # an identifier (incident or item number): no thousands separator
    PCT = "pct"  # a fraction 0..1 shown as a percentage with one decimal
    HOURS = "hours"  # hours with one decimal
    TIME = "time"  # an instant shown in Asia/Shanghai, to the minute


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str  # zh-CN
    kind: Kind = Kind.TEXT


@dataclass(frozen=True)
class Table:
    """One table of the report: an HTML table, a CSV file, an XLSX sheet."""

    key: str  # ASCII; names the CSV file and the JSON member
    title: str  # zh-CN; names the XLSX sheet
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    drill: tuple[tuple[str | None, ...], ...] = ()  # per cell: a drill-down key, same shape as rows
    note: str = ""
    long_list: bool = False  # the HTML shows the first rows and says where the rest are


@dataclass(frozen=True)
class Chart:
    """A chart to draw: categories on one axis, one or more series of numbers."""

    key: str
    title: str
    kind: str  # "bar" (vertical), "hbar" (horizontal), "bar_line" (bars + a line)
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    x_label: str = ""
    y_label: str = ""
    percent: bool = False  # values are fractions; the axis reads 0–100%
    description: str = ""  # a sentence for screen readers and the figure caption
    drill: tuple[str | None, ...] = ()  # per category: a drill-down key (the bars, i.e. the first series)
    line_drill: tuple[str | None, ...] = ()  # per category: a drill-down key for the line of a bar_line chart

    def labels(self) -> list[str]:
        """Every piece of text the chart shows (checked against the font: no missing glyphs)."""
        return [self.title, self.x_label, self.y_label, *self.categories, *(name for name, _ in self.series)]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    timelines: tuple[Timeline, ...] = ()


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1–99 as written in section headings: 一 … 十, 十一 … 十九, 二十, 二十一 …"""
    if not 0 < n < 100:
        raise ValueError(f"section number {n} out of range 1–99")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def numbered(sections: tuple[Section, ...]) -> tuple[Section, ...]:
    """The sections headed 一、二、… in the order the report prints them."""
    return tuple(replace(s, title=f"{chinese_number(i)}、{s.title}") for i, s in enumerate(sections, start=1))


@dataclass(frozen=True)
class Timeline:
    incident_id: int
    heading: str
    entries: tuple[tuple[datetime, str, str], ...]  # (at, what, who)


class Tally:
    """Outcomes of deadlines due in the period, counted as at the cut-off."""

    __slots__ = ("breached", "met_late", "met_on_time", "paused", "pending")

    def __init__(self) -> None:
        self.met_on_time = self.met_late = self.breached = self.paused = self.pending = 0

    def add(self, outcome: str, count: int = 1) -> None:
        setattr(self, outcome, getattr(self, outcome) + count)

    @property
    def due(self) -> int:
        return self.met_on_time + self.met_late + self.breached + self.paused + self.pending

    @property
    def decided(self) -> int:
        """Deadlines past due at the cut-off (the denominator of 回应及时率)."""
        return self.met_on_time + self.met_late + self.breached

    @property
    def timeliness(self) -> float | None:
        return ratio(self.met_on_time, self.decided)

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "met_on_time": self.met_on_time,
            "met_late": self.met_late,
            "breached": self.breached,
            "paused": self.paused,
            "pending": self.pending,
            "timeliness_rate": rounded(self.timeliness, 4),
        }


@dataclass(frozen=True)
class Dist:
    """Median and 90th percentile of a list of durations in hours."""

    n: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Dist:
        if not values:
            return cls(0, None, None)
        if len(values) == 1:
            return cls(1, values[0], values[0])
        p90 = statistics.quantiles(values, n=10, method="inclusive")[8]
        return cls(len(values), statistics.median(values), p90)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "median": rounded(self.median, 2), "p90": rounded(self.p90, 2)}


@dataclass(frozen=True)
class Summary:
    """The headline figures of one month (and one unit, when the report is for a unit)."""

    period: Period
    incidents: int
    requiring_response: int
    responded: int
    responded_required: int
    ttr: Dist
    tally: Tally
    excluded: dict[str, int] = field(default_factory=dict)  # status -> incidents left out (dismissed, merged)

    @property
    def response_rate(self) -> float | None:
        return ratio(self.responded_required, self.requiring_response)

    @property
    def unanswered(self) -> int:
        """Required a response and had none at the cut-off."""
        return self.requiring_response - self.responded_required

    @property
    def responded_optional(self) -> int:
        """Responded although no response was required (not part of 回应率)."""
        return self.responded - self.responded_required

    @property
    def timeliness(self) -> float | None:
        return self.tally.timeliness


@dataclass(frozen=True)
class Report:
    period: Period
    unit: str | None
    unit_name: str | None
    cutoff: datetime
    title: str
    summary: Summary
    previous: Summary
    sections: tuple[Section, ...]
    definitions: tuple[str, ...]
    contract: dict[str, Any]
    drilldown: dict[str, tuple[int, ...]] = field(default_factory=dict)  # key -> incident ids (ob:…: deadline ids)

    @property
    def definitions_title(self) -> str:
        """The 统计口径 heading, numbered after the last section."""
        return f"{chinese_number(len(self.sections) + 1)}、统计口径与数据说明"

    def tables(self) -> list[Table]:
        return [t for s in self.sections for t in s.tables]

    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]


def ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
