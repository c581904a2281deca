"""After each pass: an incident that spreads is regraded up by the system, through the engine."""

import dataclasses
from datetime import timedelta

from sqlalchemy import select

from monitor.collectors.cluster import cluster_pending
from monitor.domain import EventKind, EventLevel, Incident, IncidentStatus, MediaTier, OpinionLevel
from monitor.domain import commands as c
from monitor.domain.clustering import ClusterPolicy
from monitor.engine.commands import execute
from monitor.pipeline import raise_event_levels, raise_opinion_levels
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import create_incidents, get_incident, list_events, list_incidents, save_incident
from monitor.storage.repo.items import insert_items
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


def report(n: int, title: str, level: str, why: str, **kw) -> dict:
    """A classified relevant item as the classify adapter stores it (a work-safety report from 东港镇)."""
    at = kw.pop("at")
    return {
        "source_id": None,
        "dedup_key": f"report-{n}",
        "url": f"https://news.example/{n}",
        "title": title,
        "text": BLAST,
        "text_norm": f"{title}\n{BLAST}",
        "fetched_at": at,
        "published_at": at,
        "relevant": True,
        "event_type": "work_safety",
        "event_level": level,
        "opinion_level": "L3",
        "department": "emergency",
        "region": "donggang",
        "classification": {"why": {"event_level": [why, "依据：国务院令第493号 第三条"]}},
        "classified_at": at,
        "created_at": at,
        **kw,
    }


BLAST = "明湖市东港镇一化工企业车间发生爆炸，市应急管理局正在组织救援，事故原因正在调查。"


async def one_pass(svc: Svc, *rows: dict) -> int:
    """Store reports, cluster them and raise event levels, as one collector pass does."""
    since = svc.clock.now()
    async with svc.db.write() as conn:
        await insert_items(conn, list(rows))
    await cluster_pending(svc.db, svc.clock, ClusterPolicy())
    return await raise_event_levels(svc, since)


async def test_a_later_report_with_more_casualties_raises_the_event_level_never_lowers_it(db, clock):
    svc = Svc(db, clock)
    detected = clock.now()
    assert await one_pass(svc, report(1, "东港镇一化工厂爆炸致2死", "IV", "未达更高等级标准 → IV级", at=detected)) == 0
    clock.advance(4 * H)
    raised = await one_pass(
        svc, report(2, "東港鎮化工廠爆炸死亡人數升至12人", "II", "死亡12 ≥ 10 → II级", at=clock.now())
    )
    assert raised == 1
    async with db.read() as conn:
        (incident,) = await list_incidents(conn)
        events = await list_events(conn, incident.id)
        obligations = {o.rule_id: o for o in await list_obligations(conn, [incident.id])}
    assert incident.event_level == EventLevel.II and incident.item_count == 2
    regrade = next(e for e in events if e.kind == EventKind.REGRADED)
    assert regrade.actor == "system" and "死亡12 ≥ 10 → II级" in regrade.payload["reason"]
    # a 重大 event is confirmed at once; its 5 h release runs from the original detection
    assert incident.status != IncidentStatus.DETECTED
    assert obligations["GB80-AUTH-RELEASE-5H"].due_at == detected + 5 * H
    # a late report with an older, lower figure does not lower it
    clock.advance(H)
    assert (
        await one_pass(svc, report(3, "东港镇化工厂爆炸已致6人死亡", "III", "死亡6 ≥ 3 → III级", at=clock.now())) == 0
    )
    async with db.read() as conn:
        assert (await get_incident(conn, incident.id)).event_level == EventLevel.II


async def test_a_persons_lower_grade_stands_until_a_report_states_a_graver_level(db, clock):
    svc = Svc(db, clock)
    await one_pass(svc, report(1, "东港镇化工厂爆炸致12死", "II", "死亡12 ≥ 10 → II级", at=clock.now()))
    async with db.read() as conn:
        (incident,) = await list_incidents(conn)
    assert incident.event_level == EventLevel.II
    clock.advance(H)
    lower = c.Regrade(
        incident_id=incident.id, actor="zhu_min", at=clock.now(), reason="12人为全省累计", event_level=EventLevel.III
    )
    await execute(svc, lower)
    clock.advance(H)
    assert await one_pass(svc, report(2, "东港镇化工厂爆炸 12人遇难", "II", "死亡12 ≥ 10 → II级", at=clock.now())) == 0
    async with db.read() as conn:
        assert (await get_incident(conn, incident.id)).event_level == EventLevel.III
    clock.advance(H)
    assert await one_pass(svc, report(3, "东港镇化工厂爆炸死亡升至31人", "I", "死亡31 ≥ 30 → I级", at=clock.now())) == 1
    async with db.read() as conn:
        assert (await get_incident(conn, incident.id)).event_level == EventLevel.I


async def test_a_persons_lower_opinion_level_is_not_undone_by_the_spread_they_judged(db, clock):
    svc = Svc(db, clock)
    since = clock.now()
    iid = await new(svc, opinion_level=OpinionLevel.L3, media_tiers=(MediaTier.CENTRAL, MediaTier.CITY), source_count=3)
    assert await raise_opinion_levels(svc, since) == 1
    clock.advance(H)
    lower = c.Regrade(
        incident_id=iid, actor="zhu_min", at=clock.now(), reason="央媒转载的是旧闻", opinion_level=OpinionLevel.L3
    )
    await execute(svc, lower)
    clock.advance(H)
    since = clock.now()
    async with db.write() as conn:  # a later pass attaches another item: the incident changed
        incident = await get_incident(conn, iid)
        await save_incident(conn, dataclasses.replace(incident, item_count=incident.item_count + 1), clock.now())
    assert await raise_opinion_levels(svc, since) == 0
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).opinion_level == OpinionLevel.L3


async def test_a_feed_still_carrying_last_months_articles_opens_no_incident_already_overdue(db, clock):
    """A newly added source brings a month-old explosion report and today's: only today's opens an
    incident (no breach, no breach alert); the old one waits on the items list as 旧闻，未立案."""
    from monitor.config import load_settings
    from monitor.domain.clustering import held_note
    from monitor.engine.runner import Engine
    from monitor.pipeline import Pipeline
    from monitor.storage.schema import items, outbox

    from .classify_support import item_classifier

    svc = Svc(db, clock)
    now = clock.now()
    old = "明湖市东港化工园区一企业发生爆炸，市应急管理局组织救援，已造成3人受伤，事故原因正在调查。"
    fresh = "北湖镇多个小区自昨日起停水，至今未恢复供水，居民反映生活受到严重影响。"
    rows = [
        {
            "dedup_key": f"feed-{n}",
            "url": f"https://news.example/feed/{n}",
            "title": title,
            "text": text,
            "published_at": published,
            "fetched_at": now,
            "created_at": now,
            "media_tier": "city",
        }
        for n, (title, text, published) in enumerate(
            [
                ("东港化工园区一企业发生爆炸 3人受伤", old, now - timedelta(days=30)),
                ("北湖镇多个小区停水 居民生活受影响", fresh, now - 2 * H),
            ]
        )
    ]
    async with db.write() as conn:
        await insert_items(conn, rows)
    analysis = await Pipeline(svc, load_settings(env={}).settings, item_classifier()).run()
    assert analysis.classified.relevant == 2
    assert (analysis.clustered.opened, analysis.clustered.held) == (1, 1)
    engine = Engine(svc)
    await engine.tick()
    clock.advance(H / 2)
    await engine.tick()
    async with db.read() as conn:
        (incident,) = await list_incidents(conn, open_only=False)
        obligations = await list_obligations(conn)
        alerts = (await conn.execute(select(outbox.c.idempotency_key))).scalars().all()
        docs = {
            r.dedup_key: r.classification for r in await conn.execute(select(items.c.dedup_key, items.c.classification))
        }
    assert incident.title == "北湖镇多个小区停水 居民生活受影响"
    assert all(o.status.value != "breached" for o in obligations) and not any(
        "escalate" in k or "supervise" in k for k in alerts
    )
    assert held_note(docs["feed-0"]["held"]).startswith("旧闻，未立案") and "held" not in docs["feed-1"]
