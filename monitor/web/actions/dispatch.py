"""The one door from the web to the domain: `perform()`.

Every incident action, from a form or from the API, arrives here as a validated command.
Phase 2 (once the clock engine lands) builds `monitor.domain.commands.<spec.command>(incident_id=…,
actor=…, at=…, **command.values)` and awaits `monitor.engine.commands.execute(services, command)`,
which validates against the incident's state, appends timeline events, re-plans obligations and
writes outbox rows in one transaction. Until then only `AddNote` runs (it is an append to the
timeline and needs no engine); the others raise `ActionUnavailable`.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain import DomainError, EventKind, IncidentEvent
from monitor.notifications.ack import Acknowledger, AckRequest
from monitor.storage.repo.audit import AuditEntry, append_audit
from monitor.storage.repo.incidents import append_events, get_incident
from monitor.web.actions.forms import ValidCommand
from monitor.web.actions.specs import ActionSpec
from monitor.web.auth.permissions import CurrentUser
from monitor.web.services import WebServices

AVAILABLE_NOW = frozenset({"AddNote"})


class ActionUnavailable(Exception):
    """The command exists but its executor (the clock engine) is not wired in yet."""

    def __init__(self, spec: ActionSpec) -> None:
        super().__init__(f"{spec.command} is not available until the clock engine is wired in")
        self.spec = spec


class ActionRejected(Exception):
    """The command is not valid for the incident as it is now (message in zh-CN)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class AuditContext:
    ip: str | None
    request_id: str | None


@dataclass(frozen=True)
class ActionResult:
    message: str  # zh-CN, shown after the redirect
    event_ids: tuple[int, ...]


async def perform(
    services: WebServices, user: CurrentUser, incident_id: int, command: ValidCommand, audit: AuditContext
) -> ActionResult:
    """Execute `command` on the incident as `user`; announce the change after commit."""
    if command.spec.command not in AVAILABLE_NOW:
        raise ActionUnavailable(command.spec)
    result = await _add_note(services, user, incident_id, command, audit)
    services.changes.notify_changed([incident_id])
    return result


async def _add_note(
    services: WebServices, user: CurrentUser, incident_id: int, command: ValidCommand, audit: AuditContext
) -> ActionResult:
    now = services.clock.now()
    text = str(command.values["text"])
    async with services.db.write() as conn:
        incident = await get_incident(conn, incident_id, for_update=True)
        if incident is None:
            raise ActionRejected("事件不存在或已被删除")
        event = IncidentEvent(incident_id, EventKind.NOTE_ADDED, now, user.username, {"text": text})
        (event_id,) = await append_events(conn, [event], now)
        await append_audit(
            conn,
            [
                AuditEntry(
                    at=now,
                    actor=user.username,
                    action="incident.add_note",
                    target_type="incident",
                    target_id=str(incident_id),
                    before=None,
                    after={"event_id": event_id, "text": text},
                    ip=audit.ip,
                    request_id=audit.request_id,
                )
            ],
        )
    return ActionResult("备注已添加", (event_id,))


def channel_acknowledger(services: WebServices) -> Acknowledger:
    """Acknowledgements arriving from a channel (Slack's 确认收到 button) take the same door.

    Phase 2 executes `Acknowledge(incident_id, actor=req.actor, at=req.at, rule_id=req.rule_id)`
    through the engine; until then the person is told to use the duty desk.
    """

    async def acknowledge(req: AckRequest) -> str:
        if "Acknowledge" not in AVAILABLE_NOW:
            raise DomainError("「确认收到提醒」将在时限引擎接入后开放，请先在值班台处理。")
        raise AssertionError("unreachable until the engine is wired in")  # pragma: no cover

    return acknowledge
