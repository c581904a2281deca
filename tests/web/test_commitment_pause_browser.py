"""Pausing ONE commitment in real headless Chromium: the 申请暂停计时 list names each commitment by its
text, the duty officer asks to pause 承诺 #2, a leader approves, and only #2's deadline moves; the
deadlines panel names each commitment by its own text."""

from __future__ import annotations

import pytest

from monitor.domain import EventKind
from monitor.domain import commands as c
from monitor.storage.repo.incidents import list_events

from .conftest import run_command
from .test_browser import _login, browser_page, shot
from .test_commitment_targets import RULE, _with_commitments

pytestmark = pytest.mark.browser
__all__ = ["browser_page"]
FORM = "#action-pause-requests"


async def test_a_duty_officer_pauses_one_commitment_and_only_its_deadline_moves(web_env, browser_page):
    page, problems = browser_page
    base = str(web_env.client.make_url("/")).rstrip("/")
    incident = await _with_commitments(web_env)
    await _login(page, base, f"/incidents/{incident}")
    one = page.locator(f'#obligations tr[data-rule="{RULE}"][data-instance="1"]')
    two = page.locator(f'#obligations tr[data-rule="{RULE}"][data-instance="2"]')
    assert "承诺 #1：完成塌陷路段修复（10-10 前）" in await one.inner_text()
    assert "承诺 #2：公布调查结果（10-20 前）" in await two.inner_text()

    await page.click(f"{FORM} summary")
    options = await page.locator(f'{FORM} select[name="rule_id"] option').all_inner_texts()
    assert any(o.startswith("承诺 #2：公布调查结果（10-20 前） · 截止 10-20 23:59") for o in options), options
    assert not any(o.startswith(RULE) for o in options)  # no single entry for all commitments
    await page.select_option(f'{FORM} select[name="rule_id"]', label=next(o for o in options if "承诺 #2" in o))
    await page.fill(f'{FORM} input[name="until"]', "2026-09-27T09:00")
    await page.fill(f'{FORM} textarea[name="reason"]', "等待第三方检测报告")
    await page.click(f"{FORM} button[type=submit]")
    await page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert (await page.inner_text("#flash")) == "已提交暂停申请，待另一人批准"
    await shot(page, "commitment-pause-01-requested")

    assert f"规则：{RULE} #2" in await page.inner_text("#timeline")  # the request names the commitment
    async with web_env.db.read() as conn:
        (request,) = [e for e in await list_events(conn, incident) if e.kind == EventKind.PAUSE_REQUESTED]
    assert request.payload["instance"] == 2
    await run_command(web_env, c.ApprovePause, incident, "leader", request_seq=request.seq)
    await page.reload()
    assert await two.get_attribute("data-status") == "paused"
    assert await one.get_attribute("data-status") == "open"
    assert "10-10 23:59" in await one.inner_text()  # #1's deadline is where it was
    assert "2026-10-23" in await two.inner_text()  # #2's moved by the three days paused
    assert f"规则：{RULE} #2" in await page.inner_text("#timeline")
    await shot(page, "commitment-pause-02-approved")
    assert problems == []
