"""Items and their evidence."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.db import insert_ignore
from monitor.storage.schema import evidence, items


@dataclass(frozen=True, slots=True)
class Evidence:
    """The bytes an item was parsed from, kept so a deleted post stays on record."""

    sha256: str
    url: str
    fetched_at: datetime
    body: bytes
    http_status: int | None = None
    content_type: str | None = None
    encoding: str | None = None
    headers: Mapping[str, str] | None = None


async def store_evidence(conn: AsyncConnection, batch: Sequence[Evidence]) -> None:
    """Store fetched bytes once per sha256 (zlib-compressed)."""
    rows = {
        e.sha256: {
            "sha256": e.sha256,
            "url": e.url,
            "fetched_at": e.fetched_at,
            "http_status": e.http_status,
            "content_type": e.content_type,
            "encoding": e.encoding,
            "headers": dict(e.headers or {}),
            "size": len(e.body),
            "compression": "zlib",
            "body": zlib.compress(e.body, 6),
        }
        for e in batch
    }
    if rows:
        await conn.execute(insert_ignore(conn, evidence, ["sha256"]), list(rows.values()))


async def load_evidence(conn: AsyncConnection, sha256: str) -> bytes | None:
    row = (
        await conn.execute(select(evidence.c.body, evidence.c.compression).where(evidence.c.sha256 == sha256))
    ).first()
    if row is None:
        return None
    return zlib.decompress(row.body) if row.compression == "zlib" else bytes(row.body)


async def insert_items(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[int, bool]]:
    """Insert item rows keyed by `dedup_key`; returns dedup_key -> (item id, newly inserted).

    Two queries per batch whatever its size: one insert that skips known keys, one select.
    """
    if not rows:
        return {}
    keys = list(dict.fromkeys(r["dedup_key"] for r in rows))
    existing = await _ids_for_keys(conn, keys)
    fresh = [r for r in _unique_by_key(rows) if r["dedup_key"] not in existing]
    if fresh:
        await conn.execute(insert_ignore(conn, items, ["dedup_key"]), fresh)
    after = await _ids_for_keys(conn, keys)
    fresh_keys = {r["dedup_key"] for r in fresh}
    return {k: (after[k], k in fresh_keys) for k in keys if k in after}


async def insert_fresh_items(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert rows believed new; returns dedup_key -> id for those actually inserted (one statement).

    A row another writer stored meanwhile is skipped by the conflict clause and absent from the result.
    """
    if not rows:
        return {}
    statement = insert_ignore(conn, items, ["dedup_key"]).returning(items.c.dedup_key, items.c.id)
    result = await conn.execute(statement, _unique_by_key(rows))
    return {row.dedup_key: row.id for row in result}


def _unique_by_key(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row["dedup_key"], dict(row))
    return list(seen.values())


async def _ids_for_keys(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
        chunk = keys[start : start + 500]
        result = await conn.execute(select(items.c.dedup_key, items.c.id).where(items.c.dedup_key.in_(chunk)))
        found.update({row.dedup_key: row.id for row in result})
    return found


async def recent_items(conn: AsyncConnection, limit: int = 200) -> list[Any]:
    query = select(items).order_by(items.c.published_at.desc().nulls_last(), items.c.id.desc()).limit(limit)
    return list(await conn.execute(query))


async def count_items(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(func.count()).select_from(items))).scalar_one())


async def existing_keys(conn: AsyncConnection, keys: Sequence[str]) -> dict[str, int]:
    """dedup_key -> item id for the keys already stored (one query per 500 keys)."""
    return await _ids_for_keys(conn, list(dict.fromkeys(keys)))


async def originals_by_title_hash(conn: AsyncConnection, hashes: Sequence[str], since: datetime) -> dict[str, int]:
    """title_hash -> id of the earliest original (not itself a duplicate) fetched since `since`.

    Only `title_hash IN (…)` goes to the database, so both SQLite and PostgreSQL use the title
    hash index (a fetched_at or duplicate_of condition lured SQLite's planner into a scan);
    the few rows per hash are filtered here.
    """
    wanted = sorted(set(hashes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        query = select(items.c.title_hash, items.c.id, items.c.duplicate_of, items.c.fetched_at).where(
            items.c.title_hash.in_(wanted[start : start + 500])
        )
        for row in await conn.execute(query):
            if row.duplicate_of is None and row.fetched_at >= since:
                found[row.title_hash] = min(found.get(row.title_hash, row.id), row.id)
    return found


async def recent_signatures(conn: AsyncConnection, since: datetime, limit: int) -> list[tuple[int, bytes, datetime]]:
    """(id, MinHash signature, fetched_at) of originals fetched since `since`, oldest first, at most `limit`."""
    query = (
        select(items.c.id, items.c.minhash, items.c.fetched_at)
        .where(items.c.fetched_at >= since)
        .where(items.c.duplicate_of.is_(None))
        .where(items.c.minhash.is_not(None))
        .order_by(items.c.id.desc())
        .limit(limit)
    )
    rows = [(row.id, bytes(row.minhash), row.fetched_at) for row in await conn.execute(query)]
    rows.reverse()
    return rows


async def set_duplicates(conn: AsyncConnection, pairs: Sequence[tuple[int, int]]) -> None:
    """Point items at their originals: (item id, original id) pairs, one statement per batch."""
    if pairs:
        await conn.execute(
            update(items).where(items.c.id == bindparam("item_id")).values(duplicate_of=bindparam("original_id")),
            [{"item_id": i, "original_id": o} for i, o in pairs],
        )


@dataclass(frozen=True, slots=True)
class Spread:
    """How far a story has travelled: its own item plus every repost attached to it."""

    items: int
    sources: int
    media_tiers: tuple[str, ...]


async def item_spread(conn: AsyncConnection, item_ids: Sequence[int]) -> dict[int, Spread]:
    """For each original: items, distinct sources and media tiers over it and its duplicates."""
    if not item_ids:
        return {}
    root = func.coalesce(items.c.duplicate_of, items.c.id)
    query = select(root.label("root"), items.c.source_id, items.c.media_tier).where(root.in_(list(item_ids)))
    groups: dict[int, list[Any]] = {}
    for row in await conn.execute(query):
        groups.setdefault(row.root, []).append(row)
    return {
        root_id: Spread(
            items=len(rows),
            sources=len({r.source_id for r in rows if r.source_id is not None}),
            media_tiers=tuple(sorted({r.media_tier for r in rows if r.media_tier})),
        )
        for root_id, rows in groups.items()
    }
