"""One collection pass: fetch each enabled source, keep the bytes as evidence, store new items."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from monitor.clock import Clock
from monitor.collectors.feeds import ParsedEntry, parse_feed
from monitor.collectors.urls import canonical_url, dedup_key
from monitor.storage.db import Database
from monitor.storage.repo.items import Evidence, insert_items, store_evidence
from monitor.storage.repo.sources import enabled_sources, failures_plus_one, record_fetch

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024
USER_AGENT = "MinghuMonitor/0.1 (+政务舆情回应监测; polite crawler)"


@dataclass(frozen=True, slots=True)
class PassResult:
    sources: int
    items_seen: int
    items_new: int
    errors: int


def new_session() -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=60, connect=10, sock_read=30)
    return aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT})


async def collect_once(db: Database, clock: Clock, session: aiohttp.ClientSession) -> PassResult:
    """Fetch every enabled source once (concurrently) and store what is new."""
    async with db.read() as conn:
        rows = await enabled_sources(conn)
    results = await asyncio.gather(*(_collect_source(db, clock, session, row) for row in rows))
    return PassResult(
        sources=len(rows),
        items_seen=sum(r[0] for r in results),
        items_new=sum(r[1] for r in results),
        errors=sum(r[2] for r in results),
    )


async def _collect_source(
    db: Database, clock: Clock, session: aiohttp.ClientSession, source: Any
) -> tuple[int, int, int]:
    started = clock.now()
    headers = {}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    try:
        async with session.get(source.url, headers=headers, max_redirects=5) as response:
            body = await response.content.read(MAX_BODY_BYTES + 1)
            status, response_headers = response.status, dict(response.headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        await _record_failure(db, clock, source, started, f"{type(exc).__name__}: {exc}")
        return 0, 0, 1
    if status == 304:
        await _record_fetch(db, clock, source, started, status, "not_modified", 0, 0, None, {})
        return 0, 0, 0
    if status != 200 or len(body) > MAX_BODY_BYTES:
        problem = f"HTTP {status}" if status != 200 else f"body larger than {MAX_BODY_BYTES} bytes"
        await _record_failure(db, clock, source, started, problem, status)
        return 0, 0, 1
    parsed = parse_feed(body, url=source.url, content_type=response_headers.get("Content-Type"))
    sha = hashlib.sha256(body).hexdigest()
    evidence = Evidence(
        sha, source.url, started, body, status, response_headers.get("Content-Type"), parsed.encoding, response_headers
    )
    rows = [_item_row(entry, source, sha, started, parsed.warnings) for entry in parsed.entries]
    async with db.write() as conn:
        await store_evidence(conn, [evidence])
        stored = await insert_items(conn, rows)
    new = sum(1 for _, is_new in stored.values() if is_new)
    validators = {"etag": response_headers.get("ETag"), "last_modified": response_headers.get("Last-Modified")}
    await _record_fetch(db, clock, source, started, status, "ok", len(rows), new, sha, validators, len(body))
    return len(rows), new, 0


def _item_row(entry: ParsedEntry, source: Any, sha: str, now: datetime, warnings: Sequence[str]) -> dict[str, Any]:
    canonical = canonical_url(entry.link) if entry.link else None
    return {
        "source_id": source.id,
        "dedup_key": dedup_key(canonical, entry.guid, entry.title),
        "guid": entry.guid,
        "url": entry.link or source.url,
        "canonical_url": canonical,
        "title": entry.title,
        "text": entry.text,
        "author": entry.author,
        "published_at": entry.published,
        "fetched_at": now,
        "raw_sha256": sha,
        "media_tier": source.media_tier,
        "region_hint": source.region_hint,
        "warnings": list(warnings),
        "created_at": now,
    }


async def _record_fetch(
    db: Database,
    clock: Clock,
    source: Any,
    started: datetime,
    status: int,
    outcome: str,
    seen: int,
    new: int,
    sha: str | None,
    validators: dict[str, str | None],
    size: int = 0,
) -> None:
    now = clock.now()
    changes: dict[str, Any] = {
        "last_fetch_at": now,
        "last_success_at": now,
        "last_error": None,
        "consecutive_failures": 0,
        "next_poll_at": now + timedelta(seconds=source.poll_min_s),
        "updated_at": now,
    }
    if status == 200:  # validators change only on a full response
        changes.update(etag=validators.get("etag"), last_modified=validators.get("last_modified"))
    if new:
        changes["last_new_item_at"] = now
    fetch = {
        "started_at": started,
        "finished_at": now,
        "url": source.url,
        "http_status": status,
        "outcome": outcome,
        "bytes": size,
        "items_seen": seen,
        "items_new": new,
        "evidence_sha256": sha,
    }
    async with db.write() as conn:
        await record_fetch(conn, source.id, changes, fetch)


async def _record_failure(
    db: Database, clock: Clock, source: Any, started: datetime, error: str, status: int | None = None
) -> None:
    now = clock.now()
    log.warning("fetch failed for source %s (%s): %s", source.id, source.url, error)
    backoff = min(source.poll_max_s, source.poll_min_s * 2 ** min(source.consecutive_failures + 1, 10))
    changes = {
        "last_fetch_at": now,
        "last_error": error,
        "consecutive_failures": failures_plus_one(),
        "next_poll_at": now + timedelta(seconds=backoff),
        "updated_at": now,
    }
    fetch = {
        "started_at": started,
        "finished_at": now,
        "url": source.url,
        "http_status": status,
        "outcome": "error",
        "error": error,
    }
    async with db.write() as conn:
        await record_fetch(conn, source.id, changes, fetch)
