"""The clock engine in the demo: a few backdated incidents whose deadlines fall due within minutes.

TEMPORARY, clearly replaceable: `seed_incidents` creates incidents directly, as clustering would
from the demo corpus, until the collectors' clustering and the classifiers land; then the demo's
incidents come from the feeds and this module goes. The alerts reach the console through the
outbox and the notifier's console channel, like any other channel.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.domain import EventLevel, Incident, OpinionLevel
from monitor.domain import commands as c
from monitor.engine.commands import execute
from monitor.engine.runner import EngineServices
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
