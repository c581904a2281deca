"""The duty queue: order, filters, counts, paging, saved views, live rows — and a fixed number of
statements per page, whatever the number of incidents."""

import re
from datetime import timedelta

from sqlalchemy import event, update

from monitor.domain import EventKind, IncidentEvent, IncidentStatus, MediaTier, OpinionLevel, Source, UserRole
from monitor.storage.repo.incidents import append_events
from monitor.storage.repo.sources import add_sources
from monitor.storage.schema import sources

from .conftest import add_incident, add_item_with_evidence, post_form


def titles(html: str) -> list[str]:
    return re.findall(r'<a href="/incidents/\d+">([^<]+)</a>', html)


async def test_sorted_by_nearest_deadline_with_colours_units_and_countdowns(web_env):
    now = web_env.clock.now()
    await add_incident(web_env.db, now, title="无时限", due_in=None, opinion_level=OpinionLevel.L4)
    await add_incident(web_env.db, now, title="三小时后", due_in=timedelta(hours=3), opinion_level=OpinionLevel.L2)
    await add_incident(web_env.db, now, title="已超期", due_in=timedelta(minutes=-20), opinion_level=OpinionLevel.L1)
    await add_incident(web_env.db, now, title="已办结", status=IncidentStatus.CLOSED)
    client = await web_env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get("/queue")).text()
    assert titles(html) == ["已超期", "三小时后", "无时限"]
    assert "已超期 20分" in html and "剩余 3小时0分" in html and "无时限</span>" in html
    assert 'class="badge lvl-L1"' in html and ">红<" in html and ">橙<" in html
    assert "明湖市应急管理局" in html and "东港镇" in html
    assert '<span id="total">3</span>' in html


async def test_filters_by_level_unit_region_status_overdue_and_mine(web_env_any):
    env = web_env_any
    now = env.clock.now()
    await add_incident(env.db, now, title="红色应急", opinion_level=OpinionLevel.L1, owner_unit="emergency")
    await add_incident(
        env.db,
        now,
        title="住建协办",
        opinion_level=OpinionLevel.L3,
        owner_unit="emergency",
        co_units=["housing", "ecology"],
        region="nanshan",
        status=IncidentStatus.HANDLING,
    )
    await add_incident(  # an unmet obligation past its deadline: what the overdue filter looks for
        env.db,
        now,
        title="超期住建",
        opinion_level=OpinionLevel.L2,
        owner_unit="housing",
        due_in=timedelta(hours=-1),
        obligation=True,
    )
    noted = await add_incident(env.db, now, title="我备注过", opinion_level=OpinionLevel.L4, owner_unit="ecology")
    client = await env.login(UserRole.DUTY_OFFICER)

    async def shown(query: str) -> list[str]:
        return sorted(titles(await (await client.get("/queue?" + query)).text()))

    assert await shown("level=L1&level=L2") == ["红色应急", "超期住建"]
    assert await shown("unit=housing") == ["住建协办", "超期住建"]
    assert await shown("region=nanshan") == ["住建协办"]
    assert await shown("status=handling") == ["住建协办"]
    assert await shown("overdue=1") == ["超期住建"]
    assert await shown("mine=1") == []
    async with env.db.write() as conn:
        await append_events(conn, [IncidentEvent(noted, EventKind.NOTE_ADDED, now, "duty", {"text": "跟进"})], now)
    assert await shown("mine=1") == ["我备注过"]
    unit = await env.login(UserRole.UNIT_HANDLER)
    assert sorted(titles(await (await unit.get("/queue?mine=1")).text())) == ["住建协办", "超期住建"]
    html = await (await client.get("/queue?level=L9&unit=nowhere")).text()
    assert "筛选条件「舆情级别」的值 L9 无效，已忽略" in html and "「责任单位」的值 nowhere 无效" in html
    assert len(titles(html)) == 4


async def test_level_counts_and_paging(web_env):
    env = web_env
    now = env.clock.now()
    for i in range(env.services.settings.queue_page_size + 5):
        await add_incident(
            env.db,
            now,
            title=f"事件{i:03d}",
            due_in=timedelta(minutes=i),
            opinion_level=OpinionLevel.L3 if i % 2 else OpinionLevel.L1,
        )
    client = await env.login(UserRole.ANALYST)
    first = await (await client.get("/queue")).text()
    assert len(titles(first)) == env.services.settings.queue_page_size and "第 1 / 2 页" in first
    assert '红 重大 <span data-level-count="L1">53</span>' in first
    assert '黄 一般 <span data-level-count="L3">52</span>' in first
    second = await (await client.get("/queue?page=2")).text()
    assert titles(second) == [f"事件{i:03d}" for i in range(100, 105)]


async def test_a_page_costs_the_same_statements_for_5_or_50_incidents(web_env):
    env = web_env
    client = await env.login(UserRole.DUTY_OFFICER)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731

    async def count_for(n: int) -> int:
        for i in range(n):
            await add_incident(env.db, env.clock.now(), title=f"批量{i}")
        statements.clear()
        event.listen(env.db.engine.sync_engine, "before_cursor_execute", listener)
        try:
            assert (await client.get("/queue")).status == 200
        finally:
            event.remove(env.db.engine.sync_engine, "before_cursor_execute", listener)
        return len(statements)

    assert await count_for(5) == await count_for(45)


async def test_saved_views_are_per_user_and_audited(web_env):
    env = web_env
    now = env.clock.now()
    await add_incident(env.db, now, title="红色应急", opinion_level=OpinionLevel.L1)
    await add_incident(env.db, now, title="黄色住建", opinion_level=OpinionLevel.L3, owner_unit="housing")
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await post_form(client, "/queue/views", [("name", "红色事件"), ("level", "L1"), ("level", "bogus")])
    assert resp.status == 303
    location = resp.headers["Location"]
    html = await (await client.get(location)).text()
    assert titles(html) == ["红色应急"] and "红色事件" in html
    [entry] = await env.audit("saved_view.save")
    assert entry.after == {"name": "红色事件", "query": {"level": ["L1"]}}
    other = await env.login(UserRole.LEADER)
    assert sorted(titles(await (await other.get(location)).text())) == ["红色应急", "黄色住建"]  # not their view
    assert "红色事件" not in await (await other.get("/queue")).text()
    resp = await post_form(client, "/queue/views", {"name": "", "level": "L3"})
    text = await resp.text()
    assert resp.status == 400 and "「视图名称」为必填项" in text and 'value="L3" checked' in text
    view_id = location.split("=")[1]
    assert (await post_form(other, f"/queue/views/{view_id}/delete")).status == 404
    assert (await post_form(client, f"/queue/views/{view_id}/delete")).status == 303
    assert "红色事件" not in await (await client.get("/queue")).text()
    [deleted] = await env.audit("saved_view.delete")
    assert deleted.before["name"] == "红色事件"


async def test_rows_fragment_renders_changed_rows_and_names_the_gone(web_env):
    env = web_env
    now = env.clock.now()
    red = await add_incident(env.db, now, title="红色应急", opinion_level=OpinionLevel.L1)
    yellow = await add_incident(env.db, now, title="黄色住建", opinion_level=OpinionLevel.L3)
    client = await env.login(UserRole.DUTY_OFFICER)
    data = await (await client.get(f"/queue/rows?ids={red},{yellow},999&level=L1")).json()
    assert list(data["rows"]) == [str(red)] and sorted(data["gone"]) == [yellow, 999]
    assert data["total"] == 1 and data["level_counts"] == {"L1": 1}
    assert data["rows"][str(red)].startswith(f'<tr data-id="{red}"') and "红色应急" in data["rows"][str(red)]


async def test_trend_column_compares_the_last_six_hours_with_the_six_before(web_env):
    env = web_env
    now = env.clock.now()
    rising = await add_incident(env.db, now, title="上升", due_in=timedelta(hours=1))
    falling = await add_incident(env.db, now, title="回落", due_in=timedelta(hours=2))
    flat = await add_incident(env.db, now, title="持平", due_in=timedelta(hours=3))
    attached = {rising: [-8, -1, -2, -3], falling: [-7, -9, -10, -1], flat: [-7, -1]}  # hours before now
    n = 0
    for incident, hours in attached.items():
        for h in hours:
            n += 1
            await add_item_with_evidence(env.db, now + timedelta(hours=h), incident, body=f"稿件{n}".encode(), n=n)
    client = await env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get("/queue")).text()
    trends = dict(re.findall(r'<tr data-id="(\d+)".*?<td class="trend"><span class="(up|down|flat)"', html, re.S))
    assert trends == {str(rising): "up", str(falling): "down", str(flat): "flat"}
    assert 'title="近6小时 3 条，前6小时 1 条">↑ 3</span>' in html
    assert 'title="近6小时 1 条，前6小时 3 条">↓ 1</span>' in html
    assert "→ 1</span>" in html


async def test_sources_that_are_not_ok_are_announced_on_the_queue_to_those_who_see_sources(web_env):
    env = web_env
    now = env.clock.now()
    names = ["明湖日报", "江南晚报", "南山发布", "北湖发布"]
    async with env.db.write() as conn:
        by_url = await add_sources(
            conn,
            [
                Source(name=name, url=f"https://s{n}.example/rss", media_tier=MediaTier.CITY)
                for n, name in enumerate(names)
            ],
            now,
        )
    ids = {name: by_url[f"https://s{n}.example/rss"] for n, name in enumerate(names)}
    client = await env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get("/queue")).text()
    assert '<div id="source-alert" class="source-alert" hidden role="status">' in html  # all OK: nothing to say

    async def set_health(name: str, health: str, minutes: int, error: str | None = None) -> None:
        async with env.db.write() as conn:
            await conn.execute(
                update(sources)
                .where(sources.c.id == ids[name])
                .values(health=health, health_changed_at=now + timedelta(minutes=minutes), last_error=error)
            )

    await set_health("明湖日报", "failing", 1, "HTTP 503 连续 5 次")
    await set_health("江南晚报", "silent", 2)
    await set_health("南山发布", "degraded", 3, "读取超时")
    html = await (await client.get("/queue")).text()
    alert = html[html.index('<div id="source-alert"') : html.index("</div>", html.index('<div id="source-alert"'))]
    assert " hidden" not in alert.split(">")[0]
    assert "失败 1 个" in alert and "静默 1 个" in alert and "降级 1 个" in alert
    assert alert.index("失败") < alert.index("静默") < alert.index("降级")  # worst first
    assert alert.index("南山发布") < alert.index("江南晚报") < alert.index("明湖日报")  # newest change first
    assert "HTTP 503 连续 5 次" in alert and '<a href="/sources">查看信息源</a>' in alert and "北湖发布" not in alert

    # the live rows fragment carries the banner too, so a change shows without a reload
    await set_health("明湖日报", "ok", 4)
    data = await (await client.get("/queue/rows?ids=")).json()
    assert "失败 1 个" not in data["source_alert"] and "静默 1 个" in data["source_alert"]

    # a unit handler does not see sources at all: no banner, nothing in the fragment
    handler = await env.login(UserRole.UNIT_HANDLER)
    assert 'id="source-alert"' not in await (await handler.get("/queue")).text()
    assert "source_alert" not in await (await handler.get("/queue/rows?ids=")).json()


async def test_an_incident_whose_only_deadlines_passed_before_it_was_imported_reads_overdue(web_env):
    """A ledger import keeps deadlines missed before the import out of next_due_at (nobody is
    alerted on them); the row must not say 无时限 beside 超期 1 项."""
    from monitor.storage.schema import obligations

    now = web_env.clock.now()
    incident = await add_incident(web_env.db, now, title="【台账】路灯坏了", due_in=None)
    async with web_env.db.write() as conn:
        await conn.execute(
            obligations.insert().values(
                incident_id=incident, rule_id="GB61-RESPOND-48H", action="first_response", clock="natural_hours",
                t0=now - timedelta(days=9), due_at=now - timedelta(days=7), status="breached",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
    client = await web_env.login(UserRole.DUTY_OFFICER)
    html = await (await client.get("/queue")).text()
    row = html[html.index(f'<tr data-id="{incident}"') :].split("</tr>")[0]
    assert "超期 1 项" in row and '<span class="countdown cd-overdue" data-due="">已超期</span>' in row
    assert "无时限" not in row
