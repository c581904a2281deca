"""The 舆情回应台账 download on the reports page: for 分析员 and 管理员 only, any range of days, as XLSX
or CSV, the same file `monitor export-ledger` writes; bad dates get a zh-CN page that says why."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from monitor.domain import UserRole
from tests.report_support import CUTOFF, seed

from .conftest import PASSWORD
from .test_browser import browser_page, shot  # noqa: F401  (fixture)


@pytest.fixture
async def october(web_env):
    seeded = await seed(web_env.db)
    web_env.clock.advance(CUTOFF - web_env.clock.now())
    return seeded


def ledger_form(html: str) -> str | None:
    found = re.search(r'<form method="get" action="/reports/ledger"[^>]*>(.*?)</form>', html, re.S)
    return found.group(1) if found else None


@pytest.mark.parametrize("role", [UserRole.ANALYST, UserRole.ADMIN])
async def test_analysts_and_admins_get_the_form_with_the_month_on_the_page(web_env, october, role):
    client = await web_env.login(role)
    html = await (await client.get("/reports/2026-10")).text()
    form = ledger_form(html)
    assert form is not None and "导出舆情回应台账" in form
    assert 'name="from" value="2026-10-01"' in form and 'name="to" value="2026-10-31"' in form
    assert '<option value="xlsx">Excel（XLSX）</option>' in form and '<option value="csv">' in form
    assert "含监测发现时间在所选日期内（北京时间，含首尾两日）的舆情" in html
    unit_page = await (await client.get("/reports/2026-10?unit=housing")).text()
    assert '<input type="hidden" name="unit" value="housing">' in ledger_form(unit_page)
    assert "（责任单位：明湖市住房和城乡建设局）" in unit_page


async def test_the_month_in_progress_defaults_to_the_days_so_far(web_env, october):
    analyst = await web_env.login(UserRole.ANALYST)
    form = ledger_form(await (await analyst.get("/reports/2026-11")).text())
    assert 'name="from" value="2026-11-01"' in form and 'name="to" value="2026-11-01"' in form


async def test_the_xlsx_download_is_the_ledger_of_those_days(web_env, october):
    analyst = await web_env.login(UserRole.ANALYST)
    resp = await analyst.get("/reports/ledger?from=2026-10-01&to=2026-10-31&format=xlsx")
    assert resp.status == 200
    assert resp.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = resp.headers["Content-Disposition"]
    assert 'filename="ledger-2026-10-01_2026-10-31.xlsx"' in disposition
    assert unquote(disposition.split("UTF-8''")[1]) == "舆情回应台账（2026-10-01至2026-10-31）.xlsx"
    assert resp.headers["Cache-Control"] == "no-store"
    wb = load_workbook(io.BytesIO(await resp.read()))
    ws = wb["舆情回应台账"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sorted(r["编号"] for r in rows) == sorted(october.ids[k] for k in "ABCDH")
    assert "首次回应时间（北京时间）" in header and "时限：48小时内予以回应" in header


async def test_the_csv_download_for_one_unit_opens_in_excel(web_env, october):
    admin = await web_env.login(UserRole.ADMIN)
    resp = await admin.get("/reports/ledger?from=2026-10-01&to=2026-10-31&format=csv&unit=housing")
    assert resp.status == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = await resp.read()
    assert body.startswith(b"\xef\xbb\xbf")
    shown = unquote(resp.headers["Content-Disposition"].split("UTF-8''")[1])
    assert shown == "舆情回应台账（明湖市住房和城乡建设局，2026-10-01至2026-10-31）.csv"
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [r["责任单位"] for r in rows] == ["明湖市住房和城乡建设局"] * 2


@pytest.mark.parametrize("role", [UserRole.LEADER, UserRole.DUTY_OFFICER, UserRole.UNIT_HANDLER])
async def test_other_roles_get_neither_the_form_nor_the_file(web_env, october, role):
    client = await web_env.login(role)
    page = await client.get("/reports/2026-10")
    if page.status == 200:
        assert ledger_form(await page.text()) is None
    resp = await client.get("/reports/ledger?from=2026-10-01&to=2026-10-31&format=csv")
    assert resp.status == 403 and "ledger-2026" not in resp.headers.get("Content-Disposition", "")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-10-31&to=2026-10-01", "截止日期 2026-10-01 早于起始日期 2026-10-31"),
        ("from=&to=2026-10-31", "起始日期「」不是有效日期，请按 年-月-日 填写"),
        ("from=2026-10-01&to=2026-10-31&format=pdf", "不支持的台账格式「pdf」"),
        ("from=2027-01-01&to=2027-01-31", "2027-01-01 至 2027-01-31 尚未开始"),
    ],
)
async def test_bad_dates_get_a_page_that_says_why(web_env, october, query, message):
    analyst = await web_env.login(UserRole.ANALYST)
    resp = await analyst.get(f"/reports/ledger?{query}")
    assert resp.status == 400 and message in unescape(await resp.text())


@pytest.mark.browser
async def test_an_analyst_downloads_the_ledger_in_the_browser(web_env, october, browser_page):  # noqa: F811
    """Real Chromium under the site's CSP: the form on the reports page gives the file, with the
    dates typed in; a range not yet begun shows why, in Chinese."""
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    await page.goto(base + "/reports/2026-10")
    await page.fill('input[name="username"]', "analyst")
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_selector("#ledger-export")
    await shot(page, "22-report-ledger-form")
    await page.fill('#ledger-export input[name="from"]', "2026-10-10")
    await page.select_option('#ledger-export select[name="format"]', "csv")
    async with page.expect_download() as download:
        await page.click("#ledger-export button")
    got = await download.value
    assert got.suggested_filename == "舆情回应台账（2026-10-10至2026-10-31）.csv"
    body = await asyncio.to_thread(Path(await got.path()).read_bytes)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [int(r["编号"]) for r in rows] == [october.ids[k] for k in "BCDH"]  # A (3 October) is before the 10th
    await page.fill('#ledger-export input[name="from"]', "2026-12-01")
    await page.fill('#ledger-export input[name="to"]', "2026-12-31")
    await page.click("#ledger-export button")
    await page.wait_for_selector("h1")
    assert "2026-12-01 至 2026-12-31 尚未开始" in await page.inner_text("h1")
    assert [p for p in problems if "status of 400" not in p] == [], problems  # the refused range's page is a 400
