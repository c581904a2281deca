"""The pure report builder: months, outcomes at the cut-off, percentiles, counting, schedule."""

from datetime import UTC, datetime, timedelta

import pytest

from monitor.domain.reporting import IncidentFacts, ObligationFacts, ObligationTally
from monitor.reports.build import Details, Dist, MonthAccumulator, Names, Period, PeriodError, build_report
from monitor.reports.build.model import chinese_number
from monitor.reports.schedule import Recipient, parse_recipients, report_due, scheduled_run
from tests.report_support import sh


def test_month_boundaries_are_asia_shanghai_midnights():
    p = Period.parse("2026-10")
    assert p.start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert p.end == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert p.days == 31 and p.label == "2026年10月"
    assert Period.parse("2026-01").previous() == Period(2025, 12)
    assert Period.parse("2025-12").next() == Period(2026, 1)
    assert Period.containing(sh(11, 1, 0)) == Period(2026, 11)  # 00:00 on the 1st belongs to the new month
    assert Period.containing(sh(11, 1, 0) - timedelta(seconds=1)) == Period(2026, 10)


@pytest.mark.parametrize("text", ["2026-13", "202610", "26-10", "2026/10", ""])
def test_bad_months_say_how_to_write_them(text):
    with pytest.raises(PeriodError, match="YYYY-MM"):
        Period.parse(text)


DUE = sh(10, 5)


def ob(outcome, due=DUE, met=None, rule="GB61-RESPOND-48H", unit="housing", incident=1, oid=1):
    return ObligationFacts(oid, incident, rule, 0, due, "open", met, None, unit, None, "L3", f"事件{incident}", outcome)


def test_median_and_p90_interpolate_linearly():
    assert Dist.of([]) == Dist(0, None, None)
    assert Dist.of([3.0]) == Dist(1, 3.0, 3.0)
    d = Dist.of([float(x) for x in range(1, 11)])
    assert d.median == 5.5 and d.p90 == pytest.approx(9.1)


def inc(i, detected, responded=None, *, unit="housing", level=None, opinion="L3", status="handling",
        requires=True, items=1):  # fmt: skip
    return IncidentFacts(i, f"事件{i}", detected, status, level, opinion, "livelihood", unit, "chengdong", requires,
                         items, responded, int(responded is not None))  # fmt: skip


def test_accumulator_counts_rates_and_drilldown_agree():
    cutoff = sh(11, 1, 8)
    acc = MonthAccumulator(Period(2026, 10), cutoff, drill=True, top_n=2)
    acc.add_incidents([
        inc(1, sh(10, 1, 9), sh(10, 1, 19)),                 # 10 h
        inc(2, sh(10, 2, 9), sh(10, 1, 9)),                  # published before detection: 0 h
        inc(3, sh(10, 3, 9), sh(11, 2, 9)),                  # answered after the cut-off: unanswered
        inc(4, sh(10, 4, 9), unit="emergency", level="II", opinion="L1", items=20),
        inc(5, sh(10, 5, 9), status="dismissed"),
        inc(6, sh(10, 6, 9), requires=False, opinion="L4"),
    ])  # fmt: skip
    acc.add_tallies([ObligationTally("GB61-RESPOND-48H", "housing", "met_on_time", 1),
                     ObligationTally("GB61-RESPOND-48H", "emergency", "breached", 1),
                     ObligationTally("GB61-RESPOND-48H", "housing", "cancelled", 1)])  # fmt: skip
    acc.add_obligations([ob("met_on_time", met=sh(10, 4), oid=1), ob("breached", unit="emergency", incident=4, oid=2),
                         ob("cancelled", oid=3)])  # fmt: skip
    s = acc.summary()
    assert (s.incidents, s.requiring_response, s.responded, s.responded_required) == (5, 4, 2, 2)
    assert s.response_rate == 0.5 and s.excluded == {"dismissed": 1}
    assert (s.ttr.n, s.ttr.median) == (2, 5.0)
    assert (s.tally.due, s.tally.met_on_time, s.tally.breached, acc.cancelled) == (2, 1, 1, 1)
    assert acc.daily[0] == 1 and acc.daily_responded[:3] == [1, 1, 0]
    assert acc.buckets == {"5–24小时": 1, "≤1小时": 1, "未回应": 2}
    drill = acc.drilldown()
    assert drill["incidents"] == (1, 2, 3, 4, 6)
    assert drill["unanswered"] == (3, 4)
    assert drill["incidents:unit:emergency"] == (4,)
    assert drill["ob:breached:unit:emergency"] == (2,)  # deadline figures list the deadlines (obligation ids)
    assert drill["ob:due"] == (1, 2) and "ob:cancelled" not in drill
    assert [f.id for f in acc.top_incidents()] == [4, 1]  # 重大 first, then the earliest


def test_an_empty_month_still_builds_a_report():
    acc = MonthAccumulator(Period(2026, 10), sh(11, 1, 8))
    previous = MonthAccumulator(Period(2026, 9), sh(11, 1, 8)).summary()
    report = build_report(acc, previous, Details(), Names(city="明湖市"))
    assert report.contract["incidents"] == 0 and report.contract["response_rate"] is None
    assert "未监测到" in report.sections[0].paragraphs[0]
    assert report.title == "明湖市政务舆情回应情况月报（2026年10月）"


@pytest.mark.parametrize(
    ("now", "month", "cutoff"),
    [
        (sh(11, 1, 8), "2026-10", sh(11, 1, 8)),
        (sh(11, 20, 15), "2026-10", sh(11, 1, 8)),  # any time in the month: the same run (catch-up)
        (sh(11, 1, 7, 59), "2026-09", sh(10, 1, 8)),  # before the hour: still last month's run
        (datetime(2027, 1, 1, 0, 30, tzinfo=UTC), "2026-12", datetime(2027, 1, 1, 0, tzinfo=UTC)),
    ],
)
def test_the_scheduled_run_is_last_month_cut_off_on_the_first(now, month, cutoff):
    run = scheduled_run(now, 8)
    assert (run.period.key, run.cutoff) == (month, cutoff)
    assert report_due(now, 8, {month}) is None
    assert report_due(now, 8, {"2020-01"}) == run


def test_recipients_parse_with_optional_channels_and_name_bad_entries():
    assert parse_recipients(" chen_jun:email, wang_fang ,,chen_jun") == [
        Recipient("chen_jun", parse_recipients("x:email")[0].channel),
        Recipient("wang_fang"),
    ]
    assert Recipient("a").idempotency_key(Period(2026, 10)) == "report:2026-10:a"
    with pytest.raises(ValueError, match="pigeon"):
        parse_recipients("chen_jun:pigeon")
    with pytest.raises(ValueError, match="not a person id"):
        parse_recipients("陈军")


def test_the_top_list_counts_a_response_published_before_detection_as_0_hours():
    acc = MonthAccumulator(Period(2026, 10), sh(11, 1, 8))
    acc.add_incidents([inc(1, sh(10, 2, 9), sh(10, 1, 9))])  # the office spoke a day before monitoring found it
    report = build_report(acc, acc.summary(), Details(), Names())
    [top] = [t for t in report.tables() if t.key == "top_incidents"]
    ttr = [c.key for c in top.columns].index("ttr_h")
    assert top.rows[0][ttr] == 0.0 == report.contract["time_to_first_response_h"]["median"]


def test_the_system_and_the_ledger_import_are_named_in_chinese():
    names = Names(people={"li_ming": "李明"})
    assert (names.person("system"), names.person("ledger-import"), names.person("li_ming")) == (
        "系统",
        "台账导入",
        "李明",
    )
    assert names.person("someone_else") == "someone_else"  # an id the directory does not know is shown as it is


def _rows(report, key):
    table = next(t for t in report.tables() if t.key == key)
    cols = [c.key for c in table.columns]
    return [dict(zip(cols, row, strict=True)) for row in table.rows], [
        dict(zip(cols, d, strict=True)) for d in table.drill
    ]


def test_response_counts_add_up_in_every_table_and_agree_with_the_headline():
    """需回应 = 其中已回应 + 需回应未回应 and 回应率 = 其中已回应 ÷ 需回应 in every table; a response to an
    incident that required none is counted apart, and each figure drills down to exactly that many incidents."""
    acc = MonthAccumulator(Period(2026, 10), sh(11, 1, 8), drill=True)
    acc.add_incidents([
        inc(1, sh(10, 1, 9), sh(10, 1, 19)),                   # required, answered
        inc(2, sh(10, 2, 9)),                                  # required, unanswered
        inc(3, sh(10, 3, 9), sh(10, 3, 12), requires=False),   # answered although not required
        inc(4, sh(10, 4, 9), requires=False),                  # neither
    ])  # fmt: skip
    report = build_report(acc, acc.summary(), Details(), Names())
    drill = report.drilldown
    assert "其中需回应 2 起，已回应 1 起，回应率 50.0%" in report.sections[0].paragraphs[0]
    for key in (
        "overview",
        "by_unit",
        "by_event_level",
        "by_opinion_level",
        "by_category",
        "by_region",
        "by_media_type",
    ):
        rows, keys = _rows(report, key)
        row, cells = rows[0], keys[0]
        assert (row["requiring"], row["responded_required"], row["unanswered"]) == (2, 1, 1), key
        assert row["requiring"] == row["responded_required"] + row["unanswered"], key
        assert row["response_rate"] == 0.5 and row["responded_optional"] == 1, key
        for column in ("requiring", "responded_required", "unanswered", "responded_optional"):
            assert len(drill[cells[column]]) == row[column], (key, column)
    assert drill["responded_optional"] == (3,) and drill["responded_required"] == (1,)
    ranking, ranking_keys = _rows(report, "ranking")
    assert (ranking[0]["requiring"], ranking[0]["responded_required"], ranking[0]["response_rate"]) == (2, 1, 0.5)
    assert drill[ranking_keys[0]["responded_required"]] == (1,)


def test_report_chains_judge_completeness_only_once_handling_has_ended():
    from monitor.domain.reporting import TimelineFacts
    from monitor.reports.build import report_chains

    severe = [inc(n, sh(10, 1, 8), level="II") for n in (1, 2, 3, 4)]

    def ev(i, seq, kind, at):
        return TimelineFacts(i, seq, at, kind, "li_ming")

    timelines = {
        1: [ev(1, 1, "report_recorded", sh(10, 1, 8, 20)), ev(1, 2, "closed", sh(10, 1, 20)),
            ev(1, 3, "report_recorded", sh(10, 1, 21))],  # 12 h of handling: no 续报 needed
        2: [ev(2, 1, "report_recorded", sh(10, 1, 8, 20)), ev(2, 2, "closed", sh(10, 3, 8)),
            ev(2, 3, "report_recorded", sh(10, 3, 9))],  # 48 h without a 续报
        3: [ev(3, 1, "closed", sh(10, 2, 8)), ev(3, 2, "reopened", sh(10, 2, 9))],  # reopened: still handling
        4: [],  # nothing reported, still handling at the cut-off
    }  # fmt: skip
    kinds = {(i, seq): ("first" if seq == 1 else "final", e.at) for i, es in timelines.items() for seq, e in
             enumerate(es, 1) if e.kind == "report_recorded"}  # fmt: skip
    chains = report_chains(severe, timelines, kinds, sh(11, 1, 8))
    assert [(c.complete, c.missing, c.closed_at is not None) for c in chains] == [
        (True, (), True), (False, ("续报",), True), (False, ("首报", "续报"), False), (False, ("首报", "续报"), False),
    ]  # fmt: skip
    acc = MonthAccumulator(Period(2026, 10), sh(11, 1, 8), drill=True)
    acc.add_incidents(severe)
    report = build_report(acc, acc.summary(), Details(report_chains=chains), Names())
    assert report.contract["report_completeness"] == {
        "severe": 4, "first_reported": 2, "closed": 2, "complete": 1, "completeness_rate": 0.5
    }  # fmt: skip
    assert report.drilldown["chain:handling"] == (3, 4) and report.drilldown["chain:complete"] == (1,)


def test_only_a_raise_after_the_first_response_is_a_reescalation():
    from monitor.domain.reporting import UNKNOWN_LEVEL, RegradeFacts
    from monitor.reports.build import raises_by_incident

    def regrade(i, at, before, after, event=(None, None)):
        return RegradeFacts(i, at, "li_ming", "原因", event[0], event[1], before, after)

    regrades = [
        regrade(1, sh(10, 2, 9), "L3", "L2"),  # raised after the response of 10-01 19:00
        regrade(2, sh(10, 2, 9), "L2", "L3"),  # lowered: no
        regrade(3, sh(10, 2, 9), "L3", "L3", event=(None, "IV")),  # now a 突发事件 (IV): raised
        regrade(4, sh(10, 1, 12), "L3", "L1"),  # raised before its response: no
        regrade(5, sh(10, 2, 9), UNKNOWN_LEVEL, "L1"),  # level before unknown: cannot tell
    ]
    acc = MonthAccumulator(Period(2026, 10), sh(11, 1, 8), drill=True)
    acc.raises = raises_by_incident(regrades)
    acc.add_incidents([inc(n, sh(10, 1, 9), sh(10, 1, 19)) for n in (1, 2, 3, 4, 5)] + [inc(6, sh(10, 1, 9))])
    assert [e.incident.id for e in acc.reescalated] == [1, 3]
    report = build_report(acc, acc.summary(), Details(), Names())
    assert report.contract["secondary_opinion"] == {"responded": 5, "reescalated": 2, "rate": 0.4}
    assert report.drilldown["reescalated"] == (1, 3)


def test_sections_are_numbered_in_the_order_the_report_prints_them():
    acc = MonthAccumulator(Period(2026, 10), datetime(2026, 11, 1, tzinfo=UTC))
    report = build_report(acc, acc.summary(), Details(), Names())
    numerals = [
        *("一", "二", "三", "四", "五", "六", "七", "八", "九", "十"),
        *("十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十"),
    ]
    heads = [s.title.split("、", 1) for s in report.sections]
    assert [n for n, _ in heads] == numerals[: len(heads)]
    assert all(not any(title.startswith(n + "、") for n in numerals) for _, title in heads)  # no double number
    assert dict((s.key, s.title) for s in report.sections)["evaluation"] == f"{numerals[len(heads) - 1]}、效果评估"
    assert report.definitions_title == f"{numerals[len(heads)]}、统计口径与数据说明"
    default = next(d for d in report.definitions if d.startswith("效果评估："))
    assert "连续 24 小时均低于高峰小时新增量的 20%" in default  # the default threshold when none is given


@pytest.mark.parametrize(
    ("n", "text"), [(1, "一"), (10, "十"), (11, "十一"), (14, "十四"), (20, "二十"), (23, "二十三")]
)
def test_chinese_section_numbers(n, text):
    assert chinese_number(n) == text
