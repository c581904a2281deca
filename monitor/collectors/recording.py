"""Writing polls: items, evidence, the sources' new state, fetch log rows and health events.

Polls that finish while another write is in progress are written together in ONE transaction
("group commit"): one statement per table for the whole group, never one per item or source.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.collectors.dedup import NearDupIndex
from monitor.collectors.fetch import FetchResult
from monitor.collectors.health import Decision, HealthPolicy, Outcome, SourceState, decide
from monitor.collectors.pipeline import Prepared, store_rows
from monitor.collectors.sourcing import ParsedPoll
from monitor.domain import SourceHealth
from monitor.storage.db import Connection
from monitor.storage.repo.items import Evidence, store_evidence
from monitor.storage.repo.sources import record_polls

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollWork:
    """One finished fetch, parsed and prepared, waiting to be written."""

    source: Any  # the leased sources row
    result: FetchResult
    outcome: Outcome
    parsed: ParsedPoll | None = None
    prepared: Prepared | None = None


@dataclass(frozen=True, slots=True)
class PollSummary:
    seen: int
    new: int
    duplicates: int
    failed: bool


async def record_polls_batch(
    conn: Connection,
    works: Sequence[PollWork],
    index: NearDupIndex,
    rng: random.Random,
    policy: HealthPolicy,
    now: datetime,
) -> list[PollSummary]:
    """Write a group of polls in the caller's transaction; returns one summary per poll."""
    await store_evidence(conn, [e for w in works if w.parsed is not None for e in _evidence(w.result, w.parsed)])
    rows = [r for w in works if w.prepared for r in w.prepared.rows]
    signatures = [s for w in works if w.prepared for s in w.prepared.signatures]
    stored = await store_rows(conn, index, Prepared(rows, signatures), now)
    claimed: set[str] = set()
    summaries, updates, fetch_rows, events = [], [], [], []
    for work in works:
        keys = [r["dedup_key"] for r in work.prepared.rows] if work.prepared else []
        mine = {k for k in keys if k in stored.new_keys and k not in claimed}
        claimed |= mine
        new, dups = len(mine), len(mine & stored.duplicate_keys)
        decision = decide(
            _state(work.source), work.outcome, now, rng, policy, new_items=new, retry_after=work.result.retry_after
        )
        update, event = _changes(work, decision, new, now)
        updates.append(update)
        fetch_rows.append(_fetch_row(work, len(keys), new))
        if event is not None:
            events.append(event)
            log.warning(
                "source %s (%s) is now %s: %s", work.source.id, work.source.url, decision.health, update["last_error"]
            )
        summaries.append(PollSummary(len(keys), new, dups, work.outcome.is_failure))
    await record_polls(conn, updates, fetch_rows, events)
    return summaries


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


def _error_text(work: PollWork) -> str | None:
    if work.outcome is Outcome.UNPARSEABLE and work.parsed is not None:
        return "; ".join(work.parsed.warnings) or "no feed or entries found"
    return work.result.error if work.outcome.is_failure else None


def _changes(
    work: PollWork, decision: Decision, new: int, now: datetime
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The source's full new state (every poll sets the same columns, so one UPDATE serves a group)."""
    source, result = work.source, work.result
    error = _error_text(work)
    update: dict[str, Any] = {
        "source_id": source.id,
        "last_fetch_at": now,
        "consecutive_failures": decision.consecutive_failures,
        "next_poll_at": decision.next_poll_at,
        "health": decision.health.value,
        "health_changed_at": source.health_changed_at,
        "last_error": error if work.outcome.is_failure else source.last_error,
        "last_success_at": source.last_success_at,
        "last_new_item_at": now if new else source.last_new_item_at,
        "etag": source.etag,
        "last_modified": source.last_modified,
        "updated_at": now,
    }
    if decision.counts_as_success:
        update.update(last_success_at=now, last_error=None)
    if decision.update_validators:
        update.update(etag=result.headers.get("ETag"), last_modified=result.headers.get("Last-Modified"))
    if decision.health.value == source.health:
        return update, None
    update["health_changed_at"] = now
    detail = {
        "outcome": work.outcome.value,
        "http_status": result.status,
        "error": error,
        "consecutive_failures": decision.consecutive_failures,
    }
    event = {"source_id": source.id, "at": now, "from_health": source.health, "to_health": decision.health.value}
    return update, {**event, "detail": detail}


def _fetch_row(work: PollWork, seen: int, new: int) -> dict[str, Any]:
    result = work.result
    return {
        "source_id": work.source.id,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "url": result.url,
        "http_status": result.status,
        "outcome": work.outcome.value,
        "bytes": len(result.body),
        "items_seen": seen,
        "items_new": new,
        "evidence_sha256": result.sha256 if result.body and work.parsed is not None else None,  # stored with it
        "error": _error_text(work),
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
    return [page, *parsed.more_evidence]
