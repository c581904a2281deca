"""The notification outbox: claiming due rows, recording attempts and their outcomes.

The engine inserts rows (docs/contracts.md §3); the notifier claims them with a lease, records a
`notification_attempts` row BEFORE each send and completes it after, then updates the outbox row.
Every function works on a batch in one statement.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, or_, select, text, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import OutboxStatus
from monitor.storage.db import insert_ignore
from monitor.storage.schema import heartbeats, incidents, notification_attempts, outbox
from monitor.storage.types import UTCDateTime


@dataclass(frozen=True)
class OutboxRow:
    """One claimed outbox row, as the notifier sees it."""

    id: int
    idempotency_key: str
    incident_id: int | None
    obligation_id: int | None
    kind: str
    urgent: bool
    recipient: str | None
    channel: str | None
    payload: Mapping[str, Any]
    status: str
    attempts: int
    channel_attempts: int
    next_attempt_at: datetime
    created_at: datetime
    claimed_until: datetime | None = None


@dataclass(frozen=True)
class LastAttempt:
    outbox_id: int
    message_id: str
    channel: str
    target: str
    outcome: str
    started_at: datetime
    in_doubt: int = 0  # earlier attempts of the row whose worker stopped between send and record


@dataclass(frozen=True)
class TargetWindow:
    """What a rate-limited target (a group robot) has seen recently."""

    sent_in_window: int  # requests (attempt costs) started within the counting window
    oldest_in_window: datetime | None  # when the window frees its first slot (plus the window)
    blocked_until: datetime | None  # the channel said "too fast": nothing before this


_ROW_COLUMNS = [getattr(outbox.c, f) for f in OutboxRow.__dataclass_fields__ if f != "claimed_until"]


async def claim_due(
    conn: AsyncConnection,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    only_ids: Sequence[int] | None = None,
) -> list[OutboxRow]:
    """Claim up to `limit` due rows for `worker` until now + lease; urgent rows first.

    Due means pending with next_attempt_at <= now, or 'sending' under an expired lease (a worker
    died mid-send: the caller must treat those as in doubt). PostgreSQL skips rows other workers
    hold locked; SQLite serialises writers, so one claim runs at a time.
    """
    due = or_(
        and_(outbox.c.status == OutboxStatus.PENDING.value, outbox.c.next_attempt_at <= now),
        and_(outbox.c.status == OutboxStatus.SENDING.value, outbox.c.claimed_until < now),
    )
    pick = select(outbox.c.id).where(due)
    if only_ids is not None:
        pick = pick.where(outbox.c.id.in_(list(only_ids)))
    pick = pick.order_by(outbox.c.urgent.desc(), outbox.c.next_attempt_at, outbox.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    # the previous lease is returned so the caller can tell fresh rows from reclaimed ones
    previous = (await conn.execute(select(outbox.c.id, outbox.c.claimed_until).where(outbox.c.id.in_(pick)))).all()
    if not previous:
        return []
    ids = [r.id for r in previous]
    claimed = await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(status=OutboxStatus.SENDING.value, claimed_by=worker, claimed_until=now + lease)
        .returning(*_ROW_COLUMNS)
    )
    old_lease = {r.id: r.claimed_until for r in previous}
    rows = [OutboxRow(**{**r._asdict(), "claimed_until": old_lease[r.id]}) for r in claimed]
    return sorted(rows, key=lambda r: (not r.urgent, r.next_attempt_at, r.id))


async def next_due_at(conn: AsyncConnection) -> datetime | None:
    """The earliest next_attempt_at of a pending row (for the loop's sleep)."""
    query = select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == OutboxStatus.PENDING.value)
    value: datetime | None = (await conn.execute(query)).scalar_one_or_none()
    return value


async def last_attempts(conn: AsyncConnection, outbox_ids: Sequence[int]) -> dict[int, LastAttempt]:
    """The most recent attempt of each row (one query)."""
    if not outbox_ids:
        return {}
    latest = (
        select(func.max(notification_attempts.c.id))
        .where(notification_attempts.c.outbox_id.in_(list(outbox_ids)))
        .group_by(notification_attempts.c.outbox_id)
    )
    a = notification_attempts.c
    rows = await conn.execute(
        select(a.outbox_id, a.message_id, a.channel, a.target, a.outcome, a.started_at).where(a.id.in_(latest))
    )
    doubts = await conn.execute(
        select(a.outbox_id, func.count())
        .where(a.outbox_id.in_(list(outbox_ids)), a.outcome == "in_doubt")
        .group_by(a.outbox_id)
    )
    in_doubt = {r[0]: r[1] for r in doubts}
    return {r.outbox_id: LastAttempt(**r._asdict(), in_doubt=in_doubt.get(r.outbox_id, 0)) for r in rows}


async def lock_targets(conn: AsyncConnection, targets: Sequence[str]) -> None:
    """Serialise rate-limit bookkeeping per target across workers (PostgreSQL; SQLite has one writer)."""
    if targets and conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(t)) FROM unnest(CAST(:targets AS text[])) AS t ORDER BY t"),
            {"targets": sorted(set(targets))},
        )


async def target_windows(
    conn: AsyncConnection, targets: Sequence[str], now: datetime, window: timedelta, lookback: timedelta
) -> dict[str, TargetWindow]:
    """Per target: messages started within `window`, the oldest of them, and any block still in force."""
    if not targets:
        return {}
    a = notification_attempts.c
    in_window = a.started_at > now - window
    query = (
        select(
            a.target,
            func.coalesce(func.sum(case((in_window, a.cost), else_=0)), 0).label("sent"),
            type_coerce(func.min(case((in_window, a.started_at))), UTCDateTime()).label("oldest"),
            func.max(a.blocked_until).label("blocked"),
        )
        .where(a.target.in_(sorted(set(targets))), a.started_at > now - max(window, lookback))
        .group_by(a.target)
    )
    result = {}
    for r in await conn.execute(query):
        blocked = r.blocked if r.blocked is not None and r.blocked > now else None
        result[r.target] = TargetWindow(r.sent, r.oldest, blocked)
    return result


async def start_attempts(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record attempts about to be made (outcome 'sending'); each row names outbox_id, message_id …"""
    if rows:
        await conn.execute(insert(notification_attempts), [{**r, "outcome": "sending"} for r in rows])


async def finish_attempts(conn: AsyncConnection, results: Sequence[Mapping[str, Any]]) -> None:
    """Complete attempts by message_id: outcome, error, detail, finished_at, blocked_until."""
    if not results:
        return
    a = notification_attempts
    stmt = (
        update(a)
        .where(a.c.message_id == bindparam("m_id"), a.c.outcome == "sending")
        .values(
            outcome=bindparam("m_outcome"),
            error=bindparam("m_error"),
            detail=bindparam("m_detail"),
            finished_at=bindparam("m_finished_at"),
            blocked_until=bindparam("m_blocked_until"),
        )
    )
    await conn.execute(stmt, [{"m_" + k: v for k, v in r.items()} for r in results])


_UPDATABLE = (
    "status",
    "attempts",
    "channel",
    "channel_attempts",
    "next_attempt_at",
    "claimed_by",
    "claimed_until",
    "last_error",
    "sent_at",
)


async def update_rows(conn: AsyncConnection, changes: Sequence[Mapping[str, Any]]) -> None:
    """Apply per-row changes (each names `id` and every updatable column) in one executemany."""
    if not changes:
        return
    stmt = update(outbox).where(outbox.c.id == bindparam("r_id")).values({c: bindparam("r_" + c) for c in _UPDATABLE})
    await conn.execute(stmt, [{"r_id": c["id"], **{"r_" + k: c[k] for k in _UPDATABLE}} for c in changes])


async def insert_rows(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert outbox rows; a row whose idempotency_key exists already is skipped (never duplicated)."""
    if rows:
        await conn.execute(insert_ignore(conn, outbox, ["idempotency_key"]), list(rows))


async def record_heartbeat(
    conn: AsyncConnection, component: str, instance: str, now: datetime, info: Mapping[str, Any]
) -> None:
    """Upsert this loop's heartbeat (docs/contracts.md §5)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(heartbeats).values(component=component, instance=instance, at=now, info=dict(info))
    stmt = stmt.on_conflict_do_update(
        index_elements=["component", "instance"], set_={"at": stmt.excluded.at, "info": stmt.excluded.info}
    )
    await conn.execute(stmt)


async def rows_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> list[OutboxRow]:
    """Rows by id, in id order (for reports and tests)."""
    if not ids:
        return []
    result = await conn.execute(select(*_ROW_COLUMNS, outbox.c.claimed_until).where(outbox.c.id.in_(list(ids))))
    return sorted((OutboxRow(**r._asdict()) for r in result), key=lambda r: r.id)


async def ids_for_keys(conn: AsyncConnection, keys: Sequence[str]) -> list[int]:
    """Row ids for idempotency keys (those that exist)."""
    if not keys:
        return []
    result = await conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key.in_(list(keys))))
    return sorted(r[0] for r in result)


async def lock_incidents(conn: AsyncConnection, incident_ids: Sequence[int]) -> None:
    """Lock incidents (id order, PostgreSQL) before appending to their timelines alongside the engine.

    Taken first in a transaction, so the notifier and the engine always lock in the same order.
    """
    ids = sorted({i for i in incident_ids if i is not None})
    if ids and conn.dialect.name == "postgresql":
        await conn.execute(
            select(incidents.c.id).where(incidents.c.id.in_(ids)).order_by(incidents.c.id).with_for_update()
        )


DEADLINE_ALERT_KINDS = ("deadline_warning", "deadline_breach", "escalation", "supervision")


async def cancel_unit_alerts(
    conn: AsyncConnection, incident_id: int, unit: str, roles: Collection[str], now: datetime, reason: str
) -> int:
    """Cancel deadline alerts of an incident still waiting (not being sent) for people who hold `roles`
    in `unit` (e.g. the former owning unit after a 改派); returns how many."""
    query = select(outbox.c.id, outbox.c.payload).where(
        outbox.c.incident_id == incident_id,
        outbox.c.status == OutboxStatus.PENDING.value,
        outbox.c.kind.in_(DEADLINE_ALERT_KINDS),
        outbox.c.recipient.is_not(None),
    )
    ids = [
        r.id
        for r in await conn.execute(query)
        if (r.payload or {}).get("role") in roles
        and ((r.payload or {}).get("incident") or {}).get("owner_unit") == unit
    ]
    if not ids:
        return 0
    await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids), outbox.c.status == OutboxStatus.PENDING.value)
        .values(status=OutboxStatus.CANCELLED.value, last_error=reason, claimed_by=None, claimed_until=None)
    )
    return len(ids)
