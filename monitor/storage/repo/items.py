"""Items and their evidence."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
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
