"""The pure planner: `decide(incident, events, playbook, calendar, org, now) -> Decision`.

It derives every obligation from the incident's timeline (facts.py, derive.py), picks the
ladder rungs due now (ladder.py) and returns what to record and send — nothing else. The
runner applies the decision in one transaction. Deciding twice on the same state returns
nothing new (the timeline already holds what was announced and sent), so a crash or a second
worker can never duplicate an alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from monitor.domain import EventKind, Incident, IncidentEvent, IncidentStatus, Obligation, OrgDirectory, Role
from monitor.domain.playbooks import COMMITMENT_RULE, AlertKind, Ladder, Playbook
from monitor.engine.calendar import WorkCalendar
from monitor.engine.plan import cohandling, supervision
from monitor.engine.plan.derive import Planned, Problem, derive
from monitor.engine.plan.facts import Facts, fold, reaches_leaders
from monitor.engine.plan.ladder import Notify, Owner, relevant_acks, step_now
from monitor.engine.plan.text import (
    REMINDER_INSTRUCTION,
    alert_text,
    instruction,
    problem_text,
    reminder_text,
    returned_text,
)

S_OPEN, S_BREACHED = "open", "breached"
PROBLEM_RETRY = timedelta(hours=1)

__all__ = ["Alert", "Decision", "Facts", "Planned", "decide", "fold"]


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert to write to the outbox: a ladder rung (per person) or a system alert."""

    rule_id: str | None
    instance: int
    step: str
    kind: AlertKind
    text: str
    urgent: bool
    due_at: datetime | None
    recipients: tuple[tuple[str, Role], ...]  # (person id, the role that reached them); () = duty officers
    roles: tuple[Role, ...] = ()
    instruction: str = ""  # what the readers must do (zh-CN), also inside `text`; channels show it as 处置要求
    returned_reason: str | None = None  # a 退回's reason, shown to the duty officers asked to 改派
    reminder: bool = False  # a 待认领 reminder (a repeat of the 交办 rung): moot once the unit 认领s
    supervision: dict[str, str] | None = None  # a 政府办督查: level, reason, by (outbox payload `supervision`)


@dataclass(frozen=True)
class Decision:
    obligations: tuple[Obligation, ...]
    events: tuple[IncidentEvent, ...]
    alerts: tuple[Alert, ...]
    next_wake_at: datetime | None  # when the engine must look at this incident again
    next_due_at: datetime | None  # nearest unmet deadline (the duty queue sorts by it)
    auto_confirm: bool = False
    problems: tuple[Problem, ...] = field(default_factory=tuple)


def decide(
    incident: Incident,
    events: Sequence[IncidentEvent],
    playbook: Playbook,
    calendar: WorkCalendar,
    org: OrgDirectory,
    now: datetime,
) -> Decision:
    facts = fold(incident, events)
    planned, problems = derive(facts, playbook, calendar, now)
    out: list[IncidentEvent] = _announce(facts, planned) + _resumed(facts, now)
    alerts: list[Alert] = []
    wakes: list[datetime] = []
    active = facts.closed is None and facts.ended is None
    reached = cohandling.notified_units(events)
    # 待认领 reminders run while the current 交办 waits for its unit (not once it 退回s it)
    waiting = facts.assigned is not None and facts.returned is None
    reminding = _reminder_carrier(facts, planned, playbook) if waiting else None
    for p in planned:
        if p.obligation.status.value == S_OPEN:
            wakes.append(p.obligation.due_at)
        if p.pause is not None:
            wakes.append(p.pause.until)
        if not (active or (_after_close(p) and facts.ended is None)):  # 终报, 承诺兑现 run after closing
            continue
        if facts.historical(p.obligation.due_at):  # missed before a ledger import: nobody to alert now
            continue
        ladder = playbook.ladder(p.rule.ladder_for(facts.current_levels()))
        later = _rung_alerts(facts, p, ladder, reached.get(p.key, set()), org, now, alerts, out, p.key == reminding)
        if later is not None:
            wakes.append(later)
    _returned(incident, facts, org, alerts, out, now)
    _supervised(incident, facts, org, alerts, out, now)
    for problem in problems:
        wakes.append(now + PROBLEM_RETRY)
        if problem.key not in facts.problems:
            alerts.append(_problem_alert(incident, problem))
            out.append(_unschedulable(incident, problem, now))
    wakes.extend(p.until for p in facts.pauses if p.request_seq not in facts.resumed and p.until > now)
    return Decision(
        obligations=_with_escalation(planned, facts, out),
        events=tuple(out),
        alerts=tuple(alerts),
        next_wake_at=min((w for w in wakes if w > now), default=None),
        next_due_at=_next_due([p for p in planned if _counts_for_next_due(facts, p, active)]),
        auto_confirm=_auto_confirm(facts, playbook),
        problems=tuple(problems),
    )


def _reminder_carrier(facts: Facts, planned: list[Planned], playbook: Playbook) -> tuple[str, int] | None:
    """The obligation whose 交办 rung repeats (待认领 reminders) for the incident: the first opened of
    those whose ladder repeats it (then in rule order), met or not — the unit is reminded once per
    repeat, however many obligations it has, and not again once that obligation is met."""
    order = {r.id: i for i, r in enumerate(playbook.rules)}
    levels = facts.current_levels()

    def repeats(p: Planned) -> bool:
        ladder = playbook.ladders.get(p.rule.ladder_for(levels))
        return ladder is not None and any(s.announces and s.repeat for s in ladder.steps)

    carriers = [p for p in planned if repeats(p)]
    first = min(carriers, key=lambda p: (p.opened_at, order.get(p.rule.id, len(order)), p.key), default=None)
    return first.key if first is not None else None


def _after_close(p: Planned) -> bool:
    return p.rule.applies_if.closed or p.rule.id == COMMITMENT_RULE.id


def _counts_for_next_due(facts: Facts, p: Planned, active: bool) -> bool:
    """Deadlines of an open incident; of a closed one, those still owed after closing (承诺, 终报), so
    the queue's 承诺待兑现 filter and the incident page show when the next falls due."""
    if facts.historical(p.obligation.due_at):
        return False
    return active or (facts.ended is None and _after_close(p))


def _auto_confirm(facts: Facts, playbook: Playbook) -> bool:
    incident = facts.incident
    return (
        facts.confirmed_at is None
        and incident.status == IncidentStatus.DETECTED
        and playbook.auto_confirm.matches(facts.current_levels())
    )


def _next_due(planned: list[Planned]) -> datetime | None:
    unmet = [p.obligation.due_at for p in planned if p.obligation.status.value in (S_OPEN, S_BREACHED) and not p.frozen]
    return min(unmet, default=None)


def _payload(p: Planned) -> dict[str, Any]:
    ob = p.obligation
    return {
        "rule": ob.rule_id,
        "instance": ob.instance,
        "title": p.rule.title,
        "status": p.base_status.value,
        "t0": ob.t0.isoformat(),
        "due_at": ob.due_at.isoformat(),
    }


def _announce(facts: Facts, planned: list[Planned]) -> list[IncidentEvent]:
    """Timeline events for every change between what was announced and what is derived now."""
    iid = facts.incident.id or 0
    events: list[IncidentEvent] = []
    for p in planned:
        payload, ob = _payload(p), p.obligation
        seen = facts.announced.get(p.key)
        if seen is None:
            events.append(
                IncidentEvent(iid, EventKind.OBLIGATION_OPENED, p.opened_at, "system", {**payload, "status": S_OPEN})
            )
            seen_status, seen_due = S_OPEN, payload["due_at"]
        else:
            seen_status, seen_due = seen.status, seen.due_at
        status = payload["status"]
        if status == seen_status:
            if payload["due_at"] != seen_due:
                events.append(IncidentEvent(iid, EventKind.OBLIGATION_RESCHEDULED, p.opened_at, "system", payload))
            continue
        if status in ("met", "late"):
            delay = (ob.met_at - ob.due_at).total_seconds() if ob.met_at and status == "late" else 0
            extra = {
                "met_at": ob.met_at and ob.met_at.isoformat(),
                "met_by": ob.met_by,
                "late_s": max(0, delay),
                **_evidence(p),
            }
            events.append(
                IncidentEvent(iid, EventKind.OBLIGATION_MET, ob.met_at or p.opened_at, "system", {**payload, **extra})
            )
        elif status == S_BREACHED:
            events.append(IncidentEvent(iid, EventKind.OBLIGATION_BREACHED, ob.due_at, "system", payload))
        elif status == "cancelled":
            extra = {"reason": ob.cancelled_reason}
            events.append(
                IncidentEvent(iid, EventKind.OBLIGATION_CANCELLED, p.opened_at, "system", {**payload, **extra})
            )
        else:
            events.append(IncidentEvent(iid, EventKind.OBLIGATION_RESCHEDULED, p.opened_at, "system", payload))
    return events


def _evidence(p: Planned) -> dict[str, Any]:
    """Which timeline event met the obligation, and who approved (签发/审核) or signed it."""
    if p.met is None or not p.met.seq:
        return {}
    detail = p.met.detail
    return {"met_by_seq": p.met.seq, "approved_by": detail.get("approved_by") or detail.get("signer")}


def _resumed(facts: Facts, now: datetime) -> list[IncidentEvent]:
    iid = facts.incident.id or 0
    return [
        IncidentEvent(iid, EventKind.RESUMED, p.until, "system", {"rule": p.rule_id, "request_seq": p.request_seq})
        for p in facts.pauses
        if p.until <= now and p.request_seq not in facts.resumed
    ]


def _alert(incident: Incident, notify: Notify, org: OrgDirectory, now: datetime) -> Alert:
    ob, rule = notify.planned.obligation, notify.planned.rule
    unit = incident.owner_unit
    recipients: list[tuple[str, Role]] = []
    for role in notify.roles:
        for person in org.resolve(role, unit):
            if all(person.id != pid for pid, _ in recipients):
                recipients.append((person.id, role))
    unit_name = org.units[unit].name if unit and unit in org.units else ""
    urgent = incident.is_major_emergency or notify.kind == AlertKind.DEADLINE_BREACH
    text = alert_text(notify.kind, incident, rule, ob.due_at, now, notify.lead_roles, unit_name)
    if notify.reminder:
        text = reminder_text(incident, rule, ob.due_at, now, unit_name)
    return Alert(
        rule.id,
        ob.instance,
        notify.step,
        notify.kind,
        text,
        urgent,
        ob.due_at,
        tuple(recipients),
        notify.roles,
        REMINDER_INSTRUCTION if notify.reminder else instruction(notify.kind, notify.lead_roles, rule.action),
        reminder=notify.reminder,
    )


def _escalated(
    incident: Incident, notify: Notify, alert: Alert, now: datetime, co: cohandling.CoNotice | None = None
) -> IncidentEvent:
    ob = notify.planned.obligation
    payload = {
        "rule": ob.rule_id,
        "instance": ob.instance,
        "step": notify.step,
        "steps": list(notify.steps),
        "kind": notify.kind.value,
        "roles": [r.value for r in notify.roles],
        "people": [pid for pid, _ in alert.recipients] + [pid for pid, _ in (co.recipients if co else ())],
        "due_at": ob.due_at.isoformat(),
        **({"co_units": list(co.units)} if co else {}),
    }
    return IncidentEvent(incident.id or 0, EventKind.ESCALATED, now, "system", payload)


def _rung_alerts(
    facts: Facts,
    p: Planned,
    ladder: Ladder,
    reached: set[str],
    org: OrgDirectory,
    now: datetime,
    alerts: list[Alert],
    out: list[IncidentEvent],
    reminds: bool = True,
) -> datetime | None:
    """Append the alerts (lead unit, co-units) and timeline events of `p`'s rungs due now; the next rung's time.
    `reminds`: `p` carries the incident's 待认领 reminders."""
    incident, fired = facts.incident, facts.fired.get(p.key, set())
    owner = Owner(facts.assigned, facts.accepted_at, facts.fired_seq.get(p.key, {}), reminds)
    acks = relevant_acks(facts.acks, p, facts.assigned.at if facts.assigned else None)
    notify, later = step_now(p, ladder, fired, acks, now, owner)
    if notify is not None:
        alert = _alert(incident, notify, org, now)
        co = _co_notice(incident, notify, ladder, alert, org, now)
        alerts += [alert, *([_co_alert(incident, p, co)] if co else [])]
        out.append(_escalated(incident, notify, alert, now, co))
    joiners = cohandling.notice(incident, p, *cohandling.late_joiners(incident, p, ladder, fired, reached), org, now)
    if joiners is not None:
        alerts.append(_co_alert(incident, p, joiners))
        out.append(_co_escalated(incident, p, joiners, now))
    return later


def _co_notice(
    incident: Incident, notify: Notify, ladder: Ladder, alert: Alert, org: OrgDirectory, now: datetime
) -> cohandling.CoNotice | None:
    """The same rung for the co-units, when they share the obligation (see cohandling)."""
    if not cohandling.shared(notify.planned):
        return None
    steps = cohandling.co_steps(ladder, notify.steps)
    units = cohandling.co_units_of(incident)
    return cohandling.notice(incident, notify.planned, steps, units, org, now, [pid for pid, _ in alert.recipients])


def _co_alert(incident: Incident, p: Planned, co: cohandling.CoNotice) -> Alert:
    ob = p.obligation
    urgent = incident.is_major_emergency or co.kind == AlertKind.DEADLINE_BREACH
    roles = tuple(dict.fromkeys(role for _, role in co.recipients))
    text, instruction = co.text, cohandling.INSTRUCTION
    return Alert(p.rule.id, ob.instance, co.step, co.kind, text, urgent, ob.due_at, co.recipients, roles, instruction)


def _co_escalated(incident: Incident, p: Planned, co: cohandling.CoNotice, now: datetime) -> IncidentEvent:
    ob = p.obligation
    payload = {
        "rule": ob.rule_id,
        "instance": ob.instance,
        "step": co.step,
        "steps": [co.step],
        "kind": co.kind.value,
        "roles": list(dict.fromkeys(r.value for _, r in co.recipients)),
        "people": [pid for pid, _ in co.recipients],
        "due_at": ob.due_at.isoformat(),
        "co_units": list(co.units),
    }
    return IncidentEvent(incident.id or 0, EventKind.ESCALATED, now, "system", payload)


def _returned(
    incident: Incident, facts: Facts, org: OrgDirectory, alerts: list[Alert], out: list[IncidentEvent], now: datetime
) -> None:
    """Tell the duty officers, once, that the owning unit returned the open incident: they must 改派."""
    returned = facts.returned
    if returned is None or facts.closed is not None or facts.ended is not None:
        return
    step = f"returned-{returned.seq}"
    if step in facts.notified:
        return
    officers = tuple((p.id, Role.DUTY_OFFICER) for p in org.people_with(Role.DUTY_OFFICER))
    found = org.units.get(returned.unit or "")
    unit = found.name if found else (returned.unit or "责任单位")
    text = returned_text(incident, unit, returned.reason)
    alert = Alert(None, 0, step, AlertKind.RETURNED, text, True, None, officers, (Role.DUTY_OFFICER,))
    alerts.append(replace(alert, returned_reason=returned.reason))
    payload = {
        "rule": None,
        "instance": 0,
        "step": step,
        "steps": [step],
        "kind": AlertKind.RETURNED.value,
        "roles": [Role.DUTY_OFFICER.value],
        "people": [pid for pid, _ in officers],
        "reason": returned.reason,
    }
    out.append(IncidentEvent(incident.id or 0, EventKind.ESCALATED, now, "system", payload))


def _supervised(
    incident: Incident, facts: Facts, org: OrgDirectory, alerts: list[Alert], out: list[IncidentEvent], now: datetime
) -> None:
    """Tell the pressed unit's people, once, of each 提醒/催办/督办/通报 by 政府办 (see supervision)."""
    for notice in supervision.pending(incident, facts, org):
        record = notice.record
        detail = {"level": notice.level.value, "reason": record.reason, "by": record.by}
        alert = Alert(
            None, 0, notice.step, AlertKind.SUPERVISED, notice.text, notice.urgent, None, notice.recipients,
            notice.roles, notice.instruction, supervision=detail,
        )  # fmt: skip
        alerts.append(alert)
        payload = {
            "rule": None,
            "instance": 0,
            "step": notice.step,
            "steps": [notice.step],
            "kind": AlertKind.SUPERVISED.value,
            "roles": [r.value for r in notice.roles],
            "people": [pid for pid, _ in notice.recipients],
            "level": notice.level.value,
            "unit": record.unit,
        }
        out.append(IncidentEvent(incident.id or 0, EventKind.ESCALATED, now, "system", payload))


def _with_escalation(planned: list[Planned], facts: Facts, out: list[IncidentEvent]) -> tuple[Obligation, ...]:
    """The obligations, each with when its ladder first reached a leader past the deadline (已升级),
    counting the rungs this decision fires."""
    marks = dict(facts.leader_escalated)
    for e in out:
        if e.kind == EventKind.ESCALATED and e.payload.get("rule") is not None and reaches_leaders(e.payload):
            marks.setdefault((e.payload["rule"], int(e.payload.get("instance", 0))), e.at)
    return tuple(replace(p.obligation, escalated_at=marks[p.key]) if p.key in marks else p.obligation for p in planned)


def _problem_alert(incident: Incident, problem: Problem) -> Alert:
    text = problem_text(incident, problem.message_zh)
    return Alert(
        problem.rule_id,
        problem.instance,
        "problem-" + problem.key.replace(":", "-"),
        AlertKind.SYSTEM_ALERT,
        text,
        True,
        None,
        (),
    )


def _unschedulable(incident: Incident, problem: Problem, now: datetime) -> IncidentEvent:
    payload = {
        "rule": problem.rule_id,
        "instance": problem.instance,
        "problem": problem.key,
        "message": problem.message,
    }
    return IncidentEvent(incident.id or 0, EventKind.OBLIGATION_UNSCHEDULABLE, now, "system", payload)
