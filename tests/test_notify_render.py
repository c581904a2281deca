"""Pure pieces: time left, quiet hours, the DingTalk signature."""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import pytest

from monitor.clock import SHANGHAI
from monitor.config import ConfigError
from monitor.domain import ChannelKind
from monitor.engine.runner import Engine
from monitor.notifications import render
from monitor.notifications.dingtalk import sign, signed_url
from monitor.notifications.model import Alert, Destination, Message
from monitor.notifications.render import time_left
from monitor.notifications.routing import QuietHours
from monitor.storage.repo.outbox import claim_due

from .engine_support import ORG, Svc, new_incident

NOW = datetime(2026, 9, 24, 9, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=1), "还剩 1小时00分"),
        (timedelta(minutes=90, seconds=1), "还剩 1小时31分"),  # rounded up: never promise more time than there is
        (timedelta(seconds=30), "还剩 1分钟"),
        (timedelta(days=1, hours=2, minutes=5), "还剩 1天2小时05分"),
        (-timedelta(minutes=20, seconds=59), "已超期 20分钟"),
        (-timedelta(hours=3), "已超期 3小时00分"),
    ],
)
def test_time_left(delta, text):
    assert time_left(NOW + delta, NOW) == text


def test_quiet_hours_overnight_and_same_day():
    night = QuietHours.parse("22:00-07:30")
    assert night.until(NOW.replace(hour=21, minute=59)) is None
    assert night.until(NOW.replace(hour=22)) == NOW.replace(day=25, hour=7, minute=30)
    assert night.until(NOW.replace(hour=3)) == NOW.replace(hour=7, minute=30)
    assert night.until(NOW.replace(hour=7, minute=30)) is None
    lunch = QuietHours.parse("12:00-13:30")
    assert lunch.until(NOW.replace(hour=12, minute=10)) == NOW.replace(hour=13, minute=30)
    assert lunch.until(NOW) is None
    assert QuietHours.parse("") is None
    with pytest.raises(ConfigError, match=r"notify_quiet_hours '25:00-07:00' is not a time range; write HH:MM-HH:MM"):
        QuietHours.parse("25:00-07:00")


def test_dingtalk_signature_matches_the_documented_recipe():
    secret, ts = "SECexample", 1790000000000
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert sign(secret, ts) == expected
    url = signed_url("https://oapi.dingtalk.example/robot/send?access_token=abc", secret, NOW)
    assert url.query["access_token"] == "abc" and url.query["sign"] == sign(secret, int(NOW.timestamp() * 1000))


async def test_every_channel_shows_the_engines_instruction_and_says_overdue_plainly(sqlite_db, clock):
    svc = Svc(sqlite_db, clock)
    await new_incident(svc, "II", "L1")  # 5 hours to an authoritative release
    for hours in (0, 5, 1):  # the deadline passes; an hour later the principal is told to supervise
        clock.advance(timedelta(hours=hours))
        await Engine(svc).tick()
    async with sqlite_db.write() as conn:
        rows = await claim_due(conn, "w", clock.now(), timedelta(minutes=2), 1000, None)
    ctx = render.Context(clock.now(), "https://yq.example")
    wanted = {
        "deadline_breach": "请立即处置并登记回应及证据。",
        "supervision": "请主要负责人/第一新闻发言人、政府办、宣传部督促落实。",
    }
    for kind, instruction in wanted.items():
        row = next(r for r in rows if r.kind == kind and r.payload["rule"]["id"] == "GB80-AUTH-RELEASE-5H")
        assert instruction in row.payload["text"]  # the engine's own wording
        person = ORG.people[row.recipient]
        message = Message("m1", Destination(ChannelKind.SLACK, "slack:U1", "U1", person.name), [Alert.from_row(row)],
                          [row], [person])  # fmt: skip
        _, text, html = render.email_parts(message, ctx)
        assert f"处置要求：{instruction}" in render.plain_text(message, ctx)
        assert f"- **处置要求**：{instruction}" in render.robot_markdown(message, ctx, mention=False)
        slack = [f["text"] for b in render.slack_blocks(message, ctx) for f in b.get("fields", [])]
        assert f"*处置要求*\n{instruction}" in slack
        assert f"处置要求：{instruction}" in text and instruction in html
        digest = Message("m2", message.destination, [Alert.from_row(row)] * 2, [row], [person], digest=True)
        assert instruction in render.plain_text(digest, ctx)
    supervision = row  # the last one: an hour past the 5-hour deadline
    shown = render.plain_text(Message("m3", message.destination, [Alert.from_row(supervision)], [supervision]), ctx)
    assert "时限状态：已超期 1小时00分" in shown and "剩余时间" not in shown
