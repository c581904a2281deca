"""Live updates: the change feed, the polling fallback (gaps included), and the SSE stream, scoped."""

import json

from monitor.changes import LocalChangeFeed
from monitor.domain import EventKind, IncidentEvent, UserRole
from monitor.storage.repo.changes import ChangeCursor, _advance, poll_changes, start_cursor
from monitor.storage.repo.incidents import append_events

from .conftest import add_incident, post_form


async def test_feed_coalesces_and_closes():
    feed = LocalChangeFeed()
    with feed.subscribe() as a, feed.subscribe() as b:
        feed.notify_changed([1, 2])
        feed.notify_changed([2, 3])
        feed.notify_changed([])
        assert await a.next() == {1, 2, 3}
        assert await b.next() == {1, 2, 3}
        assert feed.subscribers == 2
    assert feed.subscribers == 0
    assert await a.next() == frozenset()  # closed: returns at once, empty


def test_cursor_remembers_skipped_ids_until_they_commit_or_expire():
    cursor = ChangeCursor(last_id=10)
    _advance(cursor, {11, 14})
    assert cursor.last_id == 14 and set(cursor.gaps) == {12, 13}
    _advance(cursor, {12})  # a slower transaction committed id 12 later
    assert set(cursor.gaps) == {13}
    for _ in range(100):
        _advance(cursor, set())
    assert cursor.gaps == {}  # 13 was rolled back: forgotten after GAP_POLLS polls


async def test_polling_finds_committed_events_once(web_env_any):
    env = web_env_any
    now = env.clock.now()
    async with env.db.read() as conn:
        cursor = await start_cursor(conn)
    first = await add_incident(env.db, now, title="甲")
    second = await add_incident(env.db, now, title="乙")
    async with env.db.read() as conn:
        assert await poll_changes(conn, cursor) == {first, second}
        assert await poll_changes(conn, cursor) == set()
    async with env.db.write() as conn:
        await append_events(conn, [IncidentEvent(first, EventKind.NOTE_ADDED, now, "x", {})], now)
    async with env.db.read() as conn:
        assert await poll_changes(conn, cursor) == {first}


async def next_ids(resp) -> list[int]:
    """Read the stream up to the next `incidents` event."""
    while True:
        line = (await resp.content.readline()).decode()
        if line.startswith("data: "):
            return json.loads(line[6:])["ids"]


async def settle(clock, sleepers: int = 1) -> None:
    """Until the live poller sleeps on the FakeClock again (its pass, database reads included, is done)."""
    await clock.until_sleepers(sleepers)


async def test_a_note_reaches_every_open_queue_that_may_see_it(web_env):
    env = web_env
    now = env.clock.now()
    emergency = await add_incident(env.db, now, title="应急事件", owner_unit="emergency")
    housing = await add_incident(env.db, now, title="住建事件", owner_unit="housing")
    duty = await env.login(UserRole.DUTY_OFFICER)
    unit = await env.login(UserRole.UNIT_HANDLER)
    async with duty.get("/events") as duty_stream, unit.get("/events") as unit_stream:
        await duty_stream.content.readline()
        await unit_stream.content.readline()
        assert (await post_form(duty, f"/incidents/{emergency}/actions/notes", {"text": "甲"})).status == 303
        assert await next_ids(duty_stream) == [emergency]
        assert (await post_form(duty, f"/incidents/{housing}/actions/notes", {"text": "乙"})).status == 303
        assert await next_ids(duty_stream) == [housing]
        assert await next_ids(unit_stream) == [housing]  # the emergency incident never reached the unit


async def test_changes_from_other_processes_arrive_through_polling(web_env):
    env = web_env
    client = await env.login(UserRole.DUTY_OFFICER)
    async with client.get("/events") as stream:
        await stream.content.readline()
        await settle(env.clock)
        incident = await add_incident(env.db, env.clock.now(), title="另一进程写入的事件")  # no notify_changed
        env.clock.advance(env.services.settings.live_poll_s)
        assert await next_ids(stream) == [incident]
        rows = await (await client.get(f"/queue/rows?ids={incident}")).json()
        assert "另一进程写入的事件" in rows["rows"][str(incident)]


async def test_unchanged_incidents_are_not_sent_twice(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    client = await env.login(UserRole.DUTY_OFFICER)
    async with client.get("/events") as stream:
        await stream.content.readline()
        await settle(env.clock)
        assert (await post_form(client, f"/incidents/{incident}/actions/notes", {"text": "一次"})).status == 303
        assert await next_ids(stream) == [incident]
        env.clock.advance(env.services.settings.live_poll_s)  # the poller sees the same note again …
        await settle(env.clock)
        env.services.changes.notify_changed([incident])  # … and so does a redundant notify
        second = await add_incident(env.db, env.clock.now(), title="新事件")
        env.services.changes.notify_changed([second])
        assert await next_ids(stream) == [second]  # only the new one: the note was not repeated


async def test_incident_page_parts_for_live_replacement(web_env):
    from monitor.domain import commands as c

    from .conftest import confirmed_incident, run_command

    env = web_env
    incident = await confirmed_incident(env)
    client = await env.login(UserRole.DUTY_OFFICER)
    before = await (await client.get(f"/incidents/{incident}/live")).json()
    assert set(before) == {"facts", "obligations", "timeline", "responses", "status"}
    assert 'data-rule="GB80-AUTH-RELEASE-5H" data-instance="0" data-status="open"' in before["obligations"]
    assert 'class="countdown' in before["obligations"].split('data-rule="GB80-AUTH-RELEASE-5H"')[1].split("</tr>")[0]
    await run_command(
        env,
        c.RecordResponse,
        incident,
        "unit",
        kind="authoritative_release",
        url="https://x.example/1",
        approved_by="马振华",
    )
    after = await (await client.get(f"/incidents/{incident}/live")).json()
    row = after["obligations"].split('data-rule="GB80-AUTH-RELEASE-5H"')[1].split("</tr>")[0]
    assert 'data-status="met"' in row and "按时履行" in row and "countdown" not in row and "履行于" in row
    assert "登记回应" in after["timeline"] and "马振华" in after["timeline"]
    unit = await env.login(UserRole.UNIT_HANDLER)  # 住建局: the 应急局 incident does not exist for them
    assert (await unit.get(f"/incidents/{incident}/live")).status == 404


async def test_flash_messages_cannot_be_forged_or_shown_to_someone_else(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    duty = await env.login(UserRole.DUTY_OFFICER)
    resp = await post_form(duty, f"/incidents/{incident}/actions/notes", {"text": "备注"})
    cookie = resp.cookies["monitor_flash"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    leader = await env.login(UserRole.LEADER)
    leader.session.cookie_jar.update_cookies({"monitor_flash": cookie.value})
    assert 'id="flash"' not in await (await leader.get("/queue")).text()  # someone else's message
    body, _, _sig = cookie.value.partition(".")
    leader.session.cookie_jar.update_cookies({"monitor_flash": f"{body}.{'0' * 64}"})
    assert 'id="flash"' not in await (await leader.get("/queue")).text()  # a forged signature
    assert 'id="flash">已添加备注</p>' in await (await duty.get("/queue")).text()
