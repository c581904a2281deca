"""Login, sessions, lock-out, rate limit, CSRF, logout, password change — each attempt audited."""

from datetime import timedelta

from monitor.domain import UserRole
from monitor.web.auth.login import safe_next
from monitor.web.auth.sessions import SESSION_COOKIE

from .conftest import ACCOUNTS, PASSWORD, csrf_of, login, post_form


async def test_pages_need_a_login_and_login_returns_to_the_page(web_env):
    client = await web_env.new_client()
    resp = await client.get("/queue?level=L1", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=/queue?level=L1")
    resp = await login(client, "duty", PASSWORD, next_url="/queue?level=L1")
    assert resp.status == 303 and resp.headers["Location"] == "/queue?level=L1"
    cookie = resp.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    page = await client.get("/queue")
    assert page.status == 200 and "朱敏" in await page.text()
    [entry] = await web_env.audit("login.success")
    assert entry.actor == "duty" and entry.after == {"failed_logins": 0} and entry.ip == "127.0.0.1"


async def test_secure_cookie_only_behind_a_trusted_proxy(web_env):
    client = await web_env.new_client()
    await client.get("/login")
    resp = await login(client, "duty", PASSWORD)
    assert not resp.cookies[SESSION_COOKIE]["secure"]  # X-Forwarded-Proto ignored: proxy not trusted
    page = await client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in page.headers


async def test_wrong_password_counts_and_locks_then_unlocks_with_time(web_env):
    client = await web_env.new_client()
    settings = web_env.services.settings
    for attempt in range(1, settings.login_max_failures):
        resp = await login(client, "duty", "wrong-password-1")
        assert resp.status == 401
        assert f"再错 {settings.login_max_failures - attempt} 次" in await resp.text()
    resp = await login(client, "duty", "wrong-password-1")
    assert resp.status == 401 and "账户已锁定" in await resp.text()
    resp = await login(client, "duty", PASSWORD)  # the right password does not help while locked
    assert resp.status == 403 and "账户已锁定" in await resp.text()
    failures = await web_env.audit("login.failure")
    assert [f.after["failed_logins"] for f in failures] == list(range(1, settings.login_max_failures + 1))
    assert failures[-1].after["locked_until"] is not None
    assert len(await web_env.audit("login.locked")) == 1
    web_env.clock.advance(timedelta(minutes=settings.login_lockout_min, seconds=1))
    resp = await login(client, "duty", PASSWORD)
    assert resp.status == 303


async def test_unknown_user_gets_the_same_answer(web_env):
    client = await web_env.new_client()
    resp = await login(client, "nobody", "whatever-password")
    assert resp.status == 401 and "用户名或密码错误" in await resp.text()
    [entry] = await web_env.audit("login.failure")
    assert entry.actor == "anonymous" and entry.after == {"reason": "unknown user"}


async def test_per_address_rate_limit(web_env):
    client = await web_env.new_client()
    attempts = web_env.services.settings.login_ip_attempts
    for _ in range(attempts):
        assert (await login(client, "nobody", "x-password-x")).status == 401
    resp = await login(client, "duty", PASSWORD)
    assert resp.status == 429 and "过于频繁" in await resp.text() and int(resp.headers["Retry-After"]) > 0
    assert len(await web_env.audit("login.rate_limited")) == 1
    web_env.clock.advance(timedelta(minutes=web_env.services.settings.login_lockout_min))
    assert (await login(client, "duty", PASSWORD)).status == 303


async def test_login_form_needs_its_csrf_token(web_env):
    client = await web_env.new_client()
    await client.get("/login")
    resp = await client.post(
        "/login", data={"username": "duty", "password": PASSWORD, "_csrf": "forged"}, allow_redirects=False
    )
    assert resp.status == 403 and "CSRF" in await resp.text()
    assert "duty" in await resp.text()  # the username typed is kept


async def test_empty_fields_are_named(web_env):
    client = await web_env.new_client()
    page = await client.get("/login")
    token = (await page.text()).split('name="_csrf" value="')[1].split('"')[0]
    resp = await client.post("/login", data={"username": "duty", "password": "", "_csrf": token})
    text = await resp.text()
    assert (
        resp.status == 400
        and "请填写用户名和密码" in text
        and 'name="password" required autocomplete="current-password" aria-invalid="true"' in text
    )


async def test_forms_refuse_a_missing_or_wrong_csrf_token(web_env):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    resp = await client.post("/queue/views", data={"name": "红色"}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post("/queue/views", data={"name": "红色", "_csrf": "nope"}, allow_redirects=False)
    assert resp.status == 403
    resp = await post_form(client, "/queue/views", {"name": "红色", "level": "L1"})
    assert resp.status == 303


async def test_disabled_user_cannot_log_in_and_loses_sessions(web_env):
    from monitor.web.auth.accounts import change_account

    client = await web_env.login(UserRole.ANALYST)
    await change_account(
        web_env.db, web_env.clock, "analyst", "user.disable", {"disabled": True}, actor="test", end_sessions=True
    )
    assert (await client.get("/queue", allow_redirects=False)).status == 303
    resp = await login(client, "analyst", PASSWORD)
    assert resp.status == 403 and "已停用" in await resp.text()


async def test_sessions_end_when_idle_and_at_max_age(web_env):
    settings = web_env.services.settings
    client = await web_env.login(UserRole.DUTY_OFFICER)
    web_env.clock.advance(timedelta(minutes=settings.session_idle_min - 1))
    assert (await client.get("/queue")).status == 200  # activity keeps it alive
    web_env.clock.advance(timedelta(minutes=settings.session_idle_min - 1))
    assert (await client.get("/queue")).status == 200
    web_env.clock.advance(timedelta(minutes=settings.session_idle_min))
    assert (await client.get("/queue", allow_redirects=False)).status == 303
    client = await web_env.login(UserRole.DUTY_OFFICER)
    for _ in range(int(settings.session_max_age_h * 60 // (settings.session_idle_min / 2)) + 1):
        web_env.clock.advance(timedelta(minutes=settings.session_idle_min / 2))
        status = (await client.get("/account", allow_redirects=False)).status
    assert status == 303


async def test_logout_ends_the_session_server_side(web_env):
    client = await web_env.login(UserRole.LEADER)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    assert (await post_form(client, "/logout")).status == 303
    other = await web_env.new_client()
    other.session.cookie_jar.update_cookies({SESSION_COOKIE: cookie})
    assert (await other.get("/queue", allow_redirects=False)).status == 303
    assert [e.actor for e in await web_env.audit("logout")] == ["leader"]


async def test_password_change_checks_input_and_ends_sessions(web_env):
    client = await web_env.login(UserRole.ANALYST)
    resp = await post_form(client, "/account/password", {"current": "bad", "new": "short", "repeat": "short"})
    text = await resp.text()
    assert resp.status == 400 and "「当前密码」不正确" in text and "至少需要 10 个字符" in text
    resp = await post_form(
        client, "/account/password", {"current": PASSWORD, "new": "a-new-pass-2026", "repeat": "a-new-pass-2026"}
    )
    assert resp.status == 303
    assert (await client.get("/queue", allow_redirects=False)).status == 303
    assert (await login(client, "analyst", PASSWORD)).status == 401
    assert (await login(client, "analyst", "a-new-pass-2026")).status == 303
    assert len(await web_env.audit("user.password")) == 1


def test_next_redirect_stays_on_site():
    assert safe_next("/incidents/3") == "/incidents/3"
    for bad in ("//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil", None, ""):
        assert safe_next(bad) == "/queue"


async def test_csrf_token_is_per_session(web_env):
    a = await web_env.login(UserRole.DUTY_OFFICER)
    b = await web_env.login(UserRole.DUTY_OFFICER)
    assert await csrf_of(a) != await csrf_of(b)
    assert ACCOUNTS[UserRole.DUTY_OFFICER].username == "duty"


async def test_a_form_from_a_stale_page_says_so_instead_of_denying_permission(web_env):
    """A page opened before signing in again carries the old session's CSRF token: the duty officer
    is told the page is stale and how to keep what they typed, not that they lack permission."""
    client = await web_env.login(UserRole.DUTY_OFFICER)
    stale_token = await csrf_of(client)
    assert (await post_form(client, "/logout")).status == 303  # signed out and in again in another tab
    assert (await login(client, "duty", PASSWORD)).status == 303
    resp = await client.post("/queue/views", data={"name": "红色", "_csrf": stale_token}, allow_redirects=False)
    text = await resp.text()
    assert resp.status == 403
    assert "页面已过期" in text and "刷新" in text and "后退" in text
    assert "没有权限" not in text


async def test_a_form_sent_after_the_session_ended_says_to_sign_in_again(web_env):
    client = await web_env.login(UserRole.DUTY_OFFICER)
    token = await csrf_of(client)
    web_env.clock.advance(timedelta(minutes=web_env.services.settings.session_idle_min + 1))
    resp = await client.post("/queue/views", data={"name": "红色", "_csrf": token}, allow_redirects=False)
    text = await resp.text()
    assert resp.status == 401
    assert "登录已过期" in text and "后退" in text and 'href="/login"' in text
