"""HTML, CSV, XLSX and JSON say the same thing, reproducibly, with Chinese that renders."""

import csv
import io
import json
import re
import warnings
import zipfile
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from monitor.policy import load_org
from monitor.reports.build import Chart, Kind, Period
from monitor.reports.render.cells import cell_text
from monitor.reports.render.charts import attributes_only, font_path, missing_glyphs, render_svg, value_axis_top
from monitor.reports.render.files import write_report
from monitor.reports.render.html import render_fragment
from monitor.reports.service import generate, names_from_org
from monitor.reports.web import report_months, report_page
from tests.conftest import REPO
from tests.report_support import CUTOFF, seed

ORG = REPO / "playbooks/org/demo-city.yaml"


class Tables(HTMLParser):
    """table key -> rows of cell texts, read from data-table / td."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell = {}, None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.current = self.tables.setdefault(a["data-table"], [])
        elif tag == "tr" and self.current is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.current.append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture
async def report(sqlite_db):
    await seed(sqlite_db)
    return await generate(sqlite_db, Period(2026, 10), CUTOFF, names_from_org(load_org(ORG)), drill=True)


def xlsx_text(value, kind):
    """An XLSX cell as the CSV would write it."""
    if value is None:
        return cell_text(None, kind)
    if kind == Kind.TIME:
        return value.strftime("%Y-%m-%d %H:%M")  # already the Beijing wall time
    return cell_text(value, kind)


async def test_html_csv_and_xlsx_figures_agree(report, tmp_path):
    files = write_report(report, tmp_path, ["html", "csv", "xlsx", "json"], list_limit=10_000)
    html = Tables()
    html.feed((tmp_path / "report-2026-10.html").read_text(encoding="utf-8"))
    workbook = load_workbook(tmp_path / "report-2026-10.xlsx")
    assert workbook.sheetnames[0] == "说明" and len(workbook.sheetnames) == len(report.tables()) + 1
    sheets = iter(workbook.sheetnames[1:])
    compared = 0
    for table in report.tables():
        kinds = [c.kind for c in table.columns]
        with (tmp_path / f"report-2026-10-{table.key}.csv").open(encoding="utf-8-sig", newline="") as handle:
            from_csv = list(csv.reader(handle))
        sheet = workbook[next(sheets)]
        from_xlsx = [[xlsx_text(v, k) for v, k in zip(row, kinds, strict=True)]
                     for row in sheet.iter_rows(min_row=2, values_only=True)]  # fmt: skip
        assert from_csv[0] == [c.header + ("（北京时间）" if c.kind == Kind.TIME else "") for c in table.columns]
        assert next(c.value for c in sheet[1]).startswith(table.columns[0].header)
        if not table.rows:
            assert table.key not in html.tables and from_xlsx == [] and from_csv[1:] == []
            continue
        from_html = [[cell.replace(",", "") if k in (Kind.INT,) else cell for cell, k in zip(row, kinds, strict=True)]
                     for row in html.tables[table.key][1:]]  # fmt: skip
        assert from_html == from_csv[1:] == from_xlsx, table.key
        compared += len(table.rows)
    assert compared > 40
    contract = json.loads((tmp_path / "report-2026-10.json").read_text(encoding="utf-8"))
    overview = dict(zip(html.tables["overview"][0], html.tables["overview"][1], strict=True))
    assert overview["舆情总数"] == str(contract["incidents"])
    assert overview["回应率"] == f"{contract['response_rate'] * 100:.1f}%"
    assert int(overview["需回应"]) == int(overview["其中已回应"]) + int(overview["需回应未回应"])
    assert overview["其中已回应"] == str(contract["responded_required"])
    assert contract["tables"]["rules"]["rows"][-1][0] == "合计"
    assert len(files) == 2 + len(report.tables()) + 1


async def test_the_same_data_give_the_same_bytes(sqlite_db, tmp_path):
    await seed(sqlite_db)
    names = names_from_org(load_org(ORG))
    outputs = []
    for run in ("one", "two"):
        report = await generate(sqlite_db, Period(2026, 10), CUTOFF, names)
        write_report(report, tmp_path / run, ["html", "xlsx", "json", "csv"])
        outputs.append({p.name: p.read_bytes() for p in sorted((tmp_path / run).iterdir())})
    assert outputs[0] == outputs[1]
    xlsx = zipfile.ZipFile(io.BytesIO(outputs[0]["report-2026-10.xlsx"]))
    core = xlsx.read("docProps/core.xml").decode()
    assert "2026-11-01T00:00:00Z" in core  # the cut-off (08:00 Beijing), not the time it was written
    assert {info.date_time for info in xlsx.infolist()} == {(2026, 11, 1, 8, 0, 0)}
    html = outputs[0]["report-2026-10.html"].decode()
    assert "数据截至：2026-11-01 08:00（北京时间）" in html


async def test_html_is_self_contained_and_zh_cn(report):
    from monitor.reports.render.html import render_document

    html = render_document(report)
    assert html.startswith("<!doctype html>") and '<html lang="zh-CN">' in html
    assert "<script" not in html and "<link" not in html and not re.search(r'\ssrc="', html)
    external = re.findall(r'(?:href|src)="(https?:[^"]+)"', html)
    assert external == []
    assert html.count("<svg") == len(report.charts()) == 3
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inline charts"
    # the bars' drill-down placeholders are gone from a file (no web UI behind it), the bars kept
    assert "drill:" not in html and "<a " not in html and "</a>" not in html
    assert html.count('fill="#1f5fa8"') + html.count("fill: #1f5fa8") >= 5


def test_the_bundled_font_draws_every_chinese_label(tmp_path):
    org = load_org(ORG)
    labels = [u.name for u in org.units.values()] + [p.name for p in org.people.values()]
    labels += ["各责任单位回应及时率", "首次回应时长分布", "≤1小时", "1–5小时", "48小时–7天", ">7天", "未回应",
               "2026年10月每日新增政务舆情", "新增舆情", "其中已回应", "起数", "日期", "回应及时率"]  # fmt: skip
    assert font_path().name == "NotoSansSC-Regular.otf"
    assert missing_glyphs(labels) == set()
    assert missing_glyphs(["𠀀"]) == {"𠀀"}  # the check itself can fail
    units = tuple(u.name for u in org.units.values())
    chart = Chart("units", "各责任单位回应及时率", "hbar", units, (("回应及时率", tuple(0.5 for _ in units)),),
                  x_label="回应及时率", percent=True, description="测试")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)" for tofu
        svg = render_svg(chart, "t-")
    glyphs = set(re.findall(r'<path id="t-NotoSansSC-Regular-([0-9a-f]+)"', svg))
    distinct = {ch for label in [*units, chart.title, chart.x_label] for ch in label if not ch.isspace()}
    assert len(glyphs) >= len({ch for ch in distinct if ord(ch) > 127}), "every Chinese character drawn as a path"
    assert '<title id="t-title">各责任单位回应及时率</title>' in svg
    assert "DejaVu" not in svg  # no fallback font was used


def test_charts_for_a_strict_csp_carry_the_same_styling_as_attributes():
    chart = Chart("ttr", "首次回应时长分布", "bar", ("≤1小时", "1–5小时"), (("起数", (3.0, 1.0)),), description="测试")
    svg = render_svg(chart, "c-")
    safe = attributes_only(svg)
    assert "style=" in svg and "<style" in svg  # matplotlib's own output
    assert "style=" not in safe and "<style" not in safe
    declared = sorted(re.findall(r"fill: (#[0-9a-f]{6})", svg))
    assert sorted(re.findall(r' fill="(#[0-9a-f]{6})"', safe)) == declared and "#1f5fa8" in declared
    assert safe.startswith('<svg stroke-linejoin="round" stroke-linecap="butt" role="img"')  # from *{…}, inherited
    assert safe.count("<path") == svg.count("<path")


async def test_long_lists_are_cut_in_html_only(report):
    html = render_fragment(report, list_limit=1)
    assert "共 3 条，此处显示前 1 条" in html  # the overdue list


async def test_the_web_page_links_figures_to_the_incidents_behind_them(sqlite_db):
    seeded = await seed(sqlite_db)
    page = await report_page(
        sqlite_db, load_org(ORG), Period(2026, 10), CUTOFF, drill_url="/reports/2026-10/drill/{key}"
    )
    assert page.html.startswith('<div class="mr-report"') and "<html" not in page.html
    keys = set(re.findall(r'data-drill="([^"]+)"', page.html))
    assert {"incidents", "responded", "ob:breached", "incidents:unit:housing"} <= keys
    previous = {k for k in keys if k.startswith("prev:")}  # the 上月 row links to last month's figures
    assert previous == {
        "prev:incidents", "prev:requiring", "prev:responded_required", "prev:ob:due", "prev:ob:met_late"
    }  # fmt: skip
    assert keys - previous <= set(page.drilldown)
    assert 'href="/reports/2026-10/drill/incidents%3Aunit%3Ahousing"' in page.html  # keys are URL-encoded
    assert len(page.incidents_behind("incidents")) == page.contract["incidents"] == 5
    assert page.incidents_behind("unanswered") == (seeded.ids["C"], seeded.ids["D"])
    assert len(page.incidents_behind("ob:breached")) == page.contract["obligations"]["breached"] == 2  # deadline ids
    assert page.chart_drilldown["daily"][2] == ("3", "day:3")
    assert page.incidents_behind("day:3") == (seeded.ids["A"],)
    months = await report_months(sqlite_db, CUTOFF)
    assert [m.key for m in months] == ["2026-11", "2026-10", "2026-09"]


async def test_the_workbook_has_a_sheet_per_table_chinese_headers_and_number_formats(report, tmp_path):
    from datetime import datetime

    [path] = write_report(report, tmp_path, ["xlsx"])
    workbook = load_workbook(path)  # not read-only: number formats are read too
    assert workbook.sheetnames == ["说明", *(t.title[:31] for t in report.tables())]
    notes = [row[1] for row in workbook["说明"].iter_rows(min_row=1, values_only=True) if len(row) > 1]
    assert any(line and line.startswith("统计周期：2026年10月") for line in notes)  # the 统计口径
    expected = {Kind.INT: "#,##0", Kind.PCT: "0.0%", Kind.HOURS: "0.0", Kind.TIME: "yyyy-mm-dd hh:mm", Kind.ID: "0"}
    seen = set()
    for table in report.tables():
        sheet = workbook[table.title[:31]]
        headers = [c.header + ("（北京时间）" if c.kind == Kind.TIME else "") for c in table.columns]
        assert [c.value for c in sheet[1]] == headers  # Chinese headers, in order; times say their zone
        assert sheet.freeze_panes == "A2"
        for r, row in enumerate(table.rows, 2):
            for c, (column, value) in enumerate(zip(table.columns, row, strict=True), 1):
                cell = sheet.cell(r, c)
                if value is None or column.kind == Kind.TEXT:
                    continue
                assert cell.number_format == expected[column.kind], (table.key, column.key)
                if column.kind == Kind.TIME:
                    assert isinstance(cell.value, datetime)  # a real date, in Beijing wall time
                else:
                    assert isinstance(cell.value, int | float) and cell.value == pytest.approx(value)
                seen.add(column.kind)
    assert seen == set(expected)
    overview = workbook["主要指标"]
    assert [overview.cell(2, c).value for c in (2, 6)] == [5, 0.5]  # 舆情总数 5, 回应率 50% as a fraction


def pure_report(*titles):
    """A report built without a database: one incident per title, detected in October 2026."""
    from dataclasses import replace

    from monitor.reports.build import Details, MonthAccumulator, Names, build_report
    from tests.test_reports_build import inc, sh

    acc = MonthAccumulator(Period(2026, 10), CUTOFF)
    acc.add_incidents([replace(inc(i, sh(10, i, 9), sh(10, i, 12)), title=t) for i, t in enumerate(titles, 1)])
    return build_report(acc, acc.summary(), Details(), Names(city="明湖市"))


def test_csv_text_that_excel_would_run_as_a_formula_stays_text(tmp_path):
    # Titles come from the web and from ledgers; Excel runs a CSV cell starting with = + - @ as a
    # formula (a link that calls out, or #NAME? instead of "@明湖发布 …" or "-5℃ 寒潮…").
    titles = (
        '=HYPERLINK("http://evil.example","点此")',
        "@明湖发布 城东停水通知",
        "-5℃寒潮来袭",
        "+86热线",
        "普通标题",
    )
    report = pure_report(*titles)
    write_report(report, tmp_path, ["csv", "xlsx"])
    with (tmp_path / "report-2026-10-top_incidents.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    title = rows[0].index("标题")
    assert sorted(r[title] for r in rows[1:]) == sorted(["'" + t for t in titles[:4]] + ["普通标题"])
    sheet = load_workbook(tmp_path / "report-2026-10.xlsx")["重点舆情"]
    assert sorted(sheet.cell(r, 2).value for r in range(2, 7)) == sorted(titles)  # XLSX: text cells, as written
    assert all(sheet.cell(r, 2).data_type == "s" for r in range(2, 7))


def test_csv_time_columns_say_they_are_beijing_time_as_the_workbook_does(tmp_path):
    report = pure_report("标题")
    write_report(report, tmp_path, ["csv"])
    with (tmp_path / "report-2026-10-top_incidents.csv").open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert "发现时间（北京时间）" in header and "首次回应时间（北京时间）" in header


def glyph_ids(svg, prefix):
    return set(re.findall(rf'<path id="{prefix}NotoSansSC-Regular-([0-9a-f]+)"', svg))


def glyph_id(ch):
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        return format(font.getGlyphID(font.getBestCmap()[ord(ch)]), "x")


@pytest.mark.parametrize("kind", ["bar", "bar_line"])
def test_a_chart_of_an_empty_month_counts_from_0_in_whole_numbers(kind):
    series = (("起数", (0.0, 0.0)),) + ((("其中已回应", (0.0, 0.0)),) if kind == "bar_line" else ())
    chart = Chart("c", "首次回应时长分布", kind, ("1", "2"), series, y_label="起数", description="测试")
    drawn = glyph_ids(render_svg(chart, "z-"), "z-")
    assert glyph_id("0") in drawn and glyph_id("1") in drawn  # the axis reads 0 … 1
    assert glyph_id("-") not in drawn and glyph_id(".") not in drawn  # not −0.045 … 0.045


@pytest.mark.parametrize("kind", ["bar", "bar_line"])
def test_the_tallest_bar_leaves_headroom_up_to_a_round_tick(kind):
    """A month whose busiest day had 7 incidents reads on an axis to 8 (a gridline above the bar, room
    for the figure on it), not one that stops at 7.35 with the bar touching the top."""
    series = (("新增舆情", (1.0, 3.0, 7.0, 2.0)),) + (
        (("其中已回应", (0.0, 1.0, 2.0, 1.0)),) if kind == "bar_line" else ()
    )
    chart = Chart("c", "每日新增", kind, ("1", "2", "3", "4"), series, y_label="起数", description="测试")
    drawn = glyph_ids(render_svg(chart, "h-"), "h-")
    assert glyph_id("8") in drawn and glyph_id("9") not in drawn
    for values in ((7.0,), (40.0, 3.0), (1.0,), (10.0,), (31.0,), (999.0,)):
        top = value_axis_top(Chart("c", "t", kind, ("1",) * len(values), (("n", values),)))
        assert 1.1 * max(values) <= top <= 2 * max(values), values
