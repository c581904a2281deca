"""Fold an incident's append-only timeline into the facts obligations are derived from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.clock import parse_instant
from monitor.domain import EventKind, EventLevel, Incident, IncidentEvent, OpinionLevel
from monitor.domain.commitments import CommitmentRecord, commitments_of
from monitor.domain.playbooks import Levels

ObligationKey = tuple[str, int]  # (rule id, instance)


@dataclass(frozen=True, slots=True)
class Meeting:
    """Something that can meet an obligation: a response, a report, or a triage outcome."""

    token: str  # response kind, report token, "confirm" or "dismiss"
    at: datetime  # when it was published / made
    seq: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LevelState:
    at: datetime
    levels: Levels
    reason: str


@dataclass(frozen=True, slots=True)
class Ack:
    at: datetime
    rule_id: str | None
    actor: str
    instance: int | None = None  # one obligation of the rule (承诺 #n); None: all of the rule's


def _instance(payload: dict[str, Any]) -> int | None:
    value = payload.get("instance")
    return int(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class Pause:
    rule_id: str
    start: datetime
    until: datetime
    reason: str
    request_seq: int
    instance: int | None = None  # the one obligation paused (承诺 #n); None: every obligation of the rule

    def covers(self, rule_id: str, instance: int) -> bool:
        return self.rule_id == rule_id and self.instance in (None, instance)


@dataclass(frozen=True, slots=True)
class Assignment:
    """A 交办 to a unit (at confirmation, or by a 改派)."""

    at: datetime
    unit: str | None
    seq: int


@dataclass(frozen=True, slots=True)
class Returned:
    """A 退回 by the owning unit, waiting for the duty officers' 改派."""

    at: datetime
    unit: str | None
    reason: str
    seq: int


@dataclass(frozen=True, slots=True)
class Supervision:
    """A 提醒/催办/督办/通报 by 政府办（督查） (SUPERVISED event)."""

    at: datetime
    level: str  # SupervisionLevel value
    reason: str
    by: str
    unit: str | None  # the owning unit it pressed
    seq: int


@dataclass(frozen=True, slots=True)
class Announced:
    status: str
    due_at: str


@dataclass
class Facts:
    """What the timeline says, in the terms obligations need."""

    incident: Incident
    confirmed_at: datetime | None = None
    ended: tuple[datetime, str, str] | None = None  # (at, kind: dismissed | merged, reason)
    closed: tuple[datetime, str] | None = None  # current close (None once reopened)
    levels: list[LevelState] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    pauses: list[Pause] = field(default_factory=list)
    attached: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)  # rule -> (t0, at)
    extended: dict[str, datetime] = field(default_factory=dict)
    announced: dict[ObligationKey, Announced] = field(default_factory=dict)
    fired: dict[ObligationKey, set[str]] = field(default_factory=dict)
    fired_seq: dict[ObligationKey, dict[str, int]] = field(default_factory=dict)  # rung -> seq of its event
    notified: set[str] = field(default_factory=set)  # alerts outside the ladders already sent (退回)
    assigned: Assignment | None = None  # the current 交办
    accepted_at: datetime | None = None  # 认领 of the current 交办
    returned: Returned | None = None  # a 退回 not yet followed by a new 交办
    supervisions: list[Supervision] = field(default_factory=list)  # 政府办督查, in timeline order
    leader_escalated: dict[ObligationKey, datetime] = field(default_factory=dict)  # first rung past due to a leader
    resumed: set[int] = field(default_factory=set)
    problems: set[str] = field(default_factory=set)
    imported_at: datetime | None = None  # confirmed by a ledger import at this time (historical incident)
    commitments: list[CommitmentRecord] = field(default_factory=list)  # 承诺事项 of the responses, in order

    def historical(self, due_at: datetime) -> bool:
        """A deadline that had passed before the incident was imported: counted, never alerted on."""
        return self.imported_at is not None and due_at <= self.imported_at

    @property
    def triage_needed(self) -> bool:
        """Incidents confirmed at the moment of detection (e.g. entered by hand) skip 研判."""
        return self.confirmed_at is None or self.confirmed_at > self.incident.detected_at

    def current_levels(self) -> Levels:
        if self.levels:
            return self.levels[-1].levels
        return levels_of(self.incident)


def levels_of(incident: Incident) -> Levels:
    return Levels(incident.event_level, incident.opinion_level, incident.requires_response)


def _levels_from(payload: dict[str, Any], before: Levels) -> Levels:
    event = payload.get("event_level", before.event_level and before.event_level.value)
    opinion = payload.get("opinion_level", before.opinion_level and before.opinion_level.value)
    return Levels(
        EventLevel(event) if event else None,
        OpinionLevel(opinion) if opinion else None,
        bool(payload.get("requires_response", before.requires_response)),
    )


def _time(payload: dict[str, Any], key: str, default: datetime) -> datetime:
    value = payload.get(key)
    return parse_instant(value) if value else default


def _on_confirmed(f: Facts, e: IncidentEvent) -> None:
    f.confirmed_at = e.at
    if e.payload.get("imported_at"):
        f.imported_at = parse_instant(e.payload["imported_at"])
    f.levels = [LevelState(e.at, _levels_from(e.payload, levels_of(f.incident)), "确认")]


def _on_regraded(f: Facts, e: IncidentEvent) -> None:
    f.levels.append(LevelState(e.at, _levels_from(e.payload, f.current_levels()), e.payload.get("reason", "")))


def _on_response(f: Facts, e: IncidentEvent) -> None:
    """A response meets obligations only with evidence (a URL or a document) and who approved it.

    The command handler refuses a response without them; this keeps any other writer of the
    timeline (an import, a hand-made event) from meeting a deadline with an unsupported claim.
    """
    p = e.payload
    if not (p.get("url") or p.get("document")) or not p.get("approved_by"):
        return
    f.meetings.append(Meeting(p["kind"], _time(p, "published_at", e.at), e.seq or 0, p))


def _on_report(f: Facts, e: IncidentEvent) -> None:
    kind, channel = e.payload["report_kind"], e.payload.get("channel")
    token = f"report_first_{channel}" if kind == "first" else f"report_{kind}"
    f.meetings.append(Meeting(token, _time(e.payload, "reported_at", e.at), e.seq or 0, e.payload))


def _on_ended(kind: str) -> Callable[[Facts, IncidentEvent], None]:
    def handle(f: Facts, e: IncidentEvent) -> None:
        if kind == "dismissed":
            f.meetings.append(Meeting("dismiss", e.at, e.seq or 0, e.payload))
        reason = e.payload.get("reason") or (f"并入事件 #{e.payload.get('into_id')}" if kind == "merged" else "")
        f.ended = (e.at, kind, reason)

    return handle


def _on_closed(f: Facts, e: IncidentEvent) -> None:
    f.closed = (e.at, e.payload.get("reason", ""))


def _on_reopened(f: Facts, e: IncidentEvent) -> None:
    f.closed = None
    if f.ended and f.ended[1] == "dismissed":
        f.ended = None


def _on_pause(f: Facts, e: IncidentEvent) -> None:
    p = e.payload
    until = parse_instant(p["until"])
    f.pauses.append(Pause(p["rule"], e.at, until, p.get("reason", ""), p["request_seq"], _instance(p)))


def _on_obligation(f: Facts, e: IncidentEvent) -> None:
    key = (e.payload["rule"], int(e.payload.get("instance", 0)))
    f.announced[key] = Announced(e.payload["status"], e.payload["due_at"])


# Rungs at or after a deadline, and the roles that make one an escalation to leaders (已升级).
PAST_DUE_KINDS = frozenset({"deadline_breach", "escalation", "supervision"})
LEADER_ROLES = frozenset({"deputy_leader", "principal"})


def reaches_leaders(payload: dict[str, Any]) -> bool:
    """An ESCALATED event of a rung past the deadline that reached 分管领导 or 主要负责人."""
    return payload.get("kind") in PAST_DUE_KINDS and bool(LEADER_ROLES & set(payload.get("roles") or ()))


def _on_escalated(f: Facts, e: IncidentEvent) -> None:
    steps = e.payload.get("steps", [e.payload["step"]])
    if e.payload.get("rule") is None:  # an alert of no obligation (退回 to the duty officers, 督办)
        f.notified.update(steps)
        return
    key = (e.payload["rule"], int(e.payload.get("instance", 0)))
    f.fired.setdefault(key, set()).update(steps)
    f.fired_seq.setdefault(key, {}).update(dict.fromkeys(steps, e.seq or 0))
    if reaches_leaders(e.payload):
        f.leader_escalated.setdefault(key, e.at)


def _on_supervised(f: Facts, e: IncidentEvent) -> None:
    p = e.payload
    f.supervisions.append(
        Supervision(e.at, str(p.get("level") or ""), str(p.get("reason") or ""), str(p.get("by") or ""),
                    p.get("unit"), e.seq or 0)
    )  # fmt: skip


def _on_assigned(f: Facts, e: IncidentEvent) -> None:
    f.assigned = Assignment(e.at, e.payload.get("unit"), e.seq or 0)
    f.accepted_at, f.returned = None, None


def _on_accepted(f: Facts, e: IncidentEvent) -> None:
    f.accepted_at = f.accepted_at or e.at


def _on_returned(f: Facts, e: IncidentEvent) -> None:
    f.returned = Returned(e.at, e.payload.get("unit"), str(e.payload.get("reason") or ""), e.seq or 0)


def _on_confirm_meeting(f: Facts, e: IncidentEvent) -> None:
    _on_confirmed(f, e)
    f.meetings.append(Meeting("confirm", e.at, e.seq or 0, {}))


def _on_ack(f: Facts, e: IncidentEvent) -> None:
    rule = e.payload.get("rule", e.payload.get("rule_id"))  # rule_id: acknowledgements recorded by the notifier
    f.acks.append(Ack(e.at, rule, e.actor, _instance(e.payload)))


def _on_attached(f: Facts, e: IncidentEvent) -> None:
    f.attached.setdefault(e.payload["rule"], (_time(e.payload, "t0", f.incident.detected_at), e.at))


def _on_extended(f: Facts, e: IncidentEvent) -> None:
    f.extended.setdefault(e.payload["rule"], e.at)


_HANDLERS: dict[EventKind, Callable[[Facts, IncidentEvent], None]] = {
    EventKind.CONFIRMED: _on_confirm_meeting,
    EventKind.REGRADED: _on_regraded,
    EventKind.RESPONSE_RECORDED: _on_response,
    EventKind.REPORT_RECORDED: _on_report,
    EventKind.DISMISSED: _on_ended("dismissed"),
    EventKind.MERGED: _on_ended("merged"),
    EventKind.CLOSED: _on_closed,
    EventKind.REOPENED: _on_reopened,
    EventKind.ACKNOWLEDGED: _on_ack,
    EventKind.PAUSE_APPROVED: _on_pause,
    EventKind.RESUMED: lambda f, e: f.resumed.add(int(e.payload["request_seq"])),
    EventKind.RULE_ATTACHED: _on_attached,
    EventKind.DEADLINE_EXTENDED: _on_extended,
    EventKind.OBLIGATION_OPENED: _on_obligation,
    EventKind.OBLIGATION_MET: _on_obligation,
    EventKind.OBLIGATION_BREACHED: _on_obligation,
    EventKind.OBLIGATION_CANCELLED: _on_obligation,
    EventKind.OBLIGATION_RESCHEDULED: _on_obligation,
    EventKind.ESCALATED: _on_escalated,
    EventKind.ASSIGNED: _on_assigned,
    EventKind.ACCEPTED: _on_accepted,
    EventKind.RETURNED: _on_returned,
    EventKind.SUPERVISED: _on_supervised,
    EventKind.OBLIGATION_UNSCHEDULABLE: lambda f, e: f.problems.add(e.payload["problem"]),
}


def fold(incident: Incident, events: Sequence[IncidentEvent]) -> Facts:
    """The facts of `incident` after applying its timeline in order."""
    facts = Facts(incident)
    for event in events:
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(facts, event)
    facts.meetings.sort(key=lambda m: (m.at, m.seq))
    facts.commitments = commitments_of(events)
    return facts
