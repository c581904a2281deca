"""Every database read the monthly report makes, returning the plain rows of `monitor.domain.reporting`.

This is the only module that knows which columns and which timeline payload keys a report
depends on (README "Reports → what the report reads"). Incidents and deadlines are streamed in
batches; the detail lists are read per batch of incident ids, never one query per incident.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import EventKind, IncidentEvent
from monitor.domain.commitments import COMMITMENT_RULE_ID, CommitmentRecord, commitments_of
from monitor.domain.reporting import (
    CommitmentFacts,
    CorrectionFacts,
    EscalationFacts,
    IncidentFacts,
    ObligationFacts,
    ObligationTally,
    PauseFacts,
    RegradeFacts,
    TimelineFacts,
)
from monitor.storage.db import insert_ignore
from monitor.storage.repo.engine import met_by_ref
from monitor.storage.repo.report_payloads import (
    escalation_from,
    fold_pauses,
    fold_regrades,
    published_time,
    timeline_from,
)
from monitor.storage.schema import corrections, incident_events, incident_items, incidents, items, obligations, outbox

BATCH = 5000
CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit

TIMELINE_KINDS = tuple(
    k.value
    for k in (
        EventKind.DETECTED, EventKind.CONFIRMED, EventKind.GRADED, EventKind.REGRADED, EventKind.ASSIGNED,
        EventKind.REASSIGNED, EventKind.ACCEPTED, EventKind.RETURNED, EventKind.RESPONSE_RECORDED,
        EventKind.REPORT_RECORDED,
        EventKind.PAUSE_REQUESTED, EventKind.PAUSE_APPROVED, EventKind.PAUSE_REJECTED,
        EventKind.OBLIGATION_BREACHED, EventKind.ESCALATED, EventKind.CLOSED, EventKind.REOPENED,
        EventKind.MERGED, EventKind.DISMISSED, EventKind.EVALUATION_RECORDED, EventKind.ARCHIVED,
    )
)  # fmt: skip
LEVEL_KINDS = ("classified", "confirmed", "graded", "regraded")
PAUSE_KINDS = (EventKind.PAUSE_REQUESTED.value, EventKind.PAUSE_APPROVED.value, EventKind.PAUSE_REJECTED.value)


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + CHUNK] for i in range(0, len(unique), CHUNK)]


def _month_incidents(start: datetime, end: datetime, cutoff: datetime, unit: str | None) -> Any:
    condition = and_(
        incidents.c.detected_at >= start,
        incidents.c.detected_at < end,
        incidents.c.detected_at <= cutoff,
        incidents.c.created_at <= cutoff,
    )
    return and_(condition, incidents.c.owner_unit == unit) if unit else condition


async def stream_incidents(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> AsyncIterator[list[IncidentFacts]]:
    """Incidents detected in [start, end), known at the cut-off, with their first response."""
    c = incidents.c
    query = (
        select(c.id, c.title, c.detected_at, c.status, c.event_level, c.opinion_level, c.event_type,
               c.owner_unit, c.region, c.requires_response, c.item_count,
               c.assigned_at, c.accepted_at, c.returned_reason, c.media_type)
        .where(_month_incidents(start, end, cutoff, unit))
        .order_by(c.id)  # consecutive ids per batch: their responses come in one range query
    )  # fmt: skip
    result = await conn.stream(query.execution_options(yield_per=BATCH))
    async for partition in result.partitions(BATCH):
        ids = [r[0] for r in partition]
        responses = await _first_responses(conn, ids, cutoff)
        media_types = await _first_media_types(conn, ids, cutoff)
        none = (None, 0)
        yield [_incident_facts(r, responses.get(r[0], none), media_types.get(r[0]), cutoff) for r in partition]


def _incident_facts(
    r: Any, response: tuple[datetime | None, int], media_type: str | None, cutoff: datetime
) -> IncidentFacts:
    """By position (faster than by name): the select's 11 incident columns, the first response, 交办/认领/退回,
    and the first item's media type (else the incident's own, from an imported ledger)."""
    return IncidentFacts(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], response[0], response[1],
        _known(r[11], cutoff), _known(r[12], cutoff), r[13], media_type or r[14],
    )  # fmt: skip


def _known(at: datetime | None, cutoff: datetime) -> datetime | None:
    """A time of the incident row as known at the cut-off (a later 交办/认领 is not yet known)."""
    return at if at is not None and at <= cutoff else None


async def _first_responses(
    conn: AsyncConnection, ids: Sequence[int], cutoff: datetime
) -> dict[int, tuple[datetime | None, int]]:
    """incident id -> (earliest publication of a response known at the cut-off, how many responses)."""
    e = incident_events.c
    low, high = min(ids), max(ids)
    dense = high - low < 2 * len(ids)  # ids detected together are mostly consecutive: one range query
    first: dict[int, tuple[datetime | None, int]] = {}
    for chunk in [list(ids)] if dense else _chunks(ids):
        where = e.incident_id.between(min(chunk), max(chunk)) if dense else e.incident_id.in_(chunk)
        query = select(e.incident_id, e.at, e.payload["published_at"].as_string()).where(
            where, e.kind == EventKind.RESPONSE_RECORDED.value, e.recorded_at <= cutoff
        )
        for incident_id, at, published_text in await conn.execute(query):
            published = published_time(published_text, at)
            if published > cutoff:
                continue
            earliest, count = first.get(incident_id, (None, 0))
            first[incident_id] = (published if earliest is None or published < earliest else earliest, count + 1)
    return first


async def _first_media_types(conn: AsyncConnection, ids: Sequence[int], cutoff: datetime) -> dict[int, str]:
    """incident id -> media type of its earliest published item attached by the cut-off (as the ledger's
    来源: the earliest fetched when none has a date); incidents whose first item has none are left out."""
    ii, i = incident_items.c, items.c
    rank = func.row_number().over(
        partition_by=ii.incident_id, order_by=(i.published_at.asc().nulls_last(), i.fetched_at, i.id)
    )
    low, high = min(ids), max(ids)
    dense = high - low < 2 * len(ids)
    found: dict[int, str] = {}
    for chunk in [list(ids)] if dense else _chunks(ids):
        where = ii.incident_id.between(min(chunk), max(chunk)) if dense else ii.incident_id.in_(chunk)
        ranked = (
            select(ii.incident_id, i.media_type, rank.label("rank"))
            .select_from(incident_items.join(items, i.id == ii.item_id))
            .where(where, ii.attached_at <= cutoff)
            .subquery()
        )
        query = select(ranked.c.incident_id, ranked.c.media_type).where(ranked.c.rank == 1)
        found.update({incident_id: media_type for incident_id, media_type in await conn.execute(query) if media_type})
    return found


def _outcome(cutoff: datetime) -> Any:
    """A deadline's outcome as at the cut-off, in SQL (README "统计口径"):
    met (not after the cut-off) on time or late; else breached once due; else paused or pending."""
    o = obligations.c
    met = and_(o.met_at.is_not(None), o.met_at <= cutoff)
    return case(
        (o.status == "cancelled", literal("cancelled")),
        (and_(met, o.met_at <= o.due_at), literal("met_on_time")),
        (met, literal("met_late")),
        (o.due_at <= cutoff, literal("breached")),
        (o.status == "paused", literal("paused")),
        else_=literal("pending"),
    )


def _due_in(start: datetime, end: datetime, cutoff: datetime) -> Any:
    """Response deadlines due in [start, end) known at the cut-off (承诺兑现 is counted apart: `commitments_due`)."""
    o = obligations.c
    return and_(o.due_at >= start, o.due_at < end, o.created_at <= cutoff, o.rule_id != COMMITMENT_RULE_ID)


async def commitments_due(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> list[CommitmentFacts]:
    """承诺事项 due in [start, end), known at the cut-off, with their fulfilment recorded by then.

    The obligations table says which commitments fall due in the month; the text and the fulfilment
    come from the timeline (response_recorded `commitments`, commitment_fulfilled), read as of the cut-off."""
    o, i = obligations.c, incidents.c
    query = (
        select(o.incident_id, o.instance, o.due_at, i.title, i.owner_unit)
        .join(incidents, i.id == o.incident_id)
        .where(o.rule_id == COMMITMENT_RULE_ID, o.due_at >= start, o.due_at < end, o.created_at <= cutoff)
        .order_by(o.due_at, o.incident_id, o.instance)
    )
    if unit:
        query = query.where(i.owner_unit == unit)
    due = list(await conn.execute(query))
    records = await _commitment_records(conn, {r[0] for r in due}, cutoff)
    found = []
    for incident_id, number, due_at, title, owner in due:
        record = records.get((incident_id, number))
        if record is None:
            continue
        fulfilled = record.fulfilled_at if record.fulfilled_at and record.fulfilled_at <= cutoff else None
        url = record.disclosed_url if fulfilled else None
        found.append(CommitmentFacts(incident_id, title, owner, number, record.text, due_at, fulfilled, url))
    return found


async def _commitment_records(
    conn: AsyncConnection, ids: Iterable[int], cutoff: datetime
) -> dict[tuple[int, int], CommitmentRecord]:
    e = incident_events.c
    kinds = (EventKind.RESPONSE_RECORDED.value, EventKind.COMMITMENT_FULFILLED.value)
    events: dict[int, list[IncidentEvent]] = {}
    for chunk in _chunks(ids):
        query = (
            select(e.incident_id, e.seq, e.kind, e.at, e.actor, e.payload)
            .where(e.incident_id.in_(chunk), e.kind.in_(kinds), e.recorded_at <= cutoff)
            .order_by(e.incident_id, e.seq)
        )
        for incident_id, seq, kind, at, actor, payload in await conn.execute(query):
            event = IncidentEvent(incident_id, EventKind(kind), at, actor, payload or {}, seq)
            events.setdefault(incident_id, []).append(event)
    return {(iid, r.number): r for iid, evs in events.items() for r in commitments_of(evs)}


async def obligation_tallies(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> list[ObligationTally]:
    """Deadlines due in [start, end) that existed at the cut-off, counted by rule, unit and outcome."""
    outcome = _outcome(cutoff).label("outcome")
    query: Select[Any] = (
        select(obligations.c.rule_id, incidents.c.owner_unit, outcome, func.count())
        .join(incidents, incidents.c.id == obligations.c.incident_id)
        .where(_due_in(start, end, cutoff))
        .group_by(obligations.c.rule_id, incidents.c.owner_unit, outcome)
    )
    if unit:
        query = query.where(incidents.c.owner_unit == unit)
    return [ObligationTally(r[0], r[1], r[2], r[3]) for r in await conn.execute(query)]


async def stream_obligations(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    cutoff: datetime,
    unit: str | None = None,
    *,
    missed_only: bool = True,
) -> AsyncIterator[list[ObligationFacts]]:
    """Deadlines due in [start, end) with their outcome and incident; only the missed ones by default."""
    o, i = obligations.c, incidents.c
    outcome = _outcome(cutoff)
    query: Select[Any] = (
        select(o.id, o.incident_id, o.rule_id, o.instance, o.due_at, o.status, o.met_at, o.met_by,
               i.owner_unit, i.event_level, i.opinion_level, i.title, outcome)
        .join(incidents, incidents.c.id == o.incident_id)
        .where(_due_in(start, end, cutoff))
    )  # fmt: skip
    if missed_only:
        query = query.where(outcome.in_(("met_late", "breached")))
    if unit:
        query = query.where(i.owner_unit == unit)
    result = await conn.stream(query.execution_options(yield_per=BATCH))
    async for partition in result.partitions(BATCH):
        yield [
            ObligationFacts(r[0], r[1], r[2], r[3], r[4], r[5], r[6], met_by_ref(r[7]), r[8], r[9], r[10], r[11], r[12])
            for r in partition  # by position, in the select's order (faster than by name)
        ]


async def escalations_for(
    conn: AsyncConnection, incident_ids: Iterable[int], cutoff: datetime
) -> list[EscalationFacts]:
    """ESCALATED timeline events of these incidents, with the first delivery the outbox recorded."""
    found: list[EscalationFacts] = []
    e = incident_events.c
    for chunk in _chunks(incident_ids):
        delivered = await _deliveries(conn, chunk)
        query = (
            select(e.incident_id, e.at, e.payload)
            .where(e.incident_id.in_(chunk), e.kind == EventKind.ESCALATED.value, e.recorded_at <= cutoff)
            .order_by(e.incident_id, e.seq)
        )
        for row in await conn.execute(query):
            found.append(escalation_from(row.incident_id, row.at, row.payload or {}, delivered))
    return found


async def _deliveries(conn: AsyncConnection, chunk: Sequence[int]) -> dict[tuple[int, str, str], datetime]:
    """(incident id, rule id, step) -> earliest sent_at of the outbox rows of that alert."""
    q = select(outbox.c.incident_id, outbox.c.payload, outbox.c.sent_at).where(
        outbox.c.incident_id.in_(chunk), outbox.c.sent_at.is_not(None)
    )
    first: dict[tuple[int, str, str], datetime] = {}
    for row in await conn.execute(q):
        payload = row.payload or {}
        key = (row.incident_id, str((payload.get("rule") or {}).get("id") or ""), str(payload.get("step") or ""))
        if key not in first or row.sent_at < first[key]:
            first[key] = row.sent_at
    return first


async def pauses_in(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> list[PauseFacts]:
    """Pause requests made in [start, end) and what became of them by the cut-off."""
    rows = await _timelines_with(conn, EventKind.PAUSE_REQUESTED, PAUSE_KINDS, start, end, cutoff, unit)
    return [p for p in fold_pauses(rows) if start <= p.requested_at < end]


async def regrades_in(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> list[RegradeFacts]:
    """Re-grades made in [start, end), with the levels before and after."""
    rows = await _timelines_with(conn, EventKind.REGRADED, LEVEL_KINDS, start, end, cutoff, unit)
    return [r for r in fold_regrades(rows) if start <= r.at < end]


async def _timelines_with(
    conn: AsyncConnection,
    marker: EventKind,
    kinds: Iterable[str],
    start: datetime,
    end: datetime,
    cutoff: datetime,
    unit: str | None,
) -> list[tuple[Any, ...]]:
    """(incident_id, seq, kind, at, actor, payload) of the `kinds` events known at the cut-off, in
    timeline order, of the incidents (of `unit`, if given) with a `marker` event in [start, end)."""
    e = incident_events.c
    marked = select(e.incident_id).where(e.kind == marker.value, e.at >= start, e.at < end, e.recorded_at <= cutoff)
    if unit:
        marked = marked.join(incidents, incidents.c.id == e.incident_id).where(incidents.c.owner_unit == unit)
    query = (
        select(e.incident_id, e.seq, e.kind, e.at, e.actor, e.payload)
        .where(e.incident_id.in_(marked), e.kind.in_(list(kinds)), e.recorded_at <= cutoff)
        .order_by(e.incident_id, e.seq)
    )
    return [(r.incident_id, r.seq, r.kind, r.at, r.actor, r.payload or {}) for r in await conn.execute(query)]


async def corrections_in(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> list[CorrectionFacts]:
    c = corrections.c
    query: Select[Any] = select(c.incident_id, c.item_id, c.field, c.old_value, c.new_value, c.actor, c.at).where(
        c.at >= start, c.at < end, c.at <= cutoff
    )
    if unit:
        query = query.join(incidents, incidents.c.id == c.incident_id).where(incidents.c.owner_unit == unit)
    rows = await conn.execute(query.order_by(c.at, c.id))
    return [CorrectionFacts(r.incident_id, r.item_id, r.field, r.old_value, r.new_value, r.actor, r.at) for r in rows]


async def timelines_for(
    conn: AsyncConnection, incident_ids: Iterable[int], cutoff: datetime
) -> dict[int, list[TimelineFacts]]:
    e = incident_events.c
    found: dict[int, list[TimelineFacts]] = {}
    for chunk in _chunks(incident_ids):
        query = (
            select(e.incident_id, e.seq, e.kind, e.at, e.actor, e.payload)
            .where(e.incident_id.in_(chunk), e.kind.in_(TIMELINE_KINDS), e.recorded_at <= cutoff)
            .order_by(e.incident_id, e.seq)
        )
        for r in await conn.execute(query):
            found.setdefault(r.incident_id, []).append(
                timeline_from(r.incident_id, r.seq, r.kind, r.at, r.actor, r.payload or {})
            )
    return found


async def incident_titles(conn: AsyncConnection, incident_ids: Iterable[int]) -> dict[int, str]:
    titles: dict[int, str] = {}
    for chunk in _chunks(incident_ids):
        rows = await conn.execute(select(incidents.c.id, incidents.c.title).where(incidents.c.id.in_(chunk)))
        titles.update({r.id: r.title for r in rows})
    return titles


async def unit_in_data(conn: AsyncConnection, unit: str) -> bool:
    """Whether any incident names `unit` as its owner (for units outside the org directory, e.g. imported)."""
    row = (await conn.execute(select(incidents.c.id).where(incidents.c.owner_unit == unit).limit(1))).first()
    return row is not None


async def existing_outbox_keys(conn: AsyncConnection, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        rows = await conn.execute(select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(chunk)))
        found.update(r.idempotency_key for r in rows)
    return found


async def queue_deliveries(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows; a row whose idempotency key exists is skipped (both databases)."""
    if rows:
        await conn.execute(insert_ignore(conn, outbox, ["idempotency_key"]), list(rows))


async def detected_range(conn: AsyncConnection) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest detection time of any incident (for a month picker)."""
    row = (await conn.execute(select(func.min(incidents.c.detected_at), func.max(incidents.c.detected_at)))).one()
    return row[0], row[1]


@dataclass(frozen=True, slots=True)
class ListedIncident:
    """One line of a drill-down list (the incidents behind a figure of the report)."""

    id: int
    title: str
    detected_at: datetime
    status: str
    event_level: str | None
    opinion_level: str | None
    owner_unit: str | None
    co_units: tuple[str, ...]
    region: str | None
    assigned_at: datetime | None = None  # 交办 (to the current owning unit)
    accepted_at: datetime | None = None  # 认领
    returned_reason: str | None = None  # 退回理由

    @property
    def units(self) -> frozenset[str]:
        return frozenset(u for u in (self.owner_unit, *self.co_units) if u)


async def listed_incidents(conn: AsyncConnection, incident_ids: Iterable[int]) -> list[ListedIncident]:
    """These incidents (in id order) for a list page; a few hundred at a time."""
    c = incidents.c
    found: list[ListedIncident] = []
    for chunk in _chunks(incident_ids):
        query = select(c.id, c.title, c.detected_at, c.status, c.event_level, c.opinion_level, c.owner_unit,
                       c.co_units, c.region, c.assigned_at, c.accepted_at, c.returned_reason
                       ).where(c.id.in_(chunk)).order_by(c.id)  # fmt: skip
        found.extend(ListedIncident(*r[:7], tuple(r[7] or ()), *r[8:]) for r in await conn.execute(query))
    return found


@dataclass(frozen=True, slots=True)
class ListedDeadline:
    """One line of a drill-down list behind a deadline figure: the deadline, its outcome and its incident."""

    id: int
    incident_id: int
    title: str
    rule_id: str
    instance: int
    due_at: datetime
    met_at: datetime | None
    outcome: str  # as at the cut-off (README "统计口径")
    owner_unit: str | None
    co_units: tuple[str, ...]

    @property
    def units(self) -> frozenset[str]:
        return frozenset(u for u in (self.owner_unit, *self.co_units) if u)


async def listed_deadlines(
    conn: AsyncConnection, obligation_ids: Iterable[int], cutoff: datetime
) -> list[ListedDeadline]:
    """These deadlines (in id order) with their outcome at the cut-off, for a list page."""
    o, i = obligations.c, incidents.c
    found: list[ListedDeadline] = []
    for chunk in _chunks(obligation_ids):
        query = (
            select(o.id, o.incident_id, i.title, o.rule_id, o.instance, o.due_at, o.met_at, _outcome(cutoff),
                   i.owner_unit, i.co_units)
            .join(incidents, i.id == o.incident_id)
            .where(o.id.in_(chunk))
            .order_by(o.id)
        )  # fmt: skip
        found.extend(
            ListedDeadline(*r[:6], r[6] if r[6] is not None and r[6] <= cutoff else None, r[7], r[8], tuple(r[9] or ()))
            for r in await conn.execute(query)
        )
    return found
