"""Shared plumbing of the long-running commands (`serve`, `worker`): clock, services, listeners."""

from __future__ import annotations

import logging
import os

from monitor.app import Services, create_app, open_services
from monitor.cli.common import CliError
from monitor.clock import Clock, ClockConfigError, SystemClock, clock_from_env
from monitor.config import Settings
from monitor.runtime import Runtime
from monitor.storage.db import DatabaseError
from monitor.web.ops import OPS_PROBE, create_ops_app

log = logging.getLogger(__name__)


def process_clock() -> Clock:
    """The wall clock; the accelerated test clock only when a test sets both of its variables."""
    try:
        clock = clock_from_env(os.environ)
    except ClockConfigError as exc:
        raise CliError(str(exc)) from exc
    if not isinstance(clock, SystemClock):
        log.warning("TEST CLOCK IN USE: %r — deadlines follow simulated time, not the wall clock", clock)
    return clock


async def open_for_runtime(settings: Settings, clock: Clock, *, migrate: bool = False) -> Services:
    check_classifier_files(settings)
    try:
        return await open_services(settings, clock=clock, auto_migrate=migrate)
    except DatabaseError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"cannot reach the database: {exc}") from exc


def check_classifier_files(settings: Settings) -> None:
    """Refuse to start on a bad opinion_levels_file or grading_schemes_file: the classifier would
    otherwise fail at its first pass, after the other loops had started."""
    from monitor.classify.service import ClassifierError, load_grading_config, load_opinion_config

    try:
        load_opinion_config(settings)
        load_grading_config(settings)
    except ClassifierError as exc:
        raise CliError(f"{exc} (fix the file, or clear the setting to use the shipped one)") from exc


def split_listen(listen: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) → (host, port); errors name the ops_listen setting."""
    host, sep, port = listen.strip().rpartition(":")
    if not sep or not port.isdigit():
        raise CliError(f"ops_listen {listen!r} is not host:port, e.g. 127.0.0.1:9108 or 0.0.0.0:9108")
    return host.strip("[]") or "0.0.0.0", int(port)


async def serve_web(runtime: Runtime, host: str, port: int) -> int:
    """The web interface with this process's loops behind /readyz and /metrics; returns the bound port."""
    app = create_app(runtime.services)
    app[OPS_PROBE] = runtime
    try:
        return await runtime.serve_web(app, host, port)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from exc


async def serve_ops(runtime: Runtime, listen: str) -> None:
    """The `ops_listen` listener: /healthz, /readyz, /metrics only."""
    if not listen:
        return
    host, port = split_listen(listen)
    try:
        bound = await runtime.serve_app(create_ops_app(runtime.services, runtime), host, port)
    except OSError as exc:
        raise CliError(f"cannot listen on ops_listen {listen} ({exc.strerror}); choose another port") from exc
    log.info("metrics and health on http://%s:%s/metrics", *bound, extra={"event": "ops.listen", "port": bound[1]})
