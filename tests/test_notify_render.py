"""Pure pieces: time left, quiet hours, the DingTalk signature."""

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

import pytest

from monitor.clock import SHANGHAI
from monitor.config import ConfigError
from monitor.notifications.dingtalk import sign, signed_url
from monitor.notifications.render import time_left
from monitor.notifications.routing import QuietHours

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
