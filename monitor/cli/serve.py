"""`monitor serve`: the web interface and the background roles of `serve_roles` in one process."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from monitor.cli.common import CliError, Context, run_until_signal
from monitor.cli.processes import open_for_runtime, process_clock, serve_ops, serve_web
from monitor.runtime import RoleError, Runtime, RuntimeCrashed, parse_roles
from monitor.storage.lock import EngineLockError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "serve", help="serve the web interface and run the background roles (serve_roles)"
    )
    parser.add_argument("--host", help="listen address (default: the host setting)")
    parser.add_argument("--port", type=int, help="listen port (default: the port setting)")
    parser.add_argument("--migrate", action="store_true", help="apply database migrations before starting")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    settings = ctx.settings
    try:
        roles = parse_roles([settings.serve_roles])
    except RoleError as exc:
        raise CliError(f"serve_roles: {exc}") from exc

    async def main(stop: asyncio.Event) -> None:
        services = await open_for_runtime(settings, process_clock(), migrate=ctx.args.migrate)
        runtime = Runtime(services, stop)
        try:
            await runtime.start(roles)
            port = await serve_web(runtime, settings.host, settings.port)
            await serve_ops(runtime, settings.ops_listen)
            log.info("serving on http://%s:%s/", settings.host, port, extra={"event": "web.listen", "port": port})
            await runtime.wait()
        except (EngineLockError, RuntimeCrashed) as exc:
            raise CliError(str(exc)) from exc
        finally:
            await runtime.close()

    return run_until_signal(main)
