"""The reports page: the monthly report with month and unit pickers, drill-down from figures to the
incidents behind them, downloads of the same report, CSP-clean markup, and who may see what."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import unescape
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from monitor.domain import UserRole
from tests.report_support import CUTOFF, seed

from .conftest import add_incident

DRILL = re.compile(r'<a href="(/reports/2026-10/drill/[^"]+)" data-drill="([^"]+)">([^<]+)</a>')


@pytest.fixture
async def october(web_env):
    """The hand-checked October of the report tests; the web's clock at the scheduled cut-off."""
    seeded = await seed(web_env.db)
    web_env.clock.advance(CUTOFF - web_env.clock.now())
    return seeded


def drill_links(html: str) -> dict[str, tuple[str, str]]:
    return {key: (unescape(href), figure) for href, key, figure in DRILL.findall(html)}


def chart_links(html: str, drawn: str = "path") -> list[tuple[str, str, str, str]]:
    """(chart key, drill key, category, figure) of every linked bar (`drawn="path"`) or line point
    (`drawn="g"`: a marker of a collection) in the report's SVG charts."""
    found = []
    for chart, svg in re.findall(r'<figure class="mr-chart" id="c-(\w+)">(.*?)</svg>', html, re.S):
        anchors = rf'<a href="[^"]+" data-drill="([^"]+)" aria-label="([^"]+)">\s*<{drawn}\b'
        for key, label in re.findall(anchors, svg):
            category, figure = unescape(label).rsplit("：", 1)
            found.append((chart, unescape(key), category, figure))
    return found


def drill_total(html: str) -> int:
    return int(re.search(r'<table id="drill-list" data-total="(\d+)"', html).group(1))


AT = "2026-11-01T00%3A00%3A00%2B00%3A00"
COUNT_COLUMNS = {  # the columns of the figure tables that count incidents or deadlines
    "overview": {"incidents", "requiring", "responded_required", "unanswered", "responded_optional", "due",
                 "met_on_time", "met_late", "breached", "paused", "pending"},
    **{f"by_{d}": {"incidents", "requiring", "responded_required", "unanswered", "responded_optional"}
       for d in ("event_level", "opinion_level", "category", "region", "unit")},
    "rules": {"due", "met_on_time", "met_late", "breached", "paused", "pending"},
    "ttr_by_unit": {"n"},
    "ttr_by_level": {"n"},
    "ranking": {"incidents", "requiring", "responded_required", "due", "met_on_time", "met_late", "breached"},
}  # fmt: skip


async def test_the_report_is_mounted_without_inline_styles_with_pickers_and_downloads(web_env, october):
    analyst = await web_env.login(UserRole.ANALYST)
    resp = await analyst.get("/reports/2026-10")
    html = await resp.text()
    assert resp.status == 200 and "明湖市政务舆情回应情况月报（2026年10月）" in html
    assert re.search(r'data-kpi="incidents"><a href="[^"]+" data-drill="incidents">5</a>', html)
    assert 'class="mr-report"' in html
    assert "<style" not in html and not re.search(r"\sstyle=", html)  # the CSP forbids both
    css = re.search(r'<link rel="stylesheet" href="(/reports/report\.css\?v=[0-9a-f]+)">', html)
    assert css is not None
    sheet = await analyst.get(css.group(1))
    assert sheet.status == 200 and sheet.content_type == "text/css" and ".mr-report th" in await sheet.text()
    assert '<option value="2026-10" selected>2026年10月</option>' in html and '<option value="">全市</option>' in html
    for fmt in ("xlsx", "csv", "json", "html"):
        assert f'/reports/2026-10/download/{fmt}?at=2026-11-01T00%3A00%3A00%2B00%3A00"' in html
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]


async def test_every_figure_drills_down_to_exactly_the_incidents_behind_it(web_env, october):
    leader = await web_env.login(UserRole.LEADER)
    links = drill_links(await (await leader.get("/reports?month=2026-10")).text())
    assert {"incidents", "ob:breached", "ob:breached:rule:GB61-RESPOND-48H"} <= set(links)
    href, figure = links["ob:breached"]
    page = await leader.get(href)
    html = await page.text()
    assert page.status == 200 and "时限要求：超期未履行：2 项" in html and figure == "2"
    assert drill_total(html) == 2 and 'data-kind="deadlines"' in html  # a deadline figure lists its deadlines
    assert {int(i) for i in re.findall(r'<tr data-id="(\d+)" data-deadline="\d+">', html)} == {
        october.ids["A"],
        october.ids["C"],
    }
    assert "48小时内予以回应" in html and "超期未履行" in html
    assert f'<a href="/incidents/{october.ids["C"]}">' in html
    back = re.search(r'<a href="([^"]+)">← 返回', html).group(1)
    assert unescape(back).startswith("/reports/2026-10?at=")
    incidents = await (await leader.get(links["responded"][0])).text()
    assert drill_total(incidents) == 2 and 'data-kind="incidents"' in incidents
    assert len(re.findall(r'<tr class="[^"]*" data-id="(\d+)">', incidents)) == 2


async def test_tiles_cells_and_chart_bars_all_lead_to_lists_as_long_as_their_figure(web_env, october):
    """Every figure that counts incidents or deadlines — the headline tiles, the table cells (this
    month's and last month's) and the bars of every chart — links to a list whose length is that figure."""
    leader = await web_env.login(UserRole.LEADER)
    html = await (await leader.get("/reports/2026-10")).text()
    contract = json.loads(await (await leader.get(f"/reports/2026-10/download/json?at={AT}")).text())

    tiles = dict(re.findall(r'data-kpi="(\w+)"><a href="[^"]+" data-drill="([^"]+)">', html))
    assert tiles == {"incidents": "incidents", "breached": "ob:breached"}

    unlinked = []  # count cells of the figure tables that are not links
    for key, body in re.findall(r'<table data-table="(\w+)"[^>]*>(.*?)</table>', html, re.S):
        if key not in COUNT_COLUMNS:
            continue
        for column, cell in re.findall(r'<td data-col="(\w+)" class="num">(.*?)</td>', body):
            if column in COUNT_COLUMNS[key] and cell not in ("0", "—") and "data-drill" not in cell:
                unlinked.append((key, column, cell))
    assert unlinked == []

    checked = 0
    for key, (href, figure) in drill_links(html).items():
        resp = await leader.get(href)
        assert resp.status == 200, key
        if key.startswith("prev:"):  # last month's figure: its list is in last month's report, same cut-off
            assert resp.url.path.startswith("/reports/2026-09/drill/"), key
        assert drill_total(await resp.text()) == int(figure.replace(",", "")), key
        checked += 1
    assert checked > 60 and {"prev:incidents", "prev:ob:due", "responded:unit:housing", "responded"} <= set(
        drill_links(html)
    )

    bars = chart_links(html)
    daily = [(key, figure) for chart, key, _, figure in bars if chart == "daily"]
    assert sum(int(f) for _, f in daily) == contract["incidents"] == 5  # every non-empty day is a bar link
    assert all(f != "0" for _, f in daily)
    ttr = {label: figure for chart, _, label, figure in bars if chart == "ttr_distribution"}
    assert sum(int(f) for f in ttr.values()) == contract["requiring_response"] + (
        contract["responded"] - contract["responded_required"]
    )
    timeliness = {key for chart, key, _, _ in bars if chart == "unit_timeliness"}
    assert timeliness == {
        f"ob:due:unit:{u}" for u, g in contract["units"].items() if g["due"] - g["pending"] - g["paused"]
    }
    points = chart_links(html, drawn="g")  # the daily chart's line: 其中已回应, per day
    assert {chart for chart, *_ in points} == {"daily"} and all(key.endswith(":responded") for _, key, _, _ in points)
    assert sum(int(f) for *_, f in points) == contract["responded"] == 2
    for chart, key, label, figure in bars + points:
        drilled = await (
            await leader.get(
                unescape(re.search(rf'<a href="([^"]+)" data-drill="{re.escape(key)}" aria', html).group(1))
            )
        ).text()
        if chart == "unit_timeliness":  # a rate: the bar leads to the unit's deadlines it is computed from
            unit = key.rsplit(":", 1)[1]
            assert drill_total(drilled) == contract["units"][unit]["due"], key
        else:
            assert drill_total(drilled) == int(figure), (chart, label)


async def test_a_drill_down_keeps_the_cut_off_of_the_page(web_env, october):
    analyst = await web_env.login(UserRole.ANALYST)
    href, figure = drill_links(await (await analyst.get("/reports/2026-10")).text())["incidents"]
    await add_incident(web_env.db, CUTOFF.replace(day=1, month=10), title="截止时间之后才录入的事件")
    web_env.clock.advance(3600)
    drilled = await (await analyst.get(href)).text()
    assert 'data-total="5"' in drilled and figure == "5" and "截止时间之后才录入的事件" not in drilled


async def test_downloads_are_the_same_report(web_env, october):
    analyst = await web_env.login(UserRole.ANALYST)
    at = "?at=2026-11-01T00%3A00%3A00%2B00%3A00"
    resp = await analyst.get(f"/reports/2026-10/download/json{at}")
    contract = json.loads(await resp.text())
    assert contract["incidents"] == 5 and contract["cutoff"] == "2026-11-01T08:00:00+08:00"
    disposition = resp.headers["Content-Disposition"]
    assert 'filename="report-2026-10.json"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "明湖市政务舆情回应情况月报（2026年10月）.json"
    xlsx = await analyst.get(f"/reports/2026-10/download/xlsx{at}")
    workbook = load_workbook(io.BytesIO(await xlsx.read()), read_only=True)
    assert workbook.sheetnames[0] == "说明" and len(workbook.sheetnames) > 10
    archive = zipfile.ZipFile(io.BytesIO(await (await analyst.get(f"/reports/2026-10/download/csv{at}")).read()))
    assert len(archive.namelist()) == len(contract["tables"]) and "report-2026-10-overview.csv" in archive.namelist()
    document = await (await analyst.get(f"/reports/2026-10/download/html{at}")).text()
    assert document.startswith("<!doctype html>") and "<style>" in document  # the standalone file keeps its CSS
    assert (await analyst.get(f"/reports/2026-10/download/pdf{at}")).status == 404


async def test_a_unit_report_and_bad_requests(web_env, october):
    analyst = await web_env.login(UserRole.ANALYST)
    html = await (await analyst.get("/reports/2026-10?unit=housing")).text()
    assert 'data-unit="housing"' in html and '<option value="housing" selected>' in html
    assert (await analyst.get("/reports/2026-10?unit=nowhere")).status == 404
    assert (await analyst.get("/reports/2026-13")).status == 404
    assert (await analyst.get("/reports/2026-12")).status == 404  # has not begun at the cut-off
    assert (await analyst.get("/reports/2026-10/drill/no-such-figure")).status == 404
    assert (await analyst.get("/reports/2026-10/drill/incidents?at=yesterday")).status == 400


async def test_only_report_readers_get_in(web_env, october):
    for role in (UserRole.UNIT_HANDLER, UserRole.DUTY_OFFICER):
        client = await web_env.login(role)
        for path in ("/reports/2026-10", "/reports/2026-10/drill/incidents", "/reports/2026-10/download/xlsx"):
            assert (await client.get(path, allow_redirects=False)).status == 403, (role, path)
    for role in (UserRole.ANALYST, UserRole.LEADER, UserRole.ADMIN):
        client = await web_env.login(role)
        assert (await client.get("/reports/2026-10/drill/incidents")).status == 200, role
