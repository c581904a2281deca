"""The process runtime: which background loops run here, their heartbeats, and how they stop.

One place starts and stops the loops of a process, for `monitor serve` (web + every role, on
SQLite or PostgreSQL), `monitor worker --role …` (PostgreSQL) and the demo:

| role        | loops                         | shares work with other processes through        |
|-------------|-------------------------------|-------------------------------------------------|
| `collector` | poll → classify hook → cluster | leased source rows (SKIP LOCKED, lease expiry)  |
| `engine`    | clock engine, audit watchdog  | SKIP LOCKED timer claims + generation fencing   |
| `notifier`  | outbox delivery               | leased outbox rows (claimed_by / claimed_until) |
| `scheduler` | monthly report job            | a PostgreSQL advisory lock (one runs the job)   |
| `web`       | web interface heartbeat       | nothing: web nodes are stateless                |

On SQLite one engine runner per database file is allowed (`EngineLock`). Every loop reports each
completed pass here: a structured log line (INFO when it did work, DEBUG when idle) and its
`LoopStatus`, which /readyz and /metrics read; the loops also upsert `heartbeats` rows
(docs/contracts.md §5), which the audit watchdog and /metrics read across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiohttp import web

from monitor.app import Services
from monitor.classify import PendingResult, open_classifier
from monitor.clock import sleep_or_stop
from monitor.collectors.cluster import ClusterResult
from monitor.collectors.polling import Collector, CollectorConfig, PassResult
from monitor.engine.audit import Auditor, Finding
from monitor.engine.runner import Engine, TickResult
from monitor.notifications import PassReport, run_notifier
from monitor.pipeline import Analysis, Pipeline
from monitor.reports.job import run_scheduled, scheduled_done
from monitor.reports.schedule import report_due
from monitor.storage.lock import EngineLock
from monitor.storage.repo.engine import beat
from monitor.storage.repo.ops import HEARTBEAT_HORIZON, forget_heartbeats, prune_heartbeats
from monitor.storage.repo.org_people import follow_overrides
from monitor.web.ops import LoopStatus

log = logging.getLogger(__name__)

WEB_BEAT_S = 30.0
STOP_GRACE_S = 30.0  # how long loops may take to finish their pass after stop


class Role(StrEnum):
    COLLECTOR = "collector"  # poll sources, classify (hook), cluster into incidents
    ENGINE = "engine"  # the clock engine and the audit watchdog
    NOTIFIER = "notifier"  # deliver the outbox
    SCHEDULER = "scheduler"  # the monthly report job
    WEB = "web"  # the web interface (serve and the demo only)


WORKER_ROLES = (Role.COLLECTOR, Role.ENGINE, Role.NOTIFIER, Role.SCHEDULER)


class RoleError(ValueError):
    """A role name is wrong; the message lists the valid ones."""


class RuntimeCrashed(RuntimeError):
    """A loop ended with an exception it could not handle; the process should exit and be restarted."""


def parse_roles(values: Iterable[str], allowed: Iterable[Role] = WORKER_ROLES) -> tuple[Role, ...]:
    """`["collector,engine", "notifier"]` → roles, in order, without repeats."""
    allowed = tuple(allowed)
    found: list[Role] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            if not name:
                continue
            role = Role._value2member_map_.get(name)
            if role is None or role not in allowed:
                raise RoleError(f"unknown role {part.strip()!r}; use one or more of {', '.join(allowed)}")
            if role not in found:
                found.append(Role(role))
    return tuple(found)


@dataclass
class RuntimeHooks:
    """What a caller may add to or change in the loops."""

    # The collector role classifies new items after each pass, before clustering, with the
    # classifier of `monitor.classify` (monitor/pipeline.py: classify → cluster → regrade by
    # spread). A callable here replaces that step (tests, another classifier); its failure is
    # logged and clustering goes on with what is classified.
    classify: Callable[[], Awaitable[object]] | None = None
    collector_config: CollectorConfig | None = None  # default: from settings
    collector_idle_s: float = 30.0  # longest pause between collector passes
    on_collect: Callable[[PassResult, Analysis], None] | None = None  # after each collector pass (the demo prints it)
    on_pass: Callable[[str, dict[str, Any]], None] | None = None  # after every loop's pass: (loop, fields)
    write: Callable[[str], None] = print  # where the console channel writes
    env: Mapping[str, str] | None = None  # credentials and robot secrets (default: os.environ)


class Runtime:
    """Start roles with `start()` / `serve_web()`, `wait()` for the stop event, then `close()`."""

    def __init__(self, services: Services, stop: asyncio.Event, hooks: RuntimeHooks | None = None) -> None:
        self.services, self.stop = services, stop
        self.hooks = hooks or RuntimeHooks()
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self.roles: list[Role] = []
        self._loops: dict[str, LoopStatus] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._runners: list[web.AppRunner] = []
        self._engine_lock: EngineLock | None = None
        self._engine_ticked = asyncio.Event()  # the audit waits for it: no "engine never ran" at start-up
        self._pruned = False

    # --- what /readyz and /metrics read ----------------------------------------------
    def loop_statuses(self) -> list[LoopStatus]:
        return list(self._loops.values())

    # --- starting ----------------------------------------------------------------------
    async def start(self, roles: Iterable[Role]) -> None:
        """Start the loops of these background roles (the engine lock is taken first, on SQLite)."""
        s = self.services
        settings = s.settings
        await self._prune_heartbeats()
        for role in roles:
            if role in self.roles or role is Role.WEB:
                continue
            if role is Role.ENGINE:
                self._lock_engine()
            self.roles.append(role)
            if role is Role.COLLECTOR:
                self._spawn("collector", self.hooks.collector_idle_s, self._collector())
            elif role is Role.ENGINE:
                self._spawn("engine", settings.engine_tick_s, self._engine())
                self._spawn("audit", settings.audit_interval_s, self._audit())
            elif role is Role.NOTIFIER:
                self._spawn("notifier", settings.notify_poll_s, self._notifier())
            else:
                self._spawn("scheduler", settings.scheduler_interval_s, self._scheduler())
        if self.roles and "org" not in self._tasks:  # people edited on the web reach this process's directory
            self._tasks["org"] = asyncio.create_task(
                follow_overrides(s.db, s.clock, s.org, self.stop, settings.live_poll_s), name="org"
            )
        log.info(
            "runtime started roles %s", ",".join(self.roles) or "(none)",
            extra={"event": "runtime.start", "roles": list(self.roles), "instance": self.instance},
        )  # fmt: skip

    async def serve_app(self, app: web.Application, host: str, port: int) -> tuple[str, int]:
        """Listen with `app` on host:port (port 0: any free port); returns the bound (host, port)."""
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, host, port).start()  # OSError when the port is taken
        bound = runner.addresses[0]
        return str(bound[0]), int(bound[1])

    async def serve_web(self, app: web.Application, host: str, port: int) -> int:
        """The web role: serve `app` and beat its heartbeat; returns the bound port."""
        _, bound = await self.serve_app(app, host, port)
        await self._prune_heartbeats()
        if Role.WEB not in self.roles:
            self.roles.append(Role.WEB)
            self._spawn("web", WEB_BEAT_S, self._web_heartbeat())
        return bound

    async def _prune_heartbeats(self) -> None:
        """Once per process: drop heartbeat rows silent for a day (each start adds a new instance's rows)."""
        if self._pruned:
            return
        self._pruned = True
        async with self.services.db.write() as conn:
            gone = await prune_heartbeats(conn, self.services.clock.now() - HEARTBEAT_HORIZON)
        if gone:
            log.info("pruned %d stale heartbeat rows", gone, extra={"event": "heartbeats.pruned", "rows": gone})

    def _lock_engine(self) -> None:
        lock = EngineLock.for_database(self.services.settings.database_url)
        if lock is not None:
            lock.acquire(self.services.clock.now())  # EngineLockError names the other runner
            self._engine_lock = lock

    def _spawn(self, name: str, interval_s: float, loop: Coroutine[Any, Any, None]) -> None:
        self._loops[name] = LoopStatus(name, self.instance, interval_s, self.services.clock.now())
        self._tasks[name] = asyncio.create_task(loop, name=name)

    # --- running -----------------------------------------------------------------------
    async def wait(self) -> None:
        """Until the stop event is set; raises `RuntimeCrashed` when a loop died instead."""
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            while not self.stop.is_set():
                names: dict[asyncio.Future[Any], str] = {t: n for n, t in self._tasks.items()}
                done, _ = await asyncio.wait({stopper, *names}, return_when=asyncio.FIRST_COMPLETED)
                for task in done - {stopper}:
                    if self.stop.is_set():
                        break
                    exc = None if task.cancelled() else task.exception()
                    log.critical("loop %s ended: %r", names[task], exc, exc_info=exc)
                    raise RuntimeCrashed(f"the {names[task]} loop stopped unexpectedly: {exc!r}")
        finally:
            stopper.cancel()

    async def close(self) -> None:
        """Stop every loop (each finishes its pass), forget their heartbeats, stop listening."""
        self.stop.set()
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
            for task in late:  # e.g. a notifier mid-send: its rows keep their lease (docs/notifications.md)
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self.services.db.write() as conn:
                await forget_heartbeats(conn, [(name, self.instance) for name in self._loops])
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._engine_lock is not None:
            self._engine_lock.release()
            self._engine_lock = None
        await self.services.changes.close()
        await self.services.db.close()

    # --- bookkeeping of passes -----------------------------------------------------------
    def passed(self, name: str, seconds: float, fields: dict[str, Any], busy: bool) -> None:
        status = self._loops[name]
        status.last_beat, status.last_seconds, status.last = self.services.clock.now(), seconds, fields
        status.passes += 1
        log.log(
            logging.INFO if busy else logging.DEBUG,
            "%s pass: %s", name, " ".join(f"{k}={v}" for k, v in fields.items()),
            extra={"event": f"{name}.pass", "role": name, "instance": self.instance,
                   "duration_ms": round(seconds * 1000, 1), **fields},
        )  # fmt: skip
        if self.hooks.on_pass is not None:
            self.hooks.on_pass(name, fields)

    # --- the loops -------------------------------------------------------------------------
    async def _collector(self) -> None:
        s, hooks = self.services, self.hooks
        config = hooks.collector_config or CollectorConfig.from_settings(s.settings)
        classifier = await open_classifier(s.settings, s.org) if hooks.classify is None else None
        pipeline = Pipeline(s, s.settings, classifier) if classifier is not None else None
        last = Analysis(PendingResult(), ClusterResult(0, 0, 0), 0)

        async def classify() -> None:
            nonlocal last
            found = await (pipeline.classify() if pipeline is not None else hooks.classify())  # type: ignore[misc]
            last = dataclasses.replace(last, classified=found if isinstance(found, PendingResult) else PendingResult())

        async def regrade() -> None:
            nonlocal last
            last = dataclasses.replace(last, regraded=await pipeline.regrade() if pipeline is not None else 0)

        def on_pass(result: PassResult, clustered: ClusterResult, seconds: float) -> None:
            nonlocal last
            analysis, last = dataclasses.replace(last, clustered=clustered), Analysis(PendingResult(), clustered, 0)
            fields = {"sources": result.sources, "items_seen": result.items_seen, "items_new": result.items_new,
                      "duplicates": result.duplicates, "errors": result.errors,
                      "classified": analysis.classified.items, "relevant": analysis.classified.relevant,
                      "clustered": clustered.items, "incidents_opened": clustered.opened,
                      "regraded": analysis.regraded}  # fmt: skip
            self.passed("collector", seconds, fields, busy=result.sources > 0 or clustered.items > 0)
            if hooks.on_collect is not None:
                hooks.on_collect(result, analysis)

        env = os.environ if hooks.env is None else hooks.env
        try:
            async with Collector(
                s.db, s.clock, config, owner=self.instance, env=env, before_cluster=classify, after_cluster=regrade
            ) as collector:
                await collector.run_forever(self.stop, idle_s=hooks.collector_idle_s, on_pass=on_pass)
        finally:
            if classifier is not None:
                await classifier.close()

    async def _engine(self) -> None:
        s = self.services

        def on_tick(result: TickResult, seconds: float) -> None:
            fields = {"timers": result.timers, "stale": result.stale, "incidents": result.incidents,
                      "alerts": result.alerts}  # fmt: skip
            self.passed("engine", seconds, fields, busy=result.timers > 0 or result.incidents > 0)
            self._engine_ticked.set()

        engine = Engine(s, batch=s.settings.engine_batch, instance=self.instance)
        await engine.run(self.stop, poll_s=s.settings.engine_tick_s, on_tick=on_tick)

    async def _audit(self) -> None:
        def on_check(found: list[Finding]) -> None:
            self.passed("audit", 0.0, {"findings": ",".join(f.check for f in found) or "none"}, busy=bool(found))

        waiting = [asyncio.ensure_future(e.wait()) for e in (self._engine_ticked, self.stop)]
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for task in waiting:
            task.cancel()
        auditor = Auditor(self.services, instance=self.instance)
        await auditor.run(self.stop, interval_s=self.services.settings.audit_interval_s, on_check=on_check)

    async def _notifier(self) -> None:
        s, hooks = self.services, self.hooks

        def on_pass(report: PassReport, seconds: float) -> None:
            fields = {"claimed": report.claimed, "sent": report.sent, "failed": report.failed,
                      "deferred": report.deferred, "recovered": report.recovered}  # fmt: skip
            self.passed("notifier", seconds, fields, busy=report.claimed > 0)

        await run_notifier(
            s.db, s.clock, s.settings, s.org, self.stop, env=hooks.env, write=hooks.write,
            worker=self.instance, on_pass=on_pass,
        )  # fmt: skip

    async def _scheduler(self) -> None:
        """The monthly report: due from report_hour on the 1st; one worker at a time runs it."""
        s, done = self.services, set[str]()
        while not self.stop.is_set():
            fields: dict[str, Any] = {"month": None}
            try:
                run = report_due(s.clock.now(), s.settings.report_hour, done)
                if run is not None and await scheduled_done(s.db, s.settings, run):
                    done.add(run.period.key)
                elif run is not None:
                    async with s.db.singleton("monthly-report") as mine:
                        if mine:
                            result = await run_scheduled(s.db, s.settings, s.org, s.clock.now())
                            done.add(run.period.key)
                            fields = {"month": run.period.key, "files": len(result.files), "queued": len(result.queued)}
                async with s.db.write() as conn:
                    await beat(conn, "scheduler", self.instance, s.clock.now(), {"done": sorted(done)})
                self.passed("scheduler", 0.0, fields, busy=fields["month"] is not None)
            except Exception:
                log.exception("scheduler pass failed; retrying in %.0f s", s.settings.scheduler_interval_s)
            await sleep_or_stop(s.clock, s.settings.scheduler_interval_s, self.stop)

    async def _web_heartbeat(self) -> None:
        s = self.services
        while not self.stop.is_set():
            try:
                async with s.db.write() as conn:
                    await beat(conn, "web", self.instance, s.clock.now(), {"pid": os.getpid()})
                self.passed("web", 0.0, {}, busy=False)
            except Exception:
                log.exception("web heartbeat failed")
            await sleep_or_stop(s.clock, WEB_BEAT_S, self.stop)
