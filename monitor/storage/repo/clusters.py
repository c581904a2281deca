"""What clustering reads and writes: pending relevant items, open incident profiles, attachments.

Every function works on a batch (a few statements, never one per item). The engine's Merge and
Split commands use `move_items` and `refresh_incident_stats` inside their own transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import IncidentStatus, MediaTier
from monitor.domain.responsibility import grown_co_units
from monitor.storage.schema import incident_items, incidents, items

_OPEN = [s.value for s in IncidentStatus if s.is_open]
_ENDED_BY_PERSON = [IncidentStatus.DISMISSED.value, IncidentStatus.CLOSED.value]  # still take reposts


HELD = "held"  # key of items.classification: clustering held the item (old news), with the reason


async def one_pass_at_a_time(conn: AsyncConnection) -> None:
    """Make a clustering pass wait for any other one to commit (PostgreSQL; a transaction-level
    advisory lock): several collectors cluster after their own passes, and a pass that cannot see
    another's new incidents would open a twin for the same event. SQLite's writers are serial."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('monitor.cluster_pass'))"))


async def pending_relevant_items(conn: AsyncConnection, limit: int = 500) -> list[Any]:
    """Classified relevant items not yet in any incident nor held by clustering, oldest first.

    On PostgreSQL the rows are locked for the caller's transaction and rows another transaction
    holds are skipped: a person opening an incident from an item (or attaching it) locks it first,
    so the pass leaves that item to them instead of failing on incident_items' unique item_id and
    rolling back every other item with it; a person who comes later waits for the pass and is then
    told which incident took the item. SQLite's write transactions are serial already.
    """
    query = (
        select(items)
        .outerjoin(incident_items, incident_items.c.item_id == items.c.id)
        .where(incident_items.c.item_id.is_(None))
        .where(items.c.relevant.is_(True))
        .where(items.c.classified_at.is_not(None))
        .where(items.c.classification[HELD].as_string().is_(None))
        .order_by(items.c.id)
        .limit(limit)
    )
    if conn.dialect.name != "postgresql":
        return list(await conn.execute(query))
    rows = list(await conn.execute(query.with_for_update(of=items, skip_locked=True)))
    # A person who committed between this statement's snapshot and its row locks took the item
    # unseen (their lock was gone, the item row unchanged): read the memberships again, now locked.
    taken = await _in_incidents(conn, [r.id for r in rows])
    return [r for r in rows if r.id not in taken]


async def _in_incidents(conn: AsyncConnection, item_ids: Sequence[int]) -> set[int]:
    if not item_ids:
        return set()
    query = select(incident_items.c.item_id).where(incident_items.c.item_id.in_(list(item_ids)))
    return set((await conn.execute(query)).scalars())


async def hold_items(conn: AsyncConnection, held: Sequence[tuple[int, Any, dict[str, Any]]]) -> None:
    """Record that clustering held these items (id, current classification, reason): they opened no
    incident and are not considered again (a new classification clears it)."""
    if held:
        await conn.execute(
            update(items).where(items.c.id == bindparam("item_id")).values(classification=bindparam("doc")),
            [{"item_id": i, "doc": {**(doc or {}), HELD: reason}} for i, doc, reason in held],
        )


def _active(since: datetime) -> Any:
    return (
        select(incident_items.c.incident_id)
        .join(items, items.c.id == incident_items.c.item_id)
        .group_by(incident_items.c.incident_id)
        .having(func.max(func.coalesce(items.c.published_at, items.c.fetched_at)) >= since)
    )


async def open_incident_items(
    conn: AsyncConnection, since: datetime, *, open_since: datetime | None = None
) -> list[Any]:
    """Items of incidents active since `since` (incident id, region, type, status, item facts): the
    open ones (active since `open_since` when given: the follow-up horizon), and the dismissed or
    closed ones (clustering gives those reposts of their items only)."""
    ended = incidents.c.status.in_(_ENDED_BY_PERSON) & incidents.c.id.in_(_active(since))
    still_open = incidents.c.status.in_(_OPEN) & incidents.c.id.in_(_active(open_since or since))
    query = (
        select(
            incidents.c.id.label("incident_id"),
            incidents.c.region.label("incident_region"),
            incidents.c.event_type.label("incident_event_type"),
            incidents.c.status.label("incident_status"),
            items.c.id,
            items.c.title,
            func.substr(func.coalesce(items.c.text_norm, items.c.text), 1, 400).label("lead"),
            func.coalesce(items.c.published_at, items.c.fetched_at).label("at"),
        )
        .join(incident_items, incident_items.c.incident_id == incidents.c.id)
        .join(items, items.c.id == incident_items.c.item_id)
        .where(still_open | ended)
        .order_by(incidents.c.id, items.c.id)
    )
    return list(await conn.execute(query))


async def attach(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert incident_items rows: {incident_id, item_id, attached_at, reason} (one statement)."""
    if rows:
        await conn.execute(insert(incident_items), [dict(r) for r in rows])


async def add_co_units(
    conn: AsyncConnection, brought: Mapping[int, tuple[Sequence[str], bool]], now: datetime
) -> dict[int, list[str]]:
    """Add the co-units (and the 涉及多地 flag) later items bring to their incidents; none is ever
    dropped and the owner or lead never becomes a co-unit. Returns the units added per incident."""
    if not brought:
        return {}
    c = incidents.c
    cols = (c.id, c.owner_unit, c.lead_unit, c.co_units, c.multi_region)
    added: dict[int, list[str]] = {}
    changes = []
    for row in await conn.execute(select(*cols).where(incidents.c.id.in_(sorted(brought)))):
        units, several = brought[row.id]
        current = tuple(row.co_units or ())
        grown = grown_co_units(current, units, row.owner_unit, row.lead_unit)
        if grown != current or (several and not row.multi_region):
            added[row.id] = list(grown[len(current) :])
            changes.append({"incident_id": row.id, "co": list(grown), "multi": several or row.multi_region, "now": now})
    if changes:
        await conn.execute(
            update(incidents)
            .where(incidents.c.id == bindparam("incident_id"))
            .values(co_units=bindparam("co"), multi_region=bindparam("multi"), updated_at=bindparam("now")),
            changes,
        )
    return added


async def move_items(
    conn: AsyncConnection,
    from_incident: int,
    to_incident: int,
    item_ids: Sequence[int] | None,
    reason: dict[str, Any],
    now: datetime,
) -> int:
    """Re-attach items (all of them when `item_ids` is None) to another incident, recording why."""
    query = (
        update(incident_items)
        .where(incident_items.c.incident_id == from_incident)
        .values(incident_id=to_incident, attached_at=now, reason=reason)
    )
    if item_ids is not None:
        query = query.where(incident_items.c.item_id.in_(list(item_ids)))
    result = await conn.execute(query)
    return int(result.rowcount or 0)


async def item_classes(conn: AsyncConnection, item_ids: Sequence[int]) -> list[Any]:
    """The stored classification of these items (what a split-off incident is about: its type, place,
    owning unit and levels)."""
    if not item_ids:
        return []
    columns = (items.c.id, items.c.event_type, items.c.region, items.c.department, items.c.classification,
               items.c.event_level, items.c.opinion_level, items.c.classified_at)  # fmt: skip
    query = select(*columns).where(items.c.id.in_(sorted(set(item_ids))))
    return list(await conn.execute(query.order_by(items.c.id)))


async def incident_item_ids(conn: AsyncConnection, incident_id: int) -> list[int]:
    query = select(incident_items.c.item_id).where(incident_items.c.incident_id == incident_id)
    return list((await conn.execute(query.order_by(incident_items.c.item_id))).scalars())


async def refresh_incident_stats(conn: AsyncConnection, incident_ids: Sequence[int], now: datetime) -> None:
    """Recompute item_count, source_count, media_tiers and first_published_at from the items.

    Spread counts the attached items and every repost of them (items.duplicate_of), so a story
    reposted by a 自媒体 account and a provincial paper reaches those tiers even when the reposts
    themselves were not classified relevant.
    """
    ids = sorted(set(incident_ids))
    if not ids:
        return
    attached = select(incident_items.c.incident_id, incident_items.c.item_id).where(
        incident_items.c.incident_id.in_(ids)
    )
    rows = list(await conn.execute(attached))
    members = {row.item_id: row.incident_id for row in rows}
    facts = await _spread_facts(conn, list(members))
    stats: dict[int, dict[str, Any]] = {i: {"items": 0, "sources": set(), "tiers": set(), "first": None} for i in ids}
    for fact in facts:
        root = fact.duplicate_of if fact.duplicate_of in members else fact.id
        stat = stats[members[root]]
        stat["items"] += 1 if fact.id in members else 0
        if fact.source_id is not None:
            stat["sources"].add(fact.source_id)
        if fact.media_tier:
            stat["tiers"].add(fact.media_tier)
        if fact.id in members and fact.published_at is not None:
            stat["first"] = min(filter(None, (stat["first"], fact.published_at)))
    await conn.execute(
        update(incidents)
        .where(incidents.c.id == bindparam("incident_id"))
        .values(
            item_count=bindparam("item_count"),
            source_count=bindparam("source_count"),
            media_tiers=bindparam("tiers"),
            first_published_at=bindparam("first"),
            updated_at=bindparam("now"),
        ),
        [
            {
                "incident_id": i,
                "item_count": s["items"],
                "source_count": len(s["sources"]),
                "tiers": _tier_order(s["tiers"]),
                "first": s["first"],
                "now": now,
            }
            for i, s in stats.items()
        ],
    )


async def _spread_facts(conn: AsyncConnection, item_ids: list[int]) -> list[Any]:
    found: list[Any] = []
    cols = (items.c.id, items.c.duplicate_of, items.c.source_id, items.c.media_tier, items.c.published_at)
    for start in range(0, len(item_ids), 500):
        chunk = item_ids[start : start + 500]
        query = select(*cols).where(items.c.id.in_(chunk) | items.c.duplicate_of.in_(chunk))
        found.extend(await conn.execute(query))
    return found


def _tier_order(tiers: set[str]) -> list[str]:
    return [t.value for t in MediaTier if t.value in tiers]


async def item_event_levels(conn: AsyncConnection, incident_ids: Sequence[int]) -> list[Any]:
    """The attached items that state a 突发事件 level: incident_id, item id, title, event_level,
    attached_at and the classifier's reasons for the level (`why`), oldest attachment first."""
    if not incident_ids:
        return []
    query = (
        select(
            incident_items.c.incident_id,
            items.c.id,
            items.c.title,
            items.c.event_level,
            incident_items.c.attached_at,
            items.c.classification,
        )
        .join(items, items.c.id == incident_items.c.item_id)
        .where(incident_items.c.incident_id.in_(sorted(set(incident_ids))), items.c.event_level.is_not(None))
        .order_by(incident_items.c.attached_at, items.c.id)
    )
    return list(await conn.execute(query))
