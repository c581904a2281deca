"""Working days (DOMAIN.md §6): 民法典第201/203条 counting over the official holiday schedule.

`WorkCalendar` combines `chinese_calendar` (国务院办公厅 schedules, 2004–2026 in 1.11.0) with
an override file (`playbooks/calendar/holidays.yaml`): years the library lacks, and local extra
rest days. A date in a year neither knows raises `CalendarGap`, naming the file to update —
never a silent guess that Monday–Friday are working days.

Pure: no I/O. The override file is read by `monitor.policy.calendar`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

from monitor.clock import SHANGHAI, require_aware, to_utc


class CalendarGap(LookupError):
    """The calendar has no data for a year; the message names the file to update."""

    def __init__(self, year: int, override_file: str) -> None:
        self.year, self.override_file = year, override_file
        super().__init__(
            f"no working-day data for {year}: chinese_calendar covers up to {library_last_year()} and "
            f"{override_file} does not declare {year}. Add the 国务院办公厅 holiday schedule for {year} to "
            f"{override_file} (a `years: [{year}]` entry plus its holidays and 调休 make-up days)"
        )

    @property
    def message_zh(self) -> str:
        return (
            f"缺少 {self.year} 年的工作日历数据，无法计算工作日期限。"
            f"请在 {self.override_file} 中补充该年放假和调休安排。"
        )


@lru_cache(maxsize=1)
def library_last_year() -> int:
    """The last year chinese_calendar has data for."""
    year = 2100
    while year > 2004:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return year
        except NotImplementedError:
            year -= 1
    return 2004


class WorkCalendar:
    """Is a date a working day, and when is a deadline of N working / natural days due."""

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        override_years: frozenset[int] = frozenset(),
        override_file: str = "playbooks/calendar/holidays.yaml",
    ) -> None:
        self.overrides = dict(overrides or {})
        self.override_years = override_years
        self.override_file = override_file

    def copy(self) -> WorkCalendar:
        return WorkCalendar(self.overrides, self.override_years, self.override_file)

    def adopt(self, other: WorkCalendar) -> None:
        """Take over another calendar's data (a corrected override file), in place."""
        self.overrides, self.override_years = dict(other.overrides), other.override_years

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.override_years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            raise CalendarGap(day.year, self.override_file) from None

    def covered_until(self) -> date:
        """The last date for which the calendar has data."""
        year = library_last_year()
        while year + 1 in self.override_years:
            year += 1
        return date(year, 12, 31)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (the start day itself never counts, 民法典第201条).

        Not `chinese_calendar.find_workday`, which first snaps a rest day forward and so is one
        working day late when `start` is a rest day (DOMAIN.md §6.4).
        """
        if n < 1:
            raise ValueError(f"a working-day limit must be at least 1, got {n}")
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day

    def working_days_in(self, after: date, through: date) -> int:
        """Working days d with after < d <= through (the pause's start day is not counted)."""
        count, day = 0, after
        while day < through:
            day += timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count

    def working_days_due(self, t0: datetime, n: int) -> datetime:
        """Due at 24:00 (Asia/Shanghai) of the n-th working day after t0's local date; UTC."""
        last = self.add_working_days(require_aware(t0).astimezone(SHANGHAI).date(), n)
        return end_of_day(last)

    def natural_days_due(self, t0: datetime, n: int) -> datetime:
        """n calendar days after t0's local date; a last day that is a rest day rolls forward (第203条)."""
        last = require_aware(t0).astimezone(SHANGHAI).date() + timedelta(days=n)
        while not self.is_workday(last):
            last += timedelta(days=1)
        return end_of_day(last)


def end_of_day(day: date) -> datetime:
    """24:00 of `day` in Asia/Shanghai (= 00:00 of the next day), as UTC."""
    return to_utc(datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI))
