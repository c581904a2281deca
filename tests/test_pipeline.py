"""After each pass: an incident that spreads is regraded up by the system, through the engine."""

from datetime import timedelta

from sqlalchemy import select

from monitor.domain import EventKind, Incident, IncidentStatus, MediaTier, OpinionLevel
from monitor.domain import commands as c
from monitor.engine.commands import execute
from monitor.pipeline import raise_opinion_levels
from monitor.storage.repo.incidents import create_incidents, get_incident, list_events
from monitor.storage.schema import corrections

from .engine_support import Svc

H = timedelta(hours=1)


async def new(svc: Svc, **kw) -> int:
    incident = Incident(title=kw.pop("title", "城北停水"), detected_at=svc.clock.now(), owner_unit="water", **kw)
    async with svc.db.write() as conn:
        (iid,) = await create_incidents(conn, [incident], svc.clock.now())
    return iid


async def test_central_media_coverage_raises_the_opinion_level(db, clock):
    svc = Svc(db, clock)
    since = clock.now()
    quiet = await new(svc, title="小区路灯不亮", opinion_level=OpinionLevel.L4, media_tiers=(MediaTier.SELF_MEDIA,))
    spread = await new(
        svc, opinion_level=OpinionLevel.L3, media_tiers=(MediaTier.CENTRAL, MediaTier.CITY), source_count=3
    )
    assert await raise_opinion_levels(svc, since) == 1
    async with db.read() as conn:
        raised, kept = await get_incident(conn, spread), await get_incident(conn, quiet)
        events = await list_events(conn, spread)
        corrected = (await conn.execute(select(corrections))).all()
    assert raised.opinion_level == OpinionLevel.L1 and kept.opinion_level == OpinionLevel.L4
    regrade = next(e for e in events if e.kind == EventKind.REGRADED)
    assert regrade.actor == "system" and "传播范围扩大" in regrade.payload["reason"]
    assert corrected == []  # the system's own regrades are not classifier corrections
    # L1 is confirmed automatically, so its deadlines run from the original detection
    assert raised.status != IncidentStatus.DETECTED
    assert await raise_opinion_levels(svc, since) == 0  # idempotent: never regraded twice


async def test_levels_never_go_down_and_closed_incidents_are_left_alone(db, clock):
    svc = Svc(db, clock)
    since = clock.now()
    high = await new(svc, opinion_level=OpinionLevel.L1, media_tiers=(MediaTier.SELF_MEDIA,))
    closed = await new(svc, title="已排除", opinion_level=OpinionLevel.L4, media_tiers=(MediaTier.CENTRAL,))
    await execute(svc, c.Dismiss(incident_id=closed, actor="zhu_min", at=clock.now(), reason="非政务舆情"))
    assert await raise_opinion_levels(svc, since) == 0
    async with db.read() as conn:
        assert (await get_incident(conn, high)).opinion_level == OpinionLevel.L1
        assert (await get_incident(conn, closed)).opinion_level == OpinionLevel.L4


async def test_only_incidents_changed_since_the_pass_started_are_graded(db, clock):
    svc = Svc(db, clock)
    old = await new(svc, opinion_level=OpinionLevel.L3, media_tiers=(MediaTier.CENTRAL,))
    clock.advance(H)
    assert await raise_opinion_levels(svc, clock.now()) == 0
    async with db.read() as conn:
        assert (await get_incident(conn, old)).opinion_level == OpinionLevel.L3
