"""Lead and co-handling units, and 是否需要回应, in the pure core (61号 §1.1/§1.2; DOMAIN.md §7)."""

from dataclasses import replace
from datetime import timedelta

import pytest

from monitor.domain import EventKind, EventLevel, EventType, Incident, IncidentStatus, OpinionLevel
from monitor.domain.clustering import new_incident, plan_merge, plan_split
from monitor.domain.playbooks import AlertKind
from monitor.domain.responsibility import opening_units, requirement, response_need
from monitor.engine.plan import decide

from .test_engine_plan import ORG, POLICY, T, confirmed, ev, run

H = timedelta(hours=1)


class Item:
    """An items row as clustering reads it."""

    def __init__(self, **kw):
        self.title, self.published_at, self.source_id, self.media_tier = "标题", T, 1, "city"
        self.event_type, self.event_level, self.opinion_level = "livelihood", None, "L3"
        self.department, self.region, self.classification = "housing", "chengdong", {}
        self.__dict__.update(kw)


def co(department, region=None):
    return {"department": department, "region": region}


def test_an_item_naming_several_departments_opens_an_incident_led_by_the_first_with_the_others_co_handling():
    item = Item(classification={"co_unit_ids": [co("urban_management", "chengdong"), co("water", "chengdong")]})
    incident = new_incident(item, T)
    assert (incident.owner_unit, incident.lead_unit) == ("housing", "housing")
    assert incident.co_units == ("urban_management", "water")
    assert (incident.region, incident.multi_region) == ("chengdong", False)


def test_several_localities_keep_the_city_department_as_owner_and_make_each_locality_a_co_unit():
    refs = [co("ecology", "donggang"), co("ecology", "beihu"), co("water")]
    item = Item(department="ecology", region=None, classification={"co_unit_ids": refs, "multi_region": True})
    incident = new_incident(item, T)
    assert (incident.owner_unit, incident.lead_unit, incident.region) == ("ecology", "ecology", None)
    assert incident.co_units == ("donggang", "beihu", "water") and incident.multi_region


def test_vertical_management_is_carried_onto_the_incident():
    item = Item(department="tax", classification={"vertical_managed": True})
    assert new_incident(item, T).vertical_managed
    assert not opening_units(None, {"vertical_managed": True}).vertical_managed


def test_merging_keeps_every_co_unit_and_makes_the_merged_in_owner_a_co_unit():
    target = Incident(id=1, title="a", detected_at=T, owner_unit="housing", lead_unit="housing", co_units=("water",))
    source = Incident(id=2, title="b", detected_at=T, owner_unit="urban_management", co_units=("housing", "chengdong"))
    grown = plan_merge(source, target, T, "duty").target
    assert grown.co_units == ("water", "chengdong", "urban_management")


def test_a_split_off_incident_keeps_the_units_and_the_response_requirement():
    parent = Incident(id=1, title="a", detected_at=T, owner_unit="ecology", lead_unit="ecology",
                      co_units=("donggang", "beihu"), multi_region=True, requires_response=False)  # fmt: skip
    child = plan_split(parent, [7], [7, 8], "拆分", T, "duty").child
    assert (child.lead_unit, child.co_units, child.multi_region) == ("ecology", ("donggang", "beihu"), True)
    assert child.requires_response is False


@pytest.mark.parametrize(
    ("event_type", "level", "opinion", "required"),
    [
        # 61号: "对其他政务舆情应在48小时内予以回应" — L4 too; only a person decides otherwise
        (EventType.OTHER_GOV, None, OpinionLevel.L4, True),
        (EventType.LIVELIHOOD, None, OpinionLevel.L4, True),
        (None, None, OpinionLevel.L4, True),
        (EventType.POLICY_MISREAD, None, OpinionLevel.L4, True),
        (EventType.MORAL, None, OpinionLevel.L4, True),
        (EventType.RUMOR, None, OpinionLevel.L4, True),
        (EventType.FIRE, None, OpinionLevel.L4, True),
        (None, EventLevel.IV, OpinionLevel.L4, True),
        (EventType.OTHER_GOV, None, OpinionLevel.L3, True),
        (EventType.LIVELIHOOD, None, OpinionLevel.L1, True),
    ],
)
def test_response_is_required_for_the_61_categories_or_opinion_levels_l1_to_l3(event_type, level, opinion, required):
    need = response_need(event_type, level, opinion)
    assert need is not None and need.required is required and need.basis


def test_nothing_known_derives_nothing():
    assert response_need(None, None, None) is None
    assert requirement(True, None, [], (None, None, None)) == (True, {})


def test_a_persons_explicit_choice_is_never_overridden_but_a_systems_is():
    levels = (EventType.OTHER_GOV, None, OpinionLevel.L4)
    chose = ev(EventKind.REGRADED, T, {"requires_response": False, "requires_response_set": True}, actor="zhu_min")
    assert requirement(False, None, [chose], levels) == (False, {})
    by_system = replace(chose, actor="system")
    assert requirement(False, None, [by_system], levels)[0] is True
    assert requirement(True, False, [], levels) == (False, {"requires_response_set": True})


def test_an_incident_a_person_marked_as_needing_no_response_gets_no_48h_clock():
    inc = Incident(id=1, title="网民咨询办事指南", detected_at=T, opinion_level=OpinionLevel.L4,
                   owner_unit="gov_services", status=IncidentStatus.ASSESSED, requires_response=False)  # fmt: skip
    d = decide(inc, confirmed(inc), POLICY.playbook, POLICY.calendar, ORG, T + H)
    assert "GB61-RESPOND-48H" not in {o.rule_id for o in d.obligations}


# --- alerts for co-handling units ---------------------------------------------------------


def ordinary(**kw):
    base = Incident(id=1, title="城东老旧小区改造扰民", detected_at=T, opinion_level=OpinionLevel.L3,
                    owner_unit="housing", lead_unit="housing", co_units=("urban_management", "chengdong"),
                    status=IncidentStatus.ASSESSED)  # fmt: skip
    return replace(base, **kw)


def people_of(unit):
    return {p.id for p in ORG.people.values() if any(r.unit == unit for r in p.roles)}


def test_co_units_get_the_assignment_notice_and_the_breach_of_the_response_they_share_not_the_warnings():
    inc = ordinary()
    _, alerts, timeline = run(inc, confirmed(inc), T + 60 * H)
    co_alerts = [(at, a) for at, a in alerts if a.step.startswith("co-") and a.rule_id == "GB61-RESPOND-48H"]
    assert [a.kind for _, a in co_alerts] == [
        AlertKind.DEADLINE_WARNING,
        AlertKind.DEADLINE_BREACH,
        AlertKind.ESCALATION,
    ]
    first = co_alerts[0][1]
    assert (
        first.text.startswith("【协办】「城东老旧小区改造扰民」48小时内予以回应")
        and "牵头单位：明湖市住房和城乡建设局" in first.text
    )
    reached = {pid for pid, _ in first.recipients}
    assert reached and reached <= people_of("urban_management") | people_of("chengdong")
    assert people_of("urban_management") & reached and people_of("chengdong") & reached
    lead = [a for _, a in alerts if a.rule_id == "GB61-RESPOND-48H" and not a.step.startswith("co-")]
    assert all(not ({pid for pid, _ in a.recipients} & reached) for a in lead)  # the lead's alerts stay the lead's
    assert not [a for _, a in alerts if a.step.startswith("co-") and a.rule_id == "PRJ-TRIAGE-1H"]
    notices = [e for e in timeline if e.kind == EventKind.ESCALATED and e.payload.get("co_units")]
    assert {u for e in notices for u in e.payload["co_units"]} == {"urban_management", "chengdong"}


def test_co_units_do_not_share_the_information_reports_or_the_press_conference():
    inc = ordinary(event_level=EventLevel.II, opinion_level=OpinionLevel.L1, occurred_at=T - H)
    _, alerts, _ = run(inc, confirmed(inc), T + 30 * H)
    shared = {a.rule_id for _, a in alerts if a.step.startswith("co-")}
    assert shared == {"GB80-AUTH-RELEASE-5H"}


def test_a_co_unit_added_later_gets_the_assignment_notice_once():
    inc = ordinary(co_units=("urban_management",))
    _, _, timeline = run(inc, confirmed(inc), T + 2 * H)
    grown = replace(inc, co_units=("urban_management", "chengdong"))
    d = decide(grown, timeline, POLICY.playbook, POLICY.calendar, ORG, T + 3 * H)
    late = [a for a in d.alerts if a.step.startswith("co-")]
    assert len(late) == 1 and late[0].kind == AlertKind.DEADLINE_WARNING
    assert {pid for pid, _ in late[0].recipients} <= people_of("chengdong")
    again = decide(grown, timeline + list(d.events), POLICY.playbook, POLICY.calendar, ORG, T + 3 * H)
    assert not [a for a in again.alerts if a.step.startswith("co-")]


def test_the_timeline_says_why_no_response_is_required_and_which_co_units_were_told():
    from monitor.domain import IncidentEvent
    from monitor.web.timeline import event_summary

    basis = response_need(EventType.OTHER_GOV, None, OpinionLevel.L4)
    confirm = {"opinion_level": "L4", "requires_response": False, "requires_response_basis": basis.basis}
    text = event_summary(IncidentEvent(1, EventKind.CONFIRMED, T, "zhu_min", confirm), ORG)
    assert "需要回应：否" in text and "依据：舆情级别 L4（关注）" in text
    chose = {"requires_response": True, "requires_response_set": True, "reason": "上级要求回应"}
    assert "人工指定是否需要回应：是" in event_summary(IncidentEvent(1, EventKind.REGRADED, T, "zhu_min", chose), ORG)
    added = {"title": "续报", "co_units_added": ["ecology", "beihu"], "reason": {"rule": "similar"}}
    text = event_summary(IncidentEvent(1, EventKind.ITEM_ATTACHED, T, "system", added), ORG)
    assert "新增协办单位：明湖市生态环境局、明湖市北湖镇人民政府" in text
    escalated = {"rule": "GB61-RESPOND-48H", "kind": "deadline_warning", "roles": ["liaison"], "people": [],
                 "due_at": T.isoformat(), "co_units": ["urban_management"]}  # fmt: skip
    text = event_summary(IncidentEvent(1, EventKind.ESCALATED, T, "system", escalated), ORG)
    assert text.endswith("（含协办单位：明湖市城市管理局）")


SCENARIO = """\
start: 2026-09-28T09:00:00+08:00
run_until: 2026-10-02T00:00:00+08:00
incidents:
  - {id: Q, title: 网民咨询办事流程, detected_at: 2026-09-28T09:00:00+08:00, opinion_level: L4, department: 水务局}
  - {id: R, title: 网民咨询停水安排, detected_at: 2026-09-28T09:00:00+08:00, opinion_level: L4, department: 水务局,
     requires_response: true}
  - {id: S, title: 小区停水, detected_at: 2026-09-28T09:00:00+08:00, opinion_level: L2, department: 水务局,
     requires_response: false}
"""


def test_a_scenario_that_names_requires_response_keeps_it_and_one_that_does_not_gets_it_derived(tmp_path):
    import json

    from monitor.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["simulate", "--scenario", str(path), "--output", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    respond = {
        x["incident"]: x["status"] for x in lines if x["type"] == "obligation" and x["rule"] == "GB61-RESPOND-48H"
    }
    assert respond["Q"] == "breached"  # derived: every 政务舆情 is answered within 48 h (61号)
    assert respond["R"] == "breached"  # named true by the scenario
    assert respond.get("S") in (None, "cancelled")  # named false by the scenario: never chased
