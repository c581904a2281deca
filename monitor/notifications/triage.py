"""First look at claimed rows: fan out alerts for all duty officers, route the rest, hold quiet ones.

Pure: returns what to send and which row changes, new rows and timeline events to write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.domain import ChannelKind, EventKind, IncidentEvent, ObligationStatus, OutboxStatus, Role
from monitor.notifications.model import DEADLINE_KINDS, Alert
from monitor.notifications.planning import Route, settle, start_index, system_alert_row
from monitor.notifications.routing import Router, RoutingError
from monitor.storage.repo.outbox import LastAttempt, OutboxRow


@dataclass
class Triage:
    ready: list[Route] = field(default_factory=list)
    doubt: dict[str, list[Route]] = field(default_factory=dict)  # previous message id -> its rows
    deferred: list[tuple[Route, datetime]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # rows settled here (fanned out, failed)
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[IncidentEvent] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)  # message ids in doubt that are not sent again

    @property
    def all_routes(self) -> list[Route]:
        return [*self.ready, *(r for routes in self.doubt.values() for r in routes)]


def triage(
    rows: Sequence[OutboxRow],
    last: Mapping[int, LastAttempt],
    router: Router,
    now: datetime,
    max_in_doubt: int = 4,
    settled: Mapping[int, ObligationStatus] | None = None,
    moot: Mapping[int, str] | None = None,
) -> Triage:
    """`max_in_doubt`: after this many sends whose worker stopped before recording the result (a
    message that crashes the worker every time), the row is not sent again: it fails and the duty
    officers are told, instead of the message going out at every lease expiry for ever.

    `settled`: obligations (by id) met or cancelled since their alerts were written. A deadline
    alert still waiting (quiet hours, retries) for one of them is cancelled, not sent: nobody is
    told a deadline is pending or overdue after it was met.

    `moot`: rows (by id) not to send, with the reason: 待认领 reminders of a unit that has 认领'd
    since (see `moot_reminders`)."""
    out = Triage()
    for row in rows:
        if _no_longer_needed(out, row, last.get(row.id), settled or {}, now, moot or {}):
            continue
        if row.recipient is None:
            _fan_out(out, row, router, now)
            continue
        alert = Alert.from_row(row)
        try:
            route = _route(row, alert, router)
        except RoutingError as exc:
            _unroutable(out, row, str(exc), now)
            continue
        previous = last.get(row.id)
        if previous is not None and previous.outcome == "sending" and previous.in_doubt + 1 >= max_in_doubt:
            out.abandoned.append(previous.message_id)
            reason = (
                f"发送过程中工作进程已连续 {previous.in_doubt + 1} 次中断，无法确认是否送达，不再自动重发"
                f"（渠道 {previous.channel}）"
            )
            _unroutable(out, row, reason, now, advice="请人工通知相关人员，并查看通知进程（notifier）的日志。")
            continue
        if previous is not None and previous.outcome == "sending":
            route.index = next(
                (i for i, d in enumerate(route.destinations) if d.target == previous.target), route.index
            )
            out.doubt.setdefault(previous.message_id, []).append(route)
            continue
        role = row.payload.get("role")
        quiet_until = None if alert.urgent or row.kind == "test" else router.quiet_until(route.person, now, role)
        if quiet_until is not None:
            out.deferred.append((route, quiet_until))
        else:
            out.ready.append(route)
    return out


_SETTLED_TEXT = {
    ObligationStatus.MET: "已履行",
    ObligationStatus.LATE: "已履行（逾期）",
    ObligationStatus.CANCELLED: "已取消",
}


def _no_longer_needed(
    out: Triage,
    row: OutboxRow,
    previous: LastAttempt | None,
    settled: Mapping[int, ObligationStatus],
    now: datetime,
    moot: Mapping[int, str],
) -> bool:
    status = settled.get(row.obligation_id) if row.obligation_id is not None else None
    state = _SETTLED_TEXT.get(status) if status is not None else None
    reason = f"未发送：该时限{state}，提醒已无必要" if state is not None and row.kind in DEADLINE_KINDS else None
    reason = reason or moot.get(row.id)
    if reason is None:
        return False
    if previous is not None and previous.outcome == "sending":
        return False  # may have gone out already: resolved as in doubt, like any other row
    out.changes.append(settle(row, OutboxStatus.CANCELLED, now, last_error=reason))
    return True


def moot_reminders(rows: Sequence[OutboxRow], waiting: Mapping[int, bool]) -> dict[int, str]:
    """待认领 reminders (payload `reminder`) not to send, with why: their incident's unit has 认领'd
    (or 退回'd) it since — `waiting[incident_id]` is False — or a newer reminder of the same incident
    for the same person is in this batch (held overnight, they would pile up in the morning)."""
    reminders = [r for r in rows if r.payload.get("reminder") and r.incident_id is not None]
    moot: dict[int, str] = {}
    newest: dict[tuple[int | None, str | None], OutboxRow] = {}
    for row in sorted(reminders, key=lambda r: r.id):
        if not waiting.get(row.incident_id or 0, True):
            moot[row.id] = "未发送：责任单位已认领（或已退回、已办结），待认领提醒已无必要"
            continue
        older = newest.get((row.incident_id, row.recipient))
        if older is not None:
            moot[older.id] = "未发送：已有更新的待认领提醒，只发送最新一条"
        newest[(row.incident_id, row.recipient)] = row
    return moot


def _route(row: OutboxRow, alert: Alert, router: Router) -> Route:
    person = router.person(row.recipient)
    incident = row.payload.get("incident") or {}
    destinations = router.destinations(person, incident.get("owner_unit"), row.payload.get("role"))
    asked = _asked_channel(row)
    if asked is not None and all(d.channel != asked for d in destinations):
        extra = router.destination(person, asked, incident.get("owner_unit"))
        destinations = [extra, *destinations] if extra else destinations
    if row.kind == "test" and row.channel:
        destinations = [d for d in destinations if d.channel.value == row.channel]
    if not destinations:
        wanted = row.channel if row.kind == "test" and row.channel else "、".join(c.value for c in person.channels)
        raise RoutingError(f"{person.name} 没有可用的通知渠道（{wanted} 均未配置或缺少地址）")
    return Route(row, alert, person, destinations, start_index(row, destinations))


def _asked_channel(row: OutboxRow) -> ChannelKind | None:
    """The channel the engine asked for (a fallback sets it to one of the person's own)."""
    try:
        return ChannelKind(row.channel) if row.channel else None
    except ValueError:
        return None


def _fan_out(out: Triage, row: OutboxRow, router: Router, now: datetime) -> None:
    officers = router.duty_officers()
    if not officers:
        _unroutable(out, row, "通讯录中没有值班员（duty_officer），系统告警无人可送", now)
        return
    for person in officers:
        out.new_rows.append(
            {
                "idempotency_key": f"{row.idempotency_key}:{person.id}",
                "incident_id": row.incident_id,
                "obligation_id": row.obligation_id,
                "kind": row.kind,
                "urgent": row.urgent,
                "recipient": person.id,
                "channel": row.channel,
                "payload": {
                    **row.payload,
                    "person": {"id": person.id, "name": person.name},
                    "role": Role.DUTY_OFFICER.value,
                },
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    out.changes.append(settle(row, OutboxStatus.FANNED_OUT, now, sent_at=now))


def _unroutable(
    out: Triage, row: OutboxRow, reason: str, now: datetime, advice: str = "请人工通知相关人员并修正通讯录。"
) -> None:
    out.changes.append(settle(row, OutboxStatus.FAILED, now, attempts=row.attempts, last_error=reason))
    if row.incident_id:
        payload = {"outbox_id": row.id, "kind": row.kind, "person_id": row.recipient, "error": reason, "gave_up": True}
        out.events.append(IncidentEvent(row.incident_id, EventKind.NOTIFICATION_FAILED, now, "notifier", payload))
    if row.kind not in ("system_alert", "test"):
        headline = Alert.from_row(row)
        subject = headline.incident_title or headline.text[:60]
        text = f"提醒无法投递（{reason}）：{subject}。{advice}"
        out.new_rows.append(system_alert_row(f"undeliverable:{row.id}", text, now, row.incident_id))
