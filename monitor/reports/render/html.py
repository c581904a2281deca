"""The report as HTML: a self-contained zh-CN document (inline CSS and SVG, no external assets),
or a fragment the web UI mounts in its reports page (same markup, with drill-down links).

A page whose Content-Security-Policy forbids inline styles mounts the fragment with
`inline_styles=False`: no <style> element, charts with presentation attributes instead of
style attributes, and the rules served as a stylesheet (`stylesheet()`, templates/report.css)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import jinja2

from monitor.reports.build import Kind, Report, Table
from monitor.reports.render.cells import cell_text, local_minute
from monitor.reports.render.charts import attributes_only, drill_labels, link_drilldown, render_svg

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEFAULT_LIST_LIMIT = 200  # rows of a long list shown in HTML; CSV and XLSX carry them all
PREVIOUS = "prev:"  # drill key prefix: a figure of last month (the same key in last month's report)


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["cell"] = lambda value, kind: cell_text(value, kind, grouping=True)
    env.filters["minute"] = local_minute
    env.globals["NUMERIC"] = (Kind.ID, Kind.INT, Kind.PCT, Kind.HOURS)
    return env


def render_charts(report: Report) -> dict[str, str]:
    """chart key -> inline <svg> markup (ids unique within the page)."""
    return {chart.key: render_svg(chart, f"mr{i}-") for i, chart in enumerate(report.charts(), 1)}


def stylesheet() -> str:
    """The report's CSS (scoped to .mr-report), for pages that link it instead of inlining it."""
    return (TEMPLATES / "report.css").read_text(encoding="utf-8")


def render_fragment(
    report: Report,
    *,
    drill_url: str | None = None,
    list_limit: int = DEFAULT_LIST_LIMIT,
    charts: dict[str, str] | None = None,
    inline_styles: bool = True,
    incident_url: str | None = None,
) -> str:
    """The report body as one <div class="mr-report"> (styles included, scoped to it, unless
    `inline_styles=False`: then link `stylesheet()` and no style attribute or element is used).

    `drill_url` is a template with `{key}` (e.g. "/reports/2026-10/drill/{key}"): every figure that
    has incidents (or deadlines) behind it — headline tiles, table cells, chart bars — becomes a
    link to it; `report.drilldown[key]` lists them. A figure of last month links to the key
    `prev:<key>` (the page serving drill_url sends it on to last month's report at the same
    cut-off). `incident_url` ("/incidents/{id}") links the incident numbers of the lists.
    """
    svgs = charts if charts is not None else render_charts(report)
    if not inline_styles:
        svgs = {key: attributes_only(svg) for key, svg in svgs.items()}
    return _render(
        report,
        document=False,
        drill_url=drill_url,
        list_limit=list_limit,
        charts=svgs,
        inline_styles=inline_styles,
        incident_url=incident_url,
    )


def render_document(
    report: Report, *, list_limit: int = DEFAULT_LIST_LIMIT, charts: dict[str, str] | None = None
) -> str:
    """A complete, self-contained HTML document."""
    return _render(report, document=True, drill_url=None, list_limit=list_limit, charts=charts)


def _render(
    report: Report,
    *,
    document: bool,
    drill_url: str | None,
    list_limit: int,
    charts: dict[str, str] | None,
    inline_styles: bool = True,
    incident_url: str | None = None,
) -> str:
    template = _env().get_template("report.html")
    href = drill_href(report, drill_url)
    svgs = charts if charts is not None else render_charts(report)
    linked = {c.key: link_drilldown(svgs[c.key], href, drill_labels(c)) for c in report.charts() if c.key in svgs}
    html = template.render(
        report=report,
        charts=linked,
        href=href,
        incident_href=(lambda i: incident_url.replace("{id}", str(i))) if incident_url else None,
        list_limit=list_limit,
        shown=lambda table: _shown(table, list_limit),
        document=document,
        inline_styles=inline_styles,
    )
    return html.strip() + "\n"


def drill_href(report: Report, drill_url: str | None) -> Callable[[str], str | None]:
    """key -> the URL of the list behind a figure, or None when nothing is behind it (or no drill_url)."""

    def href(key: str) -> str | None:
        if drill_url is None or not (key in report.drilldown or key.startswith(PREVIOUS)):
            return None
        return drill_url.replace("{key}", quote(key, safe=""))

    return href


def _shown(table: Table, limit: int) -> int:
    return min(len(table.rows), limit) if table.long_list else len(table.rows)


def chart_drilldown(report: Report) -> dict[str, list[tuple[str, str | None]]]:
    """chart key -> [(category, drill-down key)], for making chart bars clickable in the web UI."""
    return {
        c.key: list(zip(c.categories, c.drill or (None,) * len(c.categories), strict=True)) for c in report.charts()
    }
