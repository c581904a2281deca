"""Incidents, their items and their append-only timeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import (
    EventKind,
    EventLevel,
    EventType,
    Incident,
    IncidentEvent,
    IncidentStatus,
    MediaTier,
    MediaType,
    OpinionLevel,
)
from monitor.storage.db import multirow
from monitor.storage.schema import incident_events, incident_items, incidents

_OPEN = [s.value for s in IncidentStatus if s.is_open]
_ID_CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit


def incident_row(incident: Incident) -> dict[str, Any]:
    return {
        "external_ref": incident.external_ref,
        "title": incident.title,
        "summary": incident.summary,
        "status": incident.status.value,
        "event_type": incident.event_type and incident.event_type.value,
        "event_level": incident.event_level and incident.event_level.value,
        "opinion_level": incident.opinion_level and incident.opinion_level.value,
        "requires_response": incident.requires_response,
        "owner_unit": incident.owner_unit,
        "lead_unit": incident.lead_unit,
        "co_units": list(incident.co_units),
        "region": incident.region,
        "multi_region": incident.multi_region,
        "vertical_managed": incident.vertical_managed,
        "media_tiers": [t.value for t in incident.media_tiers],
        "item_count": incident.item_count,
        "source_count": incident.source_count,
        "detected_at": incident.detected_at,
        "occurred_at": incident.occurred_at,
        "first_published_at": incident.first_published_at,
        "closed_at": incident.closed_at,
        "assigned_at": incident.assigned_at,
        "accepted_at": incident.accepted_at,
        "returned_reason": incident.returned_reason,
        "media_type": incident.media_type and incident.media_type.value,
        "generation": incident.generation,
    }


def incident_from_row(row: Any) -> Incident:
    return Incident(
        id=row.id,
        external_ref=row.external_ref,
        title=row.title,
        summary=row.summary,
        status=IncidentStatus(row.status),
        event_type=EventType(row.event_type) if row.event_type else None,
        event_level=EventLevel(row.event_level) if row.event_level else None,
        opinion_level=OpinionLevel(row.opinion_level) if row.opinion_level else None,
        requires_response=row.requires_response,
        owner_unit=row.owner_unit,
        lead_unit=row.lead_unit,
        co_units=tuple(row.co_units or ()),
        region=row.region,
        multi_region=row.multi_region,
        vertical_managed=row.vertical_managed,
        media_tiers=tuple(MediaTier(t) for t in row.media_tiers or ()),
        item_count=row.item_count,
        source_count=row.source_count,
        detected_at=row.detected_at,
        occurred_at=row.occurred_at,
        first_published_at=row.first_published_at,
        closed_at=row.closed_at,
        assigned_at=row.assigned_at,
        accepted_at=row.accepted_at,
        returned_reason=row.returned_reason,
        media_type=MediaType(row.media_type) if row.media_type else None,
        generation=row.generation,
    )


async def create_incidents(
    conn: AsyncConnection, new: Sequence[Incident], now: datetime, actor: str = "system"
) -> list[int]:
    """Insert incidents and their DETECTED events; returns the new ids in order."""
    if not new:
        return []
    rows = [{**incident_row(incident), "created_at": now, "updated_at": now} for incident in new]
    result = await conn.execute(insert(incidents).returning(incidents.c.id, sort_by_parameter_order=True), rows)
    ids = [r[0] for r in result]
    await append_events(
        conn,
        [
            IncidentEvent(i, EventKind.DETECTED, inc.detected_at, actor, {"title": inc.title})
            for i, inc in zip(ids, new, strict=True)
        ],
        now,
    )
    return ids


async def save_incident(conn: AsyncConnection, incident: Incident, now: datetime) -> None:
    if incident.id is None:
        raise ValueError("save_incident needs an incident with an id; use create_incidents for new ones")
    row = {**incident_row(incident), "updated_at": now}
    await conn.execute(update(incidents).where(incidents.c.id == incident.id).values(**row))


async def set_requires_response(conn: AsyncConnection, incident_id: int, value: bool, now: datetime) -> None:
    """Store 是否需要回应 as derived at confirmation (reports count by it)."""
    query = update(incidents).where(incidents.c.id == incident_id)
    await conn.execute(query.values(requires_response=value, updated_at=now))


async def get_incident(conn: AsyncConnection, incident_id: int, *, for_update: bool = False) -> Incident | None:
    query = select(incidents).where(incidents.c.id == incident_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return incident_from_row(row) if row else None


async def list_incidents(conn: AsyncConnection, *, open_only: bool = True, limit: int = 200) -> list[Incident]:
    query = select(incidents)
    if open_only:
        query = query.where(incidents.c.status.in_(_OPEN))
    query = query.order_by(incidents.c.next_due_at.asc().nulls_last(), incidents.c.detected_at.desc()).limit(limit)
    return [incident_from_row(r) for r in await conn.execute(query)]


async def append_events(
    conn: AsyncConnection,
    events: Sequence[IncidentEvent],
    now: datetime,
    *,
    return_ids: bool = True,
    last_seq: Mapping[int, int] | None = None,
) -> list[int]:
    """Append timeline events, numbering them per incident; returns their ids in the given order.

    The ids come back from a batched INSERT … RETURNING (id, incident_id, seq) and are put in
    order through the unique (incident_id, seq) key. RETURNING with `sort_by_parameter_order`
    would do the same, but SQLite has no INSERT form that ties new rowids to the parameter
    order, so SQLAlchemy degrades that to one INSERT per row (measured: 500 statements for 500
    events). `return_ids=False` (hot paths) is one plain executemany.

    Callers writing to an incident concurrently must hold its row lock (PostgreSQL) or a
    write transaction (SQLite); the (incident_id, seq) unique key rejects any race.
    `last_seq`: the last seq of incidents whose timeline the caller read under that lock (not
    read again); incidents missing from it are looked up.
    """
    if not events:
        return []
    rows = await _numbered(conn, events, now, last_seq or {})
    if not return_ids:
        await conn.execute(multirow(conn, insert(incident_events), incident_events), rows)
        return []
    e = incident_events.c
    inserted = await conn.execute(insert(incident_events).returning(e.id, e.incident_id, e.seq), rows)
    by_key = {(r[1], r[2]): r[0] for r in inserted}
    return [by_key[(row["incident_id"], row["seq"])] for row in rows]


async def _numbered(
    conn: AsyncConnection, events: Sequence[IncidentEvent], now: datetime, last_seq: Mapping[int, int]
) -> list[dict[str, Any]]:
    """Insert rows for `events`, each numbered after the last event of its incident."""
    incident_ids = sorted({e.incident_id for e in events} - set(last_seq))
    next_seq: dict[int, int] = {i: last_seq[i] for i in {e.incident_id for e in events} & set(last_seq)}
    for start in range(0, len(incident_ids), _ID_CHUNK):
        result = await conn.execute(
            select(incident_events.c.incident_id, func.max(incident_events.c.seq))
            .where(incident_events.c.incident_id.in_(incident_ids[start : start + _ID_CHUNK]))
            .group_by(incident_events.c.incident_id)
        )
        next_seq.update({row[0]: row[1] for row in result})
    rows = []
    for event in events:
        seq = next_seq.get(event.incident_id, 0) + 1
        next_seq[event.incident_id] = seq
        rows.append(
            {
                "incident_id": event.incident_id,
                "seq": seq,
                "kind": event.kind.value,
                "at": event.at,
                "recorded_at": now,
                "actor": event.actor,
                "payload": event.payload,
            }
        )
    return rows


async def list_events(conn: AsyncConnection, incident_id: int) -> list[IncidentEvent]:
    query = select(incident_events).where(incident_events.c.incident_id == incident_id).order_by(incident_events.c.seq)
    return [
        IncidentEvent(
            id=r.id,
            incident_id=r.incident_id,
            seq=r.seq,
            kind=EventKind(r.kind),
            at=r.at,
            recorded_at=r.recorded_at,
            actor=r.actor,
            payload=dict(r.payload or {}),
        )
        for r in await conn.execute(query)
    ]


async def attach_items(
    conn: AsyncConnection, incident_id: int, item_ids: Sequence[int], now: datetime, reason: dict[str, Any]
) -> None:
    if item_ids:
        await conn.execute(
            insert(incident_items),
            [{"incident_id": incident_id, "item_id": i, "attached_at": now, "reason": reason} for i in item_ids],
        )


async def open_incidents_changed_since(conn: AsyncConnection, since: datetime, limit: int = 2000) -> list[Incident]:
    """Open incidents whose row changed at or after `since` (e.g. items attached in this pass)."""
    query = (
        select(incidents)
        .where(incidents.c.status.in_(_OPEN), incidents.c.updated_at >= since)
        .order_by(incidents.c.id)
        .limit(limit)
    )
    return [incident_from_row(r) for r in await conn.execute(query)]
