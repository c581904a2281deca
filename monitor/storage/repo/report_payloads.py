"""How the report reads the clock engine's timeline payloads (the one place that knows their keys).

Keys read (see README "Reports → what the report reads"):
- response_recorded: published_at (ISO; default: the event time), kind, url, document
- escalated: rule, instance, kind, step, roles[], people[]
- pause_requested: rule (or rule_id), until, reason; the actor is the requester
- pause_approved / pause_rejected: request_seq (the seq of the request), reason; the actor decides
- classified / confirmed / graded / regraded: event_level, opinion_level (a key present with null
  clears the level, as in the engine's facts); regraded also reason and `from` {event_level,
  opinion_level} (the levels it replaced; else they are taken from the earlier level events)
- reassigned: to (the new owning unit), reason; assigned: unit (交办 to it); returned: reason (退回理由);
  accepted: note; closed / reopened / dismissed: reason; merged: into_id
- obligation_breached: rule; report_recorded: report_kind, channel
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from monitor.clock import parse_instant
from monitor.domain.reporting import UNKNOWN_LEVEL, EscalationFacts, PauseFacts, RegradeFacts, TimelineFacts

EventRow = tuple[int, int, str, datetime, str, Mapping[str, Any]]  # incident_id, seq, kind, at, actor, payload


def parse_time(value: Any, default: datetime | None = None) -> datetime | None:
    """An instant from a payload; ISO text without an offset is read in Asia/Shanghai."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return parse_instant(value)
        except ValueError:
            return default
    return default


def response_time(payload: Mapping[str, Any] | None, at: datetime) -> datetime:
    """When a recorded response was published (the event time when the payload does not say)."""
    return published_time((payload or {}).get("published_at"), at)


def published_time(published_at: Any, at: datetime) -> datetime:
    """`published_at` of a response_recorded payload, else the event time."""
    return parse_time(published_at, at) or at


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _rule(payload: Mapping[str, Any]) -> str | None:
    rule = payload.get("rule", payload.get("rule_id"))
    if isinstance(rule, Mapping):
        rule = rule.get("id")
    return None if rule is None else str(rule)


def escalation_from(
    incident_id: int, at: datetime, payload: Mapping[str, Any], delivered: Mapping[tuple[int, str, str], datetime]
) -> EscalationFacts:
    rule, step = _rule(payload), _text(payload.get("step"))
    return EscalationFacts(
        incident_id=incident_id,
        rule_id=rule,
        instance=int(payload.get("instance") or 0),
        at=at,
        kind=_text(payload.get("kind")) or "escalation",
        step=step,
        roles=tuple(str(r) for r in payload.get("roles") or ()),
        people=tuple(str(p) for p in payload.get("people") or ()),
        delivered_at=delivered.get((incident_id, rule or "", step)),
    )


def fold_pauses(rows: Iterable[EventRow]) -> list[PauseFacts]:
    """Pause requests with their approval or rejection (linked by request_seq)."""
    requests: dict[tuple[int, int], PauseFacts] = {}
    for incident_id, seq, kind, at, actor, p in rows:
        if kind == "pause_requested":
            until = parse_time(p.get("until"))
            requests[(incident_id, seq)] = PauseFacts(
                incident_id, _rule(p) or "", at, actor, until, _text(p.get("reason")), "pending"
            )
            continue
        key = (incident_id, int(p.get("request_seq") or 0))
        request = requests.get(key)
        if request is None:
            continue
        outcome = "approved" if kind == "pause_approved" else "rejected"
        note = _text(p.get("reason")) if outcome == "rejected" else _text(p.get("note"))
        until = parse_time(p.get("until"), request.until) if outcome == "approved" else request.until
        requests[key] = PauseFacts(
            incident_id, request.rule_id, request.requested_at, request.requested_by, until, request.reason,
            outcome, actor, at, note,
        )  # fmt: skip
    return list(requests.values())


def _level(payload: Mapping[str, Any], key: str, before: str | None) -> str | None:
    if key not in payload:
        return before
    value = payload[key]
    return None if value in (None, "") else str(value)


def fold_regrades(rows: Iterable[EventRow]) -> list[RegradeFacts]:
    """Each re-grade with the levels it replaced (from the timeline's earlier level events)."""
    current: dict[int, tuple[str | None, str | None]] = {}
    found: list[RegradeFacts] = []
    for incident_id, _seq, kind, at, actor, p in rows:
        event_before, opinion_before = current.get(incident_id, (UNKNOWN_LEVEL, UNKNOWN_LEVEL))
        previous = p.get("from")
        before: Mapping[str, Any] = previous if isinstance(previous, Mapping) else {}
        event_before = _level(before, "event_level", event_before)
        opinion_before = _level(before, "opinion_level", opinion_before)
        after = (_level(p, "event_level", event_before), _level(p, "opinion_level", opinion_before))
        current[incident_id] = after
        if kind == "regraded":
            found.append(
                RegradeFacts(
                    incident_id, at, actor, _text(p.get("reason")), event_before, after[0], opinion_before, after[1]
                )
            )
    return found


def timeline_from(
    incident_id: int, seq: int, kind: str, at: datetime, actor: str, p: Mapping[str, Any]
) -> TimelineFacts:
    when = response_time(p, at) if kind == "response_recorded" else at
    reason = p.get("reason") or p.get("summary") or (f"并入事件 #{p['into_id']}" if p.get("into_id") else None)
    if kind == "accepted":
        reason = p.get("note") or None  # 认领意见
    if kind == "evaluation_recorded":
        reason = p.get("notes") or None  # 评估意见
    return TimelineFacts(
        incident_id=incident_id,
        seq=seq,
        at=when,
        kind=kind,
        actor=actor,
        rule_id=_rule(p),
        response_kind=_text(p.get("kind")) if kind == "response_recorded" else None,
        evidence=p.get("url") or p.get("document"),
        reason=None if reason is None else str(reason)[:200],
        people=tuple(str(x) for x in p.get("people") or ()),
        escalation_kind=_text(p.get("kind")) if kind == "escalated" else None,
        event_level=p.get("event_level"),
        opinion_level=p.get("opinion_level"),
        owner_unit=p.get("to") if kind == "reassigned" else p.get("unit") if kind == "assigned" else None,
    )
