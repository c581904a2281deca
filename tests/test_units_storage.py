"""Lead/co-units and 是否需要回应 through clustering, the engine, the queue and the monthly report
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from monitor.clock import SHANGHAI
from monitor.collectors.cluster import cluster_pending
from monitor.domain import EventKind, EventType, OpinionLevel
from monitor.domain import commands as c
from monitor.domain.clustering import ClusterPolicy
from monitor.engine.commands import SYSTEM_ACTOR, execute
from monitor.engine.runner import Engine
from monitor.reports.build import Period
from monitor.reports.service import generate, names_from_org
from monitor.storage.repo.engine import list_obligations
from monitor.storage.repo.incidents import get_incident, list_events
from monitor.storage.repo.queue import QueueFilter, queue_page
from monitor.storage.schema import incidents, outbox

from .engine_support import ORG, POLICY, Svc, new_incident
from .test_collectors_cluster import row, setup_sources, store

H = timedelta(hours=1)
POLICY_C = ClusterPolicy(window=timedelta(hours=72), threshold=0.25)
NOISE = "城东锦绣花园小区老旧小区改造工程夜间施工噪音扰民，居民多次投诉无果。"


def classified(n, title, text, co_units=(), *, multi=False, region="chengdong", **kw):
    r = row(n, title, text, region=region, event_type="livelihood", level=None, **kw)
    r["department"] = "housing"
    r["classification"] = {"co_unit_ids": [{"department": d, "region": g} for d, g in co_units], "multi_region": multi}
    return r


async def only_incident(db):
    async with db.read() as conn:
        (iid,) = (await conn.execute(select(incidents.c.id))).scalars().all()
        return await get_incident(conn, iid), await list_events(conn, iid)


async def test_clustering_fills_lead_and_co_units_and_later_items_add_without_dropping(db, clock):
    await setup_sources(db)
    await store(db, [classified(1, "锦绣花园改造施工噪音扰民", NOISE, [("urban_management", "chengdong")])])
    await cluster_pending(db, clock, POLICY_C)
    incident, _ = await only_incident(db)
    assert (incident.owner_unit, incident.lead_unit, incident.co_units) == ("housing", "housing", ("urban_management",))

    later = classified(2, "锦绣花园改造施工噪音扰民 居民投诉", NOISE, [("ecology", "chengdong")], source=2)
    await store(db, [later])
    await cluster_pending(db, clock, POLICY_C)
    incident, timeline = await only_incident(db)
    assert incident.co_units == ("urban_management", "ecology")
    attached = [e for e in timeline if e.kind == EventKind.ITEM_ATTACHED]
    assert attached[-1].payload["co_units_added"] == ["ecology"]

    third = classified(3, "锦绣花园改造施工噪音扰民 多方回应", NOISE, [("housing", "chengdong")], source=3)
    await store(db, [third])  # names the lead again for its own locality: nothing to add, nothing dropped
    await cluster_pending(db, clock, POLICY_C)
    incident, _ = await only_incident(db)
    assert incident.co_units == ("urban_management", "ecology") and not incident.multi_region

    localities = [("housing", "chengdong"), ("housing", "beihu")]
    spread = classified(
        4, "锦绣花园改造施工噪音扰民 北湖镇也有类似情况", NOISE, localities, multi=True, region=None, source=2
    )
    await store(db, [spread])
    await cluster_pending(db, clock, POLICY_C)
    incident, _ = await only_incident(db)
    assert incident.co_units == ("urban_management", "ecology", "chengdong", "beihu") and incident.multi_region
    assert incident.owner_unit == "housing"  # the city's 主管部门 owns an opinion spanning several localities


async def test_a_co_units_handler_sees_the_incident_and_its_people_are_alerted(db, clock):
    await setup_sources(db)
    await store(db, [classified(1, "锦绣花园改造施工噪音扰民", NOISE, [("urban_management", "chengdong")])])
    await cluster_pending(db, clock, POLICY_C)
    svc = Svc(db, clock)
    incident, _ = await only_incident(db)
    async with db.read() as conn:
        page = await queue_page(conn, QueueFilter(scope=frozenset({"urban_management"})), clock.now())
    assert [r.id for r in page.rows] == [incident.id]
    await execute(svc, c.Confirm(incident_id=incident.id, actor="zhu_min", at=clock.now()))
    async with db.read() as conn:
        rows = list(await conn.execute(select(outbox.c.recipient, outbox.c.payload)))
    co_rows = [r for r in rows if r.payload["step"] == "co-assigned"]
    assert co_rows and all(r.payload["text"].startswith("【协办】") for r in co_rows)
    urban = {p.id for p in ORG.people.values() if any(a.unit == "urban_management" for a in p.roles)}
    assert {r.recipient for r in co_rows} <= urban


async def test_confirmation_of_an_l4_item_requires_the_48h_response_and_says_why(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L4", title="网民咨询公积金提取流程", owner_unit="gov_services",
                             event_type=EventType.OTHER_GOV)  # fmt: skip
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    async with db.read() as conn:
        incident = await get_incident(conn, iid)
        events = await list_events(conn, iid)
        rules = {o.rule_id for o in await list_obligations(conn, [iid])}
    assert incident.requires_response is True
    confirmed = next(e for e in events if e.kind == EventKind.CONFIRMED)
    basis = confirmed.payload["requires_response_basis"]
    assert confirmed.payload["requires_response"] is True and "48小时" in basis and "无需回应" in basis
    assert "GB61-RESPOND-48H" in rules


async def test_a_persons_no_response_stands_against_later_system_regrades(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L4", owner_unit="gov_services", event_type=EventType.OTHER_GOV)
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    no = c.Regrade(
        incident_id=iid, actor="zhu_min", at=clock.now(), reason="系咨询，已线下答复", requires_response=False
    )
    await execute(svc, no)
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).requires_response is False
        obligations = {o.rule_id: o.status for o in await list_obligations(conn, [iid])}
    assert obligations.get("GB61-RESPOND-48H") in (None, "cancelled")
    raise_l2 = c.Regrade(incident_id=iid, actor=SYSTEM_ACTOR, at=clock.now(), reason="省级媒体转载",
                         opinion_level=OpinionLevel.L2)  # fmt: skip
    await execute(svc, raise_l2)
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).requires_response is False  # the person's choice stands


async def test_the_monthly_report_counts_only_incidents_requiring_a_response(db, clock):
    clock.set(datetime(2026, 10, 12, 9, tzinfo=SHANGHAI))
    svc = Svc(db, clock)
    enquiry = await new_incident(svc, None, "L4", owner_unit="gov_services", event_type=EventType.OTHER_GOV)
    misread = await new_incident(svc, None, "L4", owner_unit="education", event_type=EventType.POLICY_MISREAD)
    for iid in (enquiry, misread):
        await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    # a person decides the enquiry needs no public response (answered in person)
    no = c.Regrade(incident_id=enquiry, actor="zhu_min", at=clock.now(), reason="已线下答复", requires_response=False)
    await execute(svc, no)
    await Engine(svc).tick()
    rules = {r.id: r.title for r in POLICY.playbook.rules}
    report = await generate(db, Period(2026, 10), datetime(2026, 11, 1, 8, tzinfo=SHANGHAI), names_from_org(ORG, rules))
    assert (report.contract["incidents"], report.contract["requiring_response"]) == (2, 1)


async def test_reassigning_moves_the_lead_with_the_owner(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L3", owner_unit="housing", lead_unit="housing", co_units=("water",))
    await execute(
        svc, c.Reassign(incident_id=iid, actor="zhu_min", at=clock.now(), owner_unit="water", reason="属供水")
    )
    async with db.read() as conn:
        incident = await get_incident(conn, iid)
    assert (incident.owner_unit, incident.lead_unit, incident.co_units) == ("water", "water", ())
