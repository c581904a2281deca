"""The runner and commands on real databases (SQLite and PostgreSQL via the `db` fixture)."""

import asyncio
import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text

from monitor.domain import EventKind, ResponseKind
from monitor.domain import commands as c
from monitor.domain.playbooks import Playbook
from monitor.engine.commands import CommandRejected, execute
from monitor.engine.runner import Engine
from monitor.policy.calendar import load_calendar
from monitor.storage.repo.engine import (
    claim_due_timers,
    list_obligations,
    list_pauses,
    request_replan,
    schedule_timers,
)
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.schema import incidents, obligations, outbox, timers

from .engine_support import Svc, new_incident, outbox_keys

H = timedelta(hours=1)


async def test_confirm_opens_obligations_and_queues_alerts_per_contract(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, occurred_at=clock.now() - 50 * timedelta(minutes=1))
    result = await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    assert {o.rule_id for o in result.obligations} >= {"GB80-AUTH-RELEASE-5H", "GB61-PRESSCONF-24H"}
    async with db.read() as conn:
        rows = list(await conn.execute(select(outbox).order_by(outbox.c.id)))
        inc = (await conn.execute(select(incidents).where(incidents.c.id == iid))).one()
        pending = list(await conn.execute(select(timers).where(timers.c.fired_at.is_(None))))
    assert inc.status == "assigned" and inc.playbook_hash == svc.playbook.digest and inc.confirmed_at is not None
    assert inc.assigned_at == inc.confirmed_at and inc.accepted_at is None  # confirmation 交办s it
    assert inc.next_due_at == clock.now() - 20 * timedelta(minutes=1)  # the 30-min phone report, overdue
    five = next(r for r in rows if r.payload["rule"]["id"] == "GB80-AUTH-RELEASE-5H")
    assert five.idempotency_key == f"{iid}:{five.obligation_id}:assigned:0:{five.recipient}"
    assert five.kind == "deadline_warning" and five.urgent and five.status == "pending"
    assert five.payload["incident"]["owner_unit_name"] == "明湖市应急管理局"
    assert five.payload["person"]["id"] == five.recipient and five.payload["role"] in ("liaison", "deputy_leader")
    assert five.payload["text"].startswith("【预警】") and five.payload["step"] == "assigned"
    assert len(pending) == 1 and pending[0].generation == 0


async def test_due_timers_fire_once_and_a_second_tick_adds_nothing(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, "III", "L2")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    engine = Engine(svc)
    clock.advance(48 * H)
    first = await engine.tick()
    assert first.timers >= 1 and first.alerts >= 1
    keys = await outbox_keys(db)
    assert any(":breach:" in k for k in keys)
    again = await engine.tick()
    assert again.alerts == 0 and await outbox_keys(db) == keys
    async with db.read() as conn:
        events = await list_events(conn, iid)
    assert [e.payload["rule"] for e in events if e.kind == EventKind.OBLIGATION_BREACHED] == ["GB61-RESPOND-48H"]


async def test_commands_bump_the_generation_and_stale_timers_are_fenced(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, "III", "L2")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    clock.advance(H)
    result = await execute(
        svc,
        c.RecordResponse(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            kind=ResponseKind.WEBSITE_REPLY,
            url="https://minghu.gov.example/r/1",
            approved_by="liu_fang",
        ),
    )
    assert result.generation == 1
    assert {o.rule_id: o.status.value for o in result.obligations}["GB61-RESPOND-48H"] == "met"
    async with db.read() as conn:
        gens = sorted((await conn.execute(select(timers.c.generation).where(timers.c.fired_at.is_(None)))).scalars())
    assert gens == [0, 1]  # the old wake-up is still there …
    clock.advance(30 * H)
    tick = await Engine(svc).tick()
    assert tick.stale == 1  # … and is ignored when it fires


async def test_command_errors_speak_chinese_and_change_nothing(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, "III", "L2")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    before = await outbox_keys(db)
    no_evidence = c.RecordResponse(
        incident_id=iid, actor="zhu_min", at=clock.now(), kind=ResponseKind.WEBSITE_REPLY, approved_by="x"
    )
    with pytest.raises(CommandRejected, match="证据"):
        await execute(svc, no_evidence)
    until = clock.now() + 24 * H
    await execute(
        svc,
        c.RequestPause(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            rule_id="GB61-RESPOND-48H",
            until=until,
            reason="征求第三方意见",
        ),
    )
    async with db.read() as conn:
        seq = next(e.seq for e in await list_events(conn, iid) if e.kind == EventKind.PAUSE_REQUESTED)
    with pytest.raises(CommandRejected, match="另一人批准"):
        await execute(svc, c.ApprovePause(incident_id=iid, actor="zhu_min", at=clock.now(), request_seq=seq))
    with pytest.raises(CommandRejected, match="不存在"):
        await execute(svc, c.Acknowledge(incident_id=9999, actor="zhu_min", at=clock.now()))
    assert await outbox_keys(db) == before
    approved = await execute(svc, c.ApprovePause(incident_id=iid, actor="qin_hao", at=clock.now(), request_seq=seq))
    ob = next(o for o in approved.obligations if o.rule_id == "GB61-RESPOND-48H")
    assert ob.status.value == "paused" and ob.due_at == clock.now() + 72 * H
    async with db.read() as conn:
        (pause,) = await list_pauses(conn, clock.now() - H, clock.now() + H)
    assert (pause.payload["requested_by"], pause.payload["approved_by"]) == ("zhu_min", "qin_hao")
    assert pause.payload["reason"] == "征求第三方意见"


async def test_new_incidents_from_clustering_are_auto_confirmed_or_sent_to_triage(db, clock):
    svc = Svc(db, clock)
    major = await new_incident(svc, "II", "L1")
    minor = await new_incident(svc, "III", "L3", title="城北停水")
    await Engine(svc).tick()
    async with db.read() as conn:
        m, n = await get_incident(conn, major), await get_incident(conn, minor)
        obs = await list_obligations(conn)
        events = await list_events(conn, major)
    assert m.status.value == "assigned" and n.status.value == "detected"  # auto-confirmed and 交办
    assert any(e.kind == EventKind.CONFIRMED and e.actor == "system" for e in events)
    assert {o.rule_id for o in obs if o.incident_id == minor} == {"PRJ-TRIAGE-1H"}
    assert "GB80-AUTH-RELEASE-5H" in {o.rule_id for o in obs if o.incident_id == major}


async def test_obligations_are_a_view_that_can_be_recomputed(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, "II", "L1")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    async with db.read() as conn:
        before = [(o.rule_id, o.instance, o.t0, o.due_at, o.status) for o in await list_obligations(conn)]
    async with db.write() as conn:
        await conn.execute(delete(obligations))
        await request_replan(conn, [iid], clock.now())
    await Engine(svc).tick()
    async with db.read() as conn:
        after = [(o.rule_id, o.instance, o.t0, o.due_at, o.status) for o in await list_obligations(conn)]
    assert sorted(after) == sorted(before)


async def test_a_playbook_edit_affects_new_incidents_only(db, clock):
    """Confirming snapshots the playbook onto the incident; a later edit (here: 48 h → 24 h) applies to
    incidents confirmed afterwards, also after a restart (a new engine with no cached playbooks)."""
    svc = Svc(db, clock)
    old = await new_incident(svc, "III", "L2", title="旧规则下确认")
    await execute(svc, c.Confirm(incident_id=old, actor="zhu_min", at=clock.now()))
    data = svc.playbook.to_dict()
    for rule in data["rules"]:
        if rule["id"] == "GB61-RESPOND-48H":
            rule["limit"] = 24
    svc.playbook = Playbook.from_dict(data)
    new = await new_incident(svc, "III", "L2", title="新规则下确认")
    await execute(svc, c.Confirm(incident_id=new, actor="zhu_min", at=clock.now()))
    clock.advance(30 * H)
    await Engine(svc).tick()
    async with db.read() as conn:
        due = {o.incident_id: o for o in await list_obligations(conn) if o.rule_id == "GB61-RESPOND-48H"}
        hashes = dict((await conn.execute(select(incidents.c.id, incidents.c.playbook_hash))).all())
        events = await list_events(conn, old)
    assert due[old].due_at - due[old].t0 == 48 * H and due[old].status.value == "open"
    assert due[new].due_at - due[new].t0 == 24 * H and due[new].status.value == "breached"
    assert hashes[old] != hashes[new] == svc.playbook.digest
    (snap,) = [e for e in events if e.kind == EventKind.PLAYBOOK_SNAPSHOT]
    assert snap.payload["digest"] == hashes[old]


async def test_several_workers_never_duplicate_an_alert(db, clock):
    svc = Svc(db, clock)
    ids = [await new_incident(svc, "III", "L2", title=f"事件{i}") for i in range(12)]
    for iid in ids:
        await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    clock.advance(50 * H)
    results = await asyncio.gather(*(Engine(svc, batch=3).tick() for _ in range(3)))
    keys = await outbox_keys(db)
    assert len(keys) == len(set(keys))
    async with db.read() as conn:
        breached = list(await conn.execute(select(obligations.c.id).where(obligations.c.status == "breached")))
    assert len(breached) == 12 and sum(r.incidents for r in results) >= 12
    breach_alerts = {k.rsplit(":", 1)[0] for k in keys if ":breach:" in k}
    assert len(breach_alerts) == 12  # one breach alert per incident, whichever worker sent it


class _Crash(Exception):
    pass


async def test_claims_skip_timers_another_worker_holds_and_a_crash_returns_them(db, clock):
    """PostgreSQL: a claim passes over the timers another worker's open transaction holds (SKIP LOCKED)
    instead of waiting for it; when that worker dies, its claim rolls back and the timers are due again."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): claims never run side by side")
    svc = Svc(db, clock)
    ids = [await new_incident(svc, "III", "L2", title=f"事件{i}") for i in range(4)]
    async with db.write() as conn:
        await schedule_timers(conn, [(iid, 0, clock.now() - k * H, "plan") for k, iid in enumerate(ids)], clock.now())
    with pytest.raises(_Crash):
        async with db.write() as first:
            held = await claim_due_timers(first, clock.now(), 2)
            async with db.write() as second:
                await second.execute(text("SET LOCAL lock_timeout = '5s'"))  # a claim that waited would fail
                other = await claim_due_timers(second, clock.now(), 10)
            raise _Crash
    assert len(held) == 2 and {i for _, i, _ in held} == set(ids[2:])  # the earliest due first
    assert {i for _, i, _ in other} == set(ids[:2])
    async with db.write() as conn:
        again = await claim_due_timers(conn, clock.now(), 10)
    assert {i for _, i, _ in again} == set(ids[2:])  # rolled back with the crashed worker: due again


async def test_a_calendar_fix_is_picked_up_without_a_restart(db, clock, tmp_path, caplog):
    holidays = tmp_path / "holidays.yaml"
    holidays.write_text("version: 1\nyears: []\n", encoding="utf-8")
    svc = Svc(db, clock, calendar=load_calendar(holidays))
    clock.set(datetime(2026, 12, 28, 10, tzinfo=timezone(timedelta(hours=8))))
    iid = await new_incident(svc, None, "L3")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    attach = c.AttachRule(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id="GB2014-WEB-SUGGESTION-7WD")
    first = await execute(svc, attach)
    assert "GB2014-WEB-SUGGESTION-7WD" not in {o.rule_id for o in first.obligations}  # 2027 unknown: not guessed
    keys = await outbox_keys(db)
    assert any("problem-calendar" in k and k.endswith(":*") for k in keys)  # duty officers told
    (logged,) = [r.getMessage() for r in caplog.records if "cannot be scheduled" in r.getMessage()]
    assert "GB2014-WEB-SUGGESTION-7WD" in logged and f"{holidays} does not declare 2027" in logged  # operators too
    engine = Engine(svc)
    assert not await engine.refresh_calendar()  # first look: remembers the file's state
    holidays.write_text(
        "version: 1\nyears: [2027]\nrest_days:\n  - {from: 2027-01-01, to: 2027-01-03, name: 元旦}\n", encoding="utf-8"
    )
    os.utime(holidays, ns=(1, 2))  # a different modification time, whatever the file system's resolution
    assert await engine.refresh_calendar()
    clock.advance(H)  # the hourly retry of unschedulable obligations
    await engine.tick()
    async with db.read() as conn:
        web = next(o for o in await list_obligations(conn) if o.rule_id == "GB2014-WEB-SUGGESTION-7WD")
    # 12/28 not counted: 12/29, 12/30, 12/31, (1/1–1/3 off) 1/4, 1/5, 1/6, 1/7 → due 2027-01-08 00:00 +08:00
    assert web.due_at == datetime(2027, 1, 8, tzinfo=timezone(timedelta(hours=8)))
