"""Which rung of an escalation ladder fires now, and when to look again (pure).

Rules of the ladder:
- A step fires once (repeats are separate firings: `supervise`, `supervise#2`, …).
- Steps whose time has passed but that have not fired (the obligation opened late, or the
  engine was down) fire together as ONE alert named after the latest of them, reaching
  everyone they would have reached: no flood of stale warnings, nobody left out.
- An acknowledgement stops the rest of its phase: before the deadline the remaining warnings
  (the breach alert still fires); after it, further escalation and repeats.
- The 交办 rung (the one at the start of the window) fires once more, at once, when a 改派 makes
  another unit the owner after it had fired. Its repeats are 待认领 reminders, counted from the
  current 交办 (not t0) and reaching the rung's `repeat_roles`; the owning unit's 认领 stops them.
  An incident's reminders come from one of its obligations only (`Owner.reminds`), so two
  obligations never remind the unit twice.
  Acknowledgements made before the current 交办 were an earlier owner's: they silence nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.domain import Role
from monitor.domain.org import UNIT_ROLES
from monitor.domain.playbooks import AlertKind, Ladder, Step
from monitor.engine.plan.derive import Planned
from monitor.engine.plan.facts import Ack, Assignment

_MAX_EXPANSION = 1000  # safety bound on repeats of one step


@dataclass(frozen=True, slots=True)
class Firing:
    name: str
    step: Step
    at: datetime


@dataclass(frozen=True, slots=True)
class Owner:
    """The owning unit's side of a ladder: its 交办, its 认领, and when each rung fired (timeline seq)."""

    assigned: Assignment | None = None
    accepted_at: datetime | None = None
    fired_seq: Mapping[str, int] = field(default_factory=dict)
    reminds: bool = True  # this obligation carries the incident's 待认领 reminders (the 交办 rung's repeats)


@dataclass(frozen=True, slots=True)
class Notify:
    """An alert to send now for one obligation."""

    planned: Planned
    step: str  # the name of the rung (part of the idempotency key)
    steps: tuple[str, ...]  # every rung this alert stands for (collapsed catch-up)
    kind: AlertKind
    roles: tuple[Role, ...]  # everyone the collapsed rungs reach
    lead_roles: tuple[Role, ...]  # the roles of the rung it is named after (asked to act in the text)
    reminder: bool = False  # named after a repeat of the 交办 rung: the unit has not 认领'd yet


def expand(ladder: Ladder, t0: datetime, due: datetime, now: datetime) -> list[Firing]:
    """The ladder's firings for this window, up to the first one after `now`, in time order."""
    firings: list[Firing] = []
    for step in ladder.steps:
        first = step.fire_at(t0, due)
        firings.append(Firing(step.id, step, first))
        if step.repeat is None or step.repeat.total_seconds() <= 0 or step.announces:
            continue  # the 交办 rung repeats from the 交办, not from t0 (`reminders`)
        firings += _repeats(step, step.id, first, now)
    firings.sort(key=lambda f: f.at)
    return firings


def _repeats(step: Step, name: str, first: datetime, now: datetime) -> list[Firing]:
    """`step`'s repeats after `first`, up to the first one after `now`, named `{name}#{k}`."""
    assert step.repeat is not None
    limit = step.max_repeats if step.max_repeats is not None else _MAX_EXPANSION
    at, again, out = first, step.repeated(), []
    for k in range(2, min(limit, _MAX_EXPANSION) + 2):
        if at > now:
            break
        at = at + step.repeat
        out.append(Firing(f"{name}#{k}", again, at))
    return out


def reminders(ladder: Ladder, owner: Owner, now: datetime) -> list[Firing]:
    """待认领 reminders: the 交办 rung's repeats, every `repeat_h` after the current 交办 (named
    `{step}@{assigned seq}#{k}`, so a 改派's new unit gets its own), while that obligation carries them."""
    a = owner.assigned
    step = next((s for s in ladder.steps if s.announces and s.repeat and s.repeat.total_seconds() > 0), None)
    if a is None or step is None or not owner.reminds:
        return []
    return _repeats(step, f"{step.id}@{a.seq}", a.at, now)


def _suppressed(firing: Firing, due: datetime, acks: Sequence[Ack]) -> bool:
    before_due = firing.at < due
    return any(a.at < firing.at and (a.at < due) == before_due for a in acks)


def relevant_acks(acks: Iterable[Ack], planned: Planned, since: datetime | None = None) -> list[Ack]:
    """Acknowledgements made while this obligation existed (and since the current 交办), for it
    (its rule, or its rule's instance: 承诺 #n) or for all rules."""
    start = max(planned.opened_at, since) if since is not None else planned.opened_at
    mine = planned.rule.id, planned.obligation.instance
    return [a for a in acks if a.at >= start and a.rule_id in (None, mine[0]) and a.instance in (None, mine[1])]


def _rung(name: str) -> str:
    """The step id of a firing's name: warn-half, supervise#2 → supervise, assigned@17 → assigned."""
    return name.split("#", 1)[0].split("@", 1)[0]


def handover(ladder: Ladder, owner: Owner, t0: datetime, due: datetime) -> list[Firing]:
    """The 交办 rung again, at the 交办, when it fired before it (for an earlier owner, or for the
    duty officers while the incident had no owning unit).

    It stands for the rungs the earlier owner's people already had: it also reaches the new unit's
    holders of their unit roles (联络员, 分管领导, 主要负责人), and after the deadline it is a 超期 alert."""
    a = owner.assigned
    if a is None:
        return []
    earlier = {_rung(name) for name, seq in owner.fired_seq.items() if seq < a.seq}
    announce = next((s for s in ladder.steps if s.announces and s.id in earlier), None)
    if announce is None:
        return []
    roles = list(announce.roles)
    for step in ladder.steps:
        if step.fire_at(t0, due) <= a.at:
            roles.extend(r for r in step.roles if r in UNIT_ROLES and r not in roles)
    kind = AlertKind.DEADLINE_BREACH if a.at >= due else announce.kind
    return [Firing(f"{announce.id}@{a.seq}", replace(announce, kind=kind, roles=tuple(roles)), a.at)]


def _reminder(firing: Firing) -> bool:
    """A repeat of the 交办 rung (a 待认领 reminder)."""
    return firing.step.announces and "#" in firing.name


def _accepted(firing: Firing, owner: Owner) -> bool:
    """The owning unit has accepted: the 交办 rung's later repeats are not needed."""
    return owner.accepted_at is not None and firing.step.announces and firing.at > owner.accepted_at


def step_now(
    planned: Planned, ladder: Ladder, fired: set[str], acks: Sequence[Ack], now: datetime, owner: Owner | None = None
) -> tuple[Notify | None, datetime | None]:
    """The alert to send now (if any) and the next time a rung falls due."""
    if not planned.live:
        return None, None
    ob, owner = planned.obligation, owner or Owner()
    firings = expand(ladder, ob.t0, ob.due_at, now) + handover(ladder, owner, ob.t0, ob.due_at)
    firings += reminders(ladder, owner, now)
    firings.sort(key=lambda f: f.at)
    pending = [
        f for f in firings if f.name not in fired and not _suppressed(f, ob.due_at, acks) and not _accepted(f, owner)
    ]
    due_now = [f for f in pending if f.at <= now]
    later = next((f.at for f in pending if f.at > now), None)
    if not due_now:
        return None, later
    # named after the latest rung of the ladder itself: a 交办 that collapses with a missed breach is the breach
    latest = next((f for f in reversed(due_now) if "@" not in f.name), due_now[-1])
    roles: list[Role] = []
    for f in due_now:
        roles.extend(r for r in f.step.roles if r not in roles)
    names = tuple(f.name for f in due_now)
    notify = Notify(planned, latest.name, names, latest.step.kind, tuple(roles), latest.step.roles, _reminder(latest))
    return notify, later
