"""The one door from the web to the domain: `perform()`.

Every incident action, from a form, from the API or from a channel's 确认收到 button, becomes a
`monitor.domain.commands` command executed by the clock engine (`monitor.engine.commands.execute`):
one transaction validates it against the incident as it is now, appends the timeline events,
re-plans the obligations and queues alerts. In that same transaction this module stores an
uploaded response document as evidence and writes the audit row (before/after); after the commit
it announces the change to live pages. A rule the engine enforces comes back as `ActionRejected`
with the engine's zh-CN message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Any

from monitor.domain import DomainError, Incident, Obligation
from monitor.domain import commands as c
from monitor.engine.commands import CommandTrace, Within, acknowledger, execute
from monitor.notifications.ack import Acknowledger, AckRequest
from monitor.storage.repo.audit import AuditEntry, append_audit
from monitor.storage.repo.engine import Connection
from monitor.storage.repo.items import Evidence, store_evidence
from monitor.web.actions.documents import UploadedDocument, sniff
from monitor.web.actions.forms import ValidCommand
from monitor.web.auth.permissions import CurrentUser
from monitor.web.services import WebServices

COMMANDS: dict[str, type[c.Command]] = {
    cls.__name__: cls
    for cls in (
        c.Confirm,
        c.Dismiss,
        c.Merge,
        c.Split,
        c.Reassign,
        c.Accept,
        c.Return,
        c.Regrade,
        c.SetOccurredAt,
        c.SetRegion,
        c.AttachItem,
        c.RecordResponse,
        c.RecordReport,
        c.FulfilCommitment,
        c.ReferRumor,
        c.Acknowledge,
        c.RequestPause,
        c.ApprovePause,
        c.RejectPause,
        c.AttachRule,
        c.DismissCitizenPrompt,
        c.ExtendDeadline,
        c.Supervise,
        c.AddNote,
        c.Close,
        c.Reopen,
        c.RecordEvaluation,
        c.Archive,
    )
}


class ActionRejected(Exception):
    """The command is not valid for the incident as it is now (message in zh-CN)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class AuditContext:
    ip: str | None
    request_id: str | None
    via: str = "web"  # web | api | slack


@dataclass(frozen=True)
class ActionResult:
    message: str  # the engine's zh-CN sentence, shown as a flash message
    incident_id: int
    generation: int
    events: tuple[str, ...]  # kinds of the timeline events the command and the re-plan wrote
    obligations: tuple[Obligation, ...]  # the incident's obligations now


async def perform(
    services: WebServices, user: CurrentUser, incident_id: int, command: ValidCommand, audit: AuditContext
) -> ActionResult:
    """Execute `command` on the incident as `user`; announce the change after commit."""
    values = dict(command.values)
    document = values.pop("document", None)
    if isinstance(document, UploadedDocument):
        values["document"] = document.reference()
    if "units" in COMMANDS[command.spec.command].__dataclass_fields__ and user.scope is not None:
        values["units"] = tuple(sorted(user.scope))  # a unit handler acts for their own unit only
    cmd = build_command(command.spec.command, incident_id, user.username, services.clock.now(), values)
    within = _within(audit, document if isinstance(document, UploadedDocument) else None)
    try:
        result = await execute(services, cmd, within=within)
    except DomainError as exc:
        raise ActionRejected(str(exc)) from exc
    services.changes.notify_changed(result.touched or [incident_id])
    return ActionResult(
        message=result.message,
        incident_id=result.incident_id,
        generation=result.generation,
        events=tuple(e.kind.value for e in result.events),
        obligations=result.obligations,
    )


def build_command(name: str, incident_id: int, actor: str, at: datetime, values: dict[str, Any]) -> c.Command:
    return COMMANDS[name](incident_id=incident_id, actor=actor, at=at, **values)


def audited(audit: AuditContext) -> Within:
    """The audit row of a command run outside the web (e.g. `monitor archive`), in its transaction."""
    return _within(audit, None)


def _within(audit: AuditContext, document: UploadedDocument | None) -> Within:
    """What commits together with the command: the uploaded document (as evidence) and the audit row."""

    async def write(conn: Connection, trace: CommandTrace) -> None:
        if document is not None:
            await store_evidence(conn, [_evidence(document, trace.command)])
        await append_audit(conn, [audit_entry(trace, audit)])

    return write


def _evidence(document: UploadedDocument, cmd: c.Command) -> Evidence:
    return Evidence(
        sha256=document.sha256,
        url=f"upload:{document.safe_name}",
        fetched_at=cmd.at,
        body=document.data,
        content_type=sniff(document.filename, document.data),
        headers={"filename": document.safe_name, "uploaded_by": cmd.actor, "incident_id": str(cmd.incident_id)},
    )


def audit_entry(trace: CommandTrace, audit: AuditContext) -> AuditEntry:
    cmd = trace.command
    after = {
        **incident_state(trace.after, trace.result.obligations),
        "input": command_input(cmd),
        "message": trace.result.message,
        "via": audit.via,
    }
    return AuditEntry(
        at=cmd.at,
        actor=cmd.actor,
        action=f"incident.{snake_case(type(cmd).__name__)}",
        target_type="incident",
        target_id=str(cmd.incident_id),
        before=incident_state(trace.before, trace.obligations_before),
        after=after,
        ip=audit.ip,
        request_id=audit.request_id,
    )


def incident_state(incident: Incident, obligations: Sequence[Obligation]) -> dict[str, Any]:
    """What an action can change, as plain JSON: the row's triage fields and each obligation's status."""
    return {
        "status": incident.status.value,
        "event_level": _plain(incident.event_level),
        "opinion_level": _plain(incident.opinion_level),
        "requires_response": incident.requires_response,
        "owner_unit": incident.owner_unit,
        "generation": incident.generation,
        "obligations": {_obligation_key(o): o.status.value for o in obligations},
    }


def _obligation_key(obligation: Obligation) -> str:
    return f"{obligation.rule_id}#{obligation.instance}" if obligation.instance else obligation.rule_id


def command_input(cmd: c.Command | c.OpenFromItem) -> dict[str, Any]:
    skip = {"incident_id", "actor", "at"}
    if getattr(cmd, "instance", None) is None:
        skip.add("instance")  # only a rule with several obligations (承诺 #n) names one
    return {f.name: _plain(getattr(cmd, f.name)) for f in fields(cmd) if f.name not in skip}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def channel_acknowledger(services: WebServices) -> Acknowledger:
    """Acknowledgements arriving from a channel (Slack's 确认收到 button) take the same door:
    the engine's `Acknowledge`, audited in its transaction, announced to live pages after commit."""

    async def acknowledge(req: AckRequest) -> str:
        engine_ack = acknowledger(services, within=_within(AuditContext(None, None, via=req.via), None))
        message = await engine_ack(req)
        services.changes.notify_changed([req.incident_id])
        return message

    return acknowledge
