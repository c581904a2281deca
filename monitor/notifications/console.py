"""The console channel: alerts written to standard output (the demo, and a last resort there)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from monitor.domain import ChannelKind
from monitor.notifications import render
from monitor.notifications.model import Message, RateLimit, Sent


class ConsoleChannel:
    kind = ChannelKind.CONSOLE
    max_bytes = 1_000_000
    rate_limit: RateLimit | None = None

    def __init__(self, write: Callable[[str], None], base_url: str) -> None:
        self.write, self.base_url = write, base_url

    def cost(self, message: Message) -> int:
        return 1

    async def send(self, message: Message, now: datetime) -> Sent:
        names = "、".join(p.name for p in message.people) or message.destination.label
        text = render.plain_text(message, render.Context(now, self.base_url))
        body = "\n".join("    " + line for line in text.splitlines())
        self.write(f"[通知 → {names}] {render.local_time(now)}\n{body}")
        return Sent(ref="console")

    async def find_sent(self, message: Message, since: datetime) -> Sent | None:
        return None

    async def close(self) -> None:
        return None
