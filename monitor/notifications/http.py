"""One HTTP POST of JSON for the robot and webhook channels, with errors sorted into retry / give up."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from monitor.notifications.model import DeliveryError


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or the text when the body is not JSON


def new_session(timeout_s: float) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        headers={"User-Agent": "minghu-monitor-notifier/1"},
        raise_for_status=False,
    )


async def post_json(
    session: aiohttp.ClientSession,
    url: str | URL,
    body: Mapping[str, Any],
    redact: Callable[[str], str],
    headers: Mapping[str, str] | None = None,
) -> HttpReply:
    """POST `body` as UTF-8 JSON; network failures and 5xx become retryable DeliveryErrors."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    try:
        async with session.post(url, data=data, headers=all_headers) as resp:
            text = await resp.text(encoding="utf-8", errors="replace")
            reply = HttpReply(resp.status, dict(resp.headers), _parse(text))
    except TimeoutError:
        raise DeliveryError("请求超时（timeout）") from None
    except aiohttp.ClientError as exc:
        raise DeliveryError(redact(f"连接失败：{type(exc).__name__}: {exc}")) from None
    if reply.status == 429:
        raise DeliveryError("HTTP 429 请求过于频繁", retry_after=retry_after(reply.headers))
    if reply.status >= 500:
        raise DeliveryError(f"HTTP {reply.status}：服务端错误，稍后重试")
    return reply


def retry_after(headers: Mapping[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
