"""What operations read: the figures behind /metrics, heartbeats, and a database ping.

A scrape reads the live figures (backlog, lag, open obligations, unclassified items) through
indexes that cover only the active rows; the counts over whole tables that only grow (items
ever, sent notifications, delivery attempts) are read by `ops_totals`, which /metrics caches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import IncidentEvent
from monitor.storage.schema import (
    fetches,
    heartbeats,
    incident_events,
    items,
    notification_attempts,
    obligations,
    outbox,
    sources,
    timers,
)

# Instances silent for longer are not reported, and their rows are pruned when a process starts
# (only a start adds rows: instance names are host:pid:token), except each component's newest.
HEARTBEAT_HORIZON = timedelta(days=1)


@dataclass(frozen=True)
class Heartbeat:
    component: str
    instance: str
    at: datetime


ACTIVE_OBLIGATIONS = ("open", "paused")  # few at any time; the rest only grows
ACTIVE_OUTBOX = ("pending", "sending")


@dataclass
class OpsTotals:
    """Counts over whole tables that only grow: read now and then, not on every scrape."""

    items_total: int = 0
    obligations: dict[str, int] = field(default_factory=dict)  # status -> count, every status
    outbox: dict[str, int] = field(default_factory=dict)  # status -> count, every status
    attempts: dict[str, int] = field(default_factory=dict)  # notification_attempts outcome -> count


@dataclass
class OpsSnapshot:
    items_total: int = 0
    items_unclassified: int = 0
    sources: dict[tuple[str, bool], int] = field(default_factory=dict)  # (health, enabled) -> count
    obligations: dict[str, int] = field(default_factory=dict)  # status -> count
    obligations_overdue: int = 0  # open and past due
    outbox: dict[str, int] = field(default_factory=dict)  # status -> count
    outbox_oldest_due: datetime | None = None  # earliest next_attempt_at of due pending/sending rows
    attempts: dict[str, int] = field(default_factory=dict)  # notification_attempts outcome -> count
    timers_due: int = 0
    timers_oldest_due: datetime | None = None
    heartbeats: list[Heartbeat] = field(default_factory=list)


async def ping(conn: AsyncConnection) -> None:
    await conn.execute(text("SELECT 1"))


def live_queries(now: datetime) -> dict[str, Select[Any]]:
    """The per-scrape queries: each reads only the active part of its table, through an index
    (tests check the plans), so a scrape costs the same with ten million items as with ten."""
    return {
        "unclassified": select(func.count()).select_from(items).where(items.c.classified_at.is_(None)),
        "sources": select(sources.c.health, sources.c.enabled, func.count()).group_by(
            sources.c.health, sources.c.enabled
        ),  # one row per source: small
        "obligations": select(obligations.c.status, func.count())
        .where(obligations.c.status.in_(ACTIVE_OBLIGATIONS))
        .group_by(obligations.c.status),
        "overdue": select(func.count())
        .select_from(obligations)
        .where(obligations.c.status == "open", obligations.c.due_at < now),
        "outbox": select(outbox.c.status, func.count())
        .where(outbox.c.status.in_(ACTIVE_OUTBOX))
        .group_by(outbox.c.status),
        "outbox_oldest": select(func.min(outbox.c.next_attempt_at)).where(
            outbox.c.status.in_(ACTIVE_OUTBOX), outbox.c.next_attempt_at <= now
        ),
        "timers": select(func.count(), func.min(timers.c.due_at)).where(
            timers.c.fired_at.is_(None), timers.c.due_at <= now
        ),
    }


async def ops_live(conn: AsyncConnection, now: datetime, totals: OpsTotals) -> OpsSnapshot:
    """The figures for one scrape: live ones read now, the growing totals taken from `totals`."""
    q = live_queries(now)
    snap = OpsSnapshot(items_total=totals.items_total, attempts=dict(totals.attempts))
    snap.items_unclassified = int((await conn.execute(q["unclassified"])).scalar_one())
    snap.sources = {(r[0], bool(r[1])): int(r[2]) for r in await conn.execute(q["sources"])}
    live = {str(r[0]): int(r[1]) for r in await conn.execute(q["obligations"])}
    snap.obligations = {k: v for k, v in totals.obligations.items() if k not in ACTIVE_OBLIGATIONS} | live
    snap.obligations_overdue = int((await conn.execute(q["overdue"])).scalar_one())
    live = {str(r[0]): int(r[1]) for r in await conn.execute(q["outbox"])}
    snap.outbox = {k: v for k, v in totals.outbox.items() if k not in ACTIVE_OUTBOX} | live
    snap.outbox_oldest_due = (await conn.execute(q["outbox_oldest"])).scalar()
    row = (await conn.execute(q["timers"])).one()
    snap.timers_due, snap.timers_oldest_due = int(row[0]), row[1]
    snap.heartbeats = await recent_heartbeats(conn, now - HEARTBEAT_HORIZON)
    return snap


async def ops_totals(conn: AsyncConnection) -> OpsTotals:
    """Whole-table counts (a scan each on PostgreSQL): callers cache them (monitor/web/ops.py)."""
    return OpsTotals(
        items_total=int((await conn.execute(select(func.count()).select_from(items))).scalar_one()),
        obligations=await _by(conn, obligations.c.status),
        outbox=await _by(conn, outbox.c.status),
        attempts=await _by(conn, notification_attempts.c.outcome),
    )


async def ops_snapshot(conn: AsyncConnection, now: datetime) -> OpsSnapshot:
    """Every figure, read now (no caching)."""
    return await ops_live(conn, now, await ops_totals(conn))


async def _by(conn: AsyncConnection, column: object) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)  # type: ignore[call-overload]
    return {str(r[0]): int(r[1]) for r in await conn.execute(query)}


async def recent_heartbeats(conn: AsyncConnection, since: datetime) -> list[Heartbeat]:
    query = select(heartbeats.c.component, heartbeats.c.instance, heartbeats.c.at).where(heartbeats.c.at >= since)
    rows = await conn.execute(query.order_by(heartbeats.c.component, heartbeats.c.instance))
    return [Heartbeat(r.component, r.instance, r.at) for r in rows]


async def forget_heartbeats(conn: AsyncConnection, instances: list[tuple[str, str]]) -> None:
    """Remove the heartbeats of loops that stopped cleanly (a crashed one's row goes stale instead)."""
    if instances:
        match = [and_(heartbeats.c.component == c, heartbeats.c.instance == i) for c, i in instances]
        await conn.execute(delete(heartbeats).where(or_(*match)))


async def prune_heartbeats(conn: AsyncConnection, before: datetime) -> int:
    """Delete heartbeats older than `before`, except each component's newest row; returns how many.

    Every process start writes rows under a new instance name (host:pid:token), and a crashed
    process leaves its rows behind, so restarts would grow the table forever. The newest row of a
    component stays even when old: the audit watchdog then still reports *when* the engine last ran.
    """
    newer = heartbeats.alias("newer")
    newest = select(func.max(newer.c.at)).where(newer.c.component == heartbeats.c.component).scalar_subquery()
    result = await conn.execute(delete(heartbeats).where(heartbeats.c.at < before, heartbeats.c.at < newest))
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class DeliveryRecord:
    idempotency_key: str
    kind: str
    status: str
    in_doubt: bool  # an attempt was left unresolved by a worker that died (resent with the same key)


async def delivery_records(conn: AsyncConnection) -> list[DeliveryRecord]:
    """Every outbox row with whether a dead worker left one of its attempts in doubt (scale-out checks)."""
    doubt = (
        select(notification_attempts.c.outbox_id)
        .where(notification_attempts.c.outcome == "in_doubt")
        .group_by(notification_attempts.c.outbox_id)
        .subquery()
    )
    query = select(outbox.c.idempotency_key, outbox.c.kind, outbox.c.status, doubt.c.outbox_id).outerjoin(
        doubt, doubt.c.outbox_id == outbox.c.id
    )
    return [DeliveryRecord(r[0], r[1], r[2], r[3] is not None) for r in await conn.execute(query)]


async def fetch_log(conn: AsyncConnection) -> dict[str, list[datetime]]:
    """Source URL → when each recorded fetch started (the collector's clock), oldest first."""
    query = (
        select(sources.c.url, fetches.c.started_at)
        .join(fetches, fetches.c.source_id == sources.c.id)
        .order_by(sources.c.url, fetches.c.started_at)
    )
    found: dict[str, list[datetime]] = {}
    for url, started in await conn.execute(query):
        found.setdefault(url, []).append(started)
    return found


async def copy_events(conn: AsyncConnection, events: Sequence[IncidentEvent], now: datetime) -> None:
    """Append timeline events with one COPY (PostgreSQL only; the scale-out harness seeds with it).

    `append_events` is an executemany: one INSERT per row under asyncpg, each running the
    change-feed trigger; 40,000 of them were most of the seeding time (harness and server CPU).
    Numbered after each incident's last event, as `append_events` numbers them.
    """
    ids = sorted({e.incident_id for e in events})
    query = (
        select(incident_events.c.incident_id, func.max(incident_events.c.seq))
        .where(incident_events.c.incident_id.in_(ids))
        .group_by(incident_events.c.incident_id)
    )
    last: dict[int, int] = {row[0]: row[1] for row in await conn.execute(query)}
    records = []
    for e in events:
        last[e.incident_id] = seq = last.get(e.incident_id, 0) + 1
        payload = json.dumps(e.payload, ensure_ascii=False)
        records.append((e.incident_id, seq, e.kind.value, e.at, now, e.actor, payload))
    columns = ["incident_id", "seq", "kind", "at", "recorded_at", "actor", "payload"]
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table("incident_events", records=records, columns=columns)  # type: ignore[union-attr]
