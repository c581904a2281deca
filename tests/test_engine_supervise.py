"""政府办督查 (提醒/催办/督办/通报), 持续发布 and 已升级 (DOMAIN.md §1.5, §4.1, §4.4 `supervision[]`):
what a supervision records, whom it tells (exactly once, across restarts), the status it sets
and when that ends; when a response moves an incident to 持续发布; and when an obligation counts
as escalated to leaders."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, EventLevel, IncidentStatus, SupervisionLevel
from monitor.domain import commands as c
from monitor.engine.commands import CommandRejected, execute
from monitor.engine.runner import Engine
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.schema import outbox

from .engine_support import Svc, new_incident

H, MIN = timedelta(hours=1), timedelta(minutes=1)
EMERGENCY = {"liaison": "zhao_lei", "deputy_leader": "fu_qiang", "principal": "ma_zhenhua"}
BY = "市政府办公室督查科 蒋文博"


async def _rows(db, **where):
    async with db.read() as conn:
        rows = list(await conn.execute(select(outbox).order_by(outbox.c.id)))
    return [r for r in rows if all(getattr(r, k) == v for k, v in where.items())]


async def _events(db, iid, kind):
    async with db.read() as conn:
        return [e for e in await list_events(conn, iid) if e.kind == kind]


async def _incident(db, iid):
    async with db.read() as conn:
        return await get_incident(conn, iid)


async def _confirmed(svc, *args, **kw) -> int:
    iid = await new_incident(svc, *args, **kw)
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))
    return iid


def _supervise(svc, iid, level=SupervisionLevel.SUPERVISE, reason="48小时已过仍未回应，请今日18时前发布权威信息", **kw):
    return c.Supervise(
        incident_id=iid, actor="gov", at=svc.clock.now(), level=level, reason=reason, by=kw.pop("by", BY), **kw
    )


def _respond(svc, iid, kind="authoritative_release"):
    return c.RecordResponse(
        incident_id=iid,
        actor="zhu_min",
        at=svc.clock.now(),
        kind=kind,
        approved_by="钱志强",
        url="https://gov.example/1",
    )


async def test_a_supervision_is_recorded_tells_the_units_people_once_and_makes_the_incident_supervised(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2", title="城北停水")
    clock.advance(50 * H)  # past the 48-hour deadline
    await Engine(svc).tick()
    before = {r.id for r in await _rows(db)}
    result = await execute(svc, _supervise(svc, iid))
    assert result.message == "已督办，已通知「明湖市应急管理局」；事件转为督办中，直至其公开回应"
    inc = await _incident(db, iid)
    assert (inc.status, inc.status.label) == (IncidentStatus.SUPERVISED, "督办中")
    [record] = await _events(db, iid, EventKind.SUPERVISED)
    assert (record.actor, record.payload) == (
        "gov",
        {
            "level": "supervise",
            "reason": "48小时已过仍未回应，请今日18时前发布权威信息",
            "by": BY,
            "unit": "emergency",
            "status_before": "assigned",
        },
    )
    new = [r for r in await _rows(db) if r.id not in before]
    assert {r.recipient for r in new} == set(EMERGENCY.values())  # 督办 reaches up to the 主要负责人
    assert {r.kind for r in new} == {"supervised"} and all(r.urgent for r in new)
    text = new[0].payload["text"]
    assert text.startswith("【督办】「城北停水」市政府办公室督查科 蒋文博督办：48小时已过仍未回应")
    assert "责任单位：明湖市应急管理局" in text and "国办发〔2016〕61号" in text
    assert new[0].payload["supervision"] == {"level": "supervise", "reason": record.payload["reason"], "by": BY}
    [notice] = [e for e in await _events(db, iid, EventKind.ESCALATED) if e.payload["kind"] == "supervised"]
    assert notice.payload["step"] == f"supervised-{record.seq}" and notice.payload["rule"] is None

    for _ in range(2):  # deciding again, and after a restart (a new engine), tells nobody twice
        await Engine(svc).tick()
        await execute(svc, c.AddNote(incident_id=iid, actor="zhu_min", at=clock.now(), text="已电话联系"))
    assert len([r for r in await _rows(db) if r.kind == "supervised"]) == len(EMERGENCY)


@pytest.mark.parametrize(
    ("level", "reached"),
    [
        (SupervisionLevel.REMIND, {"liaison"}),
        (SupervisionLevel.URGE, {"liaison", "deputy_leader"}),
        (SupervisionLevel.CIRCULATE, {"liaison", "deputy_leader", "principal"}),
    ],
)
async def test_the_stronger_the_level_the_higher_it_reaches(db, clock, level, reached):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    await execute(svc, _supervise(svc, iid, level=level))
    rows = await _rows(db, kind="supervised")
    assert {r.recipient for r in rows} == {EMERGENCY[role] for role in reached}
    assert rows[0].payload["text"].startswith(f"【{level.label}】")
    assert all(r.urgent == (level == SupervisionLevel.CIRCULATE) for r in rows)  # 提醒/催办 may wait out quiet hours


async def test_each_supervision_is_its_own_record_and_notice_and_a_response_ends_the_supervised_status(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    await execute(svc, _supervise(svc, iid, level=SupervisionLevel.REMIND, reason="请尽快回应"))
    clock.advance(2 * H)
    await execute(svc, _supervise(svc, iid, level=SupervisionLevel.URGE, reason="仍未回应，请抓紧"))
    assert [e.payload["level"] for e in await _events(db, iid, EventKind.SUPERVISED)] == ["remind", "urge"]
    assert len(await _rows(db, kind="supervised", recipient=EMERGENCY["liaison"])) == 2
    assert (await _incident(db, iid)).status == IncidentStatus.SUPERVISED
    await execute(svc, _respond(svc, iid))
    assert (await _incident(db, iid)).status == IncidentStatus.RESPONDED  # III: no 持续发布 stage
    await Engine(svc).tick()
    assert len(await _rows(db, kind="supervised")) == 3  # nothing re-sent after the status changed


async def test_acceptance_keeps_the_supervision_until_the_response(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    await execute(svc, _supervise(svc, iid, level=SupervisionLevel.URGE))
    await execute(svc, c.Accept(incident_id=iid, actor="unit_em", at=clock.now(), units=("emergency",)))
    inc = await _incident(db, iid)
    assert (inc.status, inc.accepted_at) == (IncidentStatus.SUPERVISED, clock.now())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "  "}, "请填写督办事由"),
        ({"by": ""}, "请填写督办人"),
        ({"level": "scold"}, "督查方式「scold」无效，请选择：提醒（remind）、催办（urge）、督办（supervise）、通报"),
        ({"reason": "过" * 1001}, "督办事由不能超过 1000 个字"),
    ],
)
async def test_bad_input_is_refused_in_words_and_records_nothing(db, clock, change, message):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    command = _supervise(svc, iid, **{k: v for k, v in change.items() if k != "by"}, by=change.get("by", BY))
    with pytest.raises(CommandRejected, match=message):
        await execute(svc, command)
    assert await _events(db, iid, EventKind.SUPERVISED) == []
    assert (await _incident(db, iid)).status == IncidentStatus.ASSIGNED


async def test_what_cannot_be_supervised(db, clock):
    svc = Svc(db, clock)
    unconfirmed = await new_incident(svc, "III", "L2")
    with pytest.raises(CommandRejected, match="事件尚未研判确认，不能督办"):
        await execute(svc, _supervise(svc, unconfirmed))
    no_owner = await _confirmed(svc, "III", "L2", owner_unit=None)
    with pytest.raises(CommandRejected, match="尚未确定责任单位，不能催办"):
        await execute(svc, _supervise(svc, no_owner, level=SupervisionLevel.URGE))
    returned = await _confirmed(svc, "III", "L2")
    await execute(svc, c.Return(incident_id=returned, actor="unit_em", at=clock.now(), reason="属水务", units=None))
    with pytest.raises(CommandRejected, match="正等待值班员改派"):
        await execute(svc, _supervise(svc, returned))
    closed = await _confirmed(svc, "III", "L2")
    await execute(svc, c.Close(incident_id=closed, actor="zhu_min", at=clock.now(), reason="已处置"))
    with pytest.raises(CommandRejected, match="事件当前状态为「已办结」，不能通报"):
        await execute(svc, _supervise(svc, closed, level=SupervisionLevel.CIRCULATE))


async def test_a_major_incident_goes_on_to_continued_release_after_its_first_response(db, clock):
    svc = Svc(db, clock)
    major = await _confirmed(svc, "II", "L1")
    await execute(svc, _respond(svc, major))
    inc = await _incident(db, major)
    assert (inc.status, inc.status.label) == (IncidentStatus.FOLLOW_UP, "持续发布")
    [moved] = [e for e in await _events(db, major, EventKind.STATUS_CHANGED) if e.payload["to"] == "follow_up"]
    assert moved.payload["path"][-2:] == ["responded", "follow_up"]
    async with db.read() as conn:
        rules = {o.rule_id for o in await list_obligations(conn, [major]) if o.status.value == "open"}
    assert "GB61-CONTINUOUS" in rules  # the continued-release obligation the stage stands for
    await execute(svc, _supervise(svc, major))  # a supervision in 持续发布 …
    assert (await _incident(db, major)).status == IncidentStatus.SUPERVISED
    clock.advance(H)
    await execute(svc, _respond(svc, major))  # … ends with the next release
    assert (await _incident(db, major)).status == IncidentStatus.FOLLOW_UP
    await execute(svc, c.Close(incident_id=major, actor="zhu_min", at=clock.now(), reason="处置完毕"))
    assert (await _incident(db, major)).status == IncidentStatus.CLOSED


async def test_a_response_that_starts_no_continued_release_leaves_the_incident_responded(db, clock):
    svc = Svc(db, clock)
    general = await _confirmed(svc, "III", "L2")
    await execute(svc, _respond(svc, general))
    assert (await _incident(db, general)).status == IncidentStatus.RESPONDED
    major = await _confirmed(svc, "I", "L1")
    await execute(svc, _respond(svc, major, kind="press_conference"))
    assert (await _incident(db, major)).status == IncidentStatus.FOLLOW_UP  # a press conference is a release too


async def test_an_obligation_counts_as_escalated_once_a_rung_past_its_deadline_reached_a_leader(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")  # standard ladder: breach → liaison + 分管领导
    clock.advance(47 * H)
    await Engine(svc).tick()  # warnings only (the 分管领导 is warned before the deadline: not escalated)
    async with db.read() as conn:
        [respond] = [o for o in await list_obligations(conn, [iid]) if o.rule_id == "GB61-RESPOND-48H"]
    assert respond.escalated_at is None
    clock.advance(2 * H)
    await Engine(svc).tick()
    async with db.read() as conn:
        [respond] = [o for o in await list_obligations(conn, [iid]) if o.rule_id == "GB61-RESPOND-48H"]
    assert respond.escalated_at == clock.now()
    [breach] = [e for e in await _events(db, iid, EventKind.ESCALATED) if e.payload.get("step") == "breach"]
    assert "deputy_leader" in breach.payload["roles"]
    clock.advance(H)
    await Engine(svc).tick()  # the time stays the first rung's: recomputed from the timeline, never moved
    async with db.read() as conn:
        [again] = [o for o in await list_obligations(conn, [iid]) if o.rule_id == "GB61-RESPOND-48H"]
    assert again.escalated_at == respond.escalated_at


async def test_a_triage_breach_reaches_no_leader_and_is_not_escalated(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, "III", "L3")  # waits for 研判 (PRJ-TRIAGE-1H, ladder triage)
    await Engine(svc).tick()
    clock.advance(3 * H)
    await Engine(svc).tick()
    async with db.read() as conn:
        [triage] = await list_obligations(conn, [iid])
    assert triage.status_at(clock.now()).value == "breached" and triage.escalated_at is None


async def test_the_supervision_notice_reads_with_its_level_and_reason_and_no_acknowledge_button(db, clock):
    from monitor.domain import ChannelKind
    from monitor.notifications import render
    from monitor.notifications.model import Alert, Destination, Message
    from monitor.storage.repo.outbox import rows_by_ids

    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2", title="城北停水")
    await execute(svc, _supervise(svc, iid, level=SupervisionLevel.URGE, reason="请今日回应"))
    [row] = await _rows(db, kind="supervised", recipient=EMERGENCY["liaison"])
    async with db.read() as conn:
        [claimed] = await rows_by_ids(conn, [row.id])
    alert = Alert.from_row(claimed)
    message = Message("m1", Destination(ChannelKind.SLACK, "slack:U1", "U1"), [alert], [claimed])
    ctx = render.Context(clock.now(), "https://yuqing.example")
    text = render.plain_text(message, ctx)
    assert text.startswith("【催办】城北停水") and "事由与要求：请今日回应" in text and "处置要求：请抓紧处置" in text
    assert "督查方式：催办（市政府办公室督查科 蒋文博）" in text
    assert "责任单位：明湖市应急管理局" in text and "查看：https://yuqing.example/incidents/" in text
    buttons = [e for b in render.slack_blocks(message, ctx) if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["view"]  # 确认收到 would acknowledge every deadline


async def test_a_responded_incident_raised_to_major_goes_on_to_continued_release(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    await execute(svc, _respond(svc, iid))
    assert (await _incident(db, iid)).status == IncidentStatus.RESPONDED
    regrade = c.Regrade(
        incident_id=iid, actor="zhu_min", at=clock.now(), reason="死亡人数升至12人", event_level=EventLevel.II
    )
    await execute(svc, regrade)
    assert (await _incident(db, iid)).status == IncidentStatus.FOLLOW_UP
    back = c.Regrade(incident_id=iid, actor="zhu_min", at=clock.now(), reason="核实为3人", event_level=EventLevel.III)
    await execute(svc, back)  # continued releases are still owed (GB61-CONTINUOUS): the stage stays
    assert (await _incident(db, iid)).status == IncidentStatus.FOLLOW_UP
