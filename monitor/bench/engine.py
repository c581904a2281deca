"""`monitor bench engine`: 100,000 open obligations; the cost of a tick grows with what is due, not open.

Seeds N confirmed incidents (one open 48 h obligation each, its first alert already sent) whose
next wake-ups are spread evenly over 30 days, then advances a fake clock so that about
0, 100, 1,000 and 5,000 wake-ups fall due, and times one engine tick for each. The due → outbox
latency of a wake-up is the time from the start of the tick to the commit of its batch.

Each burst also records the CPU time of this process and, on PostgreSQL, of the server backends
serving this database (from /proc; the server runs on the same machine here), and the load
average, because the wall figures depend on what else the machine is doing. After seeding, the
tables are ANALYZEd as autovacuum would do in service (the test server runs with autovacuum off;
without statistics PostgreSQL reads timelines by sequential scan).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.bench import BenchOptions, BenchResult, peak_rss_mb
from monitor.clock import FakeClock, Stopwatch
from monitor.config import Settings, resolve_org_file, resolve_playbook_file
from monitor.domain import (
    ClockType,
    EventKind,
    Incident,
    IncidentEvent,
    Obligation,
    OpinionLevel,
    OrgDirectory,
)
from monitor.domain.playbooks import Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.engine.runner import Engine
from monitor.policy import load_org
from monitor.policy.playbooks import load_policy
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.engine import (
    analyze,
    mark_confirmed,
    save_obligations,
    save_plans,
    save_snapshot,
    schedule_timers,
    server_pids,
)
from monitor.storage.repo.incidents import append_events, create_incidents

BATCH = 1000
SPREAD = timedelta(days=30)
T = datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
RULE = "GB61-RESPOND-48H"


@dataclass
class _Services:
    db: Database
    clock: FakeClock
    org: OrgDirectory
    playbook: Playbook
    calendar: WorkCalendar
    settings: Settings = field(default_factory=Settings)


async def run(options: BenchOptions) -> BenchResult:
    n = options.n or 100_000
    policy = load_policy(resolve_playbook_file(options.settings))
    org = load_org(resolve_org_file(options.settings))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(options.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        try:
            await migrate(db)
            services = _Services(db, FakeClock(T), org, policy.playbook, policy.calendar)
            watch = Stopwatch()
            await _seed(services, n)
            seed_s = watch.elapsed()
            return await _measure(services, n, seed_s)
        finally:
            await db.close()


def _incident(i: int, n: int) -> Incident:
    detected = T - timedelta(hours=24) + SPREAD * i / n  # warn-half (24 h in) falls at T + i·30d/n
    return Incident(title=f"基准事件{i}", detected_at=detected, opinion_level=OpinionLevel.L2, owner_unit="water")


async def _seed(services: _Services, n: int) -> None:
    book, now = services.playbook, services.clock.now()
    async with services.db.write() as conn:
        await save_snapshot(conn, book.digest, book.jurisdiction, book.to_dict(), now)
    rule = book.rule(RULE)
    assert rule is not None
    for start in range(0, n, BATCH):
        new = [_incident(i, n) for i in range(start, min(n, start + BATCH))]
        async with services.db.write() as conn:
            ids = await create_incidents(conn, new, now)
            await mark_confirmed(conn, ids, book.digest, now, now)
            obligations, events, wakeups = [], [], []
            for iid, inc in zip(ids, new, strict=True):
                due = inc.detected_at + timedelta(hours=48)
                obligations.append(Obligation(iid, RULE, rule.action, ClockType.NATURAL_HOURS, inc.detected_at, due))
                events.extend(_events(iid, inc, book.digest, due))
                wakeups.append((iid, 0, inc.detected_at + timedelta(hours=24), "plan"))
            await append_events(conn, events, now, return_ids=False)
            await save_obligations(conn, obligations, now)
            await schedule_timers(conn, wakeups, now)
            await save_plans(conn, [(ob.incident_id, ob.due_at) for ob in obligations], now)
    async with services.db.write() as conn:
        await analyze(conn)


def _events(iid: int, inc: Incident, digest: str, due: datetime) -> list[IncidentEvent]:
    t0 = inc.detected_at
    ob = {
        "rule": RULE,
        "instance": 0,
        "title": "48小时内予以回应",
        "status": "open",
        "t0": t0.isoformat(),
        "due_at": due.isoformat(),
    }
    return [
        IncidentEvent(iid, EventKind.CONFIRMED, t0, "bench", {"opinion_level": "L2", "requires_response": True}),
        IncidentEvent(iid, EventKind.PLAYBOOK_SNAPSHOT, t0, "bench", {"digest": digest}),
        IncidentEvent(iid, EventKind.OBLIGATION_OPENED, t0, "system", ob),
        IncidentEvent(
            iid,
            EventKind.ESCALATED,
            t0,
            "system",
            {"rule": RULE, "instance": 0, "step": "assigned", "steps": ["assigned"]},
        ),
    ]


async def _timed_tick(engine: Engine) -> tuple[int, float, list[float]]:
    """Run one tick; return (timers, seconds, latency of each timer = its batch's commit time)."""
    watch, latencies = Stopwatch(), []

    def batch_done(count: int) -> None:
        latencies.extend([watch.elapsed()] * count)

    tick = await engine.tick(on_batch=batch_done)
    return tick.timers, watch.elapsed(), latencies


async def _server_cpu(db: Database) -> float:
    """CPU seconds used so far by the PostgreSQL backends connected to this database (0 elsewhere)."""
    if db.dialect != "postgresql":
        return 0.0
    async with db.read() as conn:
        pids = await server_pids(conn)
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:  # noqa: ASYNC230 - a tiny procfs read
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # not on this machine, or gone
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _measure(services: _Services, n: int, seed_s: float) -> BenchResult:
    engine = Engine(services, batch=200)
    result = BenchResult("engine")
    result.figures[f"seed {n:,} open obligations ({services.db.dialect})"] = f"{seed_s:,.0f} s"
    step = SPREAD / n
    steady: list[float] = []
    for _ in range(200):  # steady state: wake-ups fall due one at a time, as they do in service
        services.clock.set(services.clock.now() + step)
        steady.extend((await _timed_tick(engine))[2])
    result.figures["due → outbox, steady state (p50 / p99)"] = (
        f"{_p(steady, 0.5) * 1000:,.0f} / {_p(steady, 0.99) * 1000:,.0f} ms"
    )
    for due in (0, 100, 1000, 5000):  # bursts: how a tick's cost grows with the number due
        services.clock.set(services.clock.now() + step * due)
        load, cpu, server = _load(), time.process_time(), await _server_cpu(services.db)
        timers, seconds, latencies = await _timed_tick(engine)
        cpu, server = time.process_time() - cpu, await _server_cpu(services.db) - server
        per = f", {seconds / timers * 1000:,.2f} ms per due timer" if timers else ""
        cpus = f"CPU {cpu * 1000:,.0f} ms engine" + (f" + {server * 1000:,.0f} ms server" if server else "")
        result.figures[f"tick with {timers:,} due of {n:,} open"] = f"{seconds * 1000:,.0f} ms{per} ({cpus}; {load})"
        if latencies:
            result.figures[f"due → outbox, burst of {timers:,} (p50 / p99)"] = (
                f"{_p(latencies, 0.5) * 1000:,.0f} / {_p(latencies, 0.99) * 1000:,.0f} ms"
            )
    result.figures["peak RSS"] = f"{peak_rss_mb():,.0f} MiB"
    return result
