import ast
import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.clock import FakeClock, SystemClock, parse_instant, require_aware, to_local

REPO = Path(__file__).resolve().parent.parent


def test_fake_clock_moves_only_when_told():
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(hours=5))
    assert clock.now() == datetime(2026, 1, 1, 5, tzinfo=UTC)
    clock.advance(30)
    assert clock.now() == datetime(2026, 1, 1, 5, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


async def test_fake_sleep_wakes_when_time_passes():
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("a", 10)), asyncio.create_task(sleeper("b", 60))]
    await asyncio.sleep(0)
    assert clock.sleepers == 2
    clock.advance(9)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(1)
    await asyncio.sleep(0)
    assert woke == ["a"]
    clock.set(datetime(2026, 1, 1, 1, tzinfo=UTC))
    await asyncio.gather(*tasks)
    assert woke == ["a", "b"]


async def test_until_sleepers_waits_for_loops_to_park_however_long_their_work_takes():
    """No polling and no bound in turns: a pass that runs in a thread for a while (a database
    write on a loaded machine) is waited for, and the wait ends as soon as the loop parks."""
    clock, passes = FakeClock(datetime(2026, 1, 1, tzinfo=UTC)), []
    release = threading.Event()

    async def loop() -> None:
        while True:
            await asyncio.to_thread(release.wait)  # the pass: work off the event loop
            passes.append(clock.now())
            await clock.sleep(60)

    task = asyncio.create_task(loop())
    waiting = asyncio.create_task(clock.until_sleepers(1))
    for _ in range(200_000):  # more turns than any spin-wait allowed itself
        await asyncio.sleep(0)
    assert not waiting.done() and passes == []
    release.set()
    await waiting
    assert clock.sleepers == 1 and len(passes) == 1
    clock.advance(60)
    await clock.until_sleepers(1)
    assert len(passes) == 2
    task.cancel()


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="no timezone"):
        require_aware(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))


def test_system_clock_is_aware_utc():
    assert SystemClock().now().tzinfo is UTC


def test_local_display_and_parsing_use_shanghai():
    instant = parse_instant("2026-09-24T09:00:00")
    assert instant == datetime(2026, 9, 24, 1, tzinfo=UTC)
    assert to_local(instant).strftime("%H:%M %z") == "09:00 +0800"


WALL_TIME_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "time_ns"),
    ("loop", "time"),
}


def _wall_time_reads(path: Path, root: Path = REPO) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if (name, node.func.attr) in WALL_TIME_CALLS:
                found.append(f"{path.relative_to(root)}:{node.lineno} {name}.{node.func.attr}()")
        if isinstance(node, ast.ImportFrom) and node.module == "time":
            names = {a.name for a in node.names}
            if names & {"time", "monotonic", "perf_counter", "time_ns"}:
                found.append(f"{path.relative_to(root)}:{node.lineno} from time import {', '.join(sorted(names))}")
    return found


def test_only_clock_module_reads_wall_time():
    offenders = []
    for path in sorted((REPO / "monitor").rglob("*.py")):
        if path.name == "clock.py" and path.parent.name == "monitor":
            continue
        offenders.extend(_wall_time_reads(path))
    assert offenders == [], "read time through monitor.clock (a Clock or Stopwatch) instead:\n" + "\n".join(offenders)


def test_the_wall_time_check_catches_offenders(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text("import time\nfrom datetime import datetime\nx = datetime.now()\ny = time.monotonic()\n")
    assert len(_wall_time_reads(bad, tmp_path)) == 2
