"""Which incidents wait for a 市民来信/12345 答复时限 (the queue's 「待定答复时限」 badge).

Two statements for any number of incidents: their 12345/信箱 items, then the events that settle
the prompt (a citizen rule attached, or the prompt dismissed). The rule is monitor.domain.citizen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import EventKind, IncidentStatus
from monitor.domain.citizen import CITIZEN_MEDIA, CITIZEN_RULES, is_citizen_media
from monitor.storage.schema import incident_events, incident_items, items

_SETTLING = (EventKind.RULE_ATTACHED.value, EventKind.CITIZEN_PROMPT_DISMISSED.value)


async def citizen_deadline_pending(conn: AsyncConnection, rows: Sequence[Any]) -> set[int]:
    """Ids among `rows` (incident rows with id, status, item_count, media_type) still awaiting the choice."""
    open_rows = [r for r in rows if IncidentStatus(r.status).is_open]
    if not open_rows:
        return set()
    ii, citizen = incident_items, [m.value for m in CITIZEN_MEDIA]
    query = (
        select(ii.c.incident_id)
        .distinct()
        .select_from(ii.join(items, items.c.id == ii.c.item_id))
        .where(ii.c.incident_id.in_([r.id for r in open_rows]), items.c.media_type.in_(citizen))
    )
    found = {int(i) for (i,) in await conn.execute(query)}
    found |= {r.id for r in open_rows if not r.item_count and is_citizen_media(r.media_type)}  # imported 信箱 rows
    if not found:
        return set()
    e = incident_events
    settled_query = select(e.c.incident_id, e.c.kind, e.c.payload).where(
        e.c.incident_id.in_(sorted(found)), e.c.kind.in_(_SETTLING)
    )
    for incident_id, kind, payload in await conn.execute(settled_query):
        if kind == EventKind.CITIZEN_PROMPT_DISMISSED.value or (payload or {}).get("rule") in CITIZEN_RULES:
            found.discard(int(incident_id))
    return found
