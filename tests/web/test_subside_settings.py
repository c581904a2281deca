"""The 效果评估 form suggests 平息时间 under the deployment's threshold (settings subside_percent and
subside_window_h, DOMAIN.md §5.2), and the evaluation the engine stores uses the same threshold."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from monitor.clock import FakeClock
from monitor.domain import UserRole
from monitor.domain import commands as c
from monitor.domain.evaluation import Satisfaction
from monitor.storage.db import Database
from monitor.storage.repo.evaluation import evaluations_for
from monitor.storage.repo.incidents import attach_items
from monitor.storage.repo.items import insert_items

from .conftest import WebEnv, confirmed_incident, make_env, post_form, run_command

H = timedelta(hours=1)


@pytest.fixture
async def lenient_env(sqlite_db: Database, clock: FakeClock) -> AsyncIterator[WebEnv]:
    async for env in make_env(sqlite_db, clock, subside_percent=50, subside_window_h=6):
        yield env


async def _items(env: WebEnv, incident: int, hours: list[int]) -> None:
    """One item published `h` hours after now for each h."""
    now = env.clock.now()
    rows = [
        {"dedup_key": f"{incident:08d}{k:056d}", "url": f"https://news.example/s/{k}", "title": f"稿件{k}",
         "text": "正文", "fetched_at": now + h * H, "created_at": now + h * H, "published_at": now + h * H}
        for k, h in enumerate(hours)
    ]  # fmt: skip
    async with env.db.write() as conn:
        found = await insert_items(conn, rows)
        await attach_items(conn, incident, [i for i, _ in found.values()], now, {})


async def test_the_form_and_the_stored_evaluation_follow_the_threshold_settings(lenient_env):
    env = lenient_env
    incident = await confirmed_incident(env, title="城东路面塌陷")
    response = {"kind": "authoritative_release", "url": "https://www.minghu.gov.example/tb/9", "approved_by": "马振华"}
    await run_command(env, c.RecordResponse, incident, "duty", **response)
    # now is 09-24 09:00 Beijing: peak hour 09:00 (4 items); 2 at 11:00 are not below 50% of 4; 1 at 13:00 is
    await _items(env, incident, [0, 0, 0, 0, 2, 2, 4])
    env.clock.advance(24 * H)

    client = await env.login(UserRole.ANALYST)
    page = html.unescape(await (await client.get(f"/incidents/{incident}")).text())
    assert 'value="2026-09-24T12:00"' in page  # 12:00–18:00: six hours each below 2 items (the default would wait)
    assert "连续 6 小时每小时新增均低于高峰的 50%（即少于 2 条）" in page
    assert "建议平息时间为 09-24 12:00" in page

    form = {"subsided_at": "2026-09-24T12:00", "satisfaction": Satisfaction.NOT_RATED.value}
    resp = await post_form(client, f"/incidents/{incident}/actions/evaluation", form)
    assert resp.status == 303, await resp.text()
    async with env.db.read() as conn:
        stored = (await evaluations_for(conn, [incident]))[incident]
    assert stored.peak_count == 4 and stored.suggested_subsided_at == stored.subsided_at
    assert "连续 6 小时" in stored.basis and "50%" in stored.basis
