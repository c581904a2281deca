"""Org and people (admin): people and web accounts edited in the browser, stored in the database
(the org file stays the base), applied to the running directory at once, every change audited with
the values before and after, every error in zh-CN naming the field, and admins only."""

from datetime import timedelta

import pytest

from monitor.domain import ChannelKind, Role, UserRole
from monitor.notifications.routing import Router
from monitor.storage.repo.org_people import apply_overrides, save_override
from monitor.storage.repo.users import get_user_by_name

from .conftest import ACCOUNTS, PASSWORD, fresh_org, login, post_form
from .test_live import settle

NEW_PERSON = {
    "id": "sun_li",
    "name": "孙丽",
    "title": "应急管理局值班科科长",
    "mobile": "13900000999",
    "email": "sunli@emergency.minghu.gov.example",
    "role_0": "liaison",
    "unit_0": "emergency",
    "channel_0": "dingtalk",
    "channel_1": "email",
    "quiet_mode": "range",
    "quiet_hours": "22:00-07:30",
}


async def test_admin_adds_a_person_who_is_in_the_directory_at_once(web_env_any):
    env = web_env_any
    admin = await env.login(UserRole.ADMIN)
    assert "添加人员" in await (await admin.get("/org/people/new")).text()
    resp = await post_form(admin, "/org/people/new", NEW_PERSON)
    assert resp.status == 303 and resp.headers["Location"] == "/org#person-sun_li"
    person = env.services.org.people["sun_li"]
    assert person.channels == (ChannelKind.DINGTALK, ChannelKind.EMAIL) and person.quiet_hours == "22:00-07:30"
    assert person in env.services.org.people_with(Role.LIAISON, "emergency")
    assert person in env.services.org.resolve(Role.LIAISON, "emergency")  # escalation reaches her now
    [entry] = await env.audit("org.person.save")
    assert entry.actor == "admin" and entry.target_id == "sun_li" and entry.before is None
    assert entry.after["channels"] == ["dingtalk", "email"] and entry.after["disabled"] is False
    html = await (await admin.get("/org")).text()
    assert 'id="person-sun_li"' in html and "网页修改：admin" in html and "已保存人员「孙丽」" in html

    # Another process starting now (a worker) builds the same directory from the file + the rows.
    other = fresh_org()
    async with env.db.read() as conn:
        await apply_overrides(conn, other)
    assert other.people["sun_li"] == person


async def test_editing_a_file_person_changes_channel_order_for_the_notifier(web_env):
    env = web_env
    router = Router(env.services.org, enabled=set(ChannelKind), robots={})  # built once, as the notifier does
    before = [d.channel for d in router.destinations(router.person("zhu_min"))]
    assert before == [ChannelKind.CONSOLE, ChannelKind.EMAIL]
    admin = await env.login(UserRole.ADMIN)
    html = await (await admin.get("/org/people/zhu_min/edit")).text()
    assert 'value="zhumin@propaganda.minghu.gov.example"' in html and "当前内容来自通讯录文件" in html
    form = {
        "name": "朱敏", "title": "市委宣传部舆情值班室值班员", "mobile": "13900000009",
        "email": "zhumin@propaganda.minghu.gov.example", "role_0": "duty_officer", "unit_0": "propaganda",
        "channel_0": "email", "channel_1": "console", "quiet_mode": "never",
    }  # fmt: skip
    assert (await post_form(admin, "/org/people/zhu_min/edit", form)).status == 303
    after = [d.channel for d in router.destinations(router.person("zhu_min"))]
    assert after == [ChannelKind.EMAIL, ChannelKind.CONSOLE]  # the same directory object, updated in place
    [entry] = await env.audit("org.person.save")
    assert entry.before["channels"] == ["console", "email"] and entry.after["channels"] == ["email", "console"]
    assert entry.before["quiet_hours"] is None and entry.after["quiet_hours"] == ""


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": "Sun Li"}, "id", "「编号」只能用小写字母"),
        ({"id": "zhu_min"}, "id", "「编号」zhu_min 已被使用"),
        ({"name": ""}, "name", "「姓名」为必填项"),
        ({"mobile": "1390000"}, "mobile", "「手机」应为 11 位数字"),
        ({"email": "sunli-at-example"}, "email", "「邮箱」格式不正确"),
        ({"unit_0": ""}, "role_0", "「角色 第 1 行」请同时选择有效的角色和单位（缺少单位）"),
        ({"role_1": "liaison", "unit_1": "emergency"}, "role_1", "「角色 第 2 行」与前面重复"),
        ({"email": "", "channel_0": "email", "channel_1": ""}, "channels", "请填写「邮箱」或去掉该渠道"),
        ({"mobile": "", "channel_1": ""}, "channels", "请填写「手机」或去掉该渠道"),
        ({"channel_1": "dingtalk"}, "channels", "每个渠道只能出现一次"),
        ({"channel_0": "", "channel_1": ""}, "channels", "至少选择一个"),
        ({"channel_0": "pager"}, "channels", "「提醒渠道」pager 无效"),
        ({"quiet_hours": "22点到7点"}, "quiet_hours", "「免打扰时段」应写成 HH:MM-HH:MM"),
    ],
)
async def test_person_errors_name_the_field_and_keep_the_input(web_env, change, field, message):
    env = web_env
    admin = await env.login(UserRole.ADMIN)
    resp = await post_form(admin, "/org/people/new", {**NEW_PERSON, **change})
    html = await resp.text()
    assert resp.status == 400 and f'data-field="{field}">「' in html and message in html, html[-3000:]
    assert 'value="应急管理局值班科科长"' in html  # what was typed is kept
    assert "sun_li" not in env.services.org.people and await env.audit("org.person.save") == []


async def test_disabling_a_person_takes_them_out_of_alerts_and_enabling_brings_them_back(web_env_any):
    env = web_env_any
    admin = await env.login(UserRole.ADMIN)
    liaisons = env.services.org.people_with(Role.LIAISON, "housing")
    assert [p.id for p in liaisons] == ["wang_chenyang"]
    assert (await post_form(admin, "/org/people/wang_chenyang/disable")).status == 303
    assert "wang_chenyang" not in env.services.org.people
    assert env.services.org.people_with(Role.LIAISON, "housing") == []
    html = await (await admin.get("/org")).text()
    assert "已停用" in html and "/org/people/wang_chenyang/enable" in html
    [entry] = await env.audit("org.person.disable")
    assert entry.before["disabled"] is False and entry.after["disabled"] is True and entry.after["name"] == "王晨阳"
    assert (await post_form(admin, "/org/people/wang_chenyang/enable")).status == 303
    assert [p.id for p in env.services.org.people_with(Role.LIAISON, "housing")] == ["wang_chenyang"]
    [entry] = await env.audit("org.person.enable")
    assert entry.before["disabled"] is True and entry.after["disabled"] is False


async def test_edits_made_on_another_web_node_arrive_through_the_poller(web_env):
    env = web_env
    client = await env.login(UserRole.DUTY_OFFICER)
    async with client.get("/events") as stream:  # the hub's poller runs while the app runs
        await stream.content.readline()
        person = env.services.org.people["zhu_min"]
        async with env.db.write() as conn:
            await save_override(conn, person, disabled=True, now=env.clock.now(), actor="admin2")
        await settle(env.clock)
        env.clock.advance(env.services.settings.live_poll_s)
        await settle(env.clock)  # the poller went through one pass and sleeps again
    assert "zhu_min" not in env.services.org.people


# --- accounts ---------------------------------------------------------------------------------

NEW_USER = {
    "username": "sunli",
    "display_name": "孙丽",
    "role": "unit_handler",
    "unit_id": "emergency",
    "person_id": "",
    "password": "pumpkin-harbour-17",
    "repeat": "pumpkin-harbour-17",
}


async def test_admin_adds_an_account_that_can_sign_in(web_env):
    env = web_env
    admin = await env.login(UserRole.ADMIN)
    resp = await post_form(admin, "/org/users/new", NEW_USER)
    assert resp.status == 303 and resp.headers["Location"].startswith("/org#user-")
    [entry] = [e for e in await env.audit("user.create") if e.actor != "test"]  # "test" set up the fixture
    assert entry.actor == "admin" and entry.after["role"] == "unit_handler" and entry.after["unit_id"] == "emergency"
    assert "password_hash" not in entry.after and entry.ip is not None
    client = await env.new_client()
    assert (await login(client, "sunli", NEW_USER["password"])).status == 303
    assert (await client.get("/queue")).status == 200 and (await client.get("/org")).status == 403
    html = await (await admin.get("/org")).text()
    assert 'data-user="sunli"' in html and "argon2" not in html  # hashes are never shown


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": ""}, "username", "「用户名」为必填项"),
        ({"username": "duty"}, "username", "「用户名」duty 已存在"),
        ({"username": "System"}, "username", "「用户名」system 保留"),
        ({"unit_id": ""}, "unit_id", "「单位」单位处置人只能看到本单位的事件，必须选择单位"),
        ({"unit_id": "atlantis"}, "unit_id", "「单位」不在组织通讯录中"),
        ({"person_id": "nobody"}, "person_id", "「对应人员」不在组织通讯录中"),
        ({"role": "root"}, "role", "「角色」请选择一个有效的角色"),
        ({"password": "short", "repeat": "short"}, "password", "「初始密码」密码至少需要"),
        ({"repeat": "pumpkin-harbour-18"}, "repeat", "「确认密码」与密码不一致"),
    ],
)
async def test_account_errors_name_the_field(web_env, change, field, message):
    env = web_env
    admin = await env.login(UserRole.ADMIN)
    resp = await post_form(admin, "/org/users/new", {**NEW_USER, **change})
    html = await resp.text()
    assert resp.status == 400 and f'data-field="{field}">「' in html and message in html, html[-2000:]
    assert [e.actor for e in await env.audit("user.create")] == ["test"] * len(ACCOUNTS)


async def test_reset_password_ends_sessions_and_lifts_the_lock(web_env):
    env = web_env
    duty = await env.login(UserRole.DUTY_OFFICER)
    admin = await env.login(UserRole.ADMIN)
    async with env.db.write() as conn:
        from monitor.storage.repo.users import update_user

        record = await get_user_by_name(conn, "duty")
        assert record is not None
        locked = {"failed_logins": 5, "locked_until": env.clock.now() + timedelta(hours=1)}
        await update_user(conn, record.id, locked, env.clock.now())
    bad = await post_form(admin, f"/org/users/{record.id}/password", {"password": "new-secret-7788", "repeat": "x"})
    assert bad.status == 400 and "「确认密码」与密码不一致" in await bad.text()
    form = {"password": "new-secret-7788", "repeat": "new-secret-7788"}
    assert (await post_form(admin, f"/org/users/{record.id}/password", form)).status == 303
    assert (await duty.get("/queue", allow_redirects=False)).status in (302, 303)  # signed out
    client = await env.new_client()
    assert (await login(client, "duty", PASSWORD)).status != 303
    assert (await login(client, "duty", "new-secret-7788")).status == 303
    [entry] = await env.audit("user.password")
    assert entry.before["failed_logins"] == 5 and entry.after["failed_logins"] == 0
    assert entry.after["locked_until"] is None and entry.after["sessions_ended"] is True
    assert "password_hash" not in entry.before and "password_hash" not in entry.after


async def test_edit_and_disable_an_account(web_env):
    env = web_env
    analyst = await env.login(UserRole.ANALYST)
    admin = await env.login(UserRole.ADMIN)
    async with env.db.read() as conn:
        record = await get_user_by_name(conn, "analyst")
    assert record is not None
    form = {"display_name": "分析员甲", "role": "leader", "unit_id": "", "person_id": "feng_yaqin"}
    assert (await post_form(admin, f"/org/users/{record.id}/edit", form)).status == 303
    [entry] = await env.audit("user.update")
    assert entry.before["role"] == "analyst" and entry.after["role"] == "leader"
    assert entry.after["person_id"] == "feng_yaqin" and entry.after["sessions_ended"] is True
    assert (await analyst.get("/leader", allow_redirects=False)).status in (302, 303)  # new role: sign in again
    leader = await env.new_client()
    await login(leader, "analyst", PASSWORD)
    assert (await leader.get("/leader")).status == 200

    assert (await post_form(admin, f"/org/users/{record.id}/disable")).status == 303
    assert (await leader.get("/leader", allow_redirects=False)).status in (302, 303)
    assert (await login(await env.new_client(), "analyst", PASSWORD)).status != 303
    [entry] = await env.audit("user.disable")
    assert entry.before["disabled"] is False and entry.after["disabled"] is True
    assert (await post_form(admin, f"/org/users/{record.id}/enable")).status == 303
    assert (await login(await env.new_client(), "analyst", PASSWORD)).status == 303


async def test_an_admin_cannot_lock_themselves_out(web_env):
    env = web_env
    admin = await env.login(UserRole.ADMIN)
    async with env.db.read() as conn:
        me = await get_user_by_name(conn, "admin")
    assert me is not None
    resp = await post_form(admin, f"/org/users/{me.id}/disable")
    assert resp.status == 400 and "不能停用自己的账户" in await resp.text()
    form = {"display_name": "管理员", "role": "analyst", "unit_id": "", "person_id": ""}
    resp = await post_form(admin, f"/org/users/{me.id}/edit", form)
    assert resp.status == 400 and 'data-field="role">「角色」不能取消自己的管理员角色' in await resp.text()
    assert await env.audit("user.disable") == [] and await env.audit("user.update") == []


@pytest.mark.parametrize("role", [r for r in UserRole if r != UserRole.ADMIN])
async def test_only_admins_manage_people_and_accounts(web_env, role):
    env = web_env
    client = await env.login(role)
    assert (await client.get("/org")).status == 403
    assert (await client.get("/org/people/zhu_min/edit")).status == 403
    assert (await post_form(client, "/org/people/new", NEW_PERSON)).status == 403
    assert (await post_form(client, "/org/people/zhu_min/disable")).status == 403
    assert (await post_form(client, "/org/users/new", NEW_USER)).status == 403
    async with env.db.read() as conn:
        me = await get_user_by_name(conn, ACCOUNTS[role].username)
    assert me is not None
    assert (await post_form(client, f"/org/users/{me.id}/edit", {"role": "admin"})).status == 403
    assert (await post_form(client, f"/org/users/{me.id}/password", {"password": "x" * 12})).status == 403
    assert "sun_li" not in env.services.org.people and "zhu_min" in env.services.org.people
    async with env.db.read() as conn:
        assert await get_user_by_name(conn, "sunli") is None
        assert (await get_user_by_name(conn, ACCOUNTS[role].username)).role == role
    assert [e for e in await env.audit() if e.action.startswith(("org.", "user.")) and e.actor != "test"] == []


async def test_org_forms_need_the_csrf_token(web_env):
    env = web_env
    admin = await env.login(UserRole.ADMIN)
    resp = await admin.post("/org/people/new", data=NEW_PERSON, allow_redirects=False)
    assert resp.status == 403
    resp = await admin.post("/org/users/new", data=NEW_USER, allow_redirects=False)
    assert resp.status == 403
    assert "sun_li" not in env.services.org.people


async def test_every_process_opens_its_services_with_the_stored_people(tmp_path, clock):
    """`monitor serve`, `monitor worker` and the demo open their services this way."""
    from monitor.app import open_services
    from monitor.domain import Person, RoleAssignment

    from .conftest import web_settings

    settings = web_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}")
    first = await open_services(settings, clock=clock, auto_migrate=True)
    try:
        added = Person("sun_li", "孙丽", roles=(RoleAssignment(Role.LIAISON, "emergency"),), email="s@x.example")
        async with first.db.write() as conn:
            await save_override(conn, added, disabled=False, now=clock.now(), actor="admin")
            await save_override(conn, first.org.people["zhu_min"], disabled=True, now=clock.now(), actor="admin")
    finally:
        await first.db.close()
    second = await open_services(settings, clock=clock)
    try:
        assert second.org.people["sun_li"] == added and "zhu_min" not in second.org.people
        assert "zhu_min" not in [p.id for p in second.org.resolve(Role.DUTY_OFFICER, "emergency")]
    finally:
        await second.db.close()


async def test_a_worker_process_follows_people_edited_on_a_web_node(tmp_path, clock):
    """A notifier-only worker (`monitor worker --role notifier`): its directory, which its router
    holds, follows the rows a web node writes, without a restart."""
    import asyncio

    from monitor.app import open_services
    from monitor.runtime import Role as RuntimeRole
    from monitor.runtime import Runtime

    from .conftest import web_settings

    settings = web_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}", data_dir=str(tmp_path))
    services = await open_services(settings, clock=clock, auto_migrate=True)
    org = services.org
    runtime = Runtime(services, asyncio.Event())
    await runtime.start([RuntimeRole.NOTIFIER])
    try:
        await settle(clock, sleepers=2)  # the notifier and the org follower wait on the clock
        async with services.db.write() as conn:  # what a web node's save writes
            await save_override(conn, org.people["zhu_min"], disabled=True, now=clock.now(), actor="admin")
        clock.advance(settings.live_poll_s)
        await settle(clock, sleepers=2)  # both went round once and wait again
        assert "zhu_min" not in org.people and services.org is org  # the same object, changed in place
    finally:
        await runtime.close()
