"""The runtime: roles, the loops' passes and heartbeats, /healthz /readyz /metrics, the SQLite engine lock."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text, update

from monitor.app import Services, create_app, open_services
from monitor.cli.common import setup_logging
from monitor.clock import FakeClock
from monitor.collectors.fetch import FetchLimits
from monitor.collectors.polling import CollectorConfig
from monitor.config import Settings, load_settings
from monitor.domain import Incident, Source, SourceKind
from monitor.runtime import Role, RoleError, Runtime, RuntimeCrashed, RuntimeHooks, parse_roles
from monitor.storage.lock import EngineLock, EngineLockError
from monitor.storage.repo.engine import audit_counts
from monitor.storage.repo.incidents import create_incidents
from monitor.storage.repo.items import insert_items
from monitor.storage.repo.ops import live_queries
from monitor.storage.repo.sources import add_sources
from monitor.storage.schema import (
    fetches,
    heartbeats,
    items,
    notification_attempts,
    obligations,
    outbox,
    sources,
    timers,
)
from monitor.web.ops import OPS_PROBE, TOTALS_MAX_AGE, LoopStatus, create_ops_app, readiness, render_metrics

from .conftest import START

REPO = Path(__file__).resolve().parent.parent


def _settings(tmp_path: Path, db_path: Path, **changes: object) -> Settings:
    base = load_settings(env={}).settings
    return dataclasses.replace(
        base, database_url=f"sqlite+aiosqlite:///{db_path}", data_dir=str(tmp_path), port=0, **changes
    )


@pytest.fixture
async def services(tmp_path: Path, sqlite_template: Path):
    db_path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, db_path)
    services = await open_services(_settings(tmp_path, db_path), clock=FakeClock(START))
    yield services
    await services.db.close()


class Passes:
    """Records every loop pass and lets a test wait for one (no sleeping)."""

    def __init__(self) -> None:
        self.seen: dict[str, list[dict]] = defaultdict(list)
        self.changed = asyncio.Condition()

    def __call__(self, name: str, fields: dict) -> None:
        self.seen[name].append(fields)

        async def wake() -> None:
            async with self.changed:
                self.changed.notify_all()

        asyncio.get_running_loop().create_task(wake())

    async def wait(self, *names: str, count: int = 1) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: all(len(self.seen[n]) >= count for n in names)), 60)


def test_roles_parse_from_lists_and_repeats():
    assert parse_roles(["collector,engine", "notifier", "engine"]) == (Role.COLLECTOR, Role.ENGINE, Role.NOTIFIER)
    assert parse_roles([" Scheduler "]) == (Role.SCHEDULER,)
    assert parse_roles([""]) == ()
    with pytest.raises(RoleError, match="unknown role 'colector'; use one or more of collector, engine"):
        parse_roles(["colector"])
    with pytest.raises(RoleError, match="'web'"):
        parse_roles(["web"])  # the web is `monitor serve`, not a worker role


async def test_every_role_runs_beats_and_reports_ready(services: Services, tmp_path: Path):
    passes = Passes()
    stop = asyncio.Event()
    runtime = Runtime(services, stop, RuntimeHooks(on_pass=passes))
    app = create_app(services)
    app[OPS_PROBE] = runtime
    try:
        await runtime.start([Role.COLLECTOR, Role.ENGINE, Role.NOTIFIER, Role.SCHEDULER])
        port = await runtime.serve_web(app, "127.0.0.1", 0)
        await passes.wait("collector", "engine", "audit", "notifier", "scheduler", "web")
        async with services.db.read() as conn:
            beats = {(r.component, r.instance) for r in await conn.execute(select(heartbeats))}
        assert {c for c, i in beats if i == runtime.instance} >= {"collector", "engine", "audit", "notifier", "web"}
        # the scheduler generated last month's report (due since 08:00 on 1 September) into data_dir
        assert passes.seen["scheduler"][0]["month"] == "2026-08"
        assert (tmp_path / "reports/2026-08/report-2026-08.html").exists()
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200 and (await resp.json())["status"] == "ok"
            async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                body = await resp.json()
            assert resp.status == 200, body
            assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]
            assert {k for k in body["checks"] if k.startswith("loop:")} == {
                "loop:collector", "loop:engine", "loop:audit", "loop:notifier", "loop:scheduler", "loop:web"
            }  # fmt: skip
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200 and resp.content_type == "text/plain"
                families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
        passes_by_loop = {s.labels["component"]: s.value for s in families["monitor_loop_passes"].samples}
        assert passes_by_loop["engine"] >= 1 and passes_by_loop["scheduler"] == 1
        assert "process_resident_memory_bytes" in families and "python_info" in families
    finally:
        await runtime.close()
    assert stop.is_set()


async def test_a_clean_stop_forgets_the_heartbeats(tmp_path: Path, sqlite_template: Path):
    db_path = tmp_path / "monitor.db"
    shutil.copyfile(sqlite_template, db_path)
    services = await open_services(_settings(tmp_path, db_path), clock=FakeClock(START))
    passes = Passes()
    runtime = Runtime(services, asyncio.Event(), RuntimeHooks(on_pass=passes))
    await runtime.start([Role.ENGINE])
    await passes.wait("engine", "audit")
    await runtime.close()
    again = await open_services(_settings(tmp_path, db_path), clock=FakeClock(START))
    try:
        async with again.db.read() as conn:
            assert list(await conn.execute(select(heartbeats).where(heartbeats.c.instance == runtime.instance))) == []
    finally:
        await again.db.close()


async def test_a_start_prunes_heartbeats_silent_for_a_day_but_keeps_each_components_newest(services: Services):
    now = services.clock.now()
    rows = [
        ("engine", "old-host:1:aaaa", now - timedelta(days=3)),  # crashed long ago
        ("engine", "old-host:2:bbbb", now - timedelta(days=2)),  # the engine's newest: kept for the audit
        ("collector", "old-host:3:cccc", now - timedelta(hours=25)),
        ("collector", "live-host:4:dddd", now - timedelta(minutes=1)),
        ("collector", "live-host:5:eeee", now - timedelta(hours=23)),  # within the day: kept
        ("web", "old-host:6:ffff", now - timedelta(days=9)),  # the only web row: kept
    ]
    async with services.db.write() as conn:
        await conn.execute(
            heartbeats.insert(), [{"component": c, "instance": i, "at": at, "info": {}} for c, i, at in rows]
        )
    runtime = Runtime(services, asyncio.Event())
    await runtime.start([])  # no loops: the pruning is part of starting
    async with services.db.read() as conn:
        left = {(r.component, r.instance) for r in await conn.execute(select(heartbeats))}
    assert left == {
        ("engine", "old-host:2:bbbb"), ("collector", "live-host:4:dddd"), ("collector", "live-host:5:eeee"),
        ("web", "old-host:6:ffff"),
    }  # fmt: skip
    # the audit still reports when the engine last ran, not that it never did
    async with services.db.read() as conn:
        counts = await audit_counts(conn, now, now)
    assert counts["heartbeats"]["engine"] == now - timedelta(days=2)


async def test_the_classify_hook_runs_between_collection_and_clustering(services: Services):
    """Items classified by the hook are clustered in the same pass: the hook runs before cluster_pending."""
    now = services.clock.now()
    rows = [
        {"dedup_key": f"k{i}", "url": f"https://news.example/{i}", "title": title, "text": title,
         "text_norm": title, "fetched_at": now, "media_tier": "city", "created_at": now}
        for i, title in enumerate(["明湖路面塌陷致两车受损", "城南自来水停水三天居民不满"])
    ]  # fmt: skip
    async with services.db.write() as conn:
        await insert_items(conn, rows)
    calls: list[int] = []

    async def classify() -> None:
        async with services.db.write() as conn:
            result = await conn.execute(
                update(items).where(items.c.classified_at.is_(None)).values(relevant=True, classified_at=now)
            )
        calls.append(result.rowcount)

    passes = Passes()
    runtime = Runtime(services, asyncio.Event(), RuntimeHooks(classify=classify, on_pass=passes))
    try:
        await runtime.start([Role.COLLECTOR])
        await passes.wait("collector")
    finally:
        await runtime.close()
    assert calls[0] == 2
    first = passes.seen["collector"][0]
    assert first["clustered"] == 2 and first["incidents_opened"] == 2


async def test_readiness_fails_on_a_stale_loop_and_an_old_schema(services: Services):
    clock = services.clock
    assert isinstance(clock, FakeClock)
    fresh = LoopStatus("engine", "me", 5.0, clock.now(), last_beat=clock.now(), passes=3)
    starting = LoopStatus("collector", "me", 30.0, clock.now())  # no pass yet: fresh for one stale period

    class Probe:
        def loop_statuses(self):
            return [fresh, starting]

    checks = await readiness(services, Probe())
    assert all(c["ok"] for c in checks.values()), checks
    clock.advance(timedelta(seconds=services.settings.heartbeat_stale_s + 1))
    checks = await readiness(services, Probe())
    assert not checks["loop:engine"]["ok"] and not checks["loop:collector"]["ok"]
    assert checks["loop:engine"]["stale_after_s"] == services.settings.heartbeat_stale_s
    async with services.db.write() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0005_collectors_dedup'"))
    checks = await readiness(services, Probe())
    assert checks["database"]["ok"] and checks["schema"] == {
        "ok": False, "current": "0005_collectors_dedup", "head": checks["schema"]["head"]
    }  # fmt: skip


async def test_metrics_figures_token_and_separate_listener(services: Services):
    now = services.clock.now()
    async with services.db.write() as conn:
        await add_sources(conn, [Source(name="明湖日报", url="https://a.example/rss", kind=SourceKind.FEED)], now)
        await conn.execute(
            outbox.insert(),
            [
                {"idempotency_key": f"k{i}", "kind": "deadline_warning", "payload": {}, "status": status,
                 "next_attempt_at": now - timedelta(minutes=5), "created_at": now}
                for i, status in enumerate(["pending", "pending", "sent", "failed"])
            ],
        )  # fmt: skip
    services.settings = dataclasses.replace(services.settings, metrics_token="s3cret-token", ops_listen="x:1")
    stop = asyncio.Event()
    runtime = Runtime(services, stop)
    app = create_app(services)
    app[OPS_PROBE] = runtime
    try:
        port = await runtime.serve_web(app, "127.0.0.1", 0)
        _, ops_port = await runtime.serve_app(create_ops_app(services, runtime), "127.0.0.1", 0)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 404  # kept off the public port when ops_listen is set
            async with http.get(f"http://127.0.0.1:{ops_port}/metrics") as resp:
                assert resp.status == 401
            auth = {"Authorization": "Bearer s3cret-token"}
            async with http.get(f"http://127.0.0.1:{ops_port}/metrics", headers=auth) as resp:
                assert resp.status == 200
                families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
            async with http.get(f"http://127.0.0.1:{ops_port}/readyz") as resp:
                assert resp.status == 200
    finally:
        await runtime.close()

    def value(name: str, **labels: str) -> float:
        return next(s.value for s in families[name].samples if all(s.labels.get(k) == v for k, v in labels.items()))

    assert value("monitor_outbox_backlog") == 2
    assert value("monitor_outbox_rows", status="failed") == 1
    assert value("monitor_outbox_oldest_due_seconds") == 300
    assert value("monitor_sources", health="ok", enabled="true") == 1
    assert value("monitor_obligations", status="breached") == 0
    assert value("monitor_engine_lag_seconds") == 0
    assert value("monitor_build_info", database="sqlite") == 1


def _figures(body: bytes) -> Callable[..., float]:
    """Sample name (as scraped, counters with _total) and labels → value."""
    samples = [s for f in text_string_to_metric_families(body.decode()) for s in f.samples]

    def value(name: str, **labels: str) -> float:
        return next(s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()))

    return value


async def test_metrics_read_live_figures_on_every_scrape_and_whole_table_counts_once_a_minute(services: Services):
    clock, now = services.clock, services.clock.now()
    assert isinstance(clock, FakeClock)
    item = {"url": "https://news.example/", "title": "明湖", "text": "明湖", "text_norm": "明湖", "fetched_at": now,
            "media_tier": "city", "created_at": now}  # fmt: skip
    async with services.db.write() as conn:
        await insert_items(conn, [{**item, "dedup_key": f"k{i}", "url": f"https://news.example/{i}"} for i in range(3)])
        await conn.execute(update(items).where(items.c.dedup_key != "k0").values(classified_at=now))
        ids = await create_incidents(conn, [Incident(title=f"事件{i}", detected_at=now) for i in range(4)], now)
        ob = {"rule_id": "R", "action": "respond", "clock": "natural_hours", "t0": now, "created_at": now,
              "updated_at": now}  # fmt: skip
        await conn.execute(obligations.insert(), [
            {**ob, "incident_id": ids[0], "status": "open", "due_at": now - timedelta(hours=1)},  # overdue
            {**ob, "incident_id": ids[1], "status": "open", "due_at": now + timedelta(hours=1)},
            {**ob, "incident_id": ids[2], "status": "breached", "due_at": now - timedelta(hours=2)},
            {**ob, "incident_id": ids[3], "status": "met", "due_at": now},
        ])  # fmt: skip
        row = {"kind": "deadline_warning", "payload": {}, "created_at": now}
        await conn.execute(outbox.insert(), [
            {**row, "idempotency_key": "p1", "status": "pending", "next_attempt_at": now - timedelta(minutes=2)},
            {**row, "idempotency_key": "s1", "status": "sent", "next_attempt_at": now},
            {**row, "idempotency_key": "s2", "status": "sent", "next_attempt_at": now},
        ])  # fmt: skip
        sent = {r.idempotency_key: r.id for r in await conn.execute(select(outbox.c.id, outbox.c.idempotency_key))}
        attempt = {"message_id": "m", "channel": "webhook", "target": "webhook:x", "worker": "w", "started_at": now}
        await conn.execute(notification_attempts.insert(), [
            {**attempt, "outbox_id": sent["s1"], "outcome": "sent"},
            {**attempt, "outbox_id": sent["s2"], "outcome": "failed"},
            {**attempt, "outbox_id": sent["s2"], "outcome": "sent"},
        ])  # fmt: skip
        await conn.execute(timers.insert(), [
            {"incident_id": ids[0], "due_at": now - timedelta(seconds=30), "generation": 0, "reason": "plan",
             "created_at": now, "fired_at": None},
            {"incident_id": ids[1], "due_at": now - timedelta(hours=1), "generation": 0, "reason": "plan",
             "created_at": now, "fired_at": now},
        ])  # fmt: skip
    value = _figures(await render_metrics(services, Runtime(services, asyncio.Event())))
    assert value("monitor_items_ingested_total") == 3 and value("monitor_items_unclassified") == 1
    assert value("monitor_obligations", status="open") == 2 and value("monitor_obligations_overdue") == 1
    assert value("monitor_obligations", status="breached") == 1 and value("monitor_obligations", status="met") == 1
    assert value("monitor_outbox_rows", status="pending") == 1 and value("monitor_outbox_rows", status="sent") == 2
    assert value("monitor_outbox_backlog") == 1 and value("monitor_outbox_oldest_due_seconds") == 120
    assert (
        value("monitor_delivery_failures_total") == 1 and value("monitor_delivery_attempts_total", outcome="sent") == 2
    )
    assert value("monitor_engine_lag_seconds") == 30 and value("monitor_engine_due_timers") == 1

    # Ten seconds later: an obligation breached, a notification queued, an item stored.
    async with services.db.write() as conn:
        await conn.execute(update(obligations).where(obligations.c.incident_id == ids[0]).values(status="breached"))
        await conn.execute(outbox.insert(), [
            {**row, "idempotency_key": "p2", "status": "pending", "next_attempt_at": now + timedelta(hours=1)}
        ])  # fmt: skip
        await insert_items(conn, [{**item, "dedup_key": "k9", "url": "https://news.example/9"}])
    clock.advance(timedelta(seconds=10))
    value = _figures(await render_metrics(services, Runtime(services, asyncio.Event())))
    assert value("monitor_obligations", status="open") == 1 and value("monitor_obligations_overdue") == 0  # live
    assert value("monitor_outbox_backlog") == 2 and value("monitor_items_unclassified") == 2  # live
    assert value("monitor_obligations", status="breached") == 1 and value("monitor_items_ingested_total") == 3  # cached
    clock.advance(TOTALS_MAX_AGE)
    value = _figures(await render_metrics(services, Runtime(services, asyncio.Event())))
    assert value("monitor_obligations", status="breached") == 2 and value("monitor_items_ingested_total") == 4


async def test_every_per_scrape_query_reads_through_an_index(services: Services):
    """Whatever the size of the tables, a scrape never scans items, obligations, the outbox or timers."""
    async with services.db.read() as conn:
        for name, query in live_queries(services.clock.now()).items():
            compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            params = tuple(compiled.params[k] for k in compiled.positiontup or [])
            plan = [r[-1] for r in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)]
            if name == "sources":  # one row per configured source: a scan is the cheapest read
                continue
            assert not [step for step in plan if step.startswith("SCAN")], (name, plan)
            assert any("USING" in step and "INDEX" in step for step in plan), (name, plan)


def test_json_logs_carry_the_structured_fields(capsys):
    settings = dataclasses.replace(load_settings(env={}).settings, log_format="json", metrics_token="tok-123456")
    setup_logging(settings)
    logging.getLogger("monitor.test").info(
        "engine pass", extra={"event": "engine.pass", "timers": 3, "instance": "h:1", "secret": "tok-123456"}
    )
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "engine.pass" and line["timers"] == 3 and line["instance"] == "h:1"
    assert line["pid"] == os.getpid() and line["secret"] == "***"  # secrets redacted in fields too


def test_engine_lock_refuses_a_second_runner_and_frees_on_exit(tmp_path: Path):
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    first = EngineLock.for_database(url)
    assert first is not None and EngineLock.for_database("postgresql://u@h/db") is None
    first.acquire(START)
    second = EngineLock.for_database(url)
    assert second is not None
    held = rf"another engine runner is already using .*m\.db \(engine: pid {os.getpid()}"
    with pytest.raises(EngineLockError, match=held):
        second.acquire(START)
    first.release()
    second.acquire(START)  # free again
    second.release()


def test_a_killed_runner_never_blocks_the_next(tmp_path: Path):
    """SIGKILL leaves no chance to clean up; the kernel drops the flock with the process."""
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    code = (
        "import sys\nfrom datetime import UTC, datetime\nfrom monitor.storage.lock import EngineLock\n"
        f"EngineLock.for_database({url!r}).acquire(datetime.now(UTC))\nprint('locked', flush=True)\nsys.stdin.read()\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        lock = EngineLock.for_database(url)
        assert lock is not None
        with pytest.raises(EngineLockError, match=f"pid {child.pid}"):
            lock.acquire(START)
        child.kill()
        child.wait(30)
        lock.acquire(START)
        lock.release()
    finally:
        child.kill()
        child.wait(30)


async def test_a_loop_that_dies_ends_the_process_with_its_reason(services: Services, tmp_path: Path):
    services.settings = dataclasses.replace(services.settings, models_dir=str(tmp_path / "no-models-here"))
    runtime = Runtime(services, asyncio.Event())
    try:
        await runtime.start([Role.COLLECTOR])  # the collector cannot open its classifier
        with pytest.raises(RuntimeCrashed, match=r"the collector loop stopped unexpectedly: .*no-models-here"):
            await asyncio.wait_for(runtime.wait(), 60)
    finally:
        await runtime.close()


async def test_closing_the_runtime_cancels_a_hanging_collector_fetch_at_once(services: Services, play):
    """A stop while a fetch hangs ends the collector loop at once (not after the read timeout or the
    30 s grace), writes nothing of the interrupted poll and frees its lease for the next start."""
    url = play.url("/slow")
    async with services.db.write() as conn:
        ids = await add_sources(conn, [Source(name="慢站", url=url)], services.clock.now())
    limits = FetchLimits(host_min_interval=timedelta(0), read_timeout_s=300.0, total_timeout_s=600.0)
    hooks = RuntimeHooks(classify=_no_classification, collector_config=CollectorConfig(limits=limits))
    runtime = Runtime(services, asyncio.Event(), hooks)
    try:
        await runtime.start([Role.COLLECTOR])
        await play.slow_asked.wait()
    finally:
        await asyncio.wait_for(runtime.close(), 20)  # not the 30 s grace nor the 300 s read timeout
    again = await open_services(services.settings, clock=FakeClock(START))
    try:
        async with again.db.read() as conn:
            source = (await conn.execute(select(sources).where(sources.c.id == ids[url]))).one()
            logged = list(await conn.execute(select(fetches)))
    finally:
        await again.db.close()
    assert logged == [] and source.lease_owner is None and source.health == "ok"


async def _no_classification() -> None:
    return None
