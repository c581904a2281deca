"""政府办督查 on the web, and the duty queue's status filter: every status or filter it offers finds
the incident the service put there (SQLite and PostgreSQL); 超期 and 已升级 are computed from the
obligations, 督办中 and 持续发布 are set by commands; the leader view says which are which."""

import re
from datetime import timedelta

from monitor.domain import EventKind, EventLevel, IncidentStatus, OpinionLevel, UserRole
from monitor.domain import commands as c
from monitor.domain.evaluation import Satisfaction
from monitor.engine.runner import Engine
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.web.queue import DERIVED_STATUSES, WORKFLOW_STATUSES

from .conftest import add_incident, confirmed_incident, post_form, run_command

H = timedelta(hours=1)
RESPONSE = {"kind": "authoritative_release", "approved_by": "马振华", "url": "https://www.minghu.gov.example/tb/9"}
SUPERVISION = {"level": "urge", "reason": "5小时发布权威信息时限已过，请立即发布", "by": "市政府办公室督查科 蒋文博"}


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/incidents/\d+">([^<]+)</a>', html)


async def _scene(env) -> dict[str, int]:
    """One incident in each offered status, put there by the engine's commands (as people would)."""
    general = {"event_level": EventLevel.III, "opinion_level": OpinionLevel.L2}
    ids = {
        "detected": await add_incident(
            env.db, env.clock.now(), title="待研判", status=IncidentStatus.DETECTED, due_in=None,
            event_level=None, opinion_level=OpinionLevel.L3,
        ),
        "assessed": await confirmed_incident(env, title="待交办", owner_unit=None, **general),
        "assigned": await confirmed_incident(env, title="待认领", **general),
        "handling": await confirmed_incident(env, title="处置中的", **general),
        "responded": await confirmed_incident(env, title="已回应的", **general),
        "follow_up": await confirmed_incident(env, title="重大持续发布"),
        "reassigned": await confirmed_incident(env, title="被退回的", **general),
        "supervised": await confirmed_incident(env, title="被催办的", **general),
        "evaluated": await confirmed_incident(env, title="已评估的", **general),
        "escalated": await confirmed_incident(env, title="重大超期"),
    }  # fmt: skip
    await run_command(env, c.Accept, ids["handling"], "duty")
    await run_command(env, c.RecordResponse, ids["responded"], "duty", **RESPONSE)
    await run_command(env, c.RecordResponse, ids["follow_up"], "duty", **RESPONSE)
    await run_command(env, c.Return, ids["reassigned"], "duty", reason="属水务局职责")
    await run_command(env, c.RecordResponse, ids["evaluated"], "duty", **RESPONSE)
    await run_command(
        env,
        c.RecordEvaluation,
        ids["evaluated"],
        "duty",
        subsided_at=env.clock.now(),
        satisfaction=Satisfaction.SATISFIED,
    )
    gov = await env.login(UserRole.GOV_OFFICE)
    resp = await post_form(gov, f"/incidents/{ids['supervised']}/actions/supervise", SUPERVISION)
    assert resp.status == 303, (await resp.text())[:2000]
    return ids


async def test_every_status_the_queue_offers_finds_the_incident_the_service_put_there(web_env_any):
    env = web_env_any
    ids = await _scene(env)
    env.clock.advance(6 * H)  # past the 5-hour release of the 重大 incident, and the 1-hour 研判
    await Engine(env.services).tick()
    client = await env.login(UserRole.DUTY_OFFICER)
    page = await (await client.get("/queue")).text()
    offered = re.findall(r'<option value="(\w+)"', page.split('name="status"', 1)[1].split("</select>", 1)[0])
    assert offered == [s.value for s in WORKFLOW_STATUSES] + [v for v, _ in DERIVED_STATUSES]
    assert "reported" not in offered  # nothing sets it: not offered

    async def shown(status: str) -> set[int]:
        html = await (await client.get(f"/queue?status={status}")).text()
        assert "无效" not in html, status
        return {int(i) for i in re.findall(r'<tr data-id="(\d+)"', html)}

    for status in WORKFLOW_STATUSES:
        also = {ids["escalated"]} if status == IncidentStatus.ASSIGNED else set()  # 重大超期: still 已交办
        assert await shown(status.value) == {ids[status.value]} | also, status
    overdue = await shown("overdue")
    assert {ids["detected"], ids["escalated"]} <= overdue and ids["responded"] not in overdue
    # 已升级: the 重大 incidents' breach reached 分管领导/主要负责人; the 研判 breach only the duty officers
    escalated = await shown("escalated")
    assert ids["escalated"] in escalated and ids["detected"] not in escalated and escalated <= overdue
    assert await shown("escalated&status=detected") == escalated | {ids["detected"]}  # any of the chosen
    row = (await (await client.get("/queue?status=escalated")).text()).split(f'data-id="{ids["escalated"]}"', 1)[1]
    row = row.split("</tr>", 1)[0]
    assert "超期 " in row and "已升级 " in row and "已交办" in row  # the stage stays; lateness shown beside it


async def test_gov_office_supervises_on_the_incident_page_and_the_record_shows_there(web_env_any):
    env = web_env_any
    incident = await confirmed_incident(
        env, title="城北停水", event_level=EventLevel.III, opinion_level=OpinionLevel.L2
    )
    gov = await env.login(UserRole.GOV_OFFICE)
    page = await (await gov.get(f"/incidents/{incident}")).text()
    assert 'id="action-supervise"' in page and "督查方式" in page and "提醒" in page and "通报" in page
    bad = await post_form(gov, f"/incidents/{incident}/actions/supervise", {**SUPERVISION, "reason": ""})
    assert bad.status == 400 and "「事由与要求」为必填项" in await bad.text()
    resp = await post_form(gov, f"/incidents/{incident}/actions/supervise", SUPERVISION)
    assert resp.status == 303
    page = await (await gov.get(f"/incidents/{incident}")).text()
    assert "已催办，已通知「明湖市应急管理局」" in page
    assert "督办记录" in page and "5小时发布权威信息时限已过，请立即发布" in page and "督办中" in page
    assert "催办 明湖市应急管理局：5小时发布权威信息时限已过" in page  # the timeline line
    assert "催办通知 → 联络员、分管领导" in page
    async with env.db.read() as conn:
        assert (await get_incident(conn, incident)).status == IncidentStatus.SUPERVISED
        [record] = [e for e in await list_events(conn, incident) if e.kind == EventKind.SUPERVISED]
    assert record.actor == "gov" and record.payload["level"] == "urge"
    [entry] = await env.audit("incident.supervise")
    assert entry.after["status"] == "supervised" and entry.after["input"]["level"] == "urge"
    duty = await env.login(UserRole.DUTY_OFFICER)
    assert (await post_form(duty, f"/incidents/{incident}/actions/supervise", SUPERVISION)).status == 403


async def test_the_leader_view_marks_escalated_and_supervised_incidents(web_env_any):
    env = web_env_any
    escalated = await confirmed_incident(env, title="重大超期")
    supervised = await confirmed_incident(
        env, title="被督办的", event_level=EventLevel.III, opinion_level=OpinionLevel.L2
    )
    await run_command(env, c.Supervise, supervised, "gov", level="supervise", reason="请加快处置", by="市政府办")
    env.clock.advance(6 * H)
    await Engine(env.services).tick()
    leader = await env.login(UserRole.LEADER)
    html = await (await leader.get("/leader?hours=72")).text()
    row = html.split(f'data-incident="{escalated}"', 1)[1].split("</tr>", 1)[0]
    assert "已升级至领导" in row
    row = html.split(f'data-incident="{supervised}"', 1)[1].split("</tr>", 1)[0]
    assert "督办中" in row and "已升级至领导" not in row
    assert re.search(r'其中已升级至领导 <span id="escalated">[1-9]\d*</span> 项', html)
    assert '督办中 <span id="supervised">1</span> 起' in html
    data = await (await leader.get("/leader/rows?hours=72")).json()
    assert data["supervised"] == 1 and data["escalated"] >= 1


async def test_the_api_filters_overdue_and_escalated_and_counts_them(web_env_any):
    from sqlalchemy import update

    from monitor.storage.schema import obligations
    from monitor.web.auth.accounts import issue_token

    env = web_env_any
    now = env.clock.now()
    late = await add_incident(env.db, now, title="超期", due_in=-H, obligation=True)
    await add_incident(env.db, now, title="未超期", due_in=3 * H, obligation=True)
    token = await issue_token(env.db, env.clock, "duty", actor="test")

    async def listed(query: str) -> list[dict]:
        resp = await env.client.get(f"/api/incidents?{query}", headers={"Authorization": f"Bearer {token}"})
        body = await resp.json()
        assert resp.status == 200 and body["warnings"] == [], body
        return body["incidents"]

    [row] = await listed("status=overdue")
    assert (row["id"], row["overdue"], row["escalated"]) == (late, 1, 0)
    assert await listed("status=escalated") == []
    async with env.db.write() as conn:  # what the engine records once the breach reaches a leader
        await conn.execute(update(obligations).where(obligations.c.incident_id == late).values(escalated_at=now))
    [row] = await listed("status=escalated")
    assert (row["id"], row["escalated"]) == (late, 1)
    spec = await (await env.client.get("/api/openapi.json")).json()
    [status] = [p for p in spec["paths"]["/api/incidents"]["get"]["parameters"] if p["name"] == "status"]
    assert "overdue（超期" in status["description"] and "escalated（已升级" in status["description"]
