"""市民来信 in real headless Chromium: the queue's 待定答复时限 badge, the one-click 15 working days."""

from __future__ import annotations

import pytest

from monitor.domain.citizen import COMPLAINT_RULE, PROMPT_TEXT

from .conftest import confirmed_incident
from .test_browser import _login, browser_page, shot  # noqa: F401 — browser_page is the fixture
from .test_citizen import H, _message

pytestmark = pytest.mark.browser


async def test_a_duty_officer_attaches_the_complaint_deadline_in_one_click(web_env, browser_page):  # noqa: F811
    page, problems = browser_page
    incident = await confirmed_incident(web_env, title="12345 反映路灯不亮")
    await _message(web_env, incident, "hotline_12345")
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, "/queue")
    row = page.locator(f'tr[data-id="{incident}"]')
    assert await row.locator(".citizen-pending").inner_text() == "待定答复时限"
    await row.locator("a").first.click()
    await page.wait_for_url(f"**/incidents/{incident}")
    assert await page.inner_text("#citizen-prompt h2") == PROMPT_TEXT
    await shot(page, "citizen-prompt")
    await page.click(f'#citizen-prompt button[data-rule="{COMPLAINT_RULE}"]')
    await page.wait_for_url(f"**/incidents/{incident}")
    assert await page.locator("#citizen-prompt").count() == 0
    assert "15个工作日内答复网民咨询投诉" in await page.inner_text("#flash")
    assert COMPLAINT_RULE in await page.inner_text("#obligations")
    published = web_env.clock.now() - 50 * H
    assert (await web_env.audit("incident.attach_rule"))[0].after["input"]["t0"] == published.isoformat()
    await page.goto(base + "/queue")
    assert await page.locator(f'tr[data-id="{incident}"] .citizen-pending').count() == 0
    assert problems == []
