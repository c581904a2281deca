"""Persisted enum values are a storage contract: changing one breaks existing databases."""

from monitor import domain
from monitor.domain import EventKind, EventLevel, EventType, IncidentStatus, ObligationStatus, ResponseKind

STABLE = {
    "EventLevel": ["I", "II", "III", "IV"],
    "OpinionLevel": ["L1", "L2", "L3", "L4"],
    "EventCategory": ["natural_disaster", "accident", "public_health", "social_security"],
    "MediaTier": ["central", "provincial", "city", "county", "self_media"],
    "Role": ["duty_officer", "liaison", "deputy_leader", "principal", "gov_office", "propaganda"],
    "ObligationStatus": ["open", "met", "late", "breached", "cancelled", "paused"],
    "ClockType": ["natural_hours", "working_days", "natural_days"],
    "ResponseKind": [
        "authoritative_release",
        "press_conference",
        "briefing",
        "media_interview",
        "policy_interpretation",
        "online_interview",
        "new_media_post",
        "website_reply",
        "rumor_refutation",
    ],
}


def test_persisted_values_are_stable():
    for name, values in STABLE.items():
        enum = getattr(domain, name)
        assert [m.value for m in enum] == values, name


def test_everything_people_see_has_a_chinese_label():
    for enum in (EventLevel, EventType, IncidentStatus, ResponseKind):
        for member in enum:
            assert member.label and all(ord(c) > 127 or c in "/" for c in member.label), member


def test_event_types_map_to_categories_and_labels():
    assert EventType.FOOD_POISONING.category == domain.EventCategory.PUBLIC_HEALTH
    assert EventType.POLICY_MISREAD.category is None
    assert EventType.from_label("火灾") is EventType.FIRE
    assert EventType.from_label("fire") is EventType.FIRE


def test_obligation_final_states_and_event_kinds_unique():
    assert {s for s in ObligationStatus if s.is_final} == {
        ObligationStatus.MET,
        ObligationStatus.LATE,
        ObligationStatus.CANCELLED,
    }
    values = [k.value for k in EventKind]
    assert len(values) == len(set(values))
