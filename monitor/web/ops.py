"""Operations endpoints: /healthz (liveness), /readyz (readiness) and /metrics (Prometheus text).

- `/healthz`: the process answers. Nothing else is checked, so an orchestrator restarts only a
  process that is really stuck.
- `/readyz`: the database answers, its schema is the one this code needs, and every loop this
  process runs (collector, engine, audit, notifier, scheduler, web) completed a pass recently.
  503 with the failing checks otherwise. It does not look at other processes' loops: a web node
  stays in the load balancer while an engine worker restarts (the audit watchdog alerts on that).
- `/metrics`: figures from the database (items, sources by health, obligations by status, outbox
  backlog, delivery failures, engine lag, every loop's heartbeat age), this process's loops, and
  process/platform information from `prometheus_client`. Protected by `metrics_token` when set,
  and kept off the public port when `ops_listen` is set. Live figures (backlog, lag, open and
  overdue obligations, unclassified items) are read on every scrape through indexes over the
  active rows only; counts over whole growing tables (items ever, obligations and notifications
  by final status, delivery attempts) are read at most once a minute (TOTALS_MAX_AGE).
"""

from __future__ import annotations

import functools
import hmac
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, PlatformCollector, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitor import __version__
from monitor.storage.db import Database
from monitor.storage.migrate import current_revision, head_revision
from monitor.storage.repo.ops import OpsSnapshot, OpsTotals, ops_live, ops_totals, ping
from monitor.web.auth.permissions import public
from monitor.web.keys import SERVICES
from monitor.web.services import WebServices

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
OBLIGATION_STATES = ("open", "met", "late", "breached", "cancelled", "paused")
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "fanned_out", "cancelled")


@dataclass
class LoopStatus:
    """One background loop of this process, as its last completed pass left it."""

    component: str  # collector | engine | audit | notifier | scheduler | web
    instance: str
    interval_s: float  # how often it is expected to complete a pass
    started_at: datetime
    last_beat: datetime | None = None
    passes: int = 0
    last_seconds: float = 0.0  # duration of the last pass
    last: dict[str, Any] = field(default_factory=dict)

    def stale_after(self, floor_s: float) -> timedelta:
        return timedelta(seconds=max(floor_s, 3 * self.interval_s))

    def fresh(self, now: datetime, floor_s: float) -> bool:
        """A loop that has not finished its first pass yet counts as fresh for one stale period."""
        return now - (self.last_beat or self.started_at) <= self.stale_after(floor_s)


class OpsProbe(Protocol):
    """What the runtime tells the endpoints about this process."""

    def loop_statuses(self) -> Sequence[LoopStatus]: ...


OPS_PROBE: web.AppKey[OpsProbe] = web.AppKey("ops_probe")
OPS_LISTENER = web.AppKey("ops_listener", bool)  # set on the app of the ops_listen listener


class _NoLoops:
    def loop_statuses(self) -> Sequence[LoopStatus]:
        return []


@public
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@public
async def readyz(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    checks = await readiness(services, request.app.get(OPS_PROBE, _NoLoops()))
    ok = all(c["ok"] for c in checks.values())
    return web.json_response({"status": "ready" if ok else "not ready", "checks": checks}, status=200 if ok else 503)


async def readiness(services: WebServices, probe: OpsProbe) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        async with services.db.read() as conn:
            await ping(conn)
        checks["database"] = {"ok": True}
        current, head = await current_revision(services.db), head_revision()
        checks["schema"] = {"ok": current == head, "current": current, "head": head}
    except Exception as exc:  # any failure to reach the database means: not ready
        checks["database"] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    now, floor = services.clock.now(), services.settings.heartbeat_stale_s
    for loop in probe.loop_statuses():
        checks[f"loop:{loop.component}"] = {
            "ok": loop.fresh(now, floor),
            "last_pass": loop.last_beat.isoformat() if loop.last_beat else None,
            "stale_after_s": loop.stale_after(floor).total_seconds(),
            "passes": loop.passes,
        }
    return checks


@public
async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if services.settings.ops_listen and not request.app.get(OPS_LISTENER, False):
        raise web.HTTPNotFound(text="/metrics is served on the ops_listen address\n")
    token = services.settings.metrics_token
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return web.Response(status=401, text="metrics need Authorization: Bearer <metrics_token>\n")
    body = await render_metrics(services, request.app.get(OPS_PROBE, _NoLoops()))
    return web.Response(body=body, headers={"Content-Type": PROMETHEUS_TEXT})


TOTALS_MAX_AGE = timedelta(seconds=60)  # whole-table counts are re-read at most once a minute
_totals: weakref.WeakKeyDictionary[Database, tuple[datetime, OpsTotals]] = weakref.WeakKeyDictionary()


async def render_metrics(services: WebServices, probe: OpsProbe) -> bytes:
    now = services.clock.now()
    async with services.db.read() as conn:
        cached = _totals.get(services.db)
        if cached is None or not timedelta(0) <= now - cached[0] < TOTALS_MAX_AGE:
            cached = _totals[services.db] = (now, await ops_totals(conn))
        snapshot = await ops_live(conn, now, cached[1])
    collector = _Figures(snapshot, probe.loop_statuses(), now, services.db)
    registry = _registry()
    registry.register(collector)
    try:
        return generate_latest(registry)
    finally:
        registry.unregister(collector)


@functools.lru_cache(maxsize=1)
def _registry() -> CollectorRegistry:
    """Process and platform collectors are created once per process; figures are added per scrape."""
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


class _Figures:
    """A prometheus_client collector over one snapshot (built per scrape: the data is async)."""

    def __init__(self, snap: OpsSnapshot, loops: Sequence[LoopStatus], now: datetime, db: Database) -> None:
        self.snap, self.loops, self.now, self.db = snap, loops, now, db

    def collect(self) -> Iterator[Metric]:
        yield from self._data()
        yield from self._outbox()
        yield from self._engine()
        yield from self._loops()

    def _data(self) -> Iterator[Metric]:
        s = self.snap
        info = GaugeMetricFamily(
            "monitor_build_info", "Version and database of this process.", labels=["version", "database"]
        )
        info.add_metric([__version__, self.db.dialect], 1)
        yield info
        yield CounterMetricFamily(
            "monitor_items_ingested", "Items stored by the collectors, ever.", value=s.items_total
        )
        yield GaugeMetricFamily(
            "monitor_items_unclassified", "Items waiting for the classifier.", value=s.items_unclassified
        )
        src = GaugeMetricFamily("monitor_sources", "Sources by health and enabled flag.", labels=["health", "enabled"])
        for (health, enabled), n in sorted(s.sources.items()):
            src.add_metric([health, str(enabled).lower()], n)
        yield src
        obs = GaugeMetricFamily("monitor_obligations", "Response obligations by status.", labels=["status"])
        for status in sorted({*OBLIGATION_STATES, *s.obligations}):
            obs.add_metric([status], s.obligations.get(status, 0))
        yield obs
        yield GaugeMetricFamily(
            "monitor_obligations_overdue", "Open obligations past their deadline.", value=s.obligations_overdue
        )

    def _outbox(self) -> Iterator[Metric]:
        s = self.snap
        rows = GaugeMetricFamily("monitor_outbox_rows", "Outbox rows (notifications) by status.", labels=["status"])
        for status in sorted({*OUTBOX_STATES, *s.outbox}):
            rows.add_metric([status], s.outbox.get(status, 0))
        yield rows
        backlog = s.outbox.get("pending", 0) + s.outbox.get("sending", 0)
        yield GaugeMetricFamily("monitor_outbox_backlog", "Notifications not delivered yet.", value=backlog)
        yield GaugeMetricFamily(
            "monitor_outbox_oldest_due_seconds",
            "How long the oldest due, undelivered notification has waited (0: none).",
            value=_age(self.now, s.outbox_oldest_due),
        )
        tries = CounterMetricFamily("monitor_delivery_attempts", "Delivery attempts by outcome.", labels=["outcome"])
        for outcome, n in sorted(s.attempts.items()):
            tries.add_metric([outcome], n)
        yield tries
        failures = s.attempts.get("failed", 0) + s.attempts.get("rate_limited", 0)
        yield CounterMetricFamily("monitor_delivery_failures", "Delivery attempts that failed.", value=failures)

    def _engine(self) -> Iterator[Metric]:
        s = self.snap
        yield GaugeMetricFamily(
            "monitor_engine_lag_seconds",
            "How late the engine is: age of the oldest due, unprocessed wake-up (0: none due).",
            value=_age(self.now, s.timers_oldest_due),
        )
        yield GaugeMetricFamily("monitor_engine_due_timers", "Wake-ups due and not processed yet.", value=s.timers_due)
        beats = GaugeMetricFamily(
            "monitor_heartbeat_age_seconds",
            "Seconds since each loop of every process last beat (from the database; last 24 h).",
            labels=["component", "instance"],
        )
        for hb in s.heartbeats:
            beats.add_metric([hb.component, hb.instance], _age(self.now, hb.at))
        yield beats

    def _loops(self) -> Iterator[Metric]:
        passes = CounterMetricFamily(
            "monitor_loop_passes", "Passes completed by this process's loops.", labels=["component"]
        )
        last = GaugeMetricFamily(
            "monitor_loop_last_pass_duration_seconds",
            "Duration of the last pass of this process's loops.",
            labels=["component"],
        )
        for loop in self.loops:
            passes.add_metric([loop.component], loop.passes)
            last.add_metric([loop.component], loop.last_seconds)
        yield passes
        yield last


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def add_ops_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def create_ops_app(services: WebServices, probe: OpsProbe) -> web.Application:
    """The separate listener of `ops_listen`: health, readiness and metrics only, no sessions."""
    app = web.Application()
    app[SERVICES] = services
    app[OPS_PROBE] = probe
    app[OPS_LISTENER] = True
    add_ops_routes(app)
    return app


__all__ = ["OPS_PROBE", "LoopStatus", "OpsProbe", "add_ops_routes", "create_ops_app"]
