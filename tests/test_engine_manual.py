"""从稿件手动立案, 并入已有事件 and 更正属地: a person's corrections of the classifier's incident
decision, on SQLite and PostgreSQL — what they record, plan and alert, and what they refuse."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, EventLevel, EventType, IncidentStatus, OpinionLevel
from monitor.domain import commands as c
from monitor.engine.commands import CommandRejected, execute
from monitor.engine.open_item import open_from_item
from monitor.storage.repo.classify import correction_rows
from monitor.storage.repo.clusters import incident_item_ids
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import attach_items, get_incident, list_events
from monitor.storage.repo.items import insert_items
from monitor.storage.schema import corrections, incidents, outbox

from .engine_support import Svc, new_incident

H, MIN = timedelta(hours=1), timedelta(minutes=1)
REASON = "群众集中反映，涉及公众切身利益"


async def add_item(svc: Svc, n: int = 1, *, fetched_ago=H, published_ago=2 * H, **columns) -> int:
    """A collected item the classifier judged not a 政务舆情 (unless `columns` say otherwise)."""
    now = svc.clock.now()
    row = {
        "dedup_key": f"{n:064d}",
        "url": f"https://news.example/{n}",
        "title": columns.pop("title", f"城南小区连续三天停水{n}"),
        "text": "城南滨河花园小区连续三天停水，居民生活受影响。",
        "fetched_at": now - fetched_ago,
        "published_at": now - published_ago,
        "created_at": now,
        "media_tier": "city",
        "relevant": False,
        "relevance_score": 0.31,
        "event_type": "not_gov",
        "opinion_level": "L3",
        "department": "water",
        "region": "chengnan",
        "classified_at": now - fetched_ago,
        **columns,
    }
    async with svc.db.write() as conn:
        stored = await insert_items(conn, [row])
    return stored[row["dedup_key"]][0]


def _open(svc: Svc, item_id: int, **kw) -> c.OpenFromItem:
    return c.OpenFromItem(
        item_id=item_id, actor=kw.pop("actor", "zhu_min"), at=svc.clock.now(), **{"reason": REASON, **kw}
    )


async def _state(db, iid):
    async with db.read() as conn:
        return await get_incident(conn, iid), await list_events(conn, iid), await list_obligations(conn, [iid])


async def _corrections(db):
    async with db.read() as conn:
        return [
            (r.item_id, r.incident_id, r.field, r.old_value, r.new_value, r.actor)
            for r in await conn.execute(select(corrections).order_by(corrections.c.id))
        ]


async def _outbox(db):
    async with db.read() as conn:
        return list(await conn.execute(select(outbox).order_by(outbox.c.id)))


async def test_opening_from_a_not_relevant_item_plans_it_like_a_pipeline_incident(db, clock):
    svc = Svc(db, clock)
    item = await add_item(svc)
    result = await open_from_item(svc, _open(svc, item))
    assert (
        result.message
        == f"已从稿件立案为事件 #{result.incident_id} 并确认，已交办给「明湖市水务局」；时限从稿件发现时间起算"
    )
    inc, events, obligations = await _state(db, result.incident_id)
    assert (inc.status, inc.owner_unit, inc.region, inc.title) == (
        IncidentStatus.ASSIGNED,
        "water",
        "chengnan",
        "城南小区连续三天停水1",
    )
    assert inc.detected_at == clock.now() - H  # t0: the item's detection, as for a pipeline-opened one
    assert inc.item_count == 1 and inc.first_published_at == clock.now() - 2 * H
    kinds = [e.kind for e in events]
    assert kinds[:5] == [
        EventKind.DETECTED,
        EventKind.OPENED_BY_HAND,
        EventKind.ITEM_ATTACHED,
        EventKind.CONFIRMED,
        EventKind.PLAYBOOK_SNAPSHOT,
    ]
    opened = events[1]
    assert opened.actor == "zhu_min" and events[0].actor == "zhu_min"
    corrected = {"relevant": [False, True], "event_type": ["not_gov", "other_gov"]}
    assert opened.payload == {
        "item_id": item,
        "title": "城南小区连续三天停水1",
        "reason": REASON,
        "corrected": corrected,
    }
    assert events[2].payload["reason"] == {"rule": "manual", "by": "zhu_min", "reason": REASON}
    respond = next(o for o in obligations if o.rule_id == "GB61-RESPOND-48H")
    assert respond.t0 == clock.now() - 2 * H and respond.due_at == clock.now() + 46 * H  # earliest publication
    assert "xia_tianyu" in {r.recipient for r in await _outbox(db)}  # the water bureau's liaison: 交办
    assert await _corrections(db) == [
        (item, result.incident_id, "relevant", "False", "True", "zhu_min"),
        (item, result.incident_id, "event_type", "not_gov", "other_gov", "zhu_min"),
    ]
    async with db.read() as conn:
        learned = [r for r in await correction_rows(conn) if r.field == "relevant"]
    assert [(r.item_id, r.new_value) for r in learned] == [(item, "True")]  # what `monitor retrain` reads


async def test_the_persons_choices_override_the_classifier_and_are_corrections(db, clock):
    svc = Svc(db, clock)
    item = await add_item(svc, title="东港镇渔港码头仓库起火")
    occurred = clock.now() - 3 * H
    cmd = _open(
        svc,
        item,
        title="东港渔港码头仓库火灾",
        event_type=EventType.FIRE,
        event_level=EventLevel.II,
        opinion_level=OpinionLevel.L1,
        region="donggang",
        owner_unit="emergency",
        occurred_at=occurred,
    )
    result = await open_from_item(svc, cmd)
    inc, events, obligations = await _state(db, result.incident_id)
    assert (inc.title, inc.event_type, inc.event_level, inc.opinion_level) == (
        "东港渔港码头仓库火灾",
        EventType.FIRE,
        EventLevel.II,
        OpinionLevel.L1,
    )
    assert (inc.owner_unit, inc.lead_unit, inc.region, inc.occurred_at) == (
        "emergency",
        "emergency",
        "donggang",
        occurred,
    )
    release = next(o for o in obligations if o.rule_id == "GB80-AUTH-RELEASE-5H")
    assert release.t0 == occurred and release.due_at == occurred + 5 * H  # 事发时间 is the t0 of the 5 h rule
    fixes = {f: (old, new) for _, _, f, old, new, _ in await _corrections(db)}
    assert fixes == {
        "relevant": ("False", "True"),
        "event_type": ("not_gov", "fire"),
        "event_level": (None, "II"),
        "opinion_level": ("L3", "L1"),
        "department": ("water", "emergency"),
        "region": ("chengnan", "donggang"),
    }
    opened = next(e for e in events if e.kind == EventKind.OPENED_BY_HAND)
    assert opened.payload["occurred_at"] == occurred.isoformat()
    assert opened.payload["corrected"]["department"] == ["water", "emergency"]


async def test_a_relevant_item_held_as_old_news_opens_without_a_relevance_correction(db, clock):
    svc = Svc(db, clock)
    held = {"held": {"rule": "stale"}}
    item = await add_item(svc, relevant=True, event_type="livelihood", classification=held, published_ago=10 * 24 * H)
    result = await open_from_item(svc, _open(svc, item))
    assert await _corrections(db) == []
    _, _, obligations = await _state(db, result.incident_id)
    respond = next(o for o in obligations if o.rule_id == "GB61-RESPOND-48H")
    assert respond.status.value == "breached"  # published ten days ago: the 48 h ran from then


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"reason": "  "}, "请填写立案理由"),
        ({"region": "housing"}, "「housing」不是通讯录中的镇（街道）"),
        ({"owner_unit": "nowhere"}, "通讯录中没有单位「nowhere」"),
        ({"occurred_at_in": 30 * MIN}, "晚于稿件的发现时间"),
        ({"item_id": 999}, "稿件 #999 不存在"),
    ],
)
async def test_bad_input_is_refused_in_chinese_and_opens_nothing(db, clock, change, refusal):
    svc = Svc(db, clock)
    item, change = await add_item(svc), dict(change)
    if "occurred_at_in" in change:  # after the item's detection (an hour ago), before now
        change = {"occurred_at": clock.now() - H + change.pop("occurred_at_in")}
    cmd = _open(svc, change.pop("item_id", item), **change)
    with pytest.raises(CommandRejected, match=refusal):
        await open_from_item(svc, cmd)
    async with db.read() as conn:
        assert list(await conn.execute(select(incidents.c.id))) == []
    assert await _corrections(db) == []


async def test_an_item_in_an_incident_is_refused_naming_it(db, clock):
    svc = Svc(db, clock)
    item = await add_item(svc)
    iid = await new_incident(svc, None, "L3", owner_unit="water")
    async with db.write() as conn:
        await attach_items(conn, iid, [item], clock.now(), {"rule": "new"})
    with pytest.raises(CommandRejected, match=f"稿件 #{item} 已在事件 #{iid}（监测发现）中，不能再立案"):
        await open_from_item(svc, _open(svc, item))
    await execute(svc, c.Dismiss(incident_id=iid, actor="zhu_min", at=clock.now(), reason="非政务"))
    with pytest.raises(CommandRejected, match="请在该事件页「重新打开」"):
        await open_from_item(svc, _open(svc, item))


async def test_a_double_submit_opens_one_incident(db, clock):
    svc = Svc(db, clock)
    item = await add_item(svc)
    outcomes = await asyncio.gather(
        open_from_item(svc, _open(svc, item)), open_from_item(svc, _open(svc, item)), return_exceptions=True
    )
    opened = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(opened) == 1 and len(refused) == 1
    assert isinstance(refused[0], CommandRejected) and f"已在事件 #{opened[0].incident_id}" in str(refused[0])
    async with db.read() as conn:
        assert len(list(await conn.execute(select(incidents.c.id)))) == 1
    assert [f for _, _, f, *_ in await _corrections(db)] == ["relevant", "event_type"]  # recorded once


# --- 并入已有事件 ------------------------------------------------------------------------


async def test_attaching_an_item_to_an_open_incident_records_who_and_why_and_replans(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L3", owner_unit="water", region="chengnan", title="城南停水")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    item = await add_item(svc, published_ago=30 * H)
    clock.advance(10 * MIN)
    cmd = c.AttachItem(incident_id=iid, actor="qin_hao", at=clock.now(), item_id=item, reason="同一小区停水的早期报道")
    result = await execute(svc, cmd)
    assert result.message == f"已将稿件 #{item} 并入事件 #{iid}；时限已按该事件重新核算"
    inc, events, obligations = await _state(db, iid)
    assert inc.item_count == 1 and inc.first_published_at == clock.now() - 10 * MIN - 30 * H
    attached = [e for e in events if e.kind == EventKind.ITEM_ATTACHED]
    assert attached[-1].actor == "qin_hao"
    assert attached[-1].payload["reason"] == {"rule": "manual", "by": "qin_hao", "reason": "同一小区停水的早期报道"}
    respond = next(o for o in obligations if o.rule_id == "GB61-RESPOND-48H")
    assert respond.t0 == inc.first_published_at  # the earlier publication is the 48 h rule's t0 now
    assert await _corrections(db) == [(item, iid, "relevant", "False", "True", "qin_hao")]
    async with db.read() as conn:
        assert await incident_item_ids(conn, iid) == [item]


async def test_attaching_refuses_ended_incidents_taken_items_and_a_missing_reason(db, clock):
    svc = Svc(db, clock)
    a = await new_incident(svc, None, "L3", owner_unit="water")
    b = await new_incident(svc, None, "L3", owner_unit="water")
    item = await add_item(svc)

    def attach(iid, reason="同一事件"):
        return execute(svc, c.AttachItem(incident_id=iid, actor="zhu_min", at=clock.now(), item_id=item, reason=reason))

    with pytest.raises(CommandRejected, match="请填写并入理由"):
        await attach(a, " ")
    await attach(a)
    with pytest.raises(CommandRejected, match=f"已在事件 #{a}"):
        await attach(b)
    await execute(svc, c.Close(incident_id=b, actor="zhu_min", at=clock.now(), reason="已办结"))
    with pytest.raises(CommandRejected, match="不能并入稿件"):
        await attach(b)
    assert len(await _corrections(db)) == 1


# --- 更正属地 ----------------------------------------------------------------------------


async def _region_incident(svc: Svc, owner: str, region: str = "donggang") -> int:
    iid = await new_incident(svc, None, "L2", owner_unit=owner, region=region, title="海塘垃圾中转站臭气扰民")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))
    return iid


def _set_region(svc: Svc, iid: int, region: str, reason: str = "经核实，中转站位于南山镇") -> c.SetRegion:
    return c.SetRegion(incident_id=iid, actor="zhu_min", at=svc.clock.now(), region=region, reason=reason)


async def test_a_department_owner_stays_when_the_region_is_corrected(db, clock):
    svc = Svc(db, clock)
    iid = await _region_incident(svc, "ecology")
    before = await _outbox(db)
    clock.advance(5 * MIN)
    result = await execute(svc, _set_region(svc, iid, "nanshan"))
    assert result.message == "已更正属地为「明湖市南山镇人民政府」"
    inc, events, _ = await _state(db, iid)
    assert (inc.region, inc.owner_unit, inc.status) == ("nanshan", "ecology", IncidentStatus.ASSIGNED)
    [region_set] = [e for e in events if e.kind == EventKind.REGION_SET]
    assert region_set.actor == "zhu_min"
    assert region_set.payload == {"from": "donggang", "to": "nanshan", "reason": "经核实，中转站位于南山镇"}
    assert not [e for e in events if e.kind == EventKind.REASSIGNED]
    assert len(await _outbox(db)) == len(before)  # nobody new to tell
    assert await _corrections(db) == [(None, iid, "region", "donggang", "nanshan", "zhu_min")]


async def test_a_locality_owner_follows_the_region_by_reassignment(db, clock):
    svc = Svc(db, clock)
    iid = await _region_incident(svc, "donggang")
    assert "bao_chen" in {r.recipient for r in await _outbox(db)}  # 交办 to 东港镇's liaison
    clock.advance(5 * MIN)
    result = await execute(svc, _set_region(svc, iid, "nanshan"))
    assert result.message.startswith(
        "已更正属地为「明湖市南山镇人民政府」，责任单位随属地改派并交办给「明湖市南山镇人民政府」"
    )
    inc, events, _ = await _state(db, iid)
    assert (inc.region, inc.owner_unit, inc.lead_unit) == ("nanshan", "nanshan", "nanshan")
    assert inc.status == IncidentStatus.ASSIGNED and inc.assigned_at == clock.now()
    kinds = [e.kind for e in events]
    assert kinds.index(EventKind.REGION_SET) < kinds.index(EventKind.REASSIGNED)
    reassigned = next(e for e in events if e.kind == EventKind.REASSIGNED)
    assert reassigned.payload == {"from": "donggang", "to": "nanshan", "reason": "更正属地：经核实，中转站位于南山镇"}
    rows = await _outbox(db)
    assert any(r.recipient == "zhu_ping" and str(r.payload.get("step", "")).startswith("assigned@") for r in rows)
    assert await _corrections(db) == [(None, iid, "region", "donggang", "nanshan", "zhu_min")]


async def test_a_co_handling_locality_is_swapped_when_the_incident_is_not_multi_region(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L2", owner_unit="ecology", region="donggang", co_units=("donggang",))
    await execute(svc, _set_region(svc, iid, "nanshan"))
    inc, _, _ = await _state(db, iid)
    assert inc.co_units == ("nanshan",)


@pytest.mark.parametrize(
    ("region", "reason", "refusal"),
    [
        ("nanshan", " ", "请填写更正属地的原因"),
        ("housing", "x", "「housing」不是通讯录中的镇（街道）"),
        ("donggang", "x", "属地已是「明湖市东港镇人民政府」，无需更正"),
    ],
)
async def test_set_region_refusals(db, clock, region, reason, refusal):
    svc = Svc(db, clock)
    iid = await _region_incident(svc, "donggang")
    with pytest.raises(CommandRejected, match=refusal):
        await execute(svc, _set_region(svc, iid, region, reason))
    inc, _, _ = await _state(db, iid)
    assert (inc.region, inc.owner_unit) == ("donggang", "donggang")


async def test_set_region_refuses_a_closed_incident(db, clock):
    svc = Svc(db, clock)
    iid = await _region_incident(svc, "donggang")
    await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="已办结"))
    with pytest.raises(CommandRejected, match="不能更正属地；如需更正，请先重新打开事件"):
        await execute(svc, _set_region(svc, iid, "nanshan"))


async def test_retraining_learns_the_opened_items_relevance_and_category(db, clock):
    from monitor.classify.orgmap import org_mapping
    from monitor.classify.retrain import load_corrections

    svc = Svc(db, clock)
    item = await add_item(svc)
    await open_from_item(svc, _open(svc, item, event_type=EventType.LIVELIHOOD, owner_unit="housing"))
    learned = await load_corrections(db, org_mapping(svc.org))
    [row] = learned.train
    assert row["item_id"] == item and row["relevant"] is True
    assert row["event_type"] == EventType.LIVELIHOOD.label and row["department"] == "住房和城乡建设局"


async def test_an_item_without_a_unit_opens_an_incident_the_duty_officers_must_assign(db, clock):
    svc = Svc(db, clock)
    item = await add_item(svc, department=None, region=None)
    result = await open_from_item(svc, _open(svc, item))
    assert result.message.endswith("尚无责任单位：请在事件页「改派责任单位」中指定；时限从稿件发现时间起算")
    inc, events, _ = await _state(db, result.incident_id)
    assert (inc.status, inc.owner_unit, inc.region) == (IncidentStatus.ASSESSED, None, None)
    assert EventKind.ASSIGNED not in [e.kind for e in events]
    assert {r.recipient for r in await _outbox(db)} == {"zhu_min", "qin_hao", "xu_ting", "lv_liang"}  # 值班员
