"""Incidents: the items about one event, and the workflow of DOMAIN.md §4.1.

Main line: DETECTED(监测发现) → ASSESSED(研判定级) → REPORTED(报送/首报) → ASSIGNED(交办/认领)
→ HANDLING(处置) → RESPONDED(首次公开回应) → FOLLOW_UP(持续发布) → EVALUATED(效果评估)
→ CLOSED(终报) → ARCHIVED(归档); side states ESCALATED, REASSIGNED, OVERDUE, SUPERVISED;
exits DISMISSED (非政务舆情) and MERGED (并入其他事件).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from monitor.domain.enums import EventLevel, EventType, MediaTier, MediaType, OpinionLevel
from monitor.domain.errors import InvalidTransition


class IncidentStatus(StrEnum):
    """Workflow status of an incident."""

    DETECTED = "detected"  # 监测发现
    ASSESSED = "assessed"  # 研判定级
    REPORTED = "reported"  # 报送/首报
    ASSIGNED = "assigned"  # 交办/认领
    HANDLING = "handling"  # 处置中（续报）
    RESPONDED = "responded"  # 已首次公开回应
    FOLLOW_UP = "follow_up"  # 持续发布
    EVALUATED = "evaluated"  # 效果评估
    CLOSED = "closed"  # 办结（终报）
    ARCHIVED = "archived"  # 归档
    ESCALATED = "escalated"  # 已升级
    REASSIGNED = "reassigned"  # 退回/改派：责任单位已退回，待值班员改派
    OVERDUE = "overdue"  # 超期
    SUPERVISED = "supervised"  # 督办
    DISMISSED = "dismissed"  # 非政务舆情，不予处置
    MERGED = "merged"  # 已并入其他事件

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Still needs work (appears in the duty queue)."""
        return self not in _NOT_OPEN


_STATUS_LABELS = {
    IncidentStatus.DETECTED: "监测发现",
    IncidentStatus.ASSESSED: "研判定级",
    IncidentStatus.REPORTED: "已报送",
    IncidentStatus.ASSIGNED: "已交办",
    IncidentStatus.HANDLING: "处置中",
    IncidentStatus.RESPONDED: "已回应",
    IncidentStatus.FOLLOW_UP: "持续发布",
    IncidentStatus.EVALUATED: "已评估",
    IncidentStatus.CLOSED: "已办结",
    IncidentStatus.ARCHIVED: "已归档",
    IncidentStatus.ESCALATED: "已升级",
    IncidentStatus.REASSIGNED: "退回待改派",
    IncidentStatus.OVERDUE: "超期",
    IncidentStatus.SUPERVISED: "督办中",
    IncidentStatus.DISMISSED: "不予处置",
    IncidentStatus.MERGED: "已合并",
}
_NOT_OPEN = frozenset({IncidentStatus.CLOSED, IncidentStatus.ARCHIVED, IncidentStatus.DISMISSED, IncidentStatus.MERGED})

S = IncidentStatus
_WORKING = (S.HANDLING, S.RESPONDED, S.REASSIGNED, S.ESCALATED, S.OVERDUE, S.SUPERVISED)
_SIDE_FROM_WORK = (S.ESCALATED, S.OVERDUE, S.SUPERVISED, S.REASSIGNED, S.RESPONDED, S.HANDLING)

# Allowed transitions. Side states are reachable from the working stages and return to them;
# any open incident can be merged into another; CLOSED can be reopened into HANDLING.
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    S.DETECTED: frozenset({S.ASSESSED, S.DISMISSED, S.MERGED}),
    S.ASSESSED: frozenset({S.REPORTED, S.ASSIGNED, S.DISMISSED, S.CLOSED, S.MERGED}),
    S.REPORTED: frozenset({S.ASSIGNED, S.ESCALATED, S.OVERDUE, S.SUPERVISED, S.MERGED}),
    S.ASSIGNED: frozenset({*_WORKING, S.MERGED}),
    S.HANDLING: frozenset({*_SIDE_FROM_WORK, S.MERGED} - {S.HANDLING}),
    S.REASSIGNED: frozenset({S.ASSIGNED, S.ESCALATED, S.OVERDUE, S.SUPERVISED, S.MERGED}),
    S.ESCALATED: frozenset({*_SIDE_FROM_WORK, S.ASSIGNED, S.MERGED} - {S.ESCALATED}),
    S.OVERDUE: frozenset({*_SIDE_FROM_WORK, S.ASSIGNED, S.MERGED} - {S.OVERDUE}),
    S.SUPERVISED: frozenset({S.HANDLING, S.RESPONDED, S.REASSIGNED, S.ASSIGNED, S.MERGED}),
    S.RESPONDED: frozenset({S.FOLLOW_UP, S.EVALUATED, S.CLOSED, S.HANDLING, S.ESCALATED, S.SUPERVISED, S.MERGED}),
    S.FOLLOW_UP: frozenset({S.EVALUATED, S.CLOSED, S.HANDLING, S.ESCALATED, S.SUPERVISED, S.MERGED}),
    S.EVALUATED: frozenset({S.CLOSED, S.FOLLOW_UP}),
    S.CLOSED: frozenset({S.ARCHIVED, S.HANDLING}),
    S.ARCHIVED: frozenset(),
    S.DISMISSED: frozenset({S.DETECTED, S.ARCHIVED}),
    S.MERGED: frozenset(),
}


def allowed_transitions(current: IncidentStatus) -> frozenset[IncidentStatus]:
    return TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class Incident:
    """An event that one or more items are about, and who must respond to it."""

    title: str
    detected_at: datetime
    status: IncidentStatus = IncidentStatus.DETECTED
    summary: str = ""
    occurred_at: datetime | None = None  # 事发时间 (t0 of emergency clocks when known)
    first_published_at: datetime | None = None  # earliest publication among its items
    event_type: EventType | None = None
    event_level: EventLevel | None = None
    opinion_level: OpinionLevel | None = None
    requires_response: bool = True
    owner_unit: str | None = None  # 第一责任主体 (unit id)
    lead_unit: str | None = None  # 牵头单位
    co_units: tuple[str, ...] = ()
    region: str | None = None  # 属地 (township/subdistrict unit id)
    multi_region: bool = False
    vertical_managed: bool = False
    media_tiers: tuple[MediaTier, ...] = ()
    item_count: int = 0
    source_count: int = 0
    generation: int = 0  # fencing token: bumped by ack / regrade / response
    external_ref: str | None = None  # id in an imported ledger or a simulation scenario
    closed_at: datetime | None = None
    assigned_at: datetime | None = None  # 交办时间 (to the current owning unit)
    accepted_at: datetime | None = None  # 认领时间 (by the current owning unit; None until it accepts)
    returned_reason: str | None = None  # 退回理由 (the latest 退回; kept after the 改派 for the ledger)
    media_type: MediaType | None = None  # 媒体类型 from an imported ledger row; collected ones: their first item's
    tags: tuple[str, ...] = field(default_factory=tuple)
    id: int | None = None

    def transition(self, target: IncidentStatus, at: datetime) -> Incident:
        """Move to `target`, or raise InvalidTransition naming the allowed targets."""
        allowed = TRANSITIONS[self.status]
        if target not in allowed:
            raise InvalidTransition(
                self.id if self.id is not None else self.title,
                self.status.value,
                target.value,
                tuple(sorted(s.value for s in allowed)),
            )
        closed_at = at if target in (S.CLOSED, S.DISMISSED, S.MERGED) else self.closed_at
        if target == S.HANDLING and self.status == S.CLOSED:
            closed_at = None
        return dataclasses.replace(self, status=target, closed_at=closed_at)

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_major_emergency(self) -> bool:
        """特别重大/重大 突发事件: the 5 h and 24 h clocks apply."""
        return self.event_level is not None and self.event_level.is_major
