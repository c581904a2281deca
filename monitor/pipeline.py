"""From new items to incidents: classify what the collectors stored, cluster it, grade the spread.

Collection → `classify_pending` (the classifier's worker pool) → `cluster_pending` (new or joined
incidents) → `raise_opinion_levels` (an incident that spreads — reaches central media, more
sources, faster — is regraded up, by the `system` actor, through the engine) → the clock engine,
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
from monitor.domain import DomainError, Incident
from monitor.domain import commands as c
from monitor.engine.commands import SYSTEM_ACTOR, execute
from monitor.engine.runner import EngineServices
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
        """Raise the 舆情 level of incidents that changed this pass (the `after_cluster` hook)."""
        since, self._since = self._since or self.services.clock.now(), None
        return await raise_opinion_levels(self.services, since, self.opinion_config)

    async def run(self) -> Analysis:
        """All three steps, for callers that drive collection themselves (the demo, tests)."""
        classified = await self.classify()
        policy = policy_from_settings(self.settings)
        clustered = await cluster_pending(self.services.db, self.services.clock, policy, limit=100_000)
        regraded = await self.regrade()
        log.info("analysis: %s; %s; regraded %d", classified, clustered, regraded)
        return Analysis(classified, clustered, regraded)


async def raise_opinion_levels(
    services: EngineServices, since: datetime, config: Mapping[str, Any] | None = None
) -> int:
    """Regrade up every open incident changed since `since` whose spread now warrants a higher
    舆情 level. Levels only go up here; lowering is a person's decision. Returns how many rose."""
    now = services.clock.now()
    async with services.db.read() as conn:
        changed = await open_incidents_changed_since(conn, since)
        grades = await incident_opinion_levels(conn, [i.id or 0 for i in changed], now, config)
    raised = 0
    for incident in changed:
        grade = grades.get(incident.id or 0)
        if grade is None or not _higher(grade.level.rank, incident):
            continue
        reason = "传播范围扩大：" + "；".join(grade.why) if grade.why else "传播范围扩大"
        command = c.Regrade(
            incident_id=incident.id or 0, actor=SYSTEM_ACTOR, at=now, reason=reason, opinion_level=grade.level
        )
        try:
            await execute(services, command)
        except DomainError as exc:  # e.g. closed meanwhile: the next pass sees it again if it matters
            log.info("not regrading incident %s: %s", incident.id, exc)
            continue
        raised += 1
    return raised


def _higher(rank: int, incident: Incident) -> bool:
    return incident.opinion_level is None or rank < incident.opinion_level.rank
