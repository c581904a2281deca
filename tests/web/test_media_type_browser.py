"""媒体类型 in real headless Chromium: a new source shows its inferred type, the form sets one, the list says so."""

from __future__ import annotations

import pytest

from .test_browser import _login, browser_page, shot  # noqa: F401 — browser_page is the fixture

pytestmark = pytest.mark.browser


async def test_a_duty_officer_sees_the_inferred_type_and_sets_another_in_the_browser(web_env, browser_page):  # noqa: F811
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, "/sources/new")
    await page.fill('input[name="name"]', "明湖日报")
    await page.fill('input[name="url"]', "https://news.minghu.example/rss.xml")
    assert await page.input_value('select[name="media_type"]') == ""  # 自动推断 unless chosen
    await page.click('form.stack button[type="submit"]')
    await page.wait_for_url(lambda url: "/sources?saved=" in url)
    assert await page.inner_text(".media-type.inferred") == "纸媒（推断：按名称“日报”）"
    await page.click("text=编辑")
    await page.wait_for_url(lambda url: url.endswith("/edit"))
    assert "现为：纸媒（推断：按名称“日报”）" in await page.inner_text("form.stack")
    await page.select_option('select[name="media_type"]', label="微信")
    await page.click('form.stack button[type="submit"]')
    await page.wait_for_url(lambda url: "/sources?saved=" in url)
    assert await page.inner_text(".media-type") == "微信"
    assert await page.locator(".media-type.inferred").count() == 0
    await shot(page, "media-type-source-set")
    assert problems == []
