"""`monitor worker --role …`: background roles without the web interface, for PostgreSQL scale-out."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from monitor.cli.common import CliError, Context, run_until_signal
from monitor.cli.processes import open_for_runtime, process_clock, serve_ops
from monitor.runtime import WORKER_ROLES, RoleError, Runtime, RuntimeCrashed, parse_roles
from monitor.storage.db import normalize_url

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "worker", help="run background roles (collector, engine, notifier, scheduler) against PostgreSQL"
    )
    parser.add_argument(
        "--role",
        action="append",
        required=True,
        metavar="ROLE[,ROLE]",
        help=f"role(s) to run: {', '.join(WORKER_ROLES)}; repeat or separate with commas",
    )
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    settings = ctx.settings
    try:
        roles = parse_roles(ctx.args.role)
    except RoleError as exc:
        raise CliError(f"--role: {exc}") from exc
    if not roles:
        raise CliError(f"--role: name at least one of {', '.join(WORKER_ROLES)}")
    if normalize_url(settings.database_url).drivername.startswith("sqlite"):
        raise CliError(
            "monitor worker needs PostgreSQL (database_url is SQLite): on one box `monitor serve` runs every "
            "role in one process; to scale out, point database_url at PostgreSQL"
        )

    async def main(stop: asyncio.Event) -> None:
        runtime = Runtime(await open_for_runtime(settings, process_clock()), stop)
        try:
            await serve_ops(runtime, settings.ops_listen)
            await runtime.start(roles)
            await runtime.wait()
        except RuntimeCrashed as exc:
            raise CliError(str(exc)) from exc
        finally:
            await runtime.close()

    return run_until_signal(main)
