"""`monitor archive --closed-before DATE`: 归档 every incident closed (办结) before a Beijing day.

Each incident goes through the engine's `Archive` command (timeline event, status 已归档) with an
audit row, one transaction per incident, so one that changed meanwhile is refused alone.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, datetime, time
from typing import Any

from monitor.app import open_services
from monitor.cli.common import CliError, Context
from monitor.clock import SHANGHAI, SystemClock
from monitor.domain import commands as c
from monitor.engine.commands import CommandRejected, execute
from monitor.storage.db import DatabaseError
from monitor.storage.repo.evaluation import closed_before
from monitor.web.actions.dispatch import AuditContext, audited


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "archive",
        help="归档: archive every incident closed before a day (Asia/Shanghai)",
        description=(
            "Archive every incident whose status is 已办结 and whose 办结时间 is before 00:00 (Beijing time) "
            "of --closed-before. Archived incidents leave the queue and default views, stay in the monthly "
            "reports and the exported ledger, and cannot be reopened."
        ),
    )
    parser.add_argument("--closed-before", required=True, metavar="DATE", help="a day, YYYY-MM-DD (not included)")
    parser.add_argument("--actor", default="system", help="who archives, as recorded on the timeline (a username)")
    parser.add_argument("--reason", default="", help="归档说明 recorded on each incident's timeline")
    parser.add_argument("--dry-run", action="store_true", help="list the incidents that would be archived")
    parser.set_defaults(handler=handle)


def _day(text: str) -> datetime:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CliError(f"--closed-before {text!r} is not a day; write it as YYYY-MM-DD, e.g. 2026-10-01") from None
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def handle(ctx: Context) -> int:
    before = _day(ctx.args.closed_before)
    try:
        archived, refused = asyncio.run(_archive(ctx, before))
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    verb = "would archive" if ctx.args.dry_run else "archived"
    print(f"{verb} {len(archived)} incident(s) closed before {ctx.args.closed_before}: {_ids(archived)}")
    for incident_id, why in refused:
        print(f"not archived #{incident_id}: {why}")
    return 0 if not refused else 1


def _ids(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in ids) or "none"


async def _archive(ctx: Context, before: datetime) -> tuple[list[int], list[tuple[int, str]]]:
    services = await open_services(ctx.settings, clock=SystemClock())
    try:
        async with services.db.read() as conn:
            ids = await closed_before(conn, before)
        if ctx.args.dry_run:
            return ids, []
        done: list[int] = []
        refused: list[tuple[int, str]] = []
        within = audited(AuditContext(None, None, via="cli"))
        for incident_id in ids:
            command = c.Archive(
                incident_id=incident_id, actor=ctx.args.actor, at=services.clock.now(), reason=ctx.args.reason
            )
            try:
                await execute(services, command, within=within)
            except CommandRejected as exc:
                refused.append((incident_id, str(exc)))
            else:
                done.append(incident_id)
        return done, refused
    finally:
        await services.db.close()
