"""从稿件手动立案 in real headless Chromium: from the items list the duty officer opens an item the
classifier judged 非政务, is told in Chinese that a reason is needed (the text kept), then opens the
incident with an impatient triple click — one incident, shown with who opened it and why — and the
items list links the item to it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitor.storage.schema import incidents

from .conftest import free_item
from .test_browser import _login, browser_page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser_page"]  # the Chromium fixture, shared with test_browser
REASON = "多名居民反映停水三天无人处理，涉及群众切身利益"


async def test_a_duty_officer_opens_an_incident_from_an_item_once(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    item = await free_item(web_env)
    await _login(page, base, "/items")
    cell = page.locator(f'td[data-item="{item}"]')
    await cell.get_by_text("立案 / 并入…").click()
    await page.wait_for_url(f"**/items/{item}#action-open")
    assert "非政务" in await page.inner_text(".facts")
    await page.fill('#action-open input[name="title"]', "滨河花园小区停水三天")
    await page.fill('#action-open textarea[name="reason"]', "   ")  # passes the browser's check, not ours
    await page.click('#action-open button[type="submit"]')
    await page.wait_for_selector("#action-open[open] .error")
    assert "「立案理由」为必填项" in await page.locator("#action-open").inner_text()
    assert await page.input_value('#action-open input[name="title"]') == "滨河花园小区停水三天"
    await shot(page, "items-01-open-needs-a-reason")

    await page.fill('#action-open textarea[name="reason"]', REASON)
    await page.select_option('#action-open select[name="event_type"]', "livelihood")
    # Three clicks 40 ms apart, as an impatient double click does.
    await page.locator('#action-open button[type="submit"]').evaluate(
        "b => { b.click(); setTimeout(() => b.click(), 40); setTimeout(() => b.click(), 80); }"
    )
    await page.wait_for_url("**/incidents/*#timeline")
    await page.wait_for_load_state("networkidle")
    async with web_env.db.read() as conn:
        ids = list((await conn.execute(select(incidents.c.id))).scalars())
    assert len(ids) == 1
    [iid] = ids
    assert (await page.inner_text("#flash")).startswith(f"已从稿件立案为事件 #{iid} 并确认，已交办给「明湖市水务局」")
    assert "滨河花园小区停水三天" in await page.inner_text("h1")
    timeline = await page.inner_text("#timeline")
    assert f"人工立案；理由：{REASON}" in timeline and "类别 非政务 → 民生诉求" in timeline
    assert "已交办" in await page.inner_text("#facts")
    await shot(page, "items-02-opened")

    await page.goto(base + "/items")
    link = page.locator(f'td[data-item="{item}"] a')
    assert await link.inner_text() == f"#{iid}" and await link.get_attribute("href") == f"/incidents/{iid}"
    assert [p for p in problems if "status of 400" not in p] == []
