"""效果评估 in real headless Chromium: the analyst opens a responded incident, finds 平息时间 prefilled
from the item volume with the reason, gets a Chinese refusal (input kept) for a 平息时间 before the
incident was detected, corrects it and sees the evaluation on the incident page and its timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.domain import EventKind, IncidentStatus
from monitor.domain import commands as c
from monitor.domain.evaluation import Satisfaction
from monitor.storage.repo.evaluation import evaluations_for
from monitor.storage.repo.incidents import attach_items, get_incident, list_events
from monitor.storage.repo.items import insert_items

from .conftest import confirmed_incident, run_command
from .test_browser import _login, browser_page, shot

pytestmark = pytest.mark.browser
__all__ = ["browser_page"]
D = timedelta(days=1)


async def _with_items(env, incident: int, per_day: list[int]) -> None:
    """`per_day[n]` items published on day n after now (Beijing 09:00 on 2026-09-24)."""
    now = env.clock.now()
    times = [now + n * D for n, count in enumerate(per_day) for _ in range(count)]
    rows = [
        {"dedup_key": f"{incident:08d}{k:056d}", "url": f"https://news.example/e/{k}", "title": f"稿件{k}",
         "text": "正文", "fetched_at": t, "created_at": t, "published_at": t}
        for k, t in enumerate(times)
    ]  # fmt: skip
    async with env.db.write() as conn:
        found = await insert_items(conn, rows)
        await attach_items(conn, incident, [i for i, _ in found.values()], now, {})


async def test_an_analyst_records_an_evaluation_from_the_suggested_subsiding_time(web_env, browser_page):
    page, problems = browser_page
    env = web_env
    base = str(env.client.make_url("/")).rstrip("/")
    incident = await confirmed_incident(env, title="城南小区停水两天")
    response = {"kind": "authoritative_release", "url": "https://www.minghu.gov.example/tb/7", "approved_by": "马振华"}
    await run_command(env, c.RecordResponse, incident, "duty", **response)
    # peak hour 09-24 09:00 (6); 2 at 09:00 on the 25th are not below 20% of 6, 1 on the 26th is
    await _with_items(env, incident, [6, 2, 1])
    env.clock.advance(4 * D)  # 09-28 09:00: 09-25 10:00 – 09-26 10:00 is 24 complete quiet hours

    await _login(page, base, f"/incidents/{incident}", username="analyst")
    assert "尚未登记效果评估" in await page.inner_text("#facts")
    await page.click("#action-evaluation summary")
    form = page.locator("#action-evaluation")
    assert await form.locator('input[name="subsided_at"]').input_value() == "2026-09-25T10:00"
    hint = await form.locator('[data-hint="evaluation"]').inner_text()
    assert "高峰为 09-24 09:00 起的一小时" in hint and "建议平息时间为 09-25 10:00" in hint
    await shot(page, "evaluation-01-prefilled")

    await form.locator('input[name="subsided_at"]').fill("2026-09-20T08:00")  # before detection
    await form.locator('input[name="negative_before"]').fill("60")
    await form.locator('input[name="negative_after"]').fill("15")
    await form.locator('select[name="satisfaction"]').select_option("basically_satisfied")
    await form.locator('textarea[name="notes"]').fill("回访 20 户，17 户基本满意")
    await form.locator('button[type="submit"]').click()
    await page.wait_for_selector("p.error[role=alert]")
    assert "平息时间 9月20日 08:00 早于本事件的发现时间 9月24日 08:00" in await page.inner_text("p.error[role=alert]")
    form = page.locator("#action-evaluation")
    assert await form.locator('textarea[name="notes"]').input_value() == "回访 20 户，17 户基本满意"  # kept
    await shot(page, "evaluation-02-refused")

    await form.locator('input[name="subsided_at"]').fill("2026-09-25T10:00")
    await form.locator('button[type="submit"]').click()
    await page.wait_for_url(f"**/incidents/{incident}#timeline")
    assert await page.inner_text("#flash") == "已登记效果评估"
    facts = await page.inner_text("#facts")
    assert "已评估" in facts and "平息时间 2026-09-25 10:00" in facts and "满意度：基本满意" in facts
    assert "负面占比 60% → 15%" in facts and "回访 20 户，17 户基本满意" in facts
    assert "平息时间 09-25 10:00；满意度：基本满意；负面占比 60% → 15%" in await page.inner_text("#timeline")
    await shot(page, "evaluation-03-recorded")

    async with env.db.read() as conn:
        inc = await get_incident(conn, incident)
        recorded = (await evaluations_for(conn, [incident]))[incident]
        kinds = [e.kind for e in await list_events(conn, incident)]
    assert inc.status == IncidentStatus.EVALUATED and kinds.count(EventKind.EVALUATION_RECORDED) == 1
    assert recorded.satisfaction == Satisfaction.BASICALLY_SATISFIED and recorded.recorded_by == "analyst"
    assert recorded.peak_count == 6 and recorded.suggested_subsided_at == recorded.subsided_at
    assert [p for p in problems if "status of 409" not in p] == []
