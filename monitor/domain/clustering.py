"""Incident clustering, merge and split: pure decisions (stdlib only, no I/O, time as an argument).

An item the classifier marks relevant joins an open incident about the same event, else opens a
new one (status DETECTED). "The same event" is decided in this order, and the reason is recorded:

1. repost   — the item is a repost of an item already in an incident (items.duplicate_of) that is
              open, or dismissed or closed by a person (the repost adds spread, not a new event);
2. similar  — an open incident whose items lie within the window of the item (on either side:
              a report from long before the incident's first item is about another event), whose
              region and event type do not contradict the item's (unknown on either side never
              contradicts), and whose title/lead profile (character bigrams, cosine) is similar enough;
3. follow_up — an open incident (still being handled) whose last item is beyond the window but
              within the follow-up horizon (an investigation result, compensation, rectification
              days later), with no contradiction and a clearly similar profile (a stricter bar);
              a report that says the event happened again (再次发生 …) is a new event, not a follow-up;
4. new      — otherwise; but an item published long before it was fetched (old news: a newly added
              source, a feed still carrying last month's articles) opens no incident: it is held
              (rule "stale") and stays on the items list, since an incident opened from it would
              be overdue from the start (its deadlines run from that publication).

Merge and split are the duty officer's corrections (domain commands `Merge` / `Split`); the
functions here validate them and say what changes; the engine persists that in one transaction.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.domain.enums import EventLevel, EventType, MediaTier, OpinionLevel
from monitor.domain.errors import DomainError
from monitor.domain.events import EventKind, IncidentEvent
from monitor.domain.incidents import Incident, IncidentStatus
from monitor.domain.responsibility import OpeningUnits, grown_co_units, opening_units, response_need

_WORD = re.compile(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+")
LEAD_CHARS = 160  # the lead of the text, where reports of the same event overlap most


_AGAIN = re.compile(r"再次|再度|又一起|又一次|又发生|再发生|又现")  # "it happened again": a new event


@dataclass(frozen=True, slots=True)
class ClusterPolicy:
    window: timedelta = timedelta(hours=72)
    threshold: float = 0.25
    follow_up: timedelta = timedelta(hours=720)  # open incidents: a clearly similar report joins this long after
    follow_up_threshold: float = 0.5  # "clearly similar": the bar beyond the window
    stale_after: timedelta = timedelta(hours=168)  # published this long before it was fetched: opens no incident


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What clustering needs to know about one classified item."""

    id: int
    title: str
    text: str  # normalised text (items.text_norm); only its lead is used
    at: datetime  # publication time, else fetch time
    region: str | None = None
    event_type: str | None = None
    duplicate_of: int | None = None
    fetched_at: datetime | None = None  # when it was collected (None: as `at`)


@dataclass(slots=True)
class Candidate:
    """An open incident as clustering sees it (its profile grows as items join)."""

    incident_id: int
    region: str | None
    event_type: str | None
    last_at: datetime
    profile: Counter[str] = field(default_factory=Counter)
    item_ids: set[int] = field(default_factory=set)
    first_at: datetime | None = None  # earliest item (None: only last_at is known)
    open: bool = True  # False: dismissed or closed; it takes reposts of its items only


@dataclass(frozen=True, slots=True)
class Assignment:
    item_id: int
    incident_id: int | None  # None: open a new incident (or, rule "stale", none: see `held`)
    reason: dict[str, Any]

    @property
    def held(self) -> bool:
        """Old news that joined nothing: it opens no incident and waits on the items list."""
        return self.incident_id is None and self.reason.get("rule") == "stale"


def profile(title: str, text: str) -> Counter[str]:
    """Character bigrams of the title (weighted twice) and the lead."""
    counts: Counter[str] = Counter()
    for weight, part in ((2, title), (1, text[:LEAD_CHARS])):
        for word in _WORD.findall(part):
            grams = [word[i : i + 2] for i in range(len(word) - 1)] or [word]
            for gram in grams:
                counts[gram] += weight
    return counts


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    dot = sum(v * large.get(k, 0) for k, v in small.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _contradicts(item: ItemFacts, candidate: Candidate) -> str | None:
    if item.region and candidate.region and item.region != candidate.region:
        return "region"
    if item.event_type and candidate.event_type and item.event_type != candidate.event_type:
        return "event_type"
    return None


def _outside(item: ItemFacts, candidate: Candidate, window: timedelta) -> bool:
    first = candidate.first_at or candidate.last_at
    return item.at - candidate.last_at > window or first - item.at > window


def _best(mine: Counter[str], candidates: Iterable[Candidate], threshold: float) -> tuple[float, Candidate] | None:
    best: tuple[float, Candidate] | None = None
    for candidate in candidates:
        score = cosine(mine, candidate.profile)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, candidate)
    return best


def stale_age(item: ItemFacts, policy: ClusterPolicy) -> timedelta | None:
    """How long before it was fetched the item was published, when that makes it old news."""
    if item.fetched_at is None or policy.stale_after <= timedelta(0):
        return None
    age = item.fetched_at - item.at
    return age if age > policy.stale_after else None


def assign(item: ItemFacts, candidates: Sequence[Candidate], policy: ClusterPolicy) -> Assignment:
    """Where one item goes, and why (the reason is stored on incident_items and in the timeline)."""
    if item.duplicate_of is not None:
        for candidate in candidates:
            if item.duplicate_of in candidate.item_ids:
                return Assignment(item.id, candidate.incident_id, {"rule": "repost", "original": item.duplicate_of})
    mine = profile(item.title, item.text)
    eligible = [c for c in candidates if c.open and not _contradicts(item, c)]
    best = _best(mine, [c for c in eligible if not _outside(item, c, policy.window)], policy.threshold)
    if best is None:
        return _follow_up(item, mine, eligible, policy) or _unattached(item, candidates, policy)
    score, chosen = best
    reason = {
        "rule": "similar",
        "similarity": round(score, 3),
        "threshold": policy.threshold,
        "window_h": policy.window / timedelta(hours=1),
        "region": chosen.region,
        "event_type": chosen.event_type,
    }
    return Assignment(item.id, chosen.incident_id, reason)


def _follow_up(
    item: ItemFacts, mine: Counter[str], eligible: Sequence[Candidate], policy: ClusterPolicy
) -> Assignment | None:
    """A clearly similar report on an open incident whose last item is beyond the window but
    within the follow-up horizon (never one that says the event happened again)."""
    if policy.follow_up <= policy.window or _AGAIN.search(item.title):
        return None
    later = [c for c in eligible if policy.window < item.at - c.last_at <= policy.follow_up]
    best = _best(mine, later, max(policy.follow_up_threshold, policy.threshold))
    if best is None:
        return None
    score, chosen = best
    reason = {
        "rule": "follow_up",
        "similarity": round(score, 3),
        "threshold": max(policy.follow_up_threshold, policy.threshold),
        "after_last_h": round((item.at - chosen.last_at) / timedelta(hours=1), 1),
        "follow_up_h": policy.follow_up / timedelta(hours=1),
        "region": chosen.region,
        "event_type": chosen.event_type,
    }
    return Assignment(item.id, chosen.incident_id, reason)


def _unattached(item: ItemFacts, candidates: Sequence[Candidate], policy: ClusterPolicy) -> Assignment:
    """No incident takes the item: it opens one, unless it is old news (then it is held)."""
    age = stale_age(item, policy)
    if age is not None:
        reason = {
            "rule": "stale",
            "age_h": round(age / timedelta(hours=1), 1),
            "stale_after_h": policy.stale_after / timedelta(hours=1),
            "compared": len(candidates),
        }
        return Assignment(item.id, None, reason)
    return Assignment(item.id, None, {"rule": "new", "compared": len(candidates), "threshold": policy.threshold})


def held_note(reason: dict[str, Any]) -> str:
    """The zh-CN line the items list shows for a held item (its stored `reason`)."""
    days = float(reason.get("age_h") or 0) / 24
    limit = float(reason.get("stale_after_h") or 0) / 24
    return f"旧闻，未立案：发布于采集前 {days:.0f} 天（超过 {limit:g} 天的旧稿件只并入已有事件，不新立事件）"


def join(candidate: Candidate, item: ItemFacts) -> None:
    """Fold an attached item into the candidate so later items in the batch see it."""
    candidate.profile.update(profile(item.title, item.text))
    candidate.item_ids.add(item.id)
    candidate.last_at = max(candidate.last_at, item.at)
    candidate.first_at = min(candidate.first_at or item.at, item.at)
    candidate.region = candidate.region or item.region
    candidate.event_type = candidate.event_type or item.event_type


def new_incident(item: Any, detected_at: datetime) -> Incident:
    """A DETECTED incident opened by one relevant item (an items row or anything with those fields):
    its owner, lead and co-units as the classifier routed the item (`opening_units`), and whether it
    must be responded to as its category and levels say (confirmation decides again, and records why)."""
    event_type = EventType(item.event_type) if item.event_type else None
    event_level = EventLevel(item.event_level) if item.event_level else None
    opinion_level = OpinionLevel(item.opinion_level) if item.opinion_level else None
    units = opening_units(item.department, getattr(item, "classification", None))
    need = response_need(event_type, event_level, opinion_level)
    return Incident(
        title=item.title,
        detected_at=detected_at,
        event_type=event_type,
        event_level=event_level,
        opinion_level=opinion_level,
        requires_response=need.required if need else True,
        owner_unit=units.owner,
        lead_unit=units.lead,
        co_units=units.co_units,
        multi_region=units.multi_region,
        vertical_managed=units.vertical_managed,
        region=item.region,
        media_tiers=(MediaTier(item.media_tier),) if item.media_tier else (),
        first_published_at=item.published_at,
        item_count=1,
        source_count=1 if item.source_id is not None else 0,
    )


# --- merge and split -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MergePlan:
    source: Incident  # now MERGED
    target: Incident  # with the union of spread facts
    events: tuple[IncidentEvent, ...]
    regrade: tuple[EventLevel | None, OpinionLevel | None] | None  # when the merged-in one was graver


def _max_level(a: Any, b: Any, order: Iterable[Any]) -> Any:
    ranked = list(order)
    present = [x for x in (a, b) if x is not None]
    return min(present, key=ranked.index) if present else None


def plan_merge(source: Incident, target: Incident, at: datetime, actor: str, reason: str = "") -> MergePlan:
    """Merge `source` into `target`: validate, and say what each becomes."""
    if source.id is None or target.id is None:
        raise DomainError("merge needs two stored incidents")
    if source.id == target.id:
        raise DomainError(f"incident {source.id} cannot be merged into itself; choose another target")
    if not target.is_open:
        raise DomainError(f"incident {target.id} is {target.status.value}; reopen it or merge into an open incident")
    merged = source.transition(IncidentStatus.MERGED, at)
    tiers = tuple(sorted({*source.media_tiers, *target.media_tiers}, key=lambda t: t.rank))
    firsts = [t for t in (source.first_published_at, target.first_published_at) if t is not None]
    occurred = [t for t in (source.occurred_at, target.occurred_at) if t is not None]
    grown = dataclasses.replace(
        target,
        # the opinion was first seen when the earlier of the two was: its clocks keep that start
        detected_at=min(source.detected_at, target.detected_at),
        media_tiers=tiers,
        item_count=target.item_count + source.item_count,
        first_published_at=min(firsts) if firsts else None,
        occurred_at=min(occurred) if occurred else None,
        # the merged-in incident's units keep seeing the event they were handling, as co-units
        co_units=grown_co_units(
            target.co_units,
            [*source.co_units, source.owner_unit or "", source.lead_unit or ""],
            target.owner_unit,
            target.lead_unit,
        ),
        multi_region=target.multi_region or source.multi_region,
    )
    level = _max_level(source.event_level, target.event_level, EventLevel)
    opinion = _max_level(source.opinion_level, target.opinion_level, OpinionLevel)
    regrade = (level, opinion) if (level, opinion) != (target.event_level, target.opinion_level) else None
    events = (
        IncidentEvent(source.id, EventKind.MERGED, at, actor, {"into": target.id, "reason": reason}),
        IncidentEvent(
            target.id,
            EventKind.ITEM_ATTACHED,
            at,
            actor,
            {"rule": "merge", "from": source.id, "items": source.item_count, "reason": reason},
        ),
    )
    return MergePlan(merged, grown, events, regrade)


@dataclass(frozen=True, slots=True)
class SplitPlan:
    parent: Incident
    child: Incident  # not yet stored
    item_ids: tuple[int, ...]
    parent_event: IncidentEvent
    child_basis: dict[str, Any] = field(default_factory=dict)  # CLASSIFIED payload: what the child took from where


def _prevailing(values: Iterable[str | None]) -> str | None:
    """The most frequent known value (ties: the one seen first), or None."""
    counts = Counter(v for v in values if v)
    return max(counts, key=lambda v: counts[v]) if counts else None


def _gravest(values: Iterable[Any], kind: Any) -> Any:
    """The gravest of the stated levels (I before IV, L1 before L4), or None."""
    known = {m.value: m for m in kind}
    stated = [known[v] for v in values if v in known]
    return min(stated, key=list(kind).index) if stated else None


@dataclass(frozen=True, slots=True)
class _Own:
    """What the moved items' own classification says about the split-off event."""

    event_type: EventType | None
    region: str | None
    levels: tuple[EventLevel | None, OpinionLevel | None] | None  # None: no moved item was classified
    units: OpeningUnits | None  # None: no moved item names a unit


def _own_classification(moved: Sequence[Any]) -> _Own:
    kinds = {t.value for t in EventType}
    event_type = _prevailing(getattr(m, "event_type", None) for m in moved if getattr(m, "event_type", None) in kinds)
    classified = [m for m in moved if getattr(m, "classified_at", None) is not None]
    levels = None
    if classified:  # a classified item that states no 突发事件 level is not one: nothing to inherit
        levels = (
            _gravest((getattr(m, "event_level", None) for m in classified), EventLevel),
            _gravest((getattr(m, "opinion_level", None) for m in classified), OpinionLevel),
        )
    department = _prevailing(getattr(m, "department", None) for m in moved)
    units: OpeningUnits | None = None
    if department:
        lead = next(m for m in moved if getattr(m, "department", None) == department)
        units = opening_units(department, getattr(lead, "classification", None))
        others = [str(getattr(m, "department", None) or "") for m in moved]
        units = dataclasses.replace(units, co_units=grown_co_units(units.co_units, others, department, department))
    return _Own(EventType(event_type) if event_type else None, _prevailing(getattr(m, "region", None) for m in moved),
                levels, units)  # fmt: skip


def plan_split(
    parent: Incident,
    item_ids: Sequence[int],
    parent_items: Iterable[int],
    title: str,
    at: datetime,
    actor: str,
    moved: Sequence[Any] = (),
) -> SplitPlan:
    """Split `item_ids` off `parent` into a new incident titled `title`.

    `moved`: the moving items' stored classification (`event_type`, `region`, `department`,
    `classification`, `event_level`, `opinion_level`, `classified_at`): the new incident is about
    THEIR event, so it takes the type, place and owning unit most of them state and the gravest
    levels the classified ones state (none stated: not a 突发事件); the parent's where they state
    nothing (items never classified). `child_basis` says which was which, for its timeline."""
    moving, present = tuple(dict.fromkeys(item_ids)), set(parent_items)
    if parent.id is None:
        raise DomainError("split needs a stored incident")
    if not title.strip():
        raise DomainError("a split needs a title for the new incident")
    if not moving:
        raise DomainError("a split needs at least one item to move")
    stray = [i for i in moving if i not in present]
    if stray:
        raise DomainError(
            f"items {', '.join(map(str, stray))} are not in incident {parent.id}; choose items of that incident"
        )
    if len(moving) >= len(present):
        raise DomainError(
            f"cannot split every item off incident {parent.id}; keep at least one (or dismiss/merge it instead)"
        )
    own = _own_classification(moved)
    event_level, opinion_level = own.levels or (parent.event_level, parent.opinion_level)
    u = own.units
    child = Incident(
        title=title.strip(),
        detected_at=parent.detected_at,  # the event was detected then; splitting does not restart clocks
        event_type=own.event_type or parent.event_type,
        event_level=event_level,
        opinion_level=opinion_level,
        requires_response=parent.requires_response,  # confirmation derives it again from the child's levels
        owner_unit=u.owner if u else parent.owner_unit,
        lead_unit=u.lead if u else parent.lead_unit,
        co_units=u.co_units if u else parent.co_units,
        region=own.region or parent.region,
        multi_region=u.multi_region if u else parent.multi_region,
        vertical_managed=u.vertical_managed if u else parent.vertical_managed,
        item_count=len(moving),
    )
    remaining = dataclasses.replace(parent, item_count=max(0, parent.item_count - len(moving)))
    event = IncidentEvent(parent.id, EventKind.SPLIT, at, actor, {"items": list(moving), "title": child.title})
    return SplitPlan(remaining, child, moving, event, _split_basis(parent.id, moving, child, own))


def _split_basis(parent_id: int, moving: Sequence[int], child: Incident, own: _Own) -> dict[str, Any]:
    """The split-off incident's CLASSIFIED payload: its classification and, in words, where it came from."""
    stated = {"责任单位": own.units, "类别": own.event_type, "属地": own.region, "级别": own.levels}
    took = [name for name, value in stated.items() if value is not None]
    kept = [n for n in ("责任单位", "类别", "属地", "级别") if n not in took]
    parts = [f"{'、'.join(took)}按拆出稿件的研判结果确定"] if took else []
    parts += [f"{'、'.join(kept)}拆出稿件未载明，沿用原事件"] if kept else []
    return {
        "from": parent_id,
        "items": list(moving),
        "owner_unit": child.owner_unit,
        "event_type": child.event_type and child.event_type.value,
        "region": child.region,
        "event_level": child.event_level and child.event_level.value,
        "opinion_level": child.opinion_level and child.opinion_level.value,
        "reason": f"拆分自事件 #{parent_id}：" + "；".join(parts),
    }
