"""Sources (health, add, edit), the leader view, org and people, reports, items, security headers."""

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, update

from monitor.domain import OpinionLevel, UserRole
from monitor.storage.schema import items, source_events, sources

from .conftest import SOURCE, add_incident, post_form

TEMPLATES = Path(__file__).resolve().parents[2] / "monitor/web/templates"


async def test_add_and_edit_sources_with_named_errors_and_audit(web_env):
    env = web_env
    client = await env.login(UserRole.DUTY_OFFICER)
    bad = {**SOURCE, "url": "ftp://x", "poll_min_s": "0", "options": "{bad", "credentials_ref": "secret value"}
    resp = await post_form(client, "/sources/new", bad)
    html = await resp.text()
    assert resp.status == 400
    for message in (
        "「地址」应为以 http:// 或 https:// 开头",
        "「最短轮询间隔」应为正整数",
        "「选项」不是有效的 JSON",
        "「凭据变量名」应为环境变量名",
    ):
        assert message in html
    assert 'value="ftp://x"' in html and "{bad" in html  # nothing typed is lost
    assert (await post_form(client, "/sources/new", SOURCE)).status == 303
    resp = await post_form(client, "/sources/new", {**SOURCE, "name": "重复"})
    assert resp.status == 400 and "已被信息源 #1 登记" in await resp.text()
    resp = await post_form(client, "/sources/1/edit", {**SOURCE, "name": "明湖日报（改）", "poll_max_s": "100"})
    assert resp.status == 400 and "「最长轮询间隔」不能小于「最短轮询间隔」" in await resp.text()
    edited = {**SOURCE, "name": "明湖日报（改）", "media_tier": "county"}
    edited.pop("enabled")
    assert (await post_form(client, "/sources/1/edit", edited)).status == 303
    html = await (await client.get("/sources")).text()
    assert "明湖日报（改）" in html and "已停用" in html
    create, change = await env.audit("source.create"), await env.audit("source.update")
    assert create[0].after["name"] == "明湖日报" and change[0].before["name"] == "明湖日报"
    assert change[0].after["media_tier"] == "county" and change[0].after["enabled"] is False
    assert (await client.get("/sources/999/edit")).status == 404


async def test_sources_page_shows_health_error_and_last_change(web_env):
    env = web_env
    now = env.clock.now()
    client = await env.login(UserRole.DUTY_OFFICER)
    await post_form(client, "/sources/new", SOURCE)
    async with env.db.write() as conn:
        await conn.execute(
            update(sources).values(
                health="failing",
                last_error="HTTP 503",
                consecutive_failures=4,
                last_success_at=now - timedelta(hours=2),
                next_poll_at=now,
            )
        )
        await conn.execute(
            insert(source_events).values(
                source_id=1, at=now, kind="health_changed", from_health="degraded", to_health="failing", detail={}
            )
        )
    analyst = await env.login(UserRole.ANALYST)
    html = await (await analyst.get("/sources")).text()
    assert "HTTP 503" in html and "连续失败 4 次" in html and "降级 → 失败" in html and "2026-09-24 07:00" in html
    assert "/sources/new" not in html  # analysts only read


async def test_leader_view_lists_what_falls_due_for_their_units(web_env):
    env = web_env
    now = env.clock.now()
    await add_incident(env.db, now, title="两小时后到期", due_in=timedelta(hours=2), obligation=True)
    await add_incident(env.db, now, title="已超期事件", due_in=timedelta(hours=-1), obligation=True)
    await add_incident(env.db, now, title="三天后到期", due_in=timedelta(days=3), obligation=True)
    leader = await env.login(UserRole.LEADER)  # a 副市长 of the 人民政府: city-wide
    html = await (await leader.get("/leader")).text()
    assert "两小时后到期" in html and "已超期事件" in html and "三天后到期" not in html
    assert '已超期 <span id="overdue">1</span> 项' in html
    assert "范围：全市各单位" in html
    html = await (await leader.get("/leader?hours=100")).text()
    assert "三天后到期" in html
    html = await (await leader.get("/leader?hours=abc")).text()
    assert "「时间范围」应为小时数" in html


async def test_org_page_lists_units_people_channels_and_accounts(web_env):
    admin = await web_env.login(UserRole.ADMIN)
    html = await (await admin.get("/org")).text()
    for expected in (
        "明湖市住房和城乡建设局",
        "垂直管理",
        "何建平",
        "主要负责人/第一新闻发言人",
        "dingtalk",
        "duty",
        "单位处置人",
    ):
        assert expected in html, expected


async def test_items_page_lists_collected_items(web_env):
    leader = await web_env.login(UserRole.LEADER)
    assert "尚未采集到稿件" in await (await leader.get("/items")).text()


async def test_items_page_shows_garbled_and_unclassified_items_for_what_they_are(web_env):
    now = web_env.clock.now()
    garbled = "mojibake: UTF-8 text appears to have been decoded as cp1252 (bytes lost); not repaired"
    base = {"fetched_at": now, "created_at": now}
    async with web_env.db.write() as conn:
        await conn.execute(
            insert(items),
            [
                {
                    **base,
                    "dedup_key": "a",
                    "url": "https://a.example/1",
                    "title": "乱码稿件",
                    "text": "",
                    "warnings": [garbled],
                    "classified_at": now,
                    "relevant": None,
                    "classification": {"error": f"not classified, text is garbled ({garbled})"},
                },
                {
                    **base,
                    "dedup_key": "b",
                    "url": "https://a.example/2",
                    "title": "体育新闻",
                    "text": "",
                    "warnings": [],
                    "classified_at": now,
                    "relevant": False,
                    "classification": {},
                },
            ],
        )
    html = await (await (await web_env.login(UserRole.DUTY_OFFICER)).get("/items")).text()
    row_a = html[html.index("乱码稿件") : html.index("</tr>", html.index("乱码稿件"))]
    row_b = html[html.index("体育新闻") : html.index("</tr>", html.index("体育新闻"))]
    assert "未能研判，需人工查看" in row_a and "text is garbled" in row_a and "⚠ 编码异常 1" in row_a
    assert "非政务" not in row_a
    assert "非政务" in row_b and "⚠" not in row_b


async def test_security_headers_on_pages_errors_and_static_files(web_env):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    for path in ("/queue", "/login", "/no-such-page", "/static/app.css", "/api/openapi.json"):
        resp = await client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "same-origin" and resp.headers["X-Request-Id"]
    assert (await client.get("/queue")).headers["Cache-Control"] == "no-store"
    resp = await client.get("/no-such-page")
    assert resp.status == 404 and "页面不存在" in await resp.text()


async def test_hsts_and_secure_cookies_behind_a_trusted_proxy(sqlite_db, clock):
    from .conftest import make_env

    async for env in make_env(sqlite_db, clock, trusted_proxy=True):
        client = await env.new_client()
        resp = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in resp.headers["Set-Cookie"]
        page = await (await client.get("/login")).text()
        token = page.split('name="_csrf" value="')[1].split('"')[0]
        resp = await client.post(
            "/login",
            data={"username": "duty", "password": "wrong-password", "_csrf": token},
            headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"},
        )
        assert resp.status == 401
        [entry] = await env.audit("login.failure")
        assert entry.ip == "203.0.113.9"


def test_templates_have_no_inline_script_style_or_handlers():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "javascript:" not in text, template.name


async def test_level_colours_are_the_four_warning_colours(web_env):
    now = web_env.clock.now()
    for level in OpinionLevel:
        await add_incident(web_env.db, now, title=f"级别{level.value}", opinion_level=level)
    client = await web_env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get("/queue")).text()
    assert [c for c in ("红", "橙", "黄", "蓝") if f">{c}</span>" in html] == ["红", "橙", "黄", "蓝"]


async def test_slack_interactions_are_mounted_public_and_signature_checked(sqlite_db, clock):
    from .conftest import make_env

    async for env in make_env(sqlite_db, clock, slack_signing_secret="s3cret-signing"):
        resp = await env.client.post("/slack/interactions", data={"payload": "{}"})
        assert resp.status in (400, 401, 403) and "login" not in str(resp.url)  # Slack's signature check answered


async def test_no_slack_route_without_a_signing_secret(web_env):
    assert (await web_env.client.post("/slack/interactions", data={})).status == 404


async def test_slack_button_acknowledges_through_the_engine_audits_and_announces(sqlite_db, clock):
    """A signed 确认收到 click from Slack becomes the engine's Acknowledge, like the web button."""
    import hashlib
    import hmac
    import json
    from urllib.parse import urlencode

    from monitor.domain import EventKind
    from monitor.storage.repo.incidents import list_events
    from tests.notify_fakes import FakeSlack, start

    from .conftest import confirmed_incident, make_env

    fake = FakeSlack()
    server = await start(fake.app)
    try:
        async for env in make_env(sqlite_db, clock, slack_signing_secret="s3cret-signing"):
            incident = await confirmed_incident(env)
            value = {"incident": incident, "rule": "GB80-AUTH-RELEASE-5H", "outbox": None}
            payload = {
                "type": "block_actions",
                "user": {"id": "U0GOVOFF01"},  # 蒋文博 in the demo org directory
                "response_url": str(server.make_url("/response/1")),
                "actions": [{"action_id": "ack", "block_id": "alert-1", "value": json.dumps(value)}],
                "message": {"blocks": []},
            }
            body = urlencode({"payload": json.dumps(payload)})
            ts = int(clock.now().timestamp())
            signature = hmac.new(b"s3cret-signing", f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
            headers = {
                "X-Slack-Request-Timestamp": str(ts),
                "X-Slack-Signature": f"v0={signature}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            with env.services.changes.subscribe() as changes:
                resp = await env.client.post("/slack/interactions", data=body, headers=headers)
                assert resp.status == 200
                assert await changes.next() == {incident}
            async with env.db.read() as conn:
                acks = [e for e in await list_events(conn, incident) if e.kind == EventKind.ACKNOWLEDGED]
            assert [(a.actor, a.payload) for a in acks] == [("jiang_wenbo", {"rule": "GB80-AUTH-RELEASE-5H"})]
            [entry] = await env.audit("incident.acknowledge")
            assert entry.actor == "jiang_wenbo" and entry.after["via"] == "slack"
    finally:
        await server.close()


async def test_an_old_item_held_from_opening_an_incident_says_so_on_the_items_page(web_env):
    from lxml import html as lxml_html

    now = web_env.clock.now()
    held = {"rule": "stale", "age_h": 720.0, "stale_after_h": 168.0, "at": now.isoformat()}
    async with web_env.db.write() as conn:
        await conn.execute(
            insert(items),
            [{"dedup_key": "old", "url": "https://a.example/old", "title": "东港化工园区爆炸", "text": "",
              "fetched_at": now, "created_at": now, "classified_at": now, "relevant": True,
              "classification": {"held": held}}],
        )  # fmt: skip
    page = await (await (await web_env.login(UserRole.DUTY_OFFICER)).get("/items")).text()
    badges = [b for b in lxml_html.fromstring(page).cssselect("span.badge.warn") if "旧闻" in b.text_content()]
    assert badges and badges[0].text_content() == "旧闻，未立案"
    assert badges[0].get("title").startswith("旧闻，未立案：发布于采集前 30 天")
