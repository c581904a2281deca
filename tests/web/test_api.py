"""The JSON API: token auth, JSON errors with message and field, CSRF for cookie callers, OpenAPI."""

from monitor.domain import OpinionLevel, UserRole
from monitor.web.actions.specs import ACTIONS
from monitor.web.auth.accounts import issue_token

from .conftest import add_incident, confirmed_incident, csrf_of


async def _token(env, role):
    from .conftest import ACCOUNTS

    return {"Authorization": f"Bearer {await issue_token(env.db, env.clock, ACCOUNTS[role].username, actor='test')}"}


async def test_401_without_a_token_and_with_a_bad_one(web_env):
    client = web_env.client
    resp = await client.get("/api/incidents")
    assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    body = await resp.json()
    assert body["field"] is None and "Authorization: Bearer" in body["message"]
    assert (await client.get("/api/incidents", headers={"Authorization": "Bearer mtk_forged"})).status == 401


async def test_list_and_detail_with_filters(web_env):
    env = web_env
    red = await add_incident(env.db, env.clock.now(), title="红色应急", opinion_level=OpinionLevel.L1)
    await add_incident(env.db, env.clock.now(), title="黄色住建", opinion_level=OpinionLevel.L3, owner_unit="housing")
    headers = await _token(env, UserRole.ANALYST)
    data = await (await env.client.get("/api/incidents?level=L1", headers=headers)).json()
    assert data["total"] == 1 and data["incidents"][0]["title"] == "红色应急"
    assert data["incidents"][0]["trend"] == {"recent": 0, "previous": 0}
    detail = await (await env.client.get(f"/api/incidents/{red}", headers=headers)).json()
    assert detail["incident"]["owner_unit"] == "emergency" and detail["timeline"][0]["kind"] == "detected"
    resp = await env.client.get("/api/incidents?limit=abc", headers=headers)
    assert resp.status == 400 and (await resp.json()) == {"message": "参数 limit 应为正整数", "field": "limit"}
    unit = await _token(env, UserRole.UNIT_HANDLER)
    data = await (await env.client.get("/api/incidents", headers=unit)).json()
    assert [i["title"] for i in data["incidents"]] == ["黄色住建"]
    resp = await env.client.get(f"/api/incidents/{red}", headers=unit)
    assert resp.status == 404 and (await resp.json())["field"] == "incident_id"


async def test_actions_validate_and_run_through_the_same_dispatcher(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    headers = await _token(env, UserRole.DUTY_OFFICER)
    resp = await env.client.post(f"/api/incidents/{incident}/notes", json={"text": ""}, headers=headers)
    assert resp.status == 400 and (await resp.json())["field"] == "text"
    resp = await env.client.post(f"/api/incidents/{incident}/notes", json={"text": "API 备注"}, headers=headers)
    body = await resp.json()
    assert resp.status == 201 and body["message"] == "已添加备注" and "note_added" in body["events"]
    resp = await env.client.post(f"/api/incidents/{incident}/confirm", json={}, headers=headers)
    assert resp.status == 409 and (await resp.json()) == {
        "message": "事件当前状态为「已交办」，无需再次确认。",
        "field": None,
    }
    resp = await env.client.post(f"/api/incidents/{incident}/notes", data="not json", headers=headers)
    assert resp.status == 415 and (await resp.json())["field"] is None
    resp = await env.client.post(
        f"/api/incidents/{incident}/notes", data="[1", headers={**headers, "Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["message"] == "请求体应为 JSON 对象"
    analyst = await _token(env, UserRole.ANALYST)
    resp = await env.client.post(f"/api/incidents/{incident}/notes", json={"text": "x"}, headers=analyst)
    assert resp.status == 403 and "分析员" in (await resp.json())["message"]
    [entry] = await env.audit("incident.add_note")
    assert entry.actor == "duty" and entry.after["via"] == "api"


async def test_each_action_route_answers_with_the_engine_result(web_env):
    env = web_env
    incident = await confirmed_incident(env)
    headers = await _token(env, UserRole.DUTY_OFFICER)
    detail = await (await env.client.get(f"/api/incidents/{incident}", headers=headers)).json()
    pause = next(a for a in detail["actions"] if a["slug"] == "pause-requests")
    assert ["GB80-AUTH-RELEASE-5H", "GB80-AUTH-RELEASE-5H · 发布权威信息 · 截止 09-24 13:00"] in pause["choices"][
        "rule_id"
    ]
    body = {"rule_id": "GB80-AUTH-RELEASE-5H", "until": "2026-09-24 14:00", "reason": "等待调查组通报"}
    resp = await env.client.post(f"/api/incidents/{incident}/pause-requests", json=body, headers=headers)
    data = await resp.json()
    assert resp.status == 201 and data["message"] == "已提交暂停申请，待另一人批准" and data["incident_id"] == incident
    assert data["events"] == ["pause_requested"] and data["generation"] == detail["incident"]["generation"]  # no bump
    resp = await env.client.post(
        f"/api/incidents/{incident}/pause-requests", json={**body, "until": "2026-09-23 14:00"}, headers=headers
    )
    assert resp.status == 400 and (await resp.json())["field"] == "until"
    resp = await env.client.post(f"/api/incidents/{incident}/merge", json={"into_id": 9999}, headers=headers)
    assert resp.status == 409 and "目标事件 #9999 不存在" in (await resp.json())["message"]


async def test_cookie_callers_need_the_csrf_header(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await client.post(f"/api/incidents/{incident}/notes", json={"text": "无令牌"})
    assert resp.status == 403 and (await resp.json())["field"] == "X-CSRF-Token"
    token = await csrf_of(client)
    resp = await client.post(
        f"/api/incidents/{incident}/notes", json={"text": "有令牌"}, headers={"X-CSRF-Token": token}
    )
    assert resp.status == 201
    assert (await client.get("/api/me")).status == 200  # reads need no CSRF header


async def test_me_sources_and_leader_due(web_env):
    env = web_env
    leader = await _token(env, UserRole.LEADER)
    me = await (await env.client.get("/api/me", headers=leader)).json()
    assert me["role"] == "leader" and "leader_view" in me["permissions"]
    due = await env.client.get("/api/leader/due?hours=0", headers=leader)
    assert due.status == 400 and (await due.json())["field"] == "hours"
    assert (await env.client.get("/api/sources", headers=leader)).status == 403
    analyst = await _token(env, UserRole.ANALYST)
    assert (await (await env.client.get("/api/sources", headers=analyst)).json()) == {"sources": []}


async def test_openapi_document_describes_every_action(web_env):
    resp = await web_env.client.get("/api/openapi.json")
    doc = await resp.json()
    assert resp.status == 200 and doc["openapi"].startswith("3.1")
    for spec in ACTIONS:
        operation = doc["paths"][f"/api/incidents/{{incident_id}}/{spec.slug}"]["post"]
        assert operation["summary"] == spec.label and spec.command in operation["description"]
        assert {"201", "400", "403", "404", "409"} <= set(operation["responses"]) and "501" not in operation[
            "responses"
        ]
        assert spec.permission.value in operation["description"]
    note = doc["paths"]["/api/incidents/{incident_id}/notes"]["post"]["requestBody"]["content"]["application/json"]
    assert note["schema"]["required"] == ["text"]
    response = doc["paths"]["/api/incidents/{incident_id}/responses"]["post"]["requestBody"]["content"]
    assert response["multipart/form-data"]["schema"]["properties"]["document"]["format"] == "binary"
    assert "document" not in response["application/json"]["schema"]["properties"]
    kinds = response["application/json"]["schema"]["properties"]["kind"]["enum"]
    assert "authoritative_release" in kinds and "press_conference" in kinds
    assert doc["components"]["schemas"]["Error"]["required"] == ["message", "field"]


async def test_revoked_and_disabled_tokens_stop_working(web_env):
    env = web_env
    headers = await _token(env, UserRole.ANALYST)
    assert (await env.client.get("/api/me", headers=headers)).status == 200
    client = await env.login(UserRole.ANALYST)
    token = await csrf_of(client)
    assert (await client.post("/account/token/revoke", data={"_csrf": token})).status == 200
    assert (await env.client.get("/api/me", headers=headers)).status == 401
    resp = await client.post("/account/token", data={"_csrf": token})
    new_token = (await resp.text()).split('id="new-token">')[1].split("<")[0]
    assert (await env.client.get("/api/me", headers={"Authorization": f"Bearer {new_token}"})).status == 200
    assert [e.action for e in await env.audit() if e.action.startswith("user.api_token")][-2:] == [
        "user.api_token_revoke",
        "user.api_token",
    ]
