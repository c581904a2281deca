"""`monitor notify-test --person NAME`: a test message over each of the person's channels."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
from typing import Any

from monitor.app import open_services
from monitor.cli.common import CliError, Context
from monitor.clock import SystemClock
from monitor.notifications.selftest import ChannelCheck, UnknownPerson, find_person, notify_test
from monitor.notifications.service import build_channels
from monitor.storage.db import DatabaseError


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "notify-test", help="send a test message over each of a person's channels and report which worked"
    )
    parser.add_argument(
        "--person", required=True, help="person id or name from the org directory, e.g. zhao_lei or 赵磊"
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    async def run() -> tuple[str, list[ChannelCheck]]:
        services = await open_services(ctx.settings, clock=SystemClock())
        try:
            person = find_person(services.org, ctx.args.person)
            built = build_channels(ctx.settings, services.org, os.environ, services.clock, random.Random(), print)
            try:
                return person.name, await notify_test(services.db, services.clock, ctx.settings, built, person)
            finally:
                await built.close()
        finally:
            await services.db.close()

    try:
        name, checks = asyncio.run(run())
    except (UnknownPerson, DatabaseError) as exc:
        raise CliError(str(exc)) from exc
    print(f"向 {name} 的各个通知渠道发送测试消息：")
    for check in checks:
        print("  " + check.line())
    return 0 if checks and all(c.ok for c in checks) else 1
