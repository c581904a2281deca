"""From new items to incidents: classify what the collectors stored, cluster it, grade the spread.

Collection → `classify_pending` (the classifier's worker pool) → `cluster_pending` (new or joined
incidents) → `raise_event_levels` (a later report whose facts make the event graver — more
casualties — regrades its incident up) → `raise_opinion_levels` (an incident that spreads —
reaches central media, more sources, faster — is regraded up), both by the `system` actor,
through the engine → the clock engine,
which plans every new `detected` incident by itself. The composition root plugs these steps
into the collector's hooks so they run after every pass.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.classify import ItemClassifier, PendingResult, classify_pending, incident_opinion_levels
from monitor.classify.service import load_opinion_config
from monitor.collectors.cluster import ClusterResult, cluster_pending, policy_from_settings
from monitor.config import Settings
from monitor.domain import DomainError, EventKind, EventLevel, Incident, OpinionLevel
from monitor.domain import commands as c
from monitor.engine.commands import SYSTEM_ACTOR, execute
from monitor.engine.runner import EngineServices
from monitor.storage.repo.clusters import item_event_levels
from monitor.storage.repo.engine import events_of
from monitor.storage.repo.incidents import open_incidents_changed_since

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analysis:
    classified: PendingResult
    clustered: ClusterResult
    regraded: int


class Pipeline:
    """The steps after each collection pass, for one process (holds the classifier)."""

    def __init__(self, services: EngineServices, settings: Settings, classifier: ItemClassifier) -> None:
        self.services, self.settings, self.classifier = services, settings, classifier
        self.opinion_config: Mapping[str, Any] | None = load_opinion_config(settings)
        self._since: datetime | None = None

    async def classify(self) -> PendingResult:
        """Classify every waiting item (the collector's `before_cluster` hook)."""
        self._since = self.services.clock.now()
        return await classify_pending(
            self.services.db, self.services.clock, self.classifier, limit=100_000, batch=self.settings.classify_batch
        )

    async def regrade(self) -> int:
        """Raise the 突发事件 and 舆情 levels of incidents that changed this pass (the `after_cluster` hook)."""
        since, self._since = self._since or self.services.clock.now(), None
        raised = await raise_event_levels(self.services, since)
        return raised + await raise_opinion_levels(self.services, since, self.opinion_config)

    async def run(self) -> Analysis:
        """All three steps, for callers that drive collection themselves (the demo, tests)."""
        classified = await self.classify()
        policy = policy_from_settings(self.settings)
        clustered = await cluster_pending(self.services.db, self.services.clock, policy, limit=100_000)
        regraded = await self.regrade()
        log.info("analysis: %s; %s; regraded %d", classified, clustered, regraded)
        return Analysis(classified, clustered, regraded)


async def raise_event_levels(services: EngineServices, since: datetime) -> int:
    """Regrade up every open incident changed since `since` whose items state a graver 突发事件
    level than the incident has (a later report: 死亡人数升至12人 → II). Levels only go up here.
    A person's regrade of the event level stands against the reports attached before it: only a
    later report stating a still graver level raises it again. Returns how many rose."""
    now = services.clock.now()
    async with services.db.read() as conn:
        changed = await open_incidents_changed_since(conn, since)
        ids = [i.id or 0 for i in changed]
        rows, timelines = await item_event_levels(conn, ids), await events_of(conn, ids)
    raised = 0
    for incident in changed:
        graver = _gravest_report(incident, rows, _person_graded_at(timelines.get(incident.id or 0, [])))
        if graver is None:
            continue
        level, reason = graver
        command = c.Regrade(incident_id=incident.id or 0, actor=SYSTEM_ACTOR, at=now, reason=reason, event_level=level)
        raised += await _system_regrade(services, command)
    return raised


async def _system_regrade(services: EngineServices, command: c.Regrade) -> int:
    """Run the system's regrade; 1 when it went through, 0 when the engine refused it."""
    try:
        await execute(services, command)
    except DomainError as exc:  # e.g. closed meanwhile: the next pass sees it again if it matters
        log.info("not regrading incident %s: %s", command.incident_id, exc)
        return 0
    return 1


def _person_graded_at(timeline: list[Any]) -> datetime | None:
    """When a person last set the event level (a regrade that names it), if ever."""
    graded = [
        e.at
        for e in timeline
        if e.kind == EventKind.REGRADED
        and e.actor != SYSTEM_ACTOR
        and "event_level" in (e.payload or {})
        and (e.payload.get("from") or {}).get("event_level") != e.payload.get("event_level")
    ]
    return max(graded) if graded else None


def _gravest_report(incident: Incident, rows: list[Any], after: datetime | None) -> tuple[EventLevel, str] | None:
    """The gravest level the incident's items state beyond its own, and why (zh-CN), or None.

    Items attached before a person's regrade (`after`) do not count, nor do later ones that only
    repeat a level those items stated: the person has judged that claim already."""
    mine = [r for r in rows if r.incident_id == incident.id]
    bar = incident.event_level.rank if incident.event_level is not None else len(EventLevel) + 1
    for row in mine:
        if after is not None and row.attached_at <= after:
            bar = min(bar, EventLevel(row.event_level).rank)
    fresh = [r for r in mine if after is None or r.attached_at > after]
    graver = [r for r in fresh if EventLevel(r.event_level).rank < bar]
    if not graver:
        return None
    row = min(graver, key=lambda r: EventLevel(r.event_level).rank)
    level = EventLevel(row.event_level)
    why = ((row.classification or {}).get("why") or {}).get("event_level") or []
    detail = "；".join(str(w) for w in why) if why else f"{level.value}级"
    return level, f"后续报道《{row.title}》：{detail}"


async def raise_opinion_levels(
    services: EngineServices, since: datetime, config: Mapping[str, Any] | None = None
) -> int:
    """Regrade up every open incident changed since `since` whose spread now warrants a higher
    舆情 level. Levels only go up here; lowering is a person's decision, and it stands: after a
    person changed the level, only a grade graver than both their level and the one they changed
    it from raises it again. Returns how many rose."""
    now = services.clock.now()
    async with services.db.read() as conn:
        changed = await open_incidents_changed_since(conn, since)
        ids = [i.id or 0 for i in changed]
        grades = await incident_opinion_levels(conn, ids, now, config)
        timelines = await events_of(conn, ids)
    raised = 0
    for incident in changed:
        grade = grades.get(incident.id or 0)
        bar = _person_opinion_bar(timelines.get(incident.id or 0, []))
        if grade is None or not _higher(grade.level.rank, incident) or grade.level.rank >= bar:
            continue
        reason = "传播范围扩大：" + "；".join(grade.why) if grade.why else "传播范围扩大"
        command = c.Regrade(
            incident_id=incident.id or 0, actor=SYSTEM_ACTOR, at=now, reason=reason, opinion_level=grade.level
        )
        raised += await _system_regrade(services, command)
    return raised


def _person_opinion_bar(timeline: list[Any]) -> int:
    """The rank a system grade must beat after a person's last change of the 舆情 level: the graver
    of the level they set and the one they changed it from (no person's change: no bar)."""
    for e in reversed(timeline):
        before = (e.payload.get("from") or {}).get("opinion_level")
        if e.kind == EventKind.REGRADED and e.actor != SYSTEM_ACTOR and before != e.payload.get("opinion_level"):
            levels = [OpinionLevel(v) for v in (before, e.payload.get("opinion_level")) if v]
            return min((lv.rank for lv in levels), default=len(OpinionLevel) + 1)
    return len(OpinionLevel) + 1


def _higher(rank: int, incident: Incident) -> bool:
    return incident.opinion_level is None or rank < incident.opinion_level.rank
