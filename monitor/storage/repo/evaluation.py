"""Reads for 效果评估 and 归档: item volume, the latest evaluation and the archiving of incidents.

Payload keys of evaluation_recorded are read by `monitor.domain.evaluation.from_payload` (the one
place that knows them); archived carries `reason`. Lists are read in a few statements per batch of
incident ids, never one per incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import EventKind, IncidentStatus
from monitor.domain.evaluation import Evaluation, from_payload
from monitor.storage.schema import incident_events, incident_items, incidents, items

CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Archived:
    at: datetime
    by: str
    reason: str


def _id_filters(column: Any, ids: Iterable[int]) -> list[Any]:
    """WHERE clauses covering `ids`: one range when they are dense (a month's incidents mostly have
    consecutive ids; the (kind, incident_id) index serves it), else IN lists of CHUNK."""
    unique = sorted(set(ids))
    if not unique:
        return []
    if unique[-1] - unique[0] < 2 * len(unique):
        return [column.between(unique[0], unique[-1])]
    return [column.in_(unique[i : i + CHUNK]) for i in range(0, len(unique), CHUNK)]


async def item_times(conn: AsyncConnection, incident_id: int) -> list[datetime]:
    """When each of the incident's items was published (fetched, when it carries no date)."""
    i, ii = items.c, incident_items.c
    query = (
        select(func.coalesce(i.published_at, i.fetched_at))
        .select_from(incident_items.join(items, i.id == ii.item_id))
        .where(ii.incident_id == incident_id)
    )
    return [t for (t,) in await conn.execute(query) if t is not None]


async def evaluations_for(
    conn: AsyncConnection, ids: Sequence[int], cutoff: datetime | None = None
) -> dict[int, Evaluation]:
    """incident id -> its latest evaluation recorded by the cut-off (none: not evaluated)."""
    e = incident_events.c
    found: dict[int, Evaluation] = {}
    wanted = set(ids)
    for where in _id_filters(e.incident_id, wanted):
        query = select(e.incident_id, e.at, e.actor, e.payload).where(
            where, e.kind == EventKind.EVALUATION_RECORDED.value
        )
        if cutoff is not None:
            query = query.where(e.recorded_at <= cutoff)
        for incident_id, at, actor, payload in await conn.execute(query.order_by(e.incident_id, e.seq)):
            evaluation = from_payload(payload or {}, at, actor) if incident_id in wanted else None
            if evaluation is not None:
                found[incident_id] = evaluation  # in log order: the last one wins
    return found


async def archived_for(
    conn: AsyncConnection, ids: Sequence[int], cutoff: datetime | None = None
) -> dict[int, Archived]:
    """incident id -> when and by whom it was archived (archiving is final: at most one event)."""
    e = incident_events.c
    found: dict[int, Archived] = {}
    wanted = set(ids)
    for where in _id_filters(e.incident_id, wanted):
        query = select(e.incident_id, e.at, e.actor, e.payload).where(where, e.kind == EventKind.ARCHIVED.value)
        if cutoff is not None:
            query = query.where(e.recorded_at <= cutoff)
        for incident_id, at, actor, payload in await conn.execute(query):
            if incident_id in wanted:
                found[incident_id] = Archived(at, actor, str((payload or {}).get("reason") or ""))
    return found


async def closed_before(conn: AsyncConnection, before: datetime) -> list[int]:
    """Ids of incidents closed (办结, not yet archived) before `before`, oldest first."""
    c = incidents.c
    query = (
        select(c.id)
        .where(c.status == IncidentStatus.CLOSED.value, c.closed_at.is_not(None), c.closed_at < before)
        .order_by(c.closed_at, c.id)
    )
    return [r for (r,) in await conn.execute(query)]
