"""Obligations: a rule applied to an incident, with a deadline and a state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.domain.enums import ClockType, ObligationStatus


@dataclass(frozen=True, slots=True)
class Obligation:
    """What must be done for an incident by when, and under which rule (DOMAIN.md §8 ids)."""

    incident_id: int
    rule_id: str  # e.g. GB80-AUTH-RELEASE-5H
    action: str  # e.g. authoritative_release, press_conference, first_response
    clock: ClockType
    t0: datetime
    due_at: datetime
    status: ObligationStatus = ObligationStatus.OPEN
    instance: int = 0  # 0 for one-off rules; 1, 2, … for recurring ones (续报, 持续发布)
    met_at: datetime | None = None
    met_by: str | None = None  # what met it (response kind, evidence reference)
    cancelled_reason: str | None = None
    paused_until: datetime | None = None
    escalated_at: datetime | None = None  # when its ladder first reached a leader past the deadline (已升级)
    id: int | None = None

    def status_at(self, now: datetime) -> ObligationStatus:
        """The state as seen at `now` (an OPEN obligation past its due time is BREACHED)."""
        if self.status == ObligationStatus.OPEN and now >= self.due_at:
            return ObligationStatus.BREACHED
        if self.status == ObligationStatus.PAUSED and self.paused_until is not None and now >= self.paused_until:
            return ObligationStatus.BREACHED if now >= self.due_at else ObligationStatus.OPEN
        return self.status

    def delay(self) -> float | None:
        """Hours by which it was met late (None unless LATE)."""
        if self.status != ObligationStatus.LATE or self.met_at is None:
            return None
        return (self.met_at - self.due_at).total_seconds() / 3600
