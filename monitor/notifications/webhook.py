"""A generic signed webhook for other systems (OA, 12345 hotline platforms, SIEM …).

Each delivery is one POST of JSON. Headers:

- ``Idempotency-Key``: the message id, the same on every retry and after a crash, so a receiver
  that remembers keys gets each notification exactly once;
- ``X-Monitor-Timestamp``: Unix seconds of this request;
- ``X-Monitor-Signature``: ``sha256=`` + hex HMAC-SHA256 over ``f"{timestamp}.{body}"`` keyed with
  the ``webhook_secret`` setting. Receivers should reject timestamps older than five minutes.

2xx (and 409 "already have it") count as delivered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from monitor.domain import ChannelKind
from monitor.notifications import render
from monitor.notifications.http import post_json
from monitor.notifications.model import DeliveryError, Message, RateLimit, Sent


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel:
    kind = ChannelKind.WEBHOOK
    max_bytes = 1_000_000
    rate_limit: RateLimit | None = None

    def __init__(
        self, url: str, secret: str, session: aiohttp.ClientSession, base_url: str, redact: Callable[[str], str]
    ) -> None:
        self.url, self.secret, self.session, self.base_url, self.redact = url, secret, session, base_url, redact

    def cost(self, message: Message) -> int:
        return 1

    def body(self, message: Message, now: datetime) -> dict[str, Any]:
        ctx = render.Context(now, self.base_url)
        return {
            "delivery_id": message.message_id,
            "resend": message.resend,
            "sent_at": now.isoformat(),
            "title": render.title(message),
            "text": render.plain_text(message, ctx),
            "notifications": [
                {
                    "idempotency_key": row.idempotency_key,
                    "kind": row.kind,
                    "urgent": row.urgent,
                    "recipient": row.recipient,
                    "incident_id": row.incident_id,
                    "link": ctx.link(alert),
                    "payload": dict(row.payload),
                }
                for row, alert in zip(message.rows, message.alerts, strict=True)
            ],
        }

    async def send(self, message: Message, now: datetime) -> Sent:
        payload = self.body(message, now)
        raw = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        timestamp = str(int(now.timestamp()))
        headers = {
            "Idempotency-Key": message.message_id,
            "X-Monitor-Timestamp": timestamp,
            "X-Monitor-Signature": signature(self.secret, timestamp, raw) if self.secret else "",
        }
        reply = await post_json(self.session, self.url, payload, self.redact, headers)
        if 200 <= reply.status < 300 or reply.status == 409:
            return Sent(ref=str(reply.status), detail={"status": reply.status})
        raise DeliveryError(
            self.redact(f"Webhook 返回 HTTP {reply.status}：{str(reply.body)[:200]}"), permanent=True, channel_wide=True
        )

    async def find_sent(self, message: Message, since: datetime) -> Sent | None:
        return None  # resent with the same Idempotency-Key: the receiver drops the duplicate

    async def close(self) -> None:
        return None
