"""What a person's item-side corrections read and write: one item with the incident it is in (locked
for the command's transaction), which incident each listed item is in, and corrections of one item.

Used by 从稿件手动立案 (`monitor.engine.open_item`) and 并入已有事件 (`monitor.engine.manual`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.schema import corrections, incident_items, incidents, items, sources


@dataclass(frozen=True, slots=True)
class ItemMembership:
    incident_id: int
    status: str  # IncidentStatus value


async def item_for_update(conn: AsyncConnection, item_id: int) -> tuple[Any, ItemMembership | None] | None:
    """The item row (locked on PostgreSQL, so two people acting on it at once take turns; SQLite's
    write transaction already serialises) and the incident it is in, if any; None when missing."""
    query = select(items).where(items.c.id == item_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    found = await item_incidents(conn, [item_id])
    return row, found.get(item_id)


async def item_incidents(conn: AsyncConnection, item_ids: Sequence[int]) -> dict[int, ItemMembership]:
    """item id → the incident it is in (an item is in at most one: incident_items.item_id is unique)."""
    ids = sorted(set(item_ids))
    found: dict[int, ItemMembership] = {}
    for start in range(0, len(ids), 500):
        query = (
            select(incident_items.c.item_id, incidents.c.id, incidents.c.status)
            .join(incidents, incidents.c.id == incident_items.c.incident_id)
            .where(incident_items.c.item_id.in_(ids[start : start + 500]))
        )
        found.update({r.item_id: ItemMembership(r.id, r.status) for r in await conn.execute(query)})
    return found


async def item_with_source(conn: AsyncConnection, item_id: int) -> Any | None:
    """One item with its source's name (the item page)."""
    query = (
        select(items, sources.c.name.label("source_name"))
        .select_from(items.outerjoin(sources, sources.c.id == items.c.source_id))
        .where(items.c.id == item_id)
    )
    return (await conn.execute(query)).first()


async def add_item_corrections(
    conn: AsyncConnection, rows: Sequence[tuple[int, int | None, str, Any, Any, str, datetime]]
) -> None:
    """Record (item id, incident id, field, old, new, actor, at) corrections of the classifier's
    output for one item (`monitor retrain` learns from the item's own text)."""
    if rows:
        await conn.execute(
            insert(corrections),
            [
                {
                    "item_id": item_id,
                    "incident_id": incident_id,
                    "field": f,
                    "old_value": None if old is None else str(old),
                    "new_value": None if new is None else str(new),
                    "actor": actor,
                    "at": at,
                }
                for item_id, incident_id, f, old, new, actor, at in rows
            ],
        )
