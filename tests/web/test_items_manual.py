"""从稿件手动立案 and 并入已有事件 on the items pages, and 更正属地 on the incident page: who may,
what the pages then show, the audit row, and the refusals (zh-CN, input kept), on SQLite and PostgreSQL."""

from sqlalchemy import select

from monitor.domain import EventKind, IncidentStatus, UserRole
from monitor.storage.repo.clusters import incident_item_ids
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.schema import corrections, incidents
from monitor.web.auth.accounts import issue_token

from .conftest import confirmed_incident, free_item, post_form

REASON = "多名居民反映停水三天无人处理，涉及群众切身利益"


async def _incident_ids(env):
    async with env.db.read() as conn:
        return list((await conn.execute(select(incidents.c.id).order_by(incidents.c.id))).scalars())


async def test_the_items_page_offers_opening_and_shows_where_an_item_went(web_env_any):
    env = web_env_any
    item = await free_item(env)
    duty = await env.login(UserRole.DUTY_OFFICER)
    listing = await (await duty.get("/items")).text()
    cell = listing[listing.index(f'data-item="{item}"') :].split("</td>", 1)[0]
    assert f'href="/items/{item}#action-open"' in cell and "立案 / 并入…" in cell
    page = await (await duty.get(f"/items/{item}")).text()
    assert f'action="/items/{item}/open"' in page and f'action="/items/{item}/attach"' in page
    assert "未归入任何事件" in page and "非政务" in page
    analyst = await env.login(UserRole.ANALYST)
    assert "立案 / 并入…" not in await (await analyst.get("/items")).text()
    assert 'action="/items/' not in await (await analyst.get(f"/items/{item}")).text()
    refused = await post_form(analyst, f"/items/{item}/open", {"reason": REASON})
    assert refused.status == 403 and await _incident_ids(env) == []


async def test_opening_from_an_item_lands_on_the_new_incident_with_who_and_why(web_env_any):
    env = web_env_any
    item = await free_item(env)
    duty = await env.login(UserRole.DUTY_OFFICER)
    form = {"reason": REASON, "title": "滨河花园小区停水三天", "event_type": "livelihood", "opinion_level": "L3"}
    resp = await post_form(duty, f"/items/{item}/open", form)
    assert resp.status == 303, (await resp.text())[:2000]
    [iid] = await _incident_ids(env)
    assert resp.headers["Location"] == f"/incidents/{iid}#timeline"
    html = await (await duty.get(f"/incidents/{iid}")).text()
    assert f'id="flash">已从稿件立案为事件 #{iid} 并确认，已交办给「明湖市水务局」；时限从稿件发现时间起算</p>' in html
    assert f"从稿件 #{item}《滨河花园小区连续三天停水，物业不理1》人工立案；理由：{REASON}" in html
    assert "更正研判：相关性 否 → 是、类别 非政务 → 民生诉求、舆情级别 关注 → 一般" in html
    assert f"人工并入；理由：{REASON}" in html  # the item's 归并依据
    async with env.db.read() as conn:
        inc = await get_incident(conn, iid)
        fields = {r.field: r.new_value for r in await conn.execute(select(corrections))}
    assert (inc.title, inc.status, inc.owner_unit) == ("滨河花园小区停水三天", IncidentStatus.ASSIGNED, "water")
    assert fields == {"relevant": "True", "event_type": "livelihood", "opinion_level": "L3"}
    [entry] = await env.audit("item.open_incident")
    assert (entry.actor, entry.target_type, entry.target_id) == ("duty", "item", str(item))
    assert entry.after["incident_id"] == iid and entry.after["input"]["reason"] == REASON
    listing = await (await duty.get("/items")).text()
    assert f'<a href="/incidents/{iid}">#{iid}</a>' in listing
    assert f'<a href="/items/{item}">稿件 #{item}</a>' in html  # the incident page links its items
    item_page = await (await duty.get(f"/items/{item}")).text()
    assert f'<a href="/incidents/{iid}">#{iid}</a>（已交办）' in item_page and 'action="/items/' not in item_page


async def test_a_second_submit_is_refused_naming_the_incident_and_opens_nothing(web_env_any):
    env = web_env_any
    item = await free_item(env)
    duty = await env.login(UserRole.DUTY_OFFICER)
    first = await post_form(duty, f"/items/{item}/open", {"reason": REASON})
    [iid] = await _incident_ids(env)
    # The page the person submitted from is stale: the same form posted again.
    again = await post_form(duty, f"/items/{item}/open", {"reason": REASON, "title": "重复提交"})
    assert first.status == 303 and again.status == 409
    text = await again.text()
    assert f"稿件 #{item} 已在事件 #{iid}（已交办）中，不能再立案或并入其他事件" in text
    assert await _incident_ids(env) == [iid]


async def test_a_missing_reason_is_refused_in_chinese_and_the_input_kept(web_env_any):
    env = web_env_any
    item = await free_item(env)
    duty = await env.login(UserRole.DUTY_OFFICER)
    resp = await post_form(duty, f"/items/{item}/open", {"reason": "  ", "title": "我填的标题"})
    assert resp.status == 400
    html = await resp.text()
    assert "「立案理由」为必填项" in html and 'value="我填的标题"' in html
    late = {"reason": REASON, "occurred_at": "2026-09-24T08:30"}  # after the item was collected (08:00)
    resp = await post_form(duty, f"/items/{item}/open", late)
    assert resp.status == 409 and "晚于稿件的发现时间" in await resp.text()
    assert await _incident_ids(env) == []


async def test_attaching_from_the_item_page_joins_the_named_incident(web_env_any):
    env = web_env_any
    iid = await confirmed_incident(env, owner_unit="water", region="chengnan", title="城南停水")
    item = await free_item(env)
    duty = await env.login(UserRole.DUTY_OFFICER)
    missing = await post_form(duty, f"/items/{item}/attach", {"into_id": "999", "reason": "同一事件"})
    assert missing.status == 409 and "事件 #999 不存在" in await missing.text()
    resp = await post_form(duty, f"/items/{item}/attach", {"into_id": f"#{iid}", "reason": "同一小区停水"})
    assert resp.status == 303 and resp.headers["Location"] == f"/incidents/{iid}#timeline"
    html = await (await duty.get(f"/incidents/{iid}")).text()
    assert f'id="flash">已将稿件 #{item} 并入事件 #{iid}；时限已按该事件重新核算</p>' in html
    assert "人工并入；理由：同一小区停水" in html
    async with env.db.read() as conn:
        assert item in await incident_item_ids(conn, iid)
    [entry] = await env.audit("incident.attach_item")
    assert entry.after["input"] == {"item_id": item, "reason": "同一小区停水"}


async def test_correcting_the_region_on_the_incident_page_reads_on_the_timeline(web_env_any):
    env = web_env_any
    iid = await confirmed_incident(env, owner_unit="donggang", region="donggang", title="海塘垃圾中转站臭气")
    duty = await env.login(UserRole.DUTY_OFFICER)
    page = await (await duty.get(f"/incidents/{iid}")).text()
    form = page[page.index('id="action-region"') :].split("</form>", 1)[0]
    assert '<option value="nanshan">明湖市南山镇人民政府</option>' in form and 'value="housing"' not in form
    resp = await post_form(duty, f"/incidents/{iid}/actions/region", {"region": "nanshan", "reason": "中转站在南山镇"})
    assert resp.status == 303
    html = await (await duty.get(f"/incidents/{iid}")).text()
    assert "已更正属地为「明湖市南山镇人民政府」，责任单位随属地改派并交办给「明湖市南山镇人民政府」" in html
    assert "属地 明湖市东港镇人民政府 → 明湖市南山镇人民政府；原因：中转站在南山镇" in html
    assert "交办给 明湖市南山镇人民政府（改派自 明湖市东港镇人民政府；原因：更正属地：中转站在南山镇）" in html
    async with env.db.read() as conn:
        events = await list_events(conn, iid)
    assert [e.kind for e in events].count(EventKind.REGION_SET) == 1


async def test_the_api_opens_an_incident_from_an_item_once(web_env_any):
    env = web_env_any
    item = await free_item(env)

    async def post(role, path, body):
        username = {UserRole.DUTY_OFFICER: "duty", UserRole.ANALYST: "analyst"}[role]
        token = await issue_token(env.db, env.clock, username, actor="test")
        return await env.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})

    empty = await post(UserRole.DUTY_OFFICER, f"/api/items/{item}/open", {})
    assert empty.status == 400 and (await empty.json())["field"] == "reason"
    assert (await post(UserRole.ANALYST, f"/api/items/{item}/open", {"reason": REASON})).status == 403
    assert (await post(UserRole.DUTY_OFFICER, "/api/items/999/open", {"reason": REASON})).status == 404
    opened = await post(UserRole.DUTY_OFFICER, f"/api/items/{item}/open", {"reason": REASON, "region": "chengxi"})
    assert opened.status == 201
    body = await opened.json()
    assert body["message"].startswith(f"已从稿件立案为事件 #{body['incident_id']}")
    assert "GB61-RESPOND-48H" in {o["rule_id"] for o in body["obligations"]}
    again = await post(UserRole.DUTY_OFFICER, f"/api/items/{item}/open", {"reason": REASON})
    assert again.status == 409 and f"已在事件 #{body['incident_id']}" in (await again.json())["message"]
    [entry] = await env.audit("item.open_incident")
    assert entry.after["via"] == "api" and entry.after["input"]["region"] == "chengxi"
    doc = await (await env.client.get("/api/openapi.json")).json()
    operation = doc["paths"]["/api/items/{item_id}/open"]["post"]
    assert operation["parameters"][0]["name"] == "item_id" and "OpenFromItem" in operation["description"]


async def test_old_news_once_opened_is_no_longer_marked_not_opened(web_env):
    env = web_env
    held = {"held": {"rule": "stale", "published_at": "2026-09-10T00:00:00+00:00"}}
    item = await free_item(env, relevant=True, event_type="livelihood", classification=held)
    duty = await env.login(UserRole.DUTY_OFFICER)
    assert "旧闻，未立案" in await (await duty.get("/items")).text()
    assert "旧闻，未立案" in await (await duty.get(f"/items/{item}")).text()
    assert (await post_form(duty, f"/items/{item}/open", {"reason": REASON})).status == 303
    assert "旧闻，未立案" not in await (await duty.get("/items")).text()
    assert "旧闻，未立案" not in await (await duty.get(f"/items/{item}")).text()
    async with env.db.read() as conn:
        assert [r.field for r in await conn.execute(select(corrections))] == []  # relevant already
