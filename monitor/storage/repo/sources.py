"""Sources: registration and listing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import MediaTier, Source, SourceHealth, SourceKind
from monitor.storage.db import insert_ignore
from monitor.storage.schema import fetches, source_events, sources


def source_row(source: Source, now: datetime) -> dict[str, Any]:
    return {
        "name": source.name,
        "kind": source.kind.value,
        "url": source.url,
        "media_tier": source.media_tier.value,
        "region_hint": source.region_hint,
        "poll_min_s": source.poll_min_s,
        "poll_max_s": source.poll_max_s,
        "expected_per_day": source.expected_per_day,
        "credentials_ref": source.credentials_ref,
        "options": dict(source.options),
        "enabled": source.enabled,
        "health": source.health.value,
        "next_poll_at": now,
        "created_at": now,
        "updated_at": now,
    }


def source_from_row(row: Any) -> Source:
    return Source(
        id=row.id,
        name=row.name,
        url=row.url,
        kind=SourceKind(row.kind),
        media_tier=MediaTier(row.media_tier),
        region_hint=row.region_hint,
        poll_min_s=row.poll_min_s,
        poll_max_s=row.poll_max_s,
        expected_per_day=row.expected_per_day,
        credentials_ref=row.credentials_ref,
        enabled=row.enabled,
        health=SourceHealth(row.health),
        options=dict(row.options or {}),
    )


async def add_sources(conn: AsyncConnection, new: Sequence[Source], now: datetime) -> dict[str, int]:
    """Register sources (existing URLs are left as they are); returns url -> id for all of them."""
    if not new:
        return {}
    await conn.execute(insert_ignore(conn, sources, ["url"]), [source_row(s, now) for s in new])
    urls = [s.url for s in new]
    rows = await conn.execute(select(sources.c.url, sources.c.id).where(sources.c.url.in_(urls)))
    return {row.url: row.id for row in rows}


async def list_sources(conn: AsyncConnection) -> list[Source]:
    rows = await conn.execute(select(sources).order_by(sources.c.id))
    return [source_from_row(r) for r in rows]


async def remove_source(conn: AsyncConnection, ident: str) -> int:
    """Remove a source by id or URL; returns how many were removed."""
    condition = sources.c.id == int(ident) if ident.isdigit() else sources.c.url == ident
    result = await conn.execute(delete(sources).where(condition))
    return int(result.rowcount or 0)


async def enabled_sources(conn: AsyncConnection) -> list[Any]:
    """Enabled source rows (with their fetch state: validators, failures, next poll)."""
    return list(await conn.execute(select(sources).where(sources.c.enabled).order_by(sources.c.id)))


async def record_fetch(conn: AsyncConnection, source_id: int, changes: dict[str, Any], fetch: dict[str, Any]) -> None:
    """Update a source's fetch state and append one row to the fetch log."""
    await conn.execute(update(sources).where(sources.c.id == source_id).values(**changes))
    await conn.execute(insert(fetches).values(source_id=source_id, **fetch))


def failures_plus_one() -> Any:
    """SQL expression incrementing the consecutive failure counter atomically."""
    return sources.c.consecutive_failures + 1


# --- web: the sources page ---------------------------------------------------------


async def source_rows(conn: AsyncConnection) -> list[Any]:
    """Every source row with its fetch state and health (for the sources page)."""
    return list(await conn.execute(select(sources).order_by(sources.c.name, sources.c.id)))


async def get_source_row(conn: AsyncConnection, source_id: int) -> Any | None:
    return (await conn.execute(select(sources).where(sources.c.id == source_id))).first()


async def source_id_for_url(conn: AsyncConnection, url: str) -> int | None:
    row = (await conn.execute(select(sources.c.id).where(sources.c.url == url))).first()
    return int(row.id) if row else None


async def update_source(conn: AsyncConnection, source_id: int, changes: dict[str, Any], now: datetime) -> None:
    """Edit a source's registration fields (name, url, kind, tier, polling bounds, enabled …)."""
    await conn.execute(update(sources).where(sources.c.id == source_id).values(**changes, updated_at=now))


async def latest_health_events(conn: AsyncConnection, source_ids: Sequence[int]) -> dict[int, Any]:
    """The most recent health change of each source, in one query."""
    if not source_ids:
        return {}
    latest = (
        select(source_events.c.source_id, func.max(source_events.c.id).label("id"))
        .where(source_events.c.source_id.in_(list(source_ids)), source_events.c.kind == "health_changed")
        .group_by(source_events.c.source_id)
        .subquery()
    )
    query = select(source_events).join(latest, latest.c.id == source_events.c.id)
    return {row.source_id: row for row in await conn.execute(query)}
