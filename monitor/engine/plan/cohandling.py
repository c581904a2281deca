"""Alerts for co-handling units (协办单位), pure.

国办发〔2016〕61号 (DOMAIN.md §1.1): when an opinion involves several departments, "相关部门按照职责
分工做好回应工作，确保回应的信息准确一致"; when it involves several localities, "相关地方按照属地
管理原则进行回应". So each co-unit answers for the public responses (权威信息, the 48 h response,
持续发布) together with the lead unit, while the lead unit alone is the one that must respond and
is warned and supervised. A co-unit therefore gets, for those shared obligations only:

- the 交办 notice (the ladder's rung at the start of the window), also when it joins later;
- the breach (超期) and escalation (升级) alerts.

Warnings before the deadline and 督办 stay with the lead unit; 信息报告, 新闻发布会 (organised by the
lead) and 研判 are not shared. Co-units are reached through their own 联络员/分管领导/主要负责人 as
the rung names them; city-wide roles (政府办, 宣传部, 值班员) are reached by the lead's alert already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.domain import EventKind, Incident, IncidentEvent, OrgDirectory, Role
from monitor.domain.playbooks import AlertKind, Ladder, Step
from monitor.engine.plan.derive import Planned
from monitor.engine.plan.text import local_time, span

SHARED_ACTIONS = frozenset({"authoritative_release", "first_response", "follow_up_release"})
UNIT_ROLES = (Role.LIAISON, Role.DEPUTY_LEADER, Role.PRINCIPAL)
_AFTER_DUE = (AlertKind.DEADLINE_BREACH, AlertKind.ESCALATION)
STEP_PREFIX = "co-"  # the step of a co-unit alert is the lead's step with this prefix
INSTRUCTION = "请按职责分工配合牵头单位做好回应，确保回应信息准确一致。"
BASIS = "国办发〔2016〕61号（涉及多个部门、多个地方的回应分工）"


@dataclass(frozen=True, slots=True)
class CoNotice:
    """An alert to co-units: the same obligation and kind as the lead's, its own text and people."""

    step: str
    kind: AlertKind
    text: str
    recipients: tuple[tuple[str, Role], ...]
    units: tuple[str, ...]  # the co-units it reaches


def co_units_of(incident: Incident) -> tuple[str, ...]:
    return tuple(u for u in incident.co_units if u not in (incident.owner_unit, incident.lead_unit))


def shared(planned: Planned) -> bool:
    return planned.rule.action in SHARED_ACTIONS


def _base(name: str) -> str:
    return name.split("#", 1)[0]


def _first_notice(ladder: Ladder) -> Step | None:
    """The rung fired when the obligation opens (交办), if the ladder has one."""
    first = ladder.steps[0] if ladder.steps else None
    return first if first is not None and first.fraction == 0 else None


def co_steps(ladder: Ladder, names: Iterable[str]) -> list[Step]:
    """The rungs among `names` (a collapsed alert stands for several) that co-units receive."""
    first = _first_notice(ladder)
    by_id = {s.id: s for s in ladder.steps}
    picked = [by_id[_base(n)] for n in names if _base(n) in by_id and not (first and n.startswith(f"{first.id}#"))]
    return [s for s in dict.fromkeys(picked) if s is first or s.kind in _AFTER_DUE]  # 待认领 reminders: the owner's


def notice(
    incident: Incident,
    planned: Planned,
    steps: Sequence[Step],
    units: Sequence[str],
    org: OrgDirectory,
    now: datetime,
    skip: Iterable[str] = (),
) -> CoNotice | None:
    """The alert `steps` send to co-units `units` (people in `skip` are reached otherwise)."""
    if not steps or not units:
        return None
    roles = list(dict.fromkeys(r for s in steps for r in s.roles if r in UNIT_ROLES))
    taken = set(skip)
    recipients: list[tuple[str, Role]] = []
    reached: list[str] = []
    for unit in units:
        for role in roles:
            for person in org.people_with(role, unit):  # never the government's: a co-unit answers for itself
                if person.id not in taken:
                    taken.add(person.id)
                    recipients.append((person.id, role))
                    reached.append(unit)
    if not recipients:
        return None
    latest = steps[-1]
    text = _text(latest.kind, incident, planned, org, now)
    return CoNotice(STEP_PREFIX + latest.id, latest.kind, text, tuple(recipients), tuple(dict.fromkeys(reached)))


def _text(kind: AlertKind, incident: Incident, planned: Planned, org: OrgDirectory, now: datetime) -> str:
    due, rule = planned.obligation.due_at, planned.rule
    lead_id = incident.lead_unit or incident.owner_unit
    lead = org.units[lead_id].name if lead_id and lead_id in org.units else "待定"
    if kind == AlertKind.DEADLINE_BREACH:
        state = f"已于 {local_time(due)} 到期，尚未履行"
    elif kind == AlertKind.ESCALATION:
        state = f"已超期{span(now - due)}（期限 {local_time(due)}）"
    else:
        state = f"期限 {local_time(due)}"
    head = f"【协办】「{incident.title}」{rule.title}，{state}。牵头单位：{lead}。"
    return f"{head}{INSTRUCTION}依据：{BASIS}；{rule.source}。"


def notified_units(events: Iterable[IncidentEvent]) -> dict[tuple[str, int], set[str]]:
    """Per obligation (rule, instance): the co-units an alert has reached already."""
    reached: dict[tuple[str, int], set[str]] = {}
    for e in events:
        if e.kind == EventKind.ESCALATED and e.payload.get("co_units"):
            key = (e.payload["rule"], int(e.payload.get("instance", 0)))
            reached.setdefault(key, set()).update(e.payload["co_units"])
    return reached


def late_joiners(
    incident: Incident, planned: Planned, ladder: Ladder, fired: set[str], reached: set[str]
) -> tuple[list[Step], list[str]]:
    """Co-units added after the 交办 notice went out: they get it now (while the obligation is live)."""
    first = _first_notice(ladder)
    if first is None or not planned.live or not shared(planned) or first.id not in {_base(n) for n in fired}:
        return [], []
    return [first], [u for u in co_units_of(incident) if u not in reached]
