"""承诺事项 in real headless Chromium: the duty officer records a response with its 发布人, 发布渠道 and
a commitment (a commitment line without a date is refused in Chinese, the text kept), sees the
commitment 待兑现 with its reminder deadline, then records its fulfilment with the public link."""

from __future__ import annotations

import pytest

from .conftest import confirmed_incident
from .test_browser import _login, browser_page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser_page"]  # the Chromium fixture, shared with test_browser
FORM = "#action-responses"


async def test_a_response_with_a_commitment_is_recorded_reminded_and_fulfilled(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    incident = await confirmed_incident(web_env, title="老城区道路塌陷")
    await _login(page, base, f"/incidents/{incident}")
    assert "回应中没有登记承诺事项" in await page.inner_text("#responses")

    await page.click(f"{FORM} summary")
    await page.select_option(f'{FORM} select[name="kind"]', "authoritative_release")
    await page.fill(f'{FORM} input[name="url"]', "https://www.minghu.gov.example/tb/2026-101")
    await page.fill(f'{FORM} input[name="approved_by"]', "马振华")
    await page.fill(f'{FORM} input[name="spokesperson"]', "市住建局新闻发言人 王强")
    await page.select_option(f'{FORM} select[name="channel"]', "gov_weibo")
    await page.fill(f'{FORM} textarea[name="commitments"]', "尽快完成塌陷路段修复")  # no due date
    await page.click(f"{FORM} button[type=submit]")
    await page.wait_for_selector(f"{FORM}[open] .error")
    error = await page.locator(FORM).inner_text()
    assert "「承诺事项」第1行「尽快完成塌陷路段修复」应以完成日期开头" in error
    assert await page.input_value(f'{FORM} input[name="spokesperson"]') == "市住建局新闻发言人 王强"  # input kept
    await shot(page, "commitments-01-needs-a-date")

    await page.fill(f'{FORM} textarea[name="commitments"]', "2026-10-10 完成塌陷路段修复")
    await page.click(f"{FORM} button[type=submit]")
    await page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert (await page.inner_text("#flash")) == "已登记发布权威信息，1 项承诺事项已列入承诺台账并按期提醒"
    row = page.locator("#responses tr.response").first
    assert "政务微博" in await row.inner_text() and "市住建局新闻发言人 王强" in await row.inner_text()
    commitment = page.locator('#responses tr.commitment[data-number="1"]')
    assert "完成塌陷路段修复" in await commitment.inner_text() and "待兑现" in await commitment.inner_text()
    deadline = page.locator('#obligations tr[data-rule="PRJ-COMMITMENT"]')
    assert (
        "承诺 #1：完成塌陷路段修复（10-10 前）" in await deadline.inner_text()
        and "2026-10-10 23:59" in await deadline.inner_text()
    )
    assert await deadline.get_attribute("data-status") == "open"
    timeline = await page.inner_text("#timeline")
    assert "发布人：市住建局新闻发言人 王强" in timeline and "渠道：政务微博" in timeline
    assert "承诺事项：完成塌陷路段修复（2026-10-10 前）" in timeline
    await shot(page, "commitments-02-recorded")

    await page.click("#action-commitment-fulfilments summary")
    await page.select_option('#action-commitment-fulfilments select[name="number"]', "1")
    await page.fill('#action-commitment-fulfilments input[name="disclosed_url"]', "https://www.minghu.gov.example/tb/9")
    await page.click("#action-commitment-fulfilments button[type=submit]")
    await page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert (await page.inner_text("#flash")) == "已登记承诺 #1 按期兑现，相关提醒停止"
    assert "按期兑现" in await page.locator('#responses tr.commitment[data-number="1"]').inner_text()
    assert await deadline.get_attribute("data-status") == "met"
    await shot(page, "commitments-03-fulfilled")
    assert [p for p in problems if "status of 400" not in p] == []
