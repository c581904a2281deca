"""Read models of the duty queue: filtered pages of open incidents, trends, and what is due.

A page costs a fixed number of statements (rows, total, counts per level, trends for the page),
whatever the number of incidents: nothing here runs one query per incident.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Text, and_, bindparam, case, column, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from monitor.domain import EventKind, IncidentStatus, ObligationStatus
from monitor.domain.commitments import COMMITMENT_RULE_ID
from monitor.storage.repo.citizen import citizen_deadline_pending
from monitor.storage.schema import incident_events, incident_items, incidents, obligations

OPEN_STATUSES = tuple(s.value for s in IncidentStatus if s.is_open)
# A commitment outlives the 舆情: its obligation stays open (and reminded) after 办结/归档.
_PROMISE_KEPT_OPEN = (IncidentStatus.CLOSED.value, IncidentStatus.ARCHIVED.value)
# Filters the queue offers beside the stored statuses, computed from the obligations at `now` (they are
# not statuses an incident is moved to, so they never fight the main line): the values of the
# IncidentStatus members they stand for, so links and saved views that name them keep working.
DERIVED_OVERDUE = IncidentStatus.OVERDUE.value  # 超期: an unmet obligation past its deadline
DERIVED_ESCALATED = IncidentStatus.ESCALATED.value  # 已升级: … whose ladder reached 分管领导/主要负责人
DERIVED_COMMITMENTS = "commitments"  # 承诺待兑现: an unmet 承诺 obligation, also of a closed/archived incident
DERIVED_FILTERS = (DERIVED_OVERDUE, DERIVED_ESCALATED, DERIVED_COMMITMENTS)
TREND_WINDOW = timedelta(hours=6)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows. `scope` limits a unit handler to incidents of their units."""

    opinion_levels: tuple[str, ...] = ()
    unit: str | None = None
    region: str | None = None
    statuses: tuple[str, ...] = ()  # stored statuses and DERIVED_FILTERS, any of them; empty = every open status
    overdue: bool = False
    mine_units: frozenset[str] = frozenset()  # "mine": incidents of these units …
    mine_actor: str | None = None  # … or that this user acted on
    scope: frozenset[str] | None = None  # None = every unit


@dataclass(frozen=True, slots=True)
class QueueRow:
    id: int
    title: str
    status: str
    event_type: str | None
    event_level: str | None
    opinion_level: str | None
    owner_unit: str | None
    lead_unit: str | None
    co_units: tuple[str, ...]
    region: str | None
    item_count: int
    source_count: int
    detected_at: datetime
    next_due_at: datetime | None
    updated_at: datetime
    trend: tuple[int, int] = (0, 0)  # items attached in the last window, in the window before
    next_action: str | None = None  # what the nearest unmet obligation asks for (e.g. authoritative_release)
    overdue: int = 0  # obligations past their deadline and not met
    escalated: int = 0  # … of which the ladder reached 分管领导/主要负责人 (已升级)
    returned_reason: str | None = None  # 退回理由 (shown while the incident waits for 改派)
    occurred_at: datetime | None = None  # 事发时间 (t0 of the emergency clocks), when recorded
    citizen_deadline_pending: bool = False  # 待定答复时限: a 12345/信箱 message, no citizen rule chosen yet

    @property
    def units(self) -> frozenset[str]:
        return frozenset(u for u in (self.owner_unit, self.lead_unit, *self.co_units) if u)


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int
    level_counts: dict[str, int] = field(default_factory=dict)


def units_condition(conn: AsyncConnection, units: Collection[str]) -> ColumnElement[bool]:
    """Incidents owned, led or co-handled by any of `units`."""
    wanted = sorted(units)
    if not wanted:
        return literal(False)
    return or_(incidents.c.owner_unit.in_(wanted), incidents.c.lead_unit.in_(wanted), _co_units_any(conn, wanted))


def _co_units_any(conn: AsyncConnection, wanted: list[str]) -> ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        return incidents.c.co_units.op("?|")(literal(wanted, ARRAY(Text)))
    members = func.json_each(incidents.c.co_units).table_valued("value").alias("co")
    return exists(select(literal(1)).select_from(members).where(column("value").in_(wanted)))


def _conditions(conn: AsyncConnection, flt: QueueFilter, now: datetime) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [_shown_statuses(flt), _status_condition(flt, now)]
    if flt.scope is not None:
        conds.append(units_condition(conn, flt.scope))
    if flt.opinion_levels:
        conds.append(incidents.c.opinion_level.in_(flt.opinion_levels))
    if flt.unit:
        conds.append(units_condition(conn, [flt.unit]))
    if flt.region:
        conds.append(incidents.c.region == flt.region)
    if flt.overdue:
        overdue = select(obligations.c.incident_id).where(overdue_obligation(now))
        conds.append(incidents.c.id.in_(overdue))
    if flt.mine_units or flt.mine_actor:
        acted = incidents.c.id.in_(
            select(incident_events.c.incident_id).where(incident_events.c.actor == (flt.mine_actor or ""))
        )
        conds.append(or_(units_condition(conn, flt.mine_units), acted))
    return conds


def _shown_statuses(flt: QueueFilter) -> ColumnElement[bool]:
    """Open incidents; with 承诺待兑现 chosen, also closed/archived ones that still owe a commitment."""
    shown = incidents.c.status.in_(OPEN_STATUSES)
    if DERIVED_COMMITMENTS not in flt.statuses:
        return shown
    owing = and_(incidents.c.status.in_(_PROMISE_KEPT_OPEN), incidents.c.id.in_(_owing_commitment()))
    return or_(shown, owing)


def _owing_commitment() -> Any:
    o = obligations.c
    unmet = (ObligationStatus.OPEN.value, ObligationStatus.BREACHED.value, ObligationStatus.PAUSED.value)
    return select(o.incident_id).where(o.rule_id == COMMITMENT_RULE_ID, o.status.in_(unmet))


def _status_condition(flt: QueueFilter, now: datetime) -> ColumnElement[bool]:
    """Any of the chosen statuses: stored ones by the incident's status, derived ones by its obligations."""
    if not flt.statuses:
        return literal(True)
    stored = [s for s in flt.statuses if s not in DERIVED_FILTERS]
    parts: list[ColumnElement[bool]] = [incidents.c.status.in_(stored)] if stored else []
    if DERIVED_OVERDUE in flt.statuses:
        parts.append(incidents.c.id.in_(select(obligations.c.incident_id).where(overdue_obligation(now))))
    if DERIVED_ESCALATED in flt.statuses:
        parts.append(incidents.c.id.in_(select(obligations.c.incident_id).where(escalated_obligation(now))))
    if DERIVED_COMMITMENTS in flt.statuses:
        parts.append(incidents.c.id.in_(_owing_commitment()))
    return or_(*parts)


def escalated_obligation(now: datetime) -> ColumnElement[bool]:
    """Overdue obligations whose ladder has reached 分管领导/主要负责人 (已升级)."""
    return and_(overdue_obligation(now), obligations.c.escalated_at.is_not(None))


def overdue_obligation(now: datetime) -> ColumnElement[bool]:
    """Obligations past their deadline and not met (`Obligation.status_at(now)` is BREACHED)."""
    o = obligations
    return or_(
        o.c.status == ObligationStatus.BREACHED.value,
        and_(o.c.status == ObligationStatus.OPEN.value, o.c.due_at <= now),
        and_(o.c.status == ObligationStatus.PAUSED.value, o.c.paused_until <= now, o.c.due_at <= now),
    )


_LEVEL_ORDER = case({"L1": 1, "L2": 2, "L3": 3, "L4": 4}, value=incidents.c.opinion_level, else_=5)
_COLUMNS = (
    incidents.c.id,
    incidents.c.title,
    incidents.c.status,
    incidents.c.event_type,
    incidents.c.event_level,
    incidents.c.opinion_level,
    incidents.c.owner_unit,
    incidents.c.lead_unit,
    incidents.c.co_units,
    incidents.c.region,
    incidents.c.item_count,
    incidents.c.source_count,
    incidents.c.detected_at,
    incidents.c.next_due_at,
    incidents.c.updated_at,
    incidents.c.returned_reason,
    incidents.c.occurred_at,
    incidents.c.media_type,
)


def _row(r: Any, trend: tuple[int, int], summary: ObligationSummary, pending: bool = False) -> QueueRow:
    return QueueRow(
        id=r.id,
        title=r.title,
        status=r.status,
        event_type=r.event_type,
        event_level=r.event_level,
        opinion_level=r.opinion_level,
        owner_unit=r.owner_unit,
        lead_unit=r.lead_unit,
        co_units=tuple(r.co_units or ()),
        region=r.region,
        item_count=r.item_count,
        source_count=r.source_count,
        detected_at=r.detected_at,
        next_due_at=r.next_due_at,
        updated_at=r.updated_at,
        trend=trend,
        next_action=summary.action,
        overdue=summary.overdue,
        escalated=summary.escalated,
        returned_reason=r.returned_reason,
        occurred_at=r.occurred_at,
        citizen_deadline_pending=pending,
    )


async def queue_page(
    conn: AsyncConnection, flt: QueueFilter, now: datetime, *, limit: int = 100, offset: int = 0
) -> QueuePage:
    """One page of the queue, nearest deadline first (incidents without a deadline last)."""
    conds = _conditions(conn, flt, now)
    query = (
        select(*_COLUMNS)
        .where(and_(*conds))
        .order_by(incidents.c.next_due_at.asc().nulls_last(), _LEVEL_ORDER, incidents.c.detected_at.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = list(await conn.execute(query))
    count_query = (
        select(incidents.c.opinion_level, func.count()).where(and_(*conds)).group_by(incidents.c.opinion_level)
    )
    counts = {(level or ""): int(n) for level, n in await conn.execute(count_query)}
    return QueuePage(rows=await _rows(conn, rows, now), total=sum(counts.values()), level_counts=counts)


async def _rows(conn: AsyncConnection, rows: list[Any], now: datetime) -> list[QueueRow]:
    """Queue rows with their trends and obligation summaries (two statements for the whole page)."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    trends = await item_trends(conn, ids, now)
    summaries = await obligation_summaries(conn, ids, now)
    pending = await citizen_deadline_pending(conn, rows)
    return [_row(r, trends.get(r.id, (0, 0)), summaries.get(r.id, ObligationSummary()), r.id in pending) for r in rows]


async def queue_rows(conn: AsyncConnection, ids: Sequence[int], flt: QueueFilter, now: datetime) -> list[QueueRow]:
    """The rows among `ids` that the filter still shows (for live updates of an open page)."""
    if not ids:
        return []
    query = select(*_COLUMNS).where(incidents.c.id.in_(list(ids)), *_conditions(conn, flt, now))
    return await _rows(conn, list(await conn.execute(query)), now)


@dataclass(frozen=True, slots=True)
class ObligationSummary:
    action: str | None = None  # what the nearest unmet obligation asks for
    overdue: int = 0  # unmet obligations past their deadline (超期)
    escalated: int = 0  # … of them whose ladder reached 分管领导/主要负责人 (已升级)


async def obligation_summaries(
    conn: AsyncConnection, ids: Sequence[int], now: datetime
) -> dict[int, ObligationSummary]:
    """Per incident: the action of its nearest unmet obligation, how many are overdue and escalated.

    Selected by incident id only (the unique index), filtered here: a status condition would make
    the planner scan the status index, which holds most obligations.
    """
    o = obligations
    query = select(
        o.c.incident_id, o.c.action, o.c.status, o.c.due_at, o.c.paused_until, o.c.escalated_at, o.c.id
    ).where(o.c.incident_id.in_(list(ids)))
    rows = sorted(await conn.execute(query), key=lambda r: (r.incident_id, r.due_at, r.id))
    found: dict[int, ObligationSummary] = {}
    for r in rows:
        status = ObligationStatus(r.status)
        if status.is_final:
            continue
        seen = found.get(r.incident_id, ObligationSummary())
        action = seen.action if seen.action is not None or status == ObligationStatus.PAUSED else r.action
        late = _is_overdue(status, r.due_at, r.paused_until, now)
        escalated = late and r.escalated_at is not None
        found[r.incident_id] = ObligationSummary(action, seen.overdue + late, seen.escalated + escalated)
    return found


def _is_overdue(status: ObligationStatus, due_at: datetime, paused_until: datetime | None, now: datetime) -> bool:
    """The same test as `overdue_obligation` (and `Obligation.status_at(now) == BREACHED`), in Python."""
    if status == ObligationStatus.BREACHED:
        return True
    if status == ObligationStatus.PAUSED:
        return paused_until is not None and paused_until <= now and due_at <= now
    return status == ObligationStatus.OPEN and due_at <= now


async def item_trends(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> dict[int, tuple[int, int]]:
    """Per incident: items attached within TREND_WINDOW before now, and in the window before that."""
    if not ids:
        return {}
    recent_start, previous_start = now - TREND_WINDOW, now - 2 * TREND_WINDOW
    ii = incident_items
    query = (
        select(
            ii.c.incident_id,
            func.sum(case((ii.c.attached_at >= recent_start, 1), else_=0)),
            func.sum(case((ii.c.attached_at < recent_start, 1), else_=0)),
        )
        .where(ii.c.incident_id.in_(list(ids)), ii.c.attached_at >= previous_start, ii.c.attached_at <= now)
        .group_by(ii.c.incident_id)
    )
    return {int(i): (int(a or 0), int(b or 0)) for i, a, b in await conn.execute(query)}


@dataclass(frozen=True, slots=True)
class IncidentVersion:
    """What a live view needs to decide who may see a change, and whether anything changed."""

    id: int
    units: frozenset[str]
    version: tuple[str, int]  # (updated_at, last timeline event id)


async def incident_versions(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, IncidentVersion]:
    if not ids:
        return {}
    last_event = (
        select(func.max(incident_events.c.id)).where(incident_events.c.incident_id == incidents.c.id).scalar_subquery()
    )
    query = select(
        incidents.c.id,
        incidents.c.owner_unit,
        incidents.c.lead_unit,
        incidents.c.co_units,
        incidents.c.updated_at,
        last_event.label("last_event_id"),
    ).where(incidents.c.id.in_(list(ids)))
    found = {}
    for r in await conn.execute(query):
        units = frozenset(u for u in (r.owner_unit, r.lead_unit, *(r.co_units or ())) if u)
        found[r.id] = IncidentVersion(r.id, units, (r.updated_at.isoformat(), int(r.last_event_id or 0)))
    return found


@dataclass(frozen=True, slots=True)
class DueObligation:
    obligation_id: int
    incident_id: int
    incident_title: str
    opinion_level: str | None
    event_level: str | None
    owner_unit: str | None
    rule_id: str
    action: str
    due_at: datetime
    status: str
    escalated_at: datetime | None = None  # the ladder reached 分管领导/主要负责人 past the deadline (已升级)
    incident_status: str | None = None  # e.g. supervised (督办中)
    instance: int = 0  # 承诺 #n for the commitment rule


async def obligations_due(
    conn: AsyncConnection, units: Collection[str] | None, now: datetime, horizon: timedelta
) -> list[DueObligation]:
    """Unmet obligations of open incidents due before now + horizon (overdue ones included), and
    the open commitments (承诺待兑现) of closed or archived ones."""
    unmet = (ObligationStatus.OPEN.value, ObligationStatus.BREACHED.value, ObligationStatus.PAUSED.value)
    o, i = obligations, incidents
    query = (
        select(
            o.c.id,
            o.c.incident_id,
            i.c.title,
            i.c.opinion_level,
            i.c.event_level,
            i.c.owner_unit,
            o.c.rule_id,
            o.c.action,
            o.c.due_at,
            o.c.status,
            o.c.escalated_at,
            i.c.status,
            o.c.instance,
        )
        .join(i, i.c.id == o.c.incident_id)
        .where(o.c.status.in_(unmet), o.c.due_at <= now + horizon)
        .where(
            or_(
                i.c.status.in_(OPEN_STATUSES),
                and_(o.c.rule_id == COMMITMENT_RULE_ID, i.c.status.in_(_PROMISE_KEPT_OPEN)),
            )
        )
        .order_by(o.c.due_at, o.c.id)
    )
    if units is not None:
        query = query.where(units_condition(conn, units))
    return [DueObligation(*r) for r in await conn.execute(query)]


async def set_next_due(conn: AsyncConnection, due: dict[int, datetime | None]) -> None:
    """Set incidents' nearest deadline in one executemany (the engine keeps it current; seeding uses it too)."""
    if not due:
        return
    statement = update(incidents).where(incidents.c.id == bindparam("incident_id")).values(next_due_at=bindparam("due"))
    await conn.execute(statement, [{"incident_id": i, "due": d} for i, d in due.items()])


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    actor: str
    at: datetime


async def latest_acknowledgements(
    conn: AsyncConnection, incident_ids: Sequence[int]
) -> dict[tuple[int, str | None], Acknowledgement]:
    """The latest 确认收到 per (incident, rule); rule None = an acknowledgement of every alert, and
    `rule#n` one of a single obligation of the rule (承诺 #n)."""
    if not incident_ids:
        return {}
    e = incident_events
    query = (
        select(e.c.incident_id, e.c.actor, e.c.at, e.c.payload)
        .where(e.c.incident_id.in_(sorted(set(incident_ids))), e.c.kind == EventKind.ACKNOWLEDGED.value)
        .order_by(e.c.id)
    )
    found: dict[tuple[int, str | None], Acknowledgement] = {}
    for r in await conn.execute(query):
        payload = r.payload or {}
        rule, instance = payload.get("rule"), payload.get("instance")
        found[(r.incident_id, rule if instance is None else f"{rule}#{instance}")] = Acknowledgement(r.actor, r.at)
    return found
