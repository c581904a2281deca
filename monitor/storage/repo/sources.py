"""Sources: registration and listing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import MediaTier, MediaType, Source, SourceHealth, SourceKind
from monitor.domain.media import MediaTypeGuess, media_type_of
from monitor.storage.db import insert_ignore
from monitor.storage.schema import fetches, items, source_events, sources


def source_row(source: Source, now: datetime) -> dict[str, Any]:
    return {
        "name": source.name,
        "kind": source.kind.value,
        "url": source.url,
        "media_tier": source.media_tier.value,
        "media_type": source.media_type.value if source.media_type else None,
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
        media_type=MediaType(row.media_type) if row.media_type else None,
    )


def row_media_type(row: Any) -> MediaTypeGuess:
    """A `sources` row's media type (a Row or a mapping of one): as set, else inferred and saying so."""
    values: Mapping[str, Any] = row if isinstance(row, Mapping) else row._mapping
    media_type = values["media_type"]
    set_type = MediaType(media_type) if media_type else None
    return media_type_of(set_type, SourceKind(values["kind"]), values["url"], values["name"])


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


async def get_source(conn: AsyncConnection, ident: str) -> Any | None:
    """A source row (with its fetch state) by id or URL."""
    condition = sources.c.id == int(ident) if ident.isdigit() else sources.c.url == ident
    return (await conn.execute(select(sources).where(condition))).first()


async def claim_due_sources(
    conn: AsyncConnection, now: datetime, owner: str, lease_until: datetime, limit: int = 500
) -> list[Any]:
    """Lease enabled sources whose poll is due (none leased by a live worker); returns their rows.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so several collectors share the work. SQLite runs inside
    a BEGIN IMMEDIATE transaction, which already serialises claimers.
    """
    due = (
        select(sources.c.id)
        .where(sources.c.enabled)
        .where((sources.c.next_poll_at.is_(None)) | (sources.c.next_poll_at <= now))
        .where((sources.c.lease_expires_at.is_(None)) | (sources.c.lease_expires_at <= now))
        .order_by(sources.c.next_poll_at.asc().nulls_first(), sources.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list((await conn.execute(due)).scalars())
    if not ids:
        return []
    await conn.execute(
        update(sources).where(sources.c.id.in_(ids)).values(lease_owner=owner, lease_expires_at=lease_until)
    )
    return list(await conn.execute(select(sources).where(sources.c.id.in_(ids)).order_by(sources.c.id)))


async def next_poll_at(conn: AsyncConnection) -> datetime | None:
    """The earliest scheduled poll of any enabled source."""
    query = select(func.min(sources.c.next_poll_at)).where(sources.c.enabled)
    return (await conn.execute(query)).scalar_one_or_none()


async def record_polls(
    conn: AsyncConnection,
    updates: Sequence[dict[str, Any]],
    fetch_rows: Sequence[dict[str, Any]],
    health_events: Sequence[dict[str, Any]],
) -> None:
    """After a group of polls: new source states (leases released), fetch log rows, health changes.

    Every update dict has the same keys (`source_id` plus columns), so each table gets one statement.
    """
    if updates:
        columns = [k for k in updates[0] if k != "source_id"]
        statement = (
            update(sources)
            .where(sources.c.id == bindparam("b_source_id"))
            .values({**{c: bindparam(f"b_{c}") for c in columns}, "lease_owner": None, "lease_expires_at": None})
        )
        await conn.execute(statement, [{f"b_{k}": v for k, v in u.items()} for u in updates])
    if fetch_rows:
        await conn.execute(insert(fetches), list(fetch_rows))
    if health_events:
        await conn.execute(insert(source_events), [{**e, "kind": "health_changed"} for e in health_events])


async def source_events_for(conn: AsyncConnection, source_id: int | None = None, limit: int = 200) -> list[Any]:
    """Health changes (newest first), for the sources page and the audit watchdog."""
    query = select(source_events).order_by(source_events.c.at.desc(), source_events.c.id.desc()).limit(limit)
    if source_id is not None:
        query = query.where(source_events.c.source_id == source_id)
    return list(await conn.execute(query))


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


async def retag_source_items(conn: AsyncConnection, source_id: int, media_type: MediaType) -> int:
    """Give the items of a source the media type it now has (set or inferred); returns how many changed."""
    query = (
        update(items)
        .where(items.c.source_id == source_id, or_(items.c.media_type.is_(None), items.c.media_type != media_type))
        .values(media_type=media_type.value)
    )
    return int((await conn.execute(query)).rowcount or 0)


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


async def unhealthy_sources(conn: AsyncConnection, limit: int = 5) -> tuple[dict[str, int], list[Any]]:
    """Enabled sources that are not OK: counts per health and the most recently changed few.

    For the duty queue's banner, so a failing or silent source is seen where the duty officer works,
    not only on the sources page. Two small queries, whatever the number of sources.
    """
    not_ok = (sources.c.enabled.is_(True), sources.c.health != SourceHealth.OK.value)
    counts = {
        str(row.health): int(row.n)
        for row in await conn.execute(
            select(sources.c.health, func.count().label("n")).where(*not_ok).group_by(sources.c.health)
        )
    }
    if not counts:
        return {}, []
    recent = await conn.execute(
        select(sources.c.id, sources.c.name, sources.c.health, sources.c.health_changed_at, sources.c.last_error)
        .where(*not_ok)
        .order_by(sources.c.health_changed_at.desc(), sources.c.id.desc())
        .limit(limit)
    )
    return counts, list(recent)
