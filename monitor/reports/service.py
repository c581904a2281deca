"""Read a month from the database and build its report (the only place reports meet storage)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from monitor.config import Settings, resolve_playbook_file
from monitor.domain import OrgDirectory
from monitor.policy.playbooks import load_policy
from monitor.reports.build import Details, MonthAccumulator, Names, Period, PeriodError, Report, build_report
from monitor.storage.db import Database
from monitor.storage.repo import reports as repo

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
) -> Report:
    """The report of `period` (optionally for one owning unit) as the data stood at `cutoff`."""
    check_period(period, cutoff)
    async with db.read() as conn:
        acc = await _accumulate(conn, period, cutoff, unit, drill=drill, top_n=top_n)
        previous = (
            await _accumulate(conn, period.previous(), cutoff, unit, drill=False, top_n=0, lists=False)
        ).summary()
        details = await _details(conn, acc, period, cutoff, unit)
    return build_report(acc, previous, details, names, unit=unit)


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
    )
