"""Merge and Split move items between incidents inside the command's transaction."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from monitor.domain import EventKind, EventLevel, Incident, IncidentStatus, OpinionLevel
from monitor.domain import commands as c
from monitor.domain.clustering import plan_merge
from monitor.engine.commands import CommandRejected, execute
from monitor.storage.repo.clusters import incident_item_ids
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import attach_items, get_incident, list_events
from monitor.storage.repo.items import insert_items
from monitor.storage.schema import items
from monitor.web.timeline import event_summary

from .engine_support import Svc, new_incident

H = timedelta(hours=1)


async def with_items(svc: Svc, iid: int, *numbers: int) -> list[int]:
    now = svc.clock.now()
    rows = [
        {
            "dedup_key": f"{n:064d}",
            "url": f"https://news.example/{n}",
            "title": f"稿件{n}",
            "text": "正文",
            "fetched_at": now,
            "created_at": now,
        }
        for n in numbers
    ]
    async with svc.db.write() as conn:
        stored = await insert_items(conn, rows)
        ids = [stored[r["dedup_key"]][0] for r in rows]
        await attach_items(conn, iid, ids, now, {"rule": "test"})
    return ids


async def confirm(svc: Svc, iid: int) -> None:
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))


async def test_merge_moves_items_and_raises_the_target_to_the_graver_level(db, clock):
    svc = Svc(db, clock)
    target = await new_incident(svc, "III", "L2", title="东港化工园区爆炸（首报）")
    await with_items(svc, target, 1)
    await confirm(svc, target)
    t0 = clock.now()
    clock.advance(2 * H)
    source = await new_incident(svc, "II", "L1", title="东港化工园区爆炸 死亡人数上升")
    source_items = await with_items(svc, source, 2, 3)
    await confirm(svc, source)
    result = await execute(svc, c.Merge(incident_id=source, actor="zhu_min", at=clock.now(), into_id=target))
    assert "已并入事件" in result.message
    assert {o.status.value for o in result.obligations} == {"cancelled"}
    async with db.read() as conn:
        merged, grown = await get_incident(conn, source), await get_incident(conn, target)
        moved = await incident_item_ids(conn, target)
        target_events = await list_events(conn, target)
    assert merged.status == IncidentStatus.MERGED and merged.item_count == 0
    assert sorted(moved) == sorted([*source_items, moved[0]]) and grown.item_count == 3
    assert grown.event_level == EventLevel.II
    regrades = [e for e in target_events if e.kind == EventKind.REGRADED]
    assert regrades and "较高的级别" in regrades[-1].payload["reason"]
    async with db.read() as conn:
        obligations = await list_obligations(conn, [target])
    release = [o for o in obligations if o.rule_id == "GB80-AUTH-RELEASE-5H"]
    assert release and release[0].t0 == t0  # the stricter rule counts from the target's original t0


async def test_merge_refuses_closed_targets(db, clock):
    svc = Svc(db, clock)
    a = await new_incident(svc, "III", "L2", title="甲")
    b = await new_incident(svc, None, "L3", title="乙")
    await execute(svc, c.Dismiss(incident_id=b, actor="zhu_min", at=clock.now(), reason="非政务舆情"))
    with pytest.raises(CommandRejected, match="不能并入"):
        await execute(svc, c.Merge(incident_id=a, actor="zhu_min", at=clock.now(), into_id=b))


async def test_split_keeps_the_original_detection_time_and_confirmation(db, clock):
    svc = Svc(db, clock)
    parent = await new_incident(svc, "III", "L2", title="东港镇两起事故")
    first, second, third = await with_items(svc, parent, 11, 12, 13)
    await confirm(svc, parent)
    detected = clock.now()
    clock.advance(3 * H)
    result = await execute(
        svc, c.Split(incident_id=parent, actor="zhu_min", at=clock.now(), item_ids=(third,), title="东港渔港火灾")
    )
    child_id = int(result.message.split("#")[1].split("（")[0])
    async with db.read() as conn:
        child, kept = await get_incident(conn, child_id), await get_incident(conn, parent)
        assert await incident_item_ids(conn, child_id) == [third]
        assert sorted(await incident_item_ids(conn, parent)) == sorted([first, second])
        parent_events = await list_events(conn, parent)
    assert child.detected_at == detected and child.title == "东港渔港火灾"
    assert child.status != IncidentStatus.DETECTED  # the parent was assessed, so the split-off event is too
    assert (kept.item_count, child.item_count) == (2, 1)
    assert any(e.kind == EventKind.SPLIT and e.payload["items"] == [third] for e in parent_events)


@pytest.mark.parametrize(
    ("pick", "title", "message"),
    [
        ("all", "新事件", "不能把全部稿件都拆分出去"),
        ("stray", "新事件", "不属于事件"),
        ("none", "新事件", "至少选择一篇"),
        ("one", "  ", "请填写新事件的标题"),
    ],
)
async def test_split_refusals_say_what_to_do(db, clock, pick, title, message):
    svc = Svc(db, clock)
    parent = await new_incident(svc, "III", "L2", title="待拆分")
    ids = await with_items(svc, parent, 21, 22)
    other = await new_incident(svc, "III", "L2", title="别的事件")
    (foreign,) = await with_items(svc, other, 23)
    chosen = {"all": tuple(ids), "stray": (ids[0], foreign), "none": (), "one": (ids[0],)}[pick]
    with pytest.raises(CommandRejected, match=message):
        await execute(svc, c.Split(incident_id=parent, actor="zhu_min", at=clock.now(), item_ids=chosen, title=title))


async def test_split_of_an_unconfirmed_incident_waits_for_triage(db, clock):
    svc = Svc(db, clock)
    parent = await new_incident(svc, None, "L3", title="未研判事件")
    _, moving = await with_items(svc, parent, 31, 32)
    result = await execute(
        svc, c.Split(incident_id=parent, actor="zhu_min", at=clock.now(), item_ids=(moving,), title="另一件事")
    )
    child_id = int(result.message.split("#")[1].split("（")[0])
    async with db.read() as conn:
        child = await get_incident(conn, child_id)
    assert child.status == IncidentStatus.DETECTED


async def test_merging_an_earlier_incident_keeps_its_clock_and_its_response(db, clock):
    """The 48 h clock of the merged opinion started at its own (earlier) detection, and the
    response already published for it counts on the incident it joins: merging must neither
    buy a day nor make the unit answer again for what it has already answered."""
    svc = Svc(db, clock)
    early = await new_incident(svc, None, "L2", title="城北停水（首次发现）")
    await with_items(svc, early, 1)
    await confirm(svc, early)
    first_seen = clock.now()
    clock.advance(20 * H)
    response = c.RecordResponse(
        incident_id=early,
        actor="zhu_min",
        at=clock.now(),
        kind="authoritative_release",
        url="https://water.gov.example/notice/1",
        approved_by="刘芳",
    )
    await execute(svc, response)
    clock.advance(4 * H)
    later = await new_incident(svc, None, "L2", title="城北停水三十多个小时无人通知")
    await with_items(svc, later, 2)
    await confirm(svc, later)
    await execute(svc, c.Merge(incident_id=early, actor="zhu_min", at=clock.now(), into_id=later))
    async with db.read() as conn:
        obligations = await list_obligations(conn, [later])
    (respond,) = [o for o in obligations if o.rule_id == "GB61-RESPOND-48H"]
    assert respond.t0 == first_seen and respond.due_at == first_seen + 48 * H
    assert respond.status.value == "met" and respond.met_at == first_seen + 20 * H


def test_plan_merge_keeps_the_earlier_detection_time():
    early, late = datetime(2026, 9, 24, 1, tzinfo=UTC), datetime(2026, 9, 24, 5, tzinfo=UTC)
    source = Incident(title="先发现的报道", detected_at=early, id=1)
    target = Incident(title="后发现的事件", detected_at=late, id=2)
    # the opinion was first seen when the earlier of the two was: the merged incident's clocks keep that start
    assert plan_merge(source, target, late, "zhu_min").target.detected_at == early
    assert plan_merge(target, source, late, "zhu_min").target.detected_at == early


async def test_a_split_off_incident_takes_its_own_items_units_and_levels(db, clock):
    """A 停水 report wrongly clustered into a 较大 explosion: split off, it is the 水务局's L3 opinion
    (not the 应急管理局's 较大 event), the timeline says where that came from, the 水务局 is 交办'd,
    and its clocks are those of an L3 opinion (48 h), not the explosion's 5 h / 24 h."""
    svc = Svc(db, clock)
    parent = await new_incident(svc, "II", "L1", title="东港化工园区爆炸")
    _, second = await with_items(svc, parent, 41, 42)
    water = {"event_type": "livelihood", "event_level": None, "opinion_level": "L3", "department": "water",
             "region": "donggang", "classified_at": clock.now(),
             "classification": {"co_unit_ids": [{"department": "housing", "region": None}]}}  # fmt: skip
    async with db.write() as conn:
        await conn.execute(update(items).where(items.c.id == second).values(**water))
    await confirm(svc, parent)
    clock.advance(H)
    result = await execute(
        svc, c.Split(incident_id=parent, actor="zhu_min", at=clock.now(), item_ids=(second,), title="东港镇停水")
    )
    child_id = int(result.message.split("#")[1].split("（")[0])
    async with db.read() as conn:
        child, kept = await get_incident(conn, child_id), await get_incident(conn, parent)
        timeline = await list_events(conn, child_id)
        obligations = await list_obligations(conn, [child_id])
    assert (child.owner_unit, child.lead_unit, child.co_units) == ("water", "water", ("housing",))
    assert (child.event_level, child.opinion_level) == (None, OpinionLevel.L3)
    assert (kept.owner_unit, kept.event_level, kept.opinion_level) == ("emergency", EventLevel.II, OpinionLevel.L1)
    classified = [e for e in timeline if e.kind == EventKind.CLASSIFIED]
    assert len(classified) == 1, timeline
    basis = classified[0].payload
    assert (basis["owner_unit"], basis["event_level"], basis["opinion_level"]) == ("water", None, "L3")
    assert f"拆分自事件 #{parent}" in basis["reason"] and "拆出稿件" in basis["reason"]
    shown = event_summary(classified[0], svc.org)
    assert "责任单位：明湖市水务局" in shown and "舆情级别：一般" in shown and "属地：明湖市东港镇人民政府" in shown
    assert [e.payload["unit"] for e in timeline if e.kind == EventKind.ASSIGNED] == ["water"]
    rules = {o.rule_id for o in obligations}
    assert "GB61-RESPOND-48H" in rules and not rules & {"GB80-AUTH-RELEASE-5H", "GB61-PRESSCONF-24H"}, rules


async def test_a_split_of_unclassified_items_keeps_the_parents_units_and_levels_and_says_so(db, clock):
    svc = Svc(db, clock)
    parent = await new_incident(svc, "III", "L2", title="东港镇两起事故", owner_unit="emergency")
    _, moving = await with_items(svc, parent, 51, 52)
    await confirm(svc, parent)
    result = await execute(
        svc, c.Split(incident_id=parent, actor="zhu_min", at=clock.now(), item_ids=(moving,), title="另一起事故")
    )
    child_id = int(result.message.split("#")[1].split("（")[0])
    async with db.read() as conn:
        child = await get_incident(conn, child_id)
        timeline = await list_events(conn, child_id)
    assert (child.owner_unit, child.event_level, child.opinion_level) == ("emergency", EventLevel.III, OpinionLevel.L2)
    (basis,) = [e.payload for e in timeline if e.kind == EventKind.CLASSIFIED]
    assert "沿用原事件" in basis["reason"]
