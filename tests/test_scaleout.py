"""Scale-out on the real PostgreSQL: stateless web nodes sharing live updates through LISTEN/NOTIFY,
and 3 worker processes per role with 10,000 obligations and workers SIGKILLed.

Runs `monitor worker` subprocesses on an accelerated clock (120× wall time: the simulated hour of
due reminders passes in 30 s) and proves every notification was delivered exactly once and every
source fetched once per interval — from the collectors' fetch log, which must account for every
request the feed server answered (monitor/bench/scaleout/checks.py says precisely what that means
when a worker dies). The database is seeded (timeline events by COPY) while the workers start, and
the workers' idle waits are scaled to the clock, so the test's time is the workers' real work.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from monitor.app import open_services
from monitor.bench.scaleout import SIM_START, run_scenario
from monitor.bench.scaleout.harness import Plan
from monitor.clock import FakeClock
from monitor.domain import UserRole
from monitor.storage.changefeed import PgChangeFeed
from monitor.web.app import create_web_app
from monitor.web.auth.accounts import add_account
from monitor.web.auth.passwords import PasswordHasher

from .conftest import PG_ENV, START, PgServer
from .web.conftest import ACCOUNTS, ORG, PASSWORD, add_incident, login, post_form, web_settings

pytestmark = pytest.mark.pg


async def test_stateless_web_nodes_share_sessions_and_live_updates_through_listen_notify(
    pg_server: PgServer | None,
):
    """Two web nodes (no roles, own processes' worth of state each) on one database: a login on one
    is valid on the other, and a note added through one reaches the other's live stream at once.
    Their clocks never move, so the polling fallback never runs: only LISTEN/NOTIFY can carry it."""
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    url = pg_server.url_for(await pg_server.create(template=pg_server.template))
    settings = web_settings(database_url=url, serve_roles="")
    nodes = [await open_services(settings, clock=FakeClock(START)) for _ in range(2)]
    hasher = PasswordHasher.for_tests()
    clients: list[TestClient] = []
    try:
        for account in ACCOUNTS.values():
            await add_account(nodes[0].db, hasher, nodes[0].clock, ORG, account, PASSWORD, actor="test")
        for node in nodes:
            assert isinstance(node.changes, PgChangeFeed)
            clients.append(TestClient(TestServer(create_web_app(node, hasher=hasher))))
            await clients[-1].start_server()
        a, b = clients
        incident = await add_incident(nodes[0].db, START, title="两节点共享的事件")
        await login(a, ACCOUNTS[UserRole.DUTY_OFFICER].username, PASSWORD)
        b.session.cookie_jar.update_cookies(a.session.cookie_jar.filter_cookies(URL(str(a.make_url("/")))))
        assert (await b.get("/queue", allow_redirects=False)).status == 200  # the session lives in the database
        async with b.get("/events") as stream:
            await stream.content.readline()
            await asyncio.wait_for(nodes[1].changes.connected.wait(), 30)  # type: ignore[attr-defined]
            assert (await post_form(a, f"/incidents/{incident}/actions/notes", {"text": "甲节点的记录"})).status == 303
            assert await _next_ids(stream) == [incident]
        page = await (await b.get(f"/incidents/{incident}")).text()
        assert "甲节点的记录" in page
    finally:
        for client in clients:
            await client.close()
        for node in nodes:
            await node.changes.close()
            await node.db.close()


async def _next_ids(resp) -> list[int]:
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 20)).decode()
        if line.startswith("data: "):
            return json.loads(line[6:])["ids"]


@pytest.mark.timeout(240)
async def test_workers_share_the_work_and_survive_a_kill(pg_server: PgServer | None, tmp_path):
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    name = await pg_server.create(template=pg_server.template)
    plan = Plan(pg_server.url_for(name), tmp_path, SIM_START, obligations=10_000, window=timedelta(hours=1),
                sources=30, poll_interval=timedelta(minutes=5), speed=120.0, workers=3,
                settings={"NOTIFY_LEASE_S": "1200"})  # fmt: skip
    report = await run_scenario(plan, kills={"notifier": 0.25, "collector": 0.4, "engine": 0.55})
    print(f"seeded in {report.seed_s:.1f} s (as the workers started), delivered after {report.delivered_s:.1f} s")
    assert set(report.kills) == {"notifier", "collector", "engine"}
    assert report.reminders == 10_000
    warn_rows = [r for r in report.records if ":warn-half:" in r.idempotency_key]
    assert len(warn_rows) == 10_000
    assert report.delivery_problems() == []
    assert report.fetch_problems() == []
    # every worker logged structured passes of its role
    for worker, text in report.worker_logs.items():
        role = worker.split("-")[0]
        events = [json.loads(line).get("event") for line in text.splitlines() if line.startswith("{")]
        assert f"{role}.pass" in events or "runtime.start" in events, worker
