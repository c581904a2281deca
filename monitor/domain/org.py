"""The org directory: units, towns/streets, people, roles and notification addresses."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from monitor.domain.enums import ChannelKind, Role, UnitKind
from monitor.domain.errors import OrgError

# Roles held within a unit (the owning unit's people); the others are city-wide.
UNIT_ROLES = frozenset({Role.LIAISON, Role.DEPUTY_LEADER, Role.PRINCIPAL})


@dataclass(frozen=True, slots=True)
class Robot:
    """A DingTalk or WeCom group robot; its URL and secret come from the environment."""

    id: str
    kind: ChannelKind
    name: str
    webhook_env: str
    secret_env: str | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    """A government unit: the 人民政府, a department, or a township/subdistrict (属地)."""

    id: str
    name: str  # full official name, e.g. 明湖市应急管理局
    short_name: str  # canonical department name, e.g. 应急管理局
    kind: UnitKind
    parent: str | None = None
    vertical_managed: bool = False  # 垂直管理: the 上级部门办公厅 coordinates (61号)
    aliases: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    places: tuple[str, ...] = ()  # gazetteer of a township/subdistrict
    robots: Mapping[ChannelKind, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the unit is known by."""
        return (self.name, self.short_name, *self.aliases)


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    role: Role
    unit: str


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    title: str = ""
    mobile: str | None = None
    email: str | None = None
    slack_user: str | None = None
    roles: tuple[RoleAssignment, ...] = ()
    channels: tuple[ChannelKind, ...] = (ChannelKind.EMAIL,)  # preferred order = fallback order
    quiet_hours: str | None = None  # "HH:MM-HH:MM" (Asia/Shanghai); "" = never quiet; None = the default

    def has_role(self, role: Role, unit: str | None = None) -> bool:
        return any(r.role == role and (unit is None or r.unit == unit) for r in self.roles)


@dataclass(frozen=True)
class OrgDirectory:
    """Lookups over the directory. Build with `OrgDirectory.build()`, which checks references."""

    city: str
    units: Mapping[str, Unit]
    people: Mapping[str, Person]
    robots: Mapping[str, Robot]

    @classmethod
    def build(
        cls, city: str, units: Iterable[Unit], people: Iterable[Person], robots: Iterable[Robot] = ()
    ) -> OrgDirectory:
        directory = cls(
            city=city,
            units=_index(units, "unit"),
            people=_index(people, "person"),
            robots=_index(robots, "robot"),
        )
        directory.check()
        return directory

    def check(self) -> None:
        """Raise OrgError for dangling references."""
        for unit in self.units.values():
            if unit.parent is not None and unit.parent not in self.units:
                raise OrgError(f"unit {unit.id}: parent {unit.parent!r} is not a unit id")
            for robot_id in unit.robots.values():
                if robot_id not in self.robots:
                    raise OrgError(f"unit {unit.id}: robot {robot_id!r} is not declared under robots")
        for person in self.people.values():
            for assignment in person.roles:
                if assignment.unit not in self.units:
                    raise OrgError(f"person {person.id}: role {assignment.role} names unknown unit {assignment.unit!r}")

    def replace_people(self, people: Iterable[Person]) -> None:
        """Swap the people in place, after checking them: the one mutation of a directory.

        People edited on the web's /org page must reach every holder of the directory in the
        process at once (the engine's escalation, the notifier's routing, the web's permissions);
        units and robots stay as the org file declares them.
        """
        index = _index(people, "person")
        for person in index.values():
            for assignment in person.roles:
                if assignment.unit not in self.units:
                    raise OrgError(f"person {person.id}: role {assignment.role} names unknown unit {assignment.unit!r}")
        mapping = self.people
        assert isinstance(mapping, dict), "people must be the dict OrgDirectory.build() made"
        mapping.clear()
        mapping.update(index)
        self.__dict__.pop("_by_role", None)  # the cached role index is rebuilt on next use

    def unit(self, unit_id: str) -> Unit:
        try:
            return self.units[unit_id]
        except KeyError:
            raise OrgError(f"unknown unit {unit_id!r}") from None

    def find_unit(self, name: str) -> Unit | None:
        """A unit by id, full name, short name or alias."""
        if name in self.units:
            return self.units[name]
        for unit in self.units.values():
            if name in unit.names:
                return unit
        return None

    def localities(self) -> list[Unit]:
        return [u for u in self.units.values() if u.kind.is_locality]

    def departments(self) -> list[Unit]:
        return [u for u in self.units.values() if u.kind == UnitKind.DEPARTMENT]

    def first_of_kind(self, kind: UnitKind) -> Unit | None:
        return next((u for u in self.units.values() if u.kind == kind), None)

    def people_with(self, role: Role, unit: str | None = None) -> list[Person]:
        """People holding `role` (in `unit`, when given), in directory order."""
        return list(self._by_role.get((role, unit), ()))

    @functools.cached_property
    def _by_role(self) -> dict[tuple[Role, str | None], tuple[Person, ...]]:
        """(role, unit) and (role, None) -> holders, in directory order (built once: the engine asks often)."""
        index: dict[tuple[Role, str | None], list[Person]] = {}
        for person in self.people.values():
            for key in {(a.role, a.unit) for a in person.roles} | {(a.role, None) for a in person.roles}:
                index.setdefault(key, []).append(person)
        return {k: tuple(v) for k, v in index.items()}

    def resolve(self, role: Role, unit: str | None) -> list[Person]:
        """Who a ladder step targeting `role` reaches for an incident owned by `unit`.

        Unit-scoped roles (联络员, 分管领导, 主要负责人) resolve within the owning unit, falling back
        to the 人民政府's holders when the unit has none; 政府办/宣传部/值班员 are city-wide. An
        incident with no (known) owning unit reaches the duty officers, whose job is then to assign
        one — never every holder of the role across the city.
        """
        if role not in UNIT_ROLES:  # 政府办、宣传部、值班员
            return self.people_with(role)
        if unit is None or unit not in self.units:
            return self.people_with(Role.DUTY_OFFICER)
        found = self.people_with(role, unit)
        if found:
            return found
        government = self.first_of_kind(UnitKind.GOVERNMENT)
        return self.people_with(role, government.id) if government else []


T = TypeVar("T", Unit, Person, Robot)


def _index(things: Iterable[T], what: str) -> dict[str, T]:
    index: dict[str, T] = {}
    for thing in things:
        if thing.id in index:
            raise OrgError(f"duplicate {what} id {thing.id!r}")
        index[thing.id] = thing
    return index
