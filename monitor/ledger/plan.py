"""The deadlines of an imported ledger row, from the clock engine's own planner (pure).

An imported row is a confirmed incident whose timeline the importer writes (CONFIRMED with the
levels, RESPONSE_RECORDED with `published_at` and evidence, CLOSED when replied), so the
engine's `decide()` derives its obligations exactly as for a live incident: the same rules of
the deployment's playbook (which rules apply, their t0, what meets them, `met_by`), the same
calendar. The CONFIRMED event carries `imported_at`: deadlines that had already passed then
are historical — counted in reports, never alerted on (not at import, not when someone later
acts on the incident). A deadline still running at the import is a live duty like any other:
the importer asks the engine to look at the incident at once, and it escalates as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.domain import EventKind, Incident, IncidentEvent, Obligation, ObligationStatus, OrgDirectory
from monitor.domain.playbooks import Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.engine.plan import decide

# Events the engine writes together with outbox rows: left to the engine's own tick.
_WITH_ALERTS = (EventKind.ESCALATED, EventKind.OBLIGATION_UNSCHEDULABLE)


@dataclass(frozen=True)
class ImportRules:
    """What imported incidents are planned under: the deployment's current rules."""

    playbook: Playbook
    calendar: WorkCalendar
    org: OrgDirectory


@dataclass(frozen=True, slots=True)
class ImportPlan:
    obligations: tuple[Obligation, ...]
    events: tuple[IncidentEvent, ...]  # obligation_opened / _met / _breached … as the engine announces them
    live: bool  # a deadline still runs (or could not be scheduled): the engine must look at it now


def plan_imported(
    incident: Incident, timeline: Sequence[IncidentEvent], rules: ImportRules, now: datetime
) -> ImportPlan:
    """The engine's decision for an imported incident at the import time `now`."""
    decision = decide(incident, timeline, rules.playbook, rules.calendar, rules.org, now)
    live = bool(decision.problems) or any(o.status == ObligationStatus.OPEN for o in decision.obligations)
    events = tuple(e for e in decision.events if e.kind not in _WITH_ALERTS)
    return ImportPlan(decision.obligations, events, live)
