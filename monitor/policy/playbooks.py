"""Load the response rules (playbooks/rules.yaml), a jurisdiction's overrides and the ladders.

A jurisdiction file `extends:` another rules file and may `disable`, `override` (keys of a rule)
or `add` rules. Every error names file, line, key and the fix (monitor.policy.yamlfile).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.domain import ClockType, EventLevel, OpinionLevel, Role
from monitor.domain.playbooks import (
    MET_BY_TOKENS,
    AlertKind,
    Attach,
    AutoConfirm,
    Condition,
    Ladder,
    Playbook,
    Rule,
    RuleStatus,
    Step,
    T0Source,
)
from monitor.engine.calendar import WorkCalendar
from monitor.policy.calendar import load_calendar
from monitor.policy.yamlfile import MISSING, PolicyError, Section, YamlDoc, load_yaml

RULE_KEYS = (
    "id",
    "title",
    "action",
    "clock",
    "limit_h",
    "limit_d",
    "t0",
    "applies_if",
    "attach",
    "met_by",
    "cadence_h",
    "starts_after",
    "extension_limit_d",
    "ladder",
    "source",
    "status",
    "note",
)
TOP_KEYS = ("version", "jurisdiction", "extends", "ladders", "calendar", "auto_confirm", "rules", "add", "override")
STEP_KEYS = ("id", "at", "kind", "roles", "repeat_h", "max_repeats", "repeat_roles")
# The alert kinds the engine fires at a step's point of an obligation's window. 退回待改派 and
# 政府办督查 follow a person's action and 系统告警 a problem the engine found: no step schedules them.
STEP_KINDS = (AlertKind.DEADLINE_WARNING, AlertKind.DEADLINE_BREACH, AlertKind.ESCALATION, AlertKind.SUPERVISION)


@dataclass(frozen=True)
class LoadedPolicy:
    """The playbook plus the working-day calendar it names."""

    playbook: Playbook
    calendar: WorkCalendar
    calendar_file: Path


def load_policy(path: Path | str) -> LoadedPolicy:
    """Read a rules file (following `extends`), its ladders and its calendar overrides."""
    path = Path(path)
    files: list[tuple[str, str]] = []
    raw, base_dir = _resolved_rules(path, files, depth=0)
    ladders_file = base_dir / raw["ladders"]
    ladders = _load_ladders(ladders_file, files)
    calendar_file = base_dir / raw["calendar"]
    rules = tuple(_rule(s) for s in raw["rules"])
    _check_rules(rules, ladders, raw["rule_sections"])
    playbook = Playbook(
        jurisdiction=raw["jurisdiction"],
        rules=rules,
        ladders=ladders,
        auto_confirm=raw["auto_confirm"],
        files=tuple(files),
    )
    return LoadedPolicy(playbook, load_calendar(calendar_file), calendar_file)


def _digest(path: Path, files: list[tuple[str, str]]) -> YamlDoc:
    doc = load_yaml(path)
    files.append((path.name, hashlib.sha256(path.read_bytes()).hexdigest()))
    return doc


def _resolved_rules(path: Path, files: list[tuple[str, str]], depth: int) -> tuple[dict[str, Any], Path]:
    doc = _digest(path, files)
    root = doc.root().only(*TOP_KEYS, "disable")
    if root.get("version", int, 1) != 1:
        raise root.error("version", "unsupported version", "set version: 1")
    parent_ref = root.text("extends", None)
    if parent_ref is None:
        return _base_rules(root), path.parent
    if depth > 3:
        raise root.error("extends", "too many levels of `extends`", "extend the national rules.yaml directly")
    if "rules" in root:
        raise root.error("rules", "a file with `extends` lists changes, not `rules`", "use add / override / disable")
    parent_path = path.parent / parent_ref
    if not parent_path.is_file():
        raise root.error("extends", f"{parent_path} does not exist", "give a path relative to this file")
    raw, base_dir = _resolved_rules(parent_path, files, depth + 1)
    return _apply_changes(root, raw), base_dir


def _base_rules(root: Section) -> dict[str, Any]:
    for key in ("add", "override", "disable"):
        if key in root:
            raise root.error(key, f"`{key}` needs `extends:`", "name the rules file this one changes, or use `rules:`")
    sections = list(root.sections("rules"))
    return {
        "jurisdiction": root.text("jurisdiction"),
        "ladders": root.text("ladders"),
        "calendar": root.text("calendar"),
        "auto_confirm": _auto_confirm(root.section("auto_confirm", required=False)),
        "rules": sections,
        "rule_sections": {s.data.get("id"): s for s in sections},
    }


def _apply_changes(root: Section, raw: dict[str, Any]) -> dict[str, Any]:
    by_id: dict[Any, Section] = {s.data.get("id"): s for s in raw["rules"]}
    for i, rule_id in enumerate(root.strings("disable")):
        if rule_id not in by_id:
            raise root.doc.error(("disable", i), f"no rule {rule_id!r} to disable", _known(by_id))
        del by_id[rule_id]
    override = root.section("override", required=False)
    for rule_id in override.keys() if override else ():
        assert override is not None
        if rule_id not in by_id:
            raise override.error(rule_id, f"no rule {rule_id!r} to override", _known(by_id))
        changes = override.section(rule_id)
        assert changes is not None
        changes.only(*(k for k in RULE_KEYS if k != "id"))
        base = by_id[rule_id]
        by_id[rule_id] = _Merged(base, changes)
    for added in root.sections("add", required=False):
        new_id = added.data.get("id")
        if new_id in by_id:
            raise added.error("id", f"rule {new_id!r} already exists", "use `override:` to change it, or a new id")
        by_id[new_id] = added
    raw = dict(raw)
    raw["rules"] = list(by_id.values())
    raw["rule_sections"] = by_id
    raw["jurisdiction"] = root.text("jurisdiction", raw["jurisdiction"])
    if "auto_confirm" in root:
        raw["auto_confirm"] = _auto_confirm(root.section("auto_confirm"))
    return raw


class _Merged(Section):
    """A rule section whose keys come from an override where given, else from the base rule."""

    def __init__(self, base: Section, changes: Section) -> None:
        super().__init__(base.doc, base.path, {**base.data, **changes.data})
        self._base, self._changes = base, changes

    def error(self, key: str | int | None, problem: str, fix: str) -> PolicyError:
        owner = self._changes if key in self._changes.data else self._base
        return Section.error(owner, key, problem, fix)

    def get(self, key: str, kind: Any, default: Any = MISSING) -> Any:
        owner = self._changes if key in self._changes.data else self._base
        return Section.get(owner, key, kind, default)


def _known(by_id: Mapping[Any, Section]) -> str:
    return "known rules: " + ", ".join(str(k) for k in by_id)


def _levels(section: Section | None, key: str, kind: type[Any]) -> frozenset[Any] | None:
    if section is None or key not in section:
        return None
    values = []
    for i, raw in enumerate(section.strings(key)):
        try:
            values.append(kind(raw))
        except ValueError:
            choices = ", ".join(m.value for m in kind)
            raise section.doc.error((*section.path, key, i), f"{raw!r} is not a level", f"use {choices}") from None
    return frozenset(values)


def _auto_confirm(section: Section | None) -> AutoConfirm:
    if section is None:
        return AutoConfirm()
    section.only("event_level", "opinion_level")
    return AutoConfirm(
        _levels(section, "event_level", EventLevel) or frozenset(),
        _levels(section, "opinion_level", OpinionLevel) or frozenset(),
    )


def _condition(s: Section) -> Condition:
    c = s.section("applies_if", required=False)
    if c is None:
        return Condition()
    c.only("event_level", "event_level_not", "opinion_level", "requires_response", "closed")
    return Condition(
        event_levels=_levels(c, "event_level", EventLevel),
        event_levels_not=_levels(c, "event_level_not", EventLevel) or frozenset(),
        opinion_levels=_levels(c, "opinion_level", OpinionLevel),
        requires_response=c.get("requires_response", bool, None),
        closed=c.get("closed", bool, False),
    )


def _tokens(s: Section, key: str, required: bool) -> frozenset[str]:
    values = s.strings(key)
    if required and not values:
        raise s.error(key, "no way to meet this rule", "list what meets it, e.g. met_by: [authoritative_release]")
    for i, value in enumerate(values):
        if value not in MET_BY_TOKENS:
            raise s.doc.error((*s.path, key, i), f"{value!r} cannot meet a rule", f"use {', '.join(MET_BY_TOKENS)}")
    return frozenset(values)


def _limit(s: Section, clock: ClockType) -> float:
    if "cadence_h" in s:
        for key in ("limit_h", "limit_d"):
            if key in s:
                raise s.error(key, "a recurring rule's window is its cadence", f"remove {key}; keep cadence_h")
        if clock != ClockType.NATURAL_HOURS:
            raise s.error("clock", "recurring rules count natural hours", "use clock: natural_hours")
        cadence: float = s.get("cadence_h", float)
        if cadence <= 0:
            raise s.error("cadence_h", f"{cadence!r} is not a valid cadence", "use a positive number of hours")
        return cadence
    key, other = ("limit_h", "limit_d") if clock == ClockType.NATURAL_HOURS else ("limit_d", "limit_h")
    if other in s:
        raise s.error(other, f"{clock.value} rules take `{key}`", f"write {key}: instead of {other}:")
    value: float = s.get(key, float)
    if value <= 0 or (key == "limit_d" and value != int(value)):
        raise s.error(key, f"{value!r} is not a valid limit", "use a positive number (whole days for limit_d)")
    return value


def _rule(s: Section) -> Rule:
    s.only(*RULE_KEYS)
    clock = s.enum("clock", ClockType)
    cadence = s.get("cadence_h", float, None)
    ladder_value = s.get("ladder", (str, dict), "standard")
    by_level: dict[str, str] = {}
    if isinstance(ladder_value, dict):
        by_level = {str(k): str(v) for k, v in ladder_value.items()}
        ladder_value = by_level.pop("default", "standard")
    return Rule(
        id=s.text("id"),
        title=s.text("title"),
        action=s.text("action"),
        clock=clock,
        limit=_limit(s, clock),
        t0=s.enum("t0", T0Source),
        met_by=_tokens(s, "met_by", required=True),
        source=s.text("source"),
        status=s.enum("status", RuleStatus),
        applies_if=_condition(s),
        attach=s.enum("attach", Attach, Attach.AUTO),
        cadence=None if cadence is None else timedelta(hours=cadence),
        starts_after=_tokens(s, "starts_after", required=cadence is not None),
        extension_limit=s.get("extension_limit_d", float, None),
        ladder=ladder_value,
        ladder_by_level=by_level,
        note=s.text("note", ""),
    )


def _check_rules(rules: tuple[Rule, ...], ladders: Mapping[str, Ladder], sections: Mapping[Any, Section]) -> None:
    seen: set[str] = set()
    for rule in rules:
        s = sections[rule.id]
        if rule.id in seen:
            raise s.error("id", f"duplicate rule id {rule.id!r}", "give each rule its own id")
        seen.add(rule.id)
        for key, name in (("default", rule.ladder), *rule.ladder_by_level.items()):
            if name not in ladders:
                raise s.error("ladder", f"ladder {name!r} ({key}) is not defined", f"use one of {', '.join(ladders)}")
            if key != "default" and key not in {*(x.value for x in EventLevel), *(x.value for x in OpinionLevel)}:
                raise s.error("ladder", f"{key!r} is not a level", "key ladders by I–IV, L1–L4 or default")
        if rule.extension_limit is not None and rule.extension_limit <= rule.limit:
            raise s.error("extension_limit_d", "the extension must exceed the limit", "raise it or remove it")
        _check_t0(rule, s)


def _check_t0(rule: Rule, s: Section) -> None:
    """认领时间 exists only for confirmed incidents an owning unit has taken on."""
    if rule.t0 != T0Source.ACCEPTED:
        return
    if rule.attach == Attach.UNCONFIRMED or rule.applies_if.closed:
        when = "awaiting 研判 (attach: unconfirmed)" if rule.attach == Attach.UNCONFIRMED else "once closed"
        raise s.error("t0", f"t0: accepted_at (认领时间) cannot start a rule that applies {when}", "use detected_at")
    if rule.recurring:
        raise s.error("t0", "recurring rules count from their `starts_after` events", "use detected_at")


def _load_ladders(path: Path, files: list[tuple[str, str]]) -> dict[str, Ladder]:
    if not path.is_file():
        raise PolicyError(str(path), None, "", "the ladders file does not exist", "check `ladders:` in the rules file")
    root = _digest(path, files).root().only("version", "ladders")
    section = root.section("ladders")
    assert section is not None
    ladders = {}
    for ladder_id in section.data:
        body = section.section(ladder_id)
        assert body is not None
        body.only("title", "steps")
        steps = tuple(_step(s) for s in body.sections("steps"))
        if len({s.id for s in steps}) != len(steps):
            raise body.error("steps", "step ids repeat", "give each step of a ladder its own id")
        ladders[ladder_id] = Ladder(ladder_id, body.text("title"), steps)
    return ladders


def _step(s: Section) -> Step:
    s.only(*STEP_KEYS)
    at = s.section("at")
    assert at is not None
    at.only("fraction", "before_h", "after_h")
    if len(at.keys()) != 1:
        raise s.error("at", "give exactly one of fraction, before_h, after_h", "e.g. at: {before_h: 1}")
    fraction = at.get("fraction", float, None)
    if fraction is not None and not 0 <= fraction < 1:
        raise at.error("fraction", f"{fraction} is outside 0…1", "use e.g. 0.5 for half-time")
    offset = -at.get("before_h", float, 0.0) + at.get("after_h", float, 0.0)
    repeat = s.get("repeat_h", float, None)
    repeat_roles = _roles(s, "repeat_roles") if "repeat_roles" in s else ()
    if repeat_roles and repeat is None:
        raise s.error("repeat_roles", "repeat_roles without repeat_h", "add repeat_h (hours between repeats)")
    return Step(
        id=s.text("id"),
        kind=_step_kind(s),
        roles=_roles(s),
        fraction=fraction,
        offset=timedelta(hours=offset),
        repeat=None if repeat is None else timedelta(hours=repeat),
        max_repeats=s.get("max_repeats", int, None),
        repeat_roles=repeat_roles,
    )


def _step_kind(s: Section) -> AlertKind:
    raw = s.text("kind")
    if raw in STEP_KINDS:
        return AlertKind(raw)
    known = f" ({AlertKind(raw).label}, sent by the engine itself)" if raw in set(AlertKind) else ""
    allowed = ", ".join(k.value for k in STEP_KINDS)
    raise s.error("kind", f"{raw!r}{known} is not a ladder step kind", f"use one of {allowed}")


def _roles(s: Section, key: str = "roles") -> tuple[Role, ...]:
    roles = []
    for i, raw in enumerate(s.strings(key)):
        try:
            roles.append(Role(raw))
        except ValueError:
            choices = ", ".join(r.value for r in Role)
            raise s.doc.error((*s.path, key, i), f"{raw!r} is not a role", f"use {choices}") from None
    if not roles:
        raise s.error(key, "a step must reach someone", f"list roles, e.g. {key}: [liaison]")
    return tuple(roles)
