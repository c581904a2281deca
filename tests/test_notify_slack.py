"""Slack: Block Kit alerts via a local Slack-like Web API, 429 handling, errors, crash recovery, buttons."""

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from monitor.domain import EventKind, Role
from monitor.notifications.ack import record_ack_event
from monitor.notifications.slack import interactivity_routes

from .conftest import START
from .notify_fakes import FakeSlack, start
from .notify_support import (
    ORG,
    REPORT_TITLE,
    REPORT_URL,
    add_incident,
    alert_row,
    attempt_rows,
    enqueue,
    make_settings,
    notifier,
    outbox_rows,
    report_files,
    report_row,
    timeline,
    until_parked,
)

LEADER = "jiang_wenbo"  # slack_user U0GOVOFF01, channels [slack, email]


@pytest.fixture
async def slack():
    fake = FakeSlack()
    server = await start(fake.app)
    fake.base = str(server.make_url("/api/"))
    yield fake
    await server.close()


def slack_settings(fake, **kw):
    return make_settings(**{"slack_bot_token": FakeSlack.TOKEN, "slack_api_url": fake.base, **kw})


async def test_alert_is_posted_as_block_kit_with_buttons_and_recorded(sqlite_db, clock, slack):
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, LEADER))
    async with notifier(sqlite_db, clock, slack_settings(slack)) as (n, _):
        report = await n.run_once()
    assert report.sent == 1 and report.failed == 0
    assert [r.path for r in slack.requests] == ["chat.postMessage"]  # exactly one request, nothing else
    [post] = slack.posts()
    body = post.body
    assert post.headers["Authorization"] == f"Bearer {FakeSlack.TOKEN}"
    assert sorted(body) == ["blocks", "channel", "metadata", "text", "unfurl_links"] and body["unfurl_links"] is False
    assert body["channel"] == "U0GOVOFF01"
    assert body["text"].startswith("【预警】东港化工园区爆炸")
    header, fields, actions = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "【预警】东港化工园区爆炸"}}
    shown = {f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in fields["fields"]}
    assert list(shown) == ["*事件*", "*级别*", "*时限要求*", "*截止时间*", "*剩余时间*", "*责任单位*", "*提醒对象*"]
    assert shown["*事件*"] == f"#{incident} 东港化工园区爆炸"
    assert shown["*时限要求*"] == "5小时内发布权威信息（国办发〔2016〕80号）"
    assert shown["*截止时间*"] == "2026-09-24 10:00（北京时间）"  # START is 09:00 Asia/Shanghai, due in 1 h
    assert shown["*剩余时间*"] == "还剩 1小时00分"
    assert shown["*级别*"] == "II级（重大），舆情L1（重大·红）"
    assert shown["*责任单位*"] == "明湖市应急管理局"
    assert shown["*提醒对象*"] == "蒋文博（联络员）"
    ack, view = actions["elements"]
    assert ack["action_id"] == "ack" and ack["text"]["text"] == "确认收到"
    assert json.loads(ack["value"]) == {"incident": incident, "rule": "GB80-AUTH-RELEASE-5H", "outbox": 1}
    assert view["url"] == f"https://yuqing.minghu.gov.example/incidents/{incident}"
    meta = body["metadata"]
    assert meta["event_type"] == "monitor_notification" and meta["event_payload"]["outbox"] == "1"
    [row] = await outbox_rows(sqlite_db)
    assert (row.status, row.attempts, row.channel, row.sent_at) == ("sent", 1, "slack", START)
    [attempt] = await attempt_rows(sqlite_db)
    assert attempt.outcome == "sent" and attempt.message_id == meta["event_payload"]["delivery"]
    sent = [e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.NOTIFICATION_SENT]
    assert sent[0].payload["channel"] == "slack" and sent[0].payload["person"] == "蒋文博"


async def test_429_with_short_retry_after_is_retried_in_place_on_the_clock(sqlite_db, clock, slack):
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"})
    async with notifier(sqlite_db, clock, slack_settings(slack)) as (n, _):
        task = asyncio.create_task(n.run_once())
        await until_parked(clock)  # the SDK's retry handler waits on our FakeClock, not on real time
        assert len(slack.posts()) == 1
        clock.advance(3.5)
        report = await asyncio.wait_for(task, 10)
    assert report.sent == 1 and len(slack.posts()) == 2


async def test_429_with_long_retry_after_goes_back_to_the_outbox(sqlite_db, clock, slack):
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "120"})
    async with notifier(sqlite_db, clock, slack_settings(slack)) as (n, _):
        await n.run_once()
        [row] = await outbox_rows(sqlite_db)
        assert row.status == "pending" and row.next_attempt_at >= START + timedelta(seconds=120)
        assert "Retry-After 120" in row.last_error
        clock.advance(60)
        assert (await n.run_once()).claimed == 0  # not before Retry-After
        clock.advance(100)
        assert (await n.run_once()).sent == 1
    assert len(slack.posts()) == 2


async def test_ok_false_for_the_recipient_falls_back_to_the_next_channel(sqlite_db, clock, slack):
    lines = []
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    slack.fail_next("chat.postMessage", 200, {"ok": False, "error": "user_disabled"})
    settings = slack_settings(slack, notify_console=True)  # jiang_wenbo: [slack, email]; e-mail unset; console last
    async with notifier(sqlite_db, clock, settings, write=lines.append) as (n, _):
        first = await n.run_once()
        assert first.sent == 0 and "user_disabled" in first.outcomes[1]
        [row] = await outbox_rows(sqlite_db)
        assert (row.status, row.channel, row.channel_attempts) == ("pending", "console", 0)
        second = await n.run_once()
    assert second.sent == 1 and lines[0].startswith("[通知 → 蒋文博]")
    assert [a.outcome for a in await attempt_rows(sqlite_db)] == ["failed", "sent"]


async def test_invalid_token_alerts_the_duty_officers(sqlite_db, clock, slack):
    lines = []
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    settings = slack_settings(slack, notify_console=True, slack_bot_token="xoxb-wrong-token-value")
    async with notifier(sqlite_db, clock, settings, write=lines.append) as (n, _):
        await n.run_once()  # Slack says invalid_auth: fallback + a system alert for all duty officers
        await n.run_once()  # the alert row fans out per duty officer; the leader's row goes to console
        await n.run_once()  # each duty officer gets it on their channel (console in this setup)
    rows = await outbox_rows(sqlite_db)
    system = [r for r in rows if r.kind == "system_alert"]
    parent = next(r for r in system if r.recipient is None)
    assert parent.status == "fanned_out" and parent.idempotency_key.startswith("system:channel:slack:U0GOVOFF01:")
    officers = {p.id for p in ORG.people_with(Role.DUTY_OFFICER)}
    assert {r.recipient for r in system if r.recipient} == officers
    assert all(r.status == "sent" for r in rows if r.recipient)
    assert sum("通知渠道故障：slack" in line for line in lines) == len(officers)
    assert "xoxb-wrong-token-value" not in "\n".join(lines)


async def test_crash_between_send_and_record_does_not_send_twice(db, clock, slack):
    incident = await add_incident(db, START)
    await enqueue(db, alert_row(START, incident, LEADER))
    settings = slack_settings(slack)
    async with notifier(db, clock, settings, worker="dies") as (n, _):
        batch = await n.prepare(await n.claim())
        await n.send(batch)  # delivered … and the worker dies before record()
    assert len(slack.posts()) == 1
    [row] = await outbox_rows(db)
    assert row.status == "sending" and row.claimed_by == "dies"
    clock.advance(settings.notify_lease_s + 1)
    async with notifier(db, clock, settings, worker="heir") as (n, _):
        report = await n.run_once()
    assert report.recovered == 1 and len(slack.posts()) == 1  # found by its metadata, not sent again
    [row] = await outbox_rows(db)
    assert row.status == "sent"
    assert [a.outcome for a in await attempt_rows(db)] == ["in_doubt", "recovered"]
    sent = [e for e in await timeline(db, incident) if e.kind == EventKind.NOTIFICATION_SENT]
    assert sent[0].payload["recovered"] is True


async def test_crash_before_the_send_arrives_sends_once_marked_as_possible_repeat(sqlite_db, clock, slack):
    await enqueue(sqlite_db, alert_row(START, None, LEADER))
    settings = slack_settings(slack)
    async with notifier(sqlite_db, clock, settings, worker="dies") as (n, _):
        await n.prepare(await n.claim())  # attempt recorded, then the worker dies before sending
    clock.advance(settings.notify_lease_s + 1)
    async with notifier(sqlite_db, clock, settings, worker="heir") as (n, _):
        assert (await n.run_once()).sent == 1
    [post] = slack.posts()
    assert "补发" in post.body["text"]
    assert [r.path for r in slack.requests] == ["conversations.open", "conversations.history", "chat.postMessage"]


def signed(secret: str, body: str, ts: int) -> dict[str, str]:
    base = f"v0:{ts}:{body}".encode()
    sig = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def click(slack, incident: int, user: str = "U0GOVOFF01") -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "response_url": slack.base.replace("/api/", "/response/1"),
        "actions": [
            {
                "action_id": "ack",
                "block_id": "alert-1",
                "value": json.dumps({"incident": incident, "rule": "R1", "outbox": 1}),
            }
        ],
        "message": {"blocks": [{"type": "header", "block_id": "h"}, {"type": "actions", "block_id": "alert-1"}]},
    }
    return urlencode({"payload": json.dumps(payload)})


async def test_button_click_is_verified_and_recorded_as_acknowledgement(sqlite_db, clock, slack):
    incident = await add_incident(sqlite_db, START)
    secret = "slack-signing-secret-123"
    acknowledge = record_ack_event(sqlite_db)
    assert interactivity_routes(make_settings(), clock, ORG, acknowledge) == []  # no signing secret: no endpoint
    app = web.Application()
    app.add_routes(interactivity_routes(make_settings(slack_signing_secret=secret), clock, ORG, acknowledge))
    async with TestClient(TestServer(app)) as client:
        await _clicks(client, sqlite_db, clock, slack, incident, secret)


async def _clicks(client, sqlite_db, clock, slack, incident, secret):
    body = click(slack, incident)
    now = int(clock.now().timestamp())
    bad = await client.post("/slack/interactions", data=body, headers=signed("wrong", body, now))
    assert bad.status == 401
    resp = await client.post("/slack/interactions", data=body, headers=signed(secret, body, now))
    assert resp.status == 200
    acks = [e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.ACKNOWLEDGED]
    assert len(acks) == 1 and acks[0].actor == "jiang_wenbo"
    assert acks[0].payload == {"rule_id": "R1", "via": "slack", "outbox_id": 1}
    [update] = slack.responses
    assert update.body["replace_original"] is True
    assert update.body["blocks"][1]["elements"][0]["text"] == "✅ 蒋文博 已于 09-24 09:00 已确认收到"
    clock.advance(301)  # a replayed request older than five minutes is refused (on our clock)
    stale = await client.post("/slack/interactions", data=body, headers=signed(secret, body, now))
    assert stale.status == 401
    stranger = click(slack, incident, user="UNKNOWN")
    ts = int(clock.now().timestamp())
    assert (await client.post("/slack/interactions", data=stranger, headers=signed(secret, stranger, ts))).status == 200
    assert slack.responses[-1].body["response_type"] == "ephemeral"
    assert len([e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.ACKNOWLEDGED]) == 1


async def test_a_monthly_report_is_posted_with_a_link_to_the_report_page(sqlite_db, clock, slack, tmp_path):
    files = report_files(tmp_path, {"html": 1000})
    await enqueue(sqlite_db, report_row(START, LEADER, files))
    async with notifier(sqlite_db, clock, slack_settings(slack, data_dir=str(tmp_path))) as (n, _):
        assert (await n.run_once()).sent == 1
    [post] = slack.posts()
    header, summary, who, actions = post.body["blocks"]
    assert header["text"]["text"] == f"【月报】{REPORT_TITLE}"
    assert "回应率 50.0%" in summary["text"]["text"] and who["fields"][0]["text"] == "*提醒对象*\n蒋文博"
    [view] = actions["elements"]  # no 确认收到: a report is not an alert to acknowledge
    assert view["text"]["text"] == "查看" and view["url"] == REPORT_URL
