"""`monitor bench scaleout` and `monitor bench scaleout-kill`: `monitor worker` processes on
PostgreSQL on an accelerated (real-time) clock, one worker of each role killed mid-run.

`run_scenario(plan, kills)` seeds the database, starts the workers, SIGKILLs one worker of each
role in `kills` once that fraction of the reminders was delivered, waits for every reminder and
for the end of the simulated window, lets the notifiers drain the outbox, stops everything and
returns what happened; `checks` judges it. These runs depend on the machine keeping up with the
clock (a worker woken seconds late polls minutes late at 120×), so they are benchmarks; the
scale-out test drives stepped workers (`stepped.py`) on clocks it sets instead.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.bench import BenchOptions, BenchResult
from monitor.bench.scaleout.checks import delivery_problems, fetch_problems, lost_fetch_problems
from monitor.bench.scaleout.harness import Harness, Plan, liaison_units
from monitor.clock import Stopwatch
from monitor.storage.db import Database
from monitor.storage.migrate import migrate, reset_schema
from monitor.storage.repo.ops import DeliveryRecord, delivery_records, fetch_log, ops_snapshot

SIM_START = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
Check = Callable[[], Awaitable[bool]]


@dataclass
class Report:
    plan: Plan
    records: list[DeliveryRecord]
    sink: dict[str, list[str]]
    fetches: dict[int, list[datetime]]  # by the feed server, when it handled each request
    fetch_log: dict[int, list[datetime]] = field(default_factory=dict)  # by the collectors, when each fetch began
    collectors_stopped_at: datetime | None = None  # simulated time the collectors were told to stop
    kills: dict[str, datetime] = field(default_factory=dict)  # role -> simulated time of the SIGKILL
    delivered_s: float = 0.0  # wall seconds from launch until every reminder was delivered
    first_delivery_s: float = 0.0  # wall seconds from launch to the first / last webhook request
    last_delivery_s: float = 0.0
    worker_logs: dict[str, str] = field(default_factory=dict)  # "role-index" -> log text

    reminders: int = 0  # distinct reminders (warn-half keys) delivered
    seed_s: float = 0.0  # wall seconds spent seeding the obligations

    def delivery_problems(self) -> list[str]:
        return delivery_problems(self.sink, self.records)

    def fetch_problems(self) -> list[str]:
        # From the first fetch (a loaded machine may start the collectors late) until one interval
        # before the collectors were stopped: every source must have been fetched regularly in it.
        firsts = [times[0] for times in self.fetch_log.values() if times]
        if not firsts or self.collectors_stopped_at is None:
            return ["no fetch was logged"]
        span = (min(firsts), self.collectors_stopped_at - self.plan.poll_interval)
        if span[1] - span[0] < 3 * self.plan.poll_interval:
            return [f"the collectors ran too briefly to judge their schedule: {span[0]} to {span[1]}"]
        collector_kills = [t for role, t in self.kills.items() if role == "collector"]
        # A loaded machine wakes a collector late by seconds of wall time: minutes at 120×. 8 s of
        # wall time (16 simulated minutes at 120×, three poll intervals) was seen on this 2-core
        # machine with other tests running; a source left unpolled longer than that is still caught.
        latency = max(timedelta(seconds=90), timedelta(seconds=8 * self.plan.speed))
        return fetch_problems(
            self.fetch_log, self.plan.sources, self.plan.poll_interval, span, collector_kills, latency=latency
        ) + lost_fetch_problems(self.fetches, self.fetch_log, bool(collector_kills))


async def run_scenario(plan: Plan, kills: dict[str, float] | None = None) -> Report:
    """Run the plan against its (migrated, empty) database; `kills`: role -> fraction delivered."""
    db = Database.open(plan.database_url)
    try:
        async with Harness(plan) as harness:
            org = harness.write_org()
            watch = Stopwatch()
            # The workers start (seconds of imports each) while the database is seeded: the
            # simulated clock stands still for `startup_s`, and anything seeded late is simply
            # found by the next claim.
            harness.launch(org)
            await harness.seed(db, liaison_units(org))
            report = Report(plan, [], harness.sink.deliveries, harness.feeds.requests, seed_s=watch.elapsed())
            wall = plan.startup_s + (plan.lead + plan.window + plan.poll_interval).total_seconds() / plan.speed + 90
            for role, fraction in sorted((kills or {}).items(), key=lambda kv: kv[1]):
                await harness.until(_delivered(harness, fraction * plan.obligations), wall)
                report.kills[role] = (await harness.kill(role)).killed_at or plan.start
            await harness.until(_finished(report, harness), wall)
            report.delivered_s = watch.elapsed()
            report.first_delivery_s, report.last_delivery_s = harness.sink.first_s, harness.sink.last_s
            report.reminders = harness.sink.reminders
            report.collectors_stopped_at = harness.clock.now()
            await harness.stop(roles=("collector", "engine", "scheduler"))  # no new outbox rows after this
            await harness.until(_drained(db, harness), 120)
            await harness.stop()
            report.worker_logs = {f"{w.role}-{w.index}": w.log.read_text(errors="replace") for w in harness.workers}
        async with db.read() as conn:
            report.records = await delivery_records(conn)
            report.fetch_log = {int(url.rsplit("/", 1)[1]): times for url, times in (await fetch_log(conn)).items()}
        return report
    finally:
        await db.close()


def _delivered(harness: Harness, count: float) -> Check:
    async def check() -> bool:
        return harness.sink.reminders >= count

    return check


def _finished(report: Report, harness: Harness) -> Check:
    async def check() -> bool:
        end = report.plan.due_until + report.plan.poll_interval
        return harness.sink.reminders >= report.plan.obligations and harness.clock.now() >= end

    return check


def _drained(db: Database, harness: Harness) -> Check:
    async def check() -> bool:
        async with db.read() as conn:
            snap = await ops_snapshot(conn, harness.clock.now())
        return snap.outbox.get("pending", 0) + snap.outbox.get("sending", 0) == 0

    return check


async def run(options: BenchOptions) -> BenchResult:
    """Throughput of 1 vs 3 workers per role on a burst of due reminders (PostgreSQL only)."""
    if not options.database_url or not options.database_url.startswith("postgres"):
        raise ValueError("monitor bench scaleout needs --on postgresql://… (a database it may empty)")
    n = options.n or 10_000
    result = BenchResult("scaleout")
    for workers in (1, 3):
        db = Database.open(options.database_url)
        try:
            await _reset(db)
        finally:
            await db.close()
        with tempfile.TemporaryDirectory() as tmp:
            plan = Plan(options.database_url, Path(tmp), SIM_START, obligations=n, window=timedelta(0),
                        lead=timedelta(seconds=30), sources=0, speed=60.0, workers=workers,
                        roles=("engine", "notifier"))  # fmt: skip
            report = await run_scenario(plan)
        bad = report.delivery_problems()
        label = f"{n:,} reminders due at once → delivered, {workers} engine + {workers} notifier worker(s)"
        busy = report.last_delivery_s - report.first_delivery_s
        figure = f"{busy:,.1f} s from first to last delivery ({n / max(busy, 1e-9):,.0f}/s)"
        result.figures[label] = figure + (f", {len(bad)} problems" if bad else "")
    return result


async def run_kills(options: BenchOptions) -> BenchResult:
    """The scale-out run in real time: 3 workers per role, 120× clock, a notifier, a collector and an
    engine SIGKILLed at 25 / 40 / 55 % delivered; how long it took and what the checks found."""
    if not options.database_url or not options.database_url.startswith("postgres"):
        raise ValueError("monitor bench scaleout-kill needs --on postgresql://… (a database it may empty)")
    n = options.n or 10_000
    db = Database.open(options.database_url)
    try:
        await _reset(db)
    finally:
        await db.close()
    with tempfile.TemporaryDirectory() as tmp:
        plan = Plan(options.database_url, Path(tmp), SIM_START, obligations=n, window=timedelta(hours=1),
                    sources=30, poll_interval=timedelta(minutes=5), speed=120.0, workers=3,
                    settings={"NOTIFY_LEASE_S": "1200"})  # fmt: skip
        watch = Stopwatch()
        report = await run_scenario(plan, kills={"notifier": 0.25, "collector": 0.4, "engine": 0.55})
        total = watch.elapsed()
    result = BenchResult("scaleout-kill")
    label = (f"3 collector + 3 engine + 3 notifier workers, {n:,} reminders over one simulated hour (120×), "
             f"{plan.sources} sources every 5 min, one worker per role SIGKILLed")  # fmt: skip
    delivery, fetch = report.delivery_problems(), report.fetch_problems()
    result.figures[label] = (
        f"{report.reminders:,} of {n:,} delivered, {len(delivery)} delivery and {len(fetch)} fetch-schedule "
        f"problems; {total:.1f} s in all (seeding {report.seed_s:.1f} s alongside start-up, last delivery "
        f"after {report.delivered_s:.1f} s)"
    )
    result.notes += delivery[:10] + fetch[:10]
    return result


async def _reset(db: Database) -> None:
    """Drop everything and migrate again: the bench database starts empty."""
    await reset_schema(db)
    await migrate(db)
