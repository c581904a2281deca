"""Clustering of classified items into incidents, and the merge/split plans the engine executes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from monitor.collectors.cluster import cluster_pending
from monitor.domain import (
    DomainError,
    EventKind,
    EventLevel,
    EventType,
    Incident,
    IncidentStatus,
    MediaTier,
    OpinionLevel,
    Source,
)
from monitor.domain.clustering import (
    Candidate,
    ClusterPolicy,
    ItemFacts,
    assign,
    held_note,
    join,
    plan_merge,
    plan_split,
)
from monitor.storage.repo.clusters import incident_item_ids, move_items, refresh_incident_stats
from monitor.storage.repo.incidents import append_events, create_incidents, get_incident, list_events, save_incident
from monitor.storage.repo.items import insert_items
from monitor.storage.repo.sources import add_sources
from monitor.storage.schema import incident_items

from .conftest import START

BLAST = "东港化工园区一企业今晨发生爆炸，已造成3人受伤，市应急管理局正在组织救援，事故原因正在调查。"
POLICY = ClusterPolicy(window=timedelta(hours=72), threshold=0.25)


def row(n, title, text, *, source=1, tier="city", relevant=True, region="donggang", event_type="work_safety",
        published=None, duplicate_of=None, level="III", fetched=None):  # fmt: skip
    return {
        "source_id": source,
        "dedup_key": f"{n:064d}",
        "url": f"https://news.example/{n}",
        "title": title,
        "text": text,
        "text_norm": f"{title}\n{text}",
        "fetched_at": fetched or START,
        "published_at": published or START - timedelta(minutes=n),
        "media_tier": tier,
        "duplicate_of": duplicate_of,
        "relevant": relevant,
        "event_type": event_type if relevant else "not_gov",
        "event_level": level if relevant else None,
        "opinion_level": "L3" if relevant else None,
        "department": "emergency",
        "region": region,
        "classified_at": START,
        "created_at": START,
    }


async def setup_sources(db):
    async with db.write() as conn:
        await add_sources(
            conn,
            [
                Source(name="明湖日报", url="https://a.example/rss", media_tier=MediaTier.CITY),
                Source(name="江南日报", url="https://b.example/rss", media_tier=MediaTier.PROVINCIAL),
                Source(name="新华社", url="https://c.example/rss", media_tier=MediaTier.CENTRAL),
            ],
            START,
        )


async def store(db, rows):
    async with db.write() as conn:
        stored = await insert_items(conn, rows)
    return {key: item_id for key, (item_id, _) in stored.items()}


async def reasons(db):
    async with db.read() as conn:
        return {r.item_id: (r.incident_id, r.reason) for r in await conn.execute(select(incident_items))}


async def test_relevant_items_cluster_by_event_with_recorded_reasons(db, clock):
    await setup_sources(db)
    ids = await store(
        db,
        [
            row(1, "东港化工园区发生爆炸 3人受伤", BLAST),
            row(
                2,
                "东港化工园区爆炸事故致3人受伤 应急管理局救援",
                "记者从市应急管理局获悉，东港化工园区爆炸已致3人受伤。",
                source=2,
                tier="provincial",
            ),
            row(
                3,
                "北湖镇老旧小区改造引发居民不满",
                "北湖镇多名居民反映小区改造工程拖延。",
                region="beihu",
                event_type="livelihood",
            ),
            row(4, "东港化工园区发生爆炸 3人受伤", BLAST, region="xiling"),  # same words, other place
            row(5, "明星八卦", "与政务无关", relevant=False),
            row(6, "东港化工园区再次发生爆炸", BLAST, published=START + timedelta(days=5)),  # outside the window
        ],
    )
    i = {n: ids[f"{n:064d}"] for n in range(1, 7)}
    result = await cluster_pending(db, clock, POLICY)
    assert (result.items, result.opened, result.joined) == (5, 4, 1)
    found = await reasons(db)
    assert i[5] not in found
    assert found[i[2]][0] == found[i[1]][0] and found[i[2]][1]["rule"] == "similar"
    assert found[i[2]][1]["similarity"] >= 0.25
    assert len({found[i[n]][0] for n in (1, 3, 4, 6)}) == 4
    assert found[i[3]][1]["rule"] == "new"
    async with db.read() as conn:
        blast = await get_incident(conn, found[i[1]][0])
        kinds = [e.kind for e in await list_events(conn, blast.id)]
    assert blast.status == IncidentStatus.DETECTED and blast.detected_at == START
    assert (blast.item_count, blast.source_count) == (2, 2)
    assert blast.media_tiers == (MediaTier.PROVINCIAL, MediaTier.CITY)
    assert blast.first_published_at == START - timedelta(minutes=2)
    assert (blast.event_level, blast.owner_unit, blast.region) == (EventLevel.III, "emergency", "donggang")
    assert kinds == [EventKind.DETECTED, EventKind.ITEM_ATTACHED, EventKind.ITEM_ATTACHED]
    again = await cluster_pending(db, clock, POLICY)
    assert again.items == 0


async def test_reposts_join_the_originals_incident_and_widen_its_spread(db, clock):
    await setup_sources(db)
    ids = await store(db, [row(1, "东港化工园区发生爆炸 3人受伤", BLAST)])
    original = ids[f"{1:064d}"]
    await cluster_pending(db, clock, POLICY)
    more = await store(
        db,
        [
            row(
                2,
                "转载：某地化工厂出事了",
                "来源：明湖日报\n" + BLAST,
                source=2,
                tier="provincial",
                duplicate_of=original,
            ),
            # a repost the classifier did not mark relevant still counts toward spread
            row(3, "化工园区爆炸", BLAST, source=3, tier="central", relevant=False, duplicate_of=original),
        ],
    )
    await cluster_pending(db, clock, POLICY)
    found = await reasons(db)
    incident_id = found[original][0]
    assert found[more[f"{2:064d}"]] == (incident_id, {"rule": "repost", "original": original})
    async with db.read() as conn:
        incident = await get_incident(conn, incident_id)
    assert (incident.item_count, incident.source_count) == (2, 3)
    assert incident.media_tiers == (MediaTier.CENTRAL, MediaTier.PROVINCIAL, MediaTier.CITY)


def stored(n: int, **kw) -> Incident:
    base = Incident(title=f"事件{n}", detected_at=START, id=n, item_count=2, media_tiers=(MediaTier.CITY,))
    return dataclasses.replace(base, **kw)


def test_merge_plan_validates_and_suggests_regrade():
    source = stored(1, event_level=EventLevel.II, opinion_level=OpinionLevel.L2, media_tiers=(MediaTier.CENTRAL,))
    target = stored(2, event_level=EventLevel.III, opinion_level=OpinionLevel.L3)
    plan = plan_merge(source, target, START, "duty1", "同一起爆炸")
    assert plan.source.status == IncidentStatus.MERGED and plan.target.item_count == 4
    assert plan.target.media_tiers == (MediaTier.CENTRAL, MediaTier.CITY)
    assert plan.regrade == (EventLevel.II, OpinionLevel.L2)
    assert [e.kind for e in plan.events] == [EventKind.MERGED, EventKind.ITEM_ATTACHED]
    assert plan.events[0].payload["into"] == 2
    with pytest.raises(DomainError, match="into itself"):
        plan_merge(source, source, START, "duty1")
    with pytest.raises(DomainError, match="reopen it"):
        plan_merge(source, stored(3, status=IncidentStatus.CLOSED), START, "duty1")
    with pytest.raises(DomainError, match="cannot move from merged"):
        plan_merge(stored(4, status=IncidentStatus.MERGED), target, START, "duty1")


def test_split_plan_validates():
    parent = stored(1, event_level=EventLevel.III)
    plan = plan_split(parent, [11], [10, 11], " 北湖镇火灾 ", START, "duty1")
    assert plan.child.title == "北湖镇火灾" and plan.child.detected_at == parent.detected_at
    assert plan.child.event_level == EventLevel.III and plan.parent.item_count == 1
    assert plan.parent_event.kind == EventKind.SPLIT and plan.parent_event.payload["items"] == [11]
    for items, title, message in (
        ([], "x", "at least one item"),
        ([99], "x", "not in incident 1"),
        ([10, 11], "x", "cannot split every item"),
        ([11], " ", "needs a title"),
    ):
        with pytest.raises(DomainError, match=message):
            plan_split(parent, items, [10, 11], title, START, "duty1")


async def test_merge_and_split_persisted_the_way_the_engine_will(db, clock):
    """The recipe for engine.commands: plan (pure) -> move_items -> save -> events -> refresh, one transaction."""
    await setup_sources(db)
    ids = await store(
        db,
        [
            row(1, "东港化工园区发生爆炸 3人受伤", BLAST),
            row(
                2, "北湖镇老旧小区改造引发居民不满", "北湖镇居民反映改造拖延。", region="beihu", event_type="livelihood"
            ),
            row(
                3, "北湖镇小区改造工程停工", "北湖镇一小区改造停工。", source=2, region="beihu", event_type="livelihood"
            ),
        ],
    )
    await cluster_pending(db, clock, POLICY)
    found = await reasons(db)
    blast, reform = found[ids[f"{1:064d}"]][0], found[ids[f"{2:064d}"]][0]
    async with db.write() as conn:  # Merge(reform into blast)
        source, target = await get_incident(conn, reform), await get_incident(conn, blast)
        plan = plan_merge(source, target, clock.now(), "duty1", "误判为两起")
        await move_items(conn, reform, blast, None, {"rule": "merge", "from": reform, "by": "duty1"}, clock.now())
        await save_incident(conn, plan.source, clock.now())
        await save_incident(conn, plan.target, clock.now())
        await append_events(conn, plan.events, clock.now())
        await refresh_incident_stats(conn, [blast, reform], clock.now())
    async with db.write() as conn:  # Split(item 3 off blast)
        parent = await get_incident(conn, blast)
        split = plan_split(
            parent, [ids[f"{3:064d}"]], await incident_item_ids(conn, blast), "北湖镇改造停工", clock.now(), "duty1"
        )
        (child,) = await create_incidents(conn, [split.child], clock.now(), actor="duty1")
        await move_items(
            conn, blast, child, split.item_ids, {"rule": "split", "from": blast, "by": "duty1"}, clock.now()
        )
        await save_incident(conn, split.parent, clock.now())
        await append_events(conn, [split.parent_event], clock.now())
        await refresh_incident_stats(conn, [blast, child], clock.now())
    async with db.read() as conn:
        merged, kept, new = [await get_incident(conn, i) for i in (reform, blast, child)]
        assert sorted(await incident_item_ids(conn, blast)) == sorted([ids[f"{1:064d}"], ids[f"{2:064d}"]])
    assert merged.status == IncidentStatus.MERGED and merged.item_count == 0
    assert (kept.item_count, new.item_count, new.source_count) == (2, 1, 1)


WATER = "北湖镇多个小区自22日起停水，至今未恢复供水，居民反映生活受到严重影响。"


def water(n, title, published):
    return row(n, title, WATER, region="beihu", event_type="livelihood", level=None, published=published)


async def test_an_earlier_report_arriving_late_moves_a_running_deadline_at_once(db, clock):
    """The 48 h clock runs from the earliest publication: a late-fetched earlier post replans it now."""
    from monitor.domain import commands as c
    from monitor.engine.commands import execute
    from monitor.engine.runner import Engine
    from monitor.storage.repo.engine import list_obligations

    from .engine_support import Svc

    svc = Svc(db, clock)
    await setup_sources(db)
    ids = await store(db, [water(1, "北湖镇多个小区停水两天", START)])
    await cluster_pending(db, clock, POLICY)
    incident_id = (await reasons(db))[ids[f"{1:064d}"]][0]
    clock.advance(timedelta(minutes=10))
    await execute(svc, c.Confirm(incident_id=incident_id, actor="zhu_min", at=clock.now()))
    engine = Engine(svc)
    clock.advance(timedelta(hours=5))
    await engine.tick()  # the engine is running: nothing else is due for hours
    await store(db, [water(2, "北湖镇停水两天了 有人管吗", START - timedelta(hours=20))])
    await cluster_pending(db, clock, POLICY)
    await engine.tick()
    async with db.read() as conn:
        (respond,) = [o for o in await list_obligations(conn, [incident_id]) if o.rule_id == "GB61-RESPOND-48H"]
    assert respond.due_at == START - timedelta(hours=20) + timedelta(hours=48)


async def test_an_old_article_does_not_join_todays_incident(db, clock):
    """The window holds both ways: a report from a year ago is not about this week's event (and,
    old news, it opens no incident of its own either)."""
    await setup_sources(db)
    ids = await store(db, [water(1, "北湖镇多个小区停水两天", START)])
    await cluster_pending(db, clock, POLICY)
    old = await store(db, [water(2, "北湖镇小区停水 居民盼早日恢复供水", START - timedelta(days=365))])
    result = await cluster_pending(db, clock, POLICY)
    found = await reasons(db)
    assert old[f"{2:064d}"] not in found and (result.opened, result.joined, result.held) == (0, 0, 1)
    async with db.read() as conn:
        today = await get_incident(conn, found[ids[f"{1:064d}"]][0])
    assert today.first_published_at == START and today.item_count == 1


async def test_a_repost_of_a_dismissed_report_stays_with_it_instead_of_opening_a_new_incident(db, clock):
    """The duty officer dismissed the story: its reposts are spread, not a new event to triage again."""
    from monitor.domain import commands as c
    from monitor.engine.commands import execute

    from .engine_support import Svc

    await setup_sources(db)
    ids = await store(db, [water(1, "北湖镇广场舞噪音扰民 居民投诉无果", START)])
    original = ids[f"{1:064d}"]
    await cluster_pending(db, clock, POLICY)
    dismissed = (await reasons(db))[original][0]
    clock.advance(timedelta(minutes=20))
    await execute(
        Svc(db, clock), c.Dismiss(incident_id=dismissed, actor="zhu_min", at=clock.now(), reason="非政务舆情")
    )
    repost = row(2, "转载：北湖镇广场舞噪音扰民", WATER, source=2, region="beihu", event_type="livelihood",
                 level=None, duplicate_of=original)  # fmt: skip
    more = await store(db, [repost, water(3, "北湖镇多个小区停水两天 居民生活受影响", START + timedelta(hours=1))])
    result = await cluster_pending(db, clock, POLICY)
    found = await reasons(db)
    assert found[more[f"{2:064d}"]] == (dismissed, {"rule": "repost", "original": original})
    assert found[more[f"{3:064d}"]][0] != dismissed  # a new report is judged again, never hidden
    assert (result.opened, result.joined) == (1, 1)
    async with db.read() as conn:
        incident = await get_incident(conn, dismissed)
    assert incident.status == IncidentStatus.DISMISSED and (incident.item_count, incident.source_count) == (2, 2)


async def held(db, item_id):
    from monitor.storage.schema import items

    async with db.read() as conn:
        doc = (await conn.execute(select(items.c.classification).where(items.c.id == item_id))).scalar_one()
    return (doc or {}).get("held")


async def test_old_news_joins_an_incident_about_its_time_but_opens_none(db, clock):
    """A newly added source still carries last month's articles: one about an event still open
    joins it; the others open no incident already past its 48 h deadline, are not considered
    again, and say why (旧闻，未立案)."""
    await setup_sources(db)
    clock.set(START - timedelta(days=9))
    ids = await store(db, [{**water(1, "北湖镇多个小区停水两天", clock.now()), "fetched_at": clock.now()}])
    await cluster_pending(db, clock, POLICY)
    clock.set(START)
    old = await store(
        db,
        [
            water(2, "北湖镇停水 多个小区居民生活受影响", START - timedelta(days=8)),  # joins the open incident
            row(3, "东港化工园区发生爆炸 3人受伤", BLAST, published=START - timedelta(days=30)),
            row(4, "东港化工园区爆炸事故致3人受伤", BLAST, published=START - timedelta(days=30, hours=-2)),
            row(
                5,
                "西陵镇一养殖场发生火灾",
                "西陵镇一养殖场起火。",
                region="xiling",
                event_type="fire",
                published=START - timedelta(days=6),
            ),  # 6 days: not old news yet
        ],
    )
    result = await cluster_pending(db, clock, POLICY)
    assert (result.items, result.joined, result.opened, result.held) == (4, 1, 1, 2)
    found = await reasons(db)
    assert found[old[f"{2:064d}"]][0] == found[ids[f"{1:064d}"]][0]
    assert old[f"{3:064d}"] not in found and old[f"{4:064d}"] not in found
    reason = await held(db, old[f"{3:064d}"])
    assert reason["rule"] == "stale" and reason["age_h"] == 720.0 and reason["stale_after_h"] == 168.0
    assert held_note(reason).startswith("旧闻，未立案：发布于采集前 30 天")
    assert await held(db, old[f"{5:064d}"]) is None
    assert (await cluster_pending(db, clock, POLICY)).items == 0  # held items are not reconsidered
    off = dataclasses.replace(POLICY, stale_after=timedelta(0))  # cluster_stale_after_h = 0: off
    more = await store(
        db,
        [
            row(
                6,
                "南山镇一小学食堂多名学生腹痛",
                "南山镇一小学多名学生午餐后腹痛送医。",
                region="nanshan",
                event_type="food_poisoning",
                published=START - timedelta(days=30),
            )
        ],
    )
    assert (await cluster_pending(db, clock, off)).opened == 1 and more[f"{6:064d}"] in await reasons(db)


FOLLOWED = [
    (0, "东港化工园区一企业发生爆炸 3人受伤", BLAST),
    (0.2, "东港化工园区爆炸事故致3人受伤 应急管理局救援", "记者从市应急管理局获悉，东港化工园区爆炸已致3人受伤。"),
    (1, "东港化工园区爆炸：伤者病情稳定", "东港化工园区爆炸事故的3名伤者目前病情稳定，园区周边空气监测未见异常。"),
]


async def test_a_follow_up_days_later_joins_the_open_incident(db, clock):
    """An explosion reported over a week: the investigation result 4 days after the last report
    joins the incident still being handled, recorded as a follow-up; 40 days on, a report opens
    a new incident."""
    await setup_sources(db)
    ids = {}
    for n, (day, title, text) in enumerate(FOLLOWED, 1):
        clock.set(START + timedelta(days=day))
        ids.update(await store(db, [row(n, title, text, published=clock.now(), fetched=clock.now())]))
        await cluster_pending(db, clock, POLICY)
    blast = (await reasons(db))[ids[f"{1:064d}"]][0]
    clock.set(START + timedelta(days=5))
    text = "明湖市东港化工园区爆炸事故调查组公布调查结果，事故系企业违规动火作业引发，相关责任人已被控制。"
    later = await store(
        db, [row(4, "东港化工园区爆炸事故调查结果公布", text, published=clock.now(), fetched=clock.now())]
    )
    result = await cluster_pending(db, clock, POLICY)
    incident, reason = (await reasons(db))[later[f"{4:064d}"]]
    assert incident == blast and reason["rule"] == "follow_up" and reason["after_last_h"] == 96.0
    assert reason["similarity"] >= reason["threshold"] == 0.5 and reason["follow_up_h"] == 720.0
    assert (result.joined, result.opened) == (1, 0)
    async with db.read() as conn:
        events = await list_events(conn, blast)
        assert (await get_incident(conn, blast)).item_count == 4
    assert events[-1].kind == EventKind.ITEM_ATTACHED and events[-1].payload["reason"]["rule"] == "follow_up"
    clock.set(START + timedelta(days=40))  # beyond the follow-up horizon
    text = "东港化工园区爆炸事故3名伤者已与企业达成赔偿协议。"
    beyond = await store(db, [row(5, "东港化工园区爆炸伤者获赔", text, published=clock.now(), fetched=clock.now())])
    await cluster_pending(db, clock, POLICY)
    assert (await reasons(db))[beyond[f"{5:064d}"]][0] != blast


def test_only_a_clearly_similar_report_on_an_open_incident_follows_up():
    """Beyond the window the bar is stricter; a report that the event happened again, a closed
    incident and one idle beyond the horizon take no follow-up."""
    blast = Candidate(1, "donggang", "work_safety", START)
    for n, (day, title, text) in enumerate(FOLLOWED, 1):
        join(blast, ItemFacts(n, title, text, START + timedelta(days=day)))
    at = START + timedelta(days=5)

    def where(title: str, text: str, candidate: Candidate = blast, policy: ClusterPolicy = POLICY) -> str:
        return assign(ItemFacts(9, title, text, at, "donggang", "work_safety"), [candidate], policy).reason["rule"]

    result = ("东港化工园区爆炸伤者获赔", "东港化工园区爆炸事故3名伤者已与企业达成赔偿协议。")
    assert where(*result) == "follow_up"
    assert where("东港化工园区举行消防演练", "东港化工园区今日举行消防应急演练，多家企业参加。") == "new"
    assert where("东港化工园区再次发生爆炸", BLAST) == "new"
    assert where(*result, candidate=dataclasses.replace(blast, open=False)) == "new"
    assert where(*result, policy=dataclasses.replace(POLICY, follow_up=timedelta(hours=72))) == "new"  # off
    assert where(*result, policy=dataclasses.replace(POLICY, follow_up=timedelta(days=3.5))) == "new"


async def test_a_follow_up_does_not_join_a_closed_incident(db, clock):
    from monitor.domain import commands as c
    from monitor.engine.commands import execute

    from .engine_support import Svc

    await setup_sources(db)
    ids = await store(db, [row(1, FOLLOWED[0][1], FOLLOWED[0][2], published=START)])
    await cluster_pending(db, clock, POLICY)
    blast = (await reasons(db))[ids[f"{1:064d}"]][0]
    await execute(Svc(db, clock), c.Dismiss(incident_id=blast, actor="zhu_min", at=clock.now(), reason="非政务舆情"))
    clock.set(START + timedelta(days=4))
    later = await store(
        db,
        [
            row(
                2,
                "东港化工园区爆炸伤者获赔",
                "东港化工园区爆炸事故3名伤者已与企业达成赔偿协议。",
                published=clock.now(),
            )
        ],
    )
    await cluster_pending(db, clock, POLICY)
    assert (await reasons(db))[later[f"{2:064d}"]][0] != blast


def test_a_split_off_incident_is_about_the_moved_items_event():
    """Its type and place are those most moved items state (the parent's where they state none),
    so later reports of it do not contradict it."""
    parent = stored(1, event_type=EventType.WORK_SAFETY, region="donggang")
    moved = [
        SimpleNamespace(id=11, event_type="livelihood", region="beihu"),
        SimpleNamespace(id=12, event_type="livelihood", region=None),
        SimpleNamespace(id=13, event_type="work_safety", region="beihu"),
    ]
    child = plan_split(parent, [11, 12, 13], [10, 11, 12, 13], "北湖镇改造停工", START, "duty1", moved).child
    assert (child.event_type, child.region) == (EventType.LIVELIHOOD, "beihu")
    unknown = [SimpleNamespace(id=11, event_type=None, region=None)]
    child = plan_split(parent, [11], [10, 11], "拆分", START, "duty1", unknown).child
    assert (child.event_type, child.region) == (EventType.WORK_SAFETY, "donggang")


def test_a_split_off_incident_takes_the_gravest_levels_and_the_prevailing_unit_of_its_classified_items():
    parent = dataclasses.replace(
        stored(1, event_type=EventType.WORK_SAFETY, region="donggang"),
        event_level=EventLevel.I, opinion_level=OpinionLevel.L1, owner_unit="emergency", lead_unit="emergency",
    )  # fmt: skip
    moved = [
        SimpleNamespace(id=11, event_type="livelihood", region="beihu", department="housing", classified_at=START,
                        event_level="III", opinion_level="L2", classification=None),
        SimpleNamespace(id=12, event_type="livelihood", region="beihu", department="housing", classified_at=START,
                        event_level="II", opinion_level="L3", classification=None),
        SimpleNamespace(id=13, event_type="livelihood", region="beihu", department="water", classified_at=START,
                        event_level=None, opinion_level="L4", classification=None),
    ]  # fmt: skip
    plan = plan_split(parent, [11, 12, 13], [10, 11, 12, 13], "北湖镇改造停工", START, "duty1", moved)
    child = plan.child
    assert (child.event_level, child.opinion_level) == (EventLevel.II, OpinionLevel.L2)
    assert (child.owner_unit, child.lead_unit, child.co_units) == ("housing", "housing", ("water",))
    assert "责任单位、类别、属地、级别按拆出稿件的研判结果确定" in plan.child_basis["reason"]
    unclassified = [SimpleNamespace(id=11, event_type=None, region=None, department=None)]
    plan = plan_split(parent, [11], [10, 11], "拆分", START, "duty1", unclassified)
    assert (plan.child.owner_unit, plan.child.event_level) == ("emergency", EventLevel.I)
    assert plan.child_basis["reason"].endswith("责任单位、类别、属地、级别拆出稿件未载明，沿用原事件")


async def test_a_later_report_of_a_split_off_event_joins_it(db, clock):
    """Split through the engine: the new incident takes the moved item's type and place, and the
    next report of that event joins it instead of opening a third incident."""
    from monitor.domain import commands as c
    from monitor.engine.commands import execute

    from .engine_support import Svc

    svc = Svc(db, clock)
    await setup_sources(db)
    first = await store(db, [row(1, FOLLOWED[0][1], FOLLOWED[0][2])])
    await cluster_pending(db, clock, POLICY)
    blast = (await reasons(db))[first[f"{1:064d}"]][0]
    stray = await store(
        db,
        [
            row(
                2,
                "北湖镇老旧小区改造工程停工 居民不满",
                "北湖镇一小区改造工程停工一个月。",
                region="beihu",
                event_type="livelihood",
            )
        ],
    )
    async with db.write() as conn:  # clustered into the blast by mistake (as a person's merge would)
        await conn.execute(
            incident_items.insert().values(incident_id=blast, item_id=stray[f"{2:064d}"], attached_at=START, reason={})
        )
    split = c.Split(
        incident_id=blast, actor="zhu_min", at=clock.now(), item_ids=(stray[f"{2:064d}"],), title="北湖镇改造停工"
    )
    await execute(svc, split)
    child = (await reasons(db))[stray[f"{2:064d}"]][0]
    async with db.read() as conn:
        made = await get_incident(conn, child)
    assert (made.event_type, made.region) == (EventType.LIVELIHOOD, "beihu")
    clock.advance(timedelta(hours=3))
    later = await store(
        db,
        [
            row(
                3,
                "北湖镇小区改造停工 居民盼尽快复工",
                "北湖镇老旧小区改造工程停工后，居民盼尽快复工。",
                region="beihu",
                event_type="livelihood",
                published=clock.now(),
            )
        ],
    )
    result = await cluster_pending(db, clock, POLICY)
    assert (await reasons(db))[later[f"{3:064d}"]][0] == child and result.opened == 0
