"""Every route × every role: allowed roles get through, the others get 403, anonymous users are sent
to the login page (HTML) or get 401 (API). Routes without a declared permission are refused."""

import re

import pytest
from aiohttp import web

from monitor.domain import UserRole
from monitor.web.actions.specs import ACTIONS, BY_COMMAND
from monitor.web.app import add_routes
from monitor.web.auth.accounts import issue_token
from monitor.web.auth.permissions import ROLE_PERMISSIONS, Permission, is_public, required_permission

from .conftest import ACCOUNTS, add_incident, post_form

P = Permission
# (method, route path, concrete path, required permission or None for public)
ROUTES = [
    ("GET", "/", "/", None),
    ("GET", "/healthz", "/healthz", None),
    ("GET", "/readyz", "/readyz", None),
    ("GET", "/metrics", "/metrics", None),
    ("GET", "/login", "/login", None),
    ("POST", "/login", "/login", None),
    ("POST", "/logout", "/logout", P.ACCOUNT),
    ("GET", "/queue", "/queue", P.VIEW_QUEUE),
    ("GET", "/queue/rows", "/queue/rows?ids=1", P.VIEW_QUEUE),
    ("POST", "/queue/views", "/queue/views", P.VIEW_QUEUE),
    ("POST", "/queue/views/{view_id}/delete", "/queue/views/999/delete", P.VIEW_QUEUE),
    ("GET", "/events", "/events", P.VIEW_QUEUE),
    ("GET", "/incidents/{incident_id}", "/incidents/{housing}", P.VIEW_QUEUE),
    ("GET", "/incidents/{incident_id}/live", "/incidents/{housing}/live", P.VIEW_QUEUE),
    ("GET", "/incidents/{incident_id}/evidence/{sha256}", "/incidents/{housing}/evidence/" + "0" * 64, P.VIEW_QUEUE),
    ("GET", "/items", "/items", P.VIEW_ITEMS),
    ("GET", "/items/{item_id}", "/items/999", P.VIEW_ITEMS),
    ("POST", "/items/{item_id}/{slug}", "/items/999/open", P.ACT_TRIAGE),
    ("GET", "/sources", "/sources", P.VIEW_SOURCES),
    ("GET", "/sources/new", "/sources/new", P.EDIT_SOURCES),
    ("POST", "/sources/new", "/sources/new", P.EDIT_SOURCES),
    ("GET", "/sources/{source_id}/edit", "/sources/999/edit", P.EDIT_SOURCES),
    ("POST", "/sources/{source_id}/edit", "/sources/999/edit", P.EDIT_SOURCES),
    ("GET", "/leader", "/leader", P.LEADER_VIEW),
    ("GET", "/leader/rows", "/leader/rows", P.LEADER_VIEW),
    ("GET", "/org", "/org", P.ADMIN_ORG),
    ("GET", "/org/people/new", "/org/people/new", P.ADMIN_ORG),
    ("POST", "/org/people/new", "/org/people/new", P.ADMIN_ORG),
    ("GET", "/org/people/{person_id}/edit", "/org/people/nobody/edit", P.ADMIN_ORG),
    ("POST", "/org/people/{person_id}/edit", "/org/people/nobody/edit", P.ADMIN_ORG),
    ("POST", "/org/people/{person_id}/{switch}", "/org/people/nobody/disable", P.ADMIN_ORG),
    ("GET", "/org/users/new", "/org/users/new", P.ADMIN_ORG),
    ("POST", "/org/users/new", "/org/users/new", P.ADMIN_ORG),
    ("GET", "/org/users/{user_id}/edit", "/org/users/999/edit", P.ADMIN_ORG),
    ("POST", "/org/users/{user_id}/edit", "/org/users/999/edit", P.ADMIN_ORG),
    ("POST", "/org/users/{user_id}/password", "/org/users/999/password", P.ADMIN_ORG),
    ("POST", "/org/users/{user_id}/{switch}", "/org/users/999/enable", P.ADMIN_ORG),
    ("GET", "/reports", "/reports", P.VIEW_REPORTS),
    ("GET", "/reports/report.css", "/reports/report.css", P.VIEW_REPORTS),
    ("GET", "/reports/ledger", "/reports/ledger?from=2026-09-01&to=2026-09-30", P.EXPORT_LEDGER),
    ("GET", "/reports/{month}", "/reports/2026-09", P.VIEW_REPORTS),
    ("GET", "/reports/{month}/drill/{key}", "/reports/2026-09/drill/incidents", P.VIEW_REPORTS),
    ("GET", "/reports/{month}/download/{fmt}", "/reports/2026-09/download/json", P.VIEW_REPORTS),
    ("GET", "/account", "/account", P.ACCOUNT),
    ("POST", "/account/password", "/account/password", P.ACCOUNT),
    ("POST", "/account/token", "/account/token", P.ACCOUNT),
    ("POST", "/account/token/revoke", "/account/token/revoke", P.ACCOUNT),
    ("GET", "/api/openapi.json", "/api/openapi.json", None),
    ("GET", "/api/me", "/api/me", P.ACCOUNT),
    ("GET", "/api/incidents", "/api/incidents", P.VIEW_QUEUE),
    ("GET", "/api/incidents/{incident_id}", "/api/incidents/{housing}", P.VIEW_QUEUE),
    ("POST", "/api/items/{item_id}/open", "/api/items/999/open", P.ACT_TRIAGE),
    ("GET", "/api/sources", "/api/sources", P.VIEW_SOURCES),
    ("GET", "/api/leader/due", "/api/leader/due", P.LEADER_VIEW),
]
for spec in ACTIONS:
    ROUTES.append(
        (
            "POST",
            "/incidents/{incident_id}/actions/{slug}",
            f"/incidents/{{housing}}/actions/{spec.slug}",
            spec.permission,
        )
    )
    ROUTES.append(
        (
            "POST",
            f"/api/incidents/{{incident_id}}/{spec.slug}",
            f"/api/incidents/{{housing}}/{spec.slug}",
            spec.permission,
        )
    )


def _registered() -> set[tuple[str, str]]:
    app = web.Application()
    add_routes(app)
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and not isinstance(route.resource, web.StaticResource)
    }


def _plain(path: str) -> str:
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)  # {view_id:\d+} -> {view_id}


def test_the_matrix_covers_every_route():
    assert {(m, _plain(path)) for m, path, _, _ in ROUTES} == {(m, _plain(p)) for m, p in _registered()}


def test_every_handler_declares_access():
    app = web.Application()
    add_routes(app)
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource):
            continue
        assert is_public(route.handler) or required_permission(route.handler) is not None, route


def _expected_allowed(role, permission):
    return permission is None or permission in ROLE_PERMISSIONS[role]


@pytest.mark.parametrize("role", list(UserRole))
async def test_each_role_reaches_exactly_its_routes(web_env, role):
    housing = await add_incident(web_env.db, web_env.clock.now(), title="老旧小区加装电梯纠纷", owner_unit="housing")
    client = await web_env.login(role)
    token = await issue_token(web_env.db, web_env.clock, ACCOUNTS[role].username, actor="test")
    problems = []
    for method, _, path, permission in ROUTES:
        path = path.replace("{housing}", str(housing))
        if path in ("/events", "/logout", "/login") or path.startswith("/account/token"):
            continue  # a stream, the session's end, the login form and token changes: tested on their own
        status = await _request(client, method, path, token)
        allowed = _expected_allowed(role, permission)
        if (allowed and status in (401, 403)) or (not allowed and status != 403):
            problems.append(f"{method} {path}: {status} (expected {'allowed' if allowed else 403})")
    assert problems == [], "\n".join(problems)


async def _request(client, method, path, token):
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}"}
        if method == "GET":
            return (await client.get(path, headers=headers)).status
        return (await client.post(path, json={}, headers=headers)).status
    if method == "GET":
        return (await client.get(path, allow_redirects=False)).status
    return (await post_form(client, path, {})).status


async def test_event_stream_and_logout_permissions(web_env):
    anonymous = await web_env.new_client()
    assert (await anonymous.get("/events")).status == 401
    assert (await anonymous.post("/logout", allow_redirects=False)).status == 401
    for role in UserRole:
        client = await web_env.login(role)
        async with client.get("/events") as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
            assert (await resp.content.readline()).startswith(b"retry:")


async def test_anonymous_gets_login_redirect_or_401(web_env):
    await add_incident(web_env.db, web_env.clock.now())
    client = await web_env.new_client()
    for method, _, path, permission in ROUTES:
        if permission is None or "{housing}" in path or path == "/events":
            continue
        if path.startswith("/api/"):
            resp = await (client.get(path) if method == "GET" else client.post(path, json={}))
            assert resp.status == 401, path
            body = await resp.json()
            assert set(body) == {"message", "field"} and "令牌" in body["message"]
        elif method == "GET":
            resp = await client.get(path, allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"].startswith("/login?next="), path
        else:
            assert (await client.post(path, data={}, allow_redirects=False)).status == 401, path


async def test_unit_handlers_see_only_their_units(web_env):
    now = web_env.clock.now()
    own = await add_incident(web_env.db, now, title="住建局负责的事件", owner_unit="housing")
    co = await add_incident(web_env.db, now, title="住建局协办的事件", owner_unit="emergency", co_units=["housing"])
    other = await add_incident(web_env.db, now, title="应急局独办的事件", owner_unit="emergency")
    unit = await web_env.login(UserRole.UNIT_HANDLER)
    page = await (await unit.get("/queue")).text()
    assert "住建局负责的事件" in page and "住建局协办的事件" in page and "应急局独办的事件" not in page
    assert (await unit.get(f"/incidents/{own}")).status == 200
    assert (await unit.get(f"/incidents/{co}")).status == 200
    assert (await unit.get(f"/incidents/{other}")).status == 404  # not even its existence is shown
    resp = await post_form(unit, f"/incidents/{other}/actions/notes", {"text": "试图越权"})
    assert resp.status == 404
    rows = await (await unit.get(f"/queue/rows?ids={own},{other}")).json()
    assert list(rows["rows"]) == [str(own)] and rows["gone"] == [other]
    duty = await web_env.login(UserRole.DUTY_OFFICER)
    assert "应急局独办的事件" in await (await duty.get("/queue")).text()


EXPECTED_ACTIONS = {  # the README's permission table
    UserRole.DUTY_OFFICER: set(BY_COMMAND) - {"ApprovePause", "RejectPause", "Supervise"},
    UserRole.UNIT_HANDLER: {
        "Accept",
        "Return",
        "RecordResponse",
        "RecordReport",
        "FulfilCommitment",
        "ReferRumor",
        "ExtendDeadline",
        "Acknowledge",
        "RequestPause",
        "AddNote",
    },
    UserRole.LEADER: {"ExtendDeadline", "Acknowledge", "ApprovePause", "RejectPause", "AddNote"},
    UserRole.ANALYST: {"RecordEvaluation"},
    UserRole.ADMIN: set(BY_COMMAND) - {"Supervise"},  # 督办 is 政府办's own act
    UserRole.GOV_OFFICE: {"Supervise", "Acknowledge", "AddNote"},
}


IN_PROMPT_ONLY = {"DismissCitizenPrompt"}  # inside the 市民来信/12345 prompt only (tests/web/test_citizen.py)


@pytest.mark.parametrize("role", list(UserRole))
async def test_each_role_sees_and_may_use_exactly_its_actions(web_env, role):
    env = web_env
    incident = await add_incident(env.db, env.clock.now(), owner_unit="housing")
    client = await env.login(role)
    html = await (await client.get(f"/incidents/{incident}")).text()
    shown = {spec.command for spec in ACTIONS if f'id="action-{spec.slug}"' in html}
    assert shown == EXPECTED_ACTIONS[role] - IN_PROMPT_ONLY
    token = await issue_token(env.db, env.clock, ACCOUNTS[role].username, actor="test")
    for spec in ACTIONS:
        if spec.command in EXPECTED_ACTIONS[role]:
            continue
        form = await post_form(client, f"/incidents/{incident}/actions/{spec.slug}", {})
        api = await env.client.post(
            f"/api/incidents/{incident}/{spec.slug}", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert form.status == 403 and api.status == 403, spec.command
        assert role.label in (await api.json())["message"]


async def test_unit_handlers_act_only_on_their_units_incidents(web_env):
    env = web_env
    own = await add_incident(env.db, env.clock.now(), title="住建局事件", owner_unit="housing")
    other = await add_incident(env.db, env.clock.now(), title="应急局事件", owner_unit="emergency")
    unit = await env.login(UserRole.UNIT_HANDLER)
    form = {"report_kind": "first", "channel": "written", "signer": "王晨阳"}
    assert (await post_form(unit, f"/incidents/{own}/actions/reports", form)).status == 303
    assert (await post_form(unit, f"/incidents/{other}/actions/reports", form)).status == 404
    token = await issue_token(env.db, env.clock, "unit", actor="test")
    resp = await env.client.post(
        f"/api/incidents/{other}/reports", json=form, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 404 and (await resp.json())["field"] == "incident_id"
    assert [e.target_id for e in await env.audit("incident.record_report")] == [str(own)]


async def test_actions_without_a_csrf_token_are_refused(web_env):
    env = web_env
    incident = await add_incident(env.db, env.clock.now())
    client = await env.login(UserRole.DUTY_OFFICER)
    resp = await client.post(f"/incidents/{incident}/actions/acknowledge", data={}, allow_redirects=False)
    assert resp.status == 403
    resp = await client.post(f"/incidents/{incident}/actions/acknowledge", data={"_csrf": "forged"})
    assert resp.status == 403
    assert await env.audit("incident.acknowledge") == []
