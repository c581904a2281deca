"""`monitor bench notify`: outbox throughput to a local webhook, and a burst to one DingTalk-like robot."""

from __future__ import annotations

import dataclasses
import random
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.clock import Stopwatch, SystemClock
from monitor.config import Settings
from monitor.domain import ChannelKind, OrgDirectory, Person, Robot, Role, RoleAssignment, Unit, UnitKind
from monitor.notifications.service import build_channels, create_notifier
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.outbox import insert_rows


def _org() -> OrgDirectory:
    robot = Robot("bench-robot", ChannelKind.DINGTALK, "基准测试群", "BENCH_DINGTALK_URL")
    units = [Unit("gov", "基准市人民政府", "市政府", UnitKind.GOVERNMENT, robots={ChannelKind.DINGTALK: robot.id})]
    role = (RoleAssignment(Role.LIAISON, "gov"),)
    people = [
        Person("hook", "接口", roles=role, channels=(ChannelKind.WEBHOOK,)),
        Person("ding", "钉钉", mobile="13900009999", roles=role, channels=(ChannelKind.DINGTALK,)),
    ]
    return OrgDirectory.build("基准市", units, people, [robot])


def _rows(person: str, n: int, now: Any) -> list[dict[str, Any]]:
    return [
        {
            "idempotency_key": f"bench:{person}:{i}",
            "kind": "deadline_warning",
            "urgent": True,
            "recipient": person,
            "payload": {"text": f"基准提醒 {i}", "incident": {"id": i, "title": f"基准事件{i}"}, "due_at": None},
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(n)
    ]


async def _server() -> tuple[web.AppRunner, str, list[int]]:
    hits: list[int] = []

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        hits.append(1)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    app = web.Application()
    app.router.add_post("/{tail:.*}", accept)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}", hits


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 2000
    runner, base, hits = await _server()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            await migrate(db)
            return await _measure(db, options.settings, base, hits, n)
        finally:
            await db.close()
            await runner.cleanup()


async def _measure(db: Database, base: Settings, url: str, hits: list[int], n: int) -> BenchResult:
    settings = dataclasses.replace(base, webhook_url=url + "/hook", webhook_secret="bench", notify_batch=200)
    clock, rng = SystemClock(), random.Random(1)
    built = build_channels(settings, _org(), {"BENCH_DINGTALK_URL": url + "/robot/send?access_token=x"}, clock, rng)
    notifier = create_notifier(db, clock, settings, built, rng=rng, worker="bench")
    result = BenchResult("notify")
    try:
        async with db.write() as conn:
            await insert_rows(conn, _rows("hook", n, clock.now()))
        watch = Stopwatch()
        while (await notifier.run_once()).claimed:
            pass
        seconds = watch.elapsed()
        result.figures[f"deliver {n:,} alerts to a local webhook ({db.dialect}, batches of 200)"] = (
            f"{n / seconds:,.0f} rows/s"
        )
        burst = min(n, 500)
        async with db.write() as conn:
            await insert_rows(conn, _rows("ding", burst, clock.now() - timedelta(seconds=1)))
        before, watch = len(hits), Stopwatch()
        sent = 0
        while (report := await notifier.run_once()).claimed:
            sent += report.sent
        result.figures[f"burst of {burst} alerts to one DingTalk-like robot"] = (
            f"{sent} delivered in {len(hits) - before} requests (limit 20/min), {watch.elapsed():.2f} s"
        )
        result.figures["peak RSS"] = f"{peak_rss_mb():,.0f} MiB"
    finally:
        await built.close()
    return result
