"""承诺事项 and 谣言移交 over the JSON API: the lines may come as a list, a bad line is answered 400 on
its field in Chinese, the incident's detail lists the commitments and the fulfilment form's choices."""

from monitor.domain import UserRole
from monitor.web.auth.accounts import issue_token

from .conftest import ACCOUNTS, add_incident


async def _token(env, role: UserRole) -> dict[str, str]:
    return {"Authorization": f"Bearer {await issue_token(env.db, env.clock, ACCOUNTS[role].username, actor='test')}"}


async def test_commitments_and_referrals_through_the_api(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    headers = await _token(env, UserRole.DUTY_OFFICER)
    response = {"kind": "authoritative_release", "url": "https://gov.example/1", "approved_by": "马振华",
                "channel": "gov_wechat", "spokesperson": "李华",
                "commitments": ["2026-10-10 修复路面", "尽快回访"]}  # fmt: skip
    resp = await env.client.post(f"/api/incidents/{incident}/responses", json=response, headers=headers)
    body = await resp.json()
    assert (
        resp.status == 400 and body["field"] == "commitments" and "第2行「尽快回访」应以完成日期开头" in body["message"]
    )
    resp = await env.client.post(f"/api/incidents/{incident}/responses", json={**response, "channel": "fax"},
                                 headers=headers)  # fmt: skip
    assert resp.status == 400 and (await resp.json())["field"] == "channel"
    response["commitments"] = ["2026-10-10 修复路面", "2026年10月20日 回访商户"]
    resp = await env.client.post(f"/api/incidents/{incident}/responses", json=response, headers=headers)
    assert resp.status == 201 and "2 项承诺事项" in (await resp.json())["message"]

    detail = await (await env.client.get(f"/api/incidents/{incident}", headers=headers)).json()
    assert [(c["number"], c["text"], c["due"]) for c in detail["commitments"]] == [
        (1, "修复路面", "2026-10-10"), (2, "回访商户", "2026-10-20")
    ]  # fmt: skip
    fulfil = next(a for a in detail["actions"] if a["slug"] == "commitment-fulfilments")
    assert [v for v, _ in fulfil["choices"]["number"]] == ["1", "2"]
    done = {"number": "2", "disclosed_url": "https://gov.example/2"}
    resp = await env.client.post(f"/api/incidents/{incident}/commitment-fulfilments", json=done, headers=headers)
    assert resp.status == 201 and (await resp.json())["message"] == "已登记承诺 #2 按期兑现，相关提醒停止"
    resp = await env.client.post(f"/api/incidents/{incident}/rumor-referrals", json={"to": "other"}, headers=headers)
    assert resp.status == 409 and "写明部门名称" in (await resp.json())["message"]
    resp = await env.client.post(f"/api/incidents/{incident}/rumor-referrals",
                                 json={"to": "police", "note": "谣言"}, headers=headers)  # fmt: skip
    assert resp.status == 201 and "rumor_referred" in (await resp.json())["events"]
