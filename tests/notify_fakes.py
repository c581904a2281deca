"""Local servers that behave like the services the notifier talks to (loopback only).

- `FakeSlack`: the Slack Web API methods we use (chat.postMessage, conversations.open/history) with
  scripted failures (429 + Retry-After, ok:false errors), plus response_url endpoints.
- `FakeDingTalk`: custom robots, checking access_token, the 加签 timestamp+sign exactly as DingTalk
  documents it (HMAC-SHA256 over f"{timestamp}\\n{secret}", base64, ±1 h) and the 20/min limit
  (going over blocks the robot for 10 minutes, errcode 130101).
- `FakeWeCom`: group robots by key, 20/min (errcode 45009).
- `FakeWebhook`: verifies X-Monitor-Signature and drops repeated Idempotency-Keys.

Each records every request it receives, so tests assert exactly what was sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.clock import Clock


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


async def start(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


class FakeSlack:
    TOKEN = "xoxb-test-0000-secret-token"

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: dict[str, deque[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # DM channel -> posted messages
        self.responses: list[Received] = []  # bodies posted to response_url
        self.ts = 1000
        self.app = web.Application()
        self.app.router.add_post("/api/{method}", self.api)
        self.app.router.add_get("/api/{method}", self.api)
        self.app.router.add_post("/response/{id}", self.response_url)

    def fail_next(self, method: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.script.setdefault(method, deque()).append((status, body, headers or {}))

    def posts(self) -> list[Received]:
        return [r for r in self.requests if r.path == "chat.postMessage"]

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        received = Received(method, dict(request.query), dict(request.headers), await _body(request))
        self.requests.append(received)
        if request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.script.get(method):
            status, body, headers = self.script[method].popleft()
            return web.json_response(body, status=status, headers=headers)
        handler = {
            "chat.postMessage": self.post_message,
            "conversations.open": self.open,
            "conversations.history": self.history,
        }
        return web.json_response(handler[method](received.body))

    def post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = "D" + body["channel"]
        self.ts += 1
        message = {"type": "message", "ts": f"{self.ts}.000100", "text": body.get("text"), "blocks": body.get("blocks")}
        metadata = body.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            message["metadata"] = metadata
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def open(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + body["users"]}}

    def history(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = list(reversed(self.messages.get(body["channel"], [])))
        if str(body.get("include_all_metadata")).lower() not in ("1", "true"):
            messages = [{k: v for k, v in m.items() if k != "metadata"} for m in messages]
        return {"ok": True, "messages": messages, "has_more": False}

    async def response_url(self, request: web.Request) -> web.Response:
        self.responses.append(Received(request.match_info["id"], {}, dict(request.headers), await request.json()))
        return web.Response(text="ok")


async def _body(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    raw = await request.read()
    if request.content_type == "application/json":
        return {**request.query, **json.loads(raw)}
    return {**request.query, **{k: v[0] for k, v in parse_qs(raw.decode()).items()}}


def dingtalk_sign(secret: str, timestamp: str) -> str:
    """DingTalk's documented algorithm, written independently of the code under test."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), digestmod=hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class RobotState:
    secret: str | None
    sent: list[datetime] = field(default_factory=list)
    blocked_until: datetime | None = None


class FakeDingTalk:
    LIMIT = 20

    def __init__(self, clock: Clock, robots: dict[str, str | None]) -> None:
        self.clock = clock
        self.robots = {token: RobotState(secret) for token, secret in robots.items()}
        self.requests: list[Received] = []
        self.accepted: list[Received] = []
        self.app = web.Application()
        self.app.router.add_post("/robot/send", self.send)

    def url(self, server: TestServer, token: str) -> str:
        return str(server.make_url(f"/robot/send?access_token={token}"))

    async def send(self, request: web.Request) -> web.Response:
        received = Received("send", dict(request.query), dict(request.headers), await request.json())
        self.requests.append(received)
        robot = self.robots.get(received.query.get("access_token", ""))
        if robot is None:
            return web.json_response({"errcode": 300001, "errmsg": "token is not exist"})
        if robot.secret is not None and not self._signed(received.query, robot.secret):
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        now = self.clock.now()
        if robot.blocked_until and now < robot.blocked_until:
            return web.json_response({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        robot.sent = [t for t in robot.sent if now - t < timedelta(minutes=1)]
        if len(robot.sent) >= self.LIMIT:
            robot.blocked_until = now + timedelta(minutes=10)
            return web.json_response({"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        robot.sent.append(now)
        self.accepted.append(received)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _signed(self, query: dict[str, str], secret: str) -> bool:
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not timestamp.isdigit():
            return False
        if abs(int(timestamp) - self.clock.now().timestamp() * 1000) > 3600 * 1000:
            return False
        return hmac.compare_digest(sign, dingtalk_sign(secret, timestamp))


class FakeWeCom:
    LIMIT = 20

    def __init__(self, clock: Clock, keys: list[str]) -> None:
        self.clock = clock
        self.keys = {k: RobotState(None) for k in keys}
        self.requests: list[Received] = []
        self.app = web.Application()
        self.app.router.add_post("/cgi-bin/webhook/send", self.send)

    def url(self, server: TestServer, key: str) -> str:
        return str(server.make_url(f"/cgi-bin/webhook/send?key={key}"))

    async def send(self, request: web.Request) -> web.Response:
        received = Received("send", dict(request.query), dict(request.headers), await request.json())
        self.requests.append(received)
        robot = self.keys.get(received.query.get("key", ""))
        if robot is None:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        now = self.clock.now()
        robot.sent = [t for t in robot.sent if now - t < timedelta(minutes=1)]
        if len(robot.sent) >= self.LIMIT:
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        robot.sent.append(now)
        return web.json_response({"errcode": 0, "errmsg": "ok"})


class FakeWebhook:
    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.fail_for: set[str] = set()  # recipients whose notifications always get 503
        self.requests: list[Received] = []
        self.processed: dict[str, Any] = {}  # Idempotency-Key -> body, each acted on once
        self.app = web.Application()
        self.app.router.add_post("/hook", self.hook)

    async def hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        received = Received("hook", {}, dict(request.headers), json.loads(raw))
        self.requests.append(received)
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), request.headers["X-Monitor-Timestamp"].encode() + b"." + raw, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, request.headers.get("X-Monitor-Signature", "")):
            return web.json_response({"error": "bad signature"}, status=401)
        recipients = {n["recipient"] for n in received.body["notifications"]}
        if self.fail_first > 0 or recipients & self.fail_for:
            self.fail_first = max(0, self.fail_first - 1)
            return web.json_response({"error": "busy"}, status=503)
        key = request.headers["Idempotency-Key"]
        if key in self.processed:
            return web.json_response({"status": "duplicate"}, status=409)
        self.processed[key] = received.body
        return web.json_response({"status": "accepted"})
