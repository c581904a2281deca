"""超期 / 已升级 / 督办 in real headless Chromium: a duty officer who picks 超期 in the queue's status
filter finds the incident whose deadline passed (and not the one still in time), 已升级 finds it too
once its breach reached the leaders, and 政府办 催办s it from the incident page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain import EventLevel, OpinionLevel
from monitor.engine.runner import Engine

from .conftest import confirmed_incident
from .test_browser import _login, browser_page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser_page"]  # the Chromium fixture, shared with test_browser


async def test_filtering_overdue_finds_the_overdue_incident_and_gov_office_presses_it(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    late = await confirmed_incident(web_env, title="化工园区爆炸（5小时已过）")  # 重大: release due in 4 h
    web_env.clock.advance(timedelta(hours=3))
    in_time = await confirmed_incident(
        web_env, title="城北停水（时限未到）", event_level=EventLevel.III, opinion_level=OpinionLevel.L2
    )
    web_env.clock.advance(timedelta(hours=2))  # the 5-hour release of the first is now an hour late
    await Engine(web_env.services).tick()

    await _login(page, base, "/queue", username="duty")
    assert {"化工园区爆炸（5小时已过）", "城北停水（时限未到）"} <= set(
        await page.locator("#queue a").all_inner_texts()
    )
    await page.select_option('#filters select[name="status"]', "overdue")
    await page.click('#filters button[type="submit"]')
    await page.wait_for_url("**/queue?**status=overdue**")
    rows = page.locator("#queue tbody tr")
    assert await rows.count() == 1
    row = page.locator(f'tr[data-id="{late}"]')
    text = await row.inner_text()
    assert "化工园区爆炸（5小时已过）" in text and "超期 " in text and "已升级 " in text
    assert await page.locator(f'tr[data-id="{in_time}"]').count() == 0
    assert await page.locator('#filters select[name="status"]').input_value() == "overdue"  # the choice is kept
    await shot(page, "supervise-01-queue-overdue")
    await page.select_option('#filters select[name="status"]', "escalated")
    await page.click('#filters button[type="submit"]')
    await page.wait_for_url("**/queue?**status=escalated**")
    assert await page.locator("#queue tbody tr").count() == 1 and await row.count() == 1

    await page.context.clear_cookies()
    await _login(page, base, f"/incidents/{late}", username="gov")
    await page.click("#action-supervise summary")
    await page.select_option('#action-supervise select[name="level"]', "urge")
    await page.fill('#action-supervise textarea[name="reason"]', "5小时发布权威信息时限已过，请立即发布")
    await page.fill('#action-supervise input[name="by"]', "市政府办公室督查科 蒋文博")
    await page.click('#action-supervise button[type="submit"]')
    await page.wait_for_url(f"**/incidents/{late}#timeline")
    assert (await page.inner_text("#flash")).startswith("已催办，已通知「明湖市应急管理局」")
    facts = await page.inner_text("#facts")
    assert "督办中" in facts and "督办记录" in facts and "请立即发布" in facts
    await shot(page, "supervise-02-urged")
    assert [p for p in problems if "status of 400" not in p] == []
