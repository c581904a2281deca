"""`monitor simulate`: run the real engine on a FakeClock over a scenario, on a fresh SQLite file.

Time jumps straight to the next thing that happens (a scenario action, a restart, or the
earliest due timer), so weeks of deadlines simulate in seconds. A `restart_at` throws away the
engine, its caches and the database connection and resumes from what the database holds.

Output (one JSON object per line; times ISO 8601 in +08:00):
- {"type":"notify","at","incident","rule","step","roles","people","key"} for every alert the
  engine wrote to the outbox, in time order;
- {"type":"obligation","incident","rule","t0","due_at","status","met_at"}: each obligation's
  final state at run_until (open | met | late | breached | cancelled | paused).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.clock import FakeClock, to_local
from monitor.config import Settings
from monitor.domain import DomainError, EventKind, EventLevel, Incident, OpinionLevel, OrgDirectory
from monitor.domain import commands as c
from monitor.domain.enums import ReportKind, ResponseKind
from monitor.domain.playbooks import Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.engine.commands import execute
from monitor.engine.runner import Engine
from monitor.policy.scenario import Scenario, ScenarioAction, ScenarioIncident, action_error
from monitor.storage.db import Database
from monitor.storage.migrate import migrate
from monitor.storage.repo.engine import all_outbox, incident_by_ref, incident_refs, list_obligations, next_timer_at
from monitor.storage.repo.incidents import create_incidents, get_incident, list_events

MAX_STEPS = 200_000


@dataclass
class SimServices:
    db: Database
    clock: FakeClock
    org: OrgDirectory
    playbook: Playbook
    calendar: WorkCalendar
    settings: Settings = field(default_factory=Settings)


def iso(at: datetime | None) -> str | None:
    return to_local(at).isoformat() if at else None


async def simulate(
    scenario: Scenario, playbook: Playbook, calendar: WorkCalendar, org: OrgDirectory
) -> list[dict[str, Any]]:
    """Run the scenario and return the output lines (as dicts)."""
    with tempfile.TemporaryDirectory(prefix="monitor-sim-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'simulation.db'}"
        db = Database.open(url)
        await migrate(db)
        services = SimServices(db, FakeClock(scenario.start), org, playbook, calendar)
        try:
            await Simulation(scenario, services, url).run()
            return await output(services.db, scenario)
        finally:
            await services.db.close()


class Simulation:
    def __init__(self, scenario: Scenario, services: SimServices, url: str) -> None:
        self.scenario, self.services, self.url = scenario, services, url
        self.engine = Engine(services)
        self.ids: dict[str, int] = {}
        self.todo: list[tuple[datetime, int, Callable[[], Any]]] = []
        for n, inc in enumerate(scenario.incidents):
            self._at(inc.detected_at, n, functools.partial(self._create, inc))
            for action in inc.actions:
                self._at(action.at, 10_000 + action.order, functools.partial(self._act, inc, action))
        for at in scenario.restart_at:
            self._at(at, -1, self.restart)
        self.todo.sort(key=lambda t: (t[0], t[1]))

    def _at(self, when: datetime, order: int, fn: Callable[[], Any]) -> None:
        self.todo.append((max(when, self.scenario.start), order, fn))

    async def run(self) -> None:
        clock, until = self.services.clock, self.scenario.run_until
        for _ in range(MAX_STEPS):
            async with self.services.db.read() as conn:
                timer = await next_timer_at(conn)
            candidates = [t for t in (timer, self.todo[0][0] if self.todo else None) if t is not None]
            nxt = max(min(candidates, default=until), clock.now())
            if nxt > until:
                break
            clock.set(nxt)
            while self.todo and self.todo[0][0] <= nxt:
                await self.todo[0][2]()  # popped only once done: after a crash it is retried
                self.todo.pop(0)
            await self.engine.tick()
            if nxt == until and not self.todo:
                break
        else:
            raise RuntimeError(f"simulation did not reach run_until within {MAX_STEPS} steps; shorten run_until")
        clock.set(until)
        await self.engine.tick()

    async def restart(self) -> None:
        """Drop every in-memory thing the engine has and resume from the database."""
        await self.services.db.close()
        self.services.db = Database.open(self.url)
        self.engine = Engine(self.services)

    async def _create(self, inc: ScenarioIncident) -> None:
        incident = Incident(
            title=inc.title,
            detected_at=inc.detected_at,
            occurred_at=inc.occurred_at,
            first_published_at=inc.first_published_at,
            event_level=inc.event_level,
            opinion_level=inc.opinion_level,
            requires_response=True if inc.requires_response is None else inc.requires_response,
            owner_unit=inc.owner_unit,
            region=inc.region,
            external_ref=inc.ref,
        )
        now = self.services.clock.now()
        async with self.services.db.write() as conn:  # idempotent, so a retry after a crash is safe
            found = await incident_by_ref(conn, inc.ref)
            iid = found or (await create_incidents(conn, [incident], now))[0]
            timeline = await list_events(conn, iid)
        self.ids[inc.ref] = iid
        if inc.confirmed and not any(e.kind == EventKind.CONFIRMED for e in timeline):
            await execute(self.services, c.Confirm(incident_id=iid, actor="scenario", at=inc.detected_at))
        await self._keep_requires_response(iid, inc)
        attached = {e.payload.get("rule") for e in timeline if e.kind == EventKind.RULE_ATTACHED}
        for rule_id, t0 in inc.extra_rules:
            if rule_id not in attached:
                at = max(now, t0) if t0 else now  # a scenario's message may come later: attached when it does
                attach = c.AttachRule(incident_id=iid, actor="scenario", at=at, rule_id=rule_id, t0=t0)
                await execute(self.services, attach)

    async def _keep_requires_response(self, iid: int, inc: ScenarioIncident) -> None:
        """A scenario that names requires_response keeps it: confirmation derives it otherwise."""
        if inc.requires_response is None:
            return
        async with self.services.db.read() as conn:
            incident = await get_incident(conn, iid)
        if incident is None or incident.requires_response == inc.requires_response:
            return
        regrade = c.Regrade(incident_id=iid, actor="scenario", at=inc.detected_at, reason="演练脚本指定是否需要回应",
                            requires_response=inc.requires_response)  # fmt: skip
        await execute(self.services, regrade)

    async def _act(self, inc: ScenarioIncident, action: ScenarioAction) -> None:
        iid, now = self.ids[inc.ref], self.services.clock.now()
        try:
            if action.do == "pause":
                await self._pause(iid, action, now)
            else:
                await execute(self.services, _command(iid, action, now))
            if action.do == "confirm":
                await self._keep_requires_response(iid, inc)
        except (DomainError, ValueError, KeyError) as exc:
            raise action_error(action, str(exc)) from exc

    async def _pause(self, iid: int, action: ScenarioAction, now: datetime) -> None:
        """A scenario pause is a request by `by` and an approval by `approved_by`."""
        f = action.fields
        actor = str(f.get("by", "值班员"))
        request = c.RequestPause(
            incident_id=iid, actor=actor, at=now, rule_id=f["rule"], until=f["until"], reason=str(f.get("reason", ""))
        )
        await execute(self.services, request)
        async with self.services.db.read() as conn:
            timeline = await list_events(conn, iid)
        seq = max(e.seq or 0 for e in timeline if e.kind == EventKind.PAUSE_REQUESTED)
        approver = str(f.get("approved_by", ""))
        await execute(self.services, c.ApprovePause(incident_id=iid, actor=approver, at=now, request_seq=seq))


def _command(iid: int, a: ScenarioAction, at: datetime) -> c.Command:
    f, by = a.fields, str(a.fields.get("by", "值班员"))
    base: dict[str, Any] = {"incident_id": iid, "actor": by, "at": at}
    if a.do == "record_response":
        return c.RecordResponse(
            **base,
            kind=ResponseKind(f["kind"]),
            approved_by=str(f.get("approved_by", "")),
            url=f.get("url"),
            document=f.get("document"),
            published_at=f.get("published_at"),
            summary=str(f.get("summary", "")),
        )
    if a.do == "record_report":
        kind = ReportKind(f["report_kind"])
        return c.RecordReport(**base, report_kind=kind, channel=f["channel"], signer=str(f.get("signer", "")))
    if a.do == "regrade":
        return _regrade(base, f)
    simple: dict[str, Callable[[], c.Command]] = {
        "confirm": lambda: c.Confirm(**base, note=str(f.get("note", ""))),
        "dismiss": lambda: c.Dismiss(**base, reason=str(f.get("reason", ""))),
        "acknowledge": lambda: c.Acknowledge(**base, rule_id=f.get("rule")),
        "attach_rule": lambda: c.AttachRule(**base, rule_id=f["rule"], t0=f.get("t0"), reason=str(f.get("reason", ""))),
        "extend": lambda: c.ExtendDeadline(
            **base, rule_id=f["rule"], reason=f.get("reason", ""), approved_by=f.get("approved_by", "")
        ),
        "reassign": lambda: c.Reassign(**base, owner_unit=f["department"], reason=str(f.get("reason", ""))),
        "accept": lambda: c.Accept(**base, note=str(f.get("note", ""))),
        "return": lambda: c.Return(**base, reason=str(f.get("reason", ""))),
        "supervise": lambda: c.Supervise(
            **base, level=f["level"], reason=str(f.get("reason", "")), by=str(f.get("signed_by", by))
        ),
        "note": lambda: c.AddNote(**base, text=str(f.get("text", ""))),
        "close": lambda: c.Close(**base, reason=str(f.get("reason", ""))),
        "reopen": lambda: c.Reopen(**base, reason=str(f.get("reason", ""))),
    }
    return simple[a.do]()


def _regrade(base: dict[str, Any], f: dict[str, Any]) -> c.Regrade:
    level = f.get("event_level", "keep")
    return c.Regrade(
        **base,
        reason=str(f.get("reason", "")),
        event_level=EventLevel(level) if level not in (None, "keep") else None,
        clear_event_level=level is None,
        opinion_level=OpinionLevel(f["opinion_level"]) if f.get("opinion_level") else None,
        requires_response=f.get("requires_response"),
    )


async def output(db: Database, scenario: Scenario) -> list[dict[str, Any]]:
    async with db.read() as conn:
        refs = await incident_refs(conn)
        rows = await all_outbox(conn)
        obligations = await list_obligations(conn)
    lines: list[dict[str, Any]] = []
    grouped: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = r.idempotency_key.rsplit(":", 1)[0]
        p = r.payload
        line = grouped.get(key)
        if line is None:
            rule = (p.get("rule") or {}).get("id")
            line = {"type": "notify", "at": iso(r.created_at), "incident": refs.get(r.incident_id), "rule": rule,
                    "step": p.get("step"), "roles": [], "people": [], "key": key}  # fmt: skip
            grouped[key] = line
            lines.append(line)
        if p.get("role") and p["role"] not in line["roles"]:
            line["roles"].append(p["role"])
        if r.recipient and r.recipient not in line["people"]:
            line["people"].append(r.recipient)
    for ob in obligations:
        lines.append(
            {
                "type": "obligation",
                "incident": refs.get(ob.incident_id),
                "rule": ob.rule_id,
                "t0": iso(ob.t0),
                "due_at": iso(ob.due_at),
                "status": ob.status_at(scenario.run_until).value,
                "met_at": iso(ob.met_at),
            }
        )
    return lines
