"""Reading a month from the database (SQLite and PostgreSQL) gives the hand-checked figures."""

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.policy import load_org
from monitor.reports.build import Period, PeriodError
from monitor.reports.service import generate, names_from_org
from tests.conftest import REPO
from tests.report_support import CUTOFF, seed, sh

OCT = Period(2026, 10)


@pytest.fixture(scope="module")
def names():
    return names_from_org(load_org(Path(REPO / "playbooks/org/demo-city.yaml")))


def table(report, key):
    t = next(t for t in report.tables() if t.key == key)
    return [dict(zip([c.key for c in t.columns], row, strict=True)) for row in t.rows]


async def test_october_figures(db, names):
    seeded = await seed(db)
    report = await generate(db, OCT, CUTOFF, names, drill=True)
    c = report.contract
    # A B C D H detected in October (E dismissed; F G in September; I at 00:00 on 1 November)
    assert (c["incidents"], c["requiring_response"], c["responded"], c["response_rate"]) == (5, 4, 2, 0.5)
    assert c["excluded"] == {"dismissed": 1, "merged": 0}
    # first responses: A 23 h, B 5.5 h (its 13:30 release, published before it was recorded)
    assert c["time_to_first_response_h"] == {"n": 2, "median": 14.25, "p90": 21.25}
    # due in October: A-48H met, A-CONT breached, B-5H late, B-24H met, B-30MIN met, C-48H breached, F-48H met;
    # D's 48 h paused to 3 November is not due in October; E's was cancelled
    assert c["obligations"] == {"due": 7, "met_on_time": 4, "met_late": 1, "breached": 2, "paused": 0,
                                "pending": 0, "timeliness_rate": 0.5714}  # fmt: skip
    assert c["cancelled_obligations"] == 1
    assert c["rules"]["GB61-RESPOND-48H"] | {"title": ""} == {
        "title": "", "due": 3, "met_on_time": 2, "met_late": 0, "breached": 1, "paused": 0, "pending": 0,
        "timeliness_rate": 0.6667,
    }  # fmt: skip
    assert c["rules"]["GB80-AUTH-RELEASE-5H"]["met_late"] == 1
    assert c["units"]["housing"]["incidents"] == 2 and c["units"]["housing"]["breached"] == 1
    assert c["units"]["water"]["incidents"] == 0 and c["units"]["water"]["met_on_time"] == 1
    assert c["previous"]["incidents"] == 2 and c["previous"]["obligations"]["met_late"] == 1
    assert c["previous"]["time_to_first_response_h"]["median"] == 44.0
    assert c["cutoff"] == "2026-11-01T08:00:00+08:00" and c["month"] == "2026-10"

    overdue = table(report, "overdue")
    assert [(r["incident_id"], r["outcome"]) for r in overdue] == [
        (seeded.ids["A"], "超期未履行"), (seeded.ids["C"], "超期未履行"), (seeded.ids["B"], "逾期履行"),
    ]  # fmt: skip
    assert overdue[1]["delay_h"] == pytest.approx(239.0)  # 10-22 09:00 → cut-off 11-01 08:00
    assert overdue[0]["supervision"] == (  # the warning before the deadline is left out
        "10-05 09:00 超期提醒→赵磊（联络员、分管领导），10-05 09:01送达；"
        "10-06 09:00 督办→钱志强（主要负责人/第一新闻发言人、政府办）"
    )
    assert overdue[0]["escalations"] == 2 and overdue[2]["delay_h"] == pytest.approx(1.0)
    assert "逾期回应（时限逾期后才履行）1 项，平均超时 1.0 小时" in report.sections[2].paragraphs[1]

    pause = table(report, "pauses")[0]
    assert (pause["outcome"], pause["decided_by"], pause["reason"]) == ("已批准", "孙丽华", "等待教育厅答复口径")
    assert pause["length_h"] == pytest.approx(95.0)
    regrade = table(report, "regrades")[0]
    assert (regrade["before"], regrade["after"]) == ("III级（较大）／L1（重大·红）", "II级（重大）／L1（重大·红）")
    assert [r["field"] for r in table(report, "corrections")] == ["责任单位", "是否政务舆情"]
    assert table(report, "corrections")[0]["new"] == "明湖市住房和城乡建设局"
    assert [r["incident_id"] for r in table(report, "top_incidents")][:2] == [seeded.ids["B"], seeded.ids["C"]]
    top = next(s for s in report.sections if s.key == "top")
    timeline = [what for _, what, _ in top.timelines[0].entries]
    assert any(what.startswith("公开回应：发布权威信息") for what in timeline)
    assert any(what.startswith("调整级别") and "原因：死亡人数升至10人" in what for what in timeline)
    ranking = table(report, "ranking")
    assert ranking[0]["unit"] == "明湖市水务局" and ranking[-1]["timeliness"] in (None, 0.0)

    # totals by event level, 舆情 level, category, region and unit (incidents, share, requiring, responded of
    # those, unanswered, 回应率, responded though not required), checked by hand against report_support.INCIDENTS
    def rows(key):
        return [tuple(r.values()) for r in table(report, key)]

    assert rows("by_event_level") == [
        ("II级（重大）", 1, 0.2, 1, 1, 0, 1.0, 0), ("III级（较大）", 1, 0.2, 1, 0, 1, 0.0, 0),
        ("非突发事件", 3, 0.6, 2, 1, 1, 0.5, 0),
    ]  # fmt: skip
    assert rows("by_opinion_level") == [
        ("L1（重大·红）", 1, 0.2, 1, 1, 0, 1.0, 0), ("L2（较大·橙）", 2, 0.4, 2, 1, 1, 0.5, 0),
        ("L3（一般·黄）", 1, 0.2, 1, 0, 1, 0.0, 0), ("L4（关注·蓝）", 1, 0.2, 0, 0, 0, None, 0),
    ]  # fmt: skip
    assert rows("by_category")[0] == ("民生诉求", 2, 0.4, 1, 1, 0, 1.0, 0)  # A and H
    assert {r[0] for r in rows("by_category")} == {"民生诉求", "交通事故", "政策误读", "生产安全"}
    assert rows("by_region")[-1] == ("未明确属地", 1, 0.2, 0, 0, 0, None, 0)  # H
    assert ("明湖市东港镇人民政府", 1, 0.2, 1, 1, 0, 1.0, 0) in rows("by_region")
    assert rows("by_unit")[0] == ("明湖市住房和城乡建设局", 2, 0.4, 1, 1, 0, 1.0, 0)
    # time to first response by unit and by level: A 23 h (housing, no event level, L2), B 5.5 h (emergency, II, L1)
    assert rows("ttr_by_unit") == [("明湖市应急管理局", 1, 5.5, 5.5), ("明湖市住房和城乡建设局", 1, 23.0, 23.0)]
    assert rows("ttr_by_level") == [
        ("全部", 2, 14.25, 21.25), ("突发事件II级（重大）", 1, 5.5, 5.5), ("非突发事件", 1, 23.0, 23.0),
        ("舆情L1（重大·红）", 1, 5.5, 5.5), ("舆情L2（较大·橙）", 1, 23.0, 23.0),
    ]  # fmt: skip
    # the trend against September (F and G: both answered, G's deadline met late)
    assert report.sections[0].paragraphs[1] == (
        "与上月相比：舆情总数增加 3（上月 2，增加 150.0%）；回应率下降 50.0 个百分点（100.0% → 50.0%）；"
        "回应及时率上升 57.1 个百分点（0.0% → 57.1%）；超期未履行时限增加 2（上月 0）。"
    )


async def test_the_cutoff_decides_what_is_known(db, names):
    await seed(db, recorded=sh(10, 21))
    mid = await generate(db, OCT, sh(10, 21), names)
    c = mid.contract
    # at 10-21 00:00: C's 48 h is not due yet; A's continued release already overdue; B responded
    assert c["rules"]["GB61-RESPOND-48H"]["pending"] == 1
    assert c["obligations"]["breached"] == 1 and c["obligations"]["pending"] == 1
    assert c["incidents"] == 3  # A B C; D and H come later
    before = await generate(db, OCT, sh(10, 20, 23), names)
    assert before.contract["incidents"] == 0  # nothing had been recorded yet


async def test_a_unit_report_only_counts_that_unit(db, names):
    await seed(db)
    report = await generate(db, OCT, CUTOFF, names, unit="housing")
    c = report.contract
    assert (c["incidents"], c["obligations"]["due"], c["unit"]) == (2, 2, "housing")
    assert set(c["units"]) == {"housing"}
    assert report.title.startswith("明湖市住房和城乡建设局") and report.contract["excluded"]["dismissed"] == 1


async def test_a_month_after_the_cutoff_is_refused(sqlite_db, names):
    with pytest.raises(PeriodError, match="has not started"):
        await generate(sqlite_db, Period(2026, 12), CUTOFF, names)


OUTCOMES = [  # (status as stored, due, met, outcome at the cut-off 11-01 08:00)
    ("met", sh(10, 5), sh(10, 4), "met_on_time"),
    ("met", sh(10, 5), sh(10, 5), "met_on_time"),  # exactly at the deadline is on time
    ("late", sh(10, 5), sh(10, 6), "met_late"),
    ("late", sh(10, 31), sh(11, 2), "breached"),  # met after the cut-off: unmet then
    ("breached", sh(10, 5), None, "breached"),
    ("open", sh(10, 5), None, "breached"),  # the engine had not ticked yet: overdue all the same
    ("paused", sh(10, 5), None, "breached"),  # paused after the deadline: the deadline was missed
    ("cancelled", sh(10, 5), None, "cancelled"),
]


async def test_outcomes_are_judged_in_sql_at_the_cutoff(db):
    from sqlalchemy import insert

    from monitor.domain import Incident
    from monitor.storage.repo import reports as repo
    from monitor.storage.repo.incidents import create_incidents
    from monitor.storage.schema import obligations

    async with db.write() as conn:
        [iid] = await create_incidents(
            conn, [Incident(title="t", detected_at=sh(10, 1), owner_unit="housing")], sh(10, 1)
        )
        await conn.execute(insert(obligations), [
            {"incident_id": iid, "rule_id": f"R{n}", "instance": 0, "action": "a", "clock": "natural_hours",
             "t0": sh(10, 1), "due_at": due, "status": status, "met_at": met, "created_at": sh(10, 1),
             "updated_at": sh(10, 1)}
            for n, (status, due, met, _) in enumerate(OUTCOMES)
        ])  # fmt: skip
        tallies = await repo.obligation_tallies(conn, OCT.start, OCT.end, CUTOFF)
        missed = [
            o for batch in [b async for b in repo.stream_obligations(conn, OCT.start, OCT.end, CUTOFF)] for o in batch
        ]
        mid = await repo.obligation_tallies(conn, OCT.start, OCT.end, sh(10, 4, 12))
    assert {(t.rule_id, t.outcome) for t in tallies} == {(f"R{n}", out) for n, (*_, out) in enumerate(OUTCOMES)}
    assert sorted(o.rule_id for o in missed) == ["R2", "R3", "R4", "R5", "R6"]
    assert {t.rule_id: t.outcome for t in mid if t.rule_id in ("R0", "R4", "R6")} == {
        "R0": "met_on_time", "R4": "pending", "R6": "paused",
    }  # fmt: skip


def _report(kind, at, channel="written"):
    return {"report_kind": kind, "channel": channel, "signer": "qian_zhiqiang", "reported_at": at.isoformat()}


async def _add_events(db, events, recorded=CUTOFF - timedelta(hours=1)):
    from monitor.storage.repo.incidents import append_events

    async with db.write() as conn:
        await append_events(conn, events, recorded)


async def test_report_completeness_and_reescalation_from_the_timelines(db, names):
    """§5.3: 首报/续报/终报完整率 over the month's 重特大 incidents that had ended handling, and 二次舆情率
    over the answered ones, each as known at the cut-off, in the sections, the contract and the drill-down."""
    from monitor.domain import EventKind as E
    from monitor.domain import IncidentEvent as Ev

    seeded = await seed(db)
    i = seeded.ids
    await _add_events(db, [
        # B (II级): 首报 by phone, 续报 that evening, closed 10-12 09:00 (after 49 h: a 续报 was due) — no 终报 yet
        Ev(i["B"], E.REPORT_RECORDED, sh(10, 10, 7, 52), "li_ming", _report("first", sh(10, 10, 7, 50), "phone")),
        Ev(i["B"], E.REPORT_RECORDED, sh(10, 10, 20), "li_ming", _report("follow_up", sh(10, 10, 20))),
        Ev(i["B"], E.CLOSED, sh(10, 12, 9), "li_ming", {"reason": "处置完毕"}),
        # A (no 突发事件 level): answered 10-04 09:00, raised L2 → L1 on 10-06: 二次舆情
        Ev(i["A"], E.REGRADED, sh(10, 6, 10), "li_ming", {"event_level": None, "opinion_level": "L1",
           "reason": "回应后网民质疑升温", "from": {"event_level": None, "opinion_level": "L2"}}),
    ])  # fmt: skip
    report = await generate(db, OCT, CUTOFF, names, drill=True)
    c = report.contract
    assert c["report_completeness"] == {
        "severe": 1, "first_reported": 1, "closed": 1, "complete": 0, "completeness_rate": 0.0
    }  # fmt: skip
    # B was raised III → II before its first response (10-10 13:30): not a 二次舆情; A was, after its response
    assert c["secondary_opinion"] == {"responded": 2, "reescalated": 1, "rate": 0.5}
    chains = table(report, "report_chains")
    assert [(r["incident_id"], r["follow_ups"], r["state"]) for r in chains] == [(i["B"], 1, "缺终报")]
    assert chains[0]["first_at"] == sh(10, 10, 7, 50)  # when it was reported, not when it was entered
    assert table(report, "reescalations")[0]["incident_id"] == i["A"]
    assert report.drilldown["reescalated"] == (i["A"],) and report.drilldown["chain:incomplete"] == (i["B"],)
    sections = {s.key: s for s in report.sections}
    assert "完整率 0.0%" in sections["report_chains"].paragraphs[0]
    assert "二次舆情率 50.0%" in sections["reescalation"].paragraphs[0]
    assert "本月没有到期的承诺事项" in sections["commitments"].paragraphs[0]
    assert any(line.startswith("首报/续报/终报完整率 = ") for line in report.definitions)
    assert any(line.startswith("承诺兑现率 = 已兑现并公开的承诺 ÷ 到期承诺") for line in report.definitions)

    # the 终报, entered after the cut-off, does not count at it; a later cut-off sees it (and B complete)
    await _add_events(db, [Ev(i["B"], E.REPORT_RECORDED, sh(11, 1, 9), "li_ming", _report("final", sh(10, 12, 10)))],
                      recorded=sh(11, 1, 9))  # fmt: skip
    assert (await generate(db, OCT, CUTOFF, names)).contract["report_completeness"]["complete"] == 0
    later = await generate(db, OCT, sh(11, 2), names)
    assert later.contract["report_completeness"]["completeness_rate"] == 1.0
    assert [r["state"] for r in table(later, "report_chains")] == ["齐全"]
