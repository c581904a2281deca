"""市民来信/12345: when the incident asks for a 答复时限, and the commands that settle it (SQLite and PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.clock import FakeClock
from monitor.domain import EventKind, IncidentEvent, MediaType
from monitor.domain import commands as c
from monitor.domain.citizen import COMPLAINT_RULE, SUGGESTION_RULE, CitizenMessage, citizen_prompt, received_at
from monitor.engine.commands import CommandRejected, execute
from monitor.ledger.importer import import_ledger
from monitor.storage.repo.incidents import list_events
from monitor.storage.schema import obligations

from .engine_support import Svc, new_incident

H = timedelta(hours=1)
T = datetime(2026, 9, 22, 2, 0, tzinfo=UTC)  # Tuesday 10:00 Beijing


def _event(kind: EventKind, **payload: object) -> IncidentEvent:
    return IncidentEvent(1, kind, T, "zhu_min", dict(payload))


def test_the_message_time_is_its_publication_never_later_than_its_collection():
    assert received_at(T, T + 5 * H) == T
    assert received_at(None, T + 5 * H) == T + 5 * H
    assert received_at(T + 9 * H, T + 5 * H) == T + 5 * H  # a feed cannot publish after we read it


def test_the_prompt_names_the_earliest_message_until_a_citizen_rule_or_a_dismissal_settles_it():
    later = CitizenMessage(8, MediaType.MAILBOX, T + H, "再次反映")
    first = CitizenMessage(9, MediaType.HOTLINE_12345, T, "小区停水")
    assert citizen_prompt(True, [later, first], []) == first
    assert citizen_prompt(False, [first], []) is None  # closed incidents ask nothing
    assert citizen_prompt(True, [], []) is None
    other_rule = _event(EventKind.RULE_ATTACHED, rule="OGI-REPLY-20WD")
    assert citizen_prompt(True, [first], [other_rule]) == first
    for rule in (SUGGESTION_RULE, COMPLAINT_RULE):
        assert citizen_prompt(True, [first], [_event(EventKind.RULE_ATTACHED, rule=rule)]) is None
    assert citizen_prompt(True, [first], [_event(EventKind.CITIZEN_PROMPT_DISMISSED, reason="重复来信")]) is None


async def test_a_citizen_rule_counts_from_the_message_time_and_a_future_start_is_refused(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L4", detected_at=clock.now() - H)
    message_at = clock.now() - 47 * H  # two days before the click
    future = c.AttachRule(
        incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=COMPLAINT_RULE, t0=clock.now() + timedelta(minutes=1)
    )
    with pytest.raises(CommandRejected, match="晚于当前时间，不能从将来起算"):
        await execute(svc, future)
    result = await execute(
        svc, c.AttachRule(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=COMPLAINT_RULE, t0=message_at)
    )
    ob = next(o for o in result.obligations if o.rule_id == COMPLAINT_RULE)
    assert ob.t0 == message_at
    assert ob.due_at == svc.calendar.working_days_due(message_at, 15)
    assert ob.due_at < svc.calendar.working_days_due(clock.now(), 15)  # not from the click


async def test_dismissing_the_prompt_needs_a_reason_and_happens_once(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L4")
    dismiss = c.DismissCitizenPrompt(incident_id=iid, actor="zhu_min", at=clock.now(), reason="  ")
    with pytest.raises(CommandRejected, match="请填写不设答复时限的理由"):
        await execute(svc, dismiss)
    done = await execute(
        svc, c.DismissCitizenPrompt(incident_id=iid, actor="zhu_min", at=clock.now(), reason="重复来信，已在 #3 答复")
    )
    assert done.message == "已登记：本事件不设市民来信答复时限"
    assert done.generation == 0  # no deadline changed: the fencing token stays
    async with db.read() as conn:
        events = await list_events(conn, iid)
    dismissed = [e for e in events if e.kind == EventKind.CITIZEN_PROMPT_DISMISSED]
    assert [(e.actor, e.payload) for e in dismissed] == [("zhu_min", {"reason": "重复来信，已在 #3 答复"})]
    again = c.DismissCitizenPrompt(incident_id=iid, actor="zhu_min", at=clock.now(), reason="再来一次")
    with pytest.raises(CommandRejected, match="已登记过不设答复时限"):
        await execute(svc, again)


async def test_once_a_citizen_rule_is_attached_the_prompt_cannot_be_dismissed(db, clock):
    svc = Svc(db, clock)
    iid = await new_incident(svc, None, "L4")
    await execute(svc, c.AttachRule(incident_id=iid, actor="zhu_min", at=clock.now(), rule_id=SUGGESTION_RULE))
    with pytest.raises(CommandRejected, match="已附加市民来信答复时限"):
        await execute(svc, c.DismissCitizenPrompt(incident_id=iid, actor="zhu_min", at=clock.now(), reason="x"))


async def test_imported_message_board_rows_are_not_given_a_rule_but_open_ones_wait_for_a_choice(db, tmp_path):
    """The 留言板 mapping says 信箱 for every row, not whether a row is a 建议 or a 投诉: nothing is
    attached at the import; the unanswered rows wait in the queue like collected messages."""
    from monitor.storage.repo.queue import QueueFilter, queue_page

    from .test_ledger_engine import IMPORTED_AT, MAPPING, RULES, ids_by_ref, ledger

    await import_ledger(db, ledger(tmp_path / "board.csv"), MAPPING, IMPORTED_AT, RULES)
    ids = {ref: iid for ref, (iid, _) in (await ids_by_ref(db)).items()}
    async with db.read() as conn:
        rules = set((await conn.execute(select(obligations.c.rule_id))).scalars())
        page = await queue_page(conn, QueueFilter(), IMPORTED_AT)
    assert not rules & {SUGGESTION_RULE, COMPLAINT_RULE}
    pending = {r.id for r in page.rows if r.citizen_deadline_pending}
    assert pending == {ids["old-open"], ids["recent-open"]}  # the answered row is closed and asks nothing
    svc = Svc(db, FakeClock(IMPORTED_AT))
    await execute(
        svc, c.AttachRule(incident_id=ids["recent-open"], actor="zhu_min", at=IMPORTED_AT, rule_id=COMPLAINT_RULE)
    )
    async with db.read() as conn:
        page = await queue_page(conn, QueueFilter(), IMPORTED_AT)
    assert {r.id for r in page.rows if r.citizen_deadline_pending} == {ids["old-open"]}
