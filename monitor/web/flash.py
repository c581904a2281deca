"""One-time messages shown on the page after a redirect (the engine's zh-CN sentence after an action).

The message travels in a short-lived cookie signed with the session secret and bound to the user,
so it cannot be forged through a link and is never shown to someone else on a shared browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from aiohttp import web

from monitor.web.auth.sessions import set_cookie
from monitor.web.keys import SESSION_SECRET

FLASH_COOKIE = "monitor_flash"
FLASH_MAX_AGE_S = 120
MAX_MESSAGE = 500


def _sign(secret: bytes, body: str) -> str:
    return hmac.new(secret, b"flash:" + body.encode(), hashlib.sha256).hexdigest()


def set_flash(request: web.Request, response: web.StreamResponse, username: str, message: str) -> None:
    payload = json.dumps({"u": username, "m": message[:MAX_MESSAGE]}, ensure_ascii=False)
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    set_cookie(request, response, FLASH_COOKIE, f"{body}.{_sign(request.app[SESSION_SECRET], body)}", FLASH_MAX_AGE_S)


def read_flash(request: web.Request, username: str | None) -> str | None:
    """The message left for `username`, if the cookie is present, intact and theirs."""
    raw = request.cookies.get(FLASH_COOKIE, "")
    body, _, signature = raw.partition(".")
    if not body or not hmac.compare_digest(signature, _sign(request.app[SESSION_SECRET], body)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("u") != username:
        return None
    message = data.get("m")
    return message if isinstance(message, str) else None


def clear_flash(request: web.Request, response: web.StreamResponse) -> None:
    if FLASH_COOKIE in request.cookies:
        response.del_cookie(FLASH_COOKIE, path="/")
