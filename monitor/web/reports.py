"""Reports page: the monthly response-effectiveness report of a month (and unit), drill-down from
any figure (headline tiles, table cells, chart bars) to the incidents or deadlines behind it, and
downloads of the same report (XLSX, CSV, JSON, HTML); for 分析员 and 管理员, the 舆情回应台账 of any
range of days (`/reports/ledger`, one row per incident).

The report is built at a cut-off (now, when the page is opened); its links carry that cut-off
(`at=`), so a drill-down or a download shows exactly the figures on the page even if data arrive
in between (reports are reproducible at a cut-off). The site's CSP forbids inline styles: the
report is mounted with `inline_styles=False` and its rules come from /reports/report.css.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from aiohttp import web

from monitor.clock import parse_instant, to_local
from monitor.config import Settings
from monitor.domain.evaluation import subside_rule
from monitor.reports.build import Period, PeriodError, Report
from monitor.reports.build.labels import OUTCOME_LABELS, drill_label
from monitor.reports.downloads import DOWNLOADS, render_download
from monitor.reports.ledger_export import DateRange, LedgerRangeError, export_ledger
from monitor.reports.ledger_export import display_name as ledger_display_name
from monitor.reports.ledger_export import file_name as ledger_file_name
from monitor.reports.render.html import PREVIOUS
from monitor.reports.service import names_from_org, rule_titles
from monitor.reports.web import ReportPage, report_months, report_page, stylesheet
from monitor.storage.repo.reports import ListedDeadline, ListedIncident, listed_deadlines, listed_incidents
from monitor.web.auth.permissions import CurrentUser, Permission, requires
from monitor.web.rendering import render
from monitor.web.requests import services, user_of
from monitor.web.services import WebServices

PAGE_SIZE = 100
LEDGER_FORMATS = {
    "xlsx": ("Excel（XLSX）", DOWNLOADS["xlsx"].content_type),
    "csv": ("CSV（UTF-8，Excel 可直接打开）", "text/csv; charset=utf-8"),
}
_CACHE_SIZE = 4  # report pages kept per process: drill-downs and downloads of the same cut-off reuse them
_cache: OrderedDict[tuple[int, str, str | None, str], ReportPage] = OrderedDict()


@dataclass(frozen=True)
class Selection:
    """Which report: month, owning unit (None = the city) and cut-off."""

    period: Period
    unit: str | None
    cutoff: datetime

    def query(self, **extra: str) -> str:
        params = {"unit": self.unit or "", "at": self.cutoff.isoformat(), **extra}
        return urlencode({k: v for k, v in params.items() if v})


@functools.cache
def _css() -> tuple[str, str]:
    text = stylesheet()
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=4)
def _rule_titles(settings: Settings) -> dict[str, str]:
    return rule_titles(settings)


@requires(Permission.VIEW_REPORTS)
async def report_css(request: web.Request) -> web.Response:
    response = web.Response(text=_css()[0], content_type="text/css")
    response.headers["Cache-Control"] = "private, max-age=86400"  # the URL carries the content hash
    return response


@requires(Permission.VIEW_REPORTS)
async def reports_page(request: web.Request) -> web.Response:
    """GET /reports[?month=&unit=] and /reports/{month}[?unit=]: the report with a month picker."""
    svc, user = services(request), user_of(request)
    now = svc.clock.now()
    months = await report_months(svc.db, now)
    month = request.match_info.get("month") or request.query.get("month") or months[0].key
    selection = _selection(request, user, month, now)
    page = await _page(svc, selection)
    downloads = [(fmt, d.label, f"/reports/{selection.period.key}/download/{fmt}?{selection.query()}")
                 for fmt, d in DOWNLOADS.items()]  # fmt: skip
    listed = {m.key for m in months}
    return render(
        request,
        "reports.html",
        {
            "selection": selection,
            "months": months + ([selection.period] if selection.period.key not in listed else []),
            "units": _unit_choices(svc, user),
            "city_wide": user.scope is None,
            "report": page.report,
            "report_html": page.html,
            "downloads": downloads,
            "css_url": f"/reports/report.css?v={_css()[1]}",
            "in_progress": selection.period.end > selection.cutoff,
            "ledger": _ledger_form(selection, svc) if user.can(Permission.EXPORT_LEDGER) else None,
        },
    )


def _ledger_form(selection: Selection, svc: WebServices) -> dict[str, object]:
    """The 台账 form's defaults: the month on the page (its days so far), its unit."""
    last_day = min(selection.period.end - timedelta(microseconds=1), selection.cutoff)
    unit = svc.org.units.get(selection.unit or "")
    return {
        "first": selection.period.first_day.isoformat(),
        "last": to_local(last_day).date().isoformat(),
        "unit": selection.unit,
        "unit_name": unit.name if unit else None,
        "formats": [(fmt, label) for fmt, (label, _) in LEDGER_FORMATS.items()],
    }


@requires(Permission.EXPORT_LEDGER)
async def ledger_download(request: web.Request) -> web.StreamResponse:
    """GET /reports/ledger?from=&to=&format=&unit=: the 舆情回应台账 of the incidents detected on
    those days (Beijing time, both included) as it stands now, as a file (分析员、管理员)."""
    svc, user = services(request), user_of(request)
    fmt = request.query.get("format") or "xlsx"
    if fmt not in LEDGER_FORMATS:
        return _bad_request(request, f"不支持的台账格式「{fmt}」，请选择 Excel（XLSX）或 CSV。")
    try:
        dates = DateRange.parse(request.query.get("from", ""), request.query.get("to", ""))
    except LedgerRangeError as exc:
        return _bad_request(request, exc.zh)
    unit = _unit(request, user)
    unit_name = svc.org.units[unit].name if unit else None
    names = names_from_org(svc.org, _rule_titles(svc.settings))
    with tempfile.TemporaryDirectory(prefix="ledger-") as tmp:
        path = Path(tmp) / ledger_file_name(dates, fmt, unit)
        try:
            await export_ledger(svc.db, dates, svc.clock.now(), names, fmt, path, unit=unit, unit_name=unit_name)
        except LedgerRangeError as exc:
            return _bad_request(request, exc.zh)
        shown = quote(ledger_display_name(dates, fmt, unit_name))
        headers = {
            "Content-Disposition": f"attachment; filename=\"{path.name}\"; filename*=UTF-8''{shown}",
            "Content-Type": LEDGER_FORMATS[fmt][1],
            "Cache-Control": "no-store",
        }
        return await _send_file(request, path, headers)


async def _send_file(request: web.Request, path: Path, headers: dict[str, str]) -> web.StreamResponse:
    """Stream `path` to the client completely before the caller removes it. (A FileResponse is
    prepared again by aiohttp after the handler returns, when the temporary file is already gone.)"""
    response = web.StreamResponse(headers=headers)
    stream = await asyncio.to_thread(open, path, "rb")
    try:
        response.content_length = os.fstat(stream.fileno()).st_size
        await response.prepare(request)
        while chunk := await asyncio.to_thread(stream.read, 1 << 18):
            await response.write(chunk)
    finally:
        stream.close()
    await response.write_eof()
    return response


def _bad_request(request: web.Request, message: str) -> web.Response:
    return render(request, "error.html", {"status": 400, "message": message}, status=400)


@requires(Permission.VIEW_REPORTS)
async def drill_page(request: web.Request) -> web.Response:
    """GET /reports/{month}/drill/{key}?unit=&at=&page=: the incidents (or deadlines) behind one figure.

    A figure of last month (key `prev:<key>`, the 上月 row) is sent on to last month's report at the
    same cut-off, whose figure it is."""
    svc, user = services(request), user_of(request)
    selection = _selection(request, user, request.match_info["month"], svc.clock.now(), request.query.get("at"))
    key = request.match_info["key"]
    if key.startswith(PREVIOUS):
        previous = selection.period.previous().key
        raise web.HTTPFound(f"/reports/{previous}/drill/{quote(key[len(PREVIOUS) :], safe='')}?{selection.query()}")
    page = await _page(svc, selection)
    if key not in page.drilldown:
        raise web.HTTPNotFound(reason="no incidents behind this figure")
    ids = page.incidents_behind(key)
    deadlines = key.startswith("ob:")  # deadline figures list the deadlines themselves
    number = _int(request.query.get("page"), 1)
    shown = ids[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    async with svc.db.read() as conn:
        rows: Sequence[ListedIncident | ListedDeadline] = (
            await listed_deadlines(conn, shown, selection.cutoff) if deadlines else await listed_incidents(conn, shown)
        )
    visible = [r for r in rows if user.sees(r.units)]
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    base = f"/reports/{selection.period.key}/drill/{quote(key, safe='')}?"
    names = names_from_org(svc.org, _rule_titles(svc.settings))
    return render(
        request,
        "reports_drill.html",
        {
            "selection": selection,
            "report": page.report,
            "label": drill_label(key, names),
            "total": len(ids),
            "deadlines": deadlines,
            "incidents": len({r.incident_id for r in visible if isinstance(r, ListedDeadline)}),
            "rule_name": names.rule,
            "outcome_label": OUTCOME_LABELS.get,
            "rows": visible,
            "hidden": len(rows) - len(visible),
            "number": number,
            "pages": pages,
            "page_url": lambda n: base + selection.query(page=str(n)),
            "back_url": f"/reports/{selection.period.key}?{selection.query()}",
        },
    )


@requires(Permission.VIEW_REPORTS)
async def download(request: web.Request) -> web.Response:
    """GET /reports/{month}/download/{fmt}?unit=&at=: the same report as a file."""
    svc, user = services(request), user_of(request)
    fmt = request.match_info["fmt"]
    if fmt not in DOWNLOADS:
        raise web.HTTPNotFound()
    selection = _selection(request, user, request.match_info["month"], svc.clock.now(), request.query.get("at"))
    report = (await _page(svc, selection)).report
    name, data = await asyncio.to_thread(render_download, report, fmt)  # CPU-bound: keep the loop serving
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(_title_name(report, name))}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return web.Response(body=data, content_type=DOWNLOADS[fmt].content_type, headers=headers)


def _title_name(report: Report, name: str) -> str:
    """report-2026-10.xlsx → 明湖市政务舆情回应情况月报（2026年10月）.xlsx."""
    stem = f"report-{report.period.key}"
    return report.title + name[len(stem) :] if name.startswith(stem) else name


def _selection(request: web.Request, user: CurrentUser, month: str, now: datetime, at: str | None = None) -> Selection:
    try:
        period = Period.parse(month)
    except PeriodError:
        raise web.HTTPNotFound(reason=f"no such month {month!r}") from None
    cutoff = now
    if at:
        try:
            cutoff = min(parse_instant(at), now)
        except ValueError:
            raise web.HTTPBadRequest(reason="at= must be an ISO 8601 instant") from None
    if cutoff < period.start:
        raise web.HTTPNotFound(reason=f"month {period.key} has not begun")
    return Selection(period, _unit(request, user), cutoff)


def _unit(request: web.Request, user: CurrentUser) -> str | None:
    """The requested unit; a user who may see only some units gets one of theirs (never the city)."""
    unit = request.query.get("unit") or None
    org = services(request).org
    if unit is not None and unit not in org.units:
        raise web.HTTPNotFound(reason=f"unknown unit {unit!r}")
    scope = user.scope
    if scope is None:
        return unit
    if unit is None:
        return min(scope) if scope else _forbidden()
    return unit if unit in scope else _forbidden()


def _forbidden() -> str:
    raise web.HTTPForbidden()


def _unit_choices(svc: WebServices, user: CurrentUser) -> list[tuple[str, str]]:
    scope = user.scope
    return [(u.id, u.name) for u in svc.org.units.values() if scope is None or u.id in scope]


def _int(text: str | None, default: int) -> int:
    try:
        return max(1, int(text or default))
    except ValueError:
        return default


async def _page(svc: WebServices, selection: Selection) -> ReportPage:
    key = (id(svc.db), selection.period.key, selection.unit, selection.cutoff.isoformat())
    cached = _cache.get(key)
    if cached is not None:
        _cache.move_to_end(key)
        return cached
    drill_url = f"/reports/{selection.period.key}/drill/{{key}}?{selection.query()}"
    page = await report_page(
        svc.db,
        svc.org,
        selection.period,
        selection.cutoff,
        unit=selection.unit,
        drill_url=drill_url,
        incident_url="/incidents/{id}",
        top_n=svc.settings.report_top_incidents,
        rule_titles=_rule_titles(svc.settings),
        inline_styles=False,
        subside=subside_rule(svc.settings),
    )
    _cache[key] = page
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return page


__all__ = ["download", "drill_page", "ledger_download", "report_css", "reports_page"]
