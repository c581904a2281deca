"""The outbox delivery loop: claim due rows, send, record — with retries, fallbacks and alarms.

One pass (`run_once`) has four phases, public so that tests can stop between them as a crash would:

1. `claim`   — lease due rows (status 'sending', claimed_by/claimed_until), urgent first;
2. `prepare` — route each row (person → channel), hold non-urgent rows in quiet hours, merge rows into
   messages (one per alert per group robot, digests when a robot's budget is short), and record an
   attempt per row BEFORE sending, all in one transaction;
3. `send`    — talk to the channels (no transaction open); rows in doubt after a crash are first
   looked up where the channel allows it;
4. `record`  — complete the attempts, move rows to sent / retry later / next channel / failed,
   append NOTIFICATION_SENT / NOTIFICATION_FAILED timeline events, raise system alerts.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.clock import Clock, Stopwatch, sleep_or_stop
from monitor.domain import ChannelKind, EventKind, IncidentEvent, ObligationStatus, OutboxStatus
from monitor.domain import IncidentStatus as S
from monitor.notifications import render
from monitor.notifications.model import DEADLINE_KINDS, Alert, Channel, DeliveryError, Message, Sent
from monitor.notifications.planning import (
    Policy,
    Route,
    RowChange,
    after_failure,
    after_success,
    build_messages,
    settle,
    system_alert_row,
)
from monitor.notifications.routing import Router
from monitor.notifications.triage import Triage, moot_reminders, triage
from monitor.storage.db import Database
from monitor.storage.repo import outbox as repo
from monitor.storage.repo.engine import Connection, list_obligations
from monitor.storage.repo.incidents import append_events, get_incident
from monitor.storage.repo.outbox import OutboxRow

log = logging.getLogger(__name__)
ROBOT_LOOKBACK = timedelta(minutes=15)  # longer than any robot block


@dataclass
class Batch:
    messages: list[Message]
    routes: dict[int, Route]
    doubt_since: dict[str, datetime] = field(default_factory=dict)
    report: PassReport = field(default_factory=lambda: PassReport())


@dataclass
class Result:
    message: Message
    sent: Sent | None = None
    error: DeliveryError | None = None
    recovered: bool = False  # found already delivered (crash between send and record)


@dataclass
class PassReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    recovered: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)  # outbox id -> "sent via slack" / error text


class Notifier:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        router: Router,
        channels: Mapping[ChannelKind, Channel],
        *,
        policy: Policy,
        rng: random.Random,
        worker: str,
        base_url: str,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.db, self.clock, self.router, self.channels = db, clock, router, channels
        self.policy, self.rng, self.worker, self.base_url, self.redact = policy, rng, worker, base_url, redact

    def new_id(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    async def run(self, stop: asyncio.Event, on_pass: Callable[[PassReport, float], None] | None = None) -> None:
        """Deliver until `stop` is set; a failing pass is logged and retried after the poll interval.

        `on_pass(report, seconds)` is called after each pass that completed (logs, readiness).
        """
        while not stop.is_set():
            try:
                watch = Stopwatch()
                report = await self.run_once()
                if on_pass is not None:
                    on_pass(report, watch.elapsed())
            except Exception as exc:  # the loop must outlive a database hiccup
                log.error("notifier pass failed: %s", self.redact(f"{type(exc).__name__}: {exc}"))
                report = PassReport()
            if report.claimed < self.policy.batch:
                await sleep_or_stop(self.clock, self.policy.poll_s, stop)

    async def run_once(self, only_ids: Sequence[int] | None = None) -> PassReport:
        rows = await self.claim(only_ids)
        if not rows:
            await self._heartbeat(PassReport())
            return PassReport()
        batch = await self.prepare(rows)
        results = await self.send(batch)
        return await self.record(batch, results)

    async def claim(self, only_ids: Sequence[int] | None = None) -> list[OutboxRow]:
        now = self.clock.now()
        async with self.db.write() as conn:
            return await repo.claim_due(conn, self.worker, now, self.policy.lease, self.policy.batch, only_ids)

    async def prepare(self, rows: Sequence[OutboxRow]) -> Batch:
        now = self.clock.now()
        ctx = render.Context(now, self.base_url)
        async with self.db.write() as conn:
            last = await repo.last_attempts(conn, [r.id for r in rows if r.claimed_until is not None])
            settled = await _settled_obligations(conn, rows)
            moot = moot_reminders(rows, await _waiting_for_acceptance(conn, rows))
            sorted_out = triage(rows, last, self.router, now, self.policy.max_attempts, settled, moot)
            await repo.lock_incidents(conn, [e.incident_id for e in sorted_out.events])  # before any write
            robots = [r.destination.target for r in sorted_out.all_routes if self._limited(r)]
            await repo.lock_targets(conn, robots)
            windows = await repo.target_windows(conn, robots, now, timedelta(minutes=1), ROBOT_LOOKBACK)
            plan = build_messages(sorted_out.ready, self.channels, windows, ctx, self.new_id)
            doubt = self._doubt_messages(sorted_out)
            messages = doubt + plan.messages
            in_doubt = sorted({*sorted_out.doubt, *sorted_out.abandoned})
            await repo.finish_attempts(conn, [_in_doubt(mid, now) for mid in in_doubt])
            await repo.start_attempts(conn, self._attempt_rows(messages, now))
            changes = sorted_out.changes + [
                _defer(route.row, until) for route, until in [*sorted_out.deferred, *plan.deferred]
            ]
            await repo.update_rows(conn, changes)
            await repo.insert_rows(conn, sorted_out.new_rows)
            await append_events(conn, sorted_out.events, now)
        routes = {r.row.id: r for r in sorted_out.all_routes}
        report = PassReport(claimed=len(rows), deferred=len(sorted_out.deferred) + len(plan.deferred))
        report.failed += sum(1 for c in sorted_out.changes if c["status"] == OutboxStatus.FAILED.value)
        since = {mid: min(a.started_at for a in last.values() if a.message_id == mid) for mid in sorted_out.doubt}
        return Batch(messages, routes, since, report)

    def _limited(self, route: Route) -> bool:
        channel = self.channels.get(route.destination.channel)
        return channel is not None and channel.rate_limit is not None

    def _doubt_messages(self, sorted_out: Triage) -> list[Message]:
        messages = []
        for message_id, routes in sorted_out.doubt.items():
            alerts = list({r.alert.alert_key: r.alert for r in routes}.values())
            people = list({r.person.id: r.person for r in routes}.values())
            rows = [r.row for r in routes]
            message = Message(message_id, routes[0].destination, alerts, rows, people, len(alerts) > 1, resend=True)
            messages.append(message)
        return messages

    def _attempt_rows(self, messages: Sequence[Message], now: datetime) -> list[dict[str, object]]:
        rows = []
        for m in messages:
            cost = self.channels[m.destination.channel].cost(m)
            for i, row in enumerate(m.rows):
                rows.append(
                    {
                        "outbox_id": row.id,
                        "message_id": m.message_id,
                        "channel": m.destination.channel.value,
                        "target": m.destination.target,
                        "worker": self.worker,
                        "started_at": now,
                        "cost": cost if i == 0 else 0,
                        "detail": {"digest": m.digest, "resend": m.resend, "size": len(m.rows)},
                    }
                )
        return rows

    async def send(self, batch: Batch) -> list[Result]:
        gate = asyncio.Semaphore(8)

        async def one(message: Message) -> Result:
            channel = self.channels[message.destination.channel]
            async with gate:
                try:
                    if message.resend:
                        found = await channel.find_sent(message, batch.doubt_since[message.message_id])
                        if found is not None:
                            return Result(message, found, recovered=True)
                    return Result(message, await channel.send(message, self.clock.now()))
                except DeliveryError as exc:
                    return Result(message, error=exc)
                except Exception as exc:  # a bug in a channel must not lose the row: record it as a failure
                    text = self.redact(f"内部错误 {type(exc).__name__}: {exc}")
                    log.error("channel %s crashed: %s", channel.kind, text)
                    return Result(message, error=DeliveryError(text))

        return list(await asyncio.gather(*(one(m) for m in batch.messages)))

    async def record(self, batch: Batch, results: Sequence[Result]) -> PassReport:
        now = self.clock.now()
        report = batch.report
        finishes, changes, events, alarms = [], [], [], []
        for res in results:
            finishes.append(self._finish(res, now))
            for row in res.message.rows:
                route = batch.routes[row.id]
                change = (
                    after_success(route, now)
                    if res.error is None
                    else after_failure(route, res.error, now, self.policy, self.rng)
                )
                changes.append(change.values)
                self._count(report, row.id, res, change)
                if row.incident_id:
                    events.append(self._event(route, res, change, now))
                if change.gave_up:
                    alarms += self._undeliverable(route, res, now)
            if res.error is not None and res.error.channel_wide:
                alarms.append(self._broken_channel(res, now))
        async with self.db.write() as conn:
            await repo.lock_incidents(conn, [e.incident_id for e in events])
            await repo.finish_attempts(conn, finishes)
            await repo.update_rows(conn, changes)
            await repo.insert_rows(conn, alarms)
            await append_events(conn, events, now)
        await self._heartbeat(report)
        return report

    def _finish(self, res: Result, now: datetime) -> dict[str, object]:
        err = res.error
        return {
            "id": res.message.message_id,
            "outcome": _outcome(res),
            "error": str(err)[:1000] if err else None,
            "detail": dict(res.sent.detail) if res.sent else {"permanent": err.permanent} if err else {},
            "finished_at": now,
            "blocked_until": now + err.blocked_for if err and err.blocked_for else None,
        }

    def _count(self, report: PassReport, row_id: int, res: Result, change: RowChange) -> None:
        channel = res.message.destination.channel.value
        if res.error is None:
            report.sent += 1
            report.recovered += int(res.recovered)
            report.outcomes[row_id] = f"sent via {channel}"
        else:
            report.failed += int(change.values["status"] == OutboxStatus.FAILED.value)
            report.outcomes[row_id] = f"{channel}: {res.error}"

    def _event(self, route: Route, res: Result, change: RowChange, now: datetime) -> IncidentEvent:
        message = res.message
        payload = {
            "outbox_id": route.row.id,
            "kind": route.row.kind,
            "person_id": route.person.id,
            "person": route.person.name,
            "channel": message.destination.channel.value,
            "to": route.destination.label,  # this row's person: one console message may carry several
            "message_id": message.message_id,
            "digest": message.digest,
            **({"recovered": True} if res.recovered else {}),
            **change.note,
        }
        kind = EventKind.NOTIFICATION_SENT if res.error is None else EventKind.NOTIFICATION_FAILED
        assert route.row.incident_id is not None
        return IncidentEvent(route.row.incident_id, kind, now, "notifier", payload)

    def _undeliverable(self, route: Route, res: Result, now: datetime) -> list[dict[str, object]]:
        tried = "、".join(d.channel.value for d in route.destinations)
        if route.row.kind == "system_alert":
            log.critical(
                "system alert %s could not reach %s on any channel (%s): %s",
                route.row.id,
                route.person.id,
                tried,
                res.error,
            )
            return []
        person = route.person
        who = person.title or person.id
        who += f"，手机 {person.mobile}" if person.mobile else ""
        text = (
            f"提醒未能送达 {person.name}（{who}）："
            f"{render.headline(route.alert)}。已尝试渠道：{tried}；最后错误：{res.error}。请电话通知本人并检查渠道配置。"
        )
        return [system_alert_row(f"undeliverable:{route.row.id}", text, now, route.row.incident_id)]

    def _broken_channel(self, res: Result, now: datetime) -> dict[str, object]:
        dest = res.message.destination
        text = (
            f"通知渠道故障：{dest.channel.value}（{dest.label or dest.target}）。{res.error} 期间提醒将改走备用渠道。"
        )
        hour = now.strftime("%Y%m%d%H")
        return system_alert_row(f"channel:{dest.target}:{hour}", text, now, None)

    async def _heartbeat(self, report: PassReport) -> None:
        info = {"claimed": report.claimed, "sent": report.sent, "failed": report.failed, "deferred": report.deferred}
        async with self.db.write() as conn:
            await repo.record_heartbeat(conn, "notifier", self.worker, self.clock.now(), info)

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()


async def _settled_obligations(conn: Connection, rows: Sequence[OutboxRow]) -> dict[int, ObligationStatus]:
    """Obligations of these deadline alerts that are met or cancelled by now (re-checked at send time)."""
    wanted = {r.obligation_id for r in rows if r.obligation_id is not None and r.kind in DEADLINE_KINDS}
    incidents = sorted({r.incident_id for r in rows if r.obligation_id in wanted and r.incident_id is not None})
    if not wanted:
        return {}
    done = (ObligationStatus.MET, ObligationStatus.LATE, ObligationStatus.CANCELLED)
    obligations = await list_obligations(conn, incidents)
    return {ob.id: ob.status for ob in obligations if ob.id in wanted and ob.status in done}


async def _waiting_for_acceptance(conn: Connection, rows: Sequence[OutboxRow]) -> dict[int, bool]:
    """For the incidents of 待认领 reminders: does the current 交办 still wait for the unit's 认领?"""
    ids = sorted({r.incident_id for r in rows if r.payload.get("reminder") and r.incident_id is not None})
    waiting: dict[int, bool] = {}
    for iid in ids:
        inc = await get_incident(conn, iid)
        waiting[iid] = inc is not None and inc.is_open and inc.accepted_at is None and inc.status != S.REASSIGNED
    return waiting


def _outcome(res: Result) -> str:
    if res.recovered:
        return "recovered"
    if res.error is None:
        return "sent"
    return "rate_limited" if res.error.rate_limited else "failed"


def _in_doubt(message_id: str, now: datetime) -> dict[str, object]:
    return {
        "id": message_id,
        "outcome": "in_doubt",
        "error": "worker stopped between send and record; result unknown",
        "detail": {},
        "finished_at": now,
        "blocked_until": None,
    }


def _defer(row: OutboxRow, until: datetime) -> dict[str, object]:
    return settle(row, OutboxStatus.PENDING, until, next_attempt_at=until)


__all__ = ["Alert", "Batch", "Notifier", "PassReport", "Result"]
