"""The clock engine in the demo: a few backdated incidents, and a console that shows the alerts.

TEMPORARY PARTS, clearly replaceable:
- `seed_incidents` creates incidents directly, as clustering would from the demo corpus, until
  the collectors' clustering and the classifiers land; then the demo's incidents come from the
  feeds and this function goes.
- `print_console` prints pending outbox rows and marks them sent. The notifications capability
  replaces it with monitor/notifications/console.py (the console channel of the outbox loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from monitor.clock import Clock
from monitor.domain import EventLevel, Incident, OpinionLevel, Role
from monitor.domain import commands as c
from monitor.engine.commands import execute
from monitor.engine.runner import EngineServices, sleep_or_stop
from monitor.storage.repo.engine import mark_outbox_sent, pending_outbox
from monitor.storage.repo.incidents import create_incidents

M = timedelta(minutes=1)


async def seed_incidents(services: EngineServices) -> None:
    """Backdated incidents whose deadlines fall due within minutes of the demo's start."""
    now = services.clock.now()
    explosion = Incident(
        title="东港化工园区一企业发生爆炸事故",
        detected_at=now - 278 * M,
        occurred_at=now - 290 * M,  # 5 h authoritative release due 10 minutes after start
        event_level=EventLevel.II,
        opinion_level=OpinionLevel.L1,
        owner_unit="emergency",
        region="donggang",
        external_ref="demo-explosion",
    )
    water = Incident(
        title="城北停水三十多个小时，没有任何通知",
        detected_at=now - 2839 * M,  # 48 h response due 41 minutes after start
        opinion_level=OpinionLevel.L2,
        owner_unit="water",
        region="chengbei",
        external_ref="demo-water",
    )
    rumour = Incident(
        title="网传明湖放开限购、买房送户口",
        detected_at=now - 50 * M,  # awaiting 研判: due 10 minutes after start
        opinion_level=OpinionLevel.L3,
        owner_unit="housing",
        external_ref="demo-rumour",
    )
    async with services.db.write() as conn:
        ids = await create_incidents(conn, [explosion, water, rumour], now, actor="demo")
    # the explosion is confirmed automatically (event level II); the water cut by the duty officer:
    await execute(services, c.Confirm(incident_id=ids[1], actor="xu_ting", at=now, note="演示：值班员确认"))


async def print_console(
    services: EngineServices, announce: Callable[[str], None], stop: asyncio.Event, every_s: float = 2.0
) -> None:
    """Print alerts as they are queued (stand-in for the console channel)."""
    clock: Clock = services.clock
    while not stop.is_set():
        async with services.db.write() as conn:
            rows = await pending_outbox(conn, clock.now(), 200)
            await mark_outbox_sent(conn, [r.id for r in rows], clock.now())
        for row in rows:
            person = (row.payload.get("person") or {}).get("name") or "全体值班员"
            role = row.payload.get("role")
            label = Role(role).label if role else ""
            announce(f"通知 → {person}（{label}）：{row.payload.get('text')}")
        await sleep_or_stop(clock, every_s, stop)
