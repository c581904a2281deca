"""When the monthly report is due, and for which month (pure: `now` is an argument).

The report for month M is generated from `report_hour`:00 (Asia/Shanghai) on the 1st of M+1,
with that instant as its data cut-off, so running the job twice — or late, after an outage —
produces the same report and queues nothing twice (outbox key `report:YYYY-MM:recipient`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from monitor.clock import SHANGHAI, require_aware
from monitor.domain import ChannelKind
from monitor.reports.build.period import Period

_PERSON = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class ScheduledRun:
    period: Period  # the month reported on
    cutoff: datetime  # the scheduled instant: hour:00 on the 1st of the next month, Asia/Shanghai


@dataclass(frozen=True, slots=True)
class Recipient:
    person: str  # person id of the org directory
    channel: ChannelKind | None = None  # None: the person's preferred channel

    def idempotency_key(self, period: Period) -> str:
        return f"report:{period.key}:{self.person}"


def scheduled_run(now: datetime, hour: int = 8) -> ScheduledRun:
    """The latest scheduled monthly run at or before `now`."""
    if not 0 <= hour <= 23:
        raise ValueError(f"report_hour must be 0–23, got {hour}")
    local = require_aware(now).astimezone(SHANGHAI)
    this_month = Period(local.year, local.month)
    run_at = datetime(local.year, local.month, 1, hour, tzinfo=SHANGHAI)
    if now >= run_at:
        return ScheduledRun(this_month.previous(), run_at)
    earlier = this_month.previous()
    return ScheduledRun(earlier.previous(), datetime(earlier.year, earlier.month, 1, hour, tzinfo=SHANGHAI))


def report_due(now: datetime, hour: int, done: set[str]) -> ScheduledRun | None:
    """The run to do now, or None when its month is already in `done` (month keys, e.g. "2026-10")."""
    run = scheduled_run(now, hour)
    return None if run.period.key in done else run


def parse_recipients(text: str) -> list[Recipient]:
    """`report_recipients`: "chen_jun:email, wang_fang" → recipients (errors name the bad entry)."""
    found: list[Recipient] = []
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        person, _, channel = raw.partition(":")
        person, channel = person.strip(), channel.strip()
        if not _PERSON.match(person):
            raise ValueError(f"report_recipients: {raw!r} is not a person id; write e.g. chen_jun or chen_jun:email")
        try:
            kind = ChannelKind(channel) if channel else None
        except ValueError:
            choices = ", ".join(c.value for c in ChannelKind)
            raise ValueError(
                f"report_recipients: channel {channel!r} of {person} is unknown; use one of {choices}"
            ) from None
        if all(r.person != person for r in found):
            found.append(Recipient(person, kind))
    return found
