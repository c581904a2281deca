"""Derive an incident's obligations from its facts, its playbook and the calendar (pure).

The same facts always give the same obligations: a restart recomputes them, and a calendar
fix or a late-arriving event changes them exactly as if it had been known from the start.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from monitor.clock import SHANGHAI
from monitor.domain import ClockType, Obligation, ObligationStatus
from monitor.domain.playbooks import Attach, Playbook, Rule, T0Source
from monitor.engine.calendar import CalendarGap, WorkCalendar
from monitor.engine.plan import commitments
from monitor.engine.plan.facts import Facts, Meeting, Pause

S = ObligationStatus


@dataclass(frozen=True, slots=True)
class Spec:
    """One instance of a rule on an incident, before its deadline and state are worked out."""

    instance: int
    t0: datetime
    opened_at: datetime
    cancel: tuple[datetime, str] | None = None  # the rule stopped applying (downgrade)


@dataclass(frozen=True, slots=True)
class Planned:
    """An obligation with what the planner needs to escalate it."""

    obligation: Obligation
    rule: Rule
    base_status: ObligationStatus  # the status ignoring pauses (what the timeline announces)
    opened_at: datetime
    pause: Pause | None = None  # the pause in force now
    met: Meeting | None = None  # the response / report that met it (met or late)
    frozen: bool = False  # breached before its rule stopped applying (downgrade): on record, no more alerts

    @property
    def key(self) -> tuple[str, int]:
        return (self.rule.id, self.obligation.instance)

    @property
    def live(self) -> bool:
        """Still counting or overdue, and not silenced: its ladder runs."""
        return not self.frozen and self.obligation.status in (S.OPEN, S.BREACHED)


@dataclass(frozen=True, slots=True)
class Problem:
    """An obligation that cannot be scheduled (e.g. a year without calendar data)."""

    key: str
    rule_id: str
    instance: int
    message: str  # English, for logs
    message_zh: str  # for duty officers


def derive(
    facts: Facts, playbook: Playbook, calendar: WorkCalendar, now: datetime
) -> tuple[list[Planned], list[Problem]]:
    planned: list[Planned] = []
    problems: list[Problem] = []
    for rule in playbook.rules:
        for spec in _specs(facts, rule):
            try:
                planned.append(_plan(facts, rule, spec, calendar, now))
            except CalendarGap as gap:
                key = f"calendar:{rule.id}:{spec.instance}:{gap.year}"
                problems.append(Problem(key, rule.id, spec.instance, str(gap), gap.message_zh))
    planned.extend(_commitments(facts, playbook, now))
    return planned, problems


def _commitments(facts: Facts, playbook: Playbook, now: datetime) -> Iterator[Planned]:
    """承诺兑现: one obligation per commitment (monitor.engine.plan.commitments)."""
    for record in facts.commitments:
        pauses = [p for p in facts.pauses if p.covers(commitments.COMMITMENT_RULE.id, record.number)]
        rule = commitments.commitment_rule(playbook, record)
        due = paused_due(record.recorded_at, record.due_at, pauses)
        ob, state, pause = commitments.obligation(facts, record, due, pauses, now)
        met = commitments.meeting(record) if state in (S.MET, S.LATE) else None
        yield Planned(ob, rule, state, record.recorded_at, pause, met)


def rule_t0(facts: Facts, rule: Rule) -> datetime:
    incident = facts.incident
    if rule.t0 in (T0Source.OCCURRED, T0Source.OCCURRED_OR_FIRST_REPORT) and incident.occurred_at is not None:
        return incident.occurred_at
    if rule.t0 == T0Source.OCCURRED_OR_FIRST_REPORT and incident.first_published_at is not None:
        return min(incident.detected_at, incident.first_published_at)  # it happened no later than its first report
    if rule.t0 == T0Source.EARLIEST_PUBLICATION and incident.first_published_at is not None:
        return min(incident.detected_at, incident.first_published_at)
    if rule.t0 == T0Source.CLOSED and facts.closed is not None:
        return facts.closed[0]
    if rule.t0 == T0Source.ACCEPTED:
        return accepted_t0(facts)
    return incident.detected_at


def accepted_t0(facts: Facts) -> datetime:
    """认领时间 (万埠镇: 认领后…); before the owning unit accepts, 交办时间; without a 交办, detection."""
    if facts.accepted_at is not None:
        return facts.accepted_at
    return facts.assigned.at if facts.assigned is not None else facts.incident.detected_at


def _specs(facts: Facts, rule: Rule) -> Iterator[Spec]:
    if rule.attach == Attach.UNCONFIRMED:
        # once opened, it stays on record so that the confirmation meets it, even one made at the
        # very instant of detection (which otherwise needs no triage at all)
        if facts.triage_needed or (rule.id, 0) in facts.announced:
            yield Spec(0, facts.incident.detected_at, facts.incident.detected_at)
        return
    if rule.attach == Attach.MANUAL:
        if rule.id in facts.attached:
            t0, at = facts.attached[rule.id]
            yield Spec(0, t0, at)
        return
    if facts.confirmed_at is None or not facts.levels:
        return
    if rule.applies_if.closed:
        if facts.closed is not None and rule.applies_if.matches(facts.current_levels()):
            yield Spec(0, facts.closed[0], facts.closed[0])
        return
    opened_at, cancel = _applicability(facts, rule)
    if opened_at is None:
        return
    if rule.recurring:
        yield from _recurring(facts, rule, opened_at, cancel)
    else:
        yield Spec(0, rule_t0(facts, rule), opened_at, cancel)


def _applicability(facts: Facts, rule: Rule) -> tuple[datetime | None, tuple[datetime, str] | None]:
    """When the rule first applied, and (when it no longer does) when and why it stopped."""
    opened_at: datetime | None = None
    cancel: tuple[datetime, str] | None = None
    for state in facts.levels:
        applies = rule.applies_if.matches(state.levels)
        if applies:
            opened_at = opened_at or state.at
            cancel = None
        elif opened_at is not None and cancel is None:
            cancel = (state.at, f"级别调整：{state.reason}" if state.reason else "级别调整")
    return opened_at, cancel


def _recurring(facts: Facts, rule: Rule, opened_at: datetime, cancel: tuple[datetime, str] | None) -> Iterator[Spec]:
    ends = [x for x in (_stop_time(facts), cancel[0] if cancel else None) if x is not None]
    stop = min(ends) if ends else None
    start = next((m for m in facts.meetings if m.token in rule.starts_after), None)
    instance, t0 = 1, start.at if start else None
    while t0 is not None and (stop is None or t0 < stop):
        yield Spec(instance, t0, max(t0, opened_at), cancel)
        nxt = _first_meeting(facts, rule, after=t0)
        instance, t0 = instance + 1, nxt.at if nxt else None


def _stop_time(facts: Facts) -> datetime | None:
    ends = [x[0] for x in (facts.closed, facts.ended) if x is not None]
    return min(ends) if ends else None


def _first_meeting(facts: Facts, rule: Rule, after: datetime | None, *, at_start: bool = False) -> Meeting | None:
    """The first meeting of the rule after `after` (None: any); with `at_start`, one made at `after`
    itself counts too (a 终报 made at the instant of 办结)."""

    def counts(m: Meeting) -> bool:
        return after is None or m.at > after or (at_start and m.at == after)

    return next((m for m in facts.meetings if m.token in rule.met_by and counts(m)), None)


def base_due(rule: Rule, t0: datetime, calendar: WorkCalendar, extended: bool) -> datetime:
    limit = rule.extension_limit if extended and rule.extension_limit else rule.limit
    if rule.clock == ClockType.NATURAL_HOURS:
        return t0 + timedelta(hours=limit)
    if rule.clock == ClockType.WORKING_DAYS:
        return calendar.working_days_due(t0, int(limit))
    return calendar.natural_days_due(t0, int(limit))


def paused_due(t0: datetime, due: datetime, pauses: list[Pause]) -> datetime:
    """The deadline once approved pauses stop the clock (paused time does not count)."""
    remaining, cursor = due - t0, t0
    for p in sorted(pauses, key=lambda p: p.start):
        start = max(p.start, cursor)
        if p.until <= start:
            continue
        if start - cursor >= remaining:
            break
        remaining -= start - cursor
        cursor = p.until
    return cursor + remaining


def local_date(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def paused_working_days_due(t0: datetime, limit: int, pauses: list[Pause], calendar: WorkCalendar) -> datetime:
    """A working-day deadline once approved pauses stop it: every working day a pause covers
    (after its start day, through its end day) is not counted, so the limit grows by that many."""
    extra, due = 0, calendar.working_days_due(t0, limit)
    for p in sorted(pauses, key=lambda p: p.start):
        if p.start >= due or p.until <= p.start:
            continue
        start, until = (local_date(x) for x in (max(p.start, t0), p.until))
        extra += calendar.working_days_in(start, until)
        due = calendar.working_days_due(t0, limit + extra)
    return due


def _due(rule: Rule, spec: Spec, facts: Facts, calendar: WorkCalendar, pauses: list[Pause]) -> datetime:
    extended = rule.id in facts.extended
    if rule.clock == ClockType.WORKING_DAYS and pauses:
        limit = rule.extension_limit if extended and rule.extension_limit else rule.limit
        return paused_working_days_due(spec.t0, int(limit), pauses, calendar)
    return paused_due(spec.t0, base_due(rule, spec.t0, calendar, extended), pauses)


def _plan(facts: Facts, rule: Rule, spec: Spec, calendar: WorkCalendar, now: datetime) -> Planned:
    pauses = [p for p in facts.pauses if p.covers(rule.id, spec.instance)]
    due = _due(rule, spec, facts, calendar, pauses)
    # Rules that start at 办结 or at a request met only by what comes from then on: from its very instant
    # (the window is closed at both ends, as met.at <= due). A recurring instance starts at the release
    # that met the previous one, which must not meet it too, nor must another made at that instant.
    after = spec.t0 if (rule.recurring or rule.t0 in (T0Source.CLOSED, T0Source.ATTACHED)) else None
    met = _first_meeting(facts, rule, after, at_start=not rule.recurring)
    status, cancelled = _status(facts, rule, spec, due, met, now)
    active = next((p for p in pauses if p.start <= now < p.until), None)
    shown = S.PAUSED if active is not None and status in (S.OPEN, S.BREACHED) else status
    obligation = Obligation(
        incident_id=facts.incident.id or 0,
        rule_id=rule.id,
        action=rule.action,
        clock=rule.clock,
        t0=spec.t0,
        due_at=due,
        status=shown,
        instance=spec.instance,
        met_at=met.at if status in (S.MET, S.LATE) and met else None,
        met_by=_met_by(met) if status in (S.MET, S.LATE) and met else None,
        cancelled_reason=cancelled,
        paused_until=active.until if shown == S.PAUSED and active else None,
    )
    by = met if status in (S.MET, S.LATE) else None
    frozen = status == S.BREACHED and spec.cancel is not None
    return Planned(obligation, rule, status, spec.opened_at, active if shown == S.PAUSED else None, by, frozen)


def _met_by(m: Meeting) -> str:
    evidence = m.detail.get("url") or m.detail.get("document") or ""
    return f"{m.token} {evidence}".strip()


def _status(
    facts: Facts, rule: Rule, spec: Spec, due: datetime, met: Meeting | None, now: datetime
) -> tuple[ObligationStatus, str | None]:
    cancel = spec.cancel
    if facts.ended is not None and (cancel is None or facts.ended[0] < cancel[0]):
        cancel = (facts.ended[0], facts.ended[2] or ("判定为非政务舆情" if facts.ended[1] == "dismissed" else "已合并"))
    if met is not None and met.at <= now and (cancel is None or met.at <= cancel[0]):
        return (S.MET if met.at <= due else S.LATE), None
    if cancel is not None and cancel is spec.cancel and due <= cancel[0]:
        return S.BREACHED, None  # missed while the rule applied: a later downgrade does not erase it
    if cancel is not None:
        return S.CANCELLED, cancel[1]
    if facts.closed is not None and not rule.applies_if.closed:
        if due <= facts.closed[0]:
            return S.BREACHED, None
        return S.CANCELLED, "事件已办结" + (f"：{facts.closed[1]}" if facts.closed[1] else "")
    return (S.BREACHED if now >= due else S.OPEN), None
