"""The classifier's output as domain values: enums of ``monitor.domain`` and org unit ids."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitor.classify.orgmap import OrgMapping
from monitor.domain import EventLevel, EventType, OpinionLevel


@dataclass(frozen=True)
class UnitRef:
    """A unit the classifier named, as org unit ids (None where the org has no such unit)."""

    department: str | None
    region: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"department": self.department, "region": self.region}


@dataclass(frozen=True)
class ItemClassification:
    """What the classifier decided about one item; ``classification`` is the stored JSON
    (the classifier's full result with ``why``, plus unit ids, model version and text basis)."""

    relevant: bool
    relevance_score: float
    event_type: EventType
    event_level: EventLevel | None
    opinion_level: OpinionLevel
    unit: UnitRef
    co_units: tuple[UnitRef, ...]
    vertical_managed: bool
    multi_region: bool
    flags: tuple[str, ...]
    classification: dict[str, Any]

    @classmethod
    def from_result(
        cls, result: Mapping[str, Any], mapping: OrgMapping, model_version: str, text_basis: str = "title+text"
    ) -> ItemClassification:
        unit = _unit_ref(result["unit"], mapping)
        co_units = tuple(_unit_ref(u, mapping) for u in result.get("co_units", ()))
        classification = {
            **result,
            "unit_ids": unit.to_dict(),
            "co_unit_ids": [u.to_dict() for u in co_units],
            "model_version": model_version,
            "text_basis": text_basis,
        }
        return cls(
            relevant=bool(result["relevant"]),
            relevance_score=float(result["relevance_score"]),
            event_type=EventType.from_label(result["event_type"]),
            event_level=EventLevel(result["event_level"]) if result.get("event_level") else None,
            opinion_level=OpinionLevel(result["opinion_level"]),
            unit=unit,
            co_units=co_units,
            vertical_managed=bool(result.get("vertical_managed")),
            multi_region=bool(result.get("multi_region")),
            flags=tuple(result.get("flags", ())),
            classification=classification,
        )

    def columns(self) -> dict[str, Any]:
        """The items columns of docs/contracts.md §1 (without classified_at and model_version)."""
        return {
            "relevant": self.relevant,
            "relevance_score": self.relevance_score,
            "event_type": self.event_type.value,
            "event_level": self.event_level and self.event_level.value,
            "opinion_level": self.opinion_level.value,
            "department": self.unit.department,
            "region": self.unit.region,
            "classification": self.classification,
        }


def _unit_ref(unit: Mapping[str, Any], mapping: OrgMapping) -> UnitRef:
    return UnitRef(mapping.department_id(unit.get("department")), mapping.region_id(unit.get("region")))
