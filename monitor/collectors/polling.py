"""The poller: lease due sources, fetch them politely, store what is new, keep health honest.

Each poll ends in ONE write transaction: evidence, items, the source's new state, the fetch
log row and (when health changed) a `source_events` row the duty queue and the audit watchdog
read (docs/contracts.md §4).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.clock import Clock
from monitor.collectors.cluster import cluster_pending, policy_from_settings
from monitor.collectors.dedup import DedupConfig, NearDupIndex
from monitor.collectors.fetch import Fetcher, FetchLimits, FetchResult
from monitor.collectors.health import Decision, HealthPolicy, Outcome, SourceState, decide
from monitor.collectors.pipeline import Prepared, SourceInfo, StoreResult, entry_row, prepare, store_rows
from monitor.collectors.sources import SourceError, auth_header
from monitor.collectors.sourcing import ParsedPoll, parse_poll
from monitor.config import Settings
from monitor.domain import SourceHealth
from monitor.domain.clustering import ClusterPolicy
from monitor.storage.db import Database
from monitor.storage.repo.heartbeats import beat
from monitor.storage.repo.items import Evidence, existing_keys, recent_signatures, store_evidence
from monitor.storage.repo.sources import claim_due_sources, next_poll_at, record_poll

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    limits: FetchLimits = field(default_factory=FetchLimits)
    health: HealthPolicy = field(default_factory=HealthPolicy)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    max_articles: int = 20
    cluster: ClusterPolicy = field(default_factory=ClusterPolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> CollectorConfig:
        limits = FetchLimits(
            concurrency=settings.collector_concurrency,
            per_host=settings.collector_per_host,
            host_min_interval=timedelta(seconds=settings.collector_host_interval_s),
            connect_timeout_s=settings.collector_connect_timeout_s,
            read_timeout_s=settings.collector_read_timeout_s,
            total_timeout_s=settings.collector_total_timeout_s,
            max_body_bytes=int(settings.collector_max_body_mb * 1024 * 1024),
            max_redirects=settings.collector_max_redirects,
        )
        health = HealthPolicy(
            failing_after=settings.collector_failing_after,
            backoff_cap=timedelta(hours=settings.collector_backoff_cap_h),
        )
        dedup = DedupConfig(threshold=settings.dedup_threshold, window=timedelta(hours=settings.dedup_window_h))
        return cls(limits, health, dedup, settings.collector_max_articles, policy_from_settings(settings))


@dataclass(frozen=True, slots=True)
class PassResult:
    sources: int
    items_seen: int
    items_new: int
    errors: int
    duplicates: int = 0


class Collector:
    """Owns the fetcher, the near-duplicate index and the schedule. `async with` it, then poll."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: CollectorConfig | None = None,
        *,
        rng: random.Random | None = None,
        owner: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.db, self.clock = db, clock
        self.config = config or CollectorConfig()
        self.rng = rng or random.Random()
        self.owner = owner or f"{socket.gethostname()}:{id(self):x}"
        self.fetcher = Fetcher(clock, self.config.limits)
        self.index = NearDupIndex(self.config.dedup)
        self._store_lock = asyncio.Lock()
        self._env = env or {}  # where credentials references are resolved (os.environ in production)

    async def __aenter__(self) -> Collector:
        await self.fetcher.__aenter__()
        await self.rebuild_index()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fetcher.__aexit__(*exc)

    async def rebuild_index(self) -> int:
        """Reload recent originals' signatures from the database (after a restart)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            rows = await recent_signatures(conn, now - self.config.dedup.window, self.config.dedup.max_entries)
        self.index = NearDupIndex(self.config.dedup)
        self.index.load(rows)
        return len(self.index)

    async def run_once(self) -> PassResult:
        """Poll every source that is due now (concurrently, within the politeness limits)."""
        now = self.clock.now()
        self.index.evict(now)
        async with self.db.write() as conn:
            rows = await claim_due_sources(conn, now, self.owner, now + LEASE)
        results = await asyncio.gather(*(self.poll(row) for row in rows))
        return PassResult(
            sources=len(rows),
            items_seen=sum(r.seen for r in results),
            items_new=sum(r.new for r in results),
            errors=sum(1 for r in results if r.failed),
            duplicates=sum(r.duplicates for r in results),
        )

    async def run_forever(self, stop: asyncio.Event, *, idle_s: float = 30.0) -> None:
        """Poll due sources until `stop` is set; a failing pass is logged, never fatal."""
        while not stop.is_set():
            try:
                result = await self.run_once()
                clustered = await cluster_pending(self.db, self.clock, self.config.cluster)
                log.debug("collector pass: %s; clustering: %s", result, clustered)
                async with self.db.write() as conn:
                    await beat(conn, "collector", self.owner, self.clock.now(), {"sources": result.sources})
                    due = await next_poll_at(conn)
            except Exception:
                log.exception("collector pass failed; retrying in %.0f s", idle_s)
                due = None
            wait = idle_s if due is None else (due - self.clock.now()).total_seconds()
            await sleep_or_stop(self.clock, min(max(wait, 1.0), idle_s), stop)

    async def poll(self, source: Any) -> PollSummary:
        """Fetch one source (a leased row), store its items and its new state."""
        try:
            auth = auth_header(source.credentials_ref, self._env)
        except SourceError as exc:
            now = self.clock.now()
            result = FetchResult(source.url, Outcome.NETWORK, now, now, error=str(exc))
        else:
            result = await self.fetcher.get(
                source.url, etag=source.etag, last_modified=source.last_modified, extra_headers=auth
            )
        parsed = None
        if result.outcome is Outcome.OK:
            parsed = await parse_poll(self.fetcher, source, result, self.config.max_articles, self._known)
        outcome = result.outcome
        if parsed is not None and parsed.unusable:
            outcome = Outcome.UNPARSEABLE
        prepared = None
        if parsed is not None:  # CPU work (normalising, signing) happens outside the store lock
            info = SourceInfo(source.id, source.url, source.media_tier, source.region_hint)
            rows = [entry_row(e, info, parsed.sha_for(e), result.started_at, parsed.warnings) for e in parsed.entries]
            prepared = prepare(rows, self.index)
        async with self._store_lock:
            return await self._record(source, result, outcome, parsed, prepared)

    async def _known(self, keys: list[str]) -> set[str]:
        async with self.db.read() as conn:
            return set(await existing_keys(conn, keys))

    async def _record(
        self,
        source: Any,
        result: FetchResult,
        outcome: Outcome,
        parsed: ParsedPoll | None,
        prepared: Prepared | None,
    ) -> PollSummary:
        now = self.clock.now()
        async with self.db.write() as conn:
            stored = StoreResult()
            if parsed is not None and prepared is not None:
                await store_evidence(conn, _evidence(result, parsed))
                stored = await store_rows(conn, self.index, prepared, now)
            decision = decide(
                _state(source),
                outcome,
                now,
                self.rng,
                self.config.health,
                new_items=stored.new,
                retry_after=result.retry_after,
            )
            changes, event = _changes(source, result, outcome, decision, stored, now, parsed)
            await record_poll(conn, source.id, changes, _fetch_row(result, outcome, stored, parsed), event)
        if event is not None:
            log.warning("source %s (%s) is now %s: %s", source.id, source.url, decision.health, changes["last_error"])
        return PollSummary(stored.seen, stored.new, stored.duplicates, outcome.is_failure)


async def sleep_or_stop(clock: Clock, seconds: float, stop: asyncio.Event) -> None:
    """Sleep on `clock`, waking early when `stop` is set."""
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, stopper):
            task.cancel()


@dataclass(frozen=True, slots=True)
class PollSummary:
    seen: int
    new: int
    duplicates: int
    failed: bool


def _state(source: Any) -> SourceState:
    interval = None
    if source.next_poll_at and source.last_fetch_at and not source.consecutive_failures:
        interval = source.next_poll_at - source.last_fetch_at
    return SourceState(
        health=SourceHealth(source.health),
        consecutive_failures=source.consecutive_failures,
        poll_min=timedelta(seconds=source.poll_min_s),
        poll_max=timedelta(seconds=source.poll_max_s),
        expected_per_day=source.expected_per_day,
        last_new_item_at=source.last_new_item_at,
        created_at=source.created_at,
        current_interval=interval,
    )


def _error_text(result: FetchResult, outcome: Outcome, parsed: ParsedPoll | None) -> str | None:
    if outcome is Outcome.UNPARSEABLE and parsed is not None:
        return "; ".join(parsed.warnings) or "no feed or entries found"
    return result.error if outcome.is_failure else None


def _changes(
    source: Any,
    result: FetchResult,
    outcome: Outcome,
    decision: Decision,
    stored: StoreResult,
    now: datetime,
    parsed: ParsedPoll | None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    error = _error_text(result, outcome, parsed)
    changes: dict[str, Any] = {
        "last_fetch_at": now,
        "consecutive_failures": decision.consecutive_failures,
        "next_poll_at": decision.next_poll_at,
        "health": decision.health.value,
        "updated_at": now,
    }
    if outcome.is_failure:
        changes["last_error"] = error
    if decision.counts_as_success:
        changes.update(last_success_at=now, last_error=None)
    if decision.update_validators:
        changes.update(etag=result.headers.get("ETag"), last_modified=result.headers.get("Last-Modified"))
    if stored.new:
        changes["last_new_item_at"] = now
    event = None
    if decision.health.value != source.health:
        changes["health_changed_at"] = now
        detail = {"outcome": outcome.value, "http_status": result.status, "error": error}
        detail["consecutive_failures"] = decision.consecutive_failures
        event = {"at": now, "from_health": source.health, "to_health": decision.health.value, "detail": detail}
    return changes, event


def _fetch_row(result: FetchResult, outcome: Outcome, stored: StoreResult, parsed: ParsedPoll | None) -> dict[str, Any]:
    return {
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "url": result.url,
        "http_status": result.status,
        "outcome": outcome.value,
        "bytes": len(result.body),
        "items_seen": stored.seen,
        "items_new": stored.new,
        "evidence_sha256": result.sha256 if result.body else None,
        "error": _error_text(result, outcome, parsed),
    }


def _evidence(result: FetchResult, parsed: ParsedPoll) -> list[Evidence]:
    page = Evidence(
        result.sha256,
        result.final_url or result.url,
        result.finished_at,
        result.body,
        result.status,
        result.content_type,
        parsed.encoding,
        dict(result.headers),
    )
    return [page, *parsed.article_evidence]
