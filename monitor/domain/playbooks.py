"""Playbooks: the response rules (DOMAIN.md §8) and their escalation ladders, as plain data.

A `Playbook` is what `playbooks/rules.yaml` (plus a jurisdiction's overrides and the ladder
file) says. When an incident is confirmed the engine snapshots the playbook onto it
(`to_dict()` → JSON, keyed by `digest`), so later edits affect new incidents only.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from monitor.domain.commitments import COMMITMENT_RULE_ID
from monitor.domain.enums import ClockType, EventLevel, OpinionLevel, ResponseKind, Role


class T0Source(StrEnum):
    """Where a rule's clock starts (DOMAIN.md §6.1, §8)."""

    DETECTED = "detected_at"  # 监测发现时间
    OCCURRED = "event_occurred_at"  # 事发时间 when known, else detection (DOMAIN.md §8)
    OCCURRED_OR_FIRST_REPORT = "event_occurred_or_first_report"  # 事发时间, else the first report when before detection
    EARLIEST_PUBLICATION = "earliest_publication"  # detection, or the first publication when earlier
    CLOSED = "closed_at"  # 办结时间 (终报)
    ATTACHED = "attached_at"  # given when an operator attaches the rule (default: detection)
    ACCEPTED = "accepted_at"  # 认领时间 of the owning unit; until it accepts, 交办时间; else detection


class Attach(StrEnum):
    """How a rule comes to apply to an incident."""

    AUTO = "auto"  # when the incident is confirmed and `applies_if` matches
    MANUAL = "manual"  # only when an operator attaches it (AttachRule), e.g. 网民留言 7 WD
    UNCONFIRMED = "unconfirmed"  # to incidents awaiting 研判 (triage), until confirmed or dismissed


class RuleStatus(StrEnum):
    """Evidence status of a rule (DOMAIN.md status tags)."""

    VERIFIED = "V"  # wording seen in the official text or a faithful reproduction
    DIGEST = "V-digest"  # seen in an authoritative summary
    LOCAL = "L"  # a local (provincial/municipal) rule
    UNVERIFIED = "U"  # a default to be confirmed by the customer
    PROJECT = "P"  # defined by this project


class AlertKind(StrEnum):
    """Kinds of alert the engine writes to the outbox (docs/contracts.md §3)."""

    DEADLINE_WARNING = "deadline_warning"  # 预警：期限将至
    DEADLINE_BREACH = "deadline_breach"  # 超期
    ESCALATION = "escalation"  # 升级提醒
    SUPERVISION = "supervision"  # 督办
    SYSTEM_ALERT = "system_alert"  # 系统告警（值班员）
    RETURNED = "returned"  # 退回待改派（值班员）: not a ladder step; the engine sends it on a 退回
    SUPERVISED = "supervised"  # 政府办督查（提醒/催办/督办/通报）: not a ladder step; sent on a Supervise

    @property
    def label(self) -> str:
        return _ALERT_LABELS[self]


_ALERT_LABELS = {
    AlertKind.DEADLINE_WARNING: "预警",
    AlertKind.DEADLINE_BREACH: "超期",
    AlertKind.ESCALATION: "升级提醒",
    AlertKind.SUPERVISION: "督办",
    AlertKind.SYSTEM_ALERT: "系统告警",
    AlertKind.RETURNED: "退回待改派",
    AlertKind.SUPERVISED: "政府办督查",
}

# What can meet an obligation (`met_by`): the response kinds of DOMAIN.md §1.4 in lower case,
# the 信息报告 kinds, and the triage outcomes.
REPORT_TOKENS = ("report_first_phone", "report_first_written", "report_follow_up", "report_final")
TRIAGE_TOKENS = ("confirm", "dismiss")
MET_BY_TOKENS = (*(k.value for k in ResponseKind), *REPORT_TOKENS, *TRIAGE_TOKENS)


@dataclass(frozen=True, slots=True)
class Levels:
    """The grading an incident has at one moment."""

    event_level: EventLevel | None
    opinion_level: OpinionLevel | None
    requires_response: bool


@dataclass(frozen=True, slots=True)
class Condition:
    """`applies_if`: every given clause must hold."""

    event_levels: frozenset[EventLevel] | None = None  # None: any level, including none
    event_levels_not: frozenset[EventLevel] = frozenset()
    opinion_levels: frozenset[OpinionLevel] | None = None
    requires_response: bool | None = None
    closed: bool = False  # the rule applies once the incident is closed (终报)

    def matches(self, levels: Levels) -> bool:
        if self.event_levels is not None and levels.event_level not in self.event_levels:
            return False
        if levels.event_level is not None and levels.event_level in self.event_levels_not:
            return False
        if self.opinion_levels is not None and levels.opinion_level not in self.opinion_levels:
            return False
        return self.requires_response is None or self.requires_response == levels.requires_response


@dataclass(frozen=True, slots=True)
class Rule:
    """One response rule: what must happen, counted how, from when, met by what."""

    id: str
    title: str  # zh-CN, e.g. 5小时内发布权威信息
    action: str
    clock: ClockType
    limit: float  # hours for NATURAL_HOURS, days for WORKING_DAYS / NATURAL_DAYS
    t0: T0Source
    met_by: frozenset[str]
    source: str
    status: RuleStatus
    applies_if: Condition = Condition()
    attach: Attach = Attach.AUTO
    cadence: timedelta | None = None  # recurring rules (持续发布, 续报): one instance per period
    starts_after: frozenset[str] = frozenset()  # recurring: instance 1 starts at the first of these
    extension_limit: float | None = None  # a deadline extension may raise the limit to this
    ladder: str = "standard"
    ladder_by_level: Mapping[str, str] = field(default_factory=dict)  # event or opinion level -> ladder
    note: str = ""

    @property
    def recurring(self) -> bool:
        return self.cadence is not None

    def ladder_for(self, levels: Levels) -> str:
        for key in (levels.event_level, levels.opinion_level):
            if key is not None and key.value in self.ladder_by_level:
                return self.ladder_by_level[key.value]
        return self.ladder

    @property
    def limit_text(self) -> str:
        """The limit as people say it: 5小时, 30分钟, 3个工作日."""
        if self.clock == ClockType.NATURAL_HOURS:
            minutes = round(self.limit * 60)
            return f"{minutes}分钟" if minutes < 60 else f"{self.limit:g}小时"
        unit = "个工作日" if self.clock == ClockType.WORKING_DAYS else "日"
        return f"{self.limit:g}{unit}"


@dataclass(frozen=True, slots=True)
class Step:
    """A rung of an escalation ladder, fired at a point of the obligation's window."""

    id: str  # e.g. warn-1h; unique in its ladder; part of idempotency keys
    kind: AlertKind
    roles: tuple[Role, ...]
    fraction: float | None = None  # of the window t0 → due (0.5 = half-time)
    offset: timedelta = timedelta(0)  # relative to due (negative = before) when fraction is None
    repeat: timedelta | None = None  # repeat every … until acknowledged, met or closed
    max_repeats: int | None = None
    repeat_roles: tuple[Role, ...] = ()  # whom the repeats reach (empty: `roles`), e.g. the unit's leader too

    @property
    def announces(self) -> bool:
        """The 交办 rung: it fires when the obligation starts, telling the owning unit what it must do.
        After a 改派 it fires once more, at once, for the new unit; its repeats stop at the unit's 认领."""
        return self.fraction == 0

    def repeated(self) -> Step:
        """The rung as its repeats fire: to `repeat_roles` when given."""
        return replace(self, roles=self.repeat_roles) if self.repeat_roles else self

    def fire_at(self, t0: datetime, due: datetime) -> datetime:
        if self.fraction is not None:
            return t0 + (due - t0) * self.fraction
        return due + self.offset


@dataclass(frozen=True, slots=True)
class Ladder:
    id: str
    title: str
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class AutoConfirm:
    """Confirm detected incidents without a human when the classifier grades them this high."""

    event_levels: frozenset[EventLevel] = frozenset()
    opinion_levels: frozenset[OpinionLevel] = frozenset()

    def matches(self, levels: Levels) -> bool:
        return (levels.event_level in self.event_levels) or (levels.opinion_level in self.opinion_levels)


@dataclass(frozen=True)
class Playbook:
    """Rules, ladders and automatic confirmation for one jurisdiction."""

    jurisdiction: str
    rules: tuple[Rule, ...]
    ladders: Mapping[str, Ladder]
    auto_confirm: AutoConfirm = AutoConfirm()
    files: tuple[tuple[str, str], ...] = ()  # (file name, sha256) the playbook was read from

    def rule(self, rule_id: str) -> Rule | None:
        """The rule of that id; the built-in 承诺兑现 rule when the playbook does not define its own."""
        return next((r for r in self.rules if r.id == rule_id), None) or BUILTIN_RULES.get(rule_id)

    def ladder(self, ladder_id: str) -> Ladder:
        """The ladder of that id; the built-in 承诺兑现 ladder when the ladder file (or an older
        snapshot) has none of that name."""
        return self.ladders.get(ladder_id) or BUILTIN_LADDERS[ladder_id]

    def to_dict(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "auto_confirm": {
                "event_levels": sorted(x.value for x in self.auto_confirm.event_levels),
                "opinion_levels": sorted(x.value for x in self.auto_confirm.opinion_levels),
            },
            "rules": [_rule_dict(r) for r in self.rules],
            "ladders": {k: _ladder_dict(v) for k, v in sorted(self.ladders.items())},
            "files": [list(f) for f in self.files],
        }

    @functools.cached_property
    def digest(self) -> str:
        """sha256 of the canonical JSON: the snapshot's identity."""
        text = json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Playbook:
        auto = data.get("auto_confirm", {})
        return cls(
            jurisdiction=data["jurisdiction"],
            rules=tuple(_rule_from(r) for r in data["rules"]),
            ladders={k: _ladder_from(v) for k, v in data["ladders"].items()},
            auto_confirm=AutoConfirm(
                frozenset(EventLevel(x) for x in auto.get("event_levels", ())),
                frozenset(OpinionLevel(x) for x in auto.get("opinion_levels", ())),
            ),
            files=tuple((f[0], f[1]) for f in data.get("files", ())),
        )


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds() / 3600


def _td(hours: float | None) -> timedelta | None:
    return None if hours is None else timedelta(hours=hours)


def _rule_dict(r: Rule) -> dict[str, Any]:
    c = r.applies_if
    return {
        "id": r.id,
        "title": r.title,
        "action": r.action,
        "clock": r.clock.value,
        "limit": r.limit,
        "t0": r.t0.value,
        "met_by": sorted(r.met_by),
        "source": r.source,
        "status": r.status.value,
        "applies_if": {
            "event_levels": None if c.event_levels is None else sorted(x.value for x in c.event_levels),
            "event_levels_not": sorted(x.value for x in c.event_levels_not),
            "opinion_levels": None if c.opinion_levels is None else sorted(x.value for x in c.opinion_levels),
            "requires_response": c.requires_response,
            "closed": c.closed,
        },
        "attach": r.attach.value,
        "cadence_h": _hours(r.cadence),
        "starts_after": sorted(r.starts_after),
        "extension_limit": r.extension_limit,
        "ladder": r.ladder,
        "ladder_by_level": dict(sorted(r.ladder_by_level.items())),
        "note": r.note,
    }


def _rule_from(d: Mapping[str, Any]) -> Rule:
    c = d["applies_if"]
    return Rule(
        id=d["id"],
        title=d["title"],
        action=d["action"],
        clock=ClockType(d["clock"]),
        limit=d["limit"],
        t0=T0Source(d["t0"]),
        met_by=frozenset(d["met_by"]),
        source=d["source"],
        status=RuleStatus(d["status"]),
        applies_if=Condition(
            event_levels=None if c["event_levels"] is None else frozenset(EventLevel(x) for x in c["event_levels"]),
            event_levels_not=frozenset(EventLevel(x) for x in c["event_levels_not"]),
            opinion_levels=None
            if c["opinion_levels"] is None
            else frozenset(OpinionLevel(x) for x in c["opinion_levels"]),
            requires_response=c["requires_response"],
            closed=c["closed"],
        ),
        attach=Attach(d["attach"]),
        cadence=_td(d["cadence_h"]),
        starts_after=frozenset(d["starts_after"]),
        extension_limit=d["extension_limit"],
        ladder=d["ladder"],
        ladder_by_level=dict(d["ladder_by_level"]),
        note=d.get("note", ""),
    )


def _ladder_dict(ladder: Ladder) -> dict[str, Any]:
    return {
        "id": ladder.id,
        "title": ladder.title,
        "steps": [
            {
                "id": s.id,
                "kind": s.kind.value,
                "roles": [r.value for r in s.roles],
                "fraction": s.fraction,
                "offset_h": _hours(s.offset),
                "repeat_h": _hours(s.repeat),
                "max_repeats": s.max_repeats,
                # only when set: the snapshots (and digests) of ladders without it stay as they were
                **({"repeat_roles": [r.value for r in s.repeat_roles]} if s.repeat_roles else {}),
            }
            for s in ladder.steps
        ],
    }


def _ladder_from(d: Mapping[str, Any]) -> Ladder:
    return Ladder(
        id=d["id"],
        title=d["title"],
        steps=tuple(
            Step(
                id=s["id"],
                kind=AlertKind(s["kind"]),
                roles=tuple(Role(r) for r in s["roles"]),
                fraction=s["fraction"],
                offset=timedelta(hours=s["offset_h"] or 0),
                repeat=_td(s["repeat_h"]),
                max_repeats=s["max_repeats"],
                repeat_roles=tuple(Role(r) for r in s.get("repeat_roles", ())),
            )
            for s in d["steps"]
        ),
    )


# 承诺兑现 (DOMAIN.md §4.4 commitments[]): every open commitment is an obligation of this rule, one
# instance per commitment, due at the end of the day the response promised. It lives in code, not
# in rules.yaml, because its deadline is the commitment's own; `ladders.yaml` may define a ladder
# named `commitment` to change who is reminded when.
COMMITMENT_RULE = Rule(
    id=COMMITMENT_RULE_ID,
    title="兑现并公开承诺事项",
    action="commitment_fulfilment",
    clock=ClockType.NATURAL_DAYS,
    limit=0,  # unused: the commitment's due date is the deadline
    t0=T0Source.ATTACHED,
    met_by=frozenset({"commitment_fulfilled"}),
    source="岳阳市 台账管理“认真核查已作出的承诺落实及公开情况”（DOMAIN.md §4.1、§4.4）",
    status=RuleStatus.LOCAL,
    ladder="commitment",
    note="Built in: one obligation per commitment recorded with a response (monitor.domain.commitments).",
)
COMMITMENT_LADDER = Ladder(
    "commitment",
    "承诺事项兑现提醒",
    (
        Step("warn-3d", AlertKind.DEADLINE_WARNING, (Role.LIAISON,), offset=timedelta(hours=-72)),
        Step("warn-1d", AlertKind.DEADLINE_WARNING, (Role.LIAISON, Role.DEPUTY_LEADER), offset=timedelta(hours=-24)),
        Step("breach", AlertKind.DEADLINE_BREACH, (Role.LIAISON, Role.DEPUTY_LEADER)),
        Step(
            "supervise",
            AlertKind.SUPERVISION,
            (Role.PRINCIPAL, Role.GOV_OFFICE),
            offset=timedelta(hours=24),
            repeat=timedelta(hours=24),
            max_repeats=30,
        ),
    ),
)
BUILTIN_RULES: Mapping[str, Rule] = {COMMITMENT_RULE.id: COMMITMENT_RULE}
BUILTIN_LADDERS: Mapping[str, Ladder] = {COMMITMENT_LADDER.id: COMMITMENT_LADDER}
