"""Stopping the collector: SIGTERM or the stop event ends a pass at once, in-flight fetches are
cancelled, nothing half-done is written, and the next start polls the interrupted sources again."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.collectors.fetch import FetchLimits
from monitor.collectors.health import HealthPolicy
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.domain import Source
from monitor.storage.repo.sources import add_sources, get_source
from monitor.storage.schema import fetches, items

from .feedplay import Step, rss

HANGING = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=300.0, total_timeout_s=600.0)


async def add(db, clock, url: str) -> int:
    async with db.write() as conn:
        ids = await add_sources(conn, [Source(name=url, url=url, poll_min_s=60)], clock.now())
    return ids[url]


async def row(db, source_id: int):
    async with db.read() as conn:
        return await get_source(conn, str(source_id))


async def fetch_rows(db, source_id: int) -> list:
    async with db.read() as conn:
        return list(await conn.execute(select(fetches).where(fetches.c.source_id == source_id)))


async def until(condition, rounds: int = 20_000) -> None:
    """Let the loop run (I/O included, no clock time) until the async `condition` holds."""
    for _ in range(rounds):
        if await condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def test_stop_cancels_a_hanging_fetch_at_once_writes_nothing_of_it_and_frees_its_lease(db, clock, play):
    play.scripts["a"] = [Step(body=rss([{"title": "明湖市发布老旧小区改造计划", "link": "https://a.example/1"}]))]
    quick = await add(db, clock, play.url("/feed/a.xml"))
    hanging = await add(db, clock, play.url("/slow"))
    config = CollectorConfig(limits=HANGING, health=HealthPolicy(failing_after=1))
    stop = asyncio.Event()
    async with Collector(db, clock, config, rng=random.Random(1)) as collector:
        task = asyncio.create_task(collector.run_forever(stop, idle_s=60))

        async def quick_stored_and_slow_asked() -> bool:
            return bool(play.hits.get("/slow")) and bool(await fetch_rows(db, quick))

        await until(quick_stored_and_slow_asked)
        stop.set()
        await asyncio.wait_for(task, 60)  # not the 300 s read timeout (60 s: room for a loaded machine)
    # the finished poll is kept; the interrupted one left no trace: no fetch row, no failure, no lease
    async with db.read() as conn:
        assert len(list(await conn.execute(select(items)))) == 1
    assert await fetch_rows(db, hanging) == []
    state = await row(db, hanging)
    assert (state.health, state.consecutive_failures, state.last_error) == ("ok", 0, None)
    assert state.lease_owner is None and state.lease_expires_at is None and state.last_fetch_at is None
    # the next start polls it again at once (its lease does not hold it back for 10 minutes)
    play.never.set()
    async with Collector(db, clock, config, rng=random.Random(1)) as again:
        result = await again.run_once()
    assert result.sources == 1 and play.hits["/slow"] == 2
    assert len(await fetch_rows(db, hanging)) == 1


async def test_collect_once_stops_on_the_stop_event_and_says_what_was_left(db, clock, play):
    hanging = await add(db, clock, play.url("/slow"))
    stop = asyncio.Event()
    config = CollectorConfig(limits=HANGING)
    async with Collector(db, clock, config, rng=random.Random(1)) as collector:
        task = asyncio.create_task(collector.run_once(stop))
        await play.slow_asked.wait()
        stop.set()
        result = await asyncio.wait_for(task, 60)  # not the 300 s read timeout
    assert (result.sources, result.interrupted, result.errors) == (1, 1, 0)
    assert await fetch_rows(db, hanging) == []
    assert (await row(db, hanging)).lease_owner is None


@pytest.mark.parametrize("once", [False, True], ids=["forever", "once"])
async def test_sigterm_ends_monitor_collect_within_seconds_while_a_fetch_hangs(sqlite_db, clock, play, tmp_path, once):
    hanging = await add(sqlite_db, clock, play.url("/slow"))
    url = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"  # the sqlite_db fixture's file
    timeouts = {"MONITOR_COLLECTOR_READ_TIMEOUT_S": "300", "MONITOR_COLLECTOR_TOTAL_TIMEOUT_S": "600"}
    env = {**os.environ, "MONITOR_DATABASE_URL": url, **timeouts}
    command = [sys.executable, "-m", "monitor", "collect", *(["--once"] if once else [])]
    pipe = asyncio.subprocess.PIPE
    process = await asyncio.create_subprocess_exec(*command, env=env, stdout=pipe, stderr=pipe)
    try:
        # the process starts in its own time (seconds of imports on a loaded machine), or dies trying
        asked, exited = asyncio.ensure_future(play.slow_asked.wait()), asyncio.ensure_future(process.wait())
        await asyncio.wait({asked, exited}, return_when=asyncio.FIRST_COMPLETED)
        asked.cancel()
        assert process.returncode is None, "monitor collect exited before it fetched"
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 60)  # not the 300 s read timeout
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    if once:
        assert "采集中断" in out.decode() and "1 个来源因停止而未采完" in out.decode()
    assert await fetch_rows(sqlite_db, hanging) == []
    state = await row(sqlite_db, hanging)
    assert (state.health, state.consecutive_failures, state.lease_owner) == ("ok", 0, None)
