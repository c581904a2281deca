"""Slack: Block Kit alerts through the Web API, and the interactivity endpoint for their buttons.

The only module that imports slack_sdk. Sends use `AsyncWebClient.chat_postMessage` with the SDK's
rate-limit retry handler, adapted to wait on our Clock: a 429 with a short Retry-After is retried
in place, a longer one goes back to the outbox with that delay. Every message carries Slack message
metadata with its delivery id, so after a crash between send and record the notifier can search
the conversation for it instead of sending again (`find_sent`).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from monitor.clock import Clock, to_local
from monitor.config import Settings
from monitor.domain import ChannelKind, DomainError, OrgDirectory
from monitor.notifications import render
from monitor.notifications.ack import Acknowledger, AckRequest
from monitor.notifications.model import DeliveryError, Message, RateLimit, Sent

log = logging.getLogger(__name__)
METADATA_EVENT = "monitor_notification"
# errors that mean the app itself is misconfigured (tell the duty officers) …
_BROKEN = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
    "no_permission",
    "team_access_not_granted",
    "ekm_access_denied",
    "not_allowed_token_type",
}
# … and errors about this recipient or this message (retrying will not help)
_PERMANENT = {
    "channel_not_found",
    "user_not_found",
    "user_disabled",
    "is_archived",
    "not_in_channel",
    "cannot_dm_bot",
    "msg_too_long",
    "invalid_blocks",
    "invalid_metadata_format",
    "too_many_attachments",
}


class ClockRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """The SDK's 429 handler, waiting Retry-After on our Clock; long waits are left to the outbox."""

    def __init__(self, clock: Clock, rng: random.Random, max_wait_s: float, max_retry_count: int = 1) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.clock, self.rng, self.max_wait_s = clock, rng, max_wait_s

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response) <= self.max_wait_s

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        wait = _retry_after(response) if response is not None else 1.0
        await self.clock.sleep(wait + self.rng.random() * 0.5)
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for key, values in response.headers.items():
        if key.lower() == "retry-after":
            try:
                return float(values[0])
            except (ValueError, IndexError):
                break
    return 1.0


class SlackChannel:
    kind = ChannelKind.SLACK
    max_bytes = 40_000
    rate_limit: RateLimit | None = None

    def __init__(
        self, token: str, api_url: str, base_url: str, clock: Clock, rng: random.Random, timeout_s: float
    ) -> None:
        handlers: list[AsyncRetryHandler] = [
            ClockRateLimitRetryHandler(clock, rng, max_wait_s=min(10.0, timeout_s)),
            AsyncConnectionErrorRetryHandler(),
        ]
        self.client = AsyncWebClient(
            token=token, base_url=api_url, timeout=int(timeout_s), retry_handlers=handlers, logger=log
        )
        self.base_url = base_url

    def cost(self, message: Message) -> int:
        return 1

    async def send(self, message: Message, now: datetime) -> Sent:
        ctx = render.Context(now, self.base_url)
        metadata = {
            "event_type": METADATA_EVENT,
            "event_payload": {"delivery": message.message_id, "outbox": ",".join(str(r.id) for r in message.rows)},
        }
        try:
            resp = await self.client.chat_postMessage(
                channel=message.destination.address,
                text=render.plain_text(message, ctx),
                blocks=render.slack_blocks(message, ctx),
                metadata=metadata,
                unfurl_links=False,
            )
        except SlackApiError as exc:
            raise _classify(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"无法连接 Slack：{type(exc).__name__}") from None
        return Sent(ref=str(resp.get("ts", "")), detail={"channel": resp.get("channel"), "ts": resp.get("ts")})

    async def find_sent(self, message: Message, since: datetime) -> Sent | None:
        """Search the conversation for a message carrying this delivery id (None: not found or cannot tell)."""
        try:
            opened = await self.client.conversations_open(users=message.destination.address)
            channel = opened["channel"]["id"]
            history = await self.client.conversations_history(
                channel=channel, oldest=f"{since.timestamp() - 5:.6f}", include_all_metadata=True, limit=200
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "cannot search Slack for delivery %s (%s); sending again", message.message_id, type(exc).__name__
            )
            return None
        for item in history.get("messages") or []:
            payload = (item.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery") == message.message_id:
                return Sent(
                    ref=str(item.get("ts", "")), detail={"channel": channel, "ts": item.get("ts"), "found": True}
                )
        return None

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()


def _classify(exc: SlackApiError) -> DeliveryError:
    resp = exc.response
    error = str(resp.get("error") or "unknown_error")
    if resp.status_code == 429 or error == "ratelimited":
        headers = {k.lower(): v for k, v in (resp.headers or {}).items()}
        raw = headers.get("retry-after")
        value = raw[0] if isinstance(raw, list) else raw
        return DeliveryError(f"Slack 限流（429），Retry-After {value}", retry_after=float(value or 30))
    if error in _BROKEN:
        return DeliveryError(
            f"Slack 应用配置错误：{error}（请检查 slack_bot_token 及其权限）", permanent=True, channel_wide=True
        )
    if error in _PERMANENT:
        return DeliveryError(f"Slack 拒绝了此消息：{error}", permanent=True)
    return DeliveryError(f"Slack 返回错误：{error}（HTTP {resp.status_code}）")


class _VerifierClock(SlackClock):
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def now(self) -> float:
        return self.clock.now().timestamp()


def interactivity_handler(
    *,
    signing_secret: str,
    clock: Clock,
    org: OrgDirectory,
    acknowledge: Acknowledger,
    redact: Callable[[str], str] = str,
) -> Callable[[web.Request], Any]:
    """An aiohttp handler for Slack's interactivity Request URL (mount it at POST /slack/interactions).

    Verifies Slack's signature (5-minute window on our Clock), turns 确认收到 into an AckRequest for
    the person whose slack_user clicked, and replaces the buttons with who acknowledged and when.
    """
    verifier = SignatureVerifier(signing_secret, clock=_VerifierClock(clock))
    people = {p.slack_user: p for p in org.people.values() if p.slack_user}

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if not verifier.is_valid_request(body, dict(request.headers)):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            payload = json.loads((await request.post())["payload"])  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError):
            return web.json_response({"error": "expected a form field 'payload' with JSON"}, status=400)
        action = next((a for a in payload.get("actions") or [] if a.get("action_id") == render.ACK_ACTION), None)
        if payload.get("type") != "block_actions" or action is None:
            return web.Response(status=200)  # 查看 is a link button: nothing to record
        reply = await _acknowledge(payload, action, people, clock, acknowledge)
        await _respond(payload, action, reply, redact)
        return web.Response(status=200)

    return handle


def interactivity_routes(
    settings: Settings, clock: Clock, org: OrgDirectory, acknowledge: Acknowledger
) -> list[web.RouteDef]:
    """`app.add_routes(...)` these: POST /slack/interactions, or nothing when no signing secret is set."""
    if not settings.slack_signing_secret:
        return []
    handler = interactivity_handler(
        signing_secret=settings.slack_signing_secret, clock=clock, org=org, acknowledge=acknowledge
    )
    return [web.post("/slack/interactions", handler)]


async def _acknowledge(
    payload: dict[str, Any], action: dict[str, Any], people: dict[str, Any], clock: Clock, acknowledge: Acknowledger
) -> tuple[bool, str]:
    user = str((payload.get("user") or {}).get("id") or "")
    person = people.get(user)
    if person is None:
        return False, "您的 Slack 账号未登记在通讯录中，无法确认。请联系值班室。"
    try:
        value = json.loads(action.get("value") or "{}")
        req = AckRequest(
            int(value["incident"]), value.get("rule"), person.id, clock.now(), "slack", value.get("outbox")
        )
    except (ValueError, KeyError, TypeError):
        return False, "按钮数据无效，请到值班台确认。"
    try:
        text = await acknowledge(req)
    except DomainError as exc:
        return False, f"未能确认：{exc}"
    return True, f"✅ {person.name} 已于 {to_local(req.at):%m-%d %H:%M} {text}"


async def _respond(
    payload: dict[str, Any], action: dict[str, Any], reply: tuple[bool, str], redact: Callable[[str], str]
) -> None:
    url = payload.get("response_url")
    if not url:
        return
    ok, text = reply
    client = AsyncWebhookClient(url)
    try:
        if ok:
            blocks = [
                {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
                if b.get("block_id") == action.get("block_id")
                else b
                for b in (payload.get("message") or {}).get("blocks") or []
            ]
            await client.send(replace_original=True, blocks=blocks, text=text)
        else:
            await client.send(response_type="ephemeral", replace_original=False, text=text)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("cannot update the Slack message after an acknowledgement: %s", redact(str(exc)))
