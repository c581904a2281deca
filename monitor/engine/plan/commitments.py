"""承诺兑现 obligations (pure): one per commitment a response made, due at the end of its due day.

A commitment is met when its fulfilment is recorded (with the URL where it was made public): on
time when fulfilled by the due day, else late. Unlike the response deadlines, closing the incident
does not cancel it — a public promise stands after the 舆情 subsides — so its reminders keep running
on a closed incident; dismissing or merging the incident cancels the ones not yet due.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from monitor.domain import ClockType, Obligation, ObligationStatus
from monitor.domain.commitments import CommitmentRecord
from monitor.domain.playbooks import COMMITMENT_RULE, Playbook, Rule
from monitor.engine.plan.facts import Facts, Meeting, Pause

S = ObligationStatus
TITLE_CHARS = 40  # of the commitment's text in the obligation's title (alerts, the deadlines panel)


def commitment_rule(playbook: Playbook, record: CommitmentRecord) -> Rule:
    """The rule (the playbook's own, else the built-in one) titled after this commitment."""
    base = playbook.rule(COMMITMENT_RULE.id) or COMMITMENT_RULE
    text = record.text if len(record.text) <= TITLE_CHARS else record.text[:TITLE_CHARS] + "…"
    return replace(base, title=f"兑现承诺 #{record.number}：{text}")


def meeting(record: CommitmentRecord) -> Meeting | None:
    if record.fulfilled_at is None:
        return None
    detail = {"url": record.disclosed_url, "approved_by": record.fulfilled_by}
    return Meeting("commitment_fulfilled", record.fulfilled_at, record.fulfilled_seq, detail)


def status(facts: Facts, record: CommitmentRecord, due: datetime, now: datetime) -> tuple[ObligationStatus, str | None]:
    met = record.fulfilled_at
    if met is not None and met <= now:
        return (S.MET if met <= due else S.LATE), None
    ended = facts.ended
    if ended is not None and ended[0] < due:
        return S.CANCELLED, ended[2] or ("判定为非政务舆情" if ended[1] == "dismissed" else "已合并")
    return (S.BREACHED if now >= due else S.OPEN), None


def obligation(
    facts: Facts, record: CommitmentRecord, due: datetime, pauses: list[Pause], now: datetime
) -> tuple[Obligation, ObligationStatus, Pause | None]:
    """The commitment's obligation as seen at `now` (`due`: after approved pauses), its status
    ignoring pauses, and the pause in force."""
    state, cancelled = status(facts, record, due, now)
    active = next((p for p in pauses if p.start <= now < p.until), None)
    shown = S.PAUSED if active is not None and state in (S.OPEN, S.BREACHED) else state
    met = state in (S.MET, S.LATE)
    ob = Obligation(
        incident_id=facts.incident.id or 0,
        rule_id=COMMITMENT_RULE.id,
        action=COMMITMENT_RULE.action,
        clock=ClockType.NATURAL_DAYS,
        t0=record.recorded_at,
        due_at=due,
        status=shown,
        instance=record.number,
        met_at=record.fulfilled_at if met else None,
        met_by=f"commitment_fulfilled {record.disclosed_url or ''}".strip() if met else None,
        cancelled_reason=cancelled,
        paused_until=active.until if shown == S.PAUSED and active else None,
    )
    return ob, state, active if shown == S.PAUSED else None
