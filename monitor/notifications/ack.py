"""Acknowledgements that arrive through a channel (a Slack button today).

The notifier does not own incident state: it hands an `AckRequest` to an `Acknowledger` chosen
at wiring time. In the running service that is the engine's command path, e.g.::

    async def acknowledge(req: AckRequest) -> str:
        await monitor.engine.commands.execute(services, Acknowledge(
            incident_id=req.incident_id, actor=req.actor, at=req.at, rule_id=req.rule_id))
        return "已确认收到"

`record_ack_event` is a minimal implementation (it appends the ACKNOWLEDGED timeline event
directly) for the demo and the tests until the engine's command exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from monitor.domain import DomainError, EventKind, IncidentEvent
from monitor.storage.db import Database
from monitor.storage.repo.incidents import append_events, get_incident


@dataclass(frozen=True)
class AckRequest:
    incident_id: int
    rule_id: str | None  # the deadline the alert was about; None = the incident as a whole
    actor: str  # person id from the org directory
    at: datetime
    via: str  # channel the acknowledgement came through, e.g. "slack"
    outbox_id: int | None = None  # the notification that was acknowledged


# Returns a short zh-CN confirmation for the person; raises DomainError when it cannot be recorded.
Acknowledger = Callable[[AckRequest], Awaitable[str]]


def record_ack_event(db: Database) -> Acknowledger:
    """An Acknowledger that appends ACKNOWLEDGED to the incident's timeline."""

    async def acknowledge(req: AckRequest) -> str:
        async with db.write() as conn:
            if await get_incident(conn, req.incident_id, for_update=True) is None:
                raise DomainError(f"事件 #{req.incident_id} 不存在")
            payload = {"rule_id": req.rule_id, "via": req.via, "outbox_id": req.outbox_id}
            await append_events(
                conn, [IncidentEvent(req.incident_id, EventKind.ACKNOWLEDGED, req.at, req.actor, payload)], req.at
            )
        return "已确认收到"

    return acknowledge
