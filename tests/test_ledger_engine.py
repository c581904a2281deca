"""Imported ledger rows under the clock engine: historical deadlines are counted, never alerted on;
a message still within its deadline at the import is a live duty the engine takes over at once."""

import csv
from datetime import datetime, timedelta

from sqlalchemy import select

from monitor.clock import SHANGHAI, FakeClock
from monitor.domain import ResponseKind
from monitor.domain import commands as c
from monitor.engine.commands import execute
from monitor.engine.runner import Engine
from monitor.ledger.importer import import_ledger
from monitor.ledger.mapping import load_mapping
from monitor.ledger.plan import ImportRules
from monitor.reports.build import Period
from monitor.reports.service import generate, names_from_org
from monitor.storage.repo.engine import list_obligations
from monitor.storage.schema import incidents, obligations, outbox, timers
from tests.conftest import REPO
from tests.engine_support import ORG, POLICY, Svc, outbox_keys

MAPPING = load_mapping(REPO / "playbooks/import/message-board.yaml")
RULES = ImportRules(POLICY.playbook, POLICY.calendar, ORG)
IMPORTED_AT = datetime(2026, 11, 1, 8, tzinfo=SHANGHAI)
RECENT = IMPORTED_AT - timedelta(hours=10)  # unanswered, 38 h of its 48 h left at the import


def ledger(path):
    rows = [
        ["old-open", "旧留言未答复", "2016/2/19 8:43:00", "", ""],
        ["recent-open", "新留言未答复", RECENT.strftime("%Y/%m/%d %H:%M:%S"), "", ""],
        ["old-replied", "旧留言已答复", "2016/2/19 8:43:00", "已答复", "2016/2/22 8:43:00"],
    ]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["msg_id", "user_id", "title", "time", "detail", "reply", "reply_time"])
        writer.writerows([[i, "u1", title, time, "正文", reply, reply_at] for i, title, time, reply, reply_at in rows])
    return path


async def ids_by_ref(db):
    async with db.read() as conn:
        rows = await conn.execute(select(incidents.c.external_ref, incidents.c.id, incidents.c.playbook_hash))
        return {ref.rsplit(":", 1)[1]: (iid, digest) for ref, iid, digest in rows}


async def alerted(db, incident_id):
    return [k for k in await outbox_keys(db) if k.startswith(f"{incident_id}:")]


async def alerted_rules(db, incident_id):
    async with db.read() as conn:
        payloads = (await conn.execute(select(outbox.c.payload).where(outbox.c.incident_id == incident_id))).scalars()
        return {p["rule"]["id"] for p in payloads}


async def test_historical_deadlines_never_alert_and_live_ones_escalate(db, tmp_path):
    result = await import_ledger(db, ledger(tmp_path / "board.csv"), MAPPING, IMPORTED_AT, RULES)
    assert (result.imported, result.responded, result.live) == (3, 1, 1)
    ids = await ids_by_ref(db)
    old, recent, replied = ids["old-open"][0], ids["recent-open"][0], ids["old-replied"][0]
    assert {digest for _, digest in ids.values()} == {POLICY.playbook.digest}  # confirmed under a snapshot
    async with db.read() as conn:
        woken = set((await conn.execute(select(timers.c.incident_id))).scalars())
        statuses = dict((await conn.execute(select(obligations.c.incident_id, obligations.c.status))).all())
        stored = {o.incident_id: o for o in await list_obligations(conn)}  # read back as the engine reads them
    assert woken == {recent}  # only the running deadline is handed to the engine
    assert statuses == {old: "breached", recent: "open", replied: "late"}
    assert stored[replied].met_by == "website_reply 台账 message-board:old-replied"

    svc = Svc(db, FakeClock(IMPORTED_AT))
    await Engine(svc).tick()
    assert await alerted(db, old) == [] and await alerted(db, replied) == []
    assert await alerted(db, recent)  # the ladder's first rung, as for any live incident

    # Someone acts on the 2016 incidents: the engine re-plans them and alerts nobody about 2016.
    noted = await execute(svc, c.AddNote(incident_id=old, actor="li_ming", at=IMPORTED_AT, text="历史留言，核实中"))
    assert noted.alerts == 0 and await alerted(db, old) == []
    answer = c.RecordResponse(
        incident_id=old, actor="li_ming", at=IMPORTED_AT, kind=ResponseKind.WEBSITE_REPLY,
        approved_by="sun_lihua", url="https://gov.example/reply/1", published_at=IMPORTED_AT,
    )  # fmt: skip
    done = await execute(svc, answer)
    statuses = {o.rule_id: o.status.value for o in done.obligations}
    assert statuses == {"GB61-RESPOND-48H": "late", "GB61-CONTINUOUS": "open"}
    # The reply starts today's duty of continued releases (the incident is still open): that one is live.
    assert await alerted_rules(db, old) == {"GB61-CONTINUOUS"}

    # The live one breaches 38 h after the import: alerted like any other incident.
    before = set(await alerted(db, recent))
    svc.clock.advance(timedelta(hours=38, minutes=1))
    await Engine(svc).tick()
    assert any(":breach" in k for k in set(await alerted(db, recent)) - before)
    assert await alerted_rules(db, recent) == {"GB61-RESPOND-48H"}
    assert "GB61-RESPOND-48H" not in await alerted_rules(db, old) and await alerted(db, replied) == []


async def test_the_report_still_counts_historical_breaches(db, tmp_path):
    await import_ledger(db, ledger(tmp_path / "board.csv"), MAPPING, IMPORTED_AT, RULES)
    report = await generate(db, Period(2016, 2), IMPORTED_AT, names_from_org(ORG))
    rule = report.contract["rules"]["GB61-RESPOND-48H"]
    assert (rule["due"], rule["breached"], rule["met_late"]) == (2, 1, 1)
