"""Health changes made by real polls reach the audit watchdog and the sources page as events."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select

from monitor.collectors.polling import Collector
from monitor.engine.audit import Auditor
from monitor.engine.calendar import WorkCalendar
from monitor.engine.runner import Engine
from monitor.storage.repo.sources import latest_health_events, source_events_for
from monitor.storage.schema import outbox

from .engine_support import Svc
from .feedplay import Step, rss
from .test_collectors_poll import add, config, state


class FarCalendar(WorkCalendar):
    def covered_until(self) -> date:
        return date(2099, 12, 31)


async def test_failing_and_silent_sources_are_events_the_watchdog_alerts_on(db, clock, play):
    news = [{"title": "明湖发布：今日天气预报", "link": "https://a.example/w1"}]
    play.scripts["down"] = [Step(body=rss(news)), Step(status=500)]
    play.scripts["quiet"] = [Step(body=rss(news))]
    down = await add(db, clock, play.url("/feed/down.xml"), name="明湖日报", poll_min_s=3600, poll_max_s=3600)
    quiet = await add(
        db,
        clock,
        play.url("/feed/quiet.xml"),
        name="北湖镇公众号",
        expected_per_day=24.0,
        poll_min_s=3600,
        poll_max_s=3600,
    )
    svc = Svc(db, clock, calendar=FarCalendar())
    engine = Engine(svc)
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        await collector.run_once()
        await engine.heartbeat(await engine.tick())
        assert await Auditor(svc).check() == []  # all healthy: nothing to say
        for _ in range(7):  # hourly: "down" fails every time, "quiet" answers but has nothing new
            due = [(await state(db, s)).next_poll_at for s in (down, quiet)]
            clock.set(max(due))
            await collector.run_once()
    assert ((await state(db, down)).health, (await state(db, quiet)).health) == ("failing", "silent")

    async with db.read() as conn:
        history = await source_events_for(conn)
        latest = await latest_health_events(conn, [down, quiet])
    changes = [(e.source_id, e.from_health, e.to_health) for e in reversed(history)]
    assert changes == [(down, "ok", "degraded"), (down, "degraded", "failing"), (quiet, "ok", "silent")]
    failing = latest[down]
    assert failing.detail == {
        "outcome": "http_error",
        "http_status": 500,
        "error": "HTTP 500",
        "consecutive_failures": 3,
    }
    assert latest[quiet].detail["outcome"] == "not_modified"

    await engine.heartbeat(await engine.tick())
    (finding,) = await Auditor(svc).check()
    assert finding.check == "sources" and "明湖日报（失败）" in finding.text and "北湖镇公众号（静默）" in finding.text
    async with db.read() as conn:
        alerts = list(await conn.execute(select(outbox).where(outbox.c.kind == "system_alert")))
    assert len(alerts) == 1 and alerts[0].recipient is None and alerts[0].urgent  # to every duty officer

    # Recovery is an event too, and the watchdog falls silent.
    play.scripts["down"] = [Step(body=rss([*news, {"title": "明湖发布：明日天气", "link": "https://a.example/w2"}]))]
    play.scripts["quiet"] = [Step(body=rss([{"title": "北湖镇：明日停水通知", "link": "https://b.example/t1"}]))]
    clock.set(max([(await state(db, s)).next_poll_at for s in (down, quiet)]))
    async with Collector(db, clock, config(), rng=random.Random(1)) as collector:
        assert (await collector.run_once()).sources == 2
    async with db.read() as conn:
        latest = await latest_health_events(conn, [down, quiet])
    assert (latest[down].to_health, latest[quiet].to_health) == ("ok", "ok")
    await engine.heartbeat(await engine.tick())
    assert "sources" not in {f.check for f in await Auditor(svc).check()}  # (the first alert is still unsent)
