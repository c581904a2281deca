"""The engine's I/O: claim due timers, re-plan incidents, write timeline + outbox in ONE transaction.

Flow of one batch (DESIGN.md §3):
1. claim due timers (PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers share the load;
   SQLite: BEGIN IMMEDIATE makes writers take turns);
2. lock the incidents in id order and drop timers whose generation is stale (fencing token:
   a command bumped incidents.generation and scheduled its own wake-up);
3. re-read each timeline, `decide()` (pure), and write obligations (upsert, stable ids),
   timeline events, outbox rows (unique idempotency keys) and the next wake-up — all in the
   same transaction. A crash anywhere rolls everything back; the timer is still due and the
   next attempt decides again from the same state: nothing lost, nothing sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from monitor.clock import Clock, Stopwatch, sleep_or_stop
from monitor.config import Settings
from monitor.domain import ClockType, EventKind, Incident, IncidentEvent, OrgDirectory
from monitor.domain.playbooks import Playbook
from monitor.domain.responsibility import requirement
from monitor.engine.calendar import WorkCalendar
from monitor.engine.plan import Decision, decide
from monitor.engine.plan.facts import levels_of
from monitor.engine.plan.outbox import outbox_rows, step_key
from monitor.policy import PolicyError
from monitor.policy.calendar import load_calendar
from monitor.storage.db import Database
from monitor.storage.repo.engine import (
    Connection,
    add_outbox,
    beat,
    claim_due_timers,
    events_of,
    incidents_with_clock,
    load_snapshots,
    lock_incidents,
    mark_confirmed,
    next_timer_at,
    obligation_ids,
    request_replan,
    save_obligations,
    save_plans,
    save_snapshot,
    schedule_timers,
    unplanned_detected,
)
from monitor.storage.repo.incidents import append_events, set_requires_response

log = logging.getLogger(__name__)


class EngineServices(Protocol):
    """What the engine needs; `monitor.app.Services` provides it."""

    @property
    def db(self) -> Database: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def org(self) -> OrgDirectory: ...
    @property
    def playbook(self) -> Playbook:  # the current playbook: new incidents are confirmed under it
        ...
    @property
    def calendar(self) -> WorkCalendar: ...
    @property
    def settings(self) -> Settings:  # read for the 效果评估 suggestion (subside_percent, subside_window_h)
        ...


@dataclass(frozen=True)
class TickResult:
    timers: int = 0  # due timers claimed
    stale: int = 0  # of which fenced off (older generation)
    incidents: int = 0  # incidents re-planned
    alerts: int = 0  # outbox rows written


class Engine:
    """Applies decisions. Holds only a cache of immutable playbook snapshots."""

    def __init__(
        self,
        services: EngineServices,
        *,
        batch: int = 200,
        first_batch: int | None = None,
        instance: str | None = None,
    ) -> None:
        self.services = services
        self.batch = batch
        self.first_batch = max(1, min(batch, first_batch if first_batch is not None else batch // 4))
        self.instance = instance or f"{socket.gethostname()}:{id(self):x}"
        self._snapshots: dict[str, Playbook] = {}
        self.generations: dict[int, int] = {}  # of the incidents the last replan locked
        self._calendar_stamp: int | None = None

    async def _playbooks(self, conn: Connection, digests: Sequence[str]) -> dict[str, Playbook]:
        missing = [d for d in digests if d not in self._snapshots]
        for digest, body in (await load_snapshots(conn, missing)).items():
            self._snapshots[digest] = Playbook.from_dict(body)
        return {d: self._snapshots[d] for d in digests if d in self._snapshots}

    async def confirm(
        self, conn: Connection, incident: Incident, at: datetime, actor: str, note: str
    ) -> list[IncidentEvent]:
        """Snapshot the current playbook onto the incident and record the confirmation; an incident
        with an owning unit is 交办'd to it at the same time (ASSIGNED event, status 已交办)."""
        playbook, now = self.services.playbook, self.services.clock.now()
        digest = playbook.digest
        await save_snapshot(conn, digest, playbook.jurisdiction, playbook.to_dict(), now)
        self._snapshots[digest] = playbook
        await mark_confirmed(conn, [incident.id or 0], digest, at, now, assigned=incident.owner_unit is not None)
        iid = incident.id or 0
        requires, why = await self._requires_response(conn, incident, now)
        levels = {
            "event_level": incident.event_level and incident.event_level.value,
            "opinion_level": incident.opinion_level and incident.opinion_level.value,
            "requires_response": requires,
            **why,
        }
        events = [
            IncidentEvent(iid, EventKind.CONFIRMED, at, actor, {**levels, "note": note}),
            IncidentEvent(
                iid,
                EventKind.PLAYBOOK_SNAPSHOT,
                at,
                actor,
                {"digest": digest, "jurisdiction": playbook.jurisdiction, "files": [list(f) for f in playbook.files]},
            ),
        ]
        if incident.owner_unit is not None:  # 交办 to the owning unit (without one, duty officers assign it)
            events.append(IncidentEvent(iid, EventKind.ASSIGNED, at, actor, {"unit": incident.owner_unit}))
        await append_events(conn, events, now, return_ids=False)
        return events

    async def _requires_response(
        self, conn: Connection, incident: Incident, now: datetime
    ) -> tuple[bool, dict[str, Any]]:
        """是否需要回应 at confirmation: derived from the category and levels (DOMAIN.md §1.2, §5.2)
        unless a person chose it; the stored row follows, so reports count what the clocks use."""
        iid = incident.id or 0
        timeline = (await events_of(conn, [iid])).get(iid, [])
        levels = (incident.event_type, incident.event_level, incident.opinion_level)
        requires, why = requirement(incident.requires_response, None, timeline, levels)
        if requires != incident.requires_response:
            await set_requires_response(conn, iid, requires, now)
        return requires, why

    async def replan(
        self, conn: Connection, ids: Sequence[int], fenced: Mapping[int, set[int]] | None = None
    ) -> dict[int, Decision]:
        """Decide for these incidents and write the result. `fenced`: only these generations count."""
        now = self.services.clock.now()
        stored_due: dict[int, datetime | None] = {}
        rows = await lock_incidents(conn, ids, stored_due)
        self.generations = {inc.id or 0: inc.generation for inc, _ in rows}
        if fenced is not None:
            rows = [(inc, d) for inc, d in rows if inc.generation in fenced.get(inc.id or 0, set())]
        rows = await self._auto_confirm(conn, rows, now)
        timelines = await events_of(conn, [inc.id or 0 for inc, _ in rows])
        playbooks = await self._playbooks(conn, [d for _, d in rows if d])
        decisions: dict[int, Decision] = {}
        for incident, digest in rows:
            playbook = playbooks.get(digest or "", self.services.playbook)
            decisions[incident.id or 0] = decide(
                incident, timelines.get(incident.id or 0, []), playbook, self.services.calendar, self.services.org, now
            )
        last_seq = {  # the timelines were read under the incidents' locks: number new events after them
            inc.id or 0: max((e.seq or 0 for e in timelines.get(inc.id or 0, [])), default=0) for inc, _ in rows
        }
        await self._write(conn, rows, playbooks, decisions, now, last_seq, stored_due)
        return decisions

    async def _auto_confirm(
        self, conn: Connection, rows: list[tuple[Incident, str | None]], now: datetime
    ) -> list[tuple[Incident, str | None]]:
        """Confirm detected incidents the current playbook grades high enough (original t0 kept)."""
        playbook = self.services.playbook
        out = []
        for incident, digest in rows:
            if (
                digest is None
                and incident.status.value == "detected"
                and playbook.auto_confirm.matches(levels_of(incident))
            ):
                await self.confirm(conn, incident, now, "system", "达到自动确认阈值")
                digest = playbook.digest
            out.append((incident, digest))
        return out

    async def _write(
        self,
        conn: Connection,
        rows: list[tuple[Incident, str | None]],
        playbooks: Mapping[str, Playbook],
        decisions: Mapping[int, Decision],
        now: datetime,
        last_seq: Mapping[int, int],
        stored_due: Mapping[int, datetime | None],
    ) -> None:
        ids = await save_obligations(conn, [ob for d in decisions.values() for ob in d.obligations], now)
        unsaved = {  # alerts of obligations not derived now (a rule that cannot be scheduled): rare
            iid for iid, d in decisions.items() for a in d.alerts if (iid, a.rule_id or "", a.instance) not in ids
        }
        if unsaved:
            ids = {**await obligation_ids(conn, list(unsaved)), **ids}
        events: list[IncidentEvent] = []
        outbox: list[dict[str, object]] = []
        for incident, digest in rows:
            iid, decision = incident.id or 0, decisions[incident.id or 0]
            playbook = playbooks.get(digest or "", self.services.playbook)
            keys: dict[tuple[Any, Any, Any], str] = {}
            for alert in decision.alerts:
                oid = ids.get((iid, alert.rule_id or "", alert.instance))
                keys[(alert.rule_id, alert.instance, alert.step)] = step_key(iid, oid, alert.step, incident.generation)
                outbox.extend(outbox_rows(incident, alert, oid, incident.generation, playbook, self.services.org, now))
            for event in decision.events:
                if event.kind == EventKind.OBLIGATION_UNSCHEDULABLE:  # e.g. a year without calendar data
                    log.error("incident %s, rule %s cannot be scheduled: %s", iid, event.payload.get("rule"),
                              event.payload.get("message"))  # fmt: skip
                key = keys.get((event.payload.get("rule"), event.payload.get("instance", 0), event.payload.get("step")))
                events.append(_with_key(event, key) if key and event.kind == EventKind.ESCALATED else event)
        await append_events(conn, events, now, return_ids=False, last_seq=last_seq)
        await add_outbox(conn, outbox)
        wakeups = [
            (inc.id or 0, inc.generation, decisions[inc.id or 0].next_wake_at, "plan")
            for inc, _ in rows
            if decisions[inc.id or 0].next_wake_at is not None
        ]
        await schedule_timers(conn, wakeups, now)  # type: ignore[arg-type]
        plans = [(inc.id or 0, decisions[inc.id or 0].next_due_at) for inc, _ in rows]
        await save_plans(conn, [(i, due) for i, due in plans if i not in stored_due or stored_due[i] != due], now)

    async def tick(self, on_batch: Callable[[int], None] | None = None) -> TickResult:
        """Plan new incidents, then process every due timer in batches (`on_batch(n)` after each commit).

        The batches of a burst grow from `first_batch` to `batch` (doubling): the earliest due
        wake-ups commit, and their alerts reach the outbox, after a small batch rather than a full
        one; the later, larger batches keep the per-batch overhead of a large burst low.
        """
        db, now = self.services.db, self.services.clock.now()
        total = TickResult()
        async with db.write() as conn:
            fresh = await unplanned_detected(conn, self.batch)
            if fresh:
                decisions = await self.replan(conn, fresh)
                total = _add(total, TickResult(incidents=len(decisions), alerts=_alert_count(decisions)))
        size = self.first_batch
        while True:
            async with db.write() as conn:
                claimed = await claim_due_timers(conn, now, size)
                fenced: dict[int, set[int]] = {}
                for _, iid, generation in claimed:
                    fenced.setdefault(iid, set()).add(generation)
                decisions = await self.replan(conn, list(fenced), fenced) if fenced else {}
            if on_batch is not None:
                on_batch(len(claimed))
            stale = sum(1 for _, iid, gen in claimed if iid not in decisions or gen != self.generations.get(iid))
            total = _add(total, TickResult(len(claimed), stale, len(decisions), _alert_count(decisions)))
            if len(claimed) < size:
                return total
            size = min(self.batch, size * 2)

    async def heartbeat(self, result: TickResult) -> None:
        async with self.services.db.write() as conn:
            info = {"timers": result.timers, "incidents": result.incidents, "alerts": result.alerts}
            await beat(conn, "engine", self.instance, self.services.clock.now(), info)

    async def refresh_calendar(self) -> bool:
        """Reload the working-day override file when it changed; re-plan working-day obligations."""
        path = Path(self.services.calendar.override_file)
        try:
            stamp = (await asyncio.to_thread(os.stat, path)).st_mtime_ns
        except OSError:
            return False
        if self._calendar_stamp is None or stamp == self._calendar_stamp:
            self._calendar_stamp = stamp
            return False
        self._calendar_stamp = stamp
        try:
            fresh = await asyncio.to_thread(load_calendar, path)
        except PolicyError as exc:
            log.error("calendar override file has an error; keeping the previous calendar: %s", exc)
            return False
        self.services.calendar.adopt(fresh)
        async with self.services.db.write() as conn:
            await request_replan(
                conn, await incidents_with_clock(conn, ClockType.WORKING_DAYS), self.services.clock.now(), "calendar"
            )
        log.info("working-day calendar reloaded from %s; covered until %s", path, fresh.covered_until())
        return True

    async def run(
        self, stop: asyncio.Event, *, poll_s: float = 5.0, on_tick: Callable[[TickResult, float], None] | None = None
    ) -> None:
        """Tick until `stop` is set. Errors are logged and retried; they never end the loop.

        `on_tick(result, seconds)` is called after each tick that committed (logs, readiness).
        """
        clock = self.services.clock
        while not stop.is_set():
            wait = poll_s
            try:
                await self.refresh_calendar()
                watch = Stopwatch()
                result = await self.tick()
                await self.heartbeat(result)
                if on_tick is not None:
                    on_tick(result, watch.elapsed())
                async with self.services.db.read() as conn:
                    nxt = await next_timer_at(conn)
                if nxt is not None:
                    wait = min(poll_s, max(0.0, (nxt - clock.now()).total_seconds()))
            except Exception:
                log.exception("engine tick failed; retrying in %.0f s", poll_s)
            await sleep_or_stop(clock, wait, stop)


def _with_key(event: IncidentEvent, key: str) -> IncidentEvent:
    return IncidentEvent(event.incident_id, event.kind, event.at, event.actor, {**event.payload, "key": key})


def _alert_count(decisions: Mapping[int, Decision]) -> int:
    return sum(len(d.alerts) for d in decisions.values())


def _add(a: TickResult, b: TickResult) -> TickResult:
    return TickResult(a.timers + b.timers, a.stale + b.stale, a.incidents + b.incidents, a.alerts + b.alerts)
