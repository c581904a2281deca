"""Every database read of the ledger export (`monitor export-ledger`): one record per incident.

Like `repo.reports`, this is the one place that knows the columns and the timeline payload keys
the export depends on; it returns plain records (an `Incident`, its deadlines, its timeline events
with their payloads read, its first source). Incidents are streamed in batches; each batch's
deadlines, events and sources come in a few statements per batch, never one per incident.

Payload keys read: response_recorded kind, url, document, approved_by, published_at, summary,
spokesperson, channel, commitments [{text, due}]; commitment_fulfilled number, fulfilled_at,
disclosed_url, note; rumor_referred to, referred_at, note;
report_recorded report_kind, channel, signer, reported_at; escalated rule, kind, step;
regraded event_level, opinion_level, from {…}, reason; reassigned from, to, reason;
pause_approved rule, until, reason; closed / reopened reason; supervised level, reason, by, unit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import EventKind, Incident, Obligation
from monitor.domain.evaluation import Evaluation
from monitor.storage.repo.engine import obligation_from_row
from monitor.storage.repo.evaluation import Archived, archived_for, evaluations_for
from monitor.storage.repo.incidents import incident_from_row
from monitor.storage.repo.report_payloads import parse_time, published_time
from monitor.storage.schema import incident_events, incident_items, incidents, items, obligations, sources

BATCH = 1000
CHUNK = 500  # ids per IN (...) list: under SQLite's bound-parameter limit

EVENT_KINDS = tuple(
    k.value
    for k in (
        EventKind.CONFIRMED, EventKind.REGRADED, EventKind.ASSIGNED, EventKind.ACCEPTED, EventKind.REASSIGNED,
        EventKind.RESPONSE_RECORDED, EventKind.REPORT_RECORDED, EventKind.ESCALATED, EventKind.PAUSE_APPROVED,
        EventKind.CLOSED, EventKind.REOPENED, EventKind.SUPERVISED, EventKind.COMMITMENT_FULFILLED,
        EventKind.RUMOR_REFERRED, EventKind.OPENED_BY_HAND, EventKind.REGION_SET,
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LedgerSource:
    """The incident's earliest published item: where the 舆情 was first seen."""

    name: str | None  # the source's name (None: an item without a configured source)
    url: str
    media_tier: str | None  # MediaTier value
    published_at: datetime | None
    media_type: str | None = None  # MediaType value the item was collected with


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One timeline event, its payload read into the fields the ledger shows."""

    kind: str  # EventKind value
    at: datetime  # a response's publication, a report's time, else when the event happened
    actor: str
    rule_id: str | None = None  # escalated, pause_approved
    what: str | None = None  # response kind | report kind | escalation kind
    channel: str | None = None  # report: phone | written
    url: str | None = None
    document: str | None = None
    by: str | None = None  # a response's approver, a report's signer, who signed a 督办
    reason: str | None = None  # reason, or a response's summary
    levels: tuple[str | None, str | None] | None = None  # regraded: (event level, opinion level) after
    levels_before: tuple[str | None, str | None] | None = None  # regraded: before, when the payload says
    unit_from: str | None = None  # reassigned
    unit_to: str | None = None  # reassigned; supervised: the unit pressed
    until: datetime | None = None  # pause_approved
    spokesperson: str | None = None  # response: 发布人
    commitments: tuple[tuple[str, str], ...] = ()  # response: (承诺事项, due date YYYY-MM-DD)
    number: int | None = None  # commitment_fulfilled: the commitment's number
    merged_from: int | None = None  # response / commitment_fulfilled carried over by a merge from this incident


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    incident: Incident
    obligations: tuple[Obligation, ...]  # in due order
    events: tuple[LedgerEvent, ...]  # in timeline order
    source: LedgerSource | None
    evaluation: Evaluation | None = None  # the latest 效果评估 recorded by the cut-off
    archived: Archived | None = None  # 归档, when recorded by the cut-off


def _in_range(start: datetime, end: datetime, cutoff: datetime, unit: str | None) -> Any:
    c = incidents.c
    condition = and_(c.detected_at >= start, c.detected_at < end, c.detected_at <= cutoff, c.created_at <= cutoff)
    return and_(condition, c.owner_unit == unit) if unit else condition


async def stream_ledger(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    cutoff: datetime,
    unit: str | None = None,
    *,
    batch: int = BATCH,
) -> AsyncIterator[list[LedgerRecord]]:
    """Incidents detected in [start, end) known at the cut-off (of `unit`, if given), in the order
    they were detected, `batch` at a time, each with its deadlines, timeline events (recorded by the
    cut-off) and first source."""
    c = incidents.c
    query = select(incidents).where(_in_range(start, end, cutoff, unit)).order_by(c.detected_at, c.id)
    result = await conn.stream(query.execution_options(yield_per=batch))
    async for partition in result.partitions(batch):
        found = [incident_from_row(r) for r in partition]
        ids = [i.id for i in found if i.id is not None]
        obs = await _obligations(conn, ids, cutoff)
        events = await _events(conn, ids, cutoff)
        first = await _first_sources(conn, ids)
        evaluated = await evaluations_for(conn, ids, cutoff)
        archived = await archived_for(conn, ids, cutoff)
        yield [
            LedgerRecord(
                i,
                tuple(obs.get(i.id or 0, ())),
                tuple(events.get(i.id or 0, ())),
                first.get(i.id or 0),
                evaluated.get(i.id or 0),
                archived.get(i.id or 0),
            )
            for i in found
        ]


async def ledger_rule_ids(
    conn: AsyncConnection, start: datetime, end: datetime, cutoff: datetime, unit: str | None = None
) -> list[str]:
    """The rule ids of the deadlines of those incidents (the export's per-rule columns)."""
    o = obligations.c
    query = (
        select(o.rule_id)
        .distinct()
        .join(incidents, incidents.c.id == o.incident_id)
        .where(_in_range(start, end, cutoff, unit), o.created_at <= cutoff)
    )
    return sorted(r[0] for r in await conn.execute(query))


def _id_filters(column: Any, ids: Sequence[int]) -> list[Any]:
    """WHERE clauses covering `ids`: one range when they are dense (incidents detected together
    mostly have consecutive ids), else IN lists of CHUNK."""
    if not ids:
        return []
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return [column.between(low, high)]
    unique = sorted(set(ids))
    return [column.in_(unique[i : i + CHUNK]) for i in range(0, len(unique), CHUNK)]


async def _obligations(conn: AsyncConnection, ids: Sequence[int], cutoff: datetime) -> dict[int, list[Obligation]]:
    found: dict[int, list[Obligation]] = {}
    wanted = set(ids)
    o = obligations.c
    for where in _id_filters(o.incident_id, ids):
        query = select(obligations).where(where, o.created_at <= cutoff).order_by(o.incident_id, o.due_at, o.id)
        for r in await conn.execute(query):
            if r.incident_id in wanted:
                found.setdefault(r.incident_id, []).append(obligation_from_row(r))
    return found


async def _events(conn: AsyncConnection, ids: Sequence[int], cutoff: datetime) -> dict[int, list[LedgerEvent]]:
    found: dict[int, list[LedgerEvent]] = {}
    wanted = set(ids)
    e = incident_events.c
    for where in _id_filters(e.incident_id, ids):
        query = (
            select(e.incident_id, e.kind, e.at, e.actor, e.payload)
            .where(where, e.kind.in_(EVENT_KINDS), e.recorded_at <= cutoff)
            .order_by(e.incident_id, e.seq)
        )
        for incident_id, kind, at, actor, payload in await conn.execute(query):
            if incident_id in wanted:
                found.setdefault(incident_id, []).append(ledger_event(kind, at, actor, payload or {}))
    return found


async def _first_sources(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, LedgerSource]:
    """incident id -> its earliest published item (the earliest fetched when none has a date)."""
    ii, i, s = incident_items.c, items.c, sources.c
    rank = (
        func.row_number()
        .over(partition_by=ii.incident_id, order_by=(i.published_at.asc().nulls_last(), i.fetched_at, i.id))
        .label("rank")
    )
    found: dict[int, LedgerSource] = {}
    for where in _id_filters(ii.incident_id, ids):
        ranked = (
            select(ii.incident_id, s.name, i.url, i.media_tier, i.published_at, i.media_type, rank)
            .select_from(incident_items.join(items, i.id == ii.item_id).outerjoin(sources, s.id == i.source_id))
            .where(where)
            .subquery()
        )
        query = select(ranked.c.incident_id, ranked.c.name, ranked.c.url, ranked.c.media_tier,
                       ranked.c.published_at, ranked.c.media_type).where(ranked.c.rank == 1)  # fmt: skip
        for incident_id, name, url, tier, published, media_type in await conn.execute(query):
            found[incident_id] = LedgerSource(name, url, tier, published, media_type)
    return found


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _rule(payload: Mapping[str, Any]) -> str | None:
    rule = payload.get("rule", payload.get("rule_id"))
    if isinstance(rule, Mapping):
        rule = rule.get("id")
    return _text(rule)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _commitments(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((str(c.get("text") or ""), str(c.get("due") or "")) for c in value if isinstance(c, Mapping))


def _levels(payload: Any) -> tuple[str | None, str | None] | None:
    if not isinstance(payload, Mapping) or not ({"event_level", "opinion_level"} & set(payload)):
        return None
    return _text(payload.get("event_level")), _text(payload.get("opinion_level"))


def ledger_event(kind: str, at: datetime, actor: str, p: Mapping[str, Any]) -> LedgerEvent:
    """A timeline row as the ledger reads it (the one place that knows these payload keys)."""
    if kind == EventKind.RESPONSE_RECORDED:
        return LedgerEvent(
            kind, published_time(p.get("published_at"), at), actor, what=_text(p.get("kind")), url=_text(p.get("url")),
            document=_text(p.get("document")), by=_text(p.get("approved_by")), reason=_text(p.get("summary")),
            channel=_text(p.get("channel")), spokesperson=_text(p.get("spokesperson")),
            commitments=_commitments(p.get("commitments")), merged_from=_int(p.get("merged_from")),
        )  # fmt: skip
    if kind == EventKind.COMMITMENT_FULFILLED:
        return LedgerEvent(
            kind, parse_time(p.get("fulfilled_at"), at) or at, actor, number=_int(p.get("number")),
            url=_text(p.get("disclosed_url")), reason=_text(p.get("note")), merged_from=_int(p.get("merged_from")),
        )  # fmt: skip
    if kind == EventKind.RUMOR_REFERRED:
        return LedgerEvent(
            kind,
            parse_time(p.get("referred_at"), at) or at,
            actor,
            what=_text(p.get("to")),
            reason=_text(p.get("note")),
        )
    if kind == EventKind.REPORT_RECORDED:
        return LedgerEvent(
            kind, parse_time(p.get("reported_at"), at) or at, actor, what=_text(p.get("report_kind")),
            channel=_text(p.get("channel")), by=_text(p.get("signer")),
        )  # fmt: skip
    if kind == EventKind.ESCALATED:
        return LedgerEvent(kind, at, actor, rule_id=_rule(p), what=_text(p.get("kind")) or "escalation")
    if kind == EventKind.REGRADED:
        return LedgerEvent(
            kind, at, actor, reason=_text(p.get("reason")), levels=_levels(p), levels_before=_levels(p.get("from"))
        )
    if kind in (EventKind.REASSIGNED, EventKind.REGION_SET):
        return LedgerEvent(
            kind, at, actor, unit_from=_text(p.get("from")), unit_to=_text(p.get("to")), reason=_text(p.get("reason"))
        )
    if kind == EventKind.SUPERVISED:
        return LedgerEvent(
            kind, at, actor, what=_text(p.get("level")), by=_text(p.get("by")), reason=_text(p.get("reason")),
            unit_to=_text(p.get("unit")),
        )  # fmt: skip
    if kind == EventKind.PAUSE_APPROVED:
        return LedgerEvent(
            kind, at, actor, rule_id=_rule(p), until=parse_time(p.get("until")), reason=_text(p.get("reason"))
        )
    return LedgerEvent(kind, at, actor, reason=_text(p.get("reason")))
