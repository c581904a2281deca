"""从稿件手动立案: `await open_from_item(services, OpenFromItem(...))` — one transaction.

The item must be in no incident (its row is locked first, and incident_items.item_id is unique, so a
double submit or two people at once open one incident, never two). The new incident takes the
classifier's outputs with the person's choices over them, is detected when the item was, is
confirmed at once by the person (playbook snapshot, 交办 to the owning unit) and planned like any
other; its timeline says who opened it from which item and why, and the item's corrections are
recorded for `monitor retrain`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from monitor.domain import EventKind, Incident, IncidentEvent
from monitor.domain import commands as c
from monitor.engine.commands import CommandResult
from monitor.engine.manual import (
    attached_event,
    check_choices,
    free_item,
    manual_reason,
    opened_incident,
    opening_corrections,
    require_reason,
)
from monitor.engine.runner import Engine, EngineServices
from monitor.storage.repo.clusters import attach, refresh_incident_stats
from monitor.storage.repo.engine import Connection
from monitor.storage.repo.incidents import append_events, create_incidents, get_incident
from monitor.storage.repo.manual import add_item_corrections

# Called inside the transaction once the incident is opened and planned (e.g. the web's audit row).
OpenedWithin = Callable[[Connection, c.OpenFromItem, Incident, CommandResult], Awaitable[None]]


async def open_from_item(
    services: EngineServices, cmd: c.OpenFromItem, *, within: OpenedWithin | None = None
) -> CommandResult:
    """Open, confirm and plan an incident from the item; a rule broken raises `CommandRejected`."""
    reason = require_reason(cmd.reason, "立案理由")
    engine, now = Engine(services), services.clock.now()
    async with services.db.write() as conn:
        row = await free_item(conn, cmd.item_id)
        check_choices(cmd, services.org, row.fetched_at)
        incident = opened_incident(row, cmd)
        (iid,) = await create_incidents(conn, [incident], now, actor=cmd.actor)
        await attach(
            conn, [{"incident_id": iid, "item_id": row.id, "attached_at": now, "reason": manual_reason(cmd, reason)}]
        )
        await refresh_incident_stats(conn, [iid], now)
        fixes = opening_corrections(row, incident)
        events = [_opened_event(iid, row, cmd, reason, fixes), attached_event(row, iid, cmd, reason)]
        await append_events(conn, events, now, return_ids=False)
        await add_item_corrections(conn, [(row.id, iid, f, old, new, cmd.actor, cmd.at) for f, old, new in fixes])
        stored = await get_incident(conn, iid)
        assert stored is not None
        events += await engine.confirm(conn, stored, cmd.at, cmd.actor, f"从稿件 #{row.id} 手动立案：{reason}")
        decision = (await engine.replan(conn, [iid]))[iid]
        after = await get_incident(conn, iid) or stored
        result = CommandResult(
            incident_id=iid,
            touched=(iid,),
            events=(*events, *decision.events),
            obligations=decision.obligations,
            alerts=len(decision.alerts),
            generation=after.generation,
            message=_message(services, iid, after),
        )
        if within is not None:
            await within(conn, cmd, after, result)
    return result


def _opened_event(
    iid: int, row: Any, cmd: c.OpenFromItem, reason: str, fixes: list[tuple[str, Any, Any]]
) -> IncidentEvent:
    payload = {
        "item_id": row.id,
        "title": row.title,
        "reason": reason,
        "corrected": {f: [_plain(old), _plain(new)] for f, old, new in fixes},
    }
    if cmd.occurred_at is not None:
        payload["occurred_at"] = cmd.occurred_at.isoformat()
    return IncidentEvent(iid, EventKind.OPENED_BY_HAND, cmd.at, cmd.actor, payload)


def _plain(value: object) -> object:
    return getattr(value, "value", value)


def _message(services: EngineServices, iid: int, incident: Incident) -> str:
    owner = services.org.units.get(incident.owner_unit or "")
    handed = f"，已交办给「{owner.name}」" if owner else "，尚无责任单位：请在事件页「改派责任单位」中指定"
    return f"已从稿件立案为事件 #{iid} 并确认{handed}；时限从稿件发现时间起算"


__all__ = ["OpenedWithin", "open_from_item"]
