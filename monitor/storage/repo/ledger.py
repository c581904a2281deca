"""Writing imported ledger rows: incidents, their timelines and deadlines, in batches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from monitor.domain import EventKind, IncidentEvent
from monitor.domain.ledger import ImportedIncident
from monitor.domain.playbooks import Playbook
from monitor.storage.repo.engine import save_obligations, save_snapshot, schedule_timers
from monitor.storage.repo.incidents import append_events, incident_row
from monitor.storage.schema import incidents

CHUNK = 500


async def existing_refs(conn: AsyncConnection, refs: Iterable[str]) -> set[str]:
    """The external refs among `refs` that are already incidents (imported before)."""
    wanted = sorted(set(refs))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = await conn.execute(select(incidents.c.external_ref).where(incidents.c.external_ref.in_(chunk)))
        found.update(r.external_ref for r in rows)
    return found


async def insert_imported(
    conn: AsyncConnection, batch: Sequence[ImportedIncident], now: datetime, playbook: Playbook
) -> list[int]:
    """Insert incidents (confirmed under `playbook`'s snapshot) with DETECTED + their events and
    obligations, and a wake-up now for those with a running deadline: a handful of statements per batch."""
    if not batch:
        return []
    await save_snapshot(conn, playbook.digest, playbook.jurisdiction, playbook.to_dict(), now)
    confirmed = {"playbook_hash": playbook.digest, "created_at": now, "updated_at": now}
    rows = [{**incident_row(b.incident), **confirmed, "confirmed_at": b.incident.detected_at} for b in batch]
    # Ids matched through the unique external_ref: RETURNING in parameter order would make
    # SQLite insert one row per statement (see append_events).
    result = await conn.execute(insert(incidents).returning(incidents.c.id, incidents.c.external_ref), rows)
    by_ref = {r[1]: r[0] for r in result}
    ids = [by_ref[row["external_ref"]] for row in rows]
    events: list[IncidentEvent] = []
    for incident_id, b in zip(ids, batch, strict=True):
        detected = {"title": b.incident.title, "source": b.incident.external_ref}
        events.append(IncidentEvent(incident_id, EventKind.DETECTED, b.incident.detected_at, "ledger-import", detected))
        events.extend(IncidentEvent(incident_id, e.kind, e.at, e.actor, e.payload) for e in b.events)
    await append_events(conn, events, now, return_ids=False)
    # stored exactly as the engine stores the obligations it plans (met_by as {"ref": …}, upsert by key)
    planned = [replace(o, incident_id=i) for i, b in zip(ids, batch, strict=True) for o in b.obligations]
    await save_obligations(conn, planned, now)
    await schedule_timers(
        conn, [(i, b.incident.generation, now, "import") for i, b in zip(ids, batch, strict=True) if b.live], now
    )
    return ids
