"""Which rung of an escalation ladder fires now, and when to look again (pure).

Rules of the ladder:
- A step fires once (repeats are separate firings: `supervise`, `supervise#2`, …).
- Steps whose time has passed but that have not fired (the obligation opened late, or the
  engine was down) fire together as ONE alert named after the latest of them, reaching
  everyone they would have reached: no flood of stale warnings, nobody left out.
- An acknowledgement stops the rest of its phase: before the deadline the remaining warnings
  (the breach alert still fires); after it, further escalation and repeats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.domain import Role
from monitor.domain.playbooks import AlertKind, Ladder, Step
from monitor.engine.plan.derive import Planned
from monitor.engine.plan.facts import Ack

_MAX_EXPANSION = 1000  # safety bound on repeats of one step


@dataclass(frozen=True, slots=True)
class Firing:
    name: str
    step: Step
    at: datetime


@dataclass(frozen=True, slots=True)
class Notify:
    """An alert to send now for one obligation."""

    planned: Planned
    step: str  # the name of the rung (part of the idempotency key)
    steps: tuple[str, ...]  # every rung this alert stands for (collapsed catch-up)
    kind: AlertKind
    roles: tuple[Role, ...]  # everyone the collapsed rungs reach
    lead_roles: tuple[Role, ...]  # the roles of the rung it is named after (asked to act in the text)


def expand(ladder: Ladder, t0: datetime, due: datetime, now: datetime) -> list[Firing]:
    """The ladder's firings for this window, up to the first one after `now`, in time order."""
    firings: list[Firing] = []
    for step in ladder.steps:
        first = step.fire_at(t0, due)
        firings.append(Firing(step.id, step, first))
        if step.repeat is None or step.repeat.total_seconds() <= 0:
            continue
        limit = step.max_repeats if step.max_repeats is not None else _MAX_EXPANSION
        at = first
        for k in range(2, min(limit, _MAX_EXPANSION) + 2):
            if at > now:
                break
            at = at + step.repeat
            firings.append(Firing(f"{step.id}#{k}", step, at))
    firings.sort(key=lambda f: f.at)
    return firings


def _suppressed(firing: Firing, due: datetime, acks: Sequence[Ack]) -> bool:
    before_due = firing.at < due
    return any(a.at < firing.at and (a.at < due) == before_due for a in acks)


def relevant_acks(acks: Iterable[Ack], planned: Planned) -> list[Ack]:
    """Acknowledgements made while this obligation existed, for its rule or for all rules."""
    return [a for a in acks if a.at >= planned.opened_at and a.rule_id in (None, planned.rule.id)]


def step_now(
    planned: Planned, ladder: Ladder, fired: set[str], acks: Sequence[Ack], now: datetime
) -> tuple[Notify | None, datetime | None]:
    """The alert to send now (if any) and the next time a rung falls due."""
    if not planned.live:
        return None, None
    ob = planned.obligation
    firings = expand(ladder, ob.t0, ob.due_at, now)
    pending = [f for f in firings if f.name not in fired and not _suppressed(f, ob.due_at, acks)]
    due_now = [f for f in pending if f.at <= now]
    later = next((f.at for f in pending if f.at > now), None)
    if not due_now:
        return None, later
    latest = due_now[-1]
    roles: list[Role] = []
    for f in due_now:
        roles.extend(r for r in f.step.roles if r not in roles)
    names = tuple(f.name for f in due_now)
    notify = Notify(planned, latest.name, names, latest.step.kind, tuple(roles), latest.step.roles)
    return notify, later
