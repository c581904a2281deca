"""DingTalk and WeCom group robots against local servers that check signatures and rate limits."""

from datetime import timedelta

import pytest

from monitor.domain import EventKind

from .conftest import START
from .notify_fakes import FakeDingTalk, FakeWeCom, dingtalk_sign, start
from .notify_support import (
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
)

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
EMERGENCY = ("ma_zhenhua", "fu_qiang", "zhao_lei")  # 应急管理局: channels [dingtalk, email]
DONGGANG = ("tao_jianping", "bao_chen")  # 东港镇: channels [wecom, email]


@pytest.fixture
async def dingtalk(clock):
    fake = FakeDingTalk(clock, {"tok-emergency": SECRET})
    server = await start(fake.app)
    fake.env = {
        "MONITOR_ROBOT_EMERGENCY_DINGTALK_URL": fake.url(server, "tok-emergency"),
        "MONITOR_ROBOT_EMERGENCY_DINGTALK_SECRET": SECRET,
    }
    yield fake
    await server.close()


@pytest.fixture
async def wecom(clock):
    fake = FakeWeCom(clock, ["key-donggang"])
    server = await start(fake.app)
    fake.env = {"MONITOR_ROBOT_DONGGANG_WECOM_URL": fake.url(server, "key-donggang")}
    yield fake
    await server.close()


async def test_one_signed_markdown_message_mentions_everyone_the_alert_is_for(sqlite_db, clock, dingtalk):
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, *(alert_row(START, incident, p) for p in EMERGENCY))
    async with notifier(sqlite_db, clock, make_settings(), dingtalk.env) as (n, _):
        report = await n.run_once()
    assert report.sent == 3
    [request] = dingtalk.requests
    timestamp = str(int(START.timestamp() * 1000))
    assert request.query == {
        "access_token": "tok-emergency",
        "timestamp": timestamp,
        "sign": dingtalk_sign(SECRET, timestamp),
    }
    body = request.body
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "【预警】东港化工园区爆炸"
    assert body["at"] == {"atMobiles": ["13900000034", "13900000035", "13900000036"], "isAtAll": False}
    text = body["markdown"]["text"]
    assert text.startswith("### 【预警】东港化工园区爆炸\n")
    assert "- **截止时间**：2026-09-24 10:00（北京时间）" in text and "- **剩余时间**：还剩 1小时00分" in text
    assert f"[查看事件详情](https://yuqing.minghu.gov.example/incidents/{incident})" in text
    assert text.endswith("@13900000034 @13900000035 @13900000036")  # DingTalk only notifies @mobiles in the text
    events = [e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.NOTIFICATION_SENT]
    assert sorted(e.payload["person_id"] for e in events) == sorted(EMERGENCY)
    assert {e.payload["to"] for e in events} == {"应急管理局值班群"}


def burst(n: int, offset: int, incident: int):
    return [
        alert_row(START, incident, "zhao_lei", step=f"s{offset + i}", title=f"事件{offset + i:02d}") for i in range(n)
    ]


async def test_over_twenty_a_minute_becomes_digests_never_dropped_never_blocked(db, clock, dingtalk):
    incident = await add_incident(db, START)
    async with notifier(db, clock, make_settings(), dingtalk.env) as (n, _):
        await enqueue(db, *burst(18, 0, incident))
        assert (await n.run_once()).sent == 18
        clock.advance(10)
        await enqueue(db, *burst(10, 18, incident))
        assert (await n.run_once()).sent == 10  # budget 2 left: one digest carries all ten
        clock.advance(10)
        await enqueue(db, *burst(5, 28, incident))
        assert (await n.run_once()).sent == 5  # budget 1: one digest
        clock.advance(10)
        await enqueue(db, *burst(3, 33, incident))
        held = await n.run_once()
        assert (held.sent, held.deferred) == (0, 3)  # budget 0: wait for the window, do not get blocked
        waiting = [r for r in await outbox_rows(db) if r.status == "pending"]
        assert {r.next_attempt_at for r in waiting} == {START + timedelta(minutes=1)}
        clock.set(START + timedelta(minutes=1, seconds=1))
        assert (await n.run_once()).sent == 3
    assert len(dingtalk.requests) == len(dingtalk.accepted) == 18 + 1 + 1 + 3  # never a 130101
    digests = [r.body["markdown"]["text"] for r in dingtalk.accepted[18:20]]
    assert digests[0].startswith("### 【汇总】10 条舆情处置提醒，其中紧急 10 条")
    delivered = "\n".join(r.body["markdown"]["text"] for r in dingtalk.accepted)
    assert all(f"事件{i:02d}" in delivered for i in range(36))
    assert all(r.status == "sent" for r in await outbox_rows(db))


async def test_a_robot_blocked_by_dingtalk_is_left_alone_for_ten_minutes(db, clock, dingtalk):
    incident = await add_incident(db, START)
    dingtalk.robots["tok-emergency"].blocked_until = START + timedelta(minutes=10)  # another sender went over
    async with notifier(db, clock, make_settings(), dingtalk.env) as (n, _):
        await enqueue(db, *burst(1, 0, incident))
        await n.run_once()
        [row] = await outbox_rows(db)
        assert row.status == "pending" and row.next_attempt_at >= START + timedelta(minutes=10)
        [attempt] = await attempt_rows(db)
        assert attempt.outcome == "rate_limited" and attempt.blocked_until == START + timedelta(minutes=10)
        clock.advance(60)
        await enqueue(db, *burst(2, 1, incident))
        assert (await n.run_once()).deferred == 2 and len(dingtalk.requests) == 1  # no request while blocked
        clock.set(START + timedelta(minutes=10, seconds=30))
        assert (await n.run_once()).sent == 3
    failed = [e for e in await timeline(db, incident) if e.kind == EventKind.NOTIFICATION_FAILED]
    assert "钉钉限流（errcode 130101）" in failed[0].payload["error"]


async def test_a_wrong_signing_secret_falls_back_and_alarms_without_leaking_it(sqlite_db, clock, dingtalk):
    lines = []
    env = {**dingtalk.env, "MONITOR_ROBOT_EMERGENCY_DINGTALK_SECRET": "SECwrong-secret-value"}
    await enqueue(sqlite_db, alert_row(START, None, "zhao_lei"))
    async with notifier(sqlite_db, clock, make_settings(notify_console=True), env, write=lines.append) as (n, _):
        first = await n.run_once()
        assert "配置错误（errcode 310000）" in first.outcomes[1]
        await n.run_once()
        await n.run_once()
    rows = await outbox_rows(sqlite_db)
    assert rows[0].status == "sent" and rows[0].channel == "console"
    assert any(r.idempotency_key.startswith("system:channel:dingtalk:emergency-dingtalk:") for r in rows)
    everything = "\n".join(lines + [str(r.last_error) for r in rows] + [str(r.payload) for r in rows])
    assert "SECwrong-secret-value" not in everything and "tok-emergency" not in everything


async def test_wecom_markdown_then_a_text_mention_both_within_budget(sqlite_db, clock, wecom):
    incident = await add_incident(sqlite_db, START, title="东港渔港码头油污")
    oil = {"owner_unit": "donggang", "title": "东港渔港码头油污"}
    await enqueue(sqlite_db, *(alert_row(START, incident, p, **oil) for p in DONGGANG))
    async with notifier(sqlite_db, clock, make_settings(), wecom.env) as (n, _):
        assert (await n.run_once()).sent == 2
        markdown, mention = (r.body for r in wecom.requests)
        assert markdown["msgtype"] == "markdown"
        content = markdown["markdown"]["content"]
        assert content.startswith('**<font color="warning">【预警】东港渔港码头油污</font>**')
        assert "- **责任单位**：明湖市东港镇人民政府\n- **提醒对象**：陶建平、包晨\n" in content
        assert mention == {
            "msgtype": "text",
            "text": {
                "content": "请 陶建平、包晨 查收上面的提醒。",
                "mentioned_mobile_list": ["13900000112", "13900000114"],
            },
        }
        # each mention costs a request: 10 alerts x 2 = the whole minute's budget; one more makes a digest
        await enqueue(
            sqlite_db,
            *(alert_row(START, incident, "bao_chen", step=f"x{i}", **oil) for i in range(11)),
        )
        clock.advance(1)
        assert (await n.run_once()).sent == 11
    assert len(wecom.requests) == 4 and wecom.requests[2].body["markdown"]["content"].startswith(
        '**<font color="warning">【汇总】11 条'
    )
    assert all(len(r.body.get("markdown", {}).get("content", "").encode()) <= 4096 for r in wecom.requests)


async def test_a_monthly_report_reaches_a_group_robot_as_a_link(sqlite_db, clock, dingtalk, tmp_path):
    await enqueue(sqlite_db, report_row(START, "ma_zhenhua", report_files(tmp_path, {"html": 1000})))
    async with notifier(sqlite_db, clock, make_settings(data_dir=str(tmp_path)), dingtalk.env) as (n, _):
        assert (await n.run_once()).sent == 1
    [request] = dingtalk.requests
    markdown = request.body["markdown"]
    assert markdown["title"] == f"【月报】{REPORT_TITLE}"
    assert f"[查看月报]({REPORT_URL})" in markdown["text"] and "回应率 50.0%" in markdown["text"]


async def test_a_robot_message_in_doubt_after_a_crash_is_sent_again_marked_as_a_possible_repeat(
    sqlite_db, clock, dingtalk
):
    """A custom robot cannot be asked what it received and takes no idempotency key: after a crash
    between send and record the message goes again, saying so (docs/notifications.md)."""
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, "zhao_lei"))
    settings = make_settings()
    async with notifier(sqlite_db, clock, settings, dingtalk.env, worker="dies") as (n, _):
        await n.send(await n.prepare(await n.claim()))  # delivered; the worker dies before recording
    clock.advance(settings.notify_lease_s + 1)
    async with notifier(sqlite_db, clock, settings, dingtalk.env, worker="heir") as (n, _):
        assert (await n.run_once()).sent == 1
    first, second = (r.body["markdown"]["text"] for r in dingtalk.accepted)
    assert "补发" not in first and "（补发：上次发送的结果未能确认，如已收到请忽略）" in second
    assert [a.outcome for a in await attempt_rows(sqlite_db)] == ["in_doubt", "sent"]
    [row] = await outbox_rows(sqlite_db)
    assert row.status == "sent"  # `attempts` counts recorded tries; the in-doubt one is in notification_attempts


async def test_a_message_whose_worker_keeps_dying_is_sent_a_bounded_number_of_times_then_alarmed(
    sqlite_db, clock, dingtalk
):
    """A message that crashes every worker between send and record (a poison message) must not go
    out again at every lease expiry for ever: after notify_max_attempts unconfirmed sends the row
    fails and the duty officers are told."""
    lines = []
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, "zhao_lei"))
    settings = make_settings(notify_max_attempts=3, notify_console=True)
    for i in range(3):
        async with notifier(sqlite_db, clock, settings, dingtalk.env, worker=f"dies{i}") as (n, _):
            await n.send(await n.prepare(await n.claim()))  # sent … and the worker dies before recording
        clock.advance(settings.notify_lease_s + 1)
    async with notifier(sqlite_db, clock, settings, dingtalk.env, worker="heir", write=lines.append) as (n, _):
        report = await n.run_once()
        assert (report.sent, report.failed) == (0, 1)
        await n.run_once()  # the system alert fans out to the duty officers …
        await n.run_once()  # … who get it (console in this setup)
    assert len(dingtalk.accepted) == 3  # bounded: no fourth copy
    rows = await outbox_rows(sqlite_db)
    assert rows[0].status == "failed" and "连续 3 次中断" in rows[0].last_error
    assert [a.outcome for a in await attempt_rows(sqlite_db)][:3] == ["in_doubt", "in_doubt", "in_doubt"]
    assert rows[1].idempotency_key == f"system:undeliverable:{rows[0].id}"
    assert any("提醒无法投递" in line and "notifier" in line for line in lines)
    failed = [e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.NOTIFICATION_FAILED]
    assert failed[-1].payload["gave_up"] is True
