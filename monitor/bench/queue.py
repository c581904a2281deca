"""`monitor bench queue`: the duty queue page and live fan-out with many open incidents and clients.

Seeds N open incidents (default 10,000) across levels, units and regions, each with three
obligations (some overdue), serves the real web application on loopback, then measures (1) the
queue page, unfiltered and filtered, as a signed-in duty officer sees it (p50/p95 over many
requests) and (2) the delay from a committed change plus `notify_changed` until every one of C
connected SSE clients (default 100) has received it, and the same for a change only the polling
fallback can see.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from monitor.app import Services
from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.changes import LocalChangeFeed
from monitor.clock import Clock, Stopwatch, SystemClock
from monitor.config import resolve_org_file
from monitor.domain import (
    ClockType,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Obligation,
    ObligationStatus,
    OpinionLevel,
    UserRole,
)
from monitor.policy import load_org
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.engine import save_obligations
from monitor.storage.repo.incidents import append_events, create_incidents
from monitor.storage.repo.queue import set_next_due
from monitor.web.app import create_web_app
from monitor.web.auth.accounts import NewAccount, add_account
from monitor.web.auth.passwords import PasswordHasher

CLIENTS = 100
PAGE_REQUESTS = 200
FANOUT_ROUNDS = 20
PASSWORD = "queue-load-2026"
QUERIES = ("", "level=L1&level=L2", "unit=housing", "overdue=1")


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 10_000
    with tempfile.TemporaryDirectory() as tmp:
        url = options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        db = Database.open(url)
        try:
            await migrate(db)
            settings = dataclasses.replace(options.settings, live_poll_s=0.5, login_ip_attempts=1000)
            clock = SystemClock()
            services = Services(settings, clock, db, load_org(resolve_org_file(settings)), LocalChangeFeed())
            await _seed(services, n)
            return await _measure(services, n)
        finally:
            await db.close()


async def _seed(services: Services, n: int) -> None:
    now, org = services.clock.now(), services.org
    units = [u.id for u in org.departments()]
    regions = [u.id for u in org.localities()]
    levels = list(OpinionLevel)
    for start in range(0, n, 1000):
        batch = [
            Incident(
                title=f"基准测试事件{i:05d}：{org.units[units[i % len(units)]].short_name}相关舆情",
                detected_at=now - timedelta(minutes=i % 600),
                status=IncidentStatus.ASSIGNED,
                opinion_level=levels[i % len(levels)],
                owner_unit=units[i % len(units)],
                co_units=(units[(i + 3) % len(units)],) if i % 5 == 0 else (),
                region=regions[i % len(regions)],
                item_count=1 + i % 7,
                source_count=1 + i % 4,
            )
            for i in range(start, min(n, start + 1000))
        ]
        async with services.db.write() as conn:
            ids = await create_incidents(conn, batch, now)
            due: dict[int, datetime | None] = {
                inc_id: now + timedelta(minutes=(k * 7) % 2880 - 120) for k, inc_id in enumerate(ids, start)
            }
            await set_next_due(conn, due)
            planned = [ob for inc_id, at in due.items() if at for ob in _obligations(inc_id, at, now)]
            await save_obligations(conn, planned, now)
    await add_account(
        services.db,
        PasswordHasher(),
        services.clock,
        org,
        NewAccount("bench", UserRole.DUTY_OFFICER, "基准测试值班员"),
        PASSWORD,
        actor="bench",
    )


def _obligations(incident_id: int, due: datetime, now: datetime) -> list[Obligation]:
    """Three obligations like a confirmed incident's (the nearest is incidents.next_due_at)."""
    t0 = due - timedelta(hours=5)
    return [
        Obligation(
            incident_id=incident_id,
            rule_id=rule,
            action=action,
            clock=ClockType.NATURAL_HOURS,
            t0=t0,
            due_at=due + extra,
            status=ObligationStatus.BREACHED if due + extra <= now else ObligationStatus.OPEN,
        )
        for rule, action, extra in (
            ("GB80-AUTH-RELEASE-5H", "authoritative_release", timedelta(0)),
            ("GB61-PRESSCONF-24H", "press_conference", timedelta(hours=19)),
            ("GB61-RESPOND-48H", "first_response", timedelta(hours=43)),
        )
    ]


async def _measure(services: Services, n: int) -> BenchResult:
    runner = web.AppRunner(create_web_app(services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    connector = aiohttp.TCPConnector(limit=0)
    try:
        async with aiohttp.ClientSession(base, connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await _login(http)
            result = BenchResult("queue")
            await _measure_with_clients(http, services, n, result)
    finally:
        await runner.cleanup()
    result.figures["peak RSS"] = f"{peak_rss_mb():,.0f} MiB"
    return result


async def _login(http: aiohttp.ClientSession) -> None:
    async with http.get("/login") as resp:
        token = (await resp.text()).split('name="_csrf" value="')[1].split('"')[0]
    data = {"username": "bench", "password": PASSWORD, "_csrf": token, "next": "/queue"}
    async with http.post("/login", data=data) as resp:
        if resp.status != 200:
            raise RuntimeError(f"bench login failed: HTTP {resp.status}")


async def _page_times(http: aiohttp.ClientSession, n: int, result: BenchResult) -> None:
    for query in QUERIES:
        times = []
        for i in range(PAGE_REQUESTS + 10):
            watch = Stopwatch()
            async with http.get(f"/queue?{query}") as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"/queue?{query} answered HTTP {resp.status}")
            if i >= 10:  # the first requests warm caches
                times.append(watch.elapsed() * 1000)
        label = f"queue page, {n:,} open incidents, {CLIENTS} SSE clients connected, {query or 'no filter'}"
        result.figures[label] = f"p50 {_pct(times, 50):.0f} ms, p95 {_pct(times, 95):.0f} ms (target p95 < 200 ms)"


def _pct(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


async def _measure_with_clients(http: aiohttp.ClientSession, services: Services, n: int, result: BenchResult) -> None:
    """Page times and fan-out delays, both while CLIENTS event streams are connected."""
    streams = [await http.get("/events", timeout=aiohttp.ClientTimeout(total=None)) for _ in range(CLIENTS)]
    try:
        for stream in streams:
            await stream.content.readline()
        await _page_times(http, n, result)
        notified = [await _round(streams, services, notify=True) for _ in range(FANOUT_ROUNDS)]
        polled = [await _round(streams, services, notify=False) for _ in range(5)]
    finally:
        for stream in streams:
            stream.close()
    result.figures[f"SSE fan-out to {CLIENTS} clients (notify_changed)"] = (
        f"p50 {_pct(notified, 50):.0f} ms, max {max(notified):.0f} ms (target < 1 s)"
    )
    result.figures[f"SSE fan-out to {CLIENTS} clients (polling fallback, live_poll_s=0.5)"] = (
        f"p50 {_pct(polled, 50):.0f} ms, max {max(polled):.0f} ms"
    )


async def _round(streams: list[Any], services: Services, *, notify: bool) -> float:
    """Write one timeline event; milliseconds until the last client has it."""
    incident_id = 1 + len(streams)  # any seeded incident
    watch = Stopwatch()
    readers = [asyncio.create_task(_until_event(s, incident_id)) for s in streams]
    await asyncio.sleep(0)
    await _touch(services.db, services.clock, incident_id)
    if notify:
        services.changes.notify_changed([incident_id])
    await asyncio.wait_for(asyncio.gather(*readers), timeout=30)
    return watch.elapsed() * 1000


async def _touch(db: Database, clock: Clock, incident_id: int) -> None:
    now = clock.now()
    async with db.write() as conn:
        await append_events(
            conn, [IncidentEvent(incident_id, EventKind.NOTE_ADDED, now, "bench", {"text": "基准"})], now
        )


async def _until_event(stream: Any, incident_id: int) -> None:
    while True:
        line = (await stream.content.readline()).decode()
        if line.startswith("data: ") and incident_id in json.loads(line[6:])["ids"]:
            return
