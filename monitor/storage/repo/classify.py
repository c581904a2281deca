"""Classification of items: the pending queue, batch writes, corrections for retraining, and the
spread figures the incident-level 舆情 grade is computed from (docs/contracts.md §1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.schema import corrections, incident_items, incidents, items

# Columns the classify adapter fills (docs/contracts.md §1).
CLASSIFICATION_COLUMNS = (
    "relevant",
    "relevance_score",
    "event_type",
    "event_level",
    "opinion_level",
    "department",
    "region",
    "classification",
    "classified_at",
    "model_version",
)
_CHUNK = 500  # stay under SQLite's bound-parameter limit


async def pending_items(conn: AsyncConnection, limit: int) -> list[Any]:
    """The oldest items waiting for classification (``classified_at IS NULL``), oldest first."""
    query = (
        select(
            items.c.id,
            items.c.title,
            items.c.text,
            items.c.text_norm,
            items.c.media_tier,
            items.c.published_at,
            items.c.warnings,
        )
        .where(items.c.classified_at.is_(None))
        .order_by(items.c.id)
        .limit(limit)
    )
    return list(await conn.execute(query))


async def save_classifications(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write one batch of results in ONE executemany UPDATE. Each row has ``item_id`` and every
    column of CLASSIFICATION_COLUMNS. An item another worker classified meanwhile is left alone."""
    if not rows:
        return
    statement = (
        update(items)
        .where(items.c.id == bindparam("item_id"))
        .where(items.c.classified_at.is_(None))
        .values({name: bindparam(f"v_{name}") for name in CLASSIFICATION_COLUMNS})
    )
    params = [{"item_id": r["item_id"], **{f"v_{n}": r[n] for n in CLASSIFICATION_COLUMNS}} for r in rows]
    await conn.execute(statement, params)


async def correction_rows(conn: AsyncConnection) -> list[Any]:
    """Every correction with the text of each item it applies to: the item it names, or, for a
    correction of a whole incident (no item id), every item attached to that incident."""
    fields = (corrections.c.id, corrections.c.field, corrections.c.new_value, corrections.c.at)
    texts = (items.c.id.label("item_id"), items.c.title, items.c.text, items.c.text_norm)
    by_item = select(*fields, *texts).join(items, items.c.id == corrections.c.item_id)
    by_incident = (
        select(*fields, *texts)
        .join(incident_items, incident_items.c.incident_id == corrections.c.incident_id)
        .join(items, items.c.id == incident_items.c.item_id)
        .where(corrections.c.item_id.is_(None))
    )
    combined = union_all(by_item, by_incident).subquery()
    return list(await conn.execute(select(combined).order_by(combined.c.at, combined.c.id, combined.c.item_id)))


async def mark_corrections_used(conn: AsyncConnection, correction_ids: Sequence[int], model_version: str) -> None:
    """Record which model version folded these corrections in."""
    ids = sorted(set(correction_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        await conn.execute(update(corrections).where(corrections.c.id.in_(chunk)).values(used_in_model=model_version))


async def incident_spread(conn: AsyncConnection, incident_ids: Sequence[int], since: datetime) -> dict[int, Any]:
    """Per incident: event level, media tiers, source count, items published since ``since``
    (velocity) and the classifier's sensitivity flags of its items. Two queries."""
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    at = func.coalesce(items.c.published_at, items.c.fetched_at)
    recent = (
        select(incident_items.c.incident_id, func.count().label("n"))
        .join(items, items.c.id == incident_items.c.item_id)
        .where(incident_items.c.incident_id.in_(ids))
        .where(at >= since)
        .group_by(incident_items.c.incident_id)
        .subquery()
    )
    columns = (incidents.c.id, incidents.c.event_level, incidents.c.media_tiers, incidents.c.source_count)
    stats_query = (
        select(*columns, func.coalesce(recent.c.n, 0).label("recent_items"))
        .outerjoin(recent, recent.c.incident_id == incidents.c.id)
        .where(incidents.c.id.in_(ids))
    )
    out = {row.id: {**row._asdict(), "flags": set()} for row in await conn.execute(stats_query)}
    flags_query = (
        select(incident_items.c.incident_id, items.c.classification["flags"].label("flags"))
        .join(items, items.c.id == incident_items.c.item_id)
        .where(incident_items.c.incident_id.in_(ids))
        .where(items.c.classification.is_not(None))
    )
    for row in await conn.execute(flags_query):
        if isinstance(row.flags, list):
            out[row.incident_id]["flags"].update(str(f) for f in row.flags)
    return out
