"""What the web UI's reports page mounts (README "Reports → in the web UI").

page = await report_page(db, org, Period.parse("2026-10"), clock.now(), unit=None,
                         drill_url="/reports/2026-10/drill/{key}")
page.html              # <div class="mr-report">…</div>: styles, KPIs, charts (inline SVG), tables
page.drilldown[key]    # incident ids behind a figure (deadline ids for `ob:` keys); tiles, table cells and
                       # chart bars in page.html link to drill_url (last month's figures to `prev:<key>`)
page.chart_drilldown   # chart key -> [(category, drill key)], the keys the bars link to
page.contract          # the JSON contract (same as `monitor report --format json`)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.domain import OrgDirectory
from monitor.domain.evaluation import SubsideRule
from monitor.reports.build import Period, Report
from monitor.reports.render.html import DEFAULT_LIST_LIMIT, chart_drilldown, render_fragment, stylesheet
from monitor.reports.service import DEFAULT_TOP, generate, names_from_org
from monitor.storage.db import Database
from monitor.storage.repo import reports as repo

__all__ = ["ReportPage", "report_months", "report_page", "stylesheet"]


@dataclass(frozen=True)
class ReportPage:
    report: Report
    html: str
    drilldown: dict[str, tuple[int, ...]]
    chart_drilldown: dict[str, list[tuple[str, str | None]]]

    @property
    def contract(self) -> dict[str, object]:
        return self.report.contract

    def incidents_behind(self, key: str) -> tuple[int, ...]:
        """Incident ids behind a figure (deadline ids for an `ob:` key); () for an unknown key."""
        return self.drilldown.get(key, ())


async def report_page(
    db: Database,
    org: OrgDirectory | None,
    period: Period,
    cutoff: datetime,
    *,
    unit: str | None = None,
    drill_url: str | None = None,
    incident_url: str | None = None,
    list_limit: int = DEFAULT_LIST_LIMIT,
    top_n: int = DEFAULT_TOP,
    rule_titles: Mapping[str, str] | None = None,
    inline_styles: bool = True,
    subside: SubsideRule | None = None,
) -> ReportPage:
    """The report page; pass `rule_titles` (rule id -> title, e.g. from the loaded playbook) to name rules.

    `inline_styles=False` for a page whose CSP forbids inline styles: link `stylesheet()` instead.
    """
    names = names_from_org(org, rule_titles)
    report = await generate(db, period, cutoff, names, unit=unit, drill=True, top_n=top_n, subside=subside)
    html = render_fragment(
        report, drill_url=drill_url, incident_url=incident_url, list_limit=list_limit, inline_styles=inline_styles
    )
    return ReportPage(report, html, report.drilldown, chart_drilldown(report))


async def report_months(db: Database, now: datetime) -> list[Period]:
    """Months that have data, newest first, up to the month of `now` (for a month picker)."""
    async with db.read() as conn:
        first, last = await repo.detected_range(conn)
    if first is None or last is None:
        return [Period.containing(now)]
    months, month = [], Period.containing(min(last, now))
    while month >= Period.containing(first):
        months.append(month)
        month = month.previous()
    return months
