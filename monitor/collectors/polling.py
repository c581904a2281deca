"""The poller: lease due sources, fetch them politely, store what is new, keep health honest.

Polls that finish together are written in ONE transaction (group commit, `recording.py`):
evidence, items, each source's new state, fetch log rows and, when health changed, the
`source_events` rows the duty queue and the audit watchdog read (docs/contracts.md §4).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from monitor.clock import Clock, Stopwatch, sleep_or_stop
from monitor.collectors.cluster import ClusterResult, cluster_pending, policy_from_settings
from monitor.collectors.dedup import DedupConfig, NearDupIndex
from monitor.collectors.fetch import Fetcher, FetchLimits, FetchResult
from monitor.collectors.health import HealthPolicy, Outcome
from monitor.collectors.pipeline import Prepared, SourceInfo, entry_row, prepare
from monitor.collectors.recording import PollSummary, PollWork, record_polls_batch
from monitor.collectors.sources import SourceError, auth_header
from monitor.collectors.sourcing import ParsedPoll, obeys_robots, parse_poll
from monitor.config import Settings
from monitor.domain.clustering import ClusterPolicy
from monitor.storage.db import Database
from monitor.storage.repo.engine import beat
from monitor.storage.repo.items import existing_keys, recent_signatures
from monitor.storage.repo.sources import (
    claim_due_sources,
    get_source_row,
    next_poll_at,
    row_media_type,
    update_source,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    limits: FetchLimits = field(default_factory=FetchLimits)
    health: HealthPolicy = field(default_factory=HealthPolicy)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    max_articles: int = 20
    cluster: ClusterPolicy = field(default_factory=ClusterPolicy)
    claim_limit: int = 500  # sources leased per pass (bounds the memory of one pass)
    # Parsing/preparing a body up to this size runs on the event loop (≈ 0.3 ms of CPU per KiB, ≈ 1 ms
    # on feedparser's slow path: a 64 KiB feed holds the loop ≈ 20–60 ms); larger ones go to the
    # parsing thread. Sending every small feed there cost ≈ 15 % of ingest (GIL hand-overs between
    # the loop, the parsing thread and SQLite's thread), see benchmarks/README.md.
    inline_cpu_max_bytes: int = 64 * 1024

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
    interrupted: int = 0  # polls cancelled by a stop: nothing of them written, polled again at the next start


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
        before_cluster: Callable[[], Awaitable[object]] | None = None,
        after_cluster: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.db, self.clock = db, clock
        self.config = config or CollectorConfig()
        self.rng = rng or random.Random()
        self.owner = owner or f"{socket.gethostname()}:{id(self):x}"
        self.fetcher = Fetcher(clock, self.config.limits)
        self.index = NearDupIndex(self.config.dedup)
        # Parsing and signing of big bodies run here, one at a time: a 10 MiB feed takes seconds of
        # CPU the web must not wait for. Small ones run on the loop (`inline_cpu_max_bytes`).
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collector-parse")
        self._store_lock = asyncio.Lock()
        self._waiting: list[tuple[PollWork, asyncio.Future[PollSummary]]] = []
        self._committing: set[asyncio.Task[Any]] = set()  # polls past their fetch, writing: a stop waits for them
        self._env = env or {}  # where credentials references are resolved (os.environ in production)
        # Run after each pass, around clustering: the composition root plugs classification in
        # before it and the 舆情 regrade by spread after it (monitor/pipeline.py).
        self.before_cluster, self.after_cluster = before_cluster, after_cluster

    async def __aenter__(self) -> Collector:
        await self.fetcher.__aenter__()
        await self.rebuild_index()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fetcher.__aexit__(*exc)
        await asyncio.to_thread(self._cpu.shutdown, cancel_futures=True)  # parsing not started is dropped

    async def _cpu_work(self, size: int, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)`, CPU work on `size` bytes: on the loop when small (quicker than a
        hand-over to another thread), on the collector's parsing thread when it would stall the loop."""
        if size <= self.config.inline_cpu_max_bytes:
            return fn(*args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._cpu, functools.partial(fn, *args, **kwargs))

    async def rebuild_index(self) -> int:
        """Reload recent originals' signatures from the database (after a restart)."""
        now = self.clock.now()
        async with self.db.read() as conn:
            rows = await recent_signatures(conn, now - self.config.dedup.window, self.config.dedup.max_entries)
        self.index = NearDupIndex(self.config.dedup)
        self.index.load(rows)
        return len(self.index)

    async def run_once(self, stop: asyncio.Event | None = None) -> PassResult:
        """Poll every source that is due now (concurrently, within the politeness limits).

        When `stop` is set the fetches still in flight are cancelled: nothing of their polls is
        written and their leases are released, so the next start polls those sources at once.
        Polls already being written finish writing (one transaction each group, never half)."""
        now = self.clock.now()
        self.index.evict(now)
        async with self.db.write() as conn:
            rows = await claim_due_sources(conn, now, self.owner, now + LEASE, self.config.claim_limit)
        tasks = [asyncio.ensure_future(self.poll(row)) for row in rows]
        if tasks and stop is not None:
            await _until_done_or_stop(tasks, stop)
            for task in tasks:
                if not task.done() and task not in self._committing:  # its next await raises CancelledError
                    task.cancel()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        results, interrupted = [], []
        for row, outcome in zip(rows, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                interrupted.append(row)
                continue
            if isinstance(outcome, BaseException):  # a bug, not a feed problem: the others go on; the lease expires
                log.error("polling source %s (%s) failed", row.id, row.url, exc_info=outcome)
                outcome = PollSummary(0, 0, 0, True)
            results.append(outcome)
        if interrupted:
            await self._release(interrupted)
        return PassResult(
            sources=len(rows),
            items_seen=sum(r.seen for r in results),
            items_new=sum(r.new for r in results),
            errors=sum(1 for r in results if r.failed),
            duplicates=sum(r.duplicates for r in results),
            interrupted=len(interrupted),
        )

    async def _release(self, interrupted: list[Any]) -> None:
        """Free the leases of polls cancelled by a stop (only leases still ours: nobody else polls them)."""
        now = self.clock.now()
        async with self.db.write() as conn:
            for source in interrupted:
                current = await get_source_row(conn, source.id)
                if current is None or current.lease_owner != self.owner or current.lease_expires_at <= now:
                    continue
                await update_source(conn, source.id, {"lease_owner": None, "lease_expires_at": None}, now)
        log.info(
            "collector stopped: %d poll(s) interrupted before anything was written; they run again at the next start",
            len(interrupted),
        )

    async def run_forever(
        self,
        stop: asyncio.Event,
        *,
        idle_s: float = 30.0,
        on_pass: Callable[[PassResult, ClusterResult, float], None] | None = None,
    ) -> None:
        """Poll due sources until `stop` is set; a failing pass is logged, never fatal.

        After each pass: `before_cluster` (classification), clustering, `after_cluster` (regrade by
        spread); a failing hook is logged and the pass goes on. `on_pass(result, clustered, seconds)`
        is called when the pass and the heartbeat committed.
        """
        while not stop.is_set():
            try:
                watch = Stopwatch()
                result = await self.run_once(stop)
                if stop.is_set():  # what was stored waits, pending, for the next start's classification
                    return
                await _run_hook(self.before_cluster, "classification")
                if stop.is_set():
                    return
                clustered = await cluster_pending(self.db, self.clock, self.config.cluster)
                await _run_hook(self.after_cluster, "the step after clustering")
                async with self.db.write() as conn:
                    await beat(conn, "collector", self.owner, self.clock.now(), {"sources": result.sources})
                    due = await next_poll_at(conn)
                if on_pass is not None:
                    on_pass(result, clustered, watch.elapsed())
            except Exception:
                log.exception("collector pass failed; retrying in %.0f s", idle_s)
                due = None
            wait = idle_s if due is None else (due - self.clock.now()).total_seconds()
            await sleep_or_stop(self.clock, min(max(wait, 1.0), idle_s), stop)

    async def poll(self, source: Any) -> PollSummary:
        """Fetch one source (a leased row), store its items and its new state."""
        auth: dict[str, str] = {}
        try:
            auth = auth_header(source.credentials_ref, self._env)
        except SourceError as exc:
            now = self.clock.now()
            result = FetchResult(source.url, Outcome.NETWORK, now, now, error=str(exc))
        else:
            result = await self.fetcher.get(
                source.url,
                etag=source.etag,
                last_modified=source.last_modified,
                extra_headers=auth,
                robots=functools.partial(obeys_robots, source),
            )
        parsed = None
        if result.outcome is Outcome.OK:
            parsed = await parse_poll(
                self.fetcher, source, result, self.config.max_articles, self._known, auth, self._cpu_work
            )
        outcome = result.outcome
        if parsed is not None and parsed.unusable:
            outcome = Outcome.UNPARSEABLE
        prepared = None
        if parsed is not None:  # CPU work (normalising, signing) happens before the write
            size = len(result.body) + sum(len(e.body) for e in parsed.more_evidence)  # what the entries came from
            prepared = await self._cpu_work(size, _prepared, parsed, source, result, self.index)
        task = asyncio.current_task()
        if task is not None:  # from here on a stop lets the poll finish: it is written whole or not at all
            self._committing.add(task)
            task.add_done_callback(self._committing.discard)
        return await self._write(PollWork(source, result, outcome, parsed, prepared))

    async def _write(self, work: PollWork) -> PollSummary:
        """Group commit: whoever holds the lock writes every poll that is waiting, in one transaction."""
        future: asyncio.Future[PollSummary] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, future))
        async with self._store_lock:
            if not future.done():
                group, self._waiting = self._waiting, []
                try:
                    await self._write_group(group)
                except BaseException as exc:
                    for _, waiting in group:
                        if not waiting.done():
                            waiting.set_exception(exc)
                    raise
        return await future

    async def _write_group(self, group: list[tuple[PollWork, asyncio.Future[PollSummary]]]) -> None:
        """Write a group; when it fails, write each poll alone, so one unstorable poll sinks no other
        and is itself recorded as a failure of its source (not left to a silent lease expiry)."""
        try:
            summaries = await self._record([w for w, _ in group])
        except Exception as exc:
            await self.rebuild_index()  # the rolled-back items must not stay in the index
            if len(group) > 1:
                for one in group:
                    await self._write_group([one])
                return
            work = group[0][0]
            log.error("storing the poll of source %s (%s) failed", work.source.id, work.source.url, exc_info=exc)
            summaries = await self._record([_unstorable(work, exc)])
        for (_, waiting), summary in zip(group, summaries, strict=True):
            waiting.set_result(summary)

    async def _record(self, works: list[PollWork]) -> list[PollSummary]:
        async with self.db.write() as conn:
            return await record_polls_batch(conn, works, self.index, self.rng, self.config.health, self.clock.now())

    async def _known(self, keys: list[str]) -> set[str]:
        async with self.db.read() as conn:
            return set(await existing_keys(conn, keys))


def _prepared(parsed: ParsedPoll, source: Any, result: FetchResult, index: NearDupIndex) -> Prepared:
    """Item rows of a parsed poll, normalised and signed (CPU only: runs on the parsing thread)."""
    info = SourceInfo(
        source.id, source.url, source.media_tier, source.region_hint, row_media_type(source).media_type.value
    )
    rows = [entry_row(e, info, parsed.sha_for(e), result.started_at, parsed.warnings) for e in parsed.entries]
    return prepare(rows, index)


def _unstorable(work: PollWork, exc: Exception) -> PollWork:
    """The poll as a failure of its source: nothing of it stored but the fetch log and the health."""
    error = f"the fetched items could not be stored ({type(exc).__name__}: {str(exc)[:300]})"
    return PollWork(work.source, replace(work.result, error=error), Outcome.STORE_FAILED)


async def _until_done_or_stop(tasks: Sequence[asyncio.Future[PollSummary]], stop: asyncio.Event) -> None:
    """Until every task is done or `stop` is set, whichever comes first."""
    stopper = asyncio.ensure_future(stop.wait())
    pending: set[asyncio.Future[Any]] = set(tasks)
    try:
        while pending and not stop.is_set():
            _, pending = await asyncio.wait({*pending, stopper}, return_when=asyncio.FIRST_COMPLETED)
            pending.discard(stopper)
    finally:
        stopper.cancel()


async def _run_hook(hook: Callable[[], Awaitable[object]] | None, what: str) -> None:
    """A step around clustering: its failure is logged and must not stop clustering or the heartbeat."""
    if hook is None:
        return
    try:
        await hook()
    except Exception:
        log.exception("%s after the collector pass failed; going on with the pass", what)
