from datetime import UTC, datetime

import pytest

from monitor.domain import EventLevel, Incident, IncidentStatus, InvalidTransition, OpinionLevel, allowed_transitions
from monitor.domain.incidents import TRANSITIONS

S = IncidentStatus
T = datetime(2026, 9, 24, 1, tzinfo=UTC)


def incident(status=S.DETECTED, **kw):
    return Incident(title="某化工厂爆炸", detected_at=T, status=status, id=7, **kw)


@pytest.mark.parametrize(
    ("path"),
    [
        [S.ASSESSED, S.REPORTED, S.ASSIGNED, S.HANDLING, S.RESPONDED, S.FOLLOW_UP, S.EVALUATED, S.CLOSED, S.ARCHIVED],
        [S.ASSESSED, S.ASSIGNED, S.HANDLING, S.OVERDUE, S.SUPERVISED, S.RESPONDED, S.CLOSED],
        [S.ASSESSED, S.ASSIGNED, S.REASSIGNED, S.ASSIGNED, S.HANDLING, S.ESCALATED, S.HANDLING, S.RESPONDED],
        [S.DISMISSED, S.DETECTED, S.ASSESSED, S.CLOSED, S.HANDLING],
        [S.ASSESSED, S.MERGED],
    ],
)
def test_allowed_paths(path):
    inc = incident()
    for target in path:
        inc = inc.transition(target, T)
    assert inc.status == path[-1]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.DETECTED, S.RESPONDED),
        (S.DETECTED, S.CLOSED),
        (S.CLOSED, S.RESPONDED),
        (S.ARCHIVED, S.HANDLING),
        (S.MERGED, S.DETECTED),
        (S.RESPONDED, S.DETECTED),
        (S.HANDLING, S.HANDLING),
    ],
)
def test_invalid_transitions_raise_a_clear_error(start, target):
    with pytest.raises(InvalidTransition) as exc:
        incident(start).transition(target, T)
    message = str(exc.value)
    assert f"cannot move from {start.value} to {target.value}" in message
    assert "allowed from" in message and "incident 7" in message


def test_every_status_reachable_from_detected_and_labelled():
    seen, frontier = {S.DETECTED}, [S.DETECTED]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)
    assert all(s.label for s in S)
    assert allowed_transitions(S.ARCHIVED) == frozenset()


def test_closing_records_closed_at_and_reopening_clears_it():
    closed = incident(S.RESPONDED).transition(S.CLOSED, T)
    assert closed.closed_at == T and not closed.is_open
    reopened = closed.transition(S.HANDLING, T)
    assert reopened.closed_at is None and reopened.is_open


def test_major_emergency_flag():
    assert incident(event_level=EventLevel.II).is_major_emergency
    assert not incident(event_level=EventLevel.III).is_major_emergency
    assert not incident().is_major_emergency
    assert OpinionLevel.L1.color == "红" and OpinionLevel.L4.color == "蓝"
