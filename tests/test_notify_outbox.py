"""The delivery loop: claiming, idempotency, backoff, fallback, alarms, quiet hours, crash recovery, logs."""

import asyncio
import logging
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.clock import SHANGHAI
from monitor.domain import ChannelKind, EventKind, OrgDirectory, Person, Role, RoleAssignment, Unit, UnitKind
from monitor.notifications.planning import Policy
from monitor.storage.schema import heartbeats

from .conftest import START
from .notify_fakes import FakeWebhook, start
from .notify_support import (
    add_incident,
    alert_row,
    attempt_rows,
    enqueue,
    make_settings,
    notifier,
    outbox_rows,
    timeline,
    until_parked,
)

HOOK_SECRET = "hook-secret-0123456789"


def org(leader_channels=(ChannelKind.WEBHOOK, ChannelKind.CONSOLE), duty_channels=(ChannelKind.CONSOLE,)):
    units = [
        Unit("gov", "明湖市人民政府", "市人民政府", UnitKind.GOVERNMENT),
        Unit("duty", "市政府总值班室", "总值班室", UnitKind.GOV_OFFICE, parent="gov"),
    ]
    duty = (RoleAssignment(Role.DUTY_OFFICER, "duty"),)
    people = [
        Person("duty1", "值班员甲", roles=duty, channels=duty_channels),
        Person("duty2", "值班员乙", roles=duty, channels=duty_channels),
        Person("leader", "领导丙", roles=(RoleAssignment(Role.PRINCIPAL, "gov"),), channels=leader_channels),
    ]
    return OrgDirectory.build("明湖市", units, people)


@pytest.fixture
async def hook():
    fake = FakeWebhook(HOOK_SECRET)
    server = await start(fake.app)
    fake.url = str(server.make_url("/hook"))
    yield fake
    await server.close()


def hook_settings(hook, **kw):
    values = {"webhook_url": hook.url, "webhook_secret": HOOK_SECRET, "notify_console": True, "notify_max_attempts": 3}
    return make_settings(**{**values, **kw})


def test_backoff_is_exponential_bounded_and_jittered():
    policy = Policy(backoff_base_s=30, backoff_max_s=300)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (4, 240), (5, 300), (9, 300)]:
        waits = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # jitter spreads retries of many rows
    assert Policy().backoff(3, random.Random(5)) == Policy().backoff(3, random.Random(5))  # injectable RNG


async def test_failures_back_off_then_fall_back_to_the_next_channel(sqlite_db, clock, hook):
    hook.fail_first = 99
    lines = []
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, "leader"))
    async with notifier(sqlite_db, clock, hook_settings(hook), org=org(), write=lines.append) as (n, _):
        waits = []
        for _ in range(3):
            await n.run_once()
            [row] = await outbox_rows(sqlite_db)
            waits.append((row.next_attempt_at - clock.now()).total_seconds())
            clock.set(row.next_attempt_at)
        assert 15 <= waits[0] <= 30 and 30 <= waits[1] <= 60 and waits[2] == 0  # third failure: next channel now
        assert (row.status, row.channel, row.channel_attempts, row.attempts) == ("pending", "console", 0, 3)
        assert (await n.run_once()).sent == 1
    assert len(hook.requests) == 3 and lines[0].startswith("[通知 → 领导丙]")
    kinds = [
        (e.kind, e.payload.get("fallback"), e.payload.get("retry_at") is not None)
        for e in await timeline(sqlite_db, incident)
    ][1:]
    assert kinds == [
        (EventKind.NOTIFICATION_FAILED, None, True),
        (EventKind.NOTIFICATION_FAILED, None, True),
        (EventKind.NOTIFICATION_FAILED, "console", False),
        (EventKind.NOTIFICATION_SENT, None, False),
    ]


async def test_a_person_no_channel_reaches_is_reported_to_the_duty_officers(sqlite_db, clock, hook):
    hook.fail_for = {"leader"}
    directory = org(leader_channels=(ChannelKind.WEBHOOK,), duty_channels=(ChannelKind.WEBHOOK,))
    settings = hook_settings(hook, notify_max_attempts=1, notify_console=False)
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, "leader"))
    async with notifier(sqlite_db, clock, settings, org=directory) as (n, _):
        await n.run_once()  # webhook fails; no fallback left: failed + system alert
        await n.run_once()  # system alert fans out to both duty officers
        await n.run_once()  # … who get it over their channel
    rows = await outbox_rows(sqlite_db)
    assert rows[0].status == "failed" and "HTTP 503" in rows[0].last_error
    assert [r.idempotency_key for r in rows[1:]] == [
        "system:undeliverable:1",
        "system:undeliverable:1:duty1",
        "system:undeliverable:1:duty2",
    ]
    assert [r.status for r in rows[1:]] == ["fanned_out", "sent", "sent"]
    alarms = [r.body for r in hook.requests if r.body["notifications"][0]["kind"] == "system_alert"]
    assert sorted(a["notifications"][0]["recipient"] for a in alarms) == ["duty1", "duty2"]
    expected = (
        "【系统告警】提醒未能送达 领导丙（leader）：【预警】东港化工园区爆炸。已尝试渠道：webhook；最后错误：HTTP 503"
    )
    assert all(a["title"].startswith(expected) for a in alarms)
    assert "请电话通知本人" in alarms[0]["text"]
    failed = [e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.NOTIFICATION_FAILED]
    assert failed[-1].payload["gave_up"] is True


async def test_unknown_recipient_is_never_dropped_silently(sqlite_db, clock):
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, "ghost"))
    async with notifier(sqlite_db, clock, make_settings(notify_console=True), org=org()) as (n, _):
        await n.run_once()
    rows = await outbox_rows(sqlite_db)
    assert rows[0].status == "failed" and "不在通讯录中" in rows[0].last_error
    assert rows[1].idempotency_key == "system:undeliverable:1" and rows[1].urgent
    [event] = [e for e in await timeline(sqlite_db, incident) if e.kind == EventKind.NOTIFICATION_FAILED]
    assert event.payload["person_id"] == "ghost"


async def test_duplicate_rows_and_repeated_fan_out_are_skipped(sqlite_db, clock):
    row = alert_row(START, None, None, kind="system_alert")
    await enqueue(sqlite_db, row, row)
    await enqueue(sqlite_db, row)
    assert len(await outbox_rows(sqlite_db)) == 1
    async with notifier(sqlite_db, clock, make_settings(notify_console=True), org=org()) as (n, _):
        await n.run_once()
        await n.run_once()
        await n.run_once()
    rows = await outbox_rows(sqlite_db)
    assert [(r.recipient, r.status) for r in rows] == [(None, "fanned_out"), ("duty1", "sent"), ("duty2", "sent")]


def shanghai(hour, minute=0, day=24):
    return datetime(2026, 9, day, hour, minute, tzinfo=SHANGHAI)


async def test_quiet_hours_hold_only_non_urgent_alerts_and_then_send_one_digest(db, clock):
    lines = []
    clock.set(shanghai(23))
    now = clock.now()
    await enqueue(
        db,
        alert_row(now, None, "leader", step="a", urgent=False, title="小区停水", event_level="IV"),
        alert_row(now, None, "leader", step="b", urgent=False, title="公交改线", event_level=""),
        alert_row(now, None, "leader", step="c", urgent=True, title="化工园区爆炸"),
        alert_row(now, None, "duty1", step="d", urgent=False, title="值班提醒", event_level="III"),
        # an I–II deadline alert or a breach written without the urgent flag is still never held
        alert_row(now, None, "leader", step="e", urgent=False, title="水库溃坝", event_level="I"),
        alert_row(now, None, "leader", step="f", urgent=False, title="路面塌陷", event_level="IV",
                  kind="deadline_breach"),
    )  # fmt: skip
    directory = org(leader_channels=(ChannelKind.CONSOLE,))
    settings = make_settings(notify_console=True, notify_quiet_hours="22:00-07:30")
    async with notifier(db, clock, settings, org=directory, write=lines.append) as (n, _):
        report = await n.run_once()
        assert (report.sent, report.deferred) == (4, 2)  # the urgent ones, and the duty officer (never quiet)
        held = [r for r in await outbox_rows(db) if r.status == "pending"]
        assert {r.payload["incident"]["title"] for r in held} == {"小区停水", "公交改线"}
        assert {r.next_attempt_at for r in held} == {shanghai(7, 30, day=25)}
        clock.set(shanghai(7, 30, day=25))
        assert (await n.run_once()).sent == 2
    night, morning = lines[:4], lines[4:]
    assert [any(t in line for line in night) for t in ("化工园区爆炸", "值班提醒", "水库溃坝", "路面塌陷")] == [
        True
    ] * 4
    assert len(morning) == 1 and morning[0].splitlines()[1] == "    【汇总】2 条舆情处置提醒"  # one digest
    assert "小区停水" in morning[0] and "公交改线" in morning[0]


async def test_webhook_is_signed_and_exactly_once_across_a_crash(db, clock, hook):
    directory = org(leader_channels=(ChannelKind.WEBHOOK,))
    settings = hook_settings(hook)
    await enqueue(db, alert_row(START, None, "leader"))
    async with notifier(db, clock, settings, org=directory, worker="dies") as (n, _):
        await n.send(await n.prepare(await n.claim()))  # delivered; the worker dies before recording
    clock.advance(settings.notify_lease_s + 1)
    async with notifier(db, clock, settings, org=directory, worker="heir") as (n, _):
        assert (await n.run_once()).sent == 1
    first, second = hook.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert len(hook.processed) == 1  # the receiver acted once; the repeat got 409 and counts as delivered
    body = first.body
    assert body["notifications"][0]["idempotency_key"] == "None:7:warn-1h:0:leader"
    assert body["notifications"][0]["payload"]["rule"]["id"] == "GB80-AUTH-RELEASE-5H"
    assert first.headers["X-Monitor-Timestamp"] == str(int(START.timestamp()))
    [row] = await outbox_rows(db)
    assert row.status == "sent"


async def test_two_workers_never_claim_the_same_row(db, clock):
    await enqueue(db, *(alert_row(START, None, "leader", step=f"s{i}") for i in range(50)))
    settings = make_settings(notify_console=True, notify_batch=30)
    async with (
        notifier(db, clock, settings, org=org(), worker="a") as (a, _),
        notifier(db, clock, settings, org=org(), worker="b") as (b, _),
    ):
        first, second = await asyncio.gather(a.claim(), b.claim())
        assert len(first) + len(second) == 50
        assert not {r.id for r in first} & {r.id for r in second}
        assert await a.claim() == [] and await b.claim() == []  # all leased
        clock.advance(settings.notify_lease_s + 1)
        assert len(await a.claim()) == 30  # an expired lease is claimable again (in doubt)


async def test_secrets_never_reach_logs_rows_or_timeline(sqlite_db, clock, caplog, unused_tcp_port):
    caplog.set_level(logging.DEBUG)
    token, hook_secret = "tok3n-in-the-url-0123", "hook-secret-zzz-987"
    settings = make_settings(
        webhook_url=f"http://127.0.0.1:{unused_tcp_port}/hook?token={token}",  # nothing listens there
        webhook_secret=hook_secret,
        slack_bot_token="xoxb-secret-slack-token",
        smtp_password="smtp-secret-pw",
    )
    directory = org(leader_channels=(ChannelKind.WEBHOOK,))
    incident = await add_incident(sqlite_db, START)
    await enqueue(sqlite_db, alert_row(START, incident, "leader", channel="webhook"))
    async with notifier(sqlite_db, clock, settings, org=directory) as (n, _):
        report = await n.run_once()
    assert "连接失败" in report.outcomes[1]
    stored = [str(tuple(r)) for r in [*await outbox_rows(sqlite_db), *await attempt_rows(sqlite_db)]]
    stored += [str(e.payload) for e in await timeline(sqlite_db, incident)]
    text = caplog.text + "\n".join(stored)
    for secret in (token, hook_secret, "xoxb-secret-slack-token", "smtp-secret-pw"):
        assert secret not in text


async def test_the_loop_runs_on_the_clock_and_beats(sqlite_db, clock):
    lines = []
    stop = asyncio.Event()
    settings = make_settings(notify_console=True, notify_poll_s=5)
    async with notifier(
        sqlite_db, clock, settings, org=org(leader_channels=(ChannelKind.CONSOLE,)), write=lines.append
    ) as (n, _):
        task = asyncio.create_task(n.run(stop))
        await until_parked(clock)
        await enqueue(sqlite_db, alert_row(START, None, "leader"))
        assert lines == []
        clock.advance(5)
        await until_parked(clock)
        assert len(lines) == 1
        stop.set()
        await task
    async with sqlite_db.read() as conn:
        beat = (await conn.execute(select(heartbeats))).one()
    assert (beat.component, beat.instance, beat.at) == ("notifier", "w1", START + timedelta(seconds=5))
    assert beat.info["sent"] == 1


async def test_an_alert_held_overnight_is_not_sent_once_its_deadline_was_met(sqlite_db, clock):
    """A 48 h warning written at 23:00 waits for the end of quiet hours; the unit responds at
    06:00. At 07:30 the liaison must not be told the deadline is still pending."""
    from monitor.domain import commands as c
    from monitor.engine.commands import execute

    from .engine_support import Svc, new_incident

    lines = []
    clock.set(shanghai(23))
    svc = Svc(sqlite_db, clock)
    iid = await new_incident(svc, None, "L2", title="城北停水无人通知", owner_unit="water")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    settings = make_settings(notify_console=True, notify_quiet_hours="22:00-07:30")
    async with notifier(sqlite_db, clock, settings, write=lines.append) as (n, _):
        report = await n.run_once()
        assert report.deferred >= 1 and not lines
        clock.set(shanghai(6, day=25))
        response = c.RecordResponse(
            incident_id=iid,
            actor="zhu_min",
            at=clock.now(),
            kind="authoritative_release",
            url="https://water.gov.example/notice/1",
            approved_by="刘芳",
        )
        await execute(svc, response)
        clock.set(shanghai(7, 30, day=25))
        await n.run_once()
    assert not [line for line in lines if "48小时内予以回应" in line]
    assert [line for line in lines if "持续发布权威信息" in line]  # the obligation the response opened
    held = [r for r in await outbox_rows(sqlite_db) if r.payload["rule"]["id"] == "GB61-RESPOND-48H"]
    assert held and {r.status for r in held} == {"cancelled"}
    assert all("已履行" in (r.last_error or "") for r in held)


async def test_a_console_digest_for_several_people_records_each_row_as_sent_to_its_own_person(sqlite_db, clock):
    lines = []
    iid = await add_incident(sqlite_db, START)
    await enqueue(
        sqlite_db,
        *(alert_row(START, iid, p, step=s, urgent=False, event_level="IV") for p in ("duty1", "duty2") for s in "ab"),
    )
    async with notifier(sqlite_db, clock, make_settings(notify_console=True), org=org(), write=lines.append) as (n, _):
        assert (await n.run_once()).sent == 4
    assert len(lines) == 1 and lines[0].startswith("[通知 → 值班员甲、值班员乙]")  # one shared console, both named
    items = [line for line in lines[0].splitlines() if "【预警】" in line]
    assert len(items) == 2 and all(line.endswith("提醒对象 值班员甲、值班员乙") for line in items), items
    rows = {r.id: r.recipient for r in await outbox_rows(sqlite_db)}
    sent = [e.payload for e in await timeline(sqlite_db, iid) if e.kind == EventKind.NOTIFICATION_SENT]
    assert len(sent) == 4
    names = {"duty1": "值班员甲", "duty2": "值班员乙"}
    for p in sent:  # recorded as delivered to the person the row is for, never to another
        assert p["person_id"] == rows[p["outbox_id"]] and p["to"] == names[p["person_id"]], p


async def test_held_reminders_to_accept_are_not_sent_after_the_unit_accepted_nor_piled_up(sqlite_db, clock):
    """待认领 reminders written overnight wait for the end of quiet hours. At 07:30 the unit that
    认领'd at 07:00 is told nothing more; the unit that has not gets the newest reminder only."""
    from monitor.domain import commands as c
    from monitor.engine.commands import execute
    from monitor.engine.runner import Engine

    from .engine_support import Svc, new_incident

    lines: list[str] = []
    clock.set(shanghai(21))
    svc = Svc(sqlite_db, clock)
    accepted = await new_incident(svc, None, "L2", title="城北停水无人通知", owner_unit="water")
    waiting = await new_incident(svc, None, "L2", title="城南路灯不亮", owner_unit="urban_management")
    for iid in (accepted, waiting):
        await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    settings = make_settings(notify_console=True, notify_quiet_hours="22:00-07:30")
    async with notifier(sqlite_db, clock, settings, write=lines.append) as (n, _):
        await n.run_once()  # the 交办 notices, before quiet hours
        for hour in (23, 1, 3, 5):  # reminders every 2 h, held
            clock.set(shanghai(hour, day=24 if hour == 23 else 25))
            await Engine(svc).tick()
            assert (await n.run_once()).deferred >= 1
        clock.set(shanghai(7, day=25))
        await execute(svc, c.Accept(incident_id=accepted, actor="zhu_min", at=clock.now()))
        clock.set(shanghai(7, 30, day=25))
        await n.run_once()
    reminders = [r for r in await outbox_rows(sqlite_db) if r.payload.get("reminder")]
    assert reminders and all("#" in r.payload["step"] for r in reminders)
    mine = [r for r in reminders if r.incident_id == accepted]
    assert mine and {r.status for r in mine} == {"cancelled"}
    assert all("已认领" in (r.last_error or "") for r in mine)
    assert not [line for line in lines if "待认领" in line and "城北停水" in line]
    theirs: dict[str, list] = {}
    for r in reminders:
        if r.incident_id == waiting:
            theirs.setdefault(r.recipient, []).append(r)
    assert len(theirs) == 2 and all(len(rows) == 4 for rows in theirs.values())  # 联络员 and 分管领导
    for rows in theirs.values():  # per person: the newest sent, the older ones superseded
        assert [r.status for r in rows] == ["cancelled"] * (len(rows) - 1) + ["sent"], [r.status for r in rows]
        assert all("更新的待认领提醒" in (r.last_error or "") for r in rows[:-1])
