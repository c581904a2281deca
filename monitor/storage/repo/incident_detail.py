"""Read models of one incident's page: its items with their sources, obligations, evidence."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import EventKind, Obligation
from monitor.storage.repo.engine import obligation_from_row
from monitor.storage.schema import evidence, incident_events, incident_items, incidents, items, obligations, sources


@dataclass(frozen=True, slots=True)
class IncidentItem:
    id: int
    title: str
    url: str
    text: str
    published_at: datetime | None
    fetched_at: datetime
    media_tier: str | None
    media_type: str | None  # MediaType value (None: collected before media types were recorded, no source)
    source_name: str | None
    raw_sha256: str | None
    relevant: bool | None
    relevance_score: float | None
    event_type: str | None
    event_level: str | None
    opinion_level: str | None
    department: str | None
    region: str | None
    classification: dict[str, Any] | None
    model_version: str | None
    attached_at: datetime
    reason: dict[str, Any]


async def incident_items_with_sources(conn: AsyncConnection, incident_id: int) -> list[IncidentItem]:
    i, s, ii = items, sources, incident_items
    query = (
        select(
            i.c.id,
            i.c.title,
            i.c.url,
            i.c.text,
            i.c.published_at,
            i.c.fetched_at,
            i.c.media_tier,
            i.c.media_type,
            s.c.name.label("source_name"),
            i.c.raw_sha256,
            i.c.relevant,
            i.c.relevance_score,
            i.c.event_type,
            i.c.event_level,
            i.c.opinion_level,
            i.c.department,
            i.c.region,
            i.c.classification,
            i.c.model_version,
            ii.c.attached_at,
            ii.c.reason,
        )
        .select_from(ii.join(i, i.c.id == ii.c.item_id).outerjoin(s, s.c.id == i.c.source_id))
        .where(ii.c.incident_id == incident_id)
        .order_by(i.c.published_at.asc().nulls_last(), i.c.id)
    )
    return [_incident_item(r) for r in await conn.execute(query)]


def _incident_item(r: Any) -> IncidentItem:
    return IncidentItem(
        id=r.id,
        title=r.title,
        url=r.url,
        text=r.text,
        published_at=r.published_at,
        fetched_at=r.fetched_at,
        media_tier=r.media_tier,
        media_type=r.media_type,
        source_name=r.source_name,
        raw_sha256=r.raw_sha256,
        relevant=r.relevant,
        relevance_score=r.relevance_score,
        event_type=r.event_type,
        event_level=r.event_level,
        opinion_level=r.opinion_level,
        department=r.department,
        region=r.region,
        classification=dict(r.classification) if isinstance(r.classification, dict) else None,
        model_version=r.model_version,
        attached_at=r.attached_at,
        reason=dict(r.reason or {}),
    )


async def incident_obligations(conn: AsyncConnection, incident_id: int) -> list[Obligation]:
    o = obligations
    query = select(o).where(o.c.incident_id == incident_id).order_by(o.c.due_at, o.c.id)
    return [obligation_from_row(r) for r in await conn.execute(query)]


async def incident_next_due(conn: AsyncConnection, incident_id: int) -> datetime | None:
    row = (await conn.execute(select(incidents.c.next_due_at).where(incidents.c.id == incident_id))).first()
    return row.next_due_at if row else None


async def incident_exists(conn: AsyncConnection, incident_id: int) -> bool:
    return bool((await conn.execute(select(exists().where(incidents.c.id == incident_id)))).scalar())


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    sha256: str
    url: str
    fetched_at: datetime
    content_type: str | None
    encoding: str | None
    body: bytes
    headers: dict[str, Any]


async def incident_evidence(conn: AsyncConnection, incident_id: int, sha256: str) -> EvidenceRecord | None:
    """The stored bytes, only when an item of this incident was parsed from them or a response
    recorded on it names them as its document (`… sha256:<hex>`)."""
    parsed_item = exists().where(
        incident_items.c.incident_id == incident_id,
        incident_items.c.item_id == items.c.id,
        items.c.raw_sha256 == sha256,
    )
    response_document = exists().where(
        incident_events.c.incident_id == incident_id,
        incident_events.c.kind == EventKind.RESPONSE_RECORDED.value,
        cast(incident_events.c.payload, Text).contains(f"sha256:{sha256}"),
    )
    query = select(evidence).where(evidence.c.sha256 == sha256, or_(parsed_item, response_document))
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    body = zlib.decompress(row.body) if row.compression == "zlib" else bytes(row.body)
    headers = dict(row.headers or {})
    return EvidenceRecord(row.sha256, row.url, row.fetched_at, row.content_type, row.encoding, body, headers)
