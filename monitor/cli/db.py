"""`monitor migrate`: create or upgrade the database schema (safe to run twice)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from monitor.cli.common import CliError, Context
from monitor.storage.db import Database, DatabaseError
from monitor.storage.migrate import migrate


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("migrate", help="create or upgrade the database schema")
    parser.add_argument("--to", default="head", help="target revision (default: head); an older one downgrades")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    async def run() -> tuple[str | None, str | None]:
        db = Database.open(ctx.settings.database_url)
        try:
            return await migrate(db, ctx.args.to)
        finally:
            await db.close()

    try:
        before, after = asyncio.run(run())
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot reach the database: {exc}") from exc
    if before == after:
        print(f"database schema already at {after}; nothing to do")
    else:
        print(f"database schema migrated from {before or 'empty'} to {after}")
    return 0
