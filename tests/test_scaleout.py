"""Scale-out on the real PostgreSQL: stateless web nodes sharing live updates through LISTEN/NOTIFY,
and worker processes that share the work and survive being SIGKILLed mid-step.

The worker test is deterministic in time: the workers run on clocks the test sets, take the steps
the test gives them, and die where the test kills them (see the section below). The same guarantee
on real time (120x clock, kills at delivery fractions) is a benchmark, `monitor bench scaleout-kill`.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, text
from yarl import URL

from monitor.app import open_services
from monitor.bench.scaleout import SIM_START
from monitor.bench.scaleout.checks import delivery_problems, fetch_problems, lost_fetch_problems
from monitor.bench.scaleout.harness import Gate, Harness, Plan, liaison_units
from monitor.bench.scaleout.stepped import OPS, StepWorker
from monitor.clock import FakeClock
from monitor.domain import UserRole
from monitor.storage.changefeed import PgChangeFeed
from monitor.storage.db import Database
from monitor.storage.repo.ops import DeliveryRecord, delivery_records, fetch_log, ops_snapshot
from monitor.storage.repo.sources import next_poll_at
from monitor.storage.schema import incidents, timers
from monitor.web.app import create_web_app
from monitor.web.auth.accounts import add_account
from monitor.web.auth.passwords import PasswordHasher

from .conftest import PG_ENV, START, PgServer
from .web.conftest import ACCOUNTS, ORG, PASSWORD, add_incident, login, post_form, web_settings

pytestmark = pytest.mark.pg


async def test_stateless_web_nodes_share_sessions_and_live_updates_through_listen_notify(
    pg_server: PgServer | None,
):
    """Two web nodes (no roles, own processes' worth of state each) on one database: a login on one
    is valid on the other, and a note added through one reaches the other's live stream at once.
    Their clocks never move, so the polling fallback never runs: only LISTEN/NOTIFY can carry it."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    url = pg_server.url_for(await pg_server.create(template=pg_server.template))
    settings = web_settings(database_url=url, serve_roles="")
    nodes = [await open_services(settings, clock=FakeClock(START)) for _ in range(2)]
    hasher = PasswordHasher.for_tests()
    clients: list[TestClient] = []
    try:
        for account in ACCOUNTS.values():
            await add_account(nodes[0].db, hasher, nodes[0].clock, ORG, account, PASSWORD, actor="test")
        for node in nodes:
            assert isinstance(node.changes, PgChangeFeed)
            clients.append(TestClient(TestServer(create_web_app(node, hasher=hasher))))
            await clients[-1].start_server()
        a, b = clients
        incident = await add_incident(nodes[0].db, START, title="两节点共享的事件")
        await login(a, ACCOUNTS[UserRole.DUTY_OFFICER].username, PASSWORD)
        b.session.cookie_jar.update_cookies(a.session.cookie_jar.filter_cookies(URL(str(a.make_url("/")))))
        assert (await b.get("/queue", allow_redirects=False)).status == 200  # the session lives in the database
        async with b.get("/events") as stream:
            await stream.content.readline()
            await nodes[1].changes.connected.wait()  # type: ignore[attr-defined]
            assert (await post_form(a, f"/incidents/{incident}/actions/notes", {"text": "甲节点的记录"})).status == 303
            assert await _next_ids(stream) == [incident]
        page = await (await b.get(f"/incidents/{incident}")).text()
        assert "甲节点的记录" in page
    finally:
        for client in clients:
            await client.close()
        for node in nodes:
            await node.changes.close()
            await node.db.close()


async def _next_ids(resp) -> list[int]:
    while True:
        line = (await resp.content.readline()).decode()
        if line.startswith("data: "):
            return json.loads(line[6:])["ids"]


# --- the scale-out guarantee, step by step ---------------------------------------------------
#
# Real worker processes (monitor/bench/scaleout/stepped.py: the collector, engine and notifier
# code of `monitor worker`) on one PostgreSQL database, each on a FakeClock that the test sets at
# every step. The test decides the time, which workers take each step (several at once: their
# claims really race on the database) and where one dies: SIGKILL while the webhook sink holds its
# delivery, while the feed server holds its fetch, or while its engine transaction waits on a row
# lock the test holds. No wall-clock deadline anywhere: on a loaded machine the test is slower,
# never different. The real-time run (120× clock) is `monitor bench scaleout-kill`.

STEP = timedelta(minutes=1)


@dataclass
class SteppedRun:
    harness: Harness
    db: Database
    clock: FakeClock
    env: dict[str, str]
    rng: random.Random
    workers: list[StepWorker] = field(default_factory=list)
    kills: dict[str, datetime] = field(default_factory=dict)  # role whose step was cut short -> when

    @property
    def live(self) -> list[StepWorker]:
        return [w for w in self.workers if not w.killed]

    async def spawn(self, count: int = 1) -> None:
        first = len(self.workers)
        names = [f"w{n}" for n in range(first, first + count)]
        env, workdir, now = self.env, self.harness.plan.workdir, self.clock.now()
        self.workers += await asyncio.gather(*(StepWorker.start(n, now, env, workdir) for n in names))

    async def round(self, op: str) -> list[dict]:
        """Some of the live workers (chosen by the seeded generator) take the step at the same time."""
        chosen = self.rng.sample(self.live, self.rng.randint(1, len(self.live)))
        return list(await asyncio.gather(*(w.step(op, self.clock.now()) for w in chosen)))

    async def step(self, ops: tuple[str, ...] = OPS) -> None:
        for op in self.rng.sample(ops, len(ops)):
            await self.round(op)

    async def outbox_open(self) -> int:
        async with self.db.read() as conn:
            snap = await ops_snapshot(conn, self.clock.now())
        return snap.outbox.get("pending", 0) + snap.outbox.get("sending", 0)


Crash = Callable[[SteppedRun], Awaitable[bool]]  # True once it killed a worker; False: not possible yet


async def _kill_mid_delivery(run: SteppedRun) -> bool:
    """A notifier dies after the receiver got its webhook request, before it could record it."""
    await run.round("tick")  # this minute's reminders are in the outbox
    if not await run.outbox_open():
        return False
    victim, gate = run.rng.choice(run.live), Gate()
    run.harness.sink.gate = gate
    victim.send("notify", run.clock.now())
    await gate.arrived.wait()
    await victim.kill()
    run.harness.sink.gate = None
    gate.opened.set()
    run.kills["notifier"] = run.clock.now()
    return True


async def _kill_mid_fetch(run: SteppedRun) -> bool:
    """A collector dies after the feed server answered its leased sources' requests, before storing."""
    async with run.db.read() as conn:
        due = await next_poll_at(conn)
    if due is None or due > run.clock.now():
        return False
    victim, gate = run.rng.choice(run.live), Gate()
    run.harness.feeds.gate = gate
    victim.send("collect", run.clock.now())
    await gate.arrived.wait()
    await victim.kill()
    run.harness.feeds.gate = None
    gate.opened.set()
    run.kills["collector"] = run.clock.now()
    return True


async def _kill_mid_transaction(run: SteppedRun) -> bool:
    """An engine dies inside its tick's transaction (timers claimed, waiting for an incident's lock
    the test holds): PostgreSQL rolls the claim back and the timers fall due again."""
    now = run.clock.now()
    earliest = select(timers.c.incident_id).where(timers.c.fired_at.is_(None), timers.c.due_at <= now)
    async with run.db.read() as conn:
        incident = (await conn.execute(earliest.order_by(timers.c.due_at, timers.c.id).limit(1))).scalar()
    if incident is None:
        return False
    victim = run.rng.choice(run.live)
    async with run.db.engine.connect() as holder:
        async with holder.begin():
            await holder.execute(select(incidents.c.id).where(incidents.c.id == incident).with_for_update())
            me = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar()
            victim.send("tick", now)
            await _until_blocked_by(run.db, me)
            await victim.kill()
        # the dead worker's backend gets the lock, finds its client gone and rolls back: wait for its locks
        await holder.execute(select(timers.c.id).where(timers.c.incident_id == incident).with_for_update())
        fired = (await holder.execute(select(timers.c.fired_at).where(timers.c.incident_id == incident))).scalars()
        assert None in list(fired), "the dead engine's claim was not rolled back"
        await holder.rollback()
    run.kills["engine"] = now
    return True


async def _until_blocked_by(db: Database, pid: int) -> None:
    """Until some backend waits on a lock `pid` holds (each look is a query; no sleeping)."""
    blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    while True:
        async with db.read() as conn:
            if (await conn.execute(blocked, {"pid": pid})).scalar():
                return


@dataclass
class Outcome:
    run: SteppedRun
    records: list[DeliveryRecord]
    logged: dict[int, list[datetime]]  # source -> fetches in the collectors' log
    stopped_at: datetime  # the last collector step


async def _run_stepped(plan: Plan, workers: int, crashes: list[tuple[int, Crash]]) -> Outcome:
    """Step the workers through the plan's window (one simulated minute a step); from step N on,
    inject each crash as soon as it can happen and start a replacement; then let them drain the outbox."""
    clock, db = FakeClock(plan.start), Database.open(plan.database_url)
    try:
        async with Harness(plan) as harness:
            harness.feeds.clock = clock
            org = harness.write_org()
            await harness.seed(db, liaison_units(org))
            run = SteppedRun(harness, db, clock, harness.worker_env(org), random.Random(20260901))
            try:
                await run.spawn(workers)
                n, end = 0, plan.due_until + plan.poll_interval
                while clock.now() < end:
                    n, _ = n + 1, clock.advance(STEP)
                    if crashes and n >= crashes[0][0] and await crashes[0][1](run):
                        crashes.pop(0)
                        await run.spawn()  # the replacement, as systemd would restart it
                    await run.step()
                stopped_at = clock.now()
                for _ in range(30):  # no collector any more; rows left in doubt wait for their lease
                    if not await run.outbox_open():
                        break
                    clock.advance(STEP)
                    await run.step(("tick", "notify"))
                for worker in run.live:
                    await worker.quit()
            finally:  # a failed run leaves no worker behind
                for worker in run.live:
                    if worker.process.returncode is None:
                        await worker.kill()
        async with db.read() as conn:
            records = await delivery_records(conn)
            logged = {int(url.rsplit("/", 1)[1]): times for url, times in (await fetch_log(conn)).items()}
    finally:
        await db.close()
    assert crashes == [], f"crashes never injected: {crashes}"
    return Outcome(run, records, logged, stopped_at)


def _problems(outcome: Outcome) -> list[str]:
    """Every reminder delivered exactly once (repeats only of rows a dead worker left in doubt, under
    the same Idempotency-Key); every source fetched once per interval, a step late at most, and
    every request the feed server answered in the fetch log but for the killed collector's."""
    run, plan = outcome.run, outcome.run.harness.plan
    sink, feeds = run.harness.sink, run.harness.feeds
    problems = [] if sink.reminders == plan.obligations else [f"{sink.reminders} reminders of {plan.obligations}"]
    problems += delivery_problems(sink.deliveries, outcome.records)
    span = (plan.start, outcome.stopped_at - plan.poll_interval)
    kills = [t for role, t in run.kills.items() if role == "collector"]
    problems += fetch_problems(outcome.logged, plan.sources, plan.poll_interval, span, kills, latency=STEP)
    return problems + lost_fetch_problems(feeds.requests, outcome.logged, collector_killed=bool(kills))


def _plan(url: str, workdir: Path) -> Plan:
    return Plan(url, workdir, SIM_START, obligations=300, window=timedelta(minutes=30), sources=12,
                poll_interval=timedelta(minutes=5),
                settings={"NOTIFY_LEASE_S": "300", "NOTIFY_BATCH": "8", "ENGINE_BATCH": "16"})  # fmt: skip


@pytest.mark.timeout(600)
async def test_workers_share_the_work_and_lose_or_repeat_nothing_when_killed_mid_step(
    pg_server: PgServer | None, tmp_path
):
    """PostgreSQL: three workers race for every step; a notifier, a collector and an engine die mid-step."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    plan = _plan(pg_server.url_for(await pg_server.create(template=pg_server.template)), tmp_path)
    crashes = [(8, _kill_mid_delivery), (13, _kill_mid_fetch), (20, _kill_mid_transaction)]
    outcome = await _run_stepped(plan, 3, crashes)
    run = outcome.run
    assert set(run.kills) == {"notifier", "collector", "engine"}
    assert _problems(outcome) == []
    assert any(r.in_doubt for r in outcome.records)  # the killed notifier's rows were resent under the same key
    served = sum(map(len, run.harness.feeds.requests.values()))
    assert served > sum(map(len, outcome.logged.values()))  # the killed collector's fetches
    senders = {w.name for w in run.workers if any(s.get("sent") for s in w.steps)}
    assert len(senders) >= 3  # the work was shared


@pytest.mark.timeout(600)
async def test_a_single_worker_on_sqlite_killed_mid_step_and_restarted_loses_or_repeats_nothing(
    tmp_path, sqlite_template: Path
):
    """SQLite (one worker at a time, as `monitor serve` runs there): killed mid-delivery and mid-fetch."""
    path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, path)
    plan = _plan(f"sqlite+aiosqlite:///{path}", tmp_path)
    outcome = await _run_stepped(plan, 1, [(8, _kill_mid_delivery), (13, _kill_mid_fetch)])
    assert set(outcome.run.kills) == {"notifier", "collector"}
    assert _problems(outcome) == []
    assert any(r.in_doubt for r in outcome.records)
