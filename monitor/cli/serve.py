"""`monitor serve`: the web interface and the collectors in one process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import Any

from aiohttp import web

from monitor.app import create_app, open_services
from monitor.classify import open_classifier
from monitor.cli.common import CliError, Context, run_until_signal
from monitor.clock import SystemClock
from monitor.collectors.polling import Collector, CollectorConfig
from monitor.engine.audit import Auditor
from monitor.engine.runner import Engine
from monitor.notifications import start_notifier, stop_notifier
from monitor.pipeline import Pipeline
from monitor.storage.db import DatabaseError

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("serve", help="serve the web interface and run the collectors")
    parser.add_argument("--host", help="listen address (default: the host setting)")
    parser.add_argument("--port", type=int, help="listen port (default: the port setting)")
    parser.add_argument("--migrate", action="store_true", help="apply database migrations before starting")
    parser.set_defaults(handler=handle)


def handle(ctx: Context) -> int:
    settings = ctx.settings

    async def main(stop: asyncio.Event) -> None:
        try:
            services = await open_services(settings, clock=SystemClock(), auto_migrate=ctx.args.migrate)
        except DatabaseError as exc:
            raise CliError(str(exc)) from exc
        runner = web.AppRunner(create_app(services), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise CliError(
                f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); choose another --port"
            ) from exc
        log.info("serving on http://%s:%s/", settings.host, runner.addresses[0][1])
        engine = asyncio.create_task(Engine(services).run(stop, poll_s=settings.engine_tick_s))
        audit = asyncio.create_task(Auditor(services).run(stop, interval_s=settings.audit_interval_s))
        notifier = start_notifier(services.db, services.clock, settings, services.org, stop)
        classifier = await open_classifier(settings, services.org)
        pipeline = Pipeline(services, settings, classifier)
        try:
            async with Collector(
                services.db,
                services.clock,
                CollectorConfig.from_settings(settings),
                env=os.environ,
                before_cluster=pipeline.classify,
                after_cluster=pipeline.regrade,
            ) as collector:
                await collector.run_forever(stop)
        finally:
            stop.set()
            await classifier.close()
            await asyncio.gather(engine, audit, return_exceptions=True)
            await stop_notifier(notifier)
            await runner.cleanup()

    return run_until_signal(main)
