"""效果评估 and 归档: the suggestion from item volume, what the commands record and what they refuse."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import Settings
from monitor.domain import EventKind, IncidentStatus, ResponseKind
from monitor.domain import commands as c
from monitor.domain.evaluation import Satisfaction, SubsideRule, suggest_subsided
from monitor.engine.commands import CommandRejected, execute
from monitor.storage.repo.evaluation import archived_for, closed_before, evaluations_for
from monitor.storage.repo.incidents import attach_items, get_incident, list_events
from monitor.storage.repo.items import insert_items

from .engine_support import Svc, new_incident

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
BJ = timedelta(hours=8)


def at(day: int, hour: int = 10) -> datetime:
    """A Beijing wall time in September 2026, as UTC."""
    return datetime(2026, 9, day, hour, tzinfo=UTC) - BJ


def test_the_suggestion_is_the_first_quiet_run_after_the_response_and_the_peak():
    rule = SubsideRule(percent=20, window_h=6)
    # peak hour 25th 10:00 (10 items); 4 items at 13:00 are not below 2; 1 at 15:00 is
    times = [at(24)] * 3 + [at(25)] * 10 + [at(25, 13)] * 4 + [at(25, 15)] + [at(26, 3)] * 2
    s = suggest_subsided(times, responded_at=at(24, 20), now=at(29, 9), rule=rule)
    assert s is not None
    assert (s.peak_at, s.peak_count) == (at(25), 10)
    assert s.from_at == at(25, 11)  # the hour after the peak (the response came before it)
    assert s.subsided_at == at(25, 14)  # 14:00–20:00: 0, 1, 0, 0, 0, 0 items, each < 10 × 20%
    assert "高峰为 09-25 10:00 起的一小时，新增 10 条" in s.basis
    assert "连续 6 小时每小时新增均低于高峰的 20%（即少于 2 条）" in s.basis
    assert "自首次回应（09-24 20:00）及高峰之后的 09-25 11:00 起查看" in s.basis
    assert "09-25 14:00 至 09-25 20:00 每小时新增均低于 2 条，建议平息时间为 09-25 14:00。" in s.basis


def test_a_busy_hour_inside_the_window_restarts_it():
    rule = SubsideRule(percent=20, window_h=6)
    times = [at(25)] * 10 + [at(25, 16)] * 2  # 2 is not below 2: 11:00–16:00 is only 5 quiet hours
    s = suggest_subsided(times, responded_at=None, now=at(26, 9), rule=rule)
    assert s is not None and s.subsided_at == at(25, 17)


def test_an_hour_exactly_at_the_threshold_is_not_quiet():
    rule = SubsideRule(percent=20, window_h=2)
    times = [at(25)] * 5 + [at(25, 11)] * 1  # 1 == 5 × 20%: not below
    s = suggest_subsided(times, responded_at=None, now=at(26), rule=rule)
    assert s is not None and s.subsided_at == at(25, 12)
    assert "即少于 1 条" in s.basis


def test_on_a_tie_the_earliest_peak_hour_counts():
    times = [at(25, 9)] * 3 + [at(25, 12)] * 3
    s = suggest_subsided(times, responded_at=None, now=at(27), rule=SubsideRule(50, 3))
    assert s is not None and (s.peak_at, s.peak_count) == (at(25, 9), 3)
    assert s.subsided_at == at(25, 13)  # 10:00–13:00 is cut by the 12:00 hour (3 items, not below 1.5)


def test_the_run_starts_at_the_first_full_hour_after_a_later_response():
    s = suggest_subsided([at(25)] * 4, responded_at=at(25, 14) + 25 * M, now=at(27), rule=SubsideRule(20, 3))
    assert s is not None and s.from_at == at(25, 15) and s.subsided_at == at(25, 15)
    on_the_hour = suggest_subsided([at(25)] * 4, responded_at=at(25, 14), now=at(27), rule=SubsideRule(20, 3))
    assert on_the_hour is not None and on_the_hour.subsided_at == at(25, 14)


def test_hours_not_yet_over_are_not_judged_and_no_items_gives_no_suggestion():
    rule = SubsideRule(percent=20, window_h=24)
    times = [at(24)] * 5
    s = suggest_subsided(times, responded_at=None, now=at(25, 10) + 59 * M, rule=rule)  # 11:00–11:00 not over
    assert s is not None and s.subsided_at is None and "尚不能判定平息" in s.basis
    assert "尚无连续 24 个完整小时达到该标准" in s.basis
    later = suggest_subsided(times, responded_at=None, now=at(25, 11), rule=rule)
    assert later is not None and later.subsided_at == at(24, 11)
    assert suggest_subsided([], responded_at=None, now=at(26)) is None


def test_the_default_rule_is_20_percent_for_24_hours():
    assert SubsideRule() == SubsideRule(percent=20, window_h=24)


async def _responded(svc: Svc) -> int:
    iid = await new_incident(svc, "III", "L2", detected_at=svc.clock.now())
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))
    await execute(
        svc,
        c.RecordResponse(
            incident_id=iid,
            actor="zhu_min",
            at=svc.clock.now(),
            kind=ResponseKind.AUTHORITATIVE_RELEASE,
            url="https://www.minghu.gov.example/1",
            approved_by="王五",
        ),
    )
    return iid


async def _items(svc: Svc, iid: int, times: list[datetime]) -> None:
    rows = [
        {"dedup_key": f"{iid:08d}{n:056d}", "url": f"https://news.example/{iid}/{n}", "title": f"稿件{n}",
         "text": "正文", "fetched_at": t, "created_at": t, "published_at": t}
        for n, t in enumerate(times)
    ]  # fmt: skip
    async with svc.db.write() as conn:
        ids = await insert_items(conn, rows)
        await attach_items(conn, iid, [i for i, _ in ids.values()], svc.clock.now(), {})


def evaluation(iid: int, when: datetime, subsided: datetime, **kw) -> c.RecordEvaluation:
    return c.RecordEvaluation(
        incident_id=iid,
        actor=kw.pop("actor", "chen_jing"),
        at=when,
        subsided_at=subsided,
        satisfaction=kw.pop("satisfaction", Satisfaction.BASICALLY_SATISFIED),
        **kw,
    )


async def test_an_evaluation_is_stored_with_its_suggestion_and_moves_a_responded_incident_to_evaluated(db, clock):
    svc = Svc(db, clock, settings=Settings(subside_percent=50, subside_window_h=12))  # quiet: fewer than 3 an hour
    clock.set(at(24, 9))
    iid = await _responded(svc)
    await _items(svc, iid, [at(24, 9)] * 6 + [at(25, 9)] * 2 + [at(26, 9)])
    clock.set(at(28, 9))
    result = await execute(
        svc, evaluation(iid, clock.now(), at(26, 0), negative_before=60, negative_after=15, notes="回访群众")
    )
    assert result.message == "已登记效果评估"
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).status == IncidentStatus.EVALUATED
        found = (await evaluations_for(conn, [iid]))[iid]
        assert await evaluations_for(conn, [iid - 1, iid + 1]) == {}  # read by id range, only those asked for
        kinds = [e.kind for e in await list_events(conn, iid)]
    assert found.subsided_at == at(26, 0) and found.satisfaction == Satisfaction.BASICALLY_SATISFIED
    assert (found.negative_before, found.negative_after, found.notes) == (60, 15, "回访群众")
    assert found.negative_conversion == pytest.approx(0.75)
    assert found.peak_at == at(24, 9) and found.peak_count == 6
    assert found.suggested_subsided_at == at(24, 10)  # the 2 items at 09:00 on the 25th are below 3
    assert "连续 12 小时每小时新增均低于高峰的 50%" in found.basis and found.recorded_by == "chen_jing"
    assert EventKind.EVALUATION_RECORDED in kinds

    stricter = replace(svc, settings=Settings(subside_percent=20, subside_window_h=24))  # quiet: at most 1 an hour
    again = await execute(stricter, evaluation(iid, clock.now(), at(27, 0), satisfaction=Satisfaction.SATISFIED))
    assert "已更正效果评估" in again.message
    async with db.read() as conn:
        latest = (await evaluations_for(conn, [iid]))[iid]
        recorded = [e for e in await list_events(conn, iid) if e.kind == EventKind.EVALUATION_RECORDED]
    assert latest.subsided_at == at(27, 0) and latest.satisfaction == Satisfaction.SATISFIED
    assert latest.suggested_subsided_at == at(25, 10)  # after the 2 items at 09:00 on the 25th
    assert len(recorded) == 2  # the first stays on the timeline


@pytest.mark.parametrize(
    ("subsided", "kw", "refusal"),
    [
        (lambda now: now + H, {}, "晚于当前时间"),
        (lambda now: now - 30 * D, {}, "早于本事件的发现时间"),
        (lambda now: now - H, {"negative_before": 120}, "回应前负面占比.*0 到 100"),
    ],
)
async def test_an_impossible_evaluation_is_refused_and_records_nothing(db, clock, subsided, kw, refusal):
    svc = Svc(db, clock)
    iid = await _responded(svc)
    clock.advance(2 * D)
    with pytest.raises(CommandRejected, match=refusal):
        await execute(svc, evaluation(iid, clock.now(), subsided(clock.now()), **kw))
    async with db.read() as conn:
        assert not await evaluations_for(conn, [iid])
        assert (await get_incident(conn, iid)).status == IncidentStatus.RESPONDED


async def test_evaluation_needs_a_response_or_a_close(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, "III", "L2")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    clock.advance(D)
    with pytest.raises(CommandRejected, match="尚未登记公开回应"):
        await execute(svc, evaluation(iid, clock.now(), clock.now() - H))
    await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="无需回应"))
    done = await execute(svc, evaluation(iid, clock.now(), clock.now() - H, satisfaction=Satisfaction.NOT_RATED))
    assert done.message == "已登记效果评估"
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).status == IncidentStatus.CLOSED  # closing is final; it stays closed


async def test_only_a_closed_incident_is_archived_and_an_archived_one_is_final(db, clock):
    svc = Svc(db, clock)
    iid = await _responded(svc)
    with pytest.raises(CommandRejected, match="只有已办结的事件可以归档"):
        await execute(svc, c.Archive(incident_id=iid, actor="zhu_min", at=clock.now()))
    await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="已回应"))
    clock.advance(D)
    async with db.read() as conn:
        assert await closed_before(conn, clock.now()) == [iid]
    archived = await execute(svc, c.Archive(incident_id=iid, actor="zhu_min", at=clock.now(), reason="月度归档"))
    assert "尚无效果评估" in archived.message
    async with db.read() as conn:
        inc = await get_incident(conn, iid)
        by_id = await archived_for(conn, [iid, iid + 10])  # sparse ids: read by IN list
        assert list(by_id) == [iid]
        record = by_id[iid]
        assert await closed_before(conn, clock.now() + D) == []
    assert inc.status == IncidentStatus.ARCHIVED and inc.closed_at is not None  # 办结时间 kept
    assert (record.at, record.by, record.reason) == (clock.now(), "zhu_min", "月度归档")
    with pytest.raises(CommandRejected, match="归档后不能重新打开"):
        await execute(svc, c.Reopen(incident_id=iid, actor="zhu_min", at=clock.now(), reason="舆情反弹"))
    with pytest.raises(CommandRejected, match="已归档，效果评估不能再登记"):
        await execute(svc, evaluation(iid, clock.now(), clock.now() - H))
    with pytest.raises(CommandRejected, match="无需再次归档"):
        await execute(svc, c.Archive(incident_id=iid, actor="zhu_min", at=clock.now()))


@pytest.fixture
async def closed_url(sqlite_db, clock):
    """#1 closed on 09-24 (Beijing), #2 closed on 10-02, #3 still open."""
    svc = Svc(sqlite_db, clock)
    clock.set(at(24, 9))
    early, late, still = [await _responded(svc) for _ in range(3)]
    await execute(svc, c.Close(incident_id=early, actor="zhu_min", at=clock.now(), reason="已回应"))
    clock.set(datetime(2026, 10, 2, 1, tzinfo=UTC))  # 10-02 09:00 Beijing
    await execute(svc, c.Close(incident_id=late, actor="zhu_min", at=clock.now(), reason="已回应"))
    return str(sqlite_db.engine.url), (early, late, still)


def test_monitor_archive_archives_what_was_closed_before_the_day(closed_url, capsys):
    from monitor.cli import main

    url, (early, late, still) = closed_url
    base = ["--database-url", url, "archive", "--closed-before", "2026-10-01"]
    assert main([*base, "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == f"would archive 1 incident(s) closed before 2026-10-01: #{early}"
    assert main([*base, "--actor", "zhu_min", "--reason", "九月归档"]) == 0
    assert capsys.readouterr().out.strip() == f"archived 1 incident(s) closed before 2026-10-01: #{early}"
    assert main(base) == 0  # nothing left to archive
    assert "archived 0 incident(s)" in capsys.readouterr().out
    later = ["--database-url", url, "archive", "--closed-before", "2026-10-03"]
    assert main(later) == 0  # the one closed on 10-02; never the open one
    assert capsys.readouterr().out.strip() == f"archived 1 incident(s) closed before 2026-10-03: #{late}"
    assert still not in (early, late)
    assert main(["--database-url", url, "archive", "--closed-before", "10/01"]) == 2
    assert "write it as YYYY-MM-DD" in capsys.readouterr().err


async def test_an_incident_whose_final_report_is_still_due_is_not_archived_until_it_is_recorded(db, clock):
    from monitor.domain import ReportKind

    svc = Svc(db, clock)
    iid = await new_incident(svc, "II", "L1")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=clock.now()))
    await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="处置结束"))
    with pytest.raises(CommandRejected, match=r"「处置结束后及时终报」尚未履行.*请先登记后再归档"):
        await execute(svc, c.Archive(incident_id=iid, actor="zhu_min", at=clock.now()))
    clock.advance(3 * H)
    final = c.RecordReport(
        incident_id=iid, actor="zhu_min", at=clock.now(), report_kind=ReportKind.FINAL, channel="written", signer="赵磊"
    )
    await execute(svc, final)
    await execute(svc, c.Archive(incident_id=iid, actor="zhu_min", at=clock.now()))
    async with db.read() as conn:
        assert (await get_incident(conn, iid)).status == IncidentStatus.ARCHIVED
