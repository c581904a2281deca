"""确认收到 / 申请暂停 / 延期 addressed to ONE commitment (rule PRJ-COMMITMENT + its number)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, ResponseKind
from monitor.domain import commands as c
from monitor.domain.commitments import Commitment
from monitor.engine.commands import CommandRejected, execute
from monitor.engine.runner import Engine
from monitor.storage.repo.incidents import list_events
from monitor.storage.schema import outbox

from .engine_support import Svc, new_incident

H = timedelta(hours=1)
BJ = ZoneInfo("Asia/Shanghai")
RULE = "PRJ-COMMITMENT"


async def _two_commitments(svc: Svc) -> int:
    iid = await new_incident(svc, None, "L3", title="老城区道路塌陷")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))
    response = c.RecordResponse(
        incident_id=iid,
        actor="zhao_lei",
        at=svc.clock.now(),
        kind=ResponseKind.AUTHORITATIVE_RELEASE,
        approved_by="liu_fang",
        url="https://gov.example.cn/notice/1",
        commitments=(
            Commitment("完成塌陷路段修复", date(2026, 10, 10)),
            Commitment("公布调查结果", date(2026, 10, 10)),
        ),
    )
    await execute(svc, response)
    return iid


async def _pause(svc: Svc, iid: int, until: datetime, instance: int | None) -> list:
    request = c.RequestPause(
        incident_id=iid, actor="zhu_min", at=svc.clock.now(), rule_id=RULE, until=until, reason="等待检测报告",
        instance=instance,
    )  # fmt: skip
    await execute(svc, request)
    async with svc.db.read() as conn:
        seq = [e.seq for e in await list_events(conn, iid) if e.kind == EventKind.PAUSE_REQUESTED][-1]
    approved = await execute(svc, c.ApprovePause(incident_id=iid, actor="qin_hao", at=svc.clock.now(), request_seq=seq))
    return sorted((o for o in approved.obligations if o.rule_id == RULE), key=lambda o: o.instance)


async def test_a_pause_of_one_commitment_moves_only_its_deadline(db, clock):
    svc = Svc(db, clock)
    iid = await _two_commitments(svc)
    due = datetime(2026, 10, 10, 23, 59, 59, tzinfo=BJ)
    one, two = await _pause(svc, iid, clock.now() + 48 * H, instance=2)
    assert (one.status.value, one.due_at) == ("open", due)
    assert (two.status.value, two.due_at) == ("paused", due + 48 * H)
    async with db.read() as conn:
        approved = next(e for e in await list_events(conn, iid) if e.kind == EventKind.PAUSE_APPROVED)
    assert approved.payload["instance"] == 2 and approved.payload["rule"] == RULE


async def test_a_pause_of_the_commitment_rule_must_say_which_commitment(db, clock):
    svc = Svc(db, clock)
    iid = await _two_commitments(svc)
    until = clock.now() + 24 * H
    with pytest.raises(CommandRejected, match="多项承诺待兑现（#1、#2），请选择其中一项"):
        await execute(svc, c.RequestPause(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=RULE,
                                          until=until, reason="等待"))  # fmt: skip
    with pytest.raises(CommandRejected, match=f"没有时限要求 {RULE} #3"):
        await execute(svc, c.RequestPause(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=RULE,
                                          until=until, reason="等待", instance=3))  # fmt: skip
    async with db.read() as conn:
        assert not [e for e in await list_events(conn, iid) if e.kind == EventKind.PAUSE_REQUESTED]
    # once #1 is fulfilled, the only open commitment is the one meant
    await execute(svc, c.FulfilCommitment(incident_id=iid, actor="zhao_lei", at=clock.now(), number=1,
                                          disclosed_url="https://gov.example.cn/done"))  # fmt: skip
    _, two = await _pause(svc, iid, until, instance=None)
    assert two.status.value == "paused"


async def _alerts(db) -> list[tuple[str, str]]:
    async with db.read() as conn:
        rows = await conn.execute(select(outbox.c.idempotency_key, outbox.c.payload).order_by(outbox.c.id))
        return [(k, p["text"]) for k, p in rows if (p.get("rule") or {}).get("id") == RULE]


async def test_acknowledging_one_commitment_leaves_the_others_reminded(db, clock):
    svc = Svc(db, clock)
    iid = await _two_commitments(svc)
    engine = Engine(svc)
    clock.set(datetime(2026, 10, 8, 9, 0, tzinfo=BJ))
    await engine.tick()
    assert {":warn-3d:" in k for k, _ in await _alerts(db)} == {True}
    with pytest.raises(CommandRejected, match="须同时指明时限要求"):
        await execute(svc, c.Acknowledge(incident_id=iid, actor="zhao_lei", at=clock.now(), instance=1))
    await execute(svc, c.Acknowledge(incident_id=iid, actor="zhao_lei", at=clock.now(), rule_id=RULE, instance=1))
    async with db.read() as conn:
        ack = next(e for e in await list_events(conn, iid) if e.kind == EventKind.ACKNOWLEDGED)
    assert ack.payload == {"rule": RULE, "instance": 1}
    clock.set(datetime(2026, 10, 10, 9, 0, tzinfo=BJ))  # within a day of both deadlines
    await engine.tick()
    day_before = [text for k, text in await _alerts(db) if ":warn-1d:" in k]
    assert day_before and all("承诺 #2" in t for t in day_before)  # #1 was acknowledged: no more warnings


async def test_extension_of_a_commitment_is_refused_and_a_single_rule_needs_no_instance(db, clock):
    svc = Svc(db, clock)
    iid = await _two_commitments(svc)
    with pytest.raises(CommandRejected, match=f"规则 {RULE} 不允许延期"):
        await execute(svc, c.ExtendDeadline(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=RULE,
                                             reason="施工延误", approved_by="liu_fang", instance=1))  # fmt: skip
    # a rule with one obligation: acknowledged as before, without an instance
    await execute(svc, c.Acknowledge(incident_id=iid, actor="zhao_lei", at=clock.now(), rule_id="GB61-RESPOND-48H"))
    async with db.read() as conn:
        ack = next(e for e in await list_events(conn, iid) if e.kind == EventKind.ACKNOWLEDGED)
    assert ack.payload == {"rule": "GB61-RESPOND-48H"}
