"""One commitment, not the whole 承诺 rule: the 确认收到/暂停 choices name each commitment by its text,
a pause of 承诺 #2 over the API moves only its deadline, and a closed incident's open commitment
stays in the leader view (已办结·承诺待兑现) with a one-click 确认收到 for that commitment."""

from datetime import date, datetime, timedelta

from monitor.domain import EventKind, ResponseKind, UserRole
from monitor.domain import commands as c
from monitor.domain.commitments import Commitment
from monitor.storage.repo.incidents import list_events
from monitor.web.auth.accounts import issue_token

from .conftest import ACCOUNTS, confirmed_incident, post_form, run_command

RULE = "PRJ-COMMITMENT"


async def _with_commitments(env) -> int:
    incident = await confirmed_incident(env, title="老城区道路塌陷", owner_unit="emergency")
    await run_command(
        env, c.RecordResponse, incident, "zhu_min", kind=ResponseKind.AUTHORITATIVE_RELEASE,
        url="https://gov.example/1", approved_by="马振华",
        commitments=(Commitment("完成塌陷路段修复", date(2026, 10, 10)),
                     Commitment("公布调查结果", date(2026, 10, 20))),
    )  # fmt: skip
    return incident


async def _token(env, role: UserRole) -> dict[str, str]:
    return {"Authorization": f"Bearer {await issue_token(env.db, env.clock, ACCOUNTS[role].username, actor='test')}"}


async def test_the_api_pauses_one_commitment_named_by_its_number(web_env_any):
    env = web_env_any
    incident = await _with_commitments(env)
    headers = await _token(env, UserRole.DUTY_OFFICER)
    detail = await (await env.client.get(f"/api/incidents/{incident}", headers=headers)).json()
    pause = next(a for a in detail["actions"] if a["slug"] == "pause-requests")
    offered = dict(pause["choices"]["rule_id"])
    assert offered[f"{RULE}#1"].startswith("承诺 #1：完成塌陷路段修复（10-10 前） · 截止 10-10 23:59")
    assert offered[f"{RULE}#2"].startswith("承诺 #2：公布调查结果（10-20 前）")
    assert RULE not in offered and "GB61-PRESSCONF-24H" in offered  # other rules as before

    until = (env.clock.now() + timedelta(days=2)).isoformat()
    body = {"rule_id": RULE, "until": until, "reason": "等待检测报告"}
    resp = await env.client.post(f"/api/incidents/{incident}/pause-requests", json=body, headers=headers)
    assert resp.status == 400 and (await resp.json())["field"] == "rule_id"
    resp = await env.client.post(f"/api/incidents/{incident}/pause-requests",
                                 json={**body, "rule_id": f"{RULE}#2"}, headers=headers)  # fmt: skip
    assert resp.status == 201, await resp.text()
    async with env.db.read() as conn:
        (request,) = [e for e in await list_events(conn, incident) if e.kind == EventKind.PAUSE_REQUESTED]
    assert request.payload["rule"] == RULE and request.payload["instance"] == 2
    leader = await _token(env, UserRole.LEADER)
    detail = await (await env.client.get(f"/api/incidents/{incident}", headers=leader)).json()
    approve = next(a for a in detail["actions"] if a["slug"] == "pause-approvals")
    assert dict(approve["choices"]["request_seq"])[str(request.seq)].endswith(
        f"申请暂停 {RULE} #2 至 09-26 09:00：等待检测报告"
    )
    resp = await env.client.post(f"/api/incidents/{incident}/pause-approvals",
                                 json={"request_seq": str(request.seq)}, headers=leader)  # fmt: skip
    assert resp.status == 201, await resp.text()
    states = {(o["rule_id"], o["instance"]): o for o in (await resp.json())["obligations"]}
    assert states[(RULE, 1)]["status"] == "open" and states[(RULE, 2)]["status"] == "paused"
    assert states[(RULE, 1)]["due_at"] == "2026-10-10T15:59:59+00:00"  # #1 keeps its deadline


async def test_a_closed_incident_keeps_its_open_commitment_in_the_leader_view(web_env_any):
    env = web_env_any
    incident = await _with_commitments(env)
    await run_command(env, c.FulfilCommitment, incident, "zhu_min", number=1, disclosed_url="https://gov.example/2")
    await run_command(env, c.Close, incident, "zhu_min", reason="舆情平息")
    leader = await env.login(UserRole.LEADER)
    near = await (await leader.get("/leader/rows?hours=24")).json()
    assert incident not in near["incidents"]  # #2 is due 10-20: outside the next day
    env.clock.set(datetime.fromisoformat("2026-10-20T09:00:00+08:00"))
    leader = await env.login(UserRole.LEADER)
    data = await (await leader.get("/leader/rows?hours=24")).json()
    assert data["incidents"] == [incident], data["html"]
    assert "已办结·承诺待兑现" in data["html"] and "承诺 #2：公布调查结果（10-20 前）" in data["html"]
    assert "承诺 #1" not in data["html"]  # fulfilled
    assert f'name="rule_id" value="{RULE}#2"' in data["html"]
    resp = await post_form(leader, f"/incidents/{incident}/actions/acknowledge",
                           {"rule_id": f"{RULE}#2", "return_to": "/leader"})  # fmt: skip
    assert resp.status == 303 and resp.headers["Location"] == "/leader"
    data = await (await leader.get("/leader/rows?hours=24")).json()
    assert 'data-acked="leader"' in data["html"]
    api = await (await env.client.get("/api/leader/due?hours=24", headers=await _token(env, UserRole.LEADER))).json()
    assert [(d["rule_id"], d["instance"]) for d in api["obligations"]] == [(RULE, 2)]


async def test_the_queue_filter_lists_closed_incidents_that_still_owe_a_commitment(web_env_any):
    env = web_env_any
    owing = await _with_commitments(env)
    await run_command(env, c.Close, owing, "zhu_min", reason="舆情平息")
    kept = await _with_commitments(env)
    for number in (1, 2):
        await run_command(env, c.FulfilCommitment, kept, "zhu_min", number=number,
                          disclosed_url=f"https://gov.example/{number}")  # fmt: skip
    await run_command(env, c.Close, kept, "zhu_min", reason="舆情平息")
    still_open = await confirmed_incident(env, title="无承诺的在办事件", owner_unit="emergency")
    duty = await env.login(UserRole.DUTY_OFFICER)
    default = await (await duty.get("/queue")).text()
    assert f'data-id="{owing}"' not in default and f'data-id="{still_open}"' in default
    assert '<option value="commitments">承诺待兑现（含已办结事件）</option>' in default
    html = await (await duty.get("/queue?status=commitments")).text()
    assert f'data-id="{owing}"' in html and f'data-id="{kept}"' not in html and f'data-id="{still_open}"' not in html
    # the row counts down to what the closed incident still owes (终报, then the commitment), as its page does
    row = html[html.find(f'data-id="{owing}"') :].split("</tr>", 1)[0]
    assert 'data-due=""' not in row and "无时限" not in row
    detail = await env.client.get(f"/api/incidents/{owing}", headers=await _token(env, UserRole.DUTY_OFFICER))
    due = (await detail.json())["incident"]["next_due_at"]
    assert due and f'data-due="{due}"' in row
