"""The per-document output of :class:`classifiers.Pipeline` and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from classifiers.facts import Facts
from classifiers.types import EventCategory, EventLevel, EventType, OpinionLevel
from classifiers.units import Unit


@dataclass(frozen=True)
class Result:
    """Everything the classifier decided about one document, with the reasons."""

    id: str
    relevant: bool
    relevance_score: float
    event_type: EventType
    event_category: EventCategory | None
    facts: Facts
    event_level: EventLevel | None
    opinion_level: OpinionLevel
    unit: Unit
    co_units: tuple[Unit, ...] = ()
    vertical_managed: bool = False
    multi_region: bool = False
    flags: tuple[str, ...] = ()
    incident: bool = False  # a report of an emergency that happened (classifiers.incident)
    why: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of one output line (``monitor classify``)."""
        return {
            "id": self.id,
            "relevant": self.relevant,
            "relevance_score": round(self.relevance_score, 4),
            "event_type": self.event_type.value,
            "event_category": None if self.event_category is None else self.event_category.value,
            "facts": self.facts.to_dict(),
            "event_level": None if self.event_level is None else self.event_level.value,
            "opinion_level": self.opinion_level.value,
            "unit": self.unit.to_dict(),
            "co_units": [u.to_dict() for u in self.co_units],
            "vertical_managed": self.vertical_managed,
            "multi_region": self.multi_region,
            "flags": list(self.flags),
            "incident": self.incident,
            "why": self.why,
        }
