"""从稿件手动立案 from the web: the engine's `open_from_item`, audited in its transaction and
announced to live pages after the commit (the item-side sibling of `dispatch.perform`)."""

from __future__ import annotations

from monitor.domain import DomainError, Incident
from monitor.domain import commands as c
from monitor.engine.commands import CommandResult
from monitor.engine.open_item import OpenedWithin, open_from_item
from monitor.storage.repo.audit import AuditEntry, append_audit
from monitor.storage.repo.engine import Connection
from monitor.web.actions.dispatch import ActionRejected, ActionResult, AuditContext, command_input, incident_state
from monitor.web.actions.forms import ValidCommand
from monitor.web.auth.permissions import CurrentUser
from monitor.web.services import WebServices


async def open_incident(
    services: WebServices, user: CurrentUser, item_id: int, command: ValidCommand, audit: AuditContext
) -> ActionResult:
    """Open, confirm and plan an incident from the item as `user`; a broken rule is `ActionRejected`."""
    cmd = c.OpenFromItem(item_id=item_id, actor=user.username, at=services.clock.now(), **command.values)
    try:
        result = await open_from_item(services, cmd, within=_audited(audit))
    except DomainError as exc:
        raise ActionRejected(str(exc)) from exc
    services.changes.notify_changed([result.incident_id])
    return ActionResult(
        message=result.message,
        incident_id=result.incident_id,
        generation=result.generation,
        events=tuple(e.kind.value for e in result.events),
        obligations=result.obligations,
    )


def _audited(audit: AuditContext) -> OpenedWithin:
    async def write(conn: Connection, cmd: c.OpenFromItem, after: Incident, result: CommandResult) -> None:
        state = {**incident_state(after, result.obligations), "incident_id": result.incident_id}
        entry = AuditEntry(
            at=cmd.at,
            actor=cmd.actor,
            action="item.open_incident",
            target_type="item",
            target_id=str(cmd.item_id),
            after={**state, "input": command_input(cmd), "message": result.message, "via": audit.via},
            ip=audit.ip,
            request_id=audit.request_id,
        )
        await append_audit(conn, [entry])

    return write
