"""DingTalk custom group robots (自定义机器人): 加签 signing, markdown, @ by mobile number.

DingTalk allows 20 messages per minute per robot and blocks a robot that goes over for 10 minutes,
so the outbox loop budgets sends per robot and merges the rest into digests (`rate_limit`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import aiohttp
from yarl import URL

from monitor.domain import ChannelKind
from monitor.notifications import render
from monitor.notifications.http import post_json
from monitor.notifications.model import DeliveryError, Message, RateLimit, Sent
from monitor.notifications.secrets import RobotCredentials

RATE_LIMIT = RateLimit(per_window=20, window=timedelta(minutes=1), block=timedelta(minutes=10))
_TOO_FAST = {130101, 410100}  # 发送速度太快而限流
_BROKEN = {300001, 310000, 400101, 400102, 300005}  # token 不存在/已停用，签名或安全设置不匹配


def sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), as DingTalk documents 加签."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url: str, secret: str | None, now: datetime) -> URL:
    """The webhook URL with timestamp and sign appended (yarl URL-encodes the signature)."""
    if not secret:
        return URL(url)
    timestamp = int(now.timestamp() * 1000)
    return URL(url).update_query(timestamp=str(timestamp), sign=sign(secret, timestamp))


class DingTalkChannel:
    kind = ChannelKind.DINGTALK
    max_bytes = 15_000
    rate_limit: RateLimit | None = RATE_LIMIT

    def __init__(
        self,
        robots: Mapping[str, RobotCredentials],
        session: aiohttp.ClientSession,
        base_url: str,
        redact: Callable[[str], str],
    ) -> None:
        self.robots = {k: v for k, v in robots.items() if v.robot.kind == ChannelKind.DINGTALK}
        self.session, self.base_url, self.redact = session, base_url, redact

    def cost(self, message: Message) -> int:
        return 1

    def body(self, message: Message, now: datetime) -> dict[str, object]:
        ctx = render.Context(now, self.base_url)
        return {
            "msgtype": "markdown",
            "markdown": {
                "title": render.title(message)[:60],
                "text": render.robot_markdown(message, ctx, mention=True),
            },
            "at": {"atMobiles": message.mobiles, "isAtAll": False},
        }

    async def send(self, message: Message, now: datetime) -> Sent:
        cred = self.robots.get(message.destination.address)
        if cred is None:
            raise DeliveryError(f"钉钉机器人 {message.destination.address} 未配置 webhook 地址", permanent=True)
        reply = await post_json(
            self.session, signed_url(cred.url, cred.secret, now), self.body(message, now), self.redact
        )
        body = reply.body if isinstance(reply.body, dict) else {}
        code = body.get("errcode")
        if reply.status == 200 and code == 0:
            return Sent(ref="ok", detail={"robot": cred.robot.id})
        errmsg = self.redact(str(body.get("errmsg") or reply.body)[:200])
        if code in _TOO_FAST:
            raise DeliveryError(f"钉钉限流（errcode {code}）：{errmsg}", blocked_for=RATE_LIMIT.block)
        if code in _BROKEN or reply.status in (400, 401, 403, 404):
            raise DeliveryError(
                f"钉钉机器人“{cred.robot.name}”配置错误（errcode {code}）：{errmsg}", permanent=True, channel_wide=True
            )
        raise DeliveryError(f"钉钉返回错误（HTTP {reply.status}，errcode {code}）：{errmsg}")

    async def find_sent(self, message: Message, since: datetime) -> Sent | None:
        return None  # custom robots cannot read the group: a send in doubt is repeated, marked as such

    async def close(self) -> None:
        return None
