"""Wiring: channels from settings and the environment, the Notifier, and the loop for serve/demo."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

import aiohttp

from monitor.clock import Clock
from monitor.config import Settings
from monitor.domain import ChannelKind, OrgDirectory
from monitor.notifications.console import ConsoleChannel
from monitor.notifications.dingtalk import DingTalkChannel
from monitor.notifications.email import EmailChannel
from monitor.notifications.http import new_session
from monitor.notifications.model import Channel
from monitor.notifications.outbox import Notifier, PassReport
from monitor.notifications.planning import Policy
from monitor.notifications.routing import QuietHours, Router, role_channels, role_quiet_hours
from monitor.notifications.secrets import Redactor, build_redactor, robot_credentials
from monitor.notifications.slack import SlackChannel
from monitor.notifications.webhook import WebhookChannel
from monitor.notifications.wecom import WeComChannel
from monitor.storage.db import Database


def base_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def policy_from(settings: Settings) -> Policy:
    return Policy(
        batch=settings.notify_batch,
        lease=timedelta(seconds=settings.notify_lease_s),
        max_attempts=settings.notify_max_attempts,
        backoff_base_s=settings.notify_backoff_base_s,
        backoff_max_s=settings.notify_backoff_max_s,
        poll_s=settings.notify_poll_s,
    )


@dataclass
class Channels:
    """The channels whose settings are present, plus what routing and redaction need to know."""

    channels: dict[ChannelKind, Channel]
    router: Router
    redact: Redactor
    session: aiohttp.ClientSession

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
        await self.session.close()


def build_channels(
    settings: Settings,
    org: OrgDirectory,
    env: Mapping[str, str],
    clock: Clock,
    rng: random.Random,
    write: Callable[[str], None] = print,
) -> Channels:
    """Every channel whose settings are present; call inside a running event loop (aiohttp session)."""
    robots = robot_credentials(org, env)
    redact = build_redactor(settings, robots)
    session = new_session(settings.notify_timeout_s)
    url = base_url(settings)
    channels: dict[ChannelKind, Channel] = {}
    if settings.notify_console:
        channels[ChannelKind.CONSOLE] = ConsoleChannel(write, url)
    if settings.slack_bot_token:
        channels[ChannelKind.SLACK] = SlackChannel(
            settings.slack_bot_token, settings.slack_api_url, url, clock, rng, settings.notify_timeout_s
        )
    if settings.smtp_host and settings.smtp_from:
        channels[ChannelKind.EMAIL] = EmailChannel(settings, url)
    if settings.webhook_url:
        channels[ChannelKind.WEBHOOK] = WebhookChannel(
            settings.webhook_url, settings.webhook_secret, session, url, redact
        )
    if any(c.robot.kind == ChannelKind.DINGTALK for c in robots.values()):
        channels[ChannelKind.DINGTALK] = DingTalkChannel(robots, session, url, redact)
    if any(c.robot.kind == ChannelKind.WECOM for c in robots.values()):
        channels[ChannelKind.WECOM] = WeComChannel(robots, session, url, redact)
    router = Router(
        org,
        enabled=set(channels),
        robots=robots,
        default_quiet=QuietHours.parse(settings.notify_quiet_hours),
        console_fallback=settings.notify_console,
        role_channels=role_channels(settings.notify_role_channels),
        role_quiet=role_quiet_hours(settings.notify_role_quiet_hours),
    )
    return Channels(channels, router, redact, session)


def create_notifier(
    db: Database, clock: Clock, settings: Settings, built: Channels, *, rng: random.Random, worker: str | None = None
) -> Notifier:
    worker = worker or f"{socket.gethostname()}:{os.getpid()}:{rng.getrandbits(32):08x}"
    return Notifier(
        db,
        clock,
        built.router,
        built.channels,
        policy=policy_from(settings),
        rng=rng,
        worker=worker,
        base_url=base_url(settings),
        redact=built.redact,
    )


def start_notifier(
    db: Database,
    clock: Clock,
    settings: Settings,
    org: OrgDirectory,
    stop: asyncio.Event,
    *,
    write: Callable[[str], None] = print,
) -> asyncio.Task[None]:
    """The delivery loop as a background task (serve, demo); end it with `stop_notifier`."""
    return asyncio.create_task(run_notifier(db, clock, settings, org, stop, write=write), name="notifier")


async def stop_notifier(task: asyncio.Task[None]) -> None:
    """Stop the loop: rows being sent keep their lease and are resolved by the next run (see docs)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run_notifier(
    db: Database,
    clock: Clock,
    settings: Settings,
    org: OrgDirectory,
    stop: asyncio.Event,
    *,
    env: Mapping[str, str] | None = None,
    write: Callable[[str], None] = print,
    worker: str | None = None,
    on_pass: Callable[[PassReport, float], None] | None = None,
) -> None:
    """The delivery loop until `stop` is set (for `monitor serve`, `monitor worker` and the demo)."""
    rng = random.Random()
    built = build_channels(settings, org, os.environ if env is None else env, clock, rng, write)
    try:
        await create_notifier(db, clock, settings, built, rng=rng, worker=worker).run(stop, on_pass)
    finally:
        await built.close()
