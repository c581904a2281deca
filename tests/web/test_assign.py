"""认领 and 退回 on the web and the API: who may, what the incident page, the duty queue, the API's
incident JSON and the monthly report's drill-down then show (交办时间, 认领时间, 退回理由)."""

from datetime import timedelta

from monitor.domain import EventKind, IncidentStatus, UserRole
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.web.auth.accounts import issue_token

from .conftest import confirmed_incident, post_form

H = timedelta(hours=1)
HOUSING = "明湖市住房和城乡建设局"


async def _incident(env, iid):
    async with env.db.read() as conn:
        return await get_incident(conn, iid)


async def _api(env, role: UserRole, method: str, path: str, **kw):
    username = {UserRole.UNIT_HANDLER: "unit", UserRole.DUTY_OFFICER: "duty"}[role]
    token = await issue_token(env.db, env.clock, username, actor="test")
    return await env.client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


async def test_the_owning_units_handler_accepts_and_the_page_shows_when(web_env_any):
    env = web_env_any
    iid = await confirmed_incident(env, owner_unit="housing", title="工地塔吊倒塌")
    unit = await env.login(UserRole.UNIT_HANDLER)
    page = await (await unit.get(f"/incidents/{iid}")).text()
    assert 'id="action-accept"' in page and 'id="action-return"' in page and "待责任单位认领" in page
    env.clock.advance(H)
    resp = await post_form(unit, f"/incidents/{iid}/actions/accept", {"note": "已派员赶赴现场"})
    assert resp.status == 303
    inc = await _incident(env, iid)
    assert (inc.status, inc.accepted_at) == (IncidentStatus.HANDLING, env.clock.now())
    html = await (await unit.get(f"/incidents/{iid}")).text()
    assert 'id="flash">已认领，事件转入处置</p>' in html
    assert "<dt>认领时间</dt><dd>2026-09-24 10:00</dd>" in html and "<dt>交办时间</dt><dd>2026-09-24 09:00</dd>" in html
    assert f"{HOUSING} 认领；认领意见：已派员赶赴现场" in html  # the timeline, in words
    again = await post_form(unit, f"/incidents/{iid}/actions/accept", {})
    assert again.status == 409 and "无需重复认领" in await again.text()
    [entry] = await env.audit("incident.accept")
    assert entry.actor == "unit" and entry.after["input"]["units"] == ["housing"]


async def test_a_handler_of_another_unit_is_refused_in_chinese(web_env_any):
    env = web_env_any
    iid = await confirmed_incident(env, owner_unit="emergency", co_units=["housing"])  # housing co-handles: sees it
    unit = await env.login(UserRole.UNIT_HANDLER)
    resp = await post_form(unit, f"/incidents/{iid}/actions/accept", {})
    assert resp.status == 409
    refusal = f"本事件的责任单位是「明湖市应急管理局」，您所在的「{HOUSING}」不能认领。"
    refusal += "如认为应由贵单位处置，请联系值班员改派。"
    assert refusal in await resp.text()
    api = await _api(env, UserRole.UNIT_HANDLER, "POST", f"/api/incidents/{iid}/return", json={"reason": "不归我们"})
    assert api.status == 409 and "不能退回" in (await api.json())["message"]
    assert (await _incident(env, iid)).status == IncidentStatus.ASSIGNED
    async with env.db.read() as conn:
        assert not [e for e in await list_events(conn, iid) if e.kind in (EventKind.ACCEPTED, EventKind.RETURNED)]


async def test_return_needs_a_reason_then_shows_in_the_duty_queue_and_the_api(web_env_any):
    env = web_env_any
    iid = await confirmed_incident(env, owner_unit="housing", title="小区停水")
    unit = await env.login(UserRole.UNIT_HANDLER)
    empty = await post_form(unit, f"/incidents/{iid}/actions/return", {"reason": "   "})
    assert empty.status == 400 and "「退回理由」为必填项" in await empty.text()
    api = await _api(env, UserRole.UNIT_HANDLER, "POST", f"/api/incidents/{iid}/return", json={})
    assert api.status == 400 and (await api.json())["field"] == "reason"
    reason = "停水系供水管网爆管，应由水务局处置"
    resp = await post_form(unit, f"/incidents/{iid}/actions/return", {"reason": reason})
    assert resp.status == 303
    duty = await env.login(UserRole.DUTY_OFFICER)
    queue = await (await duty.get("/queue")).text()
    row = queue[queue.index(f'<tr data-id="{iid}"') :].split("</tr>", 1)[0]
    assert "退回待改派" in row and f"理由：{reason}" in row
    page = await (await duty.get(f"/incidents/{iid}")).text()
    assert f'<dd class="returned">{reason}<span class="muted">（待值班员改派）</span></dd>' in page
    assert f"{HOUSING} 退回，待值班员改派；退回理由：{reason}" in page
    data = await (await _api(env, UserRole.DUTY_OFFICER, "GET", f"/api/incidents/{iid}")).json()
    incident = data["incident"]
    assert (incident["status"], incident["returned_reason"], incident["accepted_at"]) == ("reassigned", reason, None)
    assert incident["assigned_at"].startswith("2026-09-24T01:00:00")
    listed = await (await _api(env, UserRole.DUTY_OFFICER, "GET", "/api/incidents?status=reassigned")).json()
    assert [(r["id"], r["returned_reason"]) for r in listed["incidents"]] == [(iid, reason)]

    moved = await post_form(duty, f"/incidents/{iid}/actions/reassign", {"owner_unit": "water", "reason": "同意"})
    assert moved.status == 303
    inc = await _incident(env, iid)
    assert (inc.status, inc.owner_unit, inc.returned_reason) == (IncidentStatus.ASSIGNED, "water", reason)


async def test_a_duty_officer_accepts_on_the_units_behalf(web_env_any):
    env = web_env_any
    iid = await confirmed_incident(env, owner_unit="housing")
    duty = await env.login(UserRole.DUTY_OFFICER)
    assert (await post_form(duty, f"/incidents/{iid}/actions/accept", {})).status == 303
    html = await (await duty.get(f"/incidents/{iid}")).text()
    assert f'id="flash">已代「{HOUSING}」认领</p>' in html and f"{HOUSING} 认领（值班员代为认领）" in html


async def test_the_report_drill_down_and_key_incidents_show_assignment_facts(web_env):
    env = web_env
    iid = await confirmed_incident(env, owner_unit="housing", title="工地塔吊倒塌")
    env.clock.advance(H)
    unit = await env.login(UserRole.UNIT_HANDLER)
    await post_form(unit, f"/incidents/{iid}/actions/return", {"reason": "塔吊属特种设备，归市场监管局"})
    env.clock.advance(40 * 24 * H)  # the September report, cut off at the end of the month
    analyst = await env.login(UserRole.ANALYST)
    drill = await (await analyst.get("/reports/2026-09/drill/incidents")).text()
    row = drill[drill.index(f'data-id="{iid}"') :].split("</tr>", 1)[0]
    assert "<td>2026-09-24 09:00</td>" in row and '<td class="returned">塔吊属特种设备，归市场监管局</td>' in row
    report = await (await analyst.get("/reports/2026-09")).text()
    assert "交办时间" in report and "认领时间" in report and "塔吊属特种设备，归市场监管局" in report
    assert "退回：退回理由：塔吊属特种设备，归市场监管局" in report  # the key incident's timeline
