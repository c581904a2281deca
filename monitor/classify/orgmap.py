"""The org directory as the classifier sees it, and the classifier's names as org unit ids.

The classifier routes to canonical department names (应急管理局, 住房和城乡建设局 …, the keys of
``classifiers/data/departments.yaml``, which its routing classes and event-type rules name) and
to region names. A deployment's directory may call a department differently (规划和自然资源局
for 自然资源和规划局): a unit whose short name, full name or alias is a canonical name or one
of its aliases is filed under that canonical name, so routing still reaches it. Every name the
directory knows is added as an alias; keywords are the union of the shipped ones and the
directory's. Townships and subdistricts become regions with their short name, aliases and
places (their gazetteer: weaker evidence than the region's own name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from classifiers import DepartmentInfo, Gazetteer
from monitor.domain import OrgDirectory, Unit, UnitKind

# Units that can own or share an item: departments, and the propaganda/网信 office (谣言 co-unit).
_OWNER_KINDS = (UnitKind.DEPARTMENT, UnitKind.PROPAGANDA)


@dataclass(frozen=True)
class OrgMapping:
    """The gazetteer handed to the classifier plus the way back to unit ids."""

    gazetteer: Gazetteer
    department_units: Mapping[str, str]  # classifier department name → unit id
    region_units: Mapping[str, str]  # classifier region name → unit id

    def department_id(self, name: str | None) -> str | None:
        return None if name is None else self.department_units.get(name)

    def region_id(self, name: str | None) -> str | None:
        return None if name is None else self.region_units.get(name)


def org_mapping(org: OrgDirectory, defaults: Gazetteer | None = None) -> OrgMapping:
    """Build the classifier's gazetteer from the org directory (see module docstring)."""
    defaults = defaults or Gazetteer.default()
    departments: dict[str, DepartmentInfo] = {}
    department_units: dict[str, str] = {}
    for unit in org.units.values():
        if unit.kind not in _OWNER_KINDS:
            continue
        canonical = _canonical_name(unit, defaults.departments)
        if canonical in department_units:
            continue  # two units claim one name: the first in directory order owns it
        department_units[canonical] = unit.id
        departments[canonical] = _department_info(canonical, unit, defaults.departments.get(canonical))
    localities = org.localities()
    regions = {u.short_name: _unique((u.name, *u.aliases)) for u in localities}
    places = {u.short_name: _unique(u.places) for u in localities}
    region_units = {u.short_name: u.id for u in localities}
    gazetteer = Gazetteer(regions=regions, departments=departments, places=places)
    return OrgMapping(gazetteer, department_units, region_units)


def _canonical_name(unit: Unit, known: Mapping[str, DepartmentInfo]) -> str:
    names = set(unit.names)
    if unit.short_name in known:
        return unit.short_name
    for name, info in known.items():
        if name in names or names & set(info.aliases):
            return name
    return unit.short_name


def _department_info(canonical: str, unit: Unit, shipped: DepartmentInfo | None) -> DepartmentInfo:
    aliases = [a for a in (*unit.names, *(shipped.aliases if shipped else ())) if a != canonical]
    keywords = (*unit.keywords, *(shipped.keywords if shipped else ()))
    return DepartmentInfo(aliases=_unique(aliases), keywords=_unique(keywords), vertical_managed=unit.vertical_managed)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
