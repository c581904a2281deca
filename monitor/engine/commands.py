"""Execute domain commands: `await execute(services, command)` — one transaction, returns what changed.

Called by the web duty queue for every action, by the CLI and by the simulation. A command that
breaks a rule raises `CommandRejected` (a `DomainError`) whose message tells the person, in
zh-CN, what was wrong and what to do. Commands that change deadlines or acknowledge alerts bump
`incidents.generation` (the fencing token), so timers scheduled before them are ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.domain import Incident, IncidentEvent, IncidentStatus, Obligation
from monitor.domain import commands as c
from monitor.domain.org import UNIT_ROLES
from monitor.domain.playbooks import Playbook
from monitor.engine.assign import ASSIGNMENT_HANDLERS
from monitor.engine.citizen import CITIZEN_HANDLERS
from monitor.engine.commitments import COMMITMENT_HANDLERS
from monitor.engine.evaluation import EVALUATION_HANDLERS
from monitor.engine.handlers import HANDLERS, Change, CommandRejected, Ctx
from monitor.engine.manual import apply_attach
from monitor.engine.plan import Decision
from monitor.engine.regroup import Applied, apply_merge, apply_split
from monitor.engine.runner import Engine, EngineServices
from monitor.engine.supervise import SUPERVISION_HANDLERS
from monitor.notifications.ack import Acknowledger, AckRequest
from monitor.storage.repo.engine import (
    Connection,
    add_corrections,
    events_of,
    list_obligations,
    load_snapshots,
    lock_incidents,
)
from monitor.storage.repo.evaluation import item_times
from monitor.storage.repo.incidents import append_events, get_incident, save_incident
from monitor.storage.repo.outbox import cancel_unit_alerts

__all__ = [
    "SYSTEM_ACTOR",
    "Change",
    "CommandRejected",
    "CommandResult",
    "CommandTrace",
    "Within",
    "acknowledger",
    "execute",
]

SYSTEM_ACTOR = "system"  # commands the service issues itself (e.g. a regrade as an incident spreads)


@dataclass(frozen=True)
class CommandResult:
    incident_id: int
    events: tuple[IncidentEvent, ...]  # written by the command, then by the re-plan
    obligations: tuple[Obligation, ...]  # the incident's obligations now
    alerts: int  # alerts queued by the re-plan
    generation: int
    message: str  # zh-CN, e.g. for a flash message
    touched: tuple[int, ...] = ()  # every incident the command changed (the merge target, the split-off one)


@dataclass(frozen=True)
class CommandTrace:
    """The state around one command, for writers that must record it in the same transaction (audit)."""

    command: c.Command
    before: Incident
    after: Incident
    obligations_before: tuple[Obligation, ...]
    result: CommandResult


# Called inside execute()'s transaction after the command and the re-plan (e.g. to write an audit row).
Within = Callable[[Connection, CommandTrace], Awaitable[None]]


async def execute(services: EngineServices, command: c.Command, *, within: Within | None = None) -> CommandResult:
    """Validate and apply `command`, re-plan the incident, and return what changed.

    `within`, when given, runs in the same transaction once the command is applied, so what it
    writes commits or rolls back together with the command.
    """
    engine = Engine(services)
    now = services.clock.now()
    async with services.db.write() as conn:
        also = [command.into_id] if isinstance(command, c.Merge) else []
        rows = {inc.id: (inc, d) for inc, d in await lock_incidents(conn, [command.incident_id, *also])}
        if command.incident_id not in rows:
            raise CommandRejected(f"事件 #{command.incident_id} 不存在，请刷新后重试。")
        incident, digest = rows[command.incident_id]
        timeline = (await events_of(conn, [command.incident_id])).get(command.incident_id, [])
        snapshots = await load_snapshots(conn, [digest] if digest else [])
        playbook = Playbook.from_dict(snapshots[digest]) if digest in snapshots else services.playbook
        ctx = Ctx(incident, timeline, playbook, services)
        before = tuple(await list_obligations(conn, [command.incident_id])) if within else ()
        events, message, others = await _apply(conn, engine, ctx, command, now)
        decision = (await engine.replan(conn, [command.incident_id, *others]))[command.incident_id]
        after = await get_incident(conn, command.incident_id) or incident
        result = _result((events, message), decision, after, others)
        if within is not None:
            await within(conn, CommandTrace(command, incident, after, before, result))
    return result


_HANDLER_TABLES = (
    ASSIGNMENT_HANDLERS,
    SUPERVISION_HANDLERS,
    COMMITMENT_HANDLERS,
    HANDLERS,
    EVALUATION_HANDLERS,
    CITIZEN_HANDLERS,
)


async def _apply_regroup(
    conn: Connection, engine: Engine, ctx: Ctx, cmd: c.Merge | c.Split | c.AttachItem, now: datetime
) -> Applied:
    """合并 / 拆分 / 并入稿件: commands that move items between incidents."""
    if isinstance(cmd, c.Merge):
        return await apply_merge(conn, ctx, cmd, now)
    if isinstance(cmd, c.Split):
        return await apply_split(conn, engine, ctx, cmd, now)
    return await apply_attach(conn, ctx, cmd, now)


async def _apply(conn: Connection, engine: Engine, ctx: Ctx, cmd: c.Command, now: datetime) -> Applied:
    if isinstance(cmd, c.Confirm):
        if ctx.incident.status != IncidentStatus.DETECTED:
            raise CommandRejected(f"事件当前状态为「{ctx.incident.status.label}」，无需再次确认。")
        events = await engine.confirm(conn, ctx.incident, cmd.at, cmd.actor, cmd.note)
        return events, "已确认，处置时限已按事发/发现时间起算", []
    if isinstance(cmd, c.Merge | c.Split | c.AttachItem):
        return await _apply_regroup(conn, engine, ctx, cmd, now)
    handler = next((table[type(cmd)] for table in _HANDLER_TABLES if type(cmd) in table), None)
    if isinstance(cmd, c.RecordEvaluation):  # the 平息时间 suggestion is computed from the item volume
        ctx = replace(ctx, volume=tuple(await item_times(conn, ctx.incident.id or 0)))
    if handler is None:
        raise CommandRejected(f"暂不支持该操作（{type(cmd).__name__}）。")
    change = handler(ctx, cmd)
    incident = change.incident
    if change.bump:
        incident = replace(incident, generation=incident.generation + 1)
    await save_incident(conn, incident, now)
    await append_events(conn, change.events, now, return_ids=False)
    if incident.owner_unit != ctx.incident.owner_unit and ctx.incident.owner_unit is not None:
        await _stop_alerts_of(conn, ctx, incident, now)
    if cmd.actor != SYSTEM_ACTOR:  # only people correct the classifier
        await add_corrections(
            conn, [(incident.id or 0, f, old, new, cmd.actor, cmd.at) for f, old, new in change.corrections]
        )
    return change.events, change.message, []


async def _stop_alerts_of(conn: Connection, ctx: Ctx, incident: Incident, now: datetime) -> None:
    """After a 改派, alerts still waiting for the former unit's people (quiet hours, retries) are not sent."""
    old, new = ctx.incident.owner_unit, incident.owner_unit
    unit = ctx.services.org.units.get(new or "")
    reason = f"未发送：事件已改派给「{unit.name if unit else new}」，提醒改发新的责任单位"
    await cancel_unit_alerts(conn, incident.id or 0, old or "", UNIT_ROLES, now, reason)


def _result(
    written: tuple[list[IncidentEvent], str], decision: Decision, incident: Incident, others: list[int]
) -> CommandResult:
    events, message = written
    return CommandResult(
        incident_id=incident.id or 0,
        touched=(incident.id or 0, *others),
        events=tuple(events) + decision.events,
        obligations=decision.obligations,
        alerts=len(decision.alerts),
        generation=incident.generation,
        message=message,
    )


def acknowledger(services: EngineServices, *, within: Within | None = None) -> Acknowledger:
    """Acknowledgements from a channel (Slack's 确认收到 button) as `Acknowledge` commands."""

    async def acknowledge(req: AckRequest) -> str:
        command = c.Acknowledge(incident_id=req.incident_id, actor=req.actor, at=req.at, rule_id=req.rule_id)
        return (await execute(services, command, within=within)).message

    return acknowledge
