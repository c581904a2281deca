"""The audit watchdog alerts duty officers when the engine, the outbox or the calendar fail."""

from datetime import date, timedelta

from sqlalchemy import insert, select

from monitor.domain import commands as c
from monitor.engine.audit import Auditor
from monitor.engine.calendar import WorkCalendar
from monitor.engine.commands import execute
from monitor.engine.runner import Engine
from monitor.storage.schema import outbox, sources

from .engine_support import Svc, new_incident

H = timedelta(hours=1)


class FarCalendar(WorkCalendar):
    def covered_until(self) -> date:
        return date(2099, 12, 31)


async def test_healthy_engine_gives_no_findings(db, clock):
    svc = Svc(db, clock, calendar=FarCalendar())
    engine = Engine(svc)
    await engine.heartbeat(await engine.tick())
    assert await Auditor(svc).check() == []


async def test_stuck_engine_and_outbox_raise_one_alert_per_hour(db, clock):
    svc = Svc(db, clock, calendar=FarCalendar())
    iid = await new_incident(svc, "III", "L2")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    clock.advance(30 * H)  # nobody ran the engine or delivered anything since
    found = await Auditor(svc).check()
    assert {f.check for f in found} == {"timers", "engine-heartbeat", "outbox"}
    await Auditor(svc).check()
    async with db.read() as conn:
        rows = list(await conn.execute(select(outbox).where(outbox.c.kind == "system_alert")))
    assert len(rows) == 3 and all(r.recipient is None and r.urgent for r in rows)
    assert all(r.idempotency_key.startswith("system:-:audit-") for r in rows)
    assert any("时限引擎已停止运行" in r.payload["text"] for r in rows)


async def test_calendar_running_out_is_reported(db, clock):
    svc = Svc(db, clock)  # the shipped calendar ends 2026-12-31; the fake clock says 2026-09-24
    clock.advance(timedelta(days=80))
    engine = Engine(svc)
    await engine.heartbeat(await engine.tick())
    found = await Auditor(svc).check()
    assert [f.check for f in found] == ["calendar"] and "2026-12-31" in found[0].text


async def test_failing_sources_are_reported(db, clock):
    svc = Svc(db, clock, calendar=FarCalendar())
    async with db.write() as conn:
        row = {
            "name": "明湖日报",
            "kind": "feed",
            "url": "https://x.example/rss",
            "media_tier": "city",
            "poll_min_s": 60,
        }
        row |= {"poll_max_s": 600, "health": "failing", "created_at": clock.now(), "updated_at": clock.now()}
        await conn.execute(insert(sources), [row])
    engine = Engine(svc)
    await engine.heartbeat(await engine.tick())
    found = await Auditor(svc).check()
    assert [f.check for f in found] == ["sources"] and "明湖日报（失败）" in found[0].text
