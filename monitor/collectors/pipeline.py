"""Parsed entries -> item rows -> dedup -> stored, in batches (a few statements per batch).

Used by the poller and by `monitor bench ingest`. Duplicates are stored too (they are evidence
of spread) with `duplicate_of` pointing at the original: exact URL/GUID repeats are not stored
again; the same normalised title or a near-identical text (a 转载) within the dedup window
becomes a duplicate of the earliest original.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from monitor.collectors.dedup import NearDupIndex, declared_origin, shingle_text, similarity, title_hash, to_bytes
from monitor.collectors.encoding import repair_mojibake
from monitor.collectors.feeds import ParsedEntry
from monitor.collectors.normalize import normalize_text
from monitor.collectors.urls import canonical_url, dedup_key
from monitor.storage.db import Connection
from monitor.storage.repo.items import existing_keys, insert_items, originals_by_title_hash, set_duplicates


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: int | None
    url: str
    media_tier: str | None = None
    region_hint: str | None = None


@dataclass(slots=True)
class StoreResult:
    seen: int = 0
    new: int = 0
    duplicates: int = 0


def entry_row(
    entry: ParsedEntry, source: SourceInfo, sha: str | None, now: datetime, feed_warnings: Sequence[str]
) -> dict[str, Any]:
    """An `items` row for one parsed entry (normalised text, hashes; no signature yet)."""
    title, title_problem = repair_mojibake(entry.title)
    text, text_problem = repair_mojibake(entry.text)
    warnings = list(dict.fromkeys([*feed_warnings, *entry.warnings, *filter(None, (title_problem, text_problem))]))
    canonical = canonical_url(entry.link) if entry.link else None
    return {
        "source_id": source.id,
        "dedup_key": dedup_key(canonical, entry.guid, f"{source.url}\n{title}\n{text[:200]}"),
        "guid": entry.guid,
        "url": entry.link or source.url,
        "canonical_url": canonical,
        "title": title,
        "text": text,
        "text_norm": normalize_text(f"{title}\n{text}"),
        "author": entry.author,
        "published_at": entry.published,
        "fetched_at": now,
        "raw_sha256": sha,
        "title_hash": title_hash(title),
        "minhash": None,
        "duplicate_of": None,
        "origin": declared_origin(text),
        "media_tier": source.media_tier,
        "region_hint": source.region_hint,
        "warnings": warnings,
        "created_at": now,
    }


async def store_rows(
    conn: Connection, index: NearDupIndex, rows: Sequence[dict[str, Any]], now: datetime
) -> StoreResult:
    """Insert the rows that are new, marking reposts; returns counts. Caller holds the write transaction."""
    result = StoreResult(seen=len(rows))
    known = await existing_keys(conn, [r["dedup_key"] for r in rows])
    fresh = list({r["dedup_key"]: r for r in reversed(rows) if r["dedup_key"] not in known}.values())[::-1]
    if not fresh:
        return result
    by_title = await originals_by_title_hash(
        conn, [r["title_hash"] for r in fresh if r["title_hash"]], now - index.config.window
    )
    signatures = [_sign(index, r) for r in fresh]
    in_batch = _mark_duplicates(index, fresh, signatures, by_title)
    stored = await insert_items(conn, fresh)
    late = [(stored[r["dedup_key"]][0], stored[other][0]) for r, other in in_batch if other in stored]
    await set_duplicates(conn, late)
    late_ids = {item_id for item_id, _ in late}
    for row, signature in zip(fresh, signatures, strict=True):
        item_id, is_new = stored.get(row["dedup_key"], (0, False))
        if is_new and signature is not None and row.get("duplicate_of") is None and item_id not in late_ids:
            index.add(item_id, signature, row["fetched_at"])
    result.new = sum(1 for r in fresh if stored.get(r["dedup_key"], (0, False))[1])
    result.duplicates = sum(1 for r in fresh if r.get("duplicate_of")) + len(late)
    return result


def _sign(index: NearDupIndex, row: dict[str, Any]) -> np.ndarray | None:
    title_norm = row["text_norm"].split("\n", 1)[0]
    signature = index.signer.signature(shingle_text(title_norm, row["text_norm"][len(title_norm) :]))
    if signature is not None:
        row["minhash"] = to_bytes(signature)
    return signature


def _mark_duplicates(
    index: NearDupIndex,
    fresh: Sequence[dict[str, Any]],
    signatures: Sequence[np.ndarray | None],
    by_title: dict[str, int],
) -> list[tuple[dict[str, Any], str]]:
    """Set duplicate_of for reposts of stored originals; return (row, original key) pairs within the batch."""
    in_batch: list[tuple[dict[str, Any], str]] = []
    batch_titles: dict[str, str] = {}
    batch_sigs: list[tuple[str, np.ndarray]] = []
    for row, signature in zip(fresh, signatures, strict=True):
        original = by_title.get(row["title_hash"]) if row["title_hash"] else None
        if original is None and signature is not None:
            match = index.find(signature)
            original = match[0] if match else None
        if original is not None:
            row["duplicate_of"] = original
            continue
        twin = batch_titles.get(row["title_hash"]) if row["title_hash"] else None
        twin = twin or _batch_match(signature, batch_sigs, index.config.threshold)
        if twin is not None:
            in_batch.append((row, twin))
            continue
        if row["title_hash"]:
            batch_titles[row["title_hash"]] = row["dedup_key"]
        if signature is not None:
            batch_sigs.append((row["dedup_key"], signature))
    return in_batch


def _batch_match(signature: np.ndarray | None, seen: list[tuple[str, np.ndarray]], threshold: float) -> str | None:
    if signature is None:
        return None
    for key, other in seen:
        if similarity(signature, other) >= threshold:
            return key
    return None
