"""The reports page in real headless Chromium under the site's CSP (no inline styles): the report's
stylesheet and chart colours apply, no policy is violated, figures (tiles, cells, chart bars) drill
down to their lists and on to incident pages."""

from __future__ import annotations

import pytest

from tests.report_support import CUTOFF, seed

from .conftest import PASSWORD
from .test_browser import browser_page, shot  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
STYLE_OF = "([sel, prop]) => getComputedStyle(document.querySelector(sel))[prop]"


async def test_analyst_reads_the_report_and_drills_down_to_an_incident(web_env, browser_page):  # noqa: F811
    page, problems = browser_page
    seeded = await seed(web_env.db)
    web_env.clock.advance(CUTOFF - web_env.clock.now())
    base = str(web_env.client.make_url("/")).rstrip("/")
    await page.goto(base + "/reports/2026-10")
    await page.fill('input[name="username"]', "analyst")
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url("**/reports/2026-10")
    await page.wait_for_selector(".mr-report svg.chart")
    # the stylesheet (not inline CSS) styles the report, and the charts keep their colours as attributes
    assert await page.evaluate(STYLE_OF, [".mr-report th", "backgroundColor"]) == "rgb(246, 248, 250)"
    assert await page.evaluate(STYLE_OF, [".mr-report .mr-kpi b", "color"]) == "rgb(31, 95, 168)"
    bar = '.mr-report svg.chart path[fill="#1f5fa8"]'
    assert await page.locator(bar).count() > 0
    assert await page.evaluate(STYLE_OF, [bar, "fill"]) == "rgb(31, 95, 168)"
    width = await page.evaluate("() => document.querySelector('.mr-report svg.chart').getBoundingClientRect().width")
    assert 300 < width <= 1100  # scaled by the stylesheet, not drawn at its natural pixel size
    await shot(page, "20-report-october")

    await page.click('.mr-kpi a[data-drill="ob:breached"]')  # the headline tile
    await page.wait_for_selector("#drill-list")
    assert "时限要求：超期未履行：2 项" in await page.inner_text("h1")
    assert await page.locator("#drill-list tbody tr[data-deadline]").count() == 2
    await shot(page, "21-report-drill-breached")
    await page.click(f'#drill-list tr[data-id="{seeded.ids["C"]}"] a')
    await page.wait_for_url(f"**/incidents/{seeded.ids['C']}")
    await page.go_back()
    await page.click("text=← 返回")
    await page.wait_for_selector(".mr-report")
    # a bar of the time-to-response chart is a link too: a real click on the drawn bar follows it
    bar_link = page.locator('#c-ttr_distribution svg a[data-drill="ttr:5–24小时"][aria-label]')
    assert await bar_link.get_attribute("aria-label") == "5–24小时：2"
    await bar_link.locator("path").first.click()
    await page.wait_for_selector("#drill-list")
    assert "首次回应时长 5–24小时：2 起" in await page.inner_text("h1")
    assert await page.locator("#drill-list tbody tr[data-id]").count() == 2
    assert problems == [], problems  # no script errors and no CSP violations (Chromium reports them as errors)
