"""The report reads what the real clock engine writes (commands, ticks, escalations, pauses)."""

from datetime import timedelta

from monitor.clock import SHANGHAI
from monitor.domain import EventKind, EventLevel, OpinionLevel, ResponseKind
from monitor.domain import commands as c
from monitor.engine.commands import execute
from monitor.engine.runner import Engine
from monitor.reports.build import Period
from monitor.reports.service import generate, names_from_org
from monitor.storage.repo.incidents import list_events
from tests.engine_support import ORG, POLICY, Svc, new_incident

H = timedelta(hours=1)


async def test_a_month_run_by_the_engine(db, clock):
    from datetime import datetime

    clock.set(datetime(2026, 10, 12, 9, tzinfo=SHANGHAI))
    svc = Svc(db, clock)
    engine = Engine(svc)
    answered = await new_incident(svc, "III", "L2", title="环湖路多车追尾", owner_unit="transport")
    ignored = await new_incident(svc, None, "L3", title="小区停水无人回应", owner_unit="water")
    paused = await new_incident(svc, None, "L3", title="学区划片调整引发误读", owner_unit="education")
    for iid in (answered, ignored, paused):
        await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    await execute(svc, c.Regrade(incident_id=answered, actor="zhu_min", at=clock.now() + H, reason="伤亡增加",
                                 event_level=EventLevel.III, opinion_level=OpinionLevel.L1))  # fmt: skip
    await execute(svc, c.Reassign(incident_id=ignored, actor="zhu_min", at=clock.now() + H, owner_unit="housing",
                                  reason="属物业管理"))  # fmt: skip
    await execute(svc, c.RequestPause(incident_id=paused, actor="zhu_min", at=clock.now() + H,
                                                rule_id="GB61-RESPOND-48H", until=clock.now() + 30 * H,
                                                reason="等待教育局口径"))  # fmt: skip
    async with db.read() as conn:
        seq = next(e.seq for e in await list_events(conn, paused) if e.kind == EventKind.PAUSE_REQUESTED)
    await execute(svc, c.ApprovePause(incident_id=paused, actor="qin_hao", at=clock.now() + 2 * H, request_seq=seq))
    clock.advance(10 * H)
    await execute(svc, c.RecordResponse(incident_id=answered, actor="zhu_min", at=clock.now(),
                                        kind=ResponseKind.AUTHORITATIVE_RELEASE, url="https://gov.example/1",
                                        approved_by="qian_zhiqiang", published_at=clock.now() - H))  # fmt: skip
    for _ in range(8):  # two days of engine ticks: breaches and escalations of the unanswered one
        clock.advance(8 * H)
        await engine.tick()

    cutoff = datetime(2026, 11, 1, 8, tzinfo=SHANGHAI)
    rules = {r.id: r.title for r in POLICY.playbook.rules}
    report = await generate(db, Period(2026, 10), cutoff, names_from_org(ORG, rules), drill=True)
    c_ = report.contract
    assert (c_["incidents"], c_["responded"]) == (3, 1)
    assert c_["time_to_first_response_h"]["median"] == 9.0  # published an hour before it was recorded, at +10 h
    respond = c_["rules"]["GB61-RESPOND-48H"]
    assert (respond["met_on_time"], respond["breached"]) == (1, 2) and respond["title"] == "48小时内予以回应"
    assert c_["units"]["housing"]["breached"] == 1  # the reassigned incident counts for its new unit

    tables = {t.key: t for t in report.tables()}
    overdue = [
        dict(zip([col.key for col in tables["overdue"].columns], row, strict=True)) for row in tables["overdue"].rows
    ]
    ignored_row = next(r for r in overdue if r["incident_id"] == ignored)
    assert ignored_row["outcome"] == "超期未履行" and ignored_row["escalations"] >= 1
    assert "超期提醒→" in ignored_row["supervision"]
    pause = tables["pauses"].rows[0]
    assert pause[8:10] == ("已批准", "秦浩") and pause[7] == "等待教育局口径"
    regrade = tables["regrades"].rows[0]
    assert (regrade[4], regrade[5]) == ("III级（较大）／L2（较大·橙）", "III级（较大）／L1（重大·红）")
    assert any(r[3] == "责任单位" and r[5] == "明湖市住房和城乡建设局" for r in tables["corrections"].rows)
