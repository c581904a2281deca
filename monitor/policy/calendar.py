"""Load the working-day overrides (playbooks/calendar/holidays.yaml) into a WorkCalendar."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from monitor.engine.calendar import WorkCalendar, library_last_year
from monitor.policy.yamlfile import PolicyError, Section, load_yaml


def load_calendar(path: Path | str) -> WorkCalendar:
    """Read the override file; errors name file, line, key and fix."""
    path = Path(path)
    if not path.is_file():
        raise PolicyError(
            str(path), None, "", "the calendar override file does not exist", "create it (see playbooks/calendar)"
        )
    root = load_yaml(path).root().only("version", "years", "rest_days", "make_up_workdays")
    years: set[int] = set()
    for i, raw in enumerate(root.get("years", list, [])):
        if not isinstance(raw, int) or isinstance(raw, bool) or not 2004 <= raw <= 2100:
            raise root.doc.error(("years", i), f"{raw!r} is not a year", "write a year like 2027")
        years.add(raw)
    overrides: dict[date, bool] = {}
    for s in root.sections("rest_days", required=False):
        s.only("from", "to", "date", "name")
        for day in _days(s):
            overrides[day] = False
    for s in root.sections("make_up_workdays", required=False):
        s.only("date", "name")
        day = _date(s, "date")
        if day in overrides:
            raise s.error("date", f"{day} is also listed as a rest day", "keep it in one list only")
        overrides[day] = True
    _check_years(root, overrides, years)
    return WorkCalendar(overrides, frozenset(years), str(path))


def _date(s: Section, key: str) -> date:
    value = s.get(key, (date, str))
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise s.error(key, f"{value!r} is not a date", "write it as YYYY-MM-DD") from None
    return value


def _days(s: Section) -> list[date]:
    if "date" in s:
        return [_date(s, "date")]
    start, end = _date(s, "from"), _date(s, "to")
    if end < start or (end - start).days > 30:
        raise s.error("to", f"{start} … {end} is not a holiday period", "give `to` on or after `from`, within 30 days")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _check_years(root: Section, overrides: dict[date, bool], years: set[int]) -> None:
    covered = set(range(2004, library_last_year() + 1)) | years
    for day in sorted(overrides):
        if day.year not in covered:
            raise root.error(
                "years", f"{day} is in {day.year}, which is not declared", f"add {day.year} to `years:` once complete"
            )
