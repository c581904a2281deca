"""One streaming pass over a month's incidents and deadlines, counting as it goes.

Rows arrive in batches from the repository and are not kept: only counters, the response
times (one float per responded incident), the overdue deadlines, the top incidents and the
incidents due a 效果评估 (responded or ended) stay in memory, so a month of 100,000 incidents
costs megabytes, not the rows themselves.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.domain.reporting import IncidentFacts, ObligationFacts, ObligationTally, RegradeFacts
from monitor.reports.build.evaluation import needs_evaluation
from monitor.reports.build.followups import SEVERE_LEVELS, Reescalation
from monitor.reports.build.labels import LEVEL_ORDER
from monitor.reports.build.model import Dist, Summary, Tally
from monitor.reports.build.period import Period

DIMENSIONS = ("event_level", "opinion_level", "category", "region", "unit", "media_type")
EXCLUDED_STATUSES = ("dismissed", "merged")  # 非政务舆情 and duplicates are not counted
TTR_BUCKETS = ((1.0, "≤1小时"), (5.0, "1–5小时"), (24.0, "5–24小时"), (48.0, "24–48小时"), (168.0, "48小时–7天"))
TTR_OVER = ">7天"
UNANSWERED = "未回应"
_UTC8 = timedelta(hours=8)


class Group:
    """Counts for one slice of the month (all, one unit, one level …)."""

    __slots__ = ("incidents", "requiring", "responded", "responded_required", "rules", "tally", "ttr")

    def __init__(self) -> None:
        self.incidents = self.requiring = self.responded = self.responded_required = 0
        self.ttr: list[float] = []
        self.tally = Tally()
        self.rules: dict[str, Tally] = defaultdict(Tally)

    def add_incident(self, requiring: bool, ttr: float | None) -> None:
        self.incidents += 1
        self.requiring += requiring
        if ttr is not None:
            self.responded += 1
            self.responded_required += requiring
            self.ttr.append(ttr)

    @property
    def unanswered(self) -> int:
        return self.requiring - self.responded_required

    @property
    def responded_optional(self) -> int:
        """Responded although no response was required (not part of 回应率)."""
        return self.responded - self.responded_required

    @property
    def response_rate(self) -> float | None:
        return self.responded_required / self.requiring if self.requiring else None

    def dist(self) -> Dist:
        return Dist.of(self.ttr)


@dataclass(frozen=True, slots=True)
class Overdue:
    """A deadline due in the month that was missed (met late, or still unmet at the cut-off)."""

    obligation: ObligationFacts
    outcome: str  # met_late | breached
    delay_h: float  # hours past the deadline: until met, or until the cut-off


def hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def ttr_bucket(ttr: float | None) -> str:
    if ttr is None:
        return UNANSWERED
    return next((label for limit, label in TTR_BUCKETS if ttr <= limit), TTR_OVER)


def _severity(f: IncidentFacts) -> tuple[int, int, int, int]:
    """Sort key of 重点舆情: most severe level first, then the most coverage, then the earliest."""
    return (LEVEL_ORDER.get(f.event_level or "", 9), LEVEL_ORDER.get(f.opinion_level or "", 9), -f.item_count, f.id)


class MonthAccumulator:
    """Counts one month (optionally one unit) from streamed incident and deadline rows."""

    def __init__(
        self, period: Period, cutoff: datetime, *, drill: bool = False, top_n: int = 10, breakdowns: bool = True
    ) -> None:
        self.period, self.cutoff, self.top_n, self.breakdowns = period, cutoff, top_n, breakdowns
        self.total = Group()
        # per incident only one counter and one list are touched; the breakdowns are summed once, at the end
        self._combos: dict[tuple[str, str, str, str, str, str, bool], list[int]] = {}
        self._ttrs: dict[tuple[str, str, str], list[float]] = defaultdict(list)  # (unit, level, opinion) -> hours
        self._tallies: list[ObligationTally] = []
        self._dims: dict[str, dict[str, Group]] | None = None
        self.daily = [0] * period.days
        self.daily_responded = [0] * period.days
        self.buckets: dict[str, int] = defaultdict(int)
        self.excluded: dict[str, int] = defaultdict(int)
        self.cancelled = 0
        self.overdue: list[Overdue] = []
        self._top: list[tuple[tuple[int, int, int, int], int, IncidentFacts]] = []  # max-heap by negated key
        self.drill: dict[str, list[int]] | None = defaultdict(list) if drill else None
        self.severe: list[IncidentFacts] = []  # 重特大 incidents, for 首报/续报/终报
        self.raises: dict[int, list[RegradeFacts]] = {}  # incident id -> re-grades that raised a level (set first)
        self.reescalated: list[Reescalation] = []  # answered, then raised (二次舆情)
        self.evaluable: list[IncidentFacts] = []  # responded or ended: a 效果评估 is expected

    # --- incidents -------------------------------------------------------------------
    def add_incidents(self, rows: Iterable[IncidentFacts]) -> None:
        for f in rows:
            self.add_incident(f)

    def add_incident(self, f: IncidentFacts) -> None:
        if f.status in EXCLUDED_STATUSES:
            self.excluded[f.status] += 1
            return
        ttr = None
        if f.first_response_at is not None and f.first_response_at <= self.cutoff:
            ttr = max(0.0, (f.first_response_at - f.detected_at).total_seconds() / 3600)
        requiring = f.requires_response
        self.total.add_incident(requiring, ttr)
        if not self.breakdowns:
            return
        keys = (
            f.event_level or "", f.opinion_level or "", f.event_type or "", f.region or "", f.owner_unit or "",
            f.media_type or "",
        )  # fmt: skip
        combo = self._combos.get((*keys, requiring))
        if combo is None:
            combo = self._combos[(*keys, requiring)] = [0, 0]
            self._dims = None
        combo[0] += 1
        if ttr is not None:
            combo[1] += 1
            self._ttrs[(keys[4], keys[0], keys[1])].append(ttr)
        day = (f.detected_at.astimezone(UTC) + _UTC8).day - 1  # Asia/Shanghai has been UTC+8 all year since 1991
        self.daily[day] += 1
        if ttr is not None:
            self.daily_responded[day] += 1
        if requiring or ttr is not None:
            self.buckets[ttr_bucket(ttr)] += 1
        if self.top_n > 0:
            self._keep_top(f)
        self._follow_ups(f, ttr)
        if self.drill is not None:
            self._drill_incident(f, keys, ttr)

    def _follow_ups(self, f: IncidentFacts, ttr: float | None) -> None:
        """Keep the 重特大 incidents (for 首报/续报/终报) and note an answered one raised afterwards (二次舆情)."""
        if f.event_level in SEVERE_LEVELS:
            self.severe.append(f)
        if needs_evaluation(f, self.cutoff):  # 效果评估 expected
            self.evaluable.append(f)
        first = f.first_response_at
        if ttr is None or first is None or f.id not in self.raises:
            return
        raised = next((r for r in self.raises[f.id] if r.at > first), None)
        if raised is not None:
            self.reescalated.append(Reescalation(f, raised))
            if self.drill is not None:
                self.drill["reescalated"].append(f.id)

    def _keep_top(self, f: IncidentFacts) -> None:
        key = _severity(f)
        negated = (-key[0], -key[1], -key[2], -key[3])
        if len(self._top) < self.top_n:
            heapq.heappush(self._top, (negated, f.id, f))
        elif negated > self._top[0][0]:
            heapq.heapreplace(self._top, (negated, f.id, f))

    def top_incidents(self) -> list[IncidentFacts]:
        return [f for _, _, f in sorted(self._top, key=lambda t: _severity(t[2]))]

    def _drill_incident(self, f: IncidentFacts, keys: tuple[str, ...], ttr: float | None) -> None:
        assert self.drill is not None
        states = ["incidents"]
        if f.requires_response:
            states.append("requiring")
            if ttr is None:
                states.append("unanswered")
        if ttr is not None:
            states.append("responded")
            states.append("responded_required" if f.requires_response else "responded_optional")
            states.append(f"ttr:{ttr_bucket(ttr)}")
        elif f.requires_response:
            states.append(f"ttr:{UNANSWERED}")
        for state in states:
            self.drill[state].append(f.id)
            for dim, key in zip(DIMENSIONS, keys, strict=True):
                self.drill[f"{state}:{dim}:{key}"].append(f.id)
        day = (f.detected_at.astimezone(UTC) + _UTC8).day
        self.drill[f"day:{day}"].append(f.id)
        if ttr is not None:
            self.drill[f"day:{day}:responded"].append(f.id)

    # --- deadlines -------------------------------------------------------------------
    def add_tallies(self, rows: Iterable[ObligationTally]) -> None:
        """The counts of deadlines due in the month by rule, unit and outcome (the repository groups them)."""
        for t in rows:
            if t.outcome == "cancelled":
                self.cancelled += t.count
                continue
            self.total.tally.add(t.outcome, t.count)
            self.total.rules[t.rule_id].add(t.outcome, t.count)
            self._tallies.append(t)
        self._dims = None

    def add_obligations(self, rows: Iterable[ObligationFacts]) -> None:
        """Deadline rows (with their outcome): the missed ones are listed; with drill, all are indexed."""
        for o in rows:
            if o.outcome == "met_late" and o.met_at is not None:
                self.overdue.append(Overdue(o, o.outcome, hours(o.due_at, o.met_at)))
            elif o.outcome == "breached":
                self.overdue.append(Overdue(o, o.outcome, hours(o.due_at, self.cutoff)))
            if self.drill is not None and o.outcome != "cancelled":  # deadline figures list the deadlines
                unit = o.owner_unit or ""
                for key in ("ob:due", f"ob:due:rule:{o.rule_id}", f"ob:due:unit:{unit}", f"ob:{o.outcome}",
                            f"ob:{o.outcome}:rule:{o.rule_id}", f"ob:{o.outcome}:unit:{unit}"):  # fmt: skip
                    self.drill[key].append(o.id)

    # --- results ---------------------------------------------------------------------
    @property
    def dims(self) -> dict[str, dict[str, Group]]:
        """dimension -> value -> Group (event_level, opinion_level, category, region, unit, media_type)."""
        if self._dims is None:
            self._dims = self._breakdowns()
        return self._dims

    def _breakdowns(self) -> dict[str, dict[str, Group]]:
        dims: dict[str, dict[str, Group]] = {d: defaultdict(Group) for d in DIMENSIONS}
        for (*keys, requiring), (n, responded) in self._combos.items():
            for dim, key in zip(DIMENSIONS, keys, strict=True):
                g = dims[dim][key]
                g.incidents += n
                g.responded += responded
                if requiring:
                    g.requiring += n
                    g.responded_required += responded
        for (unit, level, opinion), hours_ in self._ttrs.items():
            for dim, key in (("unit", unit), ("event_level", level), ("opinion_level", opinion)):
                dims[dim][key].ttr.extend(hours_)
        for t in self._tallies:
            group = dims["unit"][t.owner_unit or ""]
            group.tally.add(t.outcome, t.count)
            group.rules[t.rule_id].add(t.outcome, t.count)
        return dims

    def summary(self) -> Summary:
        t = self.total
        return Summary(
            period=self.period,
            incidents=t.incidents,
            requiring_response=t.requiring,
            responded=t.responded,
            responded_required=t.responded_required,
            ttr=t.dist(),
            tally=t.tally,
            excluded=dict(self.excluded),
        )

    def drilldown(self) -> dict[str, tuple[int, ...]]:
        """drill-down key -> the incident ids behind the figure; for `ob:` keys the deadline (obligation) ids."""
        if self.drill is None:
            return {}
        return {key: tuple(sorted(set(ids))) for key, ids in sorted(self.drill.items())}
