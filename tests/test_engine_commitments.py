"""Response details, 承诺事项 and 谣言移交 through the engine: what is recorded, reminded and refused."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.domain import EventKind, ResponseKind
from monitor.domain import commands as c
from monitor.domain.commitments import Commitment, ResponseChannel, RumorAgency, commitments_of
from monitor.engine.commands import CommandRejected, execute
from monitor.engine.runner import Engine
from monitor.storage.repo.incidents import list_events
from monitor.storage.schema import outbox

from .engine_support import Svc, new_incident

H = timedelta(hours=1)
BJ = ZoneInfo("Asia/Shanghai")


async def _confirmed(svc: Svc) -> int:
    iid = await new_incident(svc, None, "L3", title="老城区道路塌陷")
    await execute(svc, c.Confirm(incident_id=iid, actor="zhu_min", at=svc.clock.now()))
    return iid


def _response(svc: Svc, iid: int, *commitments: Commitment, **kw) -> c.RecordResponse:
    return c.RecordResponse(
        incident_id=iid,
        actor="zhao_lei",
        at=svc.clock.now(),
        kind=ResponseKind.AUTHORITATIVE_RELEASE,
        approved_by="liu_fang",
        url="https://gov.example.cn/notice/1",
        commitments=commitments,
        **kw,
    )


async def _commitment_alerts(db) -> list[str]:
    async with db.read() as conn:
        rows = await conn.execute(select(outbox.c.idempotency_key, outbox.c.payload).order_by(outbox.c.id))
        return [k for k, p in rows if (p.get("rule") or {}).get("id") == "PRJ-COMMITMENT"]


async def test_a_response_records_spokesperson_channel_and_numbered_commitments(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc)
    result = await execute(
        svc,
        _response(
            svc,
            iid,
            Commitment("10月10日前完成塌陷路段修复", date(2026, 10, 10)),
            Commitment("公布事故原因调查结果", date(2026, 10, 31)),
            spokesperson="市住建局新闻发言人 王强",
            channel=ResponseChannel.GOV_WEIBO,
        ),
    )
    assert "2 项承诺事项" in result.message
    ours = sorted((o for o in result.obligations if o.rule_id == "PRJ-COMMITMENT"), key=lambda o: o.instance)
    assert [(o.instance, o.status.value) for o in ours] == [(1, "open"), (2, "open")]
    assert ours[0].due_at == datetime(2026, 10, 10, 23, 59, 59, tzinfo=BJ)  # the end of the due day, Beijing time
    async with db.read() as conn:
        events = await list_events(conn, iid)
    response = next(e for e in events if e.kind == EventKind.RESPONSE_RECORDED)
    assert response.payload["spokesperson"] == "市住建局新闻发言人 王强" and response.payload["channel"] == "gov_weibo"
    assert response.payload["commitments"][1] == {"text": "公布事故原因调查结果", "due": "2026-10-31"}
    # a later response's commitments carry on the numbering
    later = await execute(svc, _response(svc, iid, Commitment("回访受影响商户", date(2026, 11, 5))))
    assert {o.instance for o in later.obligations if o.rule_id == "PRJ-COMMITMENT"} == {1, 2, 3}


@pytest.mark.parametrize(
    ("kw", "commitments", "message"),
    [
        ({"channel": "fax"}, (), "发布渠道「fax」不在可选范围内"),
        ({"spokesperson": "王" * 101}, (), "发布人不能超过"),
        ({}, (Commitment("  ", date(2026, 10, 1)),), "缺少承诺事项内容"),
        ({}, (Commitment("修路", date(2026, 9, 23)),), "早于本次回应的发布日期 2026-09-24"),
    ],
)
async def test_bad_response_details_are_refused_in_chinese_and_nothing_is_recorded(db, clock, kw, commitments, message):
    svc = Svc(db, clock)
    iid = await _confirmed(svc)
    with pytest.raises(CommandRejected, match=message):
        await execute(svc, _response(svc, iid, *commitments, **kw))
    async with db.read() as conn:
        assert not [e for e in await list_events(conn, iid) if e.kind == EventKind.RESPONSE_RECORDED]


async def test_the_owner_unit_is_reminded_before_the_due_day_once_even_after_closing(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc)
    await execute(svc, _response(svc, iid, Commitment("完成路面修复", date(2026, 10, 10))))
    await execute(svc, c.Close(incident_id=iid, actor="zhu_min", at=clock.now(), reason="舆情平息"))
    engine = Engine(svc)
    clock.set(datetime(2026, 10, 8, 9, 0, tzinfo=BJ))  # 2 days 15 hours before the end of 10-10
    await engine.tick()
    warned = await _commitment_alerts(db)
    assert warned and all(":warn-3d:" in k for k in warned)
    await engine.tick()
    assert await _commitment_alerts(db) == warned  # a second tick adds nothing
    clock.set(datetime(2026, 10, 11, 0, 30, tzinfo=BJ))
    await engine.tick()
    keys = await _commitment_alerts(db)
    assert any(":breach:" in k for k in keys) and len(keys) == len(set(keys))
    async with db.read() as conn:
        texts = [p["text"] for k, p in await conn.execute(select(outbox.c.idempotency_key, outbox.c.payload))
                 if ":breach:" in k and (p.get("rule") or {}).get("id") == "PRJ-COMMITMENT"]  # fmt: skip
    assert texts[0].startswith("【超期】「老城区道路塌陷」兑现承诺 #1：完成路面修复已于 10月10日 23:59 到期")
    assert "请尽快兑现承诺，并登记兑现情况及公开链接。" in texts[0]
    done = await execute(
        svc,
        c.FulfilCommitment(
            incident_id=iid, actor="zhao_lei", at=clock.now(), number=1, disclosed_url="https://gov.example.cn/done"
        ),
    )
    assert "逾期兑现" in done.message
    ob = next(o for o in done.obligations if o.rule_id == "PRJ-COMMITMENT")
    assert ob.status.value == "late" and ob.met_by == "commitment_fulfilled https://gov.example.cn/done"
    clock.advance(48 * H)
    await engine.tick()
    assert await _commitment_alerts(db) == keys  # fulfilled: no 督办 any more


async def test_fulfilment_is_checked_and_met_on_time(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc)

    def fulfil(number: int, url: str = "https://gov.example.cn/done") -> c.FulfilCommitment:
        return c.FulfilCommitment(incident_id=iid, actor="zhao_lei", at=clock.now(), number=number, disclosed_url=url)

    with pytest.raises(CommandRejected, match="没有登记承诺事项"):
        await execute(svc, fulfil(1))
    await execute(svc, _response(svc, iid, Commitment("完成路面修复", date(2026, 10, 10))))
    with pytest.raises(CommandRejected, match="没有承诺 #2"):
        await execute(svc, fulfil(2))
    with pytest.raises(CommandRejected, match="公开链接"):
        await execute(svc, fulfil(1, "见局网站"))
    clock.advance(24 * H)
    done = await execute(svc, fulfil(1))
    assert "按期兑现" in done.message
    assert next(o for o in done.obligations if o.rule_id == "PRJ-COMMITMENT").status.value == "met"
    with pytest.raises(CommandRejected, match="已于 9月25日 09:00 登记兑现"):
        await execute(svc, fulfil(1))


async def test_a_rumour_referral_is_recorded_and_checked(db, clock):
    svc = Svc(db, clock)
    iid = await _confirmed(svc)

    def refer(to: str, note: str = "") -> c.ReferRumor:
        return c.ReferRumor(incident_id=iid, actor="zhu_min", at=clock.now(), to=to, note=note)  # type: ignore[arg-type]

    with pytest.raises(CommandRejected, match="移交部门「court」不在可选范围内"):
        await execute(svc, refer("court"))
    with pytest.raises(CommandRejected, match="写明部门名称"):
        await execute(svc, refer(RumorAgency.OTHER))
    result = await execute(svc, refer(RumorAgency.POLICE, "网传“死亡10人”系谣言"))
    assert result.message == "已登记谣言移交公安机关"
    async with db.read() as conn:
        referral = next(e for e in await list_events(conn, iid) if e.kind == EventKind.RUMOR_REFERRED)
    assert referral.payload == {"to": "police", "referred_at": clock.now().isoformat(), "note": "网传“死亡10人”系谣言"}


async def test_a_merge_carries_commitments_and_their_fulfilment_to_the_incident_it_joins(db, clock):
    svc = Svc(db, clock)
    source, target = await _confirmed(svc), await _confirmed(svc)
    await execute(svc, _response(svc, target, Commitment("设置警示围挡", date(2026, 10, 1))))
    await execute(svc, _response(svc, source, Commitment("完成路面修复", date(2026, 10, 10)),
                                 Commitment("公布调查结果", date(2026, 10, 20))))  # fmt: skip
    await execute(svc, c.FulfilCommitment(incident_id=source, actor="zhao_lei", at=clock.now(), number=1,
                                          disclosed_url="https://gov.example.cn/done"))  # fmt: skip
    merged = await execute(svc, c.Merge(incident_id=source, actor="zhu_min", at=clock.now(), into_id=target))
    left = {o.instance: o.status.value for o in merged.obligations if o.rule_id == "PRJ-COMMITMENT"}
    assert left == {1: "met", 2: "cancelled"}  # the open one carries on in the target
    async with db.read() as conn:
        events = await list_events(conn, target)
    carried = commitments_of(events)
    assert [(r.number, r.text, r.fulfilled) for r in carried] == [
        (1, "设置警示围挡", False), (2, "完成路面修复", True), (3, "公布调查结果", False)
    ]  # fmt: skip
    done = await execute(svc, c.FulfilCommitment(incident_id=target, actor="zhao_lei", at=clock.now(), number=3,
                                                 disclosed_url="https://gov.example.cn/done/3"))  # fmt: skip
    statuses = {o.instance: o.status.value for o in done.obligations if o.rule_id == "PRJ-COMMITMENT"}
    assert statuses == {1: "open", 2: "met", 3: "met"}
