"""The incident page, evidence downloads, AddNote end to end and validation errors that keep the
input (the engine-backed actions: test_actions.py)."""

import dataclasses
import random
from datetime import timedelta

from sqlalchemy import select

from monitor.domain import UserRole
from monitor.notifications.service import build_channels, create_notifier
from monitor.storage.repo.incidents import list_events
from monitor.storage.schema import incident_events

from .conftest import ORG, add_incident, add_item_with_evidence, confirmed_incident, post_form

WHY = {"why": ["命中关键词：爆炸、化工园区", "死亡 3 人 → 较大（III）"], "event_level": "III"}


async def test_page_shows_items_sources_evidence_classification_obligations_timeline(web_env):
    env = web_env
    now = env.clock.now()
    incident = await add_incident(env.db, now, obligation=True, co_units=["ecology"])
    sha = await add_item_with_evidence(env.db, now, incident, body=b"<rss>evidence</rss>", classification=WHY)
    client = await env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get(f"/incidents/{incident}")).text()
    for expected in (
        "东港化工园区爆炸",
        "东港化工园区爆炸的摘要",
        "化工园区爆炸现场报道1",
        "明湖日报",
        "市媒体",
        '<span class="media-type">纸媒</span>',
        f"/incidents/{incident}/evidence/{sha}",
        "命中关键词：爆炸、化工园区",
        "死亡 3 人 → 较大（III）",
        "GB80-AUTH-RELEASE-5H",
        "发布权威信息",
        "自然小时",
        "计时中",
        "剩余 3小时0分",
        "2026-09-24 12:00",
        "明湖市应急管理局",
        "明湖市生态环境局",
        "监测发现",
    ):
        assert expected in html, expected


async def test_evidence_is_a_plain_text_download_never_html(web_env):
    env = web_env
    now = env.clock.now()
    incident = await add_incident(env.db, now)
    other = await add_incident(env.db, now, title="另一事件")
    body = b"<html><script>alert(1)</script></html>"
    sha = await add_item_with_evidence(env.db, now, incident, body=body)
    client = await env.login(UserRole.ANALYST)
    resp = await client.get(f"/incidents/{incident}/evidence/{sha}")
    assert resp.status == 200 and await resp.read() == body
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    assert (await client.get(f"/incidents/{other}/evidence/{sha}")).status == 404  # not this incident's item
    assert (await client.get(f"/incidents/{incident}/evidence/../../etc")).status == 404


async def test_add_note_appends_to_the_timeline_audits_and_announces(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    client = await env.login(UserRole.DUTY_OFFICER)
    with env.services.changes.subscribe() as changes:
        resp = await post_form(client, f"/incidents/{incident}/actions/notes", {"text": "已电话联系应急局值班室"})
        assert resp.status == 303 and resp.headers["Location"] == f"/incidents/{incident}#timeline"
        assert await changes.next() == {incident}
    async with env.db.read() as conn:
        events = await list_events(conn, incident)
    [note] = [e for e in events if e.kind.value == "note_added"]
    assert (
        note.kind.value == "note_added" and note.actor == "duty" and note.payload == {"text": "已电话联系应急局值班室"}
    )
    [entry] = await env.audit("incident.add_note")
    assert entry.target_id == str(incident) and entry.before["status"] == "assigned"
    assert entry.after["input"] == {"text": "已电话联系应急局值班室"} and entry.after["message"] == "已添加备注"
    html = await (await client.get(f"/incidents/{incident}")).text()
    assert 'id="flash">已添加备注</p>' in html and "已电话联系应急局值班室" in html
    html = await (await client.get(f"/incidents/{incident}")).text()
    assert 'id="flash"' not in html  # shown once


async def test_bad_input_is_named_and_kept(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await post_form(client, f"/incidents/{incident}/actions/notes", {"text": "x" * 5001})
    html = await resp.text()
    assert resp.status == 400 and "「备注内容」不能超过 5000 个字符（当前 5001 个）" in html
    assert "x" * 5001 in html and 'id="action-notes" open' in html
    resp = await post_form(client, f"/incidents/{incident}/actions/regrade", {"reason": "媒体报道升级"})
    html = await resp.text()
    assert resp.status == 400 and "「突发事件级别」「舆情级别」「事件类别」与「是否需要回应」至少选择一项" in html
    assert "媒体报道升级" in html
    resp = await post_form(
        client, f"/incidents/{incident}/actions/pause-requests", {"rule_id": "", "until": "昨天", "reason": ""}
    )
    html = await resp.text()
    assert resp.status == 400 and "「时限要求」为必填项" in html and "「原因」为必填项" in html
    assert "「暂停至」不是有效的时间" in html and 'value="昨天"' in html
    async with env.db.read() as conn:
        kinds = [r.kind for r in await conn.execute(select(incident_events.c.kind))]
    assert kinds == ["detected"]  # nothing was written


async def test_roles_without_the_action_get_403(web_env):
    incident = await add_incident(web_env.db, web_env.clock.now())
    analyst = await web_env.login(UserRole.ANALYST)
    assert (await post_form(analyst, f"/incidents/{incident}/actions/notes", {"text": "分析员不能写"})).status == 403
    html = await (await analyst.get(f"/incidents/{incident}")).text()
    assert 'id="action-evaluation"' in html and 'id="action-notes"' not in html  # analysts only record 效果评估
    leader = await web_env.login(UserRole.LEADER)
    html = await (await leader.get(f"/incidents/{incident}")).text()
    assert "确认收到提醒" in html and "批准暂停" in html and "确认为政务舆情" not in html
    assert (await post_form(leader, f"/incidents/{incident}/actions/confirm")).status == 403


async def test_missing_incident_is_404(web_env):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    assert (await client.get("/incidents/424242")).status == 404
    assert (await client.get("/incidents/abc")).status == 404
    assert (await post_form(client, "/incidents/424242/actions/notes", {"text": "x"})).status == 404
    assert (await post_form(client, "/incidents/1/actions/no-such-action", {})).status == 404


def test_every_rule_action_and_event_kind_has_a_chinese_label():
    from monitor.domain import EventKind
    from monitor.web.labels import EVENT_KIND_LABELS, OBLIGATION_ACTION_LABELS
    from tests.engine_support import POLICY  # the shipped rules

    assert {r.action for r in POLICY.playbook.rules} <= set(OBLIGATION_ACTION_LABELS)
    assert set(EventKind) == set(EVENT_KIND_LABELS)


async def test_the_timeline_shows_notifications_delivered_for_the_incident(web_env):
    """The notifier writes 提醒已送达 events; the page names the alert, the person and the channel."""
    env = web_env
    incident = await confirmed_incident(env, detected_ago=timedelta(0))
    settings = dataclasses.replace(env.services.settings, notify_console=True)
    lines: list[str] = []
    built = build_channels(settings, env.services.org, {}, env.clock, random.Random(1), lines.append)
    try:
        report = await create_notifier(env.db, env.clock, settings, built, rng=random.Random(1)).run_once()
    finally:
        await built.close()
    assert report.sent >= 1 and lines
    client = await env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get(f"/incidents/{incident}")).text()
    assert "提醒已送达" in html
    assert "预警 → 朱敏（控制台（演示））" in html  # the duty officer, through the console channel
    assert "message_id" not in html and "person_id" not in html  # no raw payload keys


def test_a_failed_notification_reads_with_its_channel_address_and_error():
    from datetime import UTC, datetime

    from monitor.domain import EventKind, IncidentEvent
    from monitor.web.timeline import event_summary

    payload = {"kind": "escalation", "person": "赵磊", "person_id": "zhao_lei", "channel": "email",
               "to": "zhaolei@emergency.minghu.gov.example", "error": "SMTP 550 mailbox unavailable"}  # fmt: skip
    event = IncidentEvent(1, EventKind.NOTIFICATION_FAILED, datetime(2026, 9, 24, tzinfo=UTC), "notifier", payload)
    text = event_summary(event)
    assert text.startswith("升级提醒 → 赵磊（电子邮件 zhaolei@emergency.minghu.gov.example）")
    assert text.endswith("；错误：SMTP 550 mailbox unavailable")


# The classifier's reasons as `monitor classify` stores them (copied from a demo item).
REAL_WHY = {
    "relevance": {"score": 0.9991, "by": "model", "top_terms": ["«爆炸»", "爆炸", "«发生»", "«事故»"]},
    "event_type": {"label": "生产安全", "by": "model", "score": 0.8213, "top_terms": ["«爆炸»", "发生爆炸"]},
    "incident": {"value": True, "score": 1.0, "because": "模型判定为突发事件（1.00）"},
    "facts": [
        {"value": 10, "text": "10人死亡", "kind": "total", "qualifier": "exact", "field": "deaths"},
        {
            "value": 1200,
            "text": "约1200名群众已疏散",
            "kind": "evacuated",
            "qualifier": "approx",
            "field": "people_involved",
        },
    ],
    "event_level": ["死亡10 ≥ 10 → II级", "依据：国务院令第493号 第三条"],
    "opinion_level": ["突发事件II级 → 至少L1"],
    "unit": ["事件类型 生产安全 → 应急管理局 牵头（谁主管谁负责）", "属地：东港镇"],
}


async def test_the_classifiers_reasons_read_in_chinese_never_as_raw_data(web_env):
    env = web_env
    now = env.clock.now()
    incident = await add_incident(env.db, now)
    await add_item_with_evidence(env.db, now, incident, body=b"<rss/>", classification={"why": REAL_WHY})
    client = await env.login(UserRole.LEADER)
    html = await (await client.get(f"/incidents/{incident}")).text()
    for expected in (
        "<b>相关性</b>：1.00，模型判定；关键词：爆炸、发生、事故",
        "<b>类别</b>：生产安全（模型判定，0.82）；关键词：爆炸、发生爆炸",
        "<b>突发事件</b>：是（模型判定为突发事件（1.00））",
        "<b>提取的事实</b>：死亡 10「10人死亡」、涉及人数 约1200「约1200名群众已疏散」",
        "<b>突发事件级别</b>：死亡10 ≥ 10 → II级；依据：国务院令第493号 第三条",
        "<b>责任单位</b>：事件类型 生产安全 → 应急管理局 牵头（谁主管谁负责）；属地：东港镇",
    ):
        assert expected in html, expected
    for raw in ("top_terms", "&#39;by&#39;", "{&#39;", "«", "relevance", "qualifier"):
        assert raw not in html, raw


def test_attached_items_ledger_imports_and_processes_read_in_chinese():
    from datetime import UTC, datetime

    from monitor.domain import EventKind, IncidentEvent
    from monitor.web.timeline import actor_name, event_summary, met_by_text

    at = datetime(2026, 9, 24, tzinfo=UTC)
    attached = {"item_id": 59, "title": "化工厂爆炸", "url": "https://a.example/1", "media_tier": "self_media",
                "media_type": "short_video", "event_level": "II", "opinion_level": "L1",
                "reason": {"rule": "similar", "similarity": 0.531, "threshold": 0.25, "window_h": 72.0}}  # fmt: skip
    text = event_summary(IncidentEvent(1, EventKind.ITEM_ATTACHED, at, "system", attached))
    assert text == (
        "稿件编号：59；标题：化工厂爆炸；链接：https://a.example/1；媒体层级：自媒体；媒体类型：短视频；突发事件级别：重大；"
        "舆情级别：重大；归并依据：与本事件相似度 0.531（阈值 0.25）"
    )
    merged = {"rule": "merge", "from": 12, "items": 3, "reason": "同一事件"}
    assert event_summary(IncidentEvent(1, EventKind.ITEM_ATTACHED, at, "duty", merged)) == (
        "稿件：3；归并依据：由事件 #12 合并而来；原因：同一事件"
    )
    imported = {"opinion_level": "L3", "requires_response": True, "source": "import:demo-ledger:D008",
                "date_only": False, "imported_at": "2026-11-23T03:58:33.100392+00:00"}  # fmt: skip
    text = event_summary(IncidentEvent(1, EventKind.CONFIRMED, at, "ledger-import", imported))
    assert text == "舆情级别：一般；需要回应：是；来源：台账导入（demo-ledger:D008）；导入时间：11-23 11:58"
    dated = event_summary(IncidentEvent(1, EventKind.DETECTED, at, "ledger-import", {"date_only": True}))
    assert dated == "台账只记录了日期，时间按规则推定"
    assert [actor_name(a, ORG) for a in ("system", "notifier", "ledger-import", "zhu_min", "duty")] == [
        "系统", "通知服务", "台账导入", "朱敏", "duty",
    ]  # fmt: skip
    assert met_by_text("confirm") == "确认为政务舆情" and met_by_text("dismiss") == "排除（非政务舆情）"
