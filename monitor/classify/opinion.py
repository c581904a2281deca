"""舆情 level of an incident (DOMAIN.md §4.3): the classifier's rule applied to what the incident
reached — its event grade, the media tiers that carried it, how many sources, how fast it is
spreading and the sensitivity flags of its items. Thresholds are configuration
(``opinion_levels_file``, default ``classifiers/opinion_levels.yaml``).

Clustering or the engine call :func:`incident_opinion_levels` after attaching items (it reads the
figures in two queries) or :func:`incident_opinion_level` when they already have them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from classifiers import opinion_level
from monitor.domain import EventLevel, MediaTier, OpinionLevel
from monitor.storage.repo.classify import incident_spread

VELOCITY_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class OpinionGrade:
    """The level and one zh-CN reason per input that raised it."""

    level: OpinionLevel
    why: tuple[str, ...]


def incident_opinion_level(
    event_level: EventLevel | str | None,
    media_tiers: Iterable[MediaTier | str],
    source_count: int,
    items_per_hour: float,
    flags: Iterable[str] = (),
    config: Mapping[str, Any] | None = None,
) -> OpinionGrade:
    """Pure: the most severe level any input reaches (never below the event grade's floor)."""
    level, why = opinion_level(
        None if event_level is None else str(event_level),
        [str(t) for t in media_tiers],
        source_count,
        items_per_hour,
        sorted(flags),
        config,
    )
    return OpinionGrade(OpinionLevel(level.value), tuple(why))


async def incident_opinion_levels(
    conn: Any, incident_ids: Sequence[int], now: datetime, config: Mapping[str, Any] | None = None
) -> dict[int, OpinionGrade]:
    """The level of each incident from its stored figures; velocity = items published within the
    last hour before ``now``. ``conn`` is an open connection (read or write transaction)."""
    spread = await incident_spread(conn, incident_ids, now - VELOCITY_WINDOW)
    per_hour = VELOCITY_WINDOW / timedelta(hours=1)
    return {
        incident_id: incident_opinion_level(
            s["event_level"],
            s["media_tiers"] or (),
            s["source_count"],
            s["recent_items"] / per_hour,
            s["flags"],
            config,
        )
        for incident_id, s in spread.items()
    }
