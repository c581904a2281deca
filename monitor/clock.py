"""Time, as an argument.

This is the ONLY module of `monitor` that reads wall time (a test enforces it). Everything
else receives a `Clock`: production code gets `SystemClock`, tests get `FakeClock` and move
time forward explicitly, so no test ever sleeps.

Times are timezone-aware UTC datetimes. Display in Asia/Shanghai happens at the edges
(`to_local`).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@runtime_checkable
class Clock(Protocol):
    """What the service needs from time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to.

    `sleep()` parks the caller until `advance()`/`set()` moves time past its wake-up point,
    so loops written against `Clock` can be driven step by step in tests.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        self._now = require_aware(start).astimezone(UTC)
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake_at = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (wake_at, next(self._seq), future))
        await future

    def advance(self, delta: timedelta | float) -> datetime:
        """Move time forward by `delta` (a timedelta or seconds) and wake due sleepers."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        if delta < timedelta(0):
            raise ValueError("FakeClock.advance() cannot move time backwards; use set()")
        return self.set(self._now + delta)

    def set(self, when: datetime) -> datetime:
        """Jump to `when` (aware) and wake every sleeper whose time has come."""
        self._now = require_aware(when).astimezone(UTC)
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
        return self._now

    @property
    def sleepers(self) -> int:
        """How many callers are parked in `sleep()` (useful to wait for a loop to settle)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())


async def sleep_or_stop(clock: Clock, seconds: float, stop: asyncio.Event) -> None:
    """Sleep `seconds` on `clock`, waking early when `stop` is set (every background loop's wait)."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()
        await asyncio.gather(sleeper, stopper, return_exceptions=True)


class Stopwatch:
    """Elapsed-time measurement for benchmarks and metrics (monotonic, not wall time)."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the stopwatch started."""
        return time.perf_counter() - self._start

    def restart(self) -> float:
        """Return the elapsed seconds and start again."""
        now = time.perf_counter()
        elapsed, self._start = now - self._start, now
        return elapsed


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    """Reject naive datetimes: every instant in this system carries its offset."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(
            f"{what} {value.isoformat()} has no timezone; pass an aware datetime (e.g. with +08:00 or UTC)"
        )
    return value


def to_utc(value: datetime) -> datetime:
    """An aware datetime converted to UTC."""
    return require_aware(value).astimezone(UTC)


def to_local(value: datetime, tz: tzinfo = SHANGHAI) -> datetime:
    """An aware datetime shown in the display time zone (Asia/Shanghai by default)."""
    return require_aware(value).astimezone(tz)


def parse_instant(text: str, default_tz: tzinfo = SHANGHAI) -> datetime:
    """Parse an ISO 8601 instant; a value without offset is read in `default_tz`."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC)
