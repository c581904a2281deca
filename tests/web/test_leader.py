"""The leader view is live: the rows come server-rendered from /leader/rows, which leader.js fetches
whenever the event stream announces a change (or a minute passes); one-click 确认收到 keeps working."""

from datetime import timedelta

from monitor.domain import UserRole
from monitor.web.auth.accounts import NewAccount, add_account

from .conftest import PASSWORD, confirmed_incident, csrf_of, login, post_form
from .test_live import next_ids

RELEASE = "GB80-AUTH-RELEASE-5H"


async def test_the_page_is_wired_for_live_updates(web_env):
    leader = await web_env.login(UserRole.LEADER)
    html = await (await leader.get("/leader?hours=6")).text()
    assert "/static/leader.js?v=" in html and 'id="live"' in html
    assert 'data-rows="/leader/rows?hours=6"' in html
    html = await (await leader.get("/leader?hours=abc")).text()  # a bad horizon: the default, and said so
    assert 'data-rows="/leader/rows"' in html and "「时间范围」应为小时数" in html


async def test_rows_follow_new_obligations_acknowledgements_and_time(web_env):
    env = web_env
    leader = await env.login(UserRole.LEADER)
    empty = await (await leader.get("/leader/rows?hours=6")).json()
    assert empty["count"] == 0 and "没有到期的时限要求" in empty["html"]

    # A new incident is confirmed after the page was opened: its obligations are now in the rows.
    incident = await confirmed_incident(env, title="西岭镇山体滑坡", owner_unit="emergency", detected_ago=timedelta(0))
    data = await (await leader.get("/leader/rows?hours=6")).json()
    assert data["incidents"] == [incident] and "西岭镇山体滑坡" in data["html"]
    assert f'data-rule="{RELEASE}"' in data["html"] and data["overdue"] == 0
    assert f'action="/incidents/{incident}/actions/acknowledge"' in data["html"]
    assert 'name="return_to" value="/leader?hours=6"' in data["html"]
    token = await csrf_of(leader)
    assert f'name="_csrf" value="{token}"' in data["html"]  # the swapped-in forms still post
    assert "确认收到</span>" not in data["html"] and "data-acked" not in data["html"]

    # One click on a swapped-in form: the acknowledgement shows in everyone's rows.
    form = {"rule_id": RELEASE, "return_to": "/leader?hours=6"}
    resp = await post_form(leader, f"/incidents/{incident}/actions/acknowledge", form)
    assert resp.status == 303 and resp.headers["Location"] == "/leader?hours=6"
    data = await (await leader.get("/leader/rows?hours=6")).json()
    assert 'data-acked="leader"' in data["html"] and "leader 已于" in data["html"]

    # Time alone: the 5-hour release falls due; and a 24-hour window brings later deadlines in.
    env.clock.advance(timedelta(hours=5, minutes=1))
    leader = await env.login(UserRole.LEADER)  # the idle session has ended meanwhile
    data = await (await leader.get("/leader/rows?hours=6")).json()
    assert data["overdue"] >= 1 and "cd-overdue" in data["html"]
    narrow = await (await leader.get("/leader/rows?hours=1")).json()
    wide = await (await leader.get("/leader/rows?hours=72")).json()
    assert narrow["count"] <= data["count"] <= wide["count"]


async def test_a_leader_stream_announces_changes_made_by_others(web_env):
    env = web_env
    incident = await confirmed_incident(env, owner_unit="emergency")
    leader = await env.login(UserRole.LEADER)
    duty = await env.login(UserRole.DUTY_OFFICER)
    async with leader.get("/events") as stream:
        await stream.content.readline()
        resp = await post_form(duty, f"/incidents/{incident}/actions/acknowledge", {"rule_id": RELEASE})
        assert resp.status == 303
        assert await next_ids(stream) == [incident]
    data = await (await leader.get("/leader/rows")).json()
    assert 'data-acked="duty"' in data["html"]


async def _department_leader_and_two_incidents(env):
    """A logged-in leader of 住建局 only (陈国栋), a 住建 incident and an 应急 incident."""
    await add_account(
        env.db, env.hasher, env.clock, env.services.org,
        NewAccount("chen", UserRole.LEADER, "陈国栋", person_id="chen_guodong"), PASSWORD, actor="test",
    )  # fmt: skip
    housing = await confirmed_incident(env, title="住建事件", owner_unit="housing")
    emergency = await confirmed_incident(env, title="应急事件", owner_unit="emergency")
    chen = await env.new_client()
    await login(chen, "chen", PASSWORD)
    return chen, housing, emergency


async def test_a_department_leader_sees_only_their_units(web_env):
    env = web_env
    chen, housing, emergency = await _department_leader_and_two_incidents(env)
    data = await (await chen.get("/leader/rows?hours=72")).json()
    assert data["incidents"] == [housing] and "应急事件" not in data["html"]
    city = await env.login(UserRole.LEADER)  # a 副市长 of the 人民政府 sees the whole city
    assert (await (await city.get("/leader/rows?hours=72")).json())["incidents"] == [housing, emergency]


async def test_only_leaders_and_admins_get_the_rows(web_env):
    env = web_env
    for role in (UserRole.DUTY_OFFICER, UserRole.UNIT_HANDLER, UserRole.ANALYST):
        client = await env.login(role)
        assert (await client.get("/leader/rows")).status == 403, role
        assert (await client.get("/leader")).status == 403, role
    admin = await env.login(UserRole.ADMIN)
    assert (await admin.get("/leader/rows")).status == 200
    anonymous = await env.new_client()
    resp = await anonymous.get("/leader/rows", allow_redirects=False)
    assert resp.status in (302, 303, 401)


async def test_a_role_changed_on_the_org_page_changes_the_leaders_units_at_once(web_env):
    env = web_env
    chen, housing, emergency = await _department_leader_and_two_incidents(env)
    assert (await (await chen.get("/leader/rows?hours=72")).json())["incidents"] == [housing]
    admin = await env.login(UserRole.ADMIN)
    person = env.services.org.people["chen_guodong"]
    form = {"name": person.name, "title": person.title, "mobile": person.mobile or "", "email": person.email or "",
            "role_0": "principal", "unit_0": "emergency", "channel_0": "email", "quiet_mode": "default"}  # fmt: skip
    assert (await post_form(admin, "/org/people/chen_guodong/edit", form)).status == 303
    assert (await (await chen.get("/leader/rows?hours=72")).json())["incidents"] == [emergency]


async def test_the_heading_names_the_horizon_as_people_write_it(web_env):
    leader = await web_env.login(UserRole.LEADER)
    assert "领导视图：24 小时内到期的时限要求" in await (await leader.get("/leader")).text()
    assert "领导视图：6 小时内到期" in await (await leader.get("/leader?hours=6")).text()
    assert "领导视图：1.5 小时内到期" in await (await leader.get("/leader?hours=1.5")).text()
