"""Scale-out on the real PostgreSQL: 3 worker processes per role, 10,000 obligations, workers SIGKILLed.

Runs `monitor worker` subprocesses on an accelerated clock (120× wall time: the simulated hour of
due reminders passes in 30 s) and proves every notification was delivered exactly once and every
source fetched once per interval — from the collectors' fetch log, which must account for every
request the feed server answered (monitor/bench/scaleout/checks.py says precisely what that means
when a worker dies).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitor.bench.scaleout import SIM_START, run_scenario
from monitor.bench.scaleout.harness import Plan

from .conftest import PG_ENV, PgServer

pytestmark = pytest.mark.pg


@pytest.mark.timeout(240)
async def test_workers_share_the_work_and_survive_a_kill(pg_server: PgServer | None, tmp_path):
    if pg_server is None:
        pytest.skip(f"PostgreSQL case skipped: set {PG_ENV}")
    name = await pg_server.create(template=pg_server.template)
    plan = Plan(pg_server.url_for(name), tmp_path, SIM_START, obligations=10_000, window=timedelta(hours=1),
                sources=30, poll_interval=timedelta(minutes=5), speed=120.0, workers=3,
                settings={"NOTIFY_LEASE_S": "1200"})  # fmt: skip
    report = await run_scenario(plan, kills={"notifier": 0.25, "collector": 0.4, "engine": 0.55})
    print(f"seed {report.seed_s:.1f} s, delivered after {report.delivered_s:.1f} s, kills {report.kills}")
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
