"""Working days across the 2025–2026 holidays and 调休 (DOMAIN.md §6.4), and years without data."""

from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar
import pytest

from monitor.engine.calendar import CalendarGap, WorkCalendar, end_of_day
from monitor.policy import PolicyError
from monitor.policy.calendar import load_calendar

CAL = WorkCalendar()
CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("day", "workday"),
    [
        (date(2025, 1, 1), False),  # 元旦
        (date(2025, 1, 26), True),  # Sunday, 春节调休上班
        (date(2025, 1, 28), False),  # 除夕 (statutory from 2025)
        (date(2025, 2, 4), False),
        (date(2025, 2, 8), True),  # Saturday, 调休上班
        (date(2025, 4, 27), True),  # Sunday, 劳动节调休
        (date(2025, 5, 2), False),  # 5月2日 statutory from 2025
        (date(2025, 9, 28), True),  # Sunday, 国庆调休
        (date(2025, 10, 8), False),
        (date(2025, 10, 11), True),  # Saturday, 调休上班
        (date(2026, 1, 4), True),  # Sunday, 元旦调休
        (date(2026, 2, 14), True),  # Saturday, 春节调休
        (date(2026, 2, 23), False),  # Monday, 春节 (9 days)
        (date(2026, 2, 28), True),  # Saturday, 调休
        (date(2026, 5, 9), True),  # Saturday, 劳动节调休
        (date(2026, 9, 20), True),  # Sunday, 国庆调休
        (date(2026, 9, 25), False),  # 中秋
        (date(2026, 10, 7), False),
        (date(2026, 10, 10), True),  # Saturday, 调休
        (date(2026, 10, 12), True),  # an ordinary Monday
    ],
)
def test_holidays_and_make_up_days(day, workday):
    assert CAL.is_workday(day) is workday


@pytest.mark.parametrize(
    ("start", "n", "last"),
    [
        (date(2026, 9, 25), 20, date(2026, 10, 29)),  # start on a rest day: DOMAIN.md §6.4 example
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # 国庆: 9/30 not counted, 10/8, 10/9, 10/10 (Saturday 调休)
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday make-up day counts
        (date(2025, 1, 24), 7, date(2025, 2, 10)),  # 春节 2025: 1/26 (Sun) and 2/8 (Sat) count
        (date(2026, 10, 12), 7, date(2026, 10, 21)),  # plain weeks
    ],
)
def test_add_working_days_does_not_count_the_start_day(start, n, last):
    assert CAL.add_working_days(start, n) == last


def test_library_find_workday_is_off_by_one_on_rest_days_and_we_are_not():
    rest_day = date(2026, 9, 25)
    assert chinese_calendar.find_workday(20, rest_day) == date(2026, 10, 30)  # the pitfall
    assert CAL.add_working_days(rest_day, 20) == date(2026, 10, 29)


def test_due_is_2400_shanghai_of_the_last_day_stored_in_utc():
    t0 = datetime(2026, 10, 12, 23, 30, tzinfo=CST)  # late evening still counts as 10/12
    due = CAL.working_days_due(t0, 3)
    assert due == datetime(2026, 10, 16, 0, 0, tzinfo=CST) and due.utcoffset() == timedelta(0)
    assert end_of_day(date(2026, 10, 15)) == datetime(2026, 10, 15, 16, 0, tzinfo=UTC)


def test_natural_days_roll_past_rest_days():
    assert CAL.natural_days_due(datetime(2026, 9, 24, 10, tzinfo=CST), 7) == end_of_day(date(2026, 10, 8))


def test_a_year_without_data_fails_loudly_naming_the_override_file():
    cal = WorkCalendar(override_file="playbooks/calendar/holidays.yaml")
    with pytest.raises(CalendarGap) as exc:
        cal.add_working_days(date(2026, 12, 28), 5)
    assert exc.value.year == 2027
    assert "playbooks/calendar/holidays.yaml" in str(exc.value) and "2027" in exc.value.message_zh
    assert "years: [2027]" in str(exc.value) and "调休" in str(exc.value)  # says what to add, not only where
    assert "请在 playbooks/calendar/holidays.yaml 中补充" in exc.value.message_zh


def test_override_file_adds_a_year_and_local_rest_days(tmp_path):
    path = tmp_path / "holidays.yaml"
    path.write_text(
        "version: 1\nyears: [2027]\n"
        "rest_days:\n  - {from: 2027-01-01, to: 2027-01-03, name: 元旦}\n  - {date: 2026-10-12, name: 地方节日}\n"
        "make_up_workdays:\n  - {date: 2027-01-09, name: 调休}\n",
        encoding="utf-8",
    )
    cal = load_calendar(path)
    assert not cal.is_workday(date(2027, 1, 1)) and cal.is_workday(date(2027, 1, 9))
    assert cal.is_workday(date(2027, 1, 4)) and not cal.is_workday(date(2027, 1, 10))
    assert not cal.is_workday(date(2026, 10, 12))
    assert cal.covered_until() == date(2027, 12, 31)
    assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("version: 1\nyears: [2027]\nrest_days:\n  - {date: 2028-01-01}\n", "years"),
        ("version: 1\nrest_days:\n  - {from: 2026-10-05, to: 2026-10-01}\n", "rest_days[0].to"),
        ("version: 1\nrest_day: []\n", "rest_day"),
    ],
)
def test_bad_override_files_name_line_and_key(tmp_path, body, where):
    path = tmp_path / "holidays.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_calendar(path)
    assert where in str(exc.value) and "fix:" in str(exc.value)


def test_a_pause_on_a_working_day_clock_stops_working_days_not_hours():
    from monitor.engine.plan.derive import paused_working_days_due
    from monitor.engine.plan.facts import Pause

    calendar = CAL
    t0 = datetime(2026, 9, 21, 10, tzinfo=CST)  # Monday; 中秋 9/25–27 and 国庆 10/1–7 ahead
    assert calendar.working_days_due(t0, 7) == datetime(2026, 10, 9, 0, tzinfo=CST)  # 7th working day: 10/8
    pause = Pause(
        "GB2014-WEB-SUGGESTION-7WD",
        datetime(2026, 9, 23, 10, tzinfo=CST),
        datetime(2026, 9, 29, 10, tzinfo=CST),
        "征求意见",
        5,
    )
    # 9/24, 9/28 and 9/29 were paused: three more working days — 10/9, 10/10 (调休上班) and 10/12
    assert paused_working_days_due(t0, 7, [pause], calendar) == datetime(2026, 10, 13, 0, tzinfo=CST)
    late = Pause(
        "GB2014-WEB-SUGGESTION-7WD", datetime(2026, 10, 9, 1, tzinfo=CST), datetime(2026, 10, 20, tzinfo=CST), "x", 6
    )
    assert paused_working_days_due(t0, 7, [late], calendar) == datetime(2026, 10, 9, 0, tzinfo=CST)  # after the due
