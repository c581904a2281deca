"""Charts as inline SVG (matplotlib, object API, no pyplot state) with a bundled CJK font.

The font is Noto Sans SC (SIL OFL 1.1) from the `pylopdf-fonts-zh-cn` package, installed with
the project: nothing is downloaded at run time. Glyphs are written as SVG paths, so a chart
looks the same in every browser and mail client whether or not it has Chinese fonts; the text
stays available to screen readers and search through the <title>/<desc> of each chart and the
table beside it. Output is byte-for-byte reproducible (fixed hash salt, no date metadata).
"""

from __future__ import annotations

import functools
import io
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from xml.sax.saxutils import escape, unescape

from monitor.reports.build import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)
PRIMARY, SECONDARY, GRID = "#1f5fa8", "#d9822b", "#d0d7de"
_LOCK = threading.Lock()  # matplotlib's rcParams are process-wide
_STRIP = re.compile(r"<\?xml.*?\?>\s*|<!DOCTYPE.*?>\s*|<metadata>.*?</metadata>\s*", re.S)


class FontMissing(RuntimeError):
    """The bundled CJK font is not installed (reinstall the project: it is a dependency)."""


@functools.cache
def font_path() -> Path:
    try:
        import pylopdf_fonts_zh_cn
    except ImportError as exc:
        raise FontMissing("package pylopdf-fonts-zh-cn is missing; run `pip install -e .` again") from exc
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise FontMissing(f"font file {path} is missing; reinstall pylopdf-fonts-zh-cn")
    return path


@functools.cache
def _font_family() -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(str(font_path()))
    return str(font_manager.FontProperties(fname=str(font_path())).get_name())


@functools.cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def missing_glyphs(texts: Iterable[str]) -> set[str]:
    """Characters of `texts` the chart font cannot draw (they would show as boxes, 'tofu')."""
    cmap = _cmap()
    return {ch for text in texts for ch in text if not ch.isspace() and ord(ch) not in cmap}


def render_svg(chart: Chart, prefix: str) -> str:
    """The chart as an <svg> element for inline use; element ids start with `prefix`."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    missing = missing_glyphs(chart.labels())
    if missing:  # drawn as boxes; say which, so the org directory or the font can be fixed
        log.warning("chart %s: the font has no glyph for %s", chart.key, " ".join(sorted(missing)))
    with _LOCK, mpl.rc_context(cast(Any, _style(chart.key))):
        fig = Figure(figsize=_size(chart))
        fig.subplots_adjust(**_margins(chart))  # fixed margins: a constrained layout costs more than the drawing
        ax = fig.add_subplot()
        {"bar": _bar, "hbar": _hbar, "bar_line": _bar_line}[chart.kind](ax, chart)
        ax.set_title(chart.title, loc="left", fontsize=11)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buffer.getvalue(), chart, prefix)


def _style(salt: str) -> dict[str, object]:
    return {
        "svg.fonttype": "path",
        "svg.hashsalt": f"monitor-report-{salt}",
        "font.family": [_font_family()],
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#57606a",
        "axes.grid": True,
        "grid.color": GRID,
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "axes.unicode_minus": False,
    }


def _size(chart: Chart) -> tuple[float, float]:
    if chart.kind == "hbar":
        return (7.5, max(2.0, 0.9 + 0.28 * len(chart.categories)))
    return (8.0, 3.4)


def _margins(chart: Chart) -> dict[str, float]:
    width, height = _size(chart)
    top = 1 - 0.45 / height  # room for the title (and the legend beside it)
    bottom = 0.55 / height
    if chart.kind == "hbar":
        longest = max((len(c) for c in chart.categories), default=4)
        return {"left": min(0.5, (0.25 + 0.125 * longest) / width), "right": 0.97, "top": top, "bottom": bottom}
    return {"left": 0.7 / width, "right": 0.98, "top": top, "bottom": bottom}


def _bar(ax: Axes, chart: Chart) -> None:
    name, values = chart.series[0]
    positions = range(len(chart.categories))  # positions, not category strings: "1".."31" would read as numbers
    bars = ax.bar(positions, values, color=PRIMARY, label=name)
    ax.set_xticks(positions, chart.categories)
    _drill(chart, bars, ax.bar_label(bars, labels=value_labels(chart), fontsize=8, padding=2))
    _axes(ax, chart)


def _hbar(ax: Axes, chart: Chart) -> None:
    name, values = chart.series[0]
    positions = list(range(len(chart.categories)))[::-1]
    bars = ax.barh(positions, values, color=PRIMARY, label=name)
    _drill(chart, bars, ax.bar_label(bars, labels=value_labels(chart), fontsize=8, padding=2))
    ax.set_yticks(positions, chart.categories)
    ax.grid(axis="y", visible=False)
    if chart.percent:
        from matplotlib.ticker import PercentFormatter

        ax.set_xlim(0, 1.12)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    _axes(ax, chart)


def _bar_line(ax: Axes, chart: Chart) -> None:
    (bar_name, bars), (line_name, line) = chart.series[0], chart.series[1]
    positions = range(len(chart.categories))
    _drill(chart, ax.bar(positions, bars, color=PRIMARY, label=bar_name))
    ax.set_xticks(positions, chart.categories)
    ax.plot(positions, line, color=SECONDARY, linewidth=1.5, label=line_name, marker="o", markersize=3)
    if chart.line_drill:  # each point of the line links too: markers drawn as a collection, one link per point
        points = ax.scatter(positions, line, s=9, color=SECONDARY, zorder=3, linewidths=0)
        points.set_urls([DRILL_SCHEME + key if key else None for key in chart.line_drill])
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1.0), ncols=2, fontsize=8, frameon=False)
    _axes(ax, chart)


def value_labels(chart: Chart) -> list[str]:
    """The figure written on (or beside) each bar of the chart's first series."""
    values = chart.series[0][1]
    return [f"{v * 100:.1f}%" if chart.percent else f"{v:g}" for v in values]


def _drill(chart: Chart, *artists: Iterable[Any]) -> None:
    """Mark each bar (and its figure) with a placeholder link `drill:<key>`: `link_drilldown` turns it
    into a link to the incidents behind the bar (web UI) or removes it (standalone file, e-mail)."""
    if not chart.drill:
        return
    for group in artists:
        for artist, key in zip(group, chart.drill, strict=True):
            if key:
                artist.set_url(DRILL_SCHEME + key)


def _axes(ax: Axes, chart: Chart) -> None:
    from matplotlib.ticker import MaxNLocator

    if chart.x_label:
        ax.set_xlabel(chart.x_label)
    if chart.y_label:
        ax.set_ylabel(chart.y_label)
    if chart.kind != "hbar":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        # counts start at 0 (a month of zeros would otherwise get the axis -0.045 … 0.045)
        ax.set_ylim(0, value_axis_top(chart))


HEADROOM = 1.1  # the value axis reaches at least 10% above the tallest bar


def value_axis_top(chart: Chart) -> float:
    """The top of a count axis: the first whole-number tick at least 10% above the largest value, so
    the tallest bar (and the figure written on it) stays clear of the top; 1 for a month of zeros."""
    from matplotlib.ticker import MaxNLocator

    peak = max((v for _, values in chart.series for v in values), default=0.0)
    if peak <= 0:
        return 1.0
    ticks = MaxNLocator(integer=True).tick_values(0, peak * HEADROOM)
    return float(next(t for t in ticks if t >= peak * HEADROOM))


def _inline(svg: str, chart: Chart, prefix: str) -> str:
    svg = _STRIP.sub("", svg)
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', lambda m: f'{m.group(1)}="#{prefix}{m.group(2)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    size = re.search(r'<svg[^>]*?width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    if size:
        svg = svg.replace(f'width="{size.group(1)}pt" height="{size.group(2)}pt"', "", 1)
    width = size.group(1) if size else "576"
    head = (
        f'<svg role="img" aria-labelledby="{prefix}title {prefix}desc" class="chart" '
        f'style="max-width:{width}pt;width:100%;height:auto" '
    )
    svg = svg.replace("<svg ", head, 1)
    close = svg.index(">", svg.index("<svg")) + 1
    label = (
        f'<title id="{prefix}title">{escape(chart.title)}</title>'
        f'<desc id="{prefix}desc">{escape(chart.description)}</desc>'
    )
    return svg[:close] + label + svg[close:]


DRILL_SCHEME = "drill:"
_DRILL_LINK = re.compile(r'<a xlink:href="drill:([^"]*)"[^>]*>(.*?)</a>', re.S)  # matplotlib never nests <a>


def link_drilldown(svg: str, href: Callable[[str], str | None], labels: Mapping[str, str] | None = None) -> str:
    """Turn the chart's placeholder links into links to the incidents behind each bar.

    `href(key)` is the URL of a drill-down key, or None (no incidents behind it): then the bar is
    left unlinked, as every bar is with `href=lambda key: None` (a file or mail without the web UI).
    `labels[key]` names the link for screen readers ("3日：5")."""

    linked: set[str] = set()

    def link(m: re.Match[str]) -> str:
        key = unescape(m.group(1))
        url = href(key)
        if url is None:
            return m.group(2)
        if key in linked:  # the figure beside the bar: clickable too, but one link for keyboards and readers
            named = ' aria-hidden="true" tabindex="-1"'
        else:
            label = (labels or {}).get(key)
            named = f' aria-label="{_attr(label)}"' if label else ""
            linked.add(key)
        return f'<a href="{_attr(url)}" data-drill="{_attr(key)}"{named}>{m.group(2)}</a>'

    return _DRILL_LINK.sub(link, svg)


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def drill_labels(chart: Chart) -> dict[str, str]:
    """drill key -> "category：figure" for each bar (and each point of the line) of the chart."""
    labels = {
        key: f"{category}：{figure}"
        for key, category, figure in zip(chart.drill, chart.categories, value_labels(chart), strict=True)
        if key
    }
    if chart.line_drill:
        name, values = chart.series[1]
        for key, category, value in zip(chart.line_drill, chart.categories, values, strict=True):
            if key:
                labels[key] = f"{category} {name}：{value:g}"
    return labels


_STYLE_ELEMENT = re.compile(r"<style[^>]*>(.*?)</style>\s*", re.S)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
_ROOT_STYLE = re.compile(r'(<svg\b[^>]*?)\sstyle="[^"]*"')


def attributes_only(svg: str) -> str:
    """The same chart without style attributes or <style> elements, for pages whose CSP forbids
    inline styles: each declaration becomes the SVG presentation attribute of the same name
    (fill, stroke, stroke-width … are all presentation attributes); matplotlib's global
    `*{stroke-linejoin: round; stroke-linecap: butt}` goes onto the root, whence it is inherited.
    The root's sizing (max-width/width/height) is left to the stylesheet (svg.chart)."""
    rules = "".join(m.group(1) for m in _STYLE_ELEMENT.finditer(svg))
    svg = _STYLE_ELEMENT.sub("", svg)
    svg = _ROOT_STYLE.sub(r"\1", svg, count=1)
    svg = _STYLE_ATTRIBUTE.sub(lambda m: _as_attributes(m.group(1)), svg)
    inherited = re.search(r"\*\s*\{([^}]*)\}", rules)
    if inherited:
        svg = svg.replace("<svg ", "<svg" + _as_attributes(inherited.group(1)) + " ", 1)
    return svg


def _as_attributes(declarations: str) -> str:
    pairs = (d.split(":", 1) for d in declarations.split(";") if ":" in d)
    return "".join(f' {name.strip()}="{_attr(value.strip())}"' for name, value in pairs)
