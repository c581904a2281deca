"""Simulation scenarios (`monitor simulate --scenario FILE.yaml`): incidents and timed actions.

Errors name the file, the line and the field, like every policy file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.domain import EventLevel, OpinionLevel, OrgDirectory, SupervisionLevel
from monitor.policy.yamlfile import PolicyError, Section, load_yaml

ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "confirm": ("by", "note"),
    "dismiss": ("by", "reason"),
    "record_response": ("kind", "url", "document", "approved_by", "published_at", "by", "summary"),
    "record_report": ("report_kind", "channel", "signer", "by", "reported_at"),
    "regrade": ("event_level", "opinion_level", "requires_response", "reason", "by"),
    "acknowledge": ("by", "rule"),
    "pause": ("rule", "until", "reason", "approved_by", "by"),
    "attach_rule": ("rule", "t0", "reason", "by"),
    "extend": ("rule", "reason", "approved_by", "by"),
    "reassign": ("department", "reason", "by"),
    "accept": ("by", "note"),  # 认领 (recorded as on the owning unit's behalf)
    "return": ("reason", "by"),  # 退回
    "supervise": ("level", "reason", "signed_by", "by"),  # 政府办督查: level remind | urge | supervise | circulate
    "note": ("text", "by"),
    "close": ("reason", "by"),
    "reopen": ("reason", "by"),
}
INCIDENT_KEYS = (
    "id",
    "title",
    "detected_at",
    "occurred_at",
    "first_published_at",
    "event_level",
    "opinion_level",
    "requires_response",
    "department",
    "region",
    "extra_rules",
    "actions",
    "confirmed",
)


@dataclass(frozen=True)
class ScenarioAction:
    at: datetime
    do: str
    fields: dict[str, Any]
    where: str  # "file:line" for error messages
    order: int


@dataclass(frozen=True)
class ScenarioIncident:
    ref: str
    title: str
    detected_at: datetime
    occurred_at: datetime | None
    first_published_at: datetime | None
    event_level: EventLevel | None
    opinion_level: OpinionLevel | None
    requires_response: bool | None  # None: derived at confirmation from the levels (DOMAIN.md §1.2)
    owner_unit: str | None
    region: str | None
    confirmed: bool
    extra_rules: tuple[tuple[str, datetime | None], ...]
    actions: tuple[ScenarioAction, ...]


@dataclass(frozen=True)
class Scenario:
    file: str
    start: datetime
    run_until: datetime
    org: str | None
    playbook: str | None
    restart_at: tuple[datetime, ...]
    incidents: tuple[ScenarioIncident, ...] = field(default_factory=tuple)


def scenario_org_path(path: Path | str) -> str | None:
    """The `org:` a scenario names (read before the full load, which needs the directory)."""
    root = load_yaml(path).root()
    value = root.text("org", None)
    return str(value) if value else None


def load_scenario(path: Path | str, org: OrgDirectory) -> Scenario:
    doc = load_yaml(path)
    root = doc.root().only("start", "run_until", "org", "playbook", "restart_at", "incidents")
    start, until = root.instant("start"), root.instant("run_until")
    if until <= start:
        raise root.error("run_until", "run_until must be after start", "give a later run_until")
    restarts = tuple(_instant_list(root, "restart_at"))
    for i, at in enumerate(restarts):
        if not start <= at <= until:
            raise doc.error(("restart_at", i), f"{at.isoformat()} is outside start … run_until", "move it inside")
    incidents = tuple(_incident(s, org, n) for n, s in enumerate(root.sections("incidents")))
    refs = [i.ref for i in incidents]
    if len(set(refs)) != len(refs):
        raise root.error("incidents", "incident ids repeat", "give each incident its own id")
    return Scenario(doc.file, start, until, root.text("org", None), root.text("playbook", None), restarts, incidents)


def _instant_list(root: Section, key: str) -> list[datetime]:
    values = root.get(key, list, [])
    out = []
    for i, _ in enumerate(values):
        holder = Section(root.doc, (key,), {str(i): values[i]})
        out.append(holder.instant(str(i)))
    return out


def _level(s: Section, key: str, kind: Any) -> Any:
    if s.data.get(key) is None:
        return None
    return s.enum(key, kind)


def _unit(s: Section, key: str, org: OrgDirectory) -> str | None:
    name = s.text(key, None)
    if name is None:
        return None
    unit = org.find_unit(str(name))
    if unit is None:
        raise s.error(key, f"no unit called {name!r} in the org directory", "use a unit id or name from the org file")
    return unit.id


def _incident(s: Section, org: OrgDirectory, n: int) -> ScenarioIncident:
    s.only(*INCIDENT_KEYS)
    extra = []
    for i, raw in enumerate(s.get("extra_rules", list, [])):
        if isinstance(raw, str):
            extra.append((raw, None))
        elif isinstance(raw, dict):
            entry = Section(s.doc, (*s.path, "extra_rules", i), raw).only("rule", "t0")
            extra.append((str(entry.text("rule")), entry.instant("t0", None)))
        else:
            raise s.doc.error((*s.path, "extra_rules", i), f"{raw!r} is not a rule id", "write a rule id")
    actions = tuple(_action(a, n * 1000 + i, org) for i, a in enumerate(s.sections("actions", required=False)))
    return ScenarioIncident(
        ref=str(s.text("id")),
        title=s.text("title"),
        detected_at=s.instant("detected_at"),
        occurred_at=s.instant("occurred_at", None),
        first_published_at=s.instant("first_published_at", None),
        event_level=_level(s, "event_level", EventLevel),
        opinion_level=_level(s, "opinion_level", OpinionLevel),
        requires_response=s.get("requires_response", bool, None),
        owner_unit=_unit(s, "department", org),
        region=_unit(s, "region", org),
        confirmed=s.get("confirmed", bool, True),
        extra_rules=tuple(extra),
        actions=actions,
    )


def _action(s: Section, order: int, org: OrgDirectory) -> ScenarioAction:
    do = s.text("do")
    if do not in ACTION_FIELDS:
        raise s.error("do", f"unknown action {do!r}", f"use one of {', '.join(ACTION_FIELDS)}")
    s.only("at", "do", *ACTION_FIELDS[do])
    fields = {k: v for k, v in s.data.items() if k not in ("at", "do")}
    for key in ("until", "published_at", "reported_at", "t0"):
        if key in fields:
            fields[key] = s.instant(key)
    if "level" in fields:
        fields["level"] = s.enum("level", SupervisionLevel)
    if "department" in fields:  # a unit id or name, like the incident's department
        fields["department"] = _unit(s, "department", org)
    line = s.doc.lines.get(s.path)
    return ScenarioAction(s.instant("at"), do, fields, f"{s.doc.file}:{line}", order)


def action_error(action: ScenarioAction, problem: str) -> PolicyError:
    file, _, line = action.where.rpartition(":")
    return PolicyError(file, int(line) if line.isdigit() else None, f"action {action.do}", problem, "fix this action")
