"""What operations read: the figures behind /metrics, heartbeats, and a database ping.

One aggregate query per table (never one per row); a scrape costs a handful of index or
sequential scans, so scrape every 15 s or slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.storage.schema import (
    fetches,
    heartbeats,
    items,
    notification_attempts,
    obligations,
    outbox,
    sources,
    timers,
)

HEARTBEAT_HORIZON = timedelta(days=1)  # instances silent for longer are not reported


@dataclass(frozen=True)
class Heartbeat:
    component: str
    instance: str
    at: datetime


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


async def ops_snapshot(conn: AsyncConnection, now: datetime) -> OpsSnapshot:
    snap = OpsSnapshot()
    row = (await conn.execute(select(func.count(), func.count().filter(items.c.classified_at.is_(None))))).one()
    snap.items_total, snap.items_unclassified = int(row[0]), int(row[1])
    query = select(sources.c.health, sources.c.enabled, func.count()).group_by(sources.c.health, sources.c.enabled)
    snap.sources = {(r[0], bool(r[1])): int(r[2]) for r in await conn.execute(query)}
    snap.obligations = await _by(conn, obligations.c.status)
    overdue = select(func.count()).where(obligations.c.status == "open", obligations.c.due_at < now)
    snap.obligations_overdue = int((await conn.execute(overdue)).scalar_one())
    snap.outbox = await _by(conn, outbox.c.status)
    oldest = select(func.min(outbox.c.next_attempt_at)).where(
        outbox.c.status.in_(("pending", "sending")), outbox.c.next_attempt_at <= now
    )
    snap.outbox_oldest_due = (await conn.execute(oldest)).scalar()
    snap.attempts = await _by(conn, notification_attempts.c.outcome)
    due = select(func.count(), func.min(timers.c.due_at)).where(timers.c.fired_at.is_(None), timers.c.due_at <= now)
    row = (await conn.execute(due)).one()
    snap.timers_due, snap.timers_oldest_due = int(row[0]), row[1]
    snap.heartbeats = await recent_heartbeats(conn, now - HEARTBEAT_HORIZON)
    return snap


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
