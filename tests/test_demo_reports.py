"""The demo shows monthly reports: a synthetic 留言 ledger (written for the project, marked as demo
data) is imported at start, so earlier months have figures; the current month's report works too."""

from __future__ import annotations

import asyncio
import csv
import json
import re
from datetime import timedelta

import aiohttp
from sqlalchemy import func, select

from monitor.clock import to_local
from monitor.demo.ledger import TEMPLATE, write_ledger
from monitor.reports.build import Period
from monitor.storage.db import Database
from monitor.storage.schema import incidents, outbox

from .conftest import START
from .demo_support import start_demo
from .test_demo import _demo_login


def template_rows():
    with TEMPLATE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_the_demo_ledger_ends_before_now_and_is_marked(tmp_path):
    path = write_ledger(START, tmp_path / "ledger.csv")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(template_rows()) >= 40
    local_now = to_local(START).strftime("%Y-%m-%d %H:%M")
    assert all(r["title"].startswith("【演示】") and "演示数据" in r["detail"] for r in rows)
    assert all(r["time"] < local_now for r in rows)
    assert all(r["time"] <= r["reply_time"] < local_now for r in rows if r["reply_time"])
    months = {r["time"][:7] for r in rows}
    assert {"2026-07", "2026-08", "2026-09"} <= months  # the current month and the two before it


async def test_the_demo_reports_page_shows_this_month_and_earlier_ones(tmp_path):
    collected = asyncio.Event()
    demo = await start_demo(tmp_path, on_line=lambda line: line.startswith("采集完成") and collected.set())
    info, lines = demo.info, demo.lines
    await collected.wait()
    assert any(line.startswith(f"已导入演示用历史留言台账 {len(template_rows())} 条") for line in lines)
    days = [START - timedelta(days=int(r["days_ago"])) for r in template_rows()]
    august, september = (sum(1 for d in days if Period(2026, m).contains(d)) for m in (8, 9))
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await _demo_login(session, info.url, "analyst")
        async with session.get(info.url + "reports") as resp:
            page = await resp.text()
        assert resp.status == 200 and "明湖市政务舆情回应情况月报（2026年9月）" in page and "本月尚未结束" in page
        tile = re.search(r'data-kpi="incidents">(?:<a href="[^"]+" data-drill="incidents">)?([\d,]+)<', page)
        kpi = int(tile.group(1).replace(",", ""))  # the tile is a link to the incidents behind it
        assert kpi > september  # the ledger's messages of this month and the incidents the demo collected
        assert '<option value="2026-07">' in page  # the picker offers the imported months
        async with session.get(info.url + "reports/2026-08/download/json") as resp:
            contract = json.loads(await resp.text())
    assert contract["incidents"] == august > 5 and contract["previous"]["incidents"] > 0
    assert 0 < contract["response_rate"] < 1 and contract["rules"]["GB61-RESPOND-48H"]["breached"] > 0
    await demo.finish()
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    try:
        async with db.read() as conn:
            imported = select(incidents.c.id).where(incidents.c.external_ref.like("import:demo-ledger:%"))
            alerts = await conn.execute(select(func.count()).where(outbox.c.incident_id.in_(imported)))
            assert alerts.scalar_one() == 0  # months-old deadlines are history: nobody is alerted
    finally:
        await db.close()
