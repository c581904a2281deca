"""Typed keys of the application and of each request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from monitor.web.auth.passwords import PasswordHasher
from monitor.web.services import WebServices

if TYPE_CHECKING:
    from monitor.web.auth.limits import LoginLimiter
    from monitor.web.auth.permissions import CurrentUser
    from monitor.web.live import LiveHub

SERVICES: web.AppKey[WebServices] = web.AppKey("services")
HASHER = web.AppKey("hasher", PasswordHasher)
SESSION_SECRET = web.AppKey("session_secret", bytes)
LIMITER: web.AppKey[LoginLimiter] = web.AppKey("login_limiter")
LIVE: web.AppKey[LiveHub] = web.AppKey("live")

USER: web.RequestKey[CurrentUser | None] = web.RequestKey("user")
REQUEST_ID = web.RequestKey("request_id", str)
