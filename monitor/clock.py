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
from collections.abc import Mapping
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
        self._watchers: set[asyncio.Event] = set()  # of until_sleepers(): set whenever a caller parks

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake_at = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (wake_at, next(self._seq), future))
        for watcher in self._watchers:
            watcher.set()
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

    async def until_sleepers(self, count: int) -> None:
        """Wait until at least `count` callers are parked in `sleep()`: the loops driven by this
        clock have finished what they were doing (database threads included) and wait for time.

        Woken by each `sleep()` call, not by polling, so a slow machine makes it slower, never
        wrong; a loop that never parks hangs the caller (tests bound that with their timeout)."""
        parked = asyncio.Event()
        self._watchers.add(parked)
        try:
            while self.sleepers < count:
                parked.clear()
                await parked.wait()
        finally:
            self._watchers.discard(parked)


TEST_CLOCK_ENV = "MONITOR_TEST_CLOCK"
TEST_CLOCK_GUARD = "MONITOR_TESTING"
TEST_CLOCK_GUARD_VALUE = "accelerated-clock"


class ClockConfigError(ValueError):
    """The test clock was asked for in a way this process refuses; the message says why."""


class AcceleratedClock:
    """Simulated time running `speed` times faster than wall time from a shared anchor — TESTS ONLY.

    Several processes built from the same spec (`START@ANCHORxSPEED`: the simulated instant at
    wall-clock Unix time ANCHOR, and the speed-up) agree on "now", so the scale-out test can run
    real `monitor worker` processes through hours of simulated deadlines in a minute. A process
    only uses it through `clock_from_env`, which refuses unless a second, test-only variable is set.
    """

    def __init__(self, start: datetime, anchor: float, speed: float) -> None:
        if speed <= 0:
            raise ClockConfigError(f"{TEST_CLOCK_ENV}: speed must be positive, got {speed}")
        self.start, self.anchor, self.speed = require_aware(start).astimezone(UTC), anchor, speed

    @classmethod
    def starting_now(cls, start: datetime, speed: float, *, delay_s: float = 0.0) -> AcceleratedClock:
        """A clock whose simulated `start` is this very moment, or `delay_s` wall seconds from now
        (before then it reads earlier instants: processes can start up before the run begins)."""
        return cls(start, time.time() + delay_s, speed)

    @classmethod
    def parse(cls, spec: str) -> AcceleratedClock:
        try:
            start_text, rest = spec.strip().split("@", 1)
            anchor_text, speed_text = rest.split("x", 1)
            return cls(datetime.fromisoformat(start_text), float(anchor_text), float(speed_text))
        except ValueError as exc:
            raise ClockConfigError(
                f"{TEST_CLOCK_ENV}={spec!r} is not START@ANCHORxSPEED, "
                "e.g. 2026-09-01T01:00:00+00:00@1767225600.0x120 ({exc})"
            ) from exc

    @property
    def spec(self) -> str:
        return f"{self.start.isoformat()}@{self.anchor!r}x{self.speed!r}"

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.time() - self.anchor) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """The process clock: `SystemClock`, unless a test asks for an `AcceleratedClock`.

    The accelerated clock needs BOTH `MONITOR_TEST_CLOCK` (its spec) and
    `MONITOR_TESTING=accelerated-clock`; either alone is an error, so a stray variable in a
    production environment stops the process instead of silently bending its deadlines.
    """
    spec, guard = env.get(TEST_CLOCK_ENV), env.get(TEST_CLOCK_GUARD)
    if spec is None and guard is None:
        return SystemClock()
    if spec is None or guard != TEST_CLOCK_GUARD_VALUE:
        raise ClockConfigError(
            f"{TEST_CLOCK_ENV} and {TEST_CLOCK_GUARD}={TEST_CLOCK_GUARD_VALUE} select a simulated clock for "
            f"tests and must be set together; this process has "
            f"{TEST_CLOCK_ENV}={'set' if spec is not None else 'unset'}, {TEST_CLOCK_GUARD}={guard!r}. "
            "In production unset both."
        )
    return AcceleratedClock.parse(spec)


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
