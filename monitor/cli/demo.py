"""`monitor demo`: the product on an embedded database with bundled feeds; no network needed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from monitor.cli.common import CliError, Context, run_until_signal
from monitor.clock import SystemClock
from monitor.demo.run import DemoError, run_demo


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("demo", help="run the demo (SQLite under ./var, bundled feeds)")
    parser.add_argument("--host", help="address of the demo web page (default: the host setting)")
    parser.add_argument("--port", type=int, help="port of the demo web page (0 = any free port)")
    parser.add_argument("--data-dir", help="directory for the demo database (default: the data_dir setting)")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    def announce(text: str) -> None:
        print(text, flush=True)

    async def main(stop: asyncio.Event) -> None:
        await run_demo(ctx.settings, clock=SystemClock(), stop=stop, announce=announce)

    try:
        return run_until_signal(main)
    except DemoError as exc:
        raise CliError(str(exc)) from exc
    finally:
        sys.stdout.flush()
