"""Storage for the clock engine: obligations, timers, outbox rows, playbook snapshots, heartbeats.

Every function works on a batch (one statement per batch, never one per item). Callers hold a
write transaction; on PostgreSQL the incident rows are locked (`lock_incidents`) before their
timeline is read, so a command and a timer for the same incident are serialised.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, exists, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import ClockType, EventKind, Incident, IncidentEvent, IncidentStatus, Obligation, ObligationStatus
from monitor.storage.db import insert_ignore, multirow
from monitor.storage.repo.incidents import incident_from_row
from monitor.storage.schema import (
    corrections,
    heartbeats,
    incident_events,
    incidents,
    obligations,
    outbox,
    playbook_snapshots,
    sources,
    timers,
)

Connection = AsyncConnection  # for type hints outside storage/
ObligationIds = dict[tuple[int, str, int], int]


def _upsert(conn: AsyncConnection, table: Table, conflict_on: Sequence[str], update_cols: Sequence[str]) -> Any:
    insert = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_update(
        index_elements=list(conflict_on), set_={c: getattr(insert.excluded, c) for c in update_cols}
    )


async def lock_incidents(
    conn: AsyncConnection, ids: Sequence[int], next_due: dict[int, datetime | None] | None = None
) -> list[tuple[Incident, str | None]]:
    """Incidents (with their playbook digest), locked in id order on PostgreSQL.

    `next_due`, when given, receives each incident's stored next_due_at (so `save_plans` can skip
    the unchanged ones without reading them again).
    """
    if not ids:
        return []
    query = select(incidents).where(incidents.c.id.in_(sorted(set(ids)))).order_by(incidents.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    out = []
    for r in await conn.execute(query):
        out.append((incident_from_row(r), r.playbook_hash))
        if next_due is not None:
            next_due[r.id] = r.next_due_at
    return out


_KINDS = {k.value: k for k in EventKind}


async def events_of(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, list[IncidentEvent]]:
    """The timelines of several incidents, in one query, as the planner reads them.

    The engine's hot path (every wake-up reads its incident's whole timeline): only the columns
    the planner and the command handlers use — the events come without `id` and `recorded_at`.
    """
    e = incident_events.c
    query = (
        select(e.incident_id, e.seq, e.kind, e.at, e.actor, e.payload)
        .where(e.incident_id.in_(sorted(set(ids))))
        .order_by(e.incident_id, e.seq)
    )
    out: dict[int, list[IncidentEvent]] = defaultdict(list)
    for iid, seq, kind, at, actor, payload in await conn.execute(query):
        out[iid].append(IncidentEvent(iid, _KINDS[kind], at, actor, payload or {}, seq))
    return out


async def save_snapshot(
    conn: AsyncConnection, digest: str, jurisdiction: str, body: dict[str, Any], now: datetime
) -> None:
    row = {"digest": digest, "jurisdiction": jurisdiction, "body": body, "created_at": now}
    await conn.execute(insert_ignore(conn, playbook_snapshots, ["digest"]), [row])


async def load_snapshots(conn: AsyncConnection, digests: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not digests:
        return {}
    query = select(playbook_snapshots.c.digest, playbook_snapshots.c.body).where(
        playbook_snapshots.c.digest.in_(sorted(set(digests)))
    )
    return {r.digest: dict(r.body) for r in await conn.execute(query)}


def _obligation_row(ob: Obligation, now: datetime) -> dict[str, Any]:
    return {
        "incident_id": ob.incident_id,
        "rule_id": ob.rule_id,
        "instance": ob.instance,
        "action": ob.action,
        "clock": ob.clock.value,
        "t0": ob.t0,
        "due_at": ob.due_at,
        "status": ob.status.value,
        "met_at": ob.met_at,
        "met_by": ob.met_by and {"ref": ob.met_by},
        "cancelled_reason": ob.cancelled_reason,
        "paused_until": ob.paused_until,
        "escalated_at": ob.escalated_at,
        "created_at": now,
        "updated_at": now,
    }


_OBLIGATION_UPDATED = (
    "action",
    "clock",
    "t0",
    "due_at",
    "status",
    "met_at",
    "met_by",
    "cancelled_reason",
    "paused_until",
    "escalated_at",
    "updated_at",
)


async def save_obligations(conn: AsyncConnection, obs: Sequence[Obligation], now: datetime) -> ObligationIds:
    """Upsert the derived obligations (ids stay stable) and return (incident, rule, instance) -> id.

    The ids come back from the upsert itself (RETURNING: one multi-row statement per 1,000 rows on
    both databases); `obligation_ids` finds those of obligations not in `obs`.
    """
    if not obs:
        return {}
    o = obligations.c
    stmt = _upsert(conn, obligations, ["incident_id", "rule_id", "instance"], _OBLIGATION_UPDATED)
    result = await conn.execute(
        stmt.returning(o.id, o.incident_id, o.rule_id, o.instance), [_obligation_row(ob, now) for ob in obs]
    )
    return {(r.incident_id, r.rule_id, r.instance): r.id for r in result}


async def obligation_ids(conn: AsyncConnection, incident_ids: Sequence[int]) -> ObligationIds:
    """(incident, rule, instance) -> id of every stored obligation of these incidents."""
    if not incident_ids:
        return {}
    o = obligations.c
    query = select(o.id, o.incident_id, o.rule_id, o.instance).where(o.incident_id.in_(sorted(set(incident_ids))))
    return {(r.incident_id, r.rule_id, r.instance): r.id for r in await conn.execute(query)}


def obligation_from_row(r: Any) -> Obligation:
    return Obligation(
        id=r.id,
        incident_id=r.incident_id,
        rule_id=r.rule_id,
        action=r.action,
        clock=ClockType(r.clock),
        t0=r.t0,
        due_at=r.due_at,
        status=ObligationStatus(r.status),
        instance=r.instance,
        met_at=r.met_at,
        met_by=met_by_ref(r.met_by),
        cancelled_reason=r.cancelled_reason,
        paused_until=r.paused_until,
        escalated_at=r.escalated_at,
    )


def met_by_ref(value: Any) -> str | None:
    """The stored `met_by` ({"ref": …}, as written above) as the reference text people read."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(value["ref"]) if "ref" in value else "，".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


async def list_obligations(conn: AsyncConnection, incident_ids: Sequence[int] | None = None) -> list[Obligation]:
    query = select(obligations).order_by(obligations.c.incident_id, obligations.c.due_at, obligations.c.id)
    if incident_ids is not None:
        query = query.where(obligations.c.incident_id.in_(list(incident_ids)))
    return [obligation_from_row(r) for r in await conn.execute(query)]


async def add_outbox(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Queue outbox rows; a row whose idempotency_key exists already is skipped."""
    if rows:
        await conn.execute(multirow(conn, insert_ignore(conn, outbox, ["idempotency_key"]), outbox), list(rows))


async def claim_due_timers(conn: AsyncConnection, now: datetime, limit: int) -> list[tuple[int, int, int]]:
    """Mark the earliest `limit` due, unfired timers fired; return them as (timer id, incident id, generation).

    One statement: UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING. On
    PostgreSQL several workers claim disjoint timers; on SQLite the write transaction serialises
    them. The caller's transaction makes the claim and its effects commit (or roll back) together.
    """
    due = (
        select(timers.c.id)
        .where(timers.c.fired_at.is_(None), timers.c.due_at <= now)
        .order_by(timers.c.due_at, timers.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    stmt = (
        update(timers)
        .where(timers.c.id.in_(due.scalar_subquery()))
        .values(fired_at=now)
        .returning(timers.c.id, timers.c.incident_id, timers.c.generation)
    )
    return sorted((r.id, r.incident_id, r.generation) for r in await conn.execute(stmt))


async def schedule_timers(
    conn: AsyncConnection, wakeups: Sequence[tuple[int, int, datetime, str]], now: datetime
) -> None:
    """Insert (incident id, generation, due_at, reason) wake-ups; identical ones merge."""
    rows = [
        {"incident_id": i, "generation": g, "due_at": due, "reason": reason, "created_at": now}
        for i, g, due, reason in wakeups
    ]
    if rows:
        stmt = insert_ignore(conn, timers, ["incident_id", "generation", "due_at"])
        await conn.execute(multirow(conn, stmt, timers), rows)


async def request_replan(
    conn: AsyncConnection, incident_ids: Sequence[int], now: datetime, reason: str = "changed"
) -> None:
    """Ask the engine to look at these incidents again now (e.g. clustering changed one)."""
    if not incident_ids:
        return
    query = select(incidents.c.id, incidents.c.generation).where(incidents.c.id.in_(sorted(set(incident_ids))))
    wakeups = [(r.id, r.generation, now, reason) for r in await conn.execute(query)]
    await schedule_timers(conn, wakeups, now)


async def unplanned_detected(conn: AsyncConnection, limit: int) -> list[int]:
    """Detected incidents the engine has never planned (no timer yet): new from clustering."""
    query = (
        select(incidents.c.id)
        .where(
            incidents.c.status == IncidentStatus.DETECTED.value,
            ~exists().where(timers.c.incident_id == incidents.c.id),
        )
        .order_by(incidents.c.id)
        .limit(limit)
    )
    return [r.id for r in await conn.execute(query)]


async def save_plans(conn: AsyncConnection, plans: Sequence[tuple[int, datetime | None]], now: datetime) -> None:
    """Record each incident's nearest unmet deadline (incidents.next_due_at, the duty queue's sort key)."""
    if plans:
        stmt = (
            update(incidents)
            .where(incidents.c.id == bindparam("b_id"))
            .values(next_due_at=bindparam("b_due"), updated_at=bindparam("b_now"))
        )
        await conn.execute(stmt, [{"b_id": i, "b_due": due, "b_now": now} for i, due in plans])


async def mark_confirmed(
    conn: AsyncConnection,
    incident_ids: Sequence[int],
    digest: str,
    at: datetime,
    now: datetime,
    *,
    assigned: bool = False,
) -> None:
    """Status 研判定级 (assessed), the confirmation time and the playbook snapshot they run under;
    `assigned`: 交办 to the owning unit at the same time (status 已交办, assigned_at)."""
    status = IncidentStatus.ASSIGNED if assigned else IncidentStatus.ASSESSED
    extra = {"assigned_at": at, "accepted_at": None} if assigned else {}
    await conn.execute(
        update(incidents)
        .where(incidents.c.id.in_(list(incident_ids)))
        .values(status=status.value, confirmed_at=at, playbook_hash=digest, updated_at=now, **extra)
    )


async def next_timer_at(conn: AsyncConnection) -> datetime | None:
    """When the earliest unfired timer falls due."""
    return (await conn.execute(select(func.min(timers.c.due_at)).where(timers.c.fired_at.is_(None)))).scalar()


async def beat(conn: AsyncConnection, component: str, instance: str, now: datetime, info: dict[str, Any]) -> None:
    """Upsert the heartbeat of a long-running loop (docs/contracts.md §5)."""
    stmt = _upsert(conn, heartbeats, ["component", "instance"], ["at", "info"])
    await conn.execute(stmt, [{"component": component, "instance": instance, "at": now, "info": info}])


async def incident_refs(conn: AsyncConnection, ids: Sequence[int] | None = None) -> dict[int, str | None]:
    query = select(incidents.c.id, incidents.c.external_ref)
    if ids is not None:
        query = query.where(incidents.c.id.in_(list(ids)))
    return {r.id: r.external_ref for r in await conn.execute(query)}


async def add_corrections(conn: AsyncConnection, rows: Sequence[tuple[int, str, Any, Any, str, datetime]]) -> None:
    """Record (incident id, field, old, new, actor, at) corrections of the classifier's output."""
    if rows:
        await conn.execute(
            insert(corrections),
            [
                {
                    "incident_id": i,
                    "field": f,
                    "old_value": None if old is None else str(old),
                    "new_value": None if new is None else str(new),
                    "actor": actor,
                    "at": at,
                }
                for i, f, old, new, actor, at in rows
            ],
        )


async def incident_by_ref(conn: AsyncConnection, ref: str) -> int | None:
    """The id of the incident with this external reference (an imported ledger id, a scenario id)."""
    return (await conn.execute(select(incidents.c.id).where(incidents.c.external_ref == ref))).scalar()


async def all_outbox(conn: AsyncConnection) -> list[Any]:
    """Every outbox row in the order written (simulation output, tests)."""
    return list(await conn.execute(select(outbox).order_by(outbox.c.created_at, outbox.c.id)))


async def audit_counts(conn: AsyncConnection, timers_before: datetime, outbox_before: datetime) -> dict[str, Any]:
    """What the audit watchdog looks at, in a handful of aggregate queries."""
    overdue = (
        await conn.execute(
            select(func.count(), func.min(timers.c.due_at)).where(
                timers.c.fired_at.is_(None), timers.c.due_at < timers_before
            )
        )
    ).one()
    stuck = (
        await conn.execute(
            select(func.count(), func.min(outbox.c.next_attempt_at)).where(
                outbox.c.status.in_(("pending", "sending")), outbox.c.next_attempt_at < outbox_before
            )
        )
    ).one()
    beats = await conn.execute(
        select(heartbeats.c.component, func.max(heartbeats.c.at)).group_by(heartbeats.c.component)
    )
    unhealthy = await conn.execute(
        select(sources.c.name, sources.c.health).where(
            sources.c.enabled.is_(True), sources.c.health.in_(("failing", "silent"))
        )
    )
    return {
        "overdue_timers": (overdue[0], overdue[1]),
        "stuck_outbox": (stuck[0], stuck[1]),
        "heartbeats": {r[0]: r[1] for r in beats},
        "unhealthy_sources": [(r.name, r.health) for r in unhealthy],
    }


async def list_pauses(conn: AsyncConnection, start: datetime, end: datetime) -> list[IncidentEvent]:
    """Approved pauses in [start, end) — every one is listed in the monthly report."""
    query = (
        select(incident_events)
        .where(
            incident_events.c.kind == EventKind.PAUSE_APPROVED.value,
            incident_events.c.at >= start,
            incident_events.c.at < end,
        )
        .order_by(incident_events.c.at, incident_events.c.id)
    )
    return [
        IncidentEvent(
            r.incident_id, EventKind(r.kind), r.at, r.actor, dict(r.payload or {}), r.seq, r.recorded_at, r.id
        )
        for r in await conn.execute(query)
    ]


async def incidents_with_clock(conn: AsyncConnection, clock: ClockType) -> list[int]:
    """Incidents with unmet obligations counted on this clock (to re-plan after a calendar fix)."""
    query = (
        select(obligations.c.incident_id)
        .where(obligations.c.clock == clock.value, obligations.c.status.in_(("open", "breached", "paused")))
        .distinct()
    )
    return [r[0] for r in await conn.execute(query)]


async def analyze(conn: AsyncConnection) -> None:
    """Refresh the planner's statistics (PostgreSQL; benchmarks after a bulk seed, as autovacuum would)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("ANALYZE"))


async def server_pids(conn: AsyncConnection) -> list[int]:
    """Process ids of the PostgreSQL backends connected to this database (benchmarks read their CPU)."""
    if conn.dialect.name != "postgresql":
        return []
    query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [r[0] for r in await conn.execute(query)]
