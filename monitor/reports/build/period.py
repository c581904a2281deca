"""Reporting months: calendar months in Asia/Shanghai, as half-open UTC intervals [start, end)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.clock import SHANGHAI, require_aware

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A month given by a person could not be used; the message says how to write it."""


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """One calendar month in Asia/Shanghai."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2999:
            raise PeriodError(f"month {self.year:04d}-{self.month:02d} does not exist; write YYYY-MM, e.g. 2026-10")

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _MONTH.match(text.strip())
        if not match:
            raise PeriodError(f"month {text!r} is not in the form YYYY-MM; write e.g. 2026-10")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, instant: datetime) -> Period:
        """The month (Asia/Shanghai) an instant falls in."""
        local = require_aware(instant).astimezone(SHANGHAI)
        return cls(local.year, local.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return (self.next().first_day - self.first_day).days

    @property
    def start(self) -> datetime:
        """00:00 of the 1st, Asia/Shanghai, as a UTC instant (inclusive)."""
        return datetime(self.year, self.month, 1, tzinfo=SHANGHAI).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """00:00 of the 1st of the next month, Asia/Shanghai, as a UTC instant (exclusive)."""
        return self.next().start

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end
