"""交办 / 认领 / 退回 and 改派 (DOMAIN.md §4.1, §4.4): what each records, whom it alerts (exactly
once, across restarts), who may do it, and local rules counted from 认领."""

import dataclasses
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, IncidentStatus
from monitor.domain import commands as c
from monitor.domain.playbooks import Playbook
from monitor.engine.commands import CommandRejected, execute
from monitor.engine.runner import Engine
from monitor.policy import PolicyError
from monitor.policy.playbooks import load_policy
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.schema import outbox
from monitor.web.timeline import event_summary

from .engine_support import POLICY, REPO, Svc, new_incident

H, MIN = timedelta(hours=1), timedelta(minutes=1)
RESPOND = "GB61-RESPOND-48H"
EMERGENCY_LIAISON, WATER_LIAISON = "zhao_lei", "xia_tianyu"
DUTY_OFFICERS = {"zhu_min", "qin_hao", "xu_ting", "lv_liang"}


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


def _plain(rows) -> list[str]:
    """Rung names without the 交办's seq in 待认领 reminders (assigned@17#2 → assigned#2)."""
    return [re.sub(r"@\d+#", "#", r.payload["step"]) for r in rows]


def _cmd(cls, svc, iid, actor="zhu_min", **kw):
    return cls(incident_id=iid, actor=actor, at=svc.clock.now(), **kw)


async def test_confirmation_is_the_first_assignment(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    inc = await _incident(db, iid)
    assert inc.status == IncidentStatus.ASSIGNED and inc.assigned_at == clock.now() and inc.accepted_at is None
    [assigned] = await _events(db, iid, EventKind.ASSIGNED)
    assert assigned.payload == {"unit": "emergency"} and assigned.actor == "zhu_min"
    assert [r.payload["step"] for r in await _rows(db, recipient=EMERGENCY_LIAISON)] == ["assigned"]


async def test_an_incident_without_an_owner_is_assigned_by_its_first_reassign(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2", owner_unit=None)
    inc = await _incident(db, iid)
    assert inc.status == IncidentStatus.ASSESSED and inc.assigned_at is None
    assert await _events(db, iid, EventKind.ASSIGNED) == []
    assert {r.recipient for r in await _rows(db)} == DUTY_OFFICERS  # the 交办 rung asks them to assign it
    clock.advance(10 * MIN)
    result = await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="water", reason="停水属水务"))
    assert result.message == "已改派并交办给「明湖市水务局」，已提醒其认领"  # no former unit to stop
    inc = await _incident(db, iid)
    assert (inc.status, inc.owner_unit, inc.assigned_at) == (IncidentStatus.ASSIGNED, "water", clock.now())
    [assigned] = await _events(db, iid, EventKind.ASSIGNED)
    assert [r.payload["step"] for r in await _rows(db, recipient=WATER_LIAISON)] == [f"assigned@{assigned.seq}"]


async def test_reassign_alerts_the_new_unit_at_once_exactly_once_and_stops_the_old_units_alerts(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")  # 09:00 (the simulation's case)
    [old_assigned] = await _rows(db, recipient=EMERGENCY_LIAISON)
    clock.advance(10 * MIN)
    await execute(svc, _cmd(c.Acknowledge, svc, iid, actor=EMERGENCY_LIAISON))  # the old unit's ack …
    clock.advance(20 * MIN)
    result = await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="water", reason="停水属水务"))
    assert result.alerts == 1  # … silences nothing for the new unit
    [_, assigned] = await _events(db, iid, EventKind.ASSIGNED)
    assert assigned.payload == {"unit": "water", "from": "emergency", "reason": "停水属水务"}
    [new] = await _rows(db, recipient=WATER_LIAISON)
    assert (new.payload["step"], new.status, new.payload["incident"]["owner_unit"]) == (
        f"assigned@{assigned.seq}",
        "pending",
        "water",
    )
    assert new.payload["rule"]["id"] == RESPOND and new.created_at == clock.now()
    [old] = await _rows(db, id=old_assigned.id)
    assert old.status == "cancelled" and "已改派给「明湖市水务局」" in old.last_error
    inc = await _incident(db, iid)
    assert (inc.status, inc.assigned_at, inc.accepted_at) == (IncidentStatus.ASSIGNED, clock.now(), None)
    [moved] = [e for e in await _events(db, iid, EventKind.STATUS_CHANGED) if e.seq > assigned.seq]
    assert moved.payload["path"] == ["reassigned", "assigned"]

    for _ in range(2):  # deciding again, and after a restart (a new engine), sends nothing twice
        await Engine(svc).tick()
        await execute(svc, _cmd(c.AddNote, svc, iid, text="已电话通知水务局"))
    assert len(await _rows(db, recipient=WATER_LIAISON)) == 1

    clock.advance(23 * H + 30 * MIN)  # the half-time warning reaches the new unit only
    await Engine(svc).tick()
    steps = [r.payload["step"] for r in await _rows(db, recipient=WATER_LIAISON)]
    assert steps == [f"assigned@{assigned.seq}", "warn-half"]
    assert len(await _rows(db, recipient=EMERGENCY_LIAISON)) == 1


def _repeating_assignment() -> Playbook:
    """The standard ladder with a 交办 reminder every hour until the unit accepts."""
    book = POLICY.playbook
    ladder = book.ladders["standard"]
    steps = tuple(dataclasses.replace(s, repeat=H, max_repeats=5) if s.announces else s for s in ladder.steps)
    return dataclasses.replace(book, ladders={**book.ladders, "standard": dataclasses.replace(ladder, steps=steps)})


async def test_accept_records_acceptance_moves_to_handling_and_stops_the_assignment_reminder(db, clock):
    svc = Svc(db, clock, playbook=_repeating_assignment())
    iid = await _confirmed(svc, "III", "L2")
    clock.advance(H + MIN)
    await Engine(svc).tick()
    assert _plain(await _rows(db, recipient=EMERGENCY_LIAISON)) == ["assigned", "assigned#2"]  # 2 h after the 交办
    with pytest.raises(CommandRejected, match="责任单位是「明湖市应急管理局」，您所在的「明湖市水务局」不能认领"):
        await execute(svc, _cmd(c.Accept, svc, iid, actor="water_handler", units=("water",)))
    with pytest.raises(CommandRejected, match="您的账户未关联单位"):
        await execute(svc, _cmd(c.Accept, svc, iid, actor="nobody", units=()))
    result = await execute(svc, _cmd(c.Accept, svc, iid, actor="unit_em", units=("emergency",), note="已组织核查"))
    assert result.message == "已认领，事件转入处置"
    inc = await _incident(db, iid)
    assert (inc.status, inc.accepted_at) == (IncidentStatus.HANDLING, clock.now())
    [accepted] = await _events(db, iid, EventKind.ACCEPTED)
    assert accepted.payload == {"unit": "emergency", "note": "已组织核查", "on_behalf": False}
    with pytest.raises(CommandRejected, match=r"已于 .* 认领本事件，无需重复认领"):
        await execute(svc, _cmd(c.Accept, svc, iid))
    clock.advance(5 * H)
    await Engine(svc).tick()
    steps = _plain(await _rows(db, recipient=EMERGENCY_LIAISON))
    assert steps == ["assigned", "assigned#2"]  # no reminder after 认领; the other rungs still run


async def test_a_duty_officer_accepts_on_the_units_behalf(db, clock):
    svc = Svc(db, clock)
    detected = await new_incident(svc, "III", "L2")
    with pytest.raises(CommandRejected, match="尚未研判确认"):
        await execute(svc, _cmd(c.Accept, svc, detected))
    iid = await _confirmed(svc, "III", "L2", title="城北停水")
    result = await execute(svc, _cmd(c.Accept, svc, iid))
    assert result.message == "已代「明湖市应急管理局」认领"
    [accepted] = await _events(db, iid, EventKind.ACCEPTED)
    assert accepted.payload["on_behalf"] is True and accepted.actor == "zhu_min"


async def test_return_needs_a_reason_alerts_the_duty_officers_once_and_waits_for_reassign(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2", title="城北停水")
    clock.advance(20 * MIN)
    with pytest.raises(CommandRejected, match="请填写退回理由"):
        await execute(svc, _cmd(c.Return, svc, iid, actor="unit_em", units=("emergency",), reason="  "))
    with pytest.raises(CommandRejected, match="您所在的「明湖市住房和城乡建设局」不能退回"):
        await execute(svc, _cmd(c.Return, svc, iid, actor="unit_h", units=("housing",), reason="不归我们"))
    reason = "停水属供水管网故障，应由水务局处置"
    result = await execute(svc, _cmd(c.Return, svc, iid, actor="unit_em", units=("emergency",), reason=reason))
    assert result.message.startswith("已退回，已提醒值班员改派")
    inc = await _incident(db, iid)
    assert (inc.status, inc.returned_reason, inc.status.label) == (IncidentStatus.REASSIGNED, reason, "退回待改派")
    [returned] = await _events(db, iid, EventKind.RETURNED)
    assert returned.payload == {"unit": "emergency", "reason": reason, "on_behalf": False}
    alerts = await _rows(db, kind="returned")
    assert {r.recipient for r in alerts} == DUTY_OFFICERS and all(r.urgent for r in alerts)
    assert alerts[0].payload["returned_reason"] == reason and "被明湖市应急管理局退回" in alerts[0].payload["text"]
    for _ in range(2):
        await Engine(svc).tick()
        await execute(svc, _cmd(c.AddNote, svc, iid, text="正在核实"))
    assert len(await _rows(db, kind="returned")) == len(DUTY_OFFICERS)
    with pytest.raises(CommandRejected, match="已退回，正等待值班员改派"):
        await execute(svc, _cmd(c.Return, svc, iid, actor="unit_em", units=("emergency",), reason=reason))
    with pytest.raises(CommandRejected, match="已由「明湖市应急管理局」退回"):
        await execute(svc, _cmd(c.Accept, svc, iid, actor="unit_em", units=("emergency",)))

    result = await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="water", reason="同意退回理由"))
    inc = await _incident(db, iid)
    assert (inc.status, inc.owner_unit, inc.returned_reason) == (IncidentStatus.ASSIGNED, "water", reason)
    [handover] = await _rows(db, recipient=WATER_LIAISON)
    assert handover.payload["step"].startswith("assigned@")
    await execute(svc, _cmd(c.Accept, svc, iid, actor="unit_w", units=("water",)))
    assert (await _incident(db, iid)).status == IncidentStatus.HANDLING


async def test_reassign_to_the_same_unit_only_after_a_return(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    with pytest.raises(CommandRejected, match="责任单位已是「明湖市应急管理局」，无需改派"):
        await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="emergency", reason="x"))
    await execute(svc, _cmd(c.Return, svc, iid, actor="unit_em", units=("emergency",), reason="非本单位职责"))
    result = await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="emergency", reason="经研判仍属应急局"))
    assert (await _incident(db, iid)).status == IncidentStatus.ASSIGNED and result.alerts == 1


async def test_after_a_response_a_reassign_hands_over_without_moving_the_stage_back(db, clock):
    from monitor.domain import ResponseKind

    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    response = _cmd(
        c.RecordResponse,
        svc,
        iid,
        kind=ResponseKind.WEBSITE_REPLY,
        url="https://www.minghu.gov.example/r/1",
        approved_by="马振华",
    )
    await execute(svc, response)
    with pytest.raises(CommandRejected, match="已公开回应"):
        await execute(svc, _cmd(c.Return, svc, iid, actor="unit_em", units=("emergency",), reason="不归我们"))
    await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="water", reason="后续发布由水务局负责"))
    inc = await _incident(db, iid)
    assert (inc.status, inc.owner_unit, inc.assigned_at) == (IncidentStatus.RESPONDED, "water", clock.now())


WANBU = """\
version: 1
extends: {extends}
jurisdiction: 万埠镇（测试）
add:
  - id: WANBU-VERIFY-24H
    title: 认领后24小时内形成核实调查报告
    action: first_response
    clock: natural_hours
    limit_h: 24
    t0: accepted_at
    applies_if: {{requires_response: true}}
    met_by: [website_reply]
    ladder: standard
    source: 万埠镇政务舆情工作制度
    status: L
"""


def _wanbu(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "wanbu.yaml"
    rules = os.path.relpath(REPO / "playbooks" / "rules.yaml", tmp_path)
    path.write_text(WANBU.format(extends=rules) + extra, encoding="utf-8")
    return path


async def test_a_local_rule_counts_from_acceptance(db, clock, tmp_path):
    book = load_policy(_wanbu(tmp_path)).playbook
    assert book.rule("WANBU-VERIFY-24H").t0.value == "accepted_at"
    svc = Svc(db, clock, playbook=book)
    iid = await _confirmed(svc, "III", "L2")
    confirmed_at = clock.now()

    def due(result):
        return next(o for o in result.obligations if o.rule_id == "WANBU-VERIFY-24H")

    clock.advance(3 * H)  # before 认领 it counts from 交办
    noted = await execute(svc, _cmd(c.AddNote, svc, iid, text="待认领"))
    assert (due(noted).t0, due(noted).due_at) == (confirmed_at, confirmed_at + 24 * H)
    accepted = await execute(svc, _cmd(c.Accept, svc, iid, actor="unit_em", units=("emergency",)))
    assert (due(accepted).t0, due(accepted).due_at) == (clock.now(), clock.now() + 24 * H)
    assert {o.rule_id: o.t0 for o in accepted.obligations}[RESPOND] == confirmed_at  # national rules unchanged
    clock.advance(H)
    moved = await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="water", reason="属水务"))
    assert due(moved).t0 == clock.now()  # the new unit's 交办, until it accepts


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("    attach: unconfirmed\n", "cannot start a rule that applies awaiting 研判"),
        ("    cadence_h: 12\n    starts_after: [website_reply]\n", "recurring rules"),
    ],
)
def test_check_playbooks_rejects_acceptance_where_there_is_none(tmp_path, change, problem):
    text = _wanbu(tmp_path).read_text(encoding="utf-8")
    if "cadence_h" in change:
        text = text.replace("    limit_h: 24\n", "")
    (tmp_path / "wanbu.yaml").write_text(text + change, encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load_policy(tmp_path / "wanbu.yaml")
    assert "wanbu.yaml:" in str(exc.value) and problem in str(exc.value) and "fix:" in str(exc.value)


def test_check_playbooks_command_accepts_accepted_at(tmp_path, capsys):
    from monitor.cli import main

    path = _wanbu(tmp_path)
    assert main(["--set", f"playbook_file={path}", "check-playbooks"]) == 0
    assert f"{path}: ok (in use) — 万埠镇（测试）" in capsys.readouterr().out


SCENARIO = """\
start: 2026-09-28T09:00:00+08:00
run_until: 2026-09-29T12:00:00+08:00
incidents:
  - id: R
    title: 城北停水三十多个小时无人通知
    detected_at: 2026-09-28T09:00:00+08:00
    event_level: null
    opinion_level: L2
    department: 应急管理局
    actions:
      - {at: 2026-09-28T09:30:00+08:00, do: reassign, department: 水务局, reason: 停水属水务, by: 朱敏}
      - {at: 2026-09-28T10:00:00+08:00, do: return, reason: 系供电故障, by: 夏天宇}
      - {at: 2026-09-28T10:20:00+08:00, do: reassign, department: 发展和改革委员会, reason: 供电属发改委, by: 朱敏}
      - {at: 2026-09-28T11:00:00+08:00, do: accept, note: 已联系供电公司, by: 龚博}
"""


def test_the_simulation_tells_each_new_unit_at_the_reassign_not_a_day_later(tmp_path):
    import json

    from monitor.cli import main

    scenario, out = tmp_path / "reassign.yaml", tmp_path / "out.jsonl"
    scenario.write_text(SCENARIO, encoding="utf-8")  # departments by name, as for the incident
    assert main(["simulate", "--scenario", str(scenario), "--output", str(out)]) == 0
    notes = [x for x in map(json.loads, out.read_text(encoding="utf-8").splitlines()) if x["type"] == "notify"]
    seen = [(x["at"][11:16], re.sub(r"@\d+", "", x["step"]).split("-")[0], x["people"]) for x in notes]
    # 待认领 reminders come 2 h after a 交办: each unit here 改派'd, 退回'd or 认领'd sooner
    assert not [x for x in seen if x[1].startswith("assigned#")]
    assert seen[:5] == [
        ("09:00", "assigned", ["zhao_lei"]),  # 应急管理局 at confirmation
        ("09:30", "assigned", ["xia_tianyu"]),  # 水务局 at the 改派, not at 09:00 the next day
        ("10:00", "returned", sorted(DUTY_OFFICERS, key=["zhu_min", "qin_hao", "xu_ting", "lv_liang"].index)),
        ("10:20", "assigned", ["gong_bo"]),  # 发改委
        ("09:00", "warn", ["gong_bo"]),  # the half-time warning reaches the owner of the day
    ]


async def test_the_duty_officers_return_alert_reads_with_its_reason_and_no_acknowledge_button(db, clock):
    from monitor.domain import ChannelKind
    from monitor.notifications import render
    from monitor.notifications.model import Alert, Destination, Message
    from monitor.storage.repo.outbox import rows_by_ids

    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2", title="城北停水")
    await execute(svc, _cmd(c.Return, svc, iid, actor="unit_em", units=("emergency",), reason="属水务局职责"))
    [row] = await _rows(db, kind="returned", recipient="zhu_min")
    async with db.read() as conn:
        [claimed] = await rows_by_ids(conn, [row.id])
    alert = Alert.from_row(claimed)
    message = Message("m1", Destination(ChannelKind.SLACK, "slack:U1", "U1"), [alert], [claimed])
    ctx = render.Context(clock.now(), "https://yuqing.example")
    text = render.plain_text(message, ctx)
    assert text.startswith("【退回待改派】城北停水") and "退回理由：属水务局职责" in text
    assert "责任单位：明湖市应急管理局" in text and "查看：https://yuqing.example/incidents/" in text
    buttons = [e for b in render.slack_blocks(message, ctx) if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["view"]  # 确认收到 would acknowledge every deadline


async def test_an_overdue_incident_reassigned_tells_the_new_unit_it_is_overdue_and_who_was_told(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    clock.advance(49 * H)  # past the 48-hour deadline: the breach reached 应急管理局's liaison and 分管领导
    await Engine(svc).tick()
    before = {r.id for r in await _rows(db)}
    await execute(svc, _cmd(c.Reassign, svc, iid, owner_unit="water", reason="停水属水务"))
    new = [r for r in await _rows(db) if r.id not in before and r.status == "pending"]
    assert {(r.recipient, r.kind) for r in new} == {
        (WATER_LIAISON, "deadline_breach"),
        ("dai_yufen", "deadline_breach"),
    }
    assert new[0].payload["text"].startswith("【超期】") and "责任单位：明湖市水务局" in new[0].payload["text"]


# --- the shipped 待认领 reminder (playbooks/ladders.yaml, standard ladder) -------------------------

EMERGENCY_DEPUTY = "fu_qiang"


async def _steps(db, person):
    return _plain(await _rows(db, recipient=person))


async def test_the_shipped_playbook_reminds_the_unit_every_2h_until_it_accepts(db, clock):
    """A 一般 opinion 交办'd to the 应急管理局: its 联络员 is reminded every 2 h, from the first
    reminder with its 分管领导, in words that ask for 认领; 认领 stops the reminders, the
    deadline's own rungs go on; ticking again or restarting the engine sends nothing twice."""
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2")
    assert await _steps(db, EMERGENCY_LIAISON) == ["assigned"]
    assert await _steps(db, EMERGENCY_DEPUTY) == []  # the 交办 itself goes to the 联络员
    for _ in range(2):
        clock.advance(2 * H)
        for _ in range(2):  # a second tick, and a new engine (a restart), add nothing
            await Engine(svc).tick()
    assert await _steps(db, EMERGENCY_LIAISON) == ["assigned", "assigned#2", "assigned#3"]
    assert await _steps(db, EMERGENCY_DEPUTY) == ["assigned#2", "assigned#3"]
    [reminder, *_] = await _rows(db, recipient=EMERGENCY_DEPUTY)
    assert "【待认领】" in reminder.payload["text"] and "尚未认领" in reminder.payload["text"]
    assert "尽快认领" in reminder.payload["instruction"]
    [shown, *_] = [e for e in await _events(db, iid, EventKind.ESCALATED) if "#" in e.payload["step"]]
    assert event_summary(shown, svc.org).startswith("待认领提醒 · GB61-RESPOND-48H（截止 ")
    clock.advance(H)
    await execute(svc, _cmd(c.Accept, svc, iid, actor="unit_em", units=("emergency",)))
    clock.advance(19 * H)  # 24 h after confirmation: the half-time warning, no reminder since 认领
    await Engine(svc).tick()
    assert await _steps(db, EMERGENCY_LIAISON) == ["assigned", "assigned#2", "assigned#3", "warn-half"]
    assert await _steps(db, EMERGENCY_DEPUTY) == ["assigned#2", "assigned#3"]


async def test_reminders_come_once_however_many_obligations_and_not_to_co_units(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc, "III", "L2", co_units=("housing",))
    await execute(svc, _cmd(c.AttachRule, svc, iid, rule_id="OGI-REPLY-20WD", reason="依申请公开"))
    clock.advance(2 * H + MIN)
    await Engine(svc).tick()
    reminders = [r for r in await _rows(db, recipient=EMERGENCY_LIAISON) if "#" in r.payload["step"]]
    assert [(r.payload["rule"]["id"], _plain([r])[0]) for r in reminders] == [(RESPOND, "assigned#2")]
    housing = await _rows(db, recipient="wang_chenyang")  # the co-unit's 联络员: the 交办 notice only
    assert housing and all("#" not in r.payload["step"] for r in housing)


async def test_no_reminders_for_major_emergencies_nor_after_a_return(db, clock):
    svc = Svc(db, clock)
    major = await _confirmed(svc, "II", "L1", title="东港化工园区爆炸")
    returned = await _confirmed(svc, "III", "L2", title="城北停水")
    await execute(svc, _cmd(c.Return, svc, returned, actor="unit_em", units=("emergency",), reason="停水属水务"))
    clock.advance(4 * H + MIN)
    await Engine(svc).tick()
    rows = [r for r in await _rows(db) if r.incident_id in (major, returned)]
    assert rows and not [r.payload["step"] for r in rows if r.payload.get("reminder")]
    # 改派 to the 水务局: a new 交办 — one alert at once (standing for the reminders the returning
    # unit was spared), then a reminder every 2 h until it accepts
    await execute(svc, _cmd(c.Reassign, svc, returned, owner_unit="water", reason="停水属水务"))
    handover = [e for e in await _events(db, returned, EventKind.ESCALATED) if WATER_LIAISON in e.payload["people"]]
    assert len(handover) == 1 and any(s.startswith("assigned@") for s in handover[0].payload["steps"])
    clock.advance(2 * H)
    await Engine(svc).tick()
    water = await _steps(db, WATER_LIAISON)
    assert water[1:] == ["assigned#2"] and water[0].startswith("assigned@"), water  # 2 h after the 改派


def test_repeat_roles_need_a_repeat(tmp_path):
    import shutil

    from monitor.policy.playbooks import load_policy as load

    dest = tmp_path / "playbooks"
    shutil.copytree(REPO / "playbooks", dest, ignore=shutil.ignore_patterns("org", "scenarios"))
    ladders = dest / "ladders.yaml"
    text = ladders.read_text(encoding="utf-8")
    ladders.write_text(text.replace("repeat_h: 2, max_repeats: 11, ", "", 1), encoding="utf-8")
    with pytest.raises(PolicyError) as exc:
        load(dest / "rules.yaml")
    assert "repeat_roles" in str(exc.value) and "ladders.yaml:" in str(exc.value) and "repeat_h" in exc.value.fix
