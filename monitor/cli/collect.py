"""`monitor collect [--once]`: run the collectors without the web interface."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from monitor.cli.common import CliError, Context, run_until_signal
from monitor.clock import SystemClock
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.storage.db import Database, DatabaseError
from monitor.storage.migrate import require_current_schema


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("collect", help="poll the sources (all due ones once, or forever)")
    parser.add_argument("--once", action="store_true", help="one pass over every due source, then exit")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    async def main(stop: asyncio.Event) -> None:
        db = Database.open(ctx.settings.database_url)
        try:
            await require_current_schema(db)
            config = CollectorConfig.from_settings(ctx.settings)
            async with Collector(db, SystemClock(), config, env=os.environ) as collector:
                if not ctx.args.once:
                    await collector.run_forever(stop)
                    return
                result = await collector.run_once(stop)
                print(
                    f"采集{'中断' if result.interrupted else '完成'}：{result.sources} 个来源，"
                    f"发现 {result.items_seen} 条，新增 {result.items_new} 条"
                    f"（其中转载/重复 {result.duplicates} 条）"
                    + (f"，失败 {result.errors} 个来源" if result.errors else "")
                    + (
                        f"；{result.interrupted} 个来源因停止而未采完（未写入任何内容），下次运行时重新采集"
                        if result.interrupted
                        else ""
                    )
                )
        except DatabaseError as exc:
            raise CliError(str(exc)) from exc
        finally:
            await db.close()

    return run_until_signal(main)
