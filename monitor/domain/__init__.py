"""The domain model: pure Python (stdlib only), no I/O, no clock reads."""

from monitor.domain.enums import (
    ChannelKind,
    ClockType,
    EventCategory,
    EventLevel,
    EventType,
    MediaTier,
    MediaType,
    ObligationStatus,
    OpinionLevel,
    OutboxStatus,
    ReportKind,
    ResponseKind,
    Role,
    SourceHealth,
    SourceKind,
    SupervisionLevel,
    UnitKind,
    UserRole,
)
from monitor.domain.errors import DomainError, InvalidTransition, OrgError
from monitor.domain.events import EventKind, IncidentEvent
from monitor.domain.incidents import Incident, IncidentStatus, allowed_transitions
from monitor.domain.items import Item, Source
from monitor.domain.obligations import Obligation
from monitor.domain.org import OrgDirectory, Person, Robot, RoleAssignment, Unit

__all__ = [
    "ChannelKind",
    "ClockType",
    "DomainError",
    "EventCategory",
    "EventKind",
    "EventLevel",
    "EventType",
    "Incident",
    "IncidentEvent",
    "IncidentStatus",
    "InvalidTransition",
    "Item",
    "MediaTier",
    "MediaType",
    "Obligation",
    "ObligationStatus",
    "OpinionLevel",
    "OrgDirectory",
    "OrgError",
    "OutboxStatus",
    "Person",
    "ReportKind",
    "ResponseKind",
    "Robot",
    "Role",
    "RoleAssignment",
    "Source",
    "SourceHealth",
    "SourceKind",
    "SupervisionLevel",
    "Unit",
    "UnitKind",
    "UserRole",
    "allowed_transitions",
]
