"""Plain rows the monthly report is built from (pure; stdlib only).

`monitor.storage.repo.reports` reads the database and returns these; `monitor.reports.build`
turns them into a report. Only the repository knows table columns and event payload keys, so
when the clock engine's payloads change, only the repository changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """One incident detected in the reporting period, with its first public response."""

    id: int
    title: str
    detected_at: datetime
    status: str  # IncidentStatus value
    event_level: str | None  # EventLevel value (I–IV) or None (not a 突发事件)
    opinion_level: str | None  # OpinionLevel value (L1–L4)
    event_type: str | None  # EventType value
    owner_unit: str | None  # unit id (or the unit's name, for imported ledgers without a mapping)
    region: str | None
    requires_response: bool
    item_count: int = 0
    first_response_at: datetime | None = None  # earliest published response known at the cut-off
    response_count: int = 0
    assigned_at: datetime | None = None  # 交办 to the current owning unit (None when after the cut-off)
    accepted_at: datetime | None = None  # its 认领 (None when after the cut-off)
    returned_reason: str | None = None  # the latest 退回's reason
    media_type: str | None = None  # MediaType value of its first item (earliest published), else an import's


@dataclass(frozen=True, slots=True)
class ObligationFacts:
    """One deadline (rule applied to an incident) with the incident fields reports group by."""

    id: int
    incident_id: int
    rule_id: str
    instance: int
    due_at: datetime  # as stored: already moved by approved pauses
    status: str  # ObligationStatus value as stored
    met_at: datetime | None
    met_by: str | None
    owner_unit: str | None
    event_level: str | None
    opinion_level: str | None
    incident_title: str = ""
    outcome: str = ""  # as at the cut-off: met_on_time | met_late | breached | paused | pending | cancelled


@dataclass(frozen=True, slots=True)
class ObligationTally:
    """How many deadlines of one rule and unit due in the period had one outcome at the cut-off."""

    rule_id: str
    owner_unit: str | None
    outcome: str  # met_on_time | met_late | breached | paused | pending | cancelled
    count: int


@dataclass(frozen=True, slots=True)
class EscalationFacts:
    """A rung of an escalation ladder that fired (预警、超期、升级、督办) and whom it reached."""

    incident_id: int
    rule_id: str | None
    instance: int
    at: datetime
    kind: str  # deadline_warning | deadline_breach | escalation | supervision
    step: str
    roles: tuple[str, ...]
    people: tuple[str, ...]  # person ids of the org directory
    delivered_at: datetime | None = None  # earliest delivery recorded in the outbox, when known


@dataclass(frozen=True, slots=True)
class PauseFacts:
    """A request to pause a deadline's clock and what became of it."""

    incident_id: int
    rule_id: str
    requested_at: datetime
    requested_by: str
    until: datetime | None
    reason: str
    outcome: str  # approved | rejected | pending
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str = ""


@dataclass(frozen=True, slots=True)
class RegradeFacts:
    """A change of level (调整级别) with its reason."""

    incident_id: int
    at: datetime
    actor: str
    reason: str
    event_level_before: str | None
    event_level_after: str | None
    opinion_level_before: str | None
    opinion_level_after: str | None


@dataclass(frozen=True, slots=True)
class CorrectionFacts:
    """A correction of the classifier by a person (used to retrain it)."""

    incident_id: int | None
    item_id: int | None
    field: str  # relevant | department | event_level | event_type | region
    old_value: str | None
    new_value: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class TimelineFacts:
    """One line of an incident's timeline, for 重点舆情简析 (payload already interpreted)."""

    incident_id: int
    seq: int
    at: datetime
    kind: str  # EventKind value
    actor: str
    rule_id: str | None = None
    response_kind: str | None = None  # ResponseKind value of a recorded response
    evidence: str | None = None  # URL or document reference of a response
    reason: str | None = None  # reason or note text
    people: tuple[str, ...] = ()  # whom an escalation reached (person ids)
    escalation_kind: str | None = None  # deadline_warning | deadline_breach | escalation | supervision
    event_level: str | None = None  # levels after a (re)grade
    opinion_level: str | None = None
    owner_unit: str | None = None  # the new owner after a reassignment


UNKNOWN_LEVEL = "?"  # a level before a re-grade that the timeline does not tell


@dataclass(frozen=True, slots=True)
class CommitmentFacts:
    """A 承诺事项 whose deadline falls in the month, as known at the cut-off (承诺兑现率, DOMAIN.md §5.2)."""

    incident_id: int
    title: str
    owner_unit: str | None
    number: int  # the commitment's number on its incident
    text: str
    due_at: datetime  # the end of the promised day (later by any approved pause)
    fulfilled_at: datetime | None  # fulfilment recorded by the cut-off (always with its public link)
    disclosed_url: str | None
