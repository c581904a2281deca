"""Read a month from the database and build its report (the only place reports meet storage)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from monitor.config import Settings, resolve_playbook_file
from monitor.domain import EventKind, OrgDirectory
from monitor.domain.evaluation import SubsideRule
from monitor.policy.playbooks import load_policy
from monitor.reports.build import (
    Details,
    MonthAccumulator,
    Names,
    Period,
    PeriodError,
    Report,
    ReportChain,
    build_report,
    raises_by_incident,
    report_chains,
)
from monitor.storage.db import Database
from monitor.storage.repo import reports as repo
from monitor.storage.repo.evaluation import evaluations_for
from monitor.storage.repo.report_payloads import parse_time

DEFAULT_TOP = 10


def names_from_org(org: OrgDirectory | None, rules: Mapping[str, str] | None = None) -> Names:
    """Display names: units and people from the org directory, rule titles from the playbook."""
    if org is None:
        return Names(rules=dict(rules or {}))
    return Names(
        units={u.id: u.name for u in org.units.values()},
        people={p.id: p.name for p in org.people.values()},
        rules=dict(rules or {}),
        city=org.city,
    )


def rule_titles(settings: Settings) -> dict[str, str]:
    """rule id -> title, from the deployment's playbook (the built-in titles cover the rest)."""
    return {rule.id: rule.title for rule in load_policy(resolve_playbook_file(settings)).playbook.rules}


def check_period(period: Period, cutoff: datetime) -> None:
    if cutoff < period.start:
        raise PeriodError(
            f"month {period.key} has not started at the cut-off {cutoff.isoformat()}; "
            "choose an earlier month or a later --now"
        )


async def generate(
    db: Database,
    period: Period,
    cutoff: datetime,
    names: Names,
    *,
    unit: str | None = None,
    drill: bool = False,
    top_n: int = DEFAULT_TOP,
    subside: SubsideRule | None = None,
) -> Report:
    """The report of `period` (optionally for one owning unit) as the data stood at `cutoff`;
    `subside`: the 平息 threshold its definitions state (from the settings, see `subside_rule`)."""
    check_period(period, cutoff)
    async with db.read() as conn:
        acc = await _accumulate(conn, period, cutoff, unit, drill=drill, top_n=top_n)
        previous = (
            await _accumulate(conn, period.previous(), cutoff, unit, drill=False, top_n=0, lists=False)
        ).summary()
        details = await _details(conn, acc, period, cutoff, unit)
    return build_report(acc, previous, details, names, unit=unit, subside=subside)


async def _accumulate(
    conn: repo.AsyncConnection,
    period: Period,
    cutoff: datetime,
    unit: str | None,
    *,
    drill: bool,
    top_n: int,
    lists: bool = True,
) -> MonthAccumulator:
    """One pass over the month's incidents; deadlines counted in SQL, the missed ones (all, for drill) listed.

    `lists=False` (last month, for the comparison): only the totals, no breakdowns or lists.
    """
    acc = MonthAccumulator(period, cutoff, drill=drill, top_n=top_n, breakdowns=lists)
    start, end = period.start, period.end
    if lists:  # every raise of a level up to the cut-off, for 二次舆情 (a month's incidents are raised after detection)
        acc.raises = raises_by_incident(await repo.regrades_in(conn, start, _through(cutoff), cutoff, unit))
    async for batch in repo.stream_incidents(conn, start, end, cutoff, unit):
        acc.add_incidents(batch)
    acc.add_tallies(await repo.obligation_tallies(conn, start, end, cutoff, unit))
    if not lists:
        return acc
    async for obligations in repo.stream_obligations(conn, start, end, cutoff, unit, missed_only=not drill):
        acc.add_obligations(obligations)
    return acc


async def _details(
    conn: repo.AsyncConnection, acc: MonthAccumulator, period: Period, cutoff: datetime, unit: str | None
) -> Details:
    start, end = period.start, period.end
    pauses = await repo.pauses_in(conn, start, end, cutoff, unit)
    regrades = await repo.regrades_in(conn, start, end, cutoff, unit)
    referenced = {p.incident_id for p in pauses} | {r.incident_id for r in regrades}
    return Details(
        escalations=await repo.escalations_for(conn, {o.obligation.incident_id for o in acc.overdue}, cutoff),
        pauses=pauses,
        regrades=regrades,
        corrections=await repo.corrections_in(conn, start, end, cutoff, unit),
        timelines=await repo.timelines_for(conn, [f.id for f in acc.top_incidents()], cutoff),
        titles=await repo.incident_titles(conn, referenced),
        report_chains=await _report_chains(conn, acc, period, cutoff, unit),
        evaluations=await evaluations_for(conn, [f.id for f in acc.evaluable], cutoff),
        commitments=await repo.commitments_due(conn, start, end, cutoff, unit),
    )


def _through(cutoff: datetime) -> datetime:
    """The end of a half-open range that includes the cut-off itself."""
    return cutoff + timedelta(microseconds=1)


async def _report_chains(
    conn: repo.AsyncConnection, acc: MonthAccumulator, period: Period, cutoff: datetime, unit: str | None
) -> list[ReportChain]:
    """The 首报/续报/终报 and end of handling of the month's 重特大 incidents, as known at the cut-off."""
    if not acc.severe:
        return []
    timelines = await repo.timelines_for(conn, [f.id for f in acc.severe], cutoff)
    # The kind of a report_recorded event (first | follow_up | final) and when it was made are in its
    # payload (report_kind, reported_at), which the timeline rows do not carry; read them here. (A
    # `report_kind` on TimelineFacts, read in storage/repo/report_payloads.py with the other payload
    # keys, would be the better home.)
    rows = await repo._timelines_with(
        conn, EventKind.REPORT_RECORDED, [EventKind.REPORT_RECORDED.value], period.start, _through(cutoff), cutoff, unit
    )
    reports = {
        (incident_id, seq): (str(payload.get("report_kind") or ""), parse_time(payload.get("reported_at"), at) or at)
        for incident_id, seq, _, at, _, payload in rows
    }
    return report_chains(acc.severe, timelines, reports, cutoff)
