"""Clustering adapter: attach classified relevant items to incidents (docs/contracts.md §1).

Reads pending items and the open incidents active within the window, asks the pure
`monitor.domain.clustering.assign` where each item goes, and writes the result in ONE
transaction: new incidents (with their DETECTED event), incident_items rows with the reason,
one ITEM_ATTACHED timeline event per item, refreshed spread statistics, and a re-plan request for
every incident that an item joined (its deadlines may run from an earlier first publication now).
Old news that joins nothing opens no incident: it is held (`hold_items`), not considered again,
and the items list shows why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from monitor.clock import Clock
from monitor.config import Settings
from monitor.domain import EventKind, IncidentEvent, IncidentStatus
from monitor.domain.clustering import Assignment, Candidate, ClusterPolicy, ItemFacts, assign, join, new_incident
from monitor.domain.responsibility import opening_units
from monitor.storage.db import Connection, Database
from monitor.storage.repo.clusters import (
    add_co_units,
    attach,
    hold_items,
    one_pass_at_a_time,
    open_incident_items,
    pending_relevant_items,
    refresh_incident_stats,
)
from monitor.storage.repo.engine import request_replan
from monitor.storage.repo.incidents import append_events, create_incidents

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClusterResult:
    items: int
    joined: int
    opened: int
    held: int = 0  # old news that joined nothing and opened no incident


def policy_from_settings(settings: Settings) -> ClusterPolicy:
    return ClusterPolicy(
        window=timedelta(hours=settings.cluster_window_h),
        threshold=settings.cluster_threshold,
        follow_up=timedelta(hours=settings.cluster_follow_up_h),
        stale_after=timedelta(hours=settings.cluster_stale_after_h),
    )


async def cluster_pending(db: Database, clock: Clock, policy: ClusterPolicy, *, limit: int = 500) -> ClusterResult:
    """Attach every pending relevant item (up to `limit`); returns counts."""
    now = clock.now()
    async with db.write() as conn:
        await one_pass_at_a_time(conn)
        pending = await pending_relevant_items(conn, limit)
        if not pending:
            return ClusterResult(0, 0, 0)
        since = now - policy.window
        rows = await open_incident_items(conn, since, open_since=now - max(policy.window, policy.follow_up))
        opened, joined = await _apply(conn, pending, _candidates(rows), policy, now)
    return ClusterResult(len(pending), joined, opened, len(pending) - opened - joined)


def _facts(row: Any) -> ItemFacts:
    return ItemFacts(
        id=row.id,
        title=row.title,
        text=row.text_norm or row.text or "",
        at=row.published_at or row.fetched_at,
        region=row.region,
        event_type=row.event_type,
        duplicate_of=row.duplicate_of,
        fetched_at=row.fetched_at,
    )


def _candidates(rows: list[Any]) -> list[Candidate]:
    by_id: dict[int, Candidate] = {}
    for row in rows:
        candidate = by_id.get(row.incident_id)
        if candidate is None:
            candidate = Candidate(row.incident_id, row.incident_region, row.incident_event_type, row.at)
            candidate.open = IncidentStatus(row.incident_status).is_open
            by_id[row.incident_id] = candidate
        join(candidate, ItemFacts(row.id, row.title, row.lead or "", row.at))
    return list(by_id.values())


async def _apply(
    conn: Connection, pending: list[Any], candidates: list[Candidate], policy: ClusterPolicy, now: Any
) -> tuple[int, int]:
    """Assign in order (items later in the batch may join incidents opened earlier in it)."""
    attachments: list[tuple[Any, Assignment]] = []
    openers: list[Any] = []  # rows that open an incident; temporary id -(index + 1) until stored
    held: list[tuple[Any, Assignment]] = []
    for row in pending:
        facts = _facts(row)
        decision = assign(facts, candidates, policy)
        if decision.held:
            held.append((row, decision))
            continue
        if decision.incident_id is None:
            openers.append(row)
            decision = Assignment(row.id, -len(openers), decision.reason)
            candidates.append(Candidate(-len(openers), row.region, row.event_type, facts.at))
        join(next(c for c in candidates if c.incident_id == decision.incident_id), facts)
        attachments.append((row, decision))
    real = await create_incidents(conn, [new_incident(row, row.fetched_at) for row in openers], now)
    resolved = [(row, _resolve(d, real)) for row, d in attachments]
    await attach(conn, [_attachment(row, d, now) for row, d in resolved])
    added = await add_co_units(conn, _brought(resolved, {row.id for row in openers}), now)
    events = [_event(row, d, now) for row, d in resolved]
    await append_events(conn, _with_co_units(events, resolved, added), now)
    await refresh_incident_stats(conn, [d.incident_id for _, d in resolved if d.incident_id is not None], now)
    # A joined item may move first_published_at (the t0 of earliest-publication rules) earlier:
    # the engine re-plans those incidents now, not at their next wake-up (new ones it plans anyway).
    joined = {d.incident_id for _, d in attachments if d.incident_id is not None and d.incident_id > 0}
    joined -= {c.incident_id for c in candidates if not c.open}
    await request_replan(conn, sorted(joined), now, "clustered")
    await hold_items(conn, [(row.id, row.classification, {**d.reason, "at": now.isoformat()}) for row, d in held])
    if held:
        log.info("held %d old item(s) that joined no incident (cluster_stale_after_h)", len(held))
    return len(openers), len(attachments) - len(openers)


def _brought(resolved: list[tuple[Any, Assignment]], openers: set[int]) -> dict[int, tuple[list[str], bool]]:
    """Co-units (and 涉及多地) that items joining incidents bring, per incident (an opening item's
    units are on the incident it opened already)."""
    brought: dict[int, tuple[list[str], bool]] = {}
    for row, decision in resolved:
        if decision.incident_id is None or row.id in openers:
            continue
        units = opening_units(row.department, row.classification)
        before, several = brought.get(decision.incident_id, ([], False))
        brought[decision.incident_id] = ([*before, *units.co_units], several or units.multi_region)
    return brought


def _with_co_units(
    events: list[IncidentEvent], resolved: list[tuple[Any, Assignment]], added: dict[int, list[str]]
) -> list[IncidentEvent]:
    """Say on the attaching item's timeline event which co-units it added (the first item naming one)."""
    left = {iid: list(units) for iid, units in added.items()}
    out = []
    for event, (row, _) in zip(events, resolved, strict=True):
        pending = left.get(event.incident_id, [])
        mine = [u for u in opening_units(row.department, row.classification).co_units if u in pending]
        for unit in mine:
            left[event.incident_id].remove(unit)
        out.append(replace(event, payload={**event.payload, "co_units_added": mine}) if mine else event)
    return out


def _resolve(decision: Assignment, real_ids: list[int]) -> Assignment:
    incident_id = decision.incident_id
    if incident_id is not None and incident_id < 0:
        return Assignment(decision.item_id, real_ids[-incident_id - 1], decision.reason)
    return decision


def _attachment(row: Any, decision: Assignment, now: Any) -> dict[str, Any]:
    return {"incident_id": decision.incident_id, "item_id": row.id, "attached_at": now, "reason": decision.reason}


def _event(row: Any, decision: Assignment, now: Any) -> IncidentEvent:
    assert decision.incident_id is not None
    payload = {
        "item_id": row.id,
        "title": row.title,
        "url": row.url,
        "media_tier": row.media_tier,
        "media_type": row.media_type,
        "event_level": row.event_level,
        "opinion_level": row.opinion_level,
        "reason": decision.reason,
    }
    return IncidentEvent(decision.incident_id, EventKind.ITEM_ATTACHED, now, "system", payload)
