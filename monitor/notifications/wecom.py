"""WeCom (企业微信) group robots: markdown messages; mentions by mobile number.

WeCom robots take at most 20 messages per minute each (errcode 45009 when over). Their markdown
messages cannot mention people by mobile, only text messages can (`mentioned_mobile_list`), so an
alert that must reach named people is sent as markdown followed by a short text mention; both
count against the robot's budget (`cost`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import aiohttp

from monitor.domain import ChannelKind
from monitor.notifications import render
from monitor.notifications.http import HttpReply, post_json
from monitor.notifications.model import DeliveryError, Message, RateLimit, Sent
from monitor.notifications.secrets import RobotCredentials

RATE_LIMIT = RateLimit(per_window=20, window=timedelta(minutes=1), block=timedelta(minutes=1))
_TOO_FAST = {45009, 45033}  # 接口调用超过限制
_BROKEN = {93000, 93004, 40001, 40014}  # webhook key 无效/机器人被停用


class WeComChannel:
    kind = ChannelKind.WECOM
    max_bytes = 4_000  # markdown content is limited to 4096 bytes
    rate_limit: RateLimit | None = RATE_LIMIT

    def __init__(
        self,
        robots: Mapping[str, RobotCredentials],
        session: aiohttp.ClientSession,
        base_url: str,
        redact: Callable[[str], str],
    ) -> None:
        self.robots = {k: v for k, v in robots.items() if v.robot.kind == ChannelKind.WECOM}
        self.session, self.base_url, self.redact = session, base_url, redact

    def cost(self, message: Message) -> int:
        return 2 if message.mobiles else 1

    def bodies(self, message: Message, now: datetime) -> list[dict[str, object]]:
        ctx = render.Context(now, self.base_url)
        text = render.robot_markdown(message, ctx, mention=False, warning_color=True)
        bodies: list[dict[str, object]] = [{"msgtype": "markdown", "markdown": {"content": text}}]
        if message.mobiles:
            names = "、".join(p.name for p in message.people)
            bodies.append(
                {
                    "msgtype": "text",
                    "text": {"content": f"请 {names} 查收上面的提醒。", "mentioned_mobile_list": message.mobiles},
                }
            )
        return bodies

    async def send(self, message: Message, now: datetime) -> Sent:
        cred = self.robots.get(message.destination.address)
        if cred is None:
            raise DeliveryError(f"企业微信机器人 {message.destination.address} 未配置 webhook 地址", permanent=True)
        first, *rest = self.bodies(message, now)
        self._check(cred, await post_json(self.session, cred.url, first, self.redact))
        mention_error = ""
        for body in rest:  # the alert itself arrived; a failed mention is noted, not retried
            try:
                self._check(cred, await post_json(self.session, cred.url, body, self.redact))
            except DeliveryError as exc:
                mention_error = str(exc)
        return Sent(
            ref="ok", detail={"robot": cred.robot.id, **({"mention_error": mention_error} if mention_error else {})}
        )

    def _check(self, cred: RobotCredentials, reply: HttpReply) -> None:
        body = reply.body if isinstance(reply.body, dict) else {}
        code = body.get("errcode")
        if reply.status == 200 and code == 0:
            return
        errmsg = self.redact(str(body.get("errmsg") or reply.body)[:200])
        if code in _TOO_FAST:
            raise DeliveryError(f"企业微信限流（errcode {code}）：{errmsg}", blocked_for=RATE_LIMIT.block)
        if code in _BROKEN or reply.status in (400, 401, 403, 404):
            raise DeliveryError(
                f"企业微信机器人“{cred.robot.name}”配置错误（errcode {code}）：{errmsg}",
                permanent=True,
                channel_wide=True,
            )
        raise DeliveryError(f"企业微信返回错误（HTTP {reply.status}，errcode {code}）：{errmsg}")

    async def find_sent(self, message: Message, since: datetime) -> Sent | None:
        return None  # group robots cannot read the group: a send in doubt is repeated, marked as such

    async def close(self) -> None:
        return None
