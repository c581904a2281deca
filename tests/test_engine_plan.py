"""Table-driven tests of the pure planner: decide(incident, timeline, playbook, calendar, org, now)."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from monitor.domain import EventKind, EventLevel, Incident, IncidentEvent, IncidentStatus, OpinionLevel
from monitor.domain.playbooks import AlertKind
from monitor.engine.calendar import WorkCalendar
from monitor.engine.plan import decide
from monitor.engine.plan.derive import paused_due
from monitor.engine.plan.facts import Pause
from monitor.policy import load_org
from monitor.policy.playbooks import load_policy

REPO = Path(__file__).resolve().parent.parent
POLICY = load_policy(REPO / "playbooks" / "rules.yaml")
ORG = load_org(REPO / "playbooks" / "org" / "demo-city.yaml")
CST = timezone(timedelta(hours=8))
T = datetime(2026, 9, 24, 9, 0, tzinfo=CST)  # detection
H = timedelta(hours=1)


def incident(level="II", opinion="L1", **kw):
    base = Incident(
        id=1,
        title="东港化工园区爆炸",
        detected_at=T,
        occurred_at=T - timedelta(minutes=50),
        event_level=EventLevel(level) if level else None,
        opinion_level=OpinionLevel(opinion) if opinion else None,
        owner_unit="emergency",
        status=IncidentStatus.ASSESSED,
    )
    return replace(base, **kw)


def ev(kind, at, payload=None, actor="duty"):
    return IncidentEvent(1, kind, at, actor, payload or {})


def confirmed(inc, at=T):
    levels = {
        "event_level": inc.event_level and inc.event_level.value,
        "opinion_level": inc.opinion_level and inc.opinion_level.value,
        "requires_response": inc.requires_response,
    }
    return [ev(EventKind.DETECTED, inc.detected_at), ev(EventKind.CONFIRMED, at, levels)]


def response(at, kind="authoritative_release"):
    return ev(EventKind.RESPONSE_RECORDED, at, {"kind": kind, "url": "https://x.gov.example/1", "approved_by": "张三"})


def run(inc, timeline, until, calendar=POLICY.calendar, step=None):
    """Drive decide() like the runner: apply its events, wake when it asks, until `until`."""
    timeline, alerts = list(timeline), []
    now = max(e.at for e in timeline)
    for _ in range(500):
        d = decide(inc, timeline, POLICY.playbook, calendar, ORG, now)
        timeline += d.events
        alerts += [(now, a) for a in d.alerts]
        if d.next_wake_at is None or d.next_wake_at > until:
            break
        now = d.next_wake_at
    final = decide(inc, timeline, POLICY.playbook, calendar, ORG, until)
    return final, alerts, timeline


def statuses(decision):
    return {o.rule_id: o.status.value for o in decision.obligations if o.instance == 0}


CASES = [
    # (name, incident kwargs, timeline after confirmation, until, expected statuses)
    (
        "major event, nothing done",
        {},
        [],
        T + 30 * H,
        {"GB80-AUTH-RELEASE-5H": "breached", "GB61-PRESSCONF-24H": "breached", "YJB2015-PHONE-30MIN": "breached"},
    ),
    (
        "release in time meets 5 h only; a briefing does not meet the press conference",
        {},
        [response(T + 3 * H), response(T + 4 * H, "briefing")],
        T + 30 * H,
        {"GB80-AUTH-RELEASE-5H": "met", "GB61-PRESSCONF-24H": "breached"},
    ),
    (
        "press conference meets both; late release is late",
        {},
        [response(T + 6 * H, "press_conference")],
        T + 30 * H,
        {"GB80-AUTH-RELEASE-5H": "late", "GB61-PRESSCONF-24H": "met"},
    ),
    (
        "ordinary opinion gets 48 h from the earliest publication",
        {"event_level": "III", "opinion_level": "L2", "first_published_at": T - 10 * H},
        [],
        T + 40 * H,
        {"GB61-RESPOND-48H": "breached"},
    ),
    (
        "no response needed, no 48 h clock",
        {"event_level": None, "opinion_level": "L4", "requires_response": False},
        [],
        T + 60 * H,
        {},
    ),
]


@pytest.mark.parametrize(("name", "kw", "more", "until", "expected"), CASES, ids=[c[0] for c in CASES])
def test_obligations_by_case(name, kw, more, until, expected):
    kw = dict(kw)
    level, opinion = kw.pop("event_level", "II"), kw.pop("opinion_level", "L1")
    inc = incident(level, opinion, **kw)
    final, _, _ = run(inc, confirmed(inc) + more, until)
    got = statuses(final)
    for rule, status in expected.items():
        assert got.get(rule) == status, (rule, got)
    if not expected:
        assert got == {}
    if "first_published_at" in kw:
        ob = next(o for o in final.obligations if o.rule_id == "GB61-RESPOND-48H")
        assert ob.t0 == T - 10 * H and ob.due_at == T + 38 * H


def test_t0_is_event_time_for_emergency_rules_and_detection_without_it():
    inc = incident()
    final, _, _ = run(inc, confirmed(inc), T)
    five = next(o for o in final.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H")
    assert five.t0 == T - timedelta(minutes=50) and five.due_at == T + timedelta(hours=4, minutes=10)
    inc2 = incident(occurred_at=None)
    final2, _, _ = run(inc2, confirmed(inc2), T)
    assert next(o for o in final2.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H").t0 == T
    # without an event time the clock starts at detection (DOMAIN.md §8), even after an earlier report
    inc3 = incident(occurred_at=None, first_published_at=T - 4 * H)
    final3, _, _ = run(inc3, confirmed(inc3), T)
    assert next(o for o in final3.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H").t0 == T


def test_a_jurisdiction_may_start_emergency_clocks_at_the_first_report_when_the_event_time_is_unknown():
    policy = load_policy(REPO / "playbooks" / "jurisdictions" / "demo.yaml")
    inc = incident(occurred_at=None, first_published_at=T - 4 * H)
    final = decide(inc, confirmed(inc), policy.playbook, policy.calendar, ORG, T)
    five = next(o for o in final.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H")
    conference = next(o for o in final.obligations if o.rule_id == "GB61-PRESSCONF-24H")
    assert five.t0 == conference.t0 == T - 4 * H and five.due_at == T + H
    known = incident(first_published_at=T - 4 * H)  # an event time, when known, still comes first
    final = decide(known, confirmed(known), policy.playbook, policy.calendar, ORG, T)
    assert next(o for o in final.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H").t0 == T - timedelta(minutes=50)
    later = incident(occurred_at=None, first_published_at=T + H)  # a report after detection changes nothing
    final = decide(later, confirmed(later), policy.playbook, policy.calendar, ORG, T + H)
    assert next(o for o in final.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H").t0 == T


def test_upgrade_adds_stricter_rules_with_the_original_t0_and_cancels_48h():
    inc = incident("III", "L2")
    regrade = ev(EventKind.REGRADED, T + 10 * H, {"event_level": "II", "opinion_level": "L1", "reason": "死亡人数上升"})
    final, _, _timeline = run(inc, [*confirmed(inc), regrade], T + 11 * H)
    got = statuses(final)
    assert got["GB80-AUTH-RELEASE-5H"] == "breached"  # t0 stayed the event time: 5 h long gone
    five = next(o for o in final.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H")
    assert five.t0 == T - timedelta(minutes=50)
    assert got["GB61-RESPOND-48H"] == "cancelled"
    cancelled = next(o for o in final.obligations if o.rule_id == "GB61-RESPOND-48H")
    assert "死亡人数上升" in cancelled.cancelled_reason


def test_downgrade_cancels_the_extra_obligations_with_the_reason():
    inc = incident()
    regrade = ev(EventKind.REGRADED, T + 1 * H, {"event_level": "III", "opinion_level": "L2", "reason": "核实后为较大"})
    final, _, timeline = run(inc, [*confirmed(inc), regrade], T + 2 * H)
    got = statuses(final)
    assert got["GB80-AUTH-RELEASE-5H"] == "cancelled" and got["GB61-PRESSCONF-24H"] == "cancelled"
    assert got["GB61-RESPOND-48H"] == "open"
    reasons = [e.payload.get("reason") for e in timeline if e.kind == EventKind.OBLIGATION_CANCELLED]
    assert any("核实后为较大" in (r or "") for r in reasons)


def test_a_downgrade_after_a_deadline_passed_keeps_the_breach_on_record():
    inc = incident()  # 5 h rule due 13:10 (T + 4 h 10 min), 30 min phone report due 08:40
    regrade = ev(EventKind.REGRADED, T + 6 * H, {"event_level": "III", "opinion_level": "L2", "reason": "核实后为较大"})
    final, _, timeline = run(inc, [*confirmed(inc), regrade], T + 7 * H)
    got = statuses(final)
    assert got["GB80-AUTH-RELEASE-5H"] == "breached" and got["YJB2015-PHONE-30MIN"] == "breached"
    assert got["GB61-PRESSCONF-24H"] == "cancelled"  # not yet due when the rule stopped applying
    cancelled = [e.payload["rule"] for e in timeline if e.kind == EventKind.OBLIGATION_CANCELLED]
    assert "GB80-AUTH-RELEASE-5H" not in cancelled and "GB61-PRESSCONF-24H" in cancelled
    # and no further 督办 for the breached rule once the incident is no longer 重大
    _, alerts, _ = run(inc, [*confirmed(inc), regrade], T + 30 * H)
    assert not [a for at, a in alerts if at > T + 6 * H and a.rule_id == "GB80-AUTH-RELEASE-5H"]


def test_a_late_response_is_recorded_as_late_with_its_delay_evidence_and_approver():
    inc = incident()  # 5 h rule: t0 08:10 (event time), due 13:10
    late = replace(response(T + 6 * H), seq=7)  # published 15:00: 1 h 50 min late
    final, _, timeline = run(inc, [*confirmed(inc), late], T + 7 * H)
    five = next(o for o in final.obligations if o.rule_id == "GB80-AUTH-RELEASE-5H")
    assert (five.status.value, five.met_at) == ("late", T + 6 * H)
    assert five.met_by == "authoritative_release https://x.gov.example/1"
    (met,) = [e for e in timeline if e.kind == EventKind.OBLIGATION_MET and e.payload["rule"] == five.rule_id]
    assert met.payload["status"] == "late" and met.payload["late_s"] == 110 * 60
    assert (met.payload["met_by_seq"], met.payload["approved_by"]) == (7, "张三")


@pytest.mark.parametrize(
    "missing",
    [{"url": None}, {"url": "", "document": ""}, {"approved_by": None}],
    ids=["no-url-or-document", "empty-evidence", "no-approver"],
)
def test_a_response_without_evidence_or_approver_meets_nothing(missing):
    inc = incident()
    bare = response(T + H)
    bare = replace(bare, payload={**bare.payload, **missing})
    final, _, _ = run(inc, [*confirmed(inc), bare], T + 6 * H)
    assert statuses(final)["GB80-AUTH-RELEASE-5H"] == "breached"
    with_evidence, _, _ = run(inc, [*confirmed(inc), response(T + H)], T + 6 * H)
    assert statuses(with_evidence)["GB80-AUTH-RELEASE-5H"] == "met"


def test_approved_pause_stops_the_clock_and_silences_alerts():
    inc = incident("III", "L2")
    pause = ev(
        EventKind.PAUSE_APPROVED,
        T + 10 * H,
        {"rule": "GB61-RESPOND-48H", "until": (T + 34 * H).isoformat(), "reason": "征求意见", "request_seq": 5},
    )
    during, alerts, _ = run(inc, [*confirmed(inc), pause], T + 20 * H)
    ob = next(o for o in during.obligations if o.rule_id == "GB61-RESPOND-48H")
    assert ob.status.value == "paused" and ob.due_at == T + 72 * H and ob.paused_until == T + 34 * H
    assert not [a for at, a in alerts if T + 10 * H < at < T + 34 * H]
    after, _, timeline = run(inc, [*confirmed(inc), pause], T + 35 * H)
    assert statuses(after)["GB61-RESPOND-48H"] == "open"
    assert [e for e in timeline if e.kind == EventKind.RESUMED]


def test_closing_cancels_what_is_not_due_and_keeps_breaches():
    inc = incident()
    close = ev(EventKind.CLOSED, T + 10 * H, {"reason": "处置完毕"})
    final, _, _ = run(inc, [*confirmed(inc), close], T + 40 * H)
    got = statuses(final)
    assert got["GB80-AUTH-RELEASE-5H"] == "breached" and got["GB61-PRESSCONF-24H"] == "cancelled"
    assert got["YJB2015-FINAL-REPORT"] == "breached"  # 终报 applies from the close …
    _, alerts, _ = run(inc, [*confirmed(inc), close], T + 40 * H)
    final_steps = [a.step for at, a in alerts if a.rule_id == "YJB2015-FINAL-REPORT"]
    assert final_steps[:2] == ["assigned", "breach"]  # … and is escalated although the incident is closed
    assert not [a for at, a in alerts if at > T + 10 * H and a.rule_id != "YJB2015-FINAL-REPORT"]


def report(at, kind="final"):
    payload = {"report_kind": kind, "channel": "written", "signer": "赵磊", "reported_at": at.isoformat()}
    return ev(EventKind.REPORT_RECORDED, at, payload)


@pytest.mark.parametrize(
    ("reported", "expected"),
    [(0 * H, "met"), (timedelta(minutes=5), "met"), (-timedelta(minutes=1), "breached")],
)
def test_a_final_report_made_at_the_instant_of_closing_meets_the_final_report_rule(reported, expected):
    """终报 "处置结束后": the window opens at 办结 itself (closed at both ends, as `met.at <= due`)."""
    inc = incident()
    closed_at = T + 10 * H
    close = ev(EventKind.CLOSED, closed_at, {"reason": "处置完毕"})
    final, _, _ = run(inc, [*confirmed(inc), report(closed_at + reported), close], T + 40 * H)
    (ob,) = [o for o in final.obligations if o.rule_id == "YJB2015-FINAL-REPORT"]
    assert (ob.t0, ob.status.value) == (closed_at, expected)
    assert ob.met_at == (closed_at + reported if expected == "met" else None)


def test_a_reply_made_at_the_instant_a_rule_is_attached_from_meets_it():
    inc = incident("III", "L3")
    received = T + H
    attach = ev(EventKind.RULE_ATTACHED, T + 2 * H, {"rule": "GB2014-WEB-SUGGESTION-7WD", "t0": received.isoformat()})
    timeline = [*confirmed(inc), response(received, "website_reply"), attach]
    final = decide(inc, timeline, POLICY.playbook, POLICY.calendar, ORG, T + 3 * H)
    (ob,) = [o for o in final.obligations if o.rule_id == "GB2014-WEB-SUGGESTION-7WD"]
    assert (ob.t0, ob.status.value, ob.met_at) == (received, "met", received)
    earlier = [*confirmed(inc), response(received - H, "website_reply"), attach]
    before = statuses(decide(inc, earlier, POLICY.playbook, POLICY.calendar, ORG, T + 3 * H))
    assert before["GB2014-WEB-SUGGESTION-7WD"] == "open"  # a reply before the request is not its reply


def test_a_release_starts_a_continuous_instance_without_meeting_it_even_with_a_twin():
    """One release never both starts and meets an instance: nor does another made at the same instant."""
    inc = incident("III", "L2")
    timeline = [*confirmed(inc), response(T + 2 * H), response(T + 2 * H, "new_media_post")]
    final, _, _ = run(inc, timeline, T + 30 * H)
    cont = [o for o in final.obligations if o.rule_id == "GB61-CONTINUOUS"]
    assert [(o.instance, o.t0, o.status.value) for o in cont] == [(1, T + 2 * H, "breached")]


def test_continuous_releases_recur_from_each_release_until_closed():
    inc = incident("III", "L2")
    timeline = [*confirmed(inc), response(T + 2 * H), response(T + 20 * H), ev(EventKind.CLOSED, T + 60 * H, {})]
    final, _, _ = run(inc, timeline, T + 70 * H)
    cont = sorted((o for o in final.obligations if o.rule_id == "GB61-CONTINUOUS"), key=lambda o: o.instance)
    assert [(o.instance, o.status.value) for o in cont] == [(1, "met"), (2, "breached")]
    assert cont[1].t0 == T + 20 * H and cont[1].due_at == T + 44 * H


def test_acknowledging_after_breach_stops_escalation_but_not_before():
    inc = incident()
    base = confirmed(inc)
    _, alerts, _ = run(inc, base, T + 12 * H)
    steps = [a.step for _, a in alerts if a.rule_id == "GB80-AUTH-RELEASE-5H"]
    assert steps[:4] == ["assigned", "warn-half", "warn-1h", "breach"] and "supervise#3" in steps
    ack_after = ev(EventKind.ACKNOWLEDGED, T + 5 * H, {"rule": "GB80-AUTH-RELEASE-5H"}, actor="李四")
    _, alerts2, _ = run(inc, [*base, ack_after], T + 12 * H)
    steps2 = [a.step for at, a in alerts2 if a.rule_id == "GB80-AUTH-RELEASE-5H"]
    assert "breach" in steps2 and not any(s.startswith("supervise") for s in steps2)
    ack_before = ev(EventKind.ACKNOWLEDGED, T + 1 * H, {"rule": None}, actor="李四")
    _, alerts3, _ = run(inc, [*base, ack_before], T + 6 * H)
    steps3 = [a.step for _, a in alerts3 if a.rule_id == "GB80-AUTH-RELEASE-5H"]
    assert steps3 == ["assigned", "breach", "supervise"]


def test_late_planning_collapses_missed_rungs_into_one_alert_to_everyone():
    inc = incident("III", "L2")
    timeline = [
        ev(EventKind.DETECTED, T),
        ev(EventKind.CONFIRMED, T + 50 * H, {"event_level": "III", "opinion_level": "L2"}),
    ]
    d = decide(inc, timeline, POLICY.playbook, POLICY.calendar, ORG, T + 50 * H)
    respond = [a for a in d.alerts if a.rule_id == "GB61-RESPOND-48H"]
    assert len(respond) == 1 and respond[0].step == "breach" and respond[0].kind == AlertKind.DEADLINE_BREACH
    assert {r.value for r in respond[0].roles} == {"liaison", "deputy_leader"}
    escalated = next(e for e in d.events if e.kind == EventKind.ESCALATED and e.payload["rule"] == "GB61-RESPOND-48H")
    assert escalated.payload["steps"] == ["assigned", "warn-half", "warn-final", "breach"]


def test_deciding_again_on_the_same_state_adds_nothing():
    inc = incident()
    _, _, timeline = run(inc, confirmed(inc), T + 8 * H)
    again = decide(inc, timeline, POLICY.playbook, POLICY.calendar, ORG, T + 8 * H)
    assert again.events == () and again.alerts == ()


def test_unconfirmed_incidents_get_a_triage_deadline_for_duty_officers():
    inc = incident("III", "L3", status=IncidentStatus.DETECTED)
    d = decide(inc, [ev(EventKind.DETECTED, T)], POLICY.playbook, POLICY.calendar, ORG, T)
    assert statuses(d) == {"PRJ-TRIAGE-1H": "open"} and not d.auto_confirm
    (alert,) = d.alerts
    assert {role.value for _, role in alert.recipients} == {"duty_officer"}
    major = incident("II", "L1", status=IncidentStatus.DETECTED)
    assert decide(major, [ev(EventKind.DETECTED, T)], POLICY.playbook, POLICY.calendar, ORG, T).auto_confirm
    dismissed = [ev(EventKind.DETECTED, T), ev(EventKind.DISMISSED, T + 2 * H, {"reason": "非政务"})]
    d2 = decide(inc, dismissed, POLICY.playbook, POLICY.calendar, ORG, T + 3 * H)
    assert statuses(d2) == {"PRJ-TRIAGE-1H": "late"}


def test_working_day_rule_in_a_year_without_data_alerts_once_and_keeps_running():
    inc = incident("III", "L3", detected_at=datetime(2026, 12, 28, 10, tzinfo=CST), occurred_at=None)
    attach = ev(
        EventKind.RULE_ATTACHED,
        inc.detected_at,
        {"rule": "GB2014-WEB-SUGGESTION-7WD", "t0": inc.detected_at.isoformat()},
    )
    timeline = [*confirmed(inc, inc.detected_at), attach]
    cal = WorkCalendar(override_file="playbooks/calendar/holidays.yaml")
    d = decide(inc, timeline, POLICY.playbook, cal, ORG, inc.detected_at)
    assert "GB2014-WEB-SUGGESTION-7WD" not in statuses(d)
    (system,) = [a for a in d.alerts if a.kind == AlertKind.SYSTEM_ALERT]
    assert "holidays.yaml" in system.text and "2027" in system.text and system.recipients == ()
    assert d.next_wake_at == inc.detected_at + H  # retried: a calendar fix takes effect without a restart of state
    again = decide(inc, [*timeline, *d.events], POLICY.playbook, cal, ORG, inc.detected_at + H)
    assert not [a for a in again.alerts if a.kind == AlertKind.SYSTEM_ALERT]


def test_next_due_at_is_the_nearest_unmet_deadline():
    inc = incident()
    d = decide(inc, confirmed(inc), POLICY.playbook, POLICY.calendar, ORG, T)
    assert d.next_due_at == T - timedelta(minutes=20)  # the 30-minute phone report, already overdue


def _pause(start_h, until_h):
    return Pause("R", T + start_h * H, T + until_h * H, "x", 1)


@pytest.mark.parametrize(
    ("pauses", "due_h"),
    [
        ([], 48),
        ([(10, 34)], 72),  # 24 h paused inside the window
        ([(-10, 5)], 53),  # started before t0: only the part after t0 counts
        ([(50, 60)], 48),  # after the deadline: no extension (the breach stands)
        ([(10, 20), (15, 30)], 68),  # overlapping pauses count once
        ([(40, 50), (55, 56)], 59),  # the first pause moves the deadline into the second one
    ],
)
def test_paused_time_does_not_count(pauses, due_h):
    assert paused_due(T, T + 48 * H, [_pause(a, b) for a, b in pauses]) == T + due_h * H
