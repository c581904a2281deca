"""Detect changed incidents by reading new timeline rows (the live views' polling fallback).

`incident_events.id` grows, but on PostgreSQL ids are handed out before commit, so a row with a
smaller id can become visible after a larger one. The cursor therefore remembers the ids it
skipped over ("gaps") and looks for them again for a while: a gap that never fills was a
rolled-back insert. Nothing committed is missed; each poll is one statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.schema import incident_events

GAP_POLLS = 60  # how many polls a skipped id is looked for before it is taken as rolled back
MAX_GAPS = 2000
BATCH = 5000


@dataclass
class ChangeCursor:
    last_id: int = 0
    gaps: dict[int, int] = field(default_factory=dict)  # skipped id -> polls left


async def start_cursor(conn: AsyncConnection) -> ChangeCursor:
    """A cursor positioned after everything already committed (history is not replayed)."""
    last = (await conn.execute(select(func.max(incident_events.c.id)))).scalar_one()
    return ChangeCursor(last_id=int(last or 0))


async def poll_changes(conn: AsyncConnection, cursor: ChangeCursor) -> set[int]:
    """Incident ids with timeline rows committed since the last poll; advances `cursor`."""
    condition = incident_events.c.id > cursor.last_id
    if cursor.gaps:
        condition = or_(condition, incident_events.c.id.in_(sorted(cursor.gaps)))
    query = select(incident_events.c.id, incident_events.c.incident_id).where(condition)
    rows = list(await conn.execute(query.order_by(incident_events.c.id).limit(BATCH)))
    found = {int(r.id) for r in rows}
    _advance(cursor, found)
    return {int(r.incident_id) for r in rows}


def _advance(cursor: ChangeCursor, found: set[int]) -> None:
    for gap in list(cursor.gaps):
        cursor.gaps[gap] -= 1
        if gap in found or cursor.gaps[gap] <= 0:
            del cursor.gaps[gap]
    newer = sorted(i for i in found if i > cursor.last_id)
    if not newer:
        return
    expected = cursor.last_id + 1
    for seen in newer:
        for missing in range(expected, seen):
            if len(cursor.gaps) >= MAX_GAPS:
                break
            cursor.gaps[missing] = GAP_POLLS
        expected = seen + 1
    cursor.last_id = newer[-1]
