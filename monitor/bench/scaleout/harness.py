"""A PostgreSQL deployment in miniature: real `monitor worker` processes on an accelerated clock.

The harness (used by the scale-out test and `monitor bench scaleout`) seeds confirmed incidents
with one open 48 h obligation each, whose first reminder (warn-half, to the owning unit's 联络员)
falls due at times spread over a simulated window; registers sources served by a local feed
server that logs every request in simulated time; and points every person's channel at a local
webhook sink that logs every delivery. Then it starts N worker processes per role, all sharing
one `AcceleratedClock` (`MONITOR_TEST_CLOCK`), and can SIGKILL one of them mid-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import yaml
from aiohttp import web

from monitor.clock import TEST_CLOCK_ENV, TEST_CLOCK_GUARD, TEST_CLOCK_GUARD_VALUE, AcceleratedClock, Clock, Stopwatch
from monitor.config import Settings, resolve_org_file, resolve_playbook_file
from monitor.domain import ClockType, EventKind, Incident, IncidentEvent, Obligation, OpinionLevel, Source, SourceKind
from monitor.policy.playbooks import load_policy
from monitor.storage.db import Database
from monitor.storage.repo.engine import mark_confirmed, save_obligations, save_snapshot, schedule_timers
from monitor.storage.repo.incidents import append_events, create_incidents
from monitor.storage.repo.ops import copy_events
from monitor.storage.repo.sources import add_sources

RULE = "GB61-RESPOND-48H"
BATCH = 1000
FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>明湖测试源</title>'
    "<item><title>明湖市召开防汛工作会议</title><link>https://news.example/{n}/1</link>"
    "<guid>https://news.example/{n}/1</guid><pubDate>Tue, 01 Sep 2026 08:00:00 +0800</pubDate>"
    "<description>会议部署防汛工作。</description></item></channel></rss>"
)


@dataclass
class Plan:
    """What to run. Times are simulated; `speed` turns them into wall time."""

    database_url: str
    workdir: Path
    start: datetime  # simulated instant at which the workers start
    obligations: int = 10_000
    window: timedelta = timedelta(hours=1)  # reminders fall due evenly over it, after `lead`
    lead: timedelta = timedelta(minutes=2)
    sources: int = 30
    poll_interval: timedelta = timedelta(minutes=5)
    speed: float = 120.0
    workers: int = 3  # per role
    startup_s: float = 10.0  # wall seconds the workers get to start before simulated `start` arrives
    roles: tuple[str, ...] = ("collector", "engine", "notifier")
    settings: dict[str, str] = field(default_factory=dict)  # extra MONITOR_* settings for the workers

    @property
    def due_from(self) -> datetime:
        return self.start + self.lead

    @property
    def due_until(self) -> datetime:
        return self.due_from + self.window


@dataclass
class Gate:
    """Holds every request after it was logged, until `opened` is set: the deterministic scale-out
    test kills a worker while its webhook delivery or feed fetch is held here, so the request was
    served (the receiver has it) but the worker never learns the answer."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set by the first held request
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    async def hold(self) -> None:
        self.arrived.set()
        await self.opened.wait()


@dataclass
class Sink:
    """The webhook receiver: every delivery, by the notifications' idempotency keys."""

    deliveries: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # key -> Idempotency-Keys
    requests: int = 0
    reminders: int = 0  # distinct warn-half keys received (the seeded obligations' reminders)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    watch: Stopwatch = field(default_factory=Stopwatch)  # restarted at launch
    first_s: float = 0.0
    last_s: float = 0.0
    gate: Gate | None = None  # when set, requests are held after being logged

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        delivery = request.headers.get("Idempotency-Key", "")
        for note in body["notifications"]:
            key = note["idempotency_key"]
            self.reminders += ":warn-half:" in key and key not in self.deliveries
            self.deliveries[key].append(delivery)
        self.requests += 1
        self.last_s = self.watch.elapsed()
        self.first_s = self.first_s or self.last_s
        self.changed.set()
        if self.gate is not None:
            await self.gate.hold()
        return web.json_response({"ok": True})


@dataclass
class Feeds:
    """The feed server: every request, per source, in simulated time."""

    clock: Clock
    requests: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))
    gate: Gate | None = None  # when set, requests are held after being logged

    async def handle(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        self.requests[n].append(self.clock.now())
        if self.gate is not None:
            await self.gate.hold()
        return web.Response(body=FEED.format(n=n).encode(), content_type="application/rss+xml", charset="utf-8")


@dataclass
class Worker:
    role: str
    index: int
    process: subprocess.Popen[bytes]
    log: Path
    killed_at: datetime | None = None


class Harness:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.clock = AcceleratedClock.starting_now(plan.start, plan.speed)  # re-anchored at launch()
        self.sink = Sink()
        self.feeds = Feeds(self.clock)
        self.workers: list[Worker] = []
        self._runners: list[web.AppRunner] = []
        self._logs: list[IO[bytes]] = []
        self.base_url = ""

    async def __aenter__(self) -> Harness:
        app = web.Application()
        app.router.add_post("/hook", self.sink.handle)
        app.router.add_get("/feed/{n}", self.feeds.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners.append(runner)
        self.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for worker in self.workers:  # after a failure: nothing may outlive the run
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()
        for log in self._logs:
            log.close()
        for runner in self._runners:
            await runner.cleanup()

    # --- data ---------------------------------------------------------------------------
    def write_org(self) -> Path:
        """The demo org with every person reachable on the webhook only, no quiet hours."""
        data = yaml.safe_load(resolve_org_file(Settings()).read_text(encoding="utf-8"))
        for person in data["people"]:
            person["channels"] = ["webhook"]
            person.pop("quiet_hours", None)
        path = self.plan.workdir / "org.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    async def seed(self, db: Database, liaison_units: list[str]) -> None:
        """Obligations whose warn-half reminders fall due over the window, and the sources."""
        plan, book = self.plan, load_policy(resolve_playbook_file(Settings())).playbook
        rule = book.rule(RULE)
        assert rule is not None
        async with db.write() as conn:
            await save_snapshot(conn, book.digest, book.jurisdiction, book.to_dict(), plan.start)
            every = int(plan.poll_interval.total_seconds())
            sources = [
                Source(name=f"测试源{n}", url=f"{self.base_url}/feed/{n}", kind=SourceKind.FEED,
                       poll_min_s=every, poll_max_s=every)
                for n in range(plan.sources)
            ]  # fmt: skip
            await add_sources(conn, sources, plan.start)
        for first in range(0, plan.obligations, BATCH):
            block = range(first, min(plan.obligations, first + BATCH))
            new = [self._incident(i, liaison_units) for i in block]
            async with db.write() as conn:
                ids = await create_incidents(conn, new, plan.start)
                await mark_confirmed(conn, ids, book.digest, plan.start, plan.start)
                obs, events, wakeups = [], [], []
                for iid, inc in zip(ids, new, strict=True):
                    t0, due = inc.detected_at, inc.detected_at + timedelta(hours=48)
                    obs.append(Obligation(iid, RULE, rule.action, ClockType.NATURAL_HOURS, t0, due))
                    events.extend(_events(iid, t0, due, book.digest))
                    wakeups.append((iid, 0, t0 + timedelta(hours=24), "plan"))
                if db.is_sqlite:  # COPY is PostgreSQL's; the stepped test also runs on SQLite
                    await append_events(conn, events, plan.start, return_ids=False)
                else:
                    await copy_events(conn, events, plan.start)
                await save_obligations(conn, obs, plan.start)
                await schedule_timers(conn, wakeups, plan.start)

    def _incident(self, i: int, units: list[str]) -> Incident:
        warn = self.plan.due_from + self.plan.window * i / max(1, self.plan.obligations)
        return Incident(title=f"压测事件{i}", detected_at=warn - timedelta(hours=24), opinion_level=OpinionLevel.L2,
                        owner_unit=units[i % len(units)])  # fmt: skip

    # --- processes ----------------------------------------------------------------------
    def launch(self, org_file: Path) -> None:
        """Start the workers; the shared clock reaches `plan.start` once they had time to start."""
        self.clock = AcceleratedClock.starting_now(self.plan.start, self.plan.speed, delay_s=self.plan.startup_s)
        self.feeds.clock = self.clock
        self.sink.watch.restart()
        for role in self.plan.roles:
            for index in range(self.plan.workers):
                self._spawn(role, index, org_file)

    def _spawn(self, role: str, index: int, org_file: Path) -> None:
        log = self.plan.workdir / f"{role}-{index}.log"
        handle = log.open("wb")
        self._logs.append(handle)
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "worker", "--role", role],
            env=self._env(org_file), stdout=handle, stderr=subprocess.STDOUT, cwd=self.plan.workdir,
        )  # fmt: skip
        self.workers.append(Worker(role, index, process, log))

    def _env(self, org_file: Path) -> dict[str, str]:
        env = self.worker_env(org_file)
        env.update({TEST_CLOCK_ENV: self.clock.spec, TEST_CLOCK_GUARD: TEST_CLOCK_GUARD_VALUE})
        return env

    def worker_env(self, org_file: Path) -> dict[str, str]:
        """The environment of a worker process: this run's database, org file, webhook and settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        settings = {
            "DATABASE_URL": self.plan.database_url, "DATA_DIR": str(self.plan.workdir), "ORG_FILE": str(org_file),
            "WEBHOOK_URL": f"{self.base_url}/hook", "NOTIFY_QUIET_HOURS": "", "LOG_FORMAT": "json",
            "COLLECTOR_PER_HOST": "16", "COLLECTOR_HOST_INTERVAL_S": "0",
            "CLASSIFY_WORKERS": "0",  # classify in the collector's own process: no extra pool per worker
            # Idle waits run on the accelerated clock: at 120× the default 2 s notifier poll would be
            # 60 queries a second per worker. Wait as long in wall time as production waits in its
            # own (the engine still wakes at each due timer; a notifier with a full batch goes on).
            "NOTIFY_POLL_S": f"{0.25 * self.plan.speed:g}",
            "ENGINE_TICK_S": f"{0.25 * self.plan.speed:g}",
            "AUDIT_INTERVAL_S": f"{5 * self.plan.speed:g}",
            **self.plan.settings,
        }  # fmt: skip
        env.update({f"MONITOR_{k}": v for k, v in settings.items()})
        return env

    async def kill(self, role: str) -> Worker:
        """SIGKILL the first live worker of `role` (no chance to clean up: leases and locks must save us)."""
        worker = next(w for w in self.workers if w.role == role and w.process.poll() is None)
        worker.process.send_signal(signal.SIGKILL)
        worker.killed_at = self.clock.now()
        await asyncio.to_thread(worker.process.wait)
        return worker

    async def stop(self, roles: tuple[str, ...] | None = None) -> None:
        """SIGTERM (a clean stop) and wait, without blocking the feed server and the sink meanwhile."""
        chosen = [w for w in self.workers if (roles is None or w.role in roles) and w.process.poll() is None]
        for worker in chosen:
            worker.process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(asyncio.to_thread(w.process.wait) for w in chosen))

    def dead(self) -> list[Worker]:
        """Workers that exited on their own (a crash), not killed or stopped by us."""
        return [w for w in self.workers if w.killed_at is None and w.process.poll() not in (None, 0, -signal.SIGTERM)]

    async def until(self, done: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
        """Wait (wall time) until `await done()` is true, re-checking on each delivery or every second."""

        async def loop() -> None:
            while not await done():
                if self.dead():
                    raise AssertionError(f"worker died: {self.dead()[0].log.read_text()[-3000:]}")
                self.sink.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.sink.changed.wait(), 1.0)

        await asyncio.wait_for(loop(), timeout_s)


def _events(iid: int, t0: datetime, due: datetime, digest: str) -> list[IncidentEvent]:
    ob = {"rule": RULE, "instance": 0, "title": "48小时内予以回应", "status": "open", "t0": t0.isoformat(),
          "due_at": due.isoformat()}  # fmt: skip
    return [
        IncidentEvent(iid, EventKind.CONFIRMED, t0, "bench", {"opinion_level": "L2", "requires_response": True}),
        IncidentEvent(iid, EventKind.PLAYBOOK_SNAPSHOT, t0, "bench", {"digest": digest}),
        IncidentEvent(iid, EventKind.OBLIGATION_OPENED, t0, "system", ob),
        IncidentEvent(iid, EventKind.ESCALATED, t0, "system",
                      {"rule": RULE, "instance": 0, "step": "assigned", "steps": ["assigned"]}),
    ]  # fmt: skip


def liaison_units(org_file: Path) -> list[str]:
    """Units with a 联络员 (who receives warn-half reminders), in file order."""
    data: dict[str, Any] = yaml.safe_load(org_file.read_text(encoding="utf-8"))
    units = [r["unit"] for p in data["people"] for r in p.get("roles", []) if r.get("role") == "liaison"]
    return list(dict.fromkeys(units))
