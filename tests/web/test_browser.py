"""End to end in real headless Chromium (Playwright driving the system browser, no downloads):
log in, watch an incident arrive live, acknowledge its alerts, record a response in another tab and
watch the obligation's countdown stop without a reload. Screenshots go to test-artifacts/
(gitignored; CI keeps them as artefacts)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.domain import EventKind
from monitor.domain import commands as c
from monitor.storage.repo.incidents import list_events

from .conftest import PASSWORD, add_incident, add_item_with_evidence, confirmed_incident, run_command

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
RELEASE = "GB80-AUTH-RELEASE-5H"
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
            timeout=100_000,  # ms; Chromium starts in seconds, more on a loaded machine
        )
        # Actions and waits end when their condition holds; the bound (Playwright's default is
        # 30 s) only ends a stuck test, so it is set far from what a loaded machine needs.
        context.set_default_timeout(100_000)
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


async def _login(page, base: str, next_path: str = "/queue", username: str = "duty") -> None:
    await page.goto(base + next_path)
    assert "/login" in page.url
    await page.fill('input[name="username"]', username)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button[type="submit"]')
    await page.wait_for_url("**" + next_path)


async def test_duty_officer_sees_an_incident_arrive_acknowledges_responds_and_the_countdown_stops(
    web_env, browser_page
):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base)
    await page.wait_for_selector('#live[data-state="online"]')
    await shot(page, "01-queue-empty")

    # An incident arrives: detected, confirmed by the clock engine (obligations planned), announced.
    incident = await confirmed_incident(web_env, title="东港化工园区爆炸（实时到达）", detected_ago=timedelta(0))
    web_env.services.changes.notify_changed([incident])
    row = page.locator(f'tr[data-id="{incident}"]')
    await row.wait_for()
    assert "东港化工园区爆炸（实时到达）" in await row.inner_text() and "电话报告" in await row.inner_text()
    assert "红" in await row.locator(".badge").first.inner_text()
    assert await page.inner_text("#total") == "1" and await page.inner_text('[data-level-count="L1"]') == "1"
    countdown = row.locator(".countdown")
    first = await countdown.inner_text()
    assert first.startswith(("剩余 30分", "剩余 29分"))  # the 30-minute phone report
    await page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).textContent !== before",
        arg=[f'tr[data-id="{incident}"] .countdown', first],
    )
    await shot(page, "02-queue-incident-arrived")

    # Acknowledge the alerts the confirmation raised (a real POST form with its CSRF token).
    await row.locator("a").first.click()
    await page.wait_for_url(f"**/incidents/{incident}")
    assert await page.locator("#timeline").get_by_text("升级提醒/督办").count() >= 1
    await page.click("#action-acknowledge summary")
    await page.click('#action-acknowledge button[type="submit"]')
    await page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert await page.inner_text("#flash") == "已确认收到提醒"
    assert "确认收到提醒" in await page.locator("#timeline").inner_text()
    await shot(page, "03-alert-acknowledged")

    # This tab stays open; the response is recorded in a second tab.
    release = f'#obligations tr[data-rule="{RELEASE}"]'
    assert await page.get_attribute(release, "data-status") == "open"
    assert await page.locator(f"{release} .countdown").count() == 1
    await page.evaluate("window.__notReloaded = true")
    other = await page.context.new_page()
    other.on("pageerror", lambda exc: problems.append(str(exc)))
    await other.goto(base + f"/incidents/{incident}")
    await other.click("#action-responses summary")
    await other.select_option('#action-responses select[name="kind"]', "authoritative_release")
    await other.fill('#action-responses input[name="url"]', "https://www.minghu.gov.example/tb/2026-001")
    await other.fill('#action-responses input[name="approved_by"]', "马振华")
    await other.click('#action-responses button[type="submit"]')
    await other.wait_for_url(f"**/incidents/{incident}#timeline")
    assert await other.inner_text("#flash") == "已登记发布权威信息"
    await shot(other, "04-response-recorded")

    # The first tab's obligation row turns 按时履行 and its countdown stops, without a reload.
    await page.wait_for_selector(f'{release}[data-status="met"]')
    assert "按时履行" in await page.inner_text(f"{release} .ob-status")
    assert await page.locator(f"{release} .countdown").count() == 0
    assert "履行于" in await page.inner_text(release)
    assert await page.evaluate("window.__notReloaded === true")
    assert not await page.is_hidden("#changed")
    await shot(page, "05-countdown-stopped-live")
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
    await shot(page, "06-validation-error")
    assert [p for p in problems if "status of 400" not in p] == []  # the re-rendered form is answered with 400


async def test_leader_view_updates_live_and_acknowledges_in_one_click(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, "/leader?hours=6", username="leader")
    await page.wait_for_selector('#live[data-state="online"]')
    assert "没有到期的时限要求" in await page.inner_text("#leader")
    await page.evaluate("window.__notReloaded = true")

    # A new incident is confirmed elsewhere: its deadlines appear without a reload, ticking.
    incident = await confirmed_incident(web_env, title="北湖镇堤坝管涌（领导视图）", detected_ago=timedelta(0))
    web_env.services.changes.notify_changed([incident])
    release = f'#leader tr[data-incident="{incident}"][data-rule="{RELEASE}"]'
    await page.wait_for_selector(release)
    assert "北湖镇堤坝管涌（领导视图）" in await page.inner_text(release)
    assert await page.evaluate("window.__notReloaded === true")
    phone = f'#leader tr[data-incident="{incident}"][data-rule="YJB2015-PHONE-30MIN"]'
    first = await page.locator(f"{phone} .countdown").inner_text()
    assert first.startswith(("剩余 30分", "剩余 29分"))
    await page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).textContent !== before",
        arg=[f"{phone} .countdown", first],
    )
    await shot(page, "07-leader-live-arrived")

    # Someone else acknowledges the phone report: shown here live.
    await run_command(web_env, c.Acknowledge, incident, "duty", rule_id="YJB2015-PHONE-30MIN")
    web_env.services.changes.notify_changed([incident])
    await page.wait_for_selector(f'{phone}[data-acked="duty"]')
    assert await page.evaluate("window.__notReloaded === true")

    # One click on a swapped-in row acknowledges and comes back to the same view.
    await page.click(f"{release} button[type=submit]")
    await page.wait_for_url("**/leader?hours=6")
    assert await page.inner_text("#flash") == "已确认收到提醒"
    await page.wait_for_selector(f'{release}[data-acked="leader"]')
    assert "leader 已于" in await page.inner_text(release)
    await page.wait_for_selector('#live[data-state="online"]')
    await shot(page, "08-leader-acknowledged")
    assert problems == [], problems


async def test_admin_adds_a_person_in_the_browser_after_a_named_error(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, "/org", username="admin")
    await page.click("text=添加人员")
    await page.wait_for_url("**/org/people/new")
    await page.fill('input[name="id"]', "sun_li")
    await page.fill('input[name="name"]', "孙丽")
    await page.fill('input[name="title"]', "应急管理局值班科科长")
    await page.fill('input[name="mobile"]', "1390000")  # too short
    await page.select_option('select[name="role_0"]', "liaison")
    await page.select_option('select[name="unit_0"]', "emergency")
    await page.select_option('select[name="channel_0"]', "dingtalk")
    await page.click('#person-form button[type="submit"]')
    await page.wait_for_selector('[data-field="mobile"]')
    assert "「手机」应为 11 位数字" in await page.inner_text('[data-field="mobile"]')
    assert await page.input_value('input[name="title"]') == "应急管理局值班科科长"  # kept
    await shot(page, "09-org-person-error")
    await page.fill('input[name="mobile"]', "13900000999")
    await page.click('#person-form button[type="submit"]')
    await page.wait_for_url("**/org#person-sun_li")
    assert await page.inner_text("#flash") == "已保存人员「孙丽」"
    row = await page.inner_text("#person-sun_li")
    assert "孙丽" in row and "联络员 · 明湖市应急管理局" in row and "网页修改：admin" in row
    assert "sun_li" in web_env.services.org.people
    await shot(page, "10-org-person-saved")
    assert [p for p in problems if "status of 400" not in p] == []


async def test_a_second_click_while_the_form_is_on_its_way_records_the_action_once(web_env, browser_page):
    page, problems = browser_page
    incident = await add_incident(web_env.db, web_env.clock.now())
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, f"/incidents/{incident}")
    await page.click("#action-notes summary")
    await page.fill('#action-notes textarea[name="text"]', "已电话通知应急局")
    # Three clicks 40 ms apart, as an impatient double click or a click during a slow upload does.
    await page.locator('#action-notes button[type="submit"]').evaluate(
        "b => { b.click(); setTimeout(() => b.click(), 40); setTimeout(() => b.click(), 80); }"
    )
    await page.wait_for_selector("#flash")
    await page.wait_for_load_state("networkidle")
    async with web_env.db.read() as conn:
        notes = [e for e in await list_events(conn, incident) if e.kind == EventKind.NOTE_ADDED]
    assert [e.payload["text"] for e in notes] == ["已电话通知应急局"]

    # Back in the browser history the form is usable again.
    await page.go_back()
    await page.wait_for_url(f"**/incidents/{incident}")
    assert await page.locator("#action-notes form[data-submitting]").count() == 0
    assert problems == [], problems


async def test_on_a_phone_wide_tables_scroll_in_their_box_and_the_page_does_not(web_env, browser_page):
    page, problems = browser_page
    await page.set_viewport_size({"width": 390, "height": 800})
    incident = await confirmed_incident(web_env, title="东港化工园区一企业爆炸致10人死亡 周边约1200名群众已疏散")
    await add_item_with_evidence(web_env.db, web_env.clock.now(), incident, body=b"<rss/>")
    note = "通报链接 https://fabu.minghu.gov.example/tongbao/2026/09/24/d001-dongang-chemical-park-explosion.html"
    await run_command(web_env, c.AddNote, incident, "duty", text=note)
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, "/queue", username="admin")
    for path in ("/queue", f"/incidents/{incident}", "/leader", "/org", "/sources"):
        await page.goto(base + path)
        widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], (path, widths)
        for link in await page.locator(".topbar nav a").all():  # 事件队列, not 事件队 / 列
            assert (await link.bounding_box())["height"] < 30, (path, await link.inner_text())
    await page.goto(base + "/queue")
    title = await page.locator(f'tr[data-id="{incident}"] td').nth(1).bounding_box()
    assert title["width"] >= 180  # a readable title, not three characters a line
    await shot(page, "12-queue-on-a-phone")
    assert problems == [], problems


CONTRAST_JS = """els => els.map(el => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const channel = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = c => { const [r, g, b] = c.map(channel); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  let bg = el, back = "rgba(0, 0, 0, 0)";
  while (bg && (back = getComputedStyle(bg).backgroundColor) === "rgba(0, 0, 0, 0)") { bg = bg.parentElement; }
  const fore = lum(rgb(getComputedStyle(el).color)), behind = lum(rgb(bg ? back : "rgb(255, 255, 255)"));
  const [a, b] = [fore, behind].sort((x, y) => y - x);
  return [el.textContent.trim(), Math.round((a + 0.05) / (b + 0.05) * 100) / 100];
})"""


async def test_level_badges_and_countdowns_are_readable_against_their_background(web_env, browser_page):
    """WCAG AA asks 4.5:1 for text this size: the 橙 badge and the 剩余 … countdown of a deadline
    within the hour were orange on white / white on orange (3.2:1)."""
    from monitor.domain import OpinionLevel

    page, problems = browser_page
    now = web_env.clock.now()
    for level, due in zip(OpinionLevel, (-20, 30, 90, 600), strict=True):  # overdue, soon, ok, ok
        await add_incident(
            web_env.db, now, title=f"级别{level.value}", opinion_level=level, due_in=timedelta(minutes=due)
        )
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base)
    ratios = await page.locator("table.queue .badge, table.queue .countdown, .counts .badge").evaluate_all(CONTRAST_JS)
    assert {text[:2] for text, _ in ratios} >= {"红", "橙", "黄", "蓝", "已超", "剩余"}
    assert [(text, ratio) for text, ratio in ratios if ratio < 4.5] == []
    assert problems == [], problems


UNNAMED_CONTROLS_JS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(e => !(e.labels && e.labels.length && e.labels[0].textContent.trim()) && !e.getAttribute('aria-label')
               && !e.getAttribute('title') && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 100))"""


async def test_every_form_control_has_a_name_a_screen_reader_can_read(web_env, browser_page):
    page, problems = browser_page
    incident = await confirmed_incident(web_env)
    base = str(web_env.client.make_url("/")).rstrip("/")
    await _login(page, base, "/queue", username="admin")
    for path in ("/queue", f"/incidents/{incident}", "/leader", "/org/people/new", "/org/users/new", "/sources/new"):
        await page.goto(base + path)
        assert await page.evaluate(UNNAMED_CONTROLS_JS) == [], path
    assert problems == [], problems
