"""Pure delivery decisions: which rows become which messages, and what a send's outcome does to a row.

No I/O here: the outbox loop (`outbox.py`) reads and writes, these functions decide.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.domain import ChannelKind, OutboxStatus, Person
from monitor.notifications import render
from monitor.notifications.model import Alert, Channel, DeliveryError, Destination, Message, chunk
from monitor.storage.repo.outbox import OutboxRow, TargetWindow


@dataclass(frozen=True)
class Policy:
    batch: int = 100
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 4
    backoff_base_s: float = 30.0
    backoff_max_s: float = 900.0
    poll_s: float = 2.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds before try `attempt + 1`: exponential, capped, with "equal jitter" (half fixed, half random)."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng.random() * ceiling / 2


@dataclass
class Route:
    """A row on its way: who, where now, and where next if this fails."""

    row: OutboxRow
    alert: Alert
    person: Person
    destinations: list[Destination]
    index: int  # position of the current destination in `destinations`

    @property
    def destination(self) -> Destination:
        return self.destinations[self.index]

    @property
    def next_destination(self) -> Destination | None:
        return self.destinations[self.index + 1] if self.index + 1 < len(self.destinations) else None

    @property
    def single_channel(self) -> bool:
        """Test messages go over exactly the channel asked for: no retry elsewhere, no alarm."""
        return self.row.kind == "test"


def start_index(row: OutboxRow, destinations: Sequence[Destination]) -> int:
    """The row's current channel (set by the engine or by an earlier fallback); else the preferred one."""
    if row.channel:
        for i, dest in enumerate(destinations):
            if dest.channel.value == row.channel:
                return i
    return 0


@dataclass
class Plan:
    messages: list[Message] = field(default_factory=list)
    deferred: list[tuple[Route, datetime]] = field(default_factory=list)


def build_messages(
    routes: Sequence[Route],
    channels: Mapping[ChannelKind, Channel],
    windows: Mapping[str, TargetWindow],
    ctx: render.Context,
    new_id: Callable[[], str],
) -> Plan:
    """Group routes per destination into messages; keep robots within their budget (digests, then waiting)."""
    plan = Plan()
    by_id = {r.row.id: r for r in routes}
    by_target: dict[str, list[Route]] = {}
    for route in routes:
        by_target.setdefault(route.destination.target, []).append(route)
    for target, group in by_target.items():
        channel = channels[group[0].destination.channel]
        units = _robot_units(group) if channel.rate_limit else _personal_units(group, channel.kind)
        messages = [_message(unit, new_id) for unit in units]
        if channel.rate_limit is None:
            plan.messages += messages
            continue
        for message, delay_until in _within_budget(channel, messages, windows.get(target), ctx, new_id):
            if delay_until is None:
                plan.messages.append(message)
            else:
                plan.deferred += [(by_id[row.id], delay_until) for row in message.rows]
    return plan


def _robot_units(group: Sequence[Route]) -> list[list[Route]]:
    """One message per alert in a group chat, mentioning everyone it is for."""
    units: dict[str, list[Route]] = {}
    for route in group:
        units.setdefault(route.alert.alert_key, []).append(route)
    return list(units.values())


def _personal_units(group: Sequence[Route], kind: ChannelKind) -> list[list[Route]]:
    """Urgent alerts (and reports, which carry files) one by one; two or more other ones to the same
    person as one digest."""
    alone = [[r] for r in group if _alone(r, kind)]
    calm = [r for r in group if not _alone(r, kind)]
    return alone + ([calm] if len(calm) > 1 else [[r] for r in calm])


def _alone(route: Route, kind: ChannelKind) -> bool:
    return route.alert.urgent or route.alert.kind == "report" or kind == ChannelKind.WEBHOOK


def _message(unit: Sequence[Route], new_id: Callable[[], str]) -> Message:
    alerts = list(dict.fromkeys(r.alert.alert_key for r in unit))
    people = list({r.person.id: r.person for r in unit}.values())
    return Message(
        message_id=new_id(),
        destination=unit[0].destination,
        alerts=[next(r.alert for r in unit if r.alert.alert_key == k) for k in alerts],
        rows=[r.row for r in unit],
        people=people,
        digest=len(alerts) > 1,
    )


def _within_budget(
    channel: Channel,
    messages: list[Message],
    window: TargetWindow | None,
    ctx: render.Context,
    new_id: Callable[[], str],
) -> list[tuple[Message, datetime | None]]:
    """Each message with None (send now) or the instant the robot has room again."""
    limit = channel.rate_limit
    assert limit is not None
    used = window.sent_in_window if window else 0
    budget = 0 if window and window.blocked_until else limit.per_window - used
    if sum(channel.cost(m) for m in messages) > budget and len(messages) > 1:
        messages = _digests(channel, messages, ctx, new_id)
    decided: list[tuple[Message, datetime | None]] = []
    for message in messages:
        cost = channel.cost(message)
        if cost <= budget:
            decided.append((message, None))
            budget -= cost
        else:
            decided.append((message, _free_at(window, limit.window, ctx.now)))
    return decided


def _free_at(window: TargetWindow | None, span: timedelta, now: datetime) -> datetime:
    if window and window.blocked_until:
        return window.blocked_until
    if window and window.oldest_in_window:
        return max(now, window.oldest_in_window + span)
    return now + span


def _digests(
    channel: Channel, messages: list[Message], ctx: render.Context, new_id: Callable[[], str]
) -> list[Message]:
    """Merge messages into as few digests as the channel's size limit allows (urgent alerts first)."""
    messages = sorted(messages, key=lambda m: not m.urgent)
    sizes = [sum(len(line.encode()) + 16 for line in render.digest_lines(m, ctx)) for m in messages]
    merged = []
    for part in chunk(messages, sizes, channel.max_bytes - 600):
        alerts = [a for m in part for a in m.alerts]
        merged.append(
            Message(
                message_id=new_id(),
                destination=part[0].destination,
                alerts=alerts,
                rows=[r for m in part for r in m.rows],
                people=list({p.id: p for m in part for p in m.people}.values()),
                digest=len(alerts) > 1,
            )
        )
    return merged


@dataclass(frozen=True)
class RowChange:
    """What happens to one outbox row after a pass (columns of `update_rows`, plus the timeline note)."""

    values: dict[str, Any]
    event: str | None  # "sent" | "failed" | None (no attempt was made)
    note: dict[str, Any]
    gave_up: bool = False  # no channel left: the duty officers must hear about it


def settle(row: OutboxRow, status: OutboxStatus, now: datetime, **values: Any) -> dict[str, Any]:
    base = {
        "id": row.id,
        "status": status.value,
        "attempts": row.attempts,
        "channel": row.channel,
        "channel_attempts": row.channel_attempts,
        "next_attempt_at": row.next_attempt_at,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": None,
        "sent_at": None,
    }
    base.update(values)
    return base


def after_success(route: Route, now: datetime) -> RowChange:
    row = route.row
    values = settle(
        row,
        OutboxStatus.SENT,
        now,
        attempts=row.attempts + 1,
        channel=route.destination.channel.value,
        channel_attempts=row.channel_attempts + 1,
        sent_at=now,
    )
    return RowChange(values, "sent", {"attempt": row.attempts + 1})


def after_failure(route: Route, error: DeliveryError, now: datetime, policy: Policy, rng: random.Random) -> RowChange:
    """Retry with backoff on this channel, else the next channel, else give up (and alarm)."""
    row, dest = route.row, route.destination
    attempts, tries = row.attempts + 1, row.channel_attempts + (0 if error.rate_limited else 1)
    common = {"attempts": attempts, "last_error": str(error)[:1000], "channel": dest.channel.value}
    note: dict[str, Any] = {"attempt": attempts, "error": str(error)[:500]}
    if error.rate_limited or (not error.permanent and tries < policy.max_attempts and not route.single_channel):
        wait = max(policy.backoff(tries, rng), error.retry_after or 0.0)
        if error.blocked_for is not None:
            wait = max(wait, error.blocked_for.total_seconds())
        retry_at = now + timedelta(seconds=wait)
        values = settle(row, OutboxStatus.PENDING, now, channel_attempts=tries, next_attempt_at=retry_at, **common)
        return RowChange(values, "failed", {**note, "retry_at": retry_at.isoformat()})
    nxt = None if route.single_channel else route.next_destination
    if nxt is not None:
        values = settle(row, OutboxStatus.PENDING, now, next_attempt_at=now, **{**common, "channel": nxt.channel.value})
        values["channel_attempts"] = 0
        return RowChange(values, "failed", {**note, "fallback": nxt.channel.value})
    values = settle(row, OutboxStatus.FAILED, now, channel_attempts=tries, **common)
    return RowChange(values, "failed", {**note, "gave_up": True}, gave_up=not route.single_channel)


def system_alert_row(key: str, text: str, now: datetime, incident_id: int | None) -> dict[str, object]:
    """An outbox row for all duty officers (recipient NULL); fanned out per person on the next pass."""
    return {
        "idempotency_key": f"system:{key}",
        "incident_id": incident_id,
        "kind": "system_alert",
        "urgent": True,
        "recipient": None,
        "channel": None,
        "payload": {"template": "system_alert", "text": f"【系统告警】{text}"},
        "next_attempt_at": now,
        "created_at": now,
    }
