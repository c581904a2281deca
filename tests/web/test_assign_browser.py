"""认领 / 退回 / 改派 in real headless Chromium: the unit handler returns an incident (a blank reason is
refused in Chinese, the text kept), the duty officer's queue shows it 退回待改派 with the reason, the
duty officer 改派s it, and the new unit's 认领 reaches the duty officer's open page without a reload."""

from __future__ import annotations

import pytest

from monitor.domain import IncidentStatus
from monitor.domain import commands as c
from monitor.storage.repo.incidents import get_incident

from .conftest import confirmed_incident, run_command
from .test_browser import _login, browser_page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser_page"]  # the Chromium fixture, shared with test_browser
REASON = "停水系供水管网爆管，应由水务局处置"


async def test_a_unit_returns_an_incident_and_the_duty_officer_sees_it_live_and_reassigns(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    incident = await confirmed_incident(web_env, owner_unit="housing", title="城南小区停水两天")
    await _login(page, base, f"/incidents/{incident}", username="unit")
    assert "待责任单位认领" in await page.inner_text("#facts")
    await page.click("#action-return summary")
    await page.fill('#action-return textarea[name="reason"]', "   ")  # passes the browser's check, not ours
    await page.click('#action-return button[type="submit"]')
    await page.wait_for_selector("#action-return[open] .error")
    assert "「退回理由」为必填项" in await page.locator("#action-return").inner_text()
    await shot(page, "assign-01-return-needs-a-reason")
    await page.fill('#action-return textarea[name="reason"]', REASON)
    await page.click('#action-return button[type="submit"]')
    await page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert (await page.inner_text("#flash")).startswith("已退回，已提醒值班员改派")
    facts = await page.inner_text("#facts")
    assert "退回待改派" in facts and REASON in facts
    assert f"退回，待值班员改派；退回理由：{REASON}" in await page.inner_text("#timeline")
    await shot(page, "assign-02-returned")

    await page.context.clear_cookies()  # the unit handler is done: the duty officer signs in
    duty_page = await page.context.new_page()
    duty_page.on("pageerror", lambda exc: problems.append(str(exc)))
    await _login(duty_page, base, "/queue?status=reassigned", username="duty")
    await duty_page.wait_for_selector('#live[data-state="online"]')
    row = duty_page.locator(f'tr[data-id="{incident}"]')
    assert "退回待改派" in await row.inner_text() and f"理由：{REASON}" in await row.inner_text()
    await shot(duty_page, "assign-03-duty-queue-returned")

    await duty_page.goto(base + f"/incidents/{incident}")
    await duty_page.click("#action-reassign summary")
    await duty_page.select_option('#action-reassign select[name="owner_unit"]', "water")
    await duty_page.fill('#action-reassign textarea[name="reason"]', "同意退回理由")
    await duty_page.click('#action-reassign button[type="submit"]')
    await duty_page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert (await duty_page.inner_text("#flash")).startswith("已改派并交办给「明湖市水务局」")
    facts = await duty_page.inner_text("#facts")
    assert "已交办" in facts and "明湖市水务局" in facts and "待责任单位认领" in facts
    assert "交办给 明湖市水务局（改派自 明湖市住房和城乡建设局；原因：同意退回理由）" in await duty_page.inner_text(
        "#timeline"
    )
    await shot(duty_page, "assign-04-reassigned")

    # The water bureau accepts (recorded elsewhere); the duty officer's open page follows without a reload.
    await duty_page.evaluate("window.__notReloaded = true")
    await run_command(web_env, c.Accept, incident, "water_handler", units=("water",))
    web_env.services.changes.notify_changed([incident])
    await duty_page.locator("#facts").get_by_text("处置中", exact=True).wait_for()
    assert "待责任单位认领" not in await duty_page.inner_text("#facts")
    assert await duty_page.evaluate("window.__notReloaded === true")
    async with web_env.db.read() as conn:
        inc = await get_incident(conn, incident)
    assert inc.status == IncidentStatus.HANDLING and inc.accepted_at is not None
    await shot(duty_page, "assign-05-accepted-live")
    assert [p for p in problems if "status of 400" not in p] == []
