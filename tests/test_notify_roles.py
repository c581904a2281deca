"""Preferences per role: channels (`notify_role_channels`) and quiet hours (`notify_role_quiet_hours`),
next to each person's own (`channels:` / `quiet_hours:` in the org file)."""

from datetime import datetime

import pytest

from monitor.clock import SHANGHAI
from monitor.config import ConfigError
from monitor.domain import ChannelKind, Role
from monitor.notifications.routing import role_channels, role_quiet_hours

from .conftest import START
from .notify_fakes import FakeDingTalk, start
from .notify_support import alert_row, enqueue, make_settings, notifier, outbox_rows

SECRET = "SECduty0123456789abcdef0123456789abcdef0123456789abcdef01234567"
PROPAGANDA_DUTY = ("zhu_min", "qin_hao")  # 宣传部舆情值班室 (robot duty-dingtalk); own channels [console, email]
GOV_OFFICE_DUTY = ("xu_ting", "lv_liang")  # 市政府总值班室: no group robot; own channels [console, email]


@pytest.fixture
async def duty_robot(clock):
    fake = FakeDingTalk(clock, {"tok-duty": SECRET})
    server = await start(fake.app)
    fake.env = {"MONITOR_ROBOT_DUTY_DINGTALK_URL": fake.url(server, "tok-duty"),
                "MONITOR_ROBOT_DUTY_DINGTALK_SECRET": SECRET}  # fmt: skip
    yield fake
    await server.close()


async def test_a_role_s_channels_come_before_the_person_s_own(sqlite_db, clock, duty_robot):
    lines = []
    await enqueue(sqlite_db, alert_row(START, None, None, kind="system_alert", title="采集中断"))
    settings = make_settings(notify_console=True, notify_role_channels="duty_officer: dingtalk, console")
    async with notifier(sqlite_db, clock, settings, duty_robot.env, write=lines.append) as (n, _):
        await n.run_once()  # fan out to every duty officer (payload role: duty_officer)
        assert (await n.run_once()).sent == 4
    # the two in the propaganda department's duty room: their duty group robot, one message @-ing both
    [request] = duty_robot.accepted
    assert request.body["at"]["atMobiles"] == ["13900000009", "13900000010"]
    # the two at the government office have no duty robot: the role's next channel, the console
    assert sorted(line.split("]")[0] for line in lines) == ["[通知 → 吕亮", "[通知 → 许婷"]
    rows = {r.recipient: r for r in await outbox_rows(sqlite_db) if r.recipient}
    assert {p: rows[p].channel for p in PROPAGANDA_DUTY + GOV_OFFICE_DUTY} == {
        "zhu_min": "dingtalk", "qin_hao": "dingtalk", "xu_ting": "console", "lv_liang": "console",
    }  # fmt: skip


async def test_without_role_channels_each_person_s_own_order_applies(sqlite_db, clock, duty_robot):
    lines = []
    await enqueue(sqlite_db, alert_row(START, None, None, kind="system_alert", title="采集中断"))
    async with notifier(sqlite_db, clock, make_settings(notify_console=True), duty_robot.env, write=lines.append) as (
        n,
        _,
    ):
        await n.run_once()
        assert (await n.run_once()).sent == 4
    assert duty_robot.requests == [] and len(lines) == 4  # [console, email]: the console first


def shanghai(hour, minute=0, day=24):
    return datetime(2026, 9, day, hour, minute, tzinfo=SHANGHAI)


def calm(now, person, role, step):
    row = alert_row(now, None, person, step=step, urgent=False, event_level="IV", title=f"提醒{step}")
    row["payload"]["role"] = role
    return row


async def test_quiet_hours_per_role(db, clock):
    lines = []
    clock.set(shanghai(23))
    settings = make_settings(
        notify_console=True,
        notify_quiet_hours="22:00-07:30",
        notify_role_quiet_hours="duty_officer: never; principal: 23:30-06:00",
    )
    await enqueue(
        db,
        calm(clock.now(), "chen_guodong", "principal", "a"),  # principal: quiet only from 23:30
        calm(clock.now(), "wang_chenyang", "liaison", "b"),  # no role rule: the default 22:00-07:30
        calm(clock.now(), "zhu_min", "duty_officer", "c"),  # duty officers: never quiet
    )
    async with notifier(db, clock, settings, write=lines.append) as (n, _):
        assert ((r := await n.run_once()).sent, r.deferred) == (2, 1)
        held = {r.recipient: r.next_attempt_at for r in await outbox_rows(db) if r.status == "pending"}
        assert held == {"wang_chenyang": shanghai(7, 30, day=25)}
        clock.set(shanghai(23, 45))
        await enqueue(db, calm(clock.now(), "chen_guodong", "principal", "d"))
        await n.run_once()
        held = {r.recipient: r.next_attempt_at for r in await outbox_rows(db) if r.status == "pending"}
        assert held["chen_guodong"] == shanghai(6, 0, day=25)
    delivered = "\n".join(lines)  # the console is one destination for all: it may print them together
    assert "陈国栋" in delivered and "朱敏" in delivered and "王晨阳" not in delivered


def test_role_settings_are_parsed_and_bad_ones_say_how_to_fix_them():
    assert role_channels("duty_officer: dingtalk, console; principal: slack") == {
        Role.DUTY_OFFICER: (ChannelKind.DINGTALK, ChannelKind.CONSOLE), Role.PRINCIPAL: (ChannelKind.SLACK,),
    }  # fmt: skip
    quiet = role_quiet_hours("duty_officer: never; principal: 23:30-06:00")
    assert quiet[Role.DUTY_OFFICER] is None and quiet[Role.PRINCIPAL].until(shanghai(0)) == shanghai(6, 0)
    with pytest.raises(ConfigError, match=r"unknown role 'mayor'.*use one of duty_officer, liaison"):
        role_channels("mayor: slack")
    with pytest.raises(ConfigError, match=r"unknown channel 'wechat' for principal; use console, email, slack"):
        role_channels("principal: wechat")
    with pytest.raises(ConfigError, match=r"notify_role_quiet_hours \(principal\) '11pm' is not a time range"):
        role_quiet_hours("principal: 11pm")
    with pytest.raises(ConfigError, match=r"has no ':'"):
        role_quiet_hours("principal never")
