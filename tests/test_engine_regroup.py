"""Merge and Split move items between incidents inside the command's transaction."""

from datetime import UTC, datetime, timedelta

import pytest

from monitor.domain import EventKind, EventLevel, Incident, IncidentStatus
from monitor.domain import commands as c
from monitor.domain.clustering import plan_merge
from monitor.engine.commands import CommandRejected, execute
from monitor.storage.repo.clusters import incident_item_ids
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import attach_items, get_incident, list_events
from monitor.storage.repo.items import insert_items

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
