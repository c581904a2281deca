"""The demo's accounts: one per role, each able to sign in with the printed password and landing
where that role works (and refused where it does not)."""

from aiohttp.test_utils import TestClient, TestServer

from monitor.app import Services
from monitor.changes import LocalChangeFeed
from monitor.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_accounts
from monitor.domain import UserRole
from monitor.web.app import create_web_app

from .conftest import fresh_org, login, web_settings

WORKS = {
    UserRole.DUTY_OFFICER: ("/queue", "/sources/new", "/leader"),
    UserRole.UNIT_HANDLER: ("/queue", "/account", "/items"),
    UserRole.LEADER: ("/leader", "/reports", "/sources"),
    UserRole.ANALYST: ("/reports", "/sources", "/org"),
    UserRole.ADMIN: ("/org", "/org/users/new", None),
    UserRole.GOV_OFFICE: ("/queue", "/reports", "/org"),
}


async def test_one_demo_account_per_role_signs_in_and_lands_where_it_works(sqlite_db, clock):
    services = Services(settings=web_settings(), clock=clock, db=sqlite_db, org=fresh_org(), changes=LocalChangeFeed())
    lines = await create_demo_accounts(services)
    assert {a.role for a in DEMO_ACCOUNTS} == set(UserRole) and len(lines) == len(UserRole)
    for account, line in zip(DEMO_ACCOUNTS, lines, strict=True):
        assert f"用户名 {account.username}" in line and DEMO_PASSWORD in line and account.role.label in line
    server = TestServer(create_web_app(services))
    clients = [TestClient(server) for _ in DEMO_ACCOUNTS]  # one browser (cookie jar) per account
    try:
        for client, account in zip(clients, DEMO_ACCOUNTS, strict=True):
            await client.start_server()
            assert (await login(client, account.username, DEMO_PASSWORD)).status == 303
            home, allowed, refused = WORKS[account.role]
            assert (await client.get(home)).status == 200, (account.username, home)
            assert (await client.get(allowed)).status == 200, (account.username, allowed)
            if refused:
                assert (await client.get(refused)).status == 403, (account.username, refused)
    finally:
        for client in reversed(clients):
            await client.close()
