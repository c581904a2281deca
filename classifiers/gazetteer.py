"""The org directory the classifier routes into: departments and 属地 regions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class DepartmentInfo:
    """One department: names that refer to it, topic keywords, and vertical management."""

    aliases: Sequence[str] = ()
    keywords: Sequence[str] = ()
    vertical_managed: bool = False


@dataclass(frozen=True)
class Gazetteer:
    """Regions (township/subdistrict → the names it goes by), departments (name → info), and
    optionally each region's places (villages, streets, schools, plants …): weaker evidence of
    属地 than the region's own name, and never on their own a sign that several regions are
    involved (a victim taken to a hospital in another district does not move the event)."""

    regions: Mapping[str, Sequence[str]] = field(default_factory=dict)
    departments: Mapping[str, DepartmentInfo] = field(default_factory=dict)
    places: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def default(cls) -> Gazetteer:
        """The DOMAIN.md §7 departments shipped in ``data/departments.yaml``; no regions."""
        return cls(regions={}, departments=dict(_default_departments()))

    def with_regions(
        self, regions: Mapping[str, Sequence[str]], places: Mapping[str, Sequence[str]] | None = None
    ) -> Gazetteer:
        """A copy with ``regions`` (and ``places``) replacing this gazetteer's."""
        return Gazetteer(regions=dict(regions), departments=self.departments, places=dict(places or {}))

    def place_names(self) -> list[str]:
        """Every region name, alias and place (used as tokenizer user words)."""
        names = set(self.regions) | set(self.places)
        for aliases in (*self.regions.values(), *self.places.values()):
            names.update(aliases)
        return sorted(n for n in names if n)

    def department_terms(self) -> list[str]:
        """Every department name, alias and keyword (used as tokenizer user words)."""
        terms: set[str] = set()
        for name, info in self.departments.items():
            terms.add(name)
            terms.update(info.aliases)
            terms.update(info.keywords)
        return sorted(t for t in terms if t)


@lru_cache(maxsize=1)
def _default_departments() -> tuple[tuple[str, DepartmentInfo], ...]:
    raw = load_data_yaml("departments.yaml")["departments"]
    return tuple((name, _department_from(name, spec)) for name, spec in raw.items())


def _department_from(name: str, spec: Mapping[str, Any]) -> DepartmentInfo:
    unknown = set(spec) - {"aliases", "keywords", "vertical_managed"}
    if unknown:
        raise ValueError(f"departments.yaml: {name}: unknown fields {sorted(unknown)}")
    return DepartmentInfo(
        aliases=tuple(str(a) for a in spec.get("aliases", ())),
        keywords=tuple(str(k) for k in spec.get("keywords", ())),
        vertical_managed=bool(spec.get("vertical_managed", False)),
    )


def load_data_yaml(name: str) -> dict[str, Any]:
    """Parse one YAML file shipped in ``classifiers/data``."""
    text = resources.files("classifiers").joinpath(f"data/{name}").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"classifiers/data/{name}: expected a mapping at the top level")
    return data
