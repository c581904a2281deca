"""End to end in real headless Chromium (Playwright driving the system browser, no downloads):
log in, watch an incident arrive live, watch its countdown tick, add a note. Screenshots go to
test-artifacts/ (gitignored; CI keeps them as artefacts)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.domain import OpinionLevel

from .conftest import PASSWORD, add_incident

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("MONITOR_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture
async def browser_page(tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
    executable = chromium_path()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Chromium (apt-get install -y chromium)")
        pytest.skip("Chromium not found at /usr/bin/chromium (install it: apt-get install -y chromium)")
    async with playwright_api.async_playwright() as p:
        context = await p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1400, "height": 900},
        )
        page = context.pages[0] if context.pages else await context.new_page()
        problems: list[str] = []
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        try:
            yield page, problems
        finally:
            await context.close()


async def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def test_duty_officer_sees_an_incident_arrive_watches_the_countdown_and_adds_a_note(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    await page.goto(base + "/queue")
    assert "/login" in page.url
    await page.fill('input[name="username"]', "duty")
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url("**/queue")
    await page.wait_for_selector('#live[data-state="online"]')
    await shot(page, "01-queue-empty")

    incident = await add_incident(
        web_env.db,
        web_env.clock.now(),
        title="东港化工园区爆炸（实时到达）",
        opinion_level=OpinionLevel.L1,
        due_in=timedelta(hours=4, minutes=30),
    )
    web_env.services.changes.notify_changed([incident])
    row = page.locator(f'tr[data-id="{incident}"]')
    await row.wait_for()
    assert "东港化工园区爆炸（实时到达）" in await row.inner_text()
    assert "红" in await row.locator(".badge").first.inner_text()
    assert await page.inner_text("#total") == "1" and await page.inner_text('[data-level-count="L1"]') == "1"
    await shot(page, "02-queue-incident-arrived")

    countdown = row.locator(".countdown")
    first = await countdown.inner_text()
    assert first.startswith("剩余 4小时")
    await page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).textContent !== before",
        arg=[f'tr[data-id="{incident}"] .countdown', first],
    )
    assert (await countdown.inner_text()).startswith("剩余 4小时")
    await shot(page, "03-countdown-ticking")

    await row.locator("a").first.click()
    await page.wait_for_url(f"**/incidents/{incident}")
    await page.click("#action-notes summary")
    await page.fill('#action-notes textarea[name="text"]', "已电话通知应急管理局值班室核实")
    await page.click('#action-notes button[type="submit"]')
    await page.wait_for_url(f"**/incidents/{incident}?done=notes#timeline")
    assert "已电话通知应急管理局值班室核实" in await page.locator("#timeline").inner_text()
    assert "「添加备注」已完成" in await page.content()
    await shot(page, "04-note-added")
    assert problems == [], problems  # no script errors, no CSP violations


async def test_validation_error_keeps_the_text_in_the_browser(web_env, browser_page):
    page, problems = browser_page
    incident = await add_incident(web_env.db, web_env.clock.now())
    base = str(web_env.client.make_url("/")).rstrip("/")
    await page.goto(base + f"/login?next=/incidents/{incident}")
    await page.fill('input[name="username"]', "duty")
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url(f"**/incidents/{incident}")
    await page.click("#action-regrade summary")
    await page.fill('#action-regrade textarea[name="reason"]', "央视报道后热度上升")
    await page.click('#action-regrade button[type="submit"]')
    await page.wait_for_selector("#action-regrade[open] .error")
    assert "至少选择一项" in await page.locator("#action-regrade").inner_text()
    assert await page.input_value('#action-regrade textarea[name="reason"]') == "央视报道后热度上升"
    await shot(page, "05-validation-error")
    assert [p for p in problems if "status of 400" not in p] == []  # the re-rendered form is answered with 400
