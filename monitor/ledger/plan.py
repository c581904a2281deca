"""The deadline of an imported ledger row: 国办发〔2016〕61号 "48小时内予以回应" (pure).

A stand-in for the clock engine's planner, kept deliberately small: one natural-hours rule from
the time the message was received. When the engine's planner can be run over imported
timelines, replace `plan_first_response` with it (the imported events already carry what it
reads: CONFIRMED with the levels, RESPONSE_RECORDED with published_at and evidence).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.domain import ClockType, Obligation, ObligationStatus

RULE_ID = "GB61-RESPOND-48H"
ACTION = "first_response"
LIMIT = timedelta(hours=48)


def plan_first_response(
    t0: datetime, responded_at: datetime | None, now: datetime, response_kind: str, evidence: str
) -> Obligation:
    """The 48 h obligation as it stands at `now` (met / late / breached / open)."""
    due = t0 + LIMIT
    if responded_at is not None and responded_at <= now:
        status = ObligationStatus.MET if responded_at <= due else ObligationStatus.LATE
        met_at, met_by = responded_at, f"{response_kind} {evidence}"
    else:
        status = ObligationStatus.BREACHED if now >= due else ObligationStatus.OPEN
        met_at, met_by = None, None
    return Obligation(
        incident_id=0,
        rule_id=RULE_ID,
        action=ACTION,
        clock=ClockType.NATURAL_HOURS,
        t0=t0,
        due_at=due,
        status=status,
        met_at=met_at,
        met_by=met_by,
    )
