"""Every incident action runs through the clock engine: what it writes (timeline, obligations,
corrections, evidence), the engine's zh-CN message as a flash, the audit row with before/after,
the live announcement after commit, and the engine's refusals shown with the input kept."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, EventLevel, IncidentStatus, OpinionLevel, UserRole
from monitor.domain import commands as c
from monitor.domain.commitments import Commitment
from monitor.engine.commands import CommandRejected
from monitor.storage.repo.incident_detail import incident_next_due
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.schema import corrections
from monitor.web.actions.dispatch import COMMANDS, snake_case
from monitor.web.actions.specs import ACTIONS, BY_COMMAND
from monitor.web.auth.accounts import issue_token

from .conftest import add_incident, add_item_with_evidence, confirmed_incident, free_item, post_form, run_command

H = timedelta(hours=1)
RELEASE = "GB80-AUTH-RELEASE-5H"
SUGGESTION = "GB2014-WEB-SUGGESTION-7WD"


async def _pause_requested(env, incident: int, by: str = "unit") -> dict[str, Any]:
    until = env.clock.now() + 2 * H
    await run_command(env, c.RequestPause, incident, by, rule_id=RELEASE, until=until, reason="等待事故调查组通报")
    async with env.db.read() as conn:
        events = await list_events(conn, incident)
    [request] = [e for e in events if e.kind == EventKind.PAUSE_REQUESTED]
    return {"request_seq": str(request.seq)}


async def _scene(env, command: str) -> tuple[int, dict[str, Any]]:
    """An incident where `command` is valid, and valid form input for it."""
    now = env.clock.now()
    if command in ("Confirm", "Dismiss"):
        incident = await add_incident(env.db, now, status=IncidentStatus.DETECTED, due_in=None)
        return incident, {"note": "媒体已广泛报道"} if command == "Confirm" else {"reason": "商业广告，与政务无关"}
    incident = await confirmed_incident(env)
    if command == "Merge":
        return incident, {"into_id": str(await confirmed_incident(env, title="东港化工园区爆炸（另一报道）"))}
    forms: dict[str, dict[str, Any]] = {
        "Reassign": {"owner_unit": "housing", "reason": "涉事为住建工地"},
        "Accept": {"note": "已组织核查"},
        "Return": {"reason": "涉事为住建工地，应由住建局处置"},
        "Regrade": {"event_level": "III", "opinion_level": "L2", "reason": "核实死亡人数为 3 人"},
        "SetOccurredAt": {"occurred_at": "2026-09-24T06:10", "reason": "据应急局电话首报"},
        "SetRegion": {"region": "nanshan", "reason": "经核实，事发地位于南山镇"},
        "RecordResponse": {
            "kind": "authoritative_release",
            "url": "https://www.minghu.gov.example/tb/1",
            "approved_by": "马振华",
            "spokesperson": "市应急局新闻发言人 马振华",
            "channel": "press_conference",
            "commitments": "2026-10-10 公布事故调查结果\n2026年10月31日 完成园区安全隐患排查",
        },
        "ReferRumor": {"to": "cyberspace", "note": "网传“死亡10人”系谣言"},
        "RecordReport": {"report_kind": "first", "channel": "phone", "signer": "马振华"},
        "Acknowledge": {"rule_id": RELEASE},
        "RequestPause": {"rule_id": RELEASE, "until": (now + 2 * H).isoformat(), "reason": "等待事故调查组通报"},
        "AttachRule": {"rule_id": SUGGESTION, "reason": "网民在领导留言板提出建议"},
        "DismissCitizenPrompt": {"reason": "系咨询电话，已当场答复"},
        "AddNote": {"text": "已电话联系应急局值班室"},
        "Close": {"reason": "已回应，舆情平息"},
    }
    if command in ("ApprovePause", "RejectPause"):
        form = await _pause_requested(env, incident)
        return incident, form if command == "ApprovePause" else {**form, "reason": "理由不足"}
    if command == "AttachItem":
        return incident, {"item_id": str(await free_item(env)), "reason": "同一事件的现场视频报道"}
    if command == "ExtendDeadline":
        await run_command(env, c.AttachRule, incident, "duty", rule_id=SUGGESTION)
        return incident, {"rule_id": SUGGESTION, "approved_by": "马振华", "reason": "需多部门会商"}
    if command == "FulfilCommitment":
        await run_command(
            env, c.RecordResponse, incident, "duty", kind="authoritative_release", approved_by="马振华",
            url="https://www.minghu.gov.example/tb/1", commitments=(Commitment("公布调查结果", date(2026, 10, 10)),),
        )  # fmt: skip
        return incident, {"number": "1", "disclosed_url": "https://www.minghu.gov.example/tb/9"}
    if command == "Reopen":
        await run_command(env, c.Close, incident, "duty", reason="已回应")
        return incident, {"reason": "出现新的质疑"}
    if command == "RecordEvaluation":
        await run_command(env, c.RecordResponse, incident, "duty", **RESPONSE)
        return incident, {"subsided_at": "2026-09-24T08:40", "satisfaction": "satisfied", "negative_before": "40"}
    if command == "Archive":  # II级: the 终报 due after closing must be recorded first
        await run_command(env, c.Close, incident, "duty", reason="已回应")
        env.clock.advance(H)
        final = {"report_kind": "final", "channel": "written", "signer": "马振华"}
        await run_command(env, c.RecordReport, incident, "duty", **final)
        return incident, {"reason": "月度归档"}
    return incident, forms[command]


RESPONSE: dict[str, Any] = {
    "kind": "authoritative_release",
    "url": "https://www.minghu.gov.example/tb/9",
    "approved_by": "马振华",
}


EXPECTED_EVENT = {
    "Confirm": EventKind.CONFIRMED,
    "Dismiss": EventKind.DISMISSED,
    "Merge": EventKind.MERGED,
    "Reassign": EventKind.REASSIGNED,
    "Accept": EventKind.ACCEPTED,
    "Return": EventKind.RETURNED,
    "Regrade": EventKind.REGRADED,
    "SetOccurredAt": EventKind.OCCURRED_AT_SET,
    "SetRegion": EventKind.REGION_SET,
    "AttachItem": EventKind.ITEM_ATTACHED,
    "RecordResponse": EventKind.RESPONSE_RECORDED,
    "RecordReport": EventKind.REPORT_RECORDED,
    "Acknowledge": EventKind.ACKNOWLEDGED,
    "RequestPause": EventKind.PAUSE_REQUESTED,
    "ApprovePause": EventKind.PAUSE_APPROVED,
    "RejectPause": EventKind.PAUSE_REJECTED,
    "AttachRule": EventKind.RULE_ATTACHED,
    "DismissCitizenPrompt": EventKind.CITIZEN_PROMPT_DISMISSED,
    "ExtendDeadline": EventKind.DEADLINE_EXTENDED,
    "AddNote": EventKind.NOTE_ADDED,
    "Close": EventKind.CLOSED,
    "Reopen": EventKind.REOPENED,
    "RecordEvaluation": EventKind.EVALUATION_RECORDED,
    "Archive": EventKind.ARCHIVED,
    "FulfilCommitment": EventKind.COMMITMENT_FULFILLED,
    "ReferRumor": EventKind.RUMOR_REFERRED,
}


def test_every_engine_command_has_a_form_and_every_form_a_command():
    assert {s.command for s in ACTIONS} == set(COMMANDS)
    assert set(EXPECTED_EVENT) == set(COMMANDS) - {"Split", "Supervise"}  # Split: test_split_moves_items…;
    # Supervise is 政府办's alone (not the admin's these tests sign in as): tests/web/test_supervise.py
    for spec in ACTIONS:  # form field names are the command's keyword arguments
        fields = set(COMMANDS[spec.command].__dataclass_fields__)
        assert {f.name for f in spec.fields} <= fields, spec.command


@pytest.mark.parametrize("command", sorted(EXPECTED_EVENT))
async def test_each_action_runs_through_the_engine_flashes_its_message_audits_and_announces(web_env_any, command):
    env = web_env_any
    incident, form = await _scene(env, command)
    spec = BY_COMMAND[command]
    client = await env.login(UserRole.ADMIN)
    with env.services.changes.subscribe() as changes:
        resp = await post_form(client, f"/incidents/{incident}/actions/{spec.slug}", form)
        assert resp.status == 303, (await resp.text())[:3000]
        assert resp.headers["Location"] == f"/incidents/{incident}#timeline"
        announced = await changes.next()
    assert incident in announced
    async with env.db.read() as conn:
        events = await list_events(conn, incident)
    mine = [e for e in events if e.kind == EXPECTED_EVENT[command] and e.actor == "admin"]
    assert len(mine) == 1, [(e.kind.value, e.actor) for e in events]
    [entry] = await env.audit(f"incident.{snake_case(command)}")
    assert entry.actor == "admin" and entry.target_id == str(incident) and entry.after["via"] == "web"
    assert set(entry.before) >= {"status", "event_level", "owner_unit", "generation", "obligations"}
    assert entry.after["input"].keys() <= set(COMMANDS[command].__dataclass_fields__)
    html = await (await client.get(f"/incidents/{incident}")).text()
    assert f'id="flash">{entry.after["message"]}</p>' in html


async def test_audit_rows_carry_what_changed(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.DUTY_OFFICER)
    form = {"kind": "authoritative_release", "url": "https://www.minghu.gov.example/tb/2", "approved_by": "马振华"}
    assert (await post_form(client, f"/incidents/{incident}/actions/responses", form)).status == 303
    [entry] = await env.audit("incident.record_response")
    assert entry.before["obligations"][RELEASE] == "open" and entry.after["obligations"][RELEASE] == "met"
    # a 重大 incident: its first release starts the continued releases (持续发布)
    assert (entry.before["status"], entry.after["status"]) == ("assigned", "follow_up")
    assert entry.after["generation"] == entry.before["generation"] + 1
    assert entry.after["input"]["approved_by"] == "马振华" and entry.after["message"] == "已登记发布权威信息"
    assert entry.ip == "127.0.0.1" and entry.request_id


async def test_corrections_are_written_once_for_dismiss_reassign_and_regrade(web_env_any):
    env = web_env_any
    client = await env.login(UserRole.DUTY_OFFICER)
    detected = await add_incident(env.db, env.clock.now(), status=IncidentStatus.DETECTED, due_in=None)
    await post_form(client, f"/incidents/{detected}/actions/dismiss", {"reason": "广告"})
    incident = await confirmed_incident(env)
    await post_form(client, f"/incidents/{incident}/actions/reassign", {"owner_unit": "housing", "reason": "工地"})
    form = {"event_level": "III", "opinion_level": "L2", "reason": "核实"}
    await post_form(client, f"/incidents/{incident}/actions/regrade", form)
    form = {"event_type": "fire", "reason": "系仓库火灾，非生产安全事故"}
    resp = await post_form(client, f"/incidents/{incident}/actions/regrade", form)
    assert resp.status == 303
    assert 'id="flash">已更正事件类别</p>' in await (await client.get(f"/incidents/{incident}")).text()
    async with env.db.read() as conn:
        rows = [
            (r.incident_id, r.field, r.old_value, r.new_value, r.actor) for r in await conn.execute(select(corrections))
        ]
    assert sorted(rows) == sorted(
        [
            (detected, "relevant", "True", "False", "duty"),
            (incident, "department", "emergency", "housing", "duty"),
            (incident, "event_level", "II", "III", "duty"),
            (incident, "opinion_level", "L1", "L2", "duty"),
            (incident, "event_type", None, "fire", "duty"),
        ]
    )


async def test_regrade_can_clear_the_event_level_and_the_need_to_respond(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.DUTY_OFFICER)
    form = {"event_level": "none", "requires_response": "no", "reason": "系谣言，已由公安辟谣"}
    assert (await post_form(client, f"/incidents/{incident}/actions/regrade", form)).status == 303
    async with env.db.read() as conn:
        row = await get_incident(conn, incident)
    assert row.event_level is None and row.requires_response is False


async def test_an_engine_refusal_keeps_the_input_and_shows_the_reason(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.DUTY_OFFICER)
    form = {"opinion_level": "L1", "reason": "与原级别相同"}  # the engine: 级别没有变化
    resp = await post_form(client, f"/incidents/{incident}/actions/regrade", form)
    html = await resp.text()
    assert resp.status == 409 and "级别没有变化，请选择新的级别或类别。" in html
    assert "与原级别相同" in html and 'id="action-regrade" open' in html
    assert await env.audit("incident.regrade") == []  # nothing committed, no audit row


async def test_merge_into_a_closed_incident_is_refused_and_both_pages_update_on_success(web_env):
    env = web_env
    incident, other = await confirmed_incident(env), await confirmed_incident(env, title="同一事件另一报道")
    await run_command(env, c.Close, other, "duty", reason="已回应")
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await post_form(client, f"/incidents/{incident}/actions/merge", {"into_id": str(other)})
    assert resp.status == 409 and f"目标事件 #{other} 当前状态为「已办结」，不能并入" in await resp.text()
    target = await confirmed_incident(env, title="第三篇报道")
    with env.services.changes.subscribe() as changes:
        assert (await post_form(client, f"/incidents/{incident}/actions/merge", {"into_id": str(target)})).status == 303
        assert await changes.next() == {incident, target}


async def test_split_moves_items_into_a_new_incident_and_announces_both(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    await add_item_with_evidence(env.db, env.clock.now(), incident, body=b"a", n=1)
    await add_item_with_evidence(env.db, env.clock.now(), incident, body=b"b", n=2)
    client = await env.login(UserRole.DUTY_OFFICER)
    form = [("item_ids", "2"), ("title", "园区周边道路塌陷")]
    resp = await post_form(
        client, f"/incidents/{incident}/actions/split", [("item_ids", "1"), ("item_ids", "2"), ("title", "x")]
    )
    assert resp.status == 400 and "不能是全部稿件" in await resp.text()
    with env.services.changes.subscribe() as changes:
        assert (await post_form(client, f"/incidents/{incident}/actions/split", form)).status == 303
        announced = await changes.next()
    [child] = announced - {incident}
    assert incident in announced
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert f"已拆分出新事件 #{child}" in page and "化工园区爆炸现场报道2" not in page
    child_page = await (await client.get(f"/incidents/{child}")).text()
    assert "园区周边道路塌陷" in child_page and "化工园区爆炸现场报道2" in child_page
    [entry] = await env.audit("incident.split")
    assert entry.after["input"] == {"item_ids": [2], "title": "园区周边道路塌陷"}


async def test_pause_needs_a_second_person(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    admin = await env.login(UserRole.ADMIN)
    until = (env.clock.now() + 2 * H).isoformat()
    form = {"rule_id": RELEASE, "until": until, "reason": "等待调查组通报"}
    assert (await post_form(admin, f"/incidents/{incident}/actions/pause-requests", form)).status == 303
    html = await (await admin.get(f"/incidents/{incident}")).text()
    approve = html.split('id="action-pause-approvals"')[1].split("</details>")[0]
    assert "没有待他人批准的暂停申请" in approve and "申请人以外的另一人批准" in approve
    async with env.db.read() as conn:
        [request] = [e for e in await list_events(conn, incident) if e.kind == EventKind.PAUSE_REQUESTED]
    resp = await post_form(admin, f"/incidents/{incident}/actions/pause-approvals", {"request_seq": str(request.seq)})
    assert resp.status == 400 and "是您本人提出的：暂停须由申请人以外的另一人批准" in await resp.text()
    token = await issue_token(env.db, env.clock, "admin", actor="test")
    resp = await env.client.post(
        f"/api/incidents/{incident}/pause-approvals",
        json={"request_seq": request.seq},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 400 and (await resp.json())["field"] == "request_seq"
    leader = await env.login(UserRole.LEADER)
    html = await (await leader.get(f"/incidents/{incident}")).text()
    assert f"#{request.seq} admin 申请暂停 {RELEASE}" in html
    resp = await post_form(leader, f"/incidents/{incident}/actions/pause-approvals", {"request_seq": str(request.seq)})
    assert resp.status == 303
    async with env.db.read() as conn:
        kinds = [(e.kind, e.actor) for e in await list_events(conn, incident)]
    assert (EventKind.PAUSE_APPROVED, "leader") in kinds
    html = await (await leader.get(f"/incidents/{incident}")).text()
    assert 'data-rule="GB80-AUTH-RELEASE-5H" data-instance="0" data-status="paused"' in html


async def test_the_engine_refuses_a_self_approval_sent_around_the_form(web_env):
    """The web hides one's own requests; the engine is what enforces the rule (e.g. for the API)."""
    env = web_env
    incident = await confirmed_incident(env)
    seq = int((await _pause_requested(env, incident, by="leader"))["request_seq"])
    with pytest.raises(CommandRejected, match="另一人批准"):
        await run_command(env, c.ApprovePause, incident, "leader", request_seq=seq)


async def test_leader_view_acknowledges_in_one_click_and_returns(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env, owner_unit="emergency")
    leader = await env.login(UserRole.LEADER)
    html = await (await leader.get("/leader?hours=6")).text()
    assert f'action="/incidents/{incident}/actions/acknowledge"' in html
    assert f'name="rule_id" value="{RELEASE}"' in html and 'name="return_to" value="/leader?hours=6"' in html
    form = {"rule_id": RELEASE, "return_to": "/leader?hours=6"}
    resp = await post_form(leader, f"/incidents/{incident}/actions/acknowledge", form)
    assert resp.status == 303 and resp.headers["Location"] == "/leader?hours=6"
    html = await (await leader.get("/leader?hours=6")).text()
    assert 'id="flash">已确认收到提醒</p>' in html and "leader 已于" in html
    [entry] = await env.audit("incident.acknowledge")
    assert entry.after["input"] == {"rule_id": RELEASE}
    resp = await post_form(leader, f"/incidents/{incident}/actions/acknowledge", {"return_to": "https://evil.example/"})
    assert resp.headers["Location"] == f"/incidents/{incident}#timeline"  # never an open redirect


async def test_queue_overdue_filter_and_row_follow_the_obligations(web_env_any):
    env = web_env_any
    late = await confirmed_incident(env, title="已超期事件")
    await confirmed_incident(env, title="未超期事件", event_level=EventLevel.IV, opinion_level=OpinionLevel.L3)
    env.clock.advance(timedelta(hours=4, minutes=1))  # the 5-hour release of II级 incidents is now overdue
    client = await env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get("/queue?overdue=1")).text()
    # 5 h release, 30 min phone report and 1 h written report (counted from detection) are overdue
    assert "已超期事件" in html and "未超期事件" not in html and "超期 3 项" in html
    form = {"kind": "authoritative_release", "url": "https://www.minghu.gov.example/tb/3", "approved_by": "马振华"}
    assert (await post_form(client, f"/incidents/{late}/actions/responses", form)).status == 303
    html = await (await client.get("/queue?overdue=1")).text()
    assert "已超期事件" in html and "超期 2 项" in html
    page = await (await client.get(f"/incidents/{late}")).text()
    assert 'data-rule="GB80-AUTH-RELEASE-5H" data-instance="0" data-status="late"' in page and "逾期履行" in page
    for kind in ("phone", "written"):
        form = {"report_kind": "first", "channel": kind, "signer": "马振华"}
        assert (await post_form(client, f"/incidents/{late}/actions/reports", form)).status == 303
    html = await (await client.get("/queue?overdue=1")).text()
    assert "已超期事件" not in html and "暂无符合条件的在办事件" in html
    async with env.db.read() as conn:
        next_due = await incident_next_due(conn, late)
    assert next_due is not None and next_due > env.clock.now()  # the engine moved the queue's sort key on


async def test_occurrence_time_is_entered_and_shown_in_beijing_time_and_moves_the_deadlines(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(env)  # detected 08:00 Beijing; the 5-hour release due 13:00
    client = await env.login(UserRole.DUTY_OFFICER)
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert "未登记（相关时限按发现时间起算）" in page and 'id="action-occurred-at"' in page
    form = {"occurred_at": "2026-09-24T06:10", "reason": "据应急局电话首报"}
    resp = await post_form(client, f"/incidents/{incident}/actions/occurred-at", form)
    assert resp.status == 303, (await resp.text())[:2000]
    async with env.db.read() as conn:
        row = await get_incident(conn, incident)
        due = await incident_next_due(conn, incident)
    assert row.occurred_at == datetime(2026, 9, 23, 22, 10, tzinfo=UTC)  # 06:10 Beijing
    html = await (await client.get(f"/incidents/{incident}")).text()
    assert "<dt>事发时间</dt><dd>2026-09-24 06:10</dd>" in html
    assert "事发时间 未登记 → 09-24 06:10（北京时间）；原因：据应急局电话首报" in html
    assert "已登记事发时间（9月24日 06:10），按事发时间起算的时限已重算" in html
    assert due is not None and due <= datetime(2026, 9, 24, 3, 10, tzinfo=UTC)  # 11:10 Beijing at the latest
    [entry] = await env.audit("incident.set_occurred_at")
    assert entry.after["input"] == {"occurred_at": "2026-09-23T22:10:00+00:00", "reason": "据应急局电话首报"}
    listed = await (await client.get("/api/incidents")).json()
    [mine] = [r for r in listed["incidents"] if r["id"] == incident]
    assert mine["occurred_at"] == "2026-09-23T22:10:00+00:00"
    detail = await (await client.get(f"/api/incidents/{incident}")).json()
    assert detail["incident"]["occurred_at"] == "2026-09-23T22:10:00+00:00"


@pytest.mark.parametrize(
    ("typed", "status", "shown"),
    [
        ("2026-09-24T08:30", 409, "晚于本事件的发现时间 9月24日 08:00：事件须先发生才能被发现"),
        ("2026-09-24T09:30", 400, "不能晚于当前时间"),
        ("昨天早上", 400, "不是有效的时间，请按 2026-09-24 14:30 的格式填写（北京时间）"),
    ],
)
async def test_an_impossible_occurrence_time_is_refused_keeping_what_was_typed(web_env, typed, status, shown):
    env = web_env
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.DUTY_OFFICER)
    form = {"occurred_at": typed, "reason": "据网民爆料，待核实"}
    resp = await post_form(client, f"/incidents/{incident}/actions/occurred-at", form)
    html = await resp.text()
    assert resp.status == status and shown in html
    assert f'value="{typed}"' in html and "据网民爆料，待核实" in html and 'id="action-occurred-at" open' in html
    async with env.db.read() as conn:
        assert (await get_incident(conn, incident)).occurred_at is None
    assert await env.audit("incident.set_occurred_at") == []


async def test_an_analyst_records_an_evaluation_but_cannot_archive_and_bad_shares_are_refused(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    await run_command(env, c.RecordResponse, incident, "duty", **RESPONSE)
    client = await env.login(UserRole.ANALYST)
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert 'id="action-evaluation"' in page and 'id="action-archive"' not in page
    assert "尚未登记效果评估" in page
    bad = {"subsided_at": "2026-09-24T08:40", "satisfaction": "satisfied", "negative_before": "120"}
    resp = await post_form(client, f"/incidents/{incident}/actions/evaluation", bad)
    assert resp.status == 400
    assert "「回应前负面占比（%）」应为 0 到 100 之间的整数" in await resp.text()
    async with env.db.read() as conn:
        assert not [e for e in await list_events(conn, incident) if e.kind == EventKind.EVALUATION_RECORDED]
    good = {**bad, "negative_before": "40", "negative_after": "5", "notes": "回访 20 户，18 户满意"}
    assert (await post_form(client, f"/incidents/{incident}/actions/evaluation", good)).status == 303
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert "满意度：满意" in page and "负面占比 40% → 5%" in page and "回访 20 户，18 户满意" in page
    assert 'value="2026-09-24T08:40"' in page  # the form now starts from the recorded evaluation
    assert (await post_form(client, f"/incidents/{incident}/actions/archive", {})).status == 403
    data = await (await client.get(f"/api/incidents/{incident}")).json()
    assert data["evaluation"]["satisfaction"] == "satisfied" and data["evaluation"]["negative_after"] == 5
    assert (
        data["evaluation"]["subsided_at"] == "2026-09-24T00:40:00+00:00" and data["archived"] is None
    )  # UTC, as all API times


async def test_an_archived_incident_says_so_and_a_reopen_is_refused_with_the_reason(web_env):
    env = web_env
    incident, form = await _scene(env, "Archive")
    client = await env.login(UserRole.DUTY_OFFICER)
    assert (await post_form(client, f"/incidents/{incident}/actions/archive", form)).status == 303
    page = await (await client.get(f"/incidents/{incident}")).text()
    assert "由 duty 归档（月度归档）" in page and "不在默认视图中，不能重新打开" in page
    assert "已归档" in page and "尚未登记效果评估" in page  # archived without one: said, not hidden
    resp = await post_form(client, f"/incidents/{incident}/actions/reopen", {"reason": "舆情反弹"})
    assert resp.status == 409 and "归档后不能重新打开" in await resp.text()
    queue = await (await client.get("/queue")).text()
    assert f'data-id="{incident}"' not in queue
