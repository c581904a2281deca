"""From new items to incidents: classify what the collectors stored, then cluster it.

Collection → `classify_pending` (the classifier's worker pool) → `cluster_pending` (new or joined
incidents) → the clock engine, which plans every new `detected` incident by itself. The
composition root plugs `analysis_hook()` into the collector so this runs after every pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from monitor.classify import ItemClassifier, PendingResult, classify_pending
from monitor.clock import Clock
from monitor.collectors.cluster import ClusterResult, cluster_pending, policy_from_settings
from monitor.config import Settings
from monitor.storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analysis:
    classified: PendingResult
    clustered: ClusterResult


async def analyse_new_items(db: Database, clock: Clock, settings: Settings, classifier: ItemClassifier) -> Analysis:
    """Classify every waiting item, then attach the relevant ones to incidents."""
    classified = await classify_pending(db, clock, classifier, limit=100_000, batch=settings.classify_batch)
    clustered = await cluster_pending(db, clock, policy_from_settings(settings), limit=100_000)
    log.info("analysis: %s; %s", classified, clustered)
    return Analysis(classified, clustered)


def classification_hook(
    db: Database, clock: Clock, settings: Settings, classifier: ItemClassifier
) -> Callable[[], Awaitable[object]]:
    """The collector's `before_cluster` hook: classify what the pass stored (clustering follows)."""

    async def hook() -> PendingResult:
        return await classify_pending(db, clock, classifier, limit=100_000, batch=settings.classify_batch)

    return hook
