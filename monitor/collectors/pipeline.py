"""Parsed entries -> item rows -> dedup -> stored, in batches (a few statements per batch).

Used by the poller and by `monitor bench ingest`. Duplicates are stored too (they are evidence
of spread) with `duplicate_of` pointing at the original: exact URL/GUID repeats are not stored
again; the same normalised title or a near-identical text (a 转载) within the dedup window
becomes a duplicate of the earliest original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from monitor.collectors.dedup import NearDupIndex, declared_origin, shingle_text, title_hash, to_bytes
from monitor.collectors.encoding import repair_mojibake
from monitor.collectors.feeds import ParsedEntry, scrubbed
from monitor.collectors.normalize import normalize_text
from monitor.collectors.urls import canonical_url, dedup_key
from monitor.storage.db import Connection
from monitor.storage.repo.items import existing_keys, insert_fresh_items, originals_by_title_hash, set_duplicates

AUTHOR_MAX = 200


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: int | None
    url: str
    media_tier: str | None = None
    region_hint: str | None = None
    media_type: str | None = None  # MediaType value: the source's, set or inferred


@dataclass(slots=True)
class StoreResult:
    seen: int = 0
    new_keys: set[str] = field(default_factory=set)  # dedup keys inserted now
    duplicate_keys: set[str] = field(default_factory=set)  # of those, the ones stored as reposts

    @property
    def new(self) -> int:
        return len(self.new_keys)

    @property
    def duplicates(self) -> int:
        return len(self.duplicate_keys)


def entry_row(
    entry: ParsedEntry, source: SourceInfo, sha: str | None, now: datetime, feed_warnings: Sequence[str]
) -> dict[str, Any]:
    """An `items` row for one parsed entry (normalised text, hashes; no signature yet)."""
    entry = scrubbed(entry)
    title, title_problem = repair_mojibake(entry.title)
    text, text_problem = repair_mojibake(entry.text)
    warnings = list(dict.fromkeys([*feed_warnings, *entry.warnings, *filter(None, (title_problem, text_problem))]))
    canonical = canonical_url(entry.link) if entry.link else None
    text_norm = normalize_text(f"{title}\n{text}")
    title_norm = text_norm.split("\n", 1)[0] if title.strip() else ""
    return {
        "source_id": source.id,
        "dedup_key": dedup_key(canonical, entry.guid, f"{source.url}\n{title}\n{text[:200]}"),
        "guid": entry.guid,
        "url": entry.link or source.url,
        "canonical_url": canonical,
        "title": title,
        "text": text,
        "text_norm": text_norm,
        "author": entry.author[:AUTHOR_MAX] if entry.author else None,  # items.author is String(200)
        "published_at": entry.published,
        "fetched_at": now,
        "raw_sha256": sha,
        "title_hash": title_hash(title_norm),
        "minhash": None,
        "duplicate_of": None,
        "origin": declared_origin(text),
        "media_tier": source.media_tier,
        "media_type": source.media_type,
        "region_hint": source.region_hint,
        "warnings": warnings,
        "created_at": now,
    }


@dataclass(frozen=True, slots=True)
class Prepared:
    """Item rows with their MinHash signatures (computed before any lock or transaction)."""

    rows: list[dict[str, Any]]
    signatures: list[np.ndarray | None]


def prepare(rows: list[dict[str, Any]], index: NearDupIndex) -> Prepared:
    """Sign each row's text (and store the signature bytes on the row)."""
    signatures = []
    for row in rows:
        title_norm = row["text_norm"].split("\n", 1)[0]
        signature = index.signer.signature(shingle_text(title_norm, row["text_norm"][len(title_norm) :]))
        row["minhash"] = to_bytes(signature) if signature is not None else None
        signatures.append(signature)
    return Prepared(rows, signatures)


async def store_rows(conn: Connection, index: NearDupIndex, prepared: Prepared, now: datetime) -> StoreResult:
    """Insert the rows that are new, marking reposts; returns counts. Caller holds the write transaction."""
    rows = prepared.rows
    result = StoreResult(seen=len(rows))
    known = await existing_keys(conn, [r["dedup_key"] for r in rows])
    first: dict[str, int] = {}
    for position, row in enumerate(rows):
        if row["dedup_key"] not in known:
            first.setdefault(row["dedup_key"], position)
    if not first:
        return result
    fresh = [rows[i] for i in first.values()]
    signatures = [prepared.signatures[i] for i in first.values()]
    by_title = await originals_by_title_hash(
        conn, [r["title_hash"] for r in fresh if r["title_hash"]], now - index.config.window
    )
    provisional, in_batch = _mark_duplicates(index, fresh, signatures, by_title)
    stored: dict[str, int] = {}
    try:
        stored = await insert_fresh_items(conn, fresh)
    finally:  # provisional index entries become stored ids, or are forgotten
        for temp_id, key in provisional.items():
            index.rekey(temp_id, stored.get(key), now)
    late = [(stored[r["dedup_key"]], stored[k]) for r, k in in_batch if r["dedup_key"] in stored and k in stored]
    await set_duplicates(conn, late)
    result.new_keys = set(stored)
    result.duplicate_keys = {r["dedup_key"] for r in fresh if r["duplicate_of"] and r["dedup_key"] in stored}
    result.duplicate_keys |= {r["dedup_key"] for r, k in in_batch if r["dedup_key"] in stored and k in stored}
    return result


def _mark_duplicates(
    index: NearDupIndex,
    fresh: Sequence[dict[str, Any]],
    signatures: Sequence[np.ndarray | None],
    by_title: dict[str, int],
) -> tuple[dict[int, str], list[tuple[dict[str, Any], str]]]:
    """Set duplicate_of for reposts of stored originals.

    Originals of this batch go into the index at once under provisional (negative) ids, so later
    rows of the batch find them too. Returns (provisional id -> dedup key, [(row, original key)]).
    """
    provisional: dict[int, str] = {}
    in_batch: list[tuple[dict[str, Any], str]] = []
    batch_titles: dict[str, str] = {}
    for row, signature in zip(fresh, signatures, strict=True):
        original = by_title.get(row["title_hash"]) if row["title_hash"] else None
        twin = batch_titles.get(row["title_hash"]) if row["title_hash"] else None
        if original is None and twin is None and signature is not None:
            match = index.find(signature)
            if match is not None and match[0] < 0:
                twin = provisional[match[0]]
            elif match is not None:
                original = match[0]
        if original is not None:
            row["duplicate_of"] = original
        elif twin is not None:
            in_batch.append((row, twin))
        else:
            if row["title_hash"]:
                batch_titles[row["title_hash"]] = row["dedup_key"]
            if signature is not None:
                temp_id = index.provisional_id()
                provisional[temp_id] = row["dedup_key"]
                index.add(temp_id, signature, row["fetched_at"])
    return provisional, in_batch
