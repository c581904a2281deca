"""Commands the duty queue sends: what they change, what they refuse (zh-CN), what they record."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, EventLevel, OpinionLevel, ReportKind
from monitor.domain import commands as c
from monitor.engine.commands import CommandRejected, acknowledger, execute
from monitor.engine.runner import Engine
from monitor.notifications.ack import AckRequest
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.schema import corrections

from .engine_support import Svc, new_incident, outbox_keys

H = timedelta(hours=1)


async def confirmed(svc, *args, **kw) -> int:
    iid = await new_incident(svc, *args, **kw)
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))
    return iid


async def test_regrade_and_reassign_record_corrections_and_change_recipients(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "III", "L2")
    up = await execute(
        svc,
        c.Regrade(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            event_level=EventLevel.II,
            opinion_level=OpinionLevel.L1,
            reason="死亡人数上升",
        ),
    )
    rules = {o.rule_id: o.status.value for o in up.obligations}
    assert rules["GB61-RESPOND-48H"] == "cancelled" and rules["GB80-AUTH-RELEASE-5H"] == "open"
    with pytest.raises(CommandRejected, match="没有变化"):
        await execute(
            svc, c.Regrade(incident_id=iid, actor="zhu_min", at=clock.now(), event_level=EventLevel.II, reason="x")
        )
    with pytest.raises(CommandRejected, match="通讯录中没有单位"):
        await execute(
            svc, c.Reassign(incident_id=iid, actor="zhu_min", at=clock.now(), owner_unit="nowhere", reason="x")
        )
    moved = await execute(
        svc, c.Reassign(incident_id=iid, actor="zhu_min", at=clock.now(), owner_unit="water", reason="属水务")
    )
    assert moved.generation == 2
    async with db.read() as conn:
        fixes = {(r.field, r.old_value, r.new_value) for r in await conn.execute(select(corrections))}
    assert {("event_level", "III", "II"), ("opinion_level", "L2", "L1"), ("department", "emergency", "water")} <= fixes


async def test_reports_meet_the_reporting_rules(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "II", "L1", occurred_at=clock.now() - 10 * timedelta(minutes=1))
    result = await execute(
        svc,
        c.RecordReport(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            report_kind=ReportKind.FIRST,
            channel="phone",
            signer="赵磊",
        ),
    )
    statuses = {o.rule_id: o.status.value for o in result.obligations}
    assert statuses["YJB2015-PHONE-30MIN"] == "met" and statuses["YJB2015-WRITTEN-1H"] == "open"
    assert statuses["YJB2015-FOLLOWUP-REPORT"] == "open"  # 续报 clock starts at the first report
    with pytest.raises(CommandRejected, match="电话"):
        await execute(
            svc,
            c.RecordReport(
                incident_id=iid,
                actor="zhu_min",
                at=clock.now(),
                report_kind=ReportKind.FIRST,
                channel="fax",
                signer="x",
            ),
        )


async def test_manual_rules_attach_once_and_extend_once(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, None, "L3")
    attach = c.AttachRule(
        incident_id=iid, actor="zhu_min", at=clock.now(), rule_id="GB2014-WEB-SUGGESTION-7WD", reason="网民留言"
    )
    first = await execute(svc, attach)
    web = next(o for o in first.obligations if o.rule_id == "GB2014-WEB-SUGGESTION-7WD")
    with pytest.raises(CommandRejected, match="已附加"):
        await execute(svc, attach)
    with pytest.raises(CommandRejected, match="自动适用"):
        await execute(svc, c.AttachRule(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id="GB61-RESPOND-48H"))
    extended = await execute(
        svc,
        c.ExtendDeadline(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            rule_id="GB2014-WEB-SUGGESTION-7WD",
            reason="情况复杂",
            approved_by="liu_fang",
        ),
    )
    longer = next(o for o in extended.obligations if o.rule_id == "GB2014-WEB-SUGGESTION-7WD")
    assert longer.due_at > web.due_at + 8 * 24 * H  # 7 → 15 working days
    with pytest.raises(CommandRejected, match="不允许延期"):
        await execute(
            svc,
            c.ExtendDeadline(
                incident_id=iid,
                actor="zhu_min",
                at=clock.now(),
                rule_id="GB61-RESPOND-48H",
                reason="x",
                approved_by="y",
            ),
        )


async def test_an_extension_must_be_decided_before_the_deadline_passes(db, clock):
    """条例第33条: the extension is decided (and the applicant told) within the time limit; an
    extension granted afterwards would turn a missed deadline into a met one."""
    svc = Svc(db, clock)
    iid = await confirmed(svc, None, "L3")

    def extend(rule="OGI-REPLY-20WD"):
        return c.ExtendDeadline(
            incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=rule, reason="情况复杂", approved_by="liu_fang"
        )

    with pytest.raises(CommandRejected, match="尚未附加"):
        await execute(svc, extend())  # not attached to this incident: nothing to extend
    attach = c.AttachRule(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id="OGI-REPLY-20WD", reason="申请")
    first = await execute(svc, attach)
    due = next(o for o in first.obligations if o.rule_id == "OGI-REPLY-20WD").due_at
    clock.set(due + H)
    with pytest.raises(CommandRejected, match=r"已于.*届满"):
        await execute(svc, extend())
    async with db.read() as conn:
        assert not [e for e in await list_events(conn, iid) if e.kind == EventKind.DEADLINE_EXTENDED]


async def test_close_walks_the_workflow_and_reopen_brings_deadlines_back(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "III", "L2")
    closed = await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="已回应"))
    assert {o.rule_id: o.status.value for o in closed.obligations}["GB61-RESPOND-48H"] == "cancelled"
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).status.value == "closed"
    reopened = await execute(svc, c.Reopen(incident_id=iid, actor="zhu_min", at=clock.now() + H, reason="舆情反弹"))
    assert {o.rule_id: o.status.value for o in reopened.obligations}["GB61-RESPOND-48H"] == "open"
    async with db.read() as conn:
        kinds = [e.kind for e in await list_events(conn, iid)]
    assert EventKind.CLOSED in kinds and EventKind.REOPENED in kinds and EventKind.STATUS_CHANGED in kinds


async def test_reopen_is_refused_unless_the_incident_is_closed_or_dismissed(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "III", "L2")
    async with db.read() as conn:
        before = await get_incident(conn, iid)
        events_before = len(await list_events(conn, iid))
    with pytest.raises(CommandRejected, match=r"「(?:研判定级|已交办)」.*尚未办结或排除.*无需重新打开"):
        await execute(svc, c.Reopen(incident_id=iid, actor="zhu_min", at=clock.now(), reason="误操作"))
    async with db.read() as conn:
        after = await get_incident(conn, iid)
        assert (after.status, after.generation) == (before.status, before.generation)
        assert len(await list_events(conn, iid)) == events_before  # nothing logged
    rumour = await new_incident(svc, None, "L3", title="网传谣言")
    await execute(svc, c.Dismiss(incident_id=rumour, actor="zhu_min", at=clock.now(), reason="非政务舆情"))
    await execute(svc, c.Reopen(incident_id=rumour, actor="zhu_min", at=clock.now(), reason="核实为政务舆情"))
    async with db.read() as conn:
        assert (await get_incident(conn, rumour)).status.value == "detected"


async def test_triage_deadline_is_met_when_confirmed_at_the_instant_of_detection(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L3", owner_unit="water")
    await Engine(svc).tick()  # the 1-hour triage deadline opens
    confirmed_now = await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    assert {o.rule_id: o.status.value for o in confirmed_now.obligations}["PRJ-TRIAGE-1H"] == "met"
    clock.advance(3 * H)
    await Engine(svc).tick()
    async with db.read() as conn:
        stored = {o.rule_id: o.status.value for o in await list_obligations(conn, [iid])}
        kinds = [e.kind for e in await list_events(conn, iid)]
    assert stored["PRJ-TRIAGE-1H"] == "met"  # not left open past its due time
    assert EventKind.OBLIGATION_MET in kinds and EventKind.OBLIGATION_BREACHED not in kinds


async def test_dismiss_meets_triage_and_merge_cancels(db, clock):
    svc = Svc(db, clock)
    rumour = await new_incident(svc, None, "L3")
    other = await confirmed(svc, "III", "L2", title="另一事件")
    clock.advance(H / 2)
    dismissed = await execute(svc, c.Dismiss(incident_id=rumour, actor="zhu_min", at=clock.now(), reason="非政务舆情"))
    assert [(o.rule_id, o.status.value) for o in dismissed.obligations] == [("PRJ-TRIAGE-1H", "met")]
    with pytest.raises(CommandRejected, match="不存在或就是本事件"):
        await execute(svc, c.Merge(incident_id=other, actor="zhu_min", at=clock.now(), into_id=other))
    dup = await confirmed(svc, "III", "L2", title="重复事件")
    merged = await execute(svc, c.Merge(incident_id=dup, actor="zhu_min", at=clock.now(), into_id=other))
    assert {o.status.value for o in merged.obligations} == {"cancelled"}
    assert "并入事件" in merged.message
    with pytest.raises(CommandRejected, match="不属于事件"):
        await execute(svc, c.Split(incident_id=other, actor="zhu_min", at=clock.now(), item_ids=(1,), title="x"))


async def test_channel_acknowledgements_go_through_the_engine(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "III", "L2")
    ack = acknowledger(svc)
    at = clock.now()
    message = await ack(AckRequest(iid, "GB61-RESPOND-48H", "wang_chenyang", at, "slack", None))
    assert message == "已确认收到提醒"
    async with db.read() as conn:
        (event,) = [e for e in await list_events(conn, iid) if e.kind == EventKind.ACKNOWLEDGED]
    assert event.payload == {"rule": "GB61-RESPOND-48H"} and event.actor == "wang_chenyang"
    with pytest.raises(CommandRejected):
        await ack(AckRequest(iid, "NO-SUCH-RULE", "wang_chenyang", at, "slack", None))


async def test_correcting_the_event_type_is_recorded_without_touching_the_clocks(db, clock):
    from monitor.domain import EventType

    svc = Svc(db, clock)
    iid = await confirmed(svc, "II", "L1")
    before = await execute(svc, c.AddNote(incident_id=iid, actor="zhu_min", at=clock.now(), text="x"))
    fixed = await execute(
        svc, c.Regrade(incident_id=iid, actor="zhu_min", at=clock.now(), event_type=EventType.FIRE, reason="系火灾")
    )
    assert fixed.message == "已更正事件类别" and fixed.generation == before.generation
    assert [o.status for o in fixed.obligations] == [o.status for o in before.obligations]
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).event_type == EventType.FIRE
        fixes = [(r.field, r.old_value, r.new_value) for r in await conn.execute(select(corrections))]
    assert fixes == [("event_type", None, "fire")]
    with pytest.raises(CommandRejected, match="级别没有变化"):
        await execute(
            svc, c.Regrade(incident_id=iid, actor="zhu_min", at=clock.now(), event_type=EventType.FIRE, reason="x")
        )


async def test_a_response_moves_an_assigned_incident_forward_to_responded(db, clock):
    from monitor.domain import IncidentStatus, ResponseKind

    svc = Svc(db, clock)
    iid = await confirmed(svc, "III", "L2")
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).status == IncidentStatus.ASSIGNED  # confirmation 交办s it
    await execute(
        svc,
        c.RecordResponse(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            kind=ResponseKind.AUTHORITATIVE_RELEASE,
            url="https://www.minghu.gov.example/1",
            approved_by="王五",
        ),
    )
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).status == IncidentStatus.RESPONDED
        kinds = [e.kind for e in await list_events(conn, iid)]
    assert EventKind.STATUS_CHANGED in kinds  # 研判定级 → 已交办 → 已回应, on the timeline


async def test_recording_when_the_event_occurred_moves_its_deadlines_and_breaches_those_already_passed(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "II", "L1")
    noted = await execute(svc, c.AddNote(incident_id=iid, actor="a", at=clock.now(), text="x"))
    due = {o.rule_id: o.due_at for o in noted.obligations}
    assert due["GB80-AUTH-RELEASE-5H"] == clock.now() + 5 * H  # from detection while 事发时间 is unknown
    keys_before = set(await outbox_keys(db))

    set_it = c.SetOccurredAt(
        incident_id=iid, actor="zhu_min", at=clock.now(), occurred_at=clock.now() - 2 * H, reason="据现场报告"
    )
    moved = await execute(svc, set_it)
    state = {o.rule_id: (o.status.value, o.due_at) for o in moved.obligations}
    assert state["GB80-AUTH-RELEASE-5H"] == ("open", clock.now() + 3 * H)
    assert state["GB61-PRESSCONF-24H"] == ("open", clock.now() + 22 * H)
    assert state["YJB2015-PHONE-30MIN"][0] == "breached"  # 30 minutes after the event: already passed
    assert "已登记事发时间" in moved.message
    assert moved.generation == noted.generation + 1  # timers scheduled before are fenced off

    earlier = c.SetOccurredAt(
        incident_id=iid, actor="zhu_min", at=clock.now(), occurred_at=clock.now() - 6 * H, reason="单位首报更正"
    )
    breached = await execute(svc, earlier)
    assert {o.rule_id: o.status.value for o in breached.obligations}["GB80-AUTH-RELEASE-5H"] == "breached"
    assert "已更正事发时间" in breached.message
    async with db.read() as conn:
        release = next(o for o in await list_obligations(conn, [iid]) if o.rule_id == "GB80-AUTH-RELEASE-5H")
    alerted = set(await outbox_keys(db)) - keys_before
    assert any(k.startswith(f"{iid}:{release.id}:supervise") for k in alerted)  # the breach is alerted at once
    async with db.read() as conn:
        incident = await get_incident(conn, iid)
        events = await list_events(conn, iid)
    assert incident.occurred_at == clock.now() - 6 * H
    recorded = [e for e in events if e.kind == EventKind.OCCURRED_AT_SET]
    assert [(e.actor, e.payload["reason"]) for e in recorded] == [
        ("zhu_min", "据现场报告"),
        ("zhu_min", "单位首报更正"),
    ]
    assert recorded[1].payload["from"] == (clock.now() - 2 * H).isoformat()
    assert recorded[1].payload["to"] == (clock.now() - 6 * H).isoformat()
    assert recorded[0].payload["from"] is None
    assert any(
        e.kind == EventKind.OBLIGATION_BREACHED and e.payload.get("rule") == "GB80-AUTH-RELEASE-5H" for e in events
    )


@pytest.mark.parametrize(
    ("offset", "reason", "refusal"),
    [
        (-H, "  ", "请填写登记或更正事发时间的原因"),
        (H, "据报", "晚于当前时间"),
        (-H, "据报", "晚于本事件的发现时间.*事件须先发生才能被发现"),
    ],
)
async def test_an_impossible_occurrence_time_is_refused_and_changes_nothing(db, clock, offset, reason, refusal):
    svc = Svc(db, clock)
    iid = (
        await confirmed(svc, "II", "L1", detected_at=clock.now() - 2 * H)
        if refusal.startswith("晚于本事件")
        else await confirmed(svc, "II", "L1")
    )
    async with db.read() as conn:
        before, events_before = await get_incident(conn, iid), len(await list_events(conn, iid))
    with pytest.raises(CommandRejected, match=refusal):
        await execute(
            svc,
            c.SetOccurredAt(
                incident_id=iid, actor="zhu_min", at=clock.now(), occurred_at=clock.now() + offset, reason=reason
            ),
        )
    async with db.read() as conn:
        after = await get_incident(conn, iid)
        assert (after.occurred_at, after.generation) == (before.occurred_at, before.generation)
        assert len(await list_events(conn, iid)) == events_before


async def test_the_occurrence_time_of_a_closed_incident_needs_a_reopen_first(db, clock):
    svc = Svc(db, clock)
    iid = await confirmed(svc, "II", "L1")
    await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="已处置"))
    with pytest.raises(CommandRejected, match=r"「已办结」.*请先重新打开"):
        await execute(
            svc,
            c.SetOccurredAt(incident_id=iid, actor="zhu_min", at=clock.now(), occurred_at=clock.now() - H, reason="x"),
        )
