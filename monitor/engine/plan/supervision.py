"""Who a 政府办督查 (提醒/催办/督办/通报) reaches, and what it says (pure).

Each SUPERVISED event is told once to the pressed unit's people: the step `supervised-<seq>` is
recorded on the ESCALATED event written in the same transaction as the outbox rows, so a restart
or a second worker finds it already sent (DESIGN.md §3). The stronger the level, the higher it
reaches in the unit: 提醒 the 联络员; 催办 also the 分管领导; 督办 and 通报 also the 主要负责人.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain import Incident, OrgDirectory, Role, SupervisionLevel
from monitor.engine.plan.facts import Facts, Supervision

ROLES_BY_LEVEL = {
    SupervisionLevel.REMIND: (Role.LIAISON,),
    SupervisionLevel.URGE: (Role.LIAISON, Role.DEPUTY_LEADER),
    SupervisionLevel.SUPERVISE: (Role.LIAISON, Role.DEPUTY_LEADER, Role.PRINCIPAL),
    SupervisionLevel.CIRCULATE: (Role.LIAISON, Role.DEPUTY_LEADER, Role.PRINCIPAL),
}
INSTRUCTIONS = {
    SupervisionLevel.REMIND: "请及时处置，公开回应后登记回应及证据。",
    SupervisionLevel.URGE: "请抓紧处置，尽快公开回应并登记回应及证据。",
    SupervisionLevel.SUPERVISE: "请单位主要负责人督促落实，尽快公开回应并登记回应及证据；办理情况纳入政务公开考核。",
    SupervisionLevel.CIRCULATE: "回应不及时的情况将予以通报，请单位主要负责人督促落实，立即公开回应并登记回应及证据。",
}
BASIS = "依据：国办发〔2016〕61号（政务舆情回应督促检查，纳入考核）。"
STEP_PREFIX = "supervised-"


@dataclass(frozen=True, slots=True)
class SupervisionNotice:
    step: str
    level: SupervisionLevel
    text: str
    instruction: str
    urgent: bool
    recipients: tuple[tuple[str, Role], ...]
    roles: tuple[Role, ...]
    record: Supervision


def pending(incident: Incident, facts: Facts, org: OrgDirectory) -> list[SupervisionNotice]:
    """The supervisions of an open incident not yet told to their unit."""
    if facts.closed is not None or facts.ended is not None:
        return []
    return [_notice(incident, s, org) for s in facts.supervisions if f"{STEP_PREFIX}{s.seq}" not in facts.notified]


def _level(value: str) -> SupervisionLevel:
    try:
        return SupervisionLevel(value)
    except ValueError:  # a hand-made or future event: treat it as the plain 督办
        return SupervisionLevel.SUPERVISE


def _notice(incident: Incident, s: Supervision, org: OrgDirectory) -> SupervisionNotice:
    level = _level(s.level)
    roles = ROLES_BY_LEVEL[level]
    recipients: list[tuple[str, Role]] = []
    for role in roles:
        for person in org.resolve(role, s.unit):
            if all(person.id != pid for pid, _ in recipients):
                recipients.append((person.id, role))
    found = org.units.get(s.unit or "")
    unit = found.name if found else (s.unit or "责任单位")
    text = (
        f"【{level.label}】「{incident.title}」{s.by}{level.label}：{s.reason}。责任单位：{unit}。"
        f"{INSTRUCTIONS[level]}{BASIS}"
    )
    urgent = incident.is_major_emergency or level.rank >= SupervisionLevel.SUPERVISE.rank
    step = f"{STEP_PREFIX}{s.seq}"
    return SupervisionNotice(step, level, text, INSTRUCTIONS[level], urgent, tuple(recipients), roles, s)
